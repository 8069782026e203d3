package safeguarding.decision_test

import data.safeguarding.decision
import data.safeguarding.testing_test as t

school := {"agency_id": "school-a", "role": "dsl", "need_to_know": "protect_child", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}

refused := {"consent": [{"giver": "parent_pr", "status": "refused", "scope_agencies": null, "privacy_notice_given": true, "not_sought_reason": null}]}

not_sought_e1 := {
	"lawful_basis": "safeguarding_children_individuals_at_risk",
	"consent": [{"giver": "parent_pr", "status": "not_sought", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": "risk_significant_harm"}],
	"parental_position": {"parents_informed": false, "parent_withheld_permission": null, "reason_not_informed": "risk_significant_harm", "has_reason_text": false},
}

test_share_with_consent if {
	d := t.first({})
	d.outcome == "share"
	d.lawful_basis == "consent"
	d.allowed_fields == ["child", "concern_summary", "current_location"]
	{"GR1", "GR2", "GR4", "C1", "C3", "C4", "GR7"} - t.rules(d) == set()
	some o in d.obligations
	o.kind == "acknowledge_referral"
}

test_no_lawful_basis_holds if t.first({"lawful_basis": null}).outcome == "hold_for_authorisation"

test_unsure_basis_needs_advice if t.first({"lawful_basis": "unsure"}).outcome == "needs_advice"

test_unaccepted_basis_holds if t.first({"lawful_basis": "police_common_law_power"}).outcome == "hold_for_authorisation"

test_no_purpose_holds if t.first({"purpose": null}).outcome == "hold_for_authorisation"

test_no_purpose_statement_holds if t.first({"has_purpose_statement": false}).outcome == "hold_for_authorisation"

test_wrong_purpose_no_share if t.first({"purpose": "child_death_review"}).outcome == "no_share"

test_wrong_recipient_type_no_share if {
	d := t.first({"recipients": [school]})
	d.outcome == "no_share"
	"C4" in t.rules(d)
	d.allowed_fields == []
}

test_no_need_to_know_no_share if t.first({"recipients": [object.union(t.csc, {"need_to_know": null})]}).outcome == "no_share"

test_unknown_recipient_no_share if {
	d := t.first({"recipients": [object.union(t.csc, {"agency_id": "nobody-x"})]})
	d.outcome == "no_share"
	"SYS-AGENCY" in t.rules(d)
}

test_no_registry_fails_closed if {
	d := decision.decision with input as t.base with data.registry as {}
	d.recipients[0].outcome == "no_share"
	d.registry_revision == null
	some e in d.errors
	e.rule == "SYS-REGISTRY"
}

test_other_partnership_fails_closed if t.decide({"partnership_id": "other_one"}).recipients[0].outcome == "no_share"

test_unknown_sender_fails_closed if {
	d := t.decide({"sender": {"agency_id": "stranger-x"}})
	d.recipients[0].outcome == "no_share"
	some e in d.errors
	e.rule == "SYS-AGENCY"
}

test_malformed_input_fails_closed if {
	d := decision.decision with input as {"recipients": [{"agency_id": 7}, "junk"]} with data.registry as t.registry
	count(d.recipients) == 1
	d.recipients[0].outcome == "no_share"
	d.recipients[0].agency_id == ""
	d.partnership_id == null
}

test_empty_input_fails_closed if {
	d := decision.decision with input as {} with data.registry as t.registry
	d.recipients == []
	count(d.errors) > 0
}

test_urgent_never_blocked if {
	d := t.first(object.union(refused, {"lawful_basis": null, "purpose": null, "risk": {"immediate_significant_harm": true}}))
	d.outcome == "share_urgent_review_after"
	d.lawful_basis == "safeguarding_children_individuals_at_risk"
	"I14" in t.rules(d)
	some o in d.obligations
	o.kind == "review_urgent_share"
}

test_likely_harm_outweighs_refusal if {
	d := t.first(object.union(refused, {"lawful_basis": "safeguarding_children_individuals_at_risk", "risk": {"likely_significant_harm": true}}))
	d.outcome == "share_urgent_review_after"
	"C7" in t.rules(d)
}

test_refusal_without_risk_needs_advice if {
	d := t.first(object.union(refused, {"lawful_basis": "safeguarding_children_individuals_at_risk"}))
	d.outcome == "needs_advice"
	some x in d.reasons
	x.rule == "C7"
	contains(x.message, "does not, on its own, outweigh consent refused")
}

test_services_refused_no_share if t.first(object.union(refused, {"purpose": "request_for_services"})).outcome == "no_share"

test_services_without_consent_holds if {
	t.first(object.union(not_sought_e1, {"purpose": "request_for_services"})).outcome == "hold_for_authorisation"
}

test_services_with_consent_share if t.first({"purpose": "request_for_services"}).outcome == "share"

test_consent_scope_excludes_recipient if {
	scoped := {"consent": [{"giver": "parent_pr", "status": "given_explicit", "scope_agencies": ["police-a"], "privacy_notice_given": true, "not_sought_reason": null}], "lawful_basis": "safeguarding_children_individuals_at_risk"}
	t.first(scoped).outcome == "no_share"
}

test_consent_unsure_needs_advice if {
	t.first({"lawful_basis": "safeguarding_children_individuals_at_risk", "consent": [{"giver": "parent_pr", "status": "unsure", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": null}]}).outcome == "needs_advice"
}

test_consent_basis_without_consent_holds if t.first(object.union(refused, {"risk": {"likely_significant_harm": false}})).outcome == "hold_for_authorisation"

test_exception_shares_without_consent if {
	d := t.first(not_sought_e1)
	d.outcome == "share"
	not "inform_subject" in {o.kind | some o in d.obligations}
}

test_not_sought_without_reason_holds if {
	t.first({"lawful_basis": "public_interest", "consent": [{"giver": "parent_pr", "status": "not_sought", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": null}]}).outcome == "hold_for_authorisation"
}

test_not_required_regime_shares if {
	t.first({"lawful_basis": "legal_obligation_statutory", "consent": [{"giver": "parent_pr", "status": "not_required", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": null}]}).outcome == "share"
}

test_parental_position_missing_holds if t.first({"parental_position": null}).outcome == "hold_for_authorisation"

test_parents_not_told_free_text_needs_advice if {
	t.first({"parental_position": {"parents_informed": false, "has_reason_text": true}}).outcome == "needs_advice"
}

test_parents_not_told_no_reason_holds if t.first({"parental_position": {"parents_informed": false}}).outcome == "hold_for_authorisation"

test_refusal_with_manager_advice_shares if {
	p := object.union(refused, {"lawful_basis": "safeguarding_children_individuals_at_risk", "parental_position": {"parent_withheld_permission": true}})
	t.first(p).outcome == "needs_advice"
	auth := {"authorisation": {"authoriser_role": "line_manager", "has_reason": true, "verified": true}}
	t.first(object.union(p, auth)).outcome == "share"
	typed_in := {"authorisation": {"authoriser_role": "line_manager", "has_reason": true, "verified": false}}
	t.first(object.union(p, typed_in)).outcome == "needs_advice"
}

test_forced_marriage_never_to_family if {
	fam := object.union(t.csc, {"conveys_to_family": true})
	d := t.first(object.union(not_sought_e1, {"concern_tags": ["forced_marriage"], "recipients": [fam]}))
	d.outcome == "no_share"
	{"GR5", "I19"} - t.rules(d) == set()
}

test_nonprofessional_referrer_only_to_intake if {
	p := object.union(not_sought_e1, {"recipients": [t.csc, t.police], "payload_fields": object.union(t.base.payload_fields, {"public_referrer": "referrer_identity_nonpro"}), "risk": {"likely_significant_harm": true}})
	d := t.decide(p)
	"public_referrer" in d.recipients[0].allowed_fields
	d.recipients[1].outcome == "share_minimised"
	"public_referrer" in d.recipients[1].withheld_fields
	"I11" in t.rules(d.recipients[1])
}

test_referrer_consent_releases_identity if {
	agree := {"giver": "referrer", "status": "given_explicit", "scope_agencies": ["police-a"], "privacy_notice_given": null, "not_sought_reason": null}
	p := object.union(not_sought_e1, {"recipients": [t.police], "payload_fields": object.union(t.base.payload_fields, {"public_referrer": "referrer_identity_nonpro"})})
	d := t.first(object.union(p, {"consent": array.concat(p.consent, [agree])}))
	"public_referrer" in d.allowed_fields
}

test_court_material_needs_permission_for_its_field_only if {
	p := object.union(not_sought_e1, {"payload_fields": object.union(t.base.payload_fields, {"court_reports": "court_material"}), "risk": {"likely_significant_harm": true}})
	without := t.first(p)
	without.outcome == "share_minimised"
	without.withheld_fields == ["court_reports"]
	t.deciders(without) == ["C6"]
	t.explained(without)
	d := t.first(object.union(p, {"restrictions": {"court_permission_obtained": true}}))
	d.outcome == "share"
	"court_reports" in d.allowed_fields
	some x in d.reasons
	x.rule == "C6"
	contains(x.message, "is recorded")
}

test_privacy_notice_missing_holds if {
	t.first({"consent": [{"giver": "parent_pr", "status": "given_explicit", "scope_agencies": null, "privacy_notice_given": false, "not_sought_reason": null}]}).outcome == "hold_for_authorisation"
}

test_sender_doubt_needs_advice if t.first({"sender_in_doubt": true}).outcome == "needs_advice"

test_unconvicted_adult_needs_advice if {
	d := t.first({"concern_tags": ["unconvicted_adult_risk"]})
	d.outcome == "needs_advice"
	{"GR3", "I26"} - t.rules(d) == set()
}

test_under_13_sexual_activity_reaches_csc if {
	p := object.union(refused, {"concern_tags": ["sexual_activity_under_13"], "lawful_basis": "safeguarding_children_individuals_at_risk"})
	d := t.first(p)
	d.outcome == "share_urgent_review_after"
	"I44" in t.rules(d)
}

test_phone_referral_written_confirmation if {
	d := t.first({"initial_contact": "phone"})
	some o in d.obligations
	o.kind == "written_confirmation"
	o.due_in == {"amount": 24, "unit": "hours"}
}

test_missing_mandatory_field_holds if {
	partial := json.remove(t.base, ["payload_fields/current_location"])
	d := decision.decision with input as partial with data.registry as t.registry
	d.recipients[0].outcome == "hold_for_authorisation"
	some x in d.recipients[0].reasons
	x.rule == "GR6"
	contains(x.message, "it lacks current location.")
}

# --- nothing to send, nothing cleared it, bad input: no share, and what decided it ---------------

test_nothing_to_send_is_no_share_even_when_urgent if {
	d := t.first({"payload_fields": {}, "risk": {"immediate_significant_harm": true}})
	d.outcome == "no_share"
	t.deciders(d) == ["C3"]
	some x in d.decided_by
	contains(x.message, "phone the police")
	d.lawful_basis == null
}

test_uncleared_rules_never_share if {
	d := decision._decision_for(t.csc, {"findings": set(), "keyed": set(), "withholds": set()}, set()) with input as t.base with data.registry as t.registry
	d.outcome == "no_share"
	t.deciders(d) == ["SYS-UNCLEARED"]
}

test_errors_decide_every_recipient if {
	d := t.decide({"partnership_id": "other_one"})
	t.deciders(d.recipients[0]) == ["SYS-REGISTRY"]
	t.explained(d.recipients[0])
	unknown := t.first({"recipients": [object.union(t.csc, {"agency_id": "nobody-x"})]})
	t.deciders(unknown) == ["SYS-AGENCY"]
}

test_missing_need_to_know_key_fails_closed if {
	d := t.decide({"recipients": [json.remove(t.csc, ["need_to_know"])]})
	d.recipients[0].outcome == "no_share"
	t.deciders(d.recipients[0]) == ["SYS-INPUT"]
}

# --- consent scope -------------------------------------------------------------------------------

scoped(extra) := {"consent": [object.union({"giver": "parent_pr", "status": "given_explicit", "scope_agencies": null, "privacy_notice_given": true, "not_sought_reason": null}, extra)]}

test_services_consent_for_another_agency_is_no_share if {
	p := object.union(scoped({"scope_agency_types": ["csc_front_door"]}), {"purpose": "request_for_services", "recipients": [t.csc, t.police]})
	d := t.decide(p)
	d.recipients[0].outcome == "share"
	police := d.recipients[1]
	police.outcome == "no_share"
	t.deciders(police) == ["GR4"]
	police.decided_by[0].message == "The consent recorded does not cover Test Police A. The declared lawful basis is consent, and consent covers only what the person agreed to. Ask them about this too; if safety is at risk, record the exception to seeking consent and the basis relied on instead."
	not contains(police.decided_by[0].message, "consent first")
}

test_consent_for_another_purpose_is_no_share if {
	d := t.first(scoped({"scope_purposes": ["request_for_services"]}))
	d.outcome == "no_share"
	d.decided_by[0].message == "The consent recorded covers only request for services; it does not cover safeguarding concern. The declared lawful basis is consent, and consent covers only what the person agreed to. Ask them about this too; if safety is at risk, record the exception to seeking consent and the basis relied on instead."
}

test_consent_scope_by_agency_id_or_type if {
	t.first(scoped({"scope_agencies": ["csc-a"]})).outcome == "share"
	t.first(scoped({"scope_agency_types": ["police"], "scope_agencies": ["csc-a"]})).outcome == "share"
	t.first(scoped({"scope_agency_types": ["police"]})).outcome == "no_share"
	t.first(scoped({"scope_purposes": ["safeguarding_concern", "request_for_services"]})).outcome == "share"
}

test_out_of_scope_consent_gives_way_to_significant_harm if {
	p := object.union(scoped({"scope_agencies": ["police-a"]}), {"risk": {"likely_significant_harm": true}})
	d := t.first(p)
	d.outcome == "share_urgent_review_after"
	t.deciders(d) == ["C7"]
	d.lawful_basis == "safeguarding_children_individuals_at_risk"
}

test_out_of_scope_consent_does_not_stop_an_exception if {
	p := object.union(not_sought_e1, {"consent": [
		{"giver": "parent_pr", "status": "given_explicit", "scope_agencies": ["police-a"], "privacy_notice_given": true, "not_sought_reason": null},
		{"giver": "child", "status": "not_sought", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": "risk_significant_harm"},
	]})
	d := t.first(p)
	d.outcome == "share"
	some x in d.decided_by
	x.rule == "GR4"
	contains(x.message, "No consent is relied on")
}

# --- statutory notices with no consent regime ----------------------------------------------------

death := {
	"message_type": "child_death_notification", "purpose": "child_death_review", "lawful_basis": "legal_obligation_statutory",
	"consent": refused.consent, "parental_position": null,
	"sender": {"agency_id": "gp-a", "role": "gp"},
	"recipients": [t.police],
	"payload_fields": {"child": "identity", "death_type": "case_status", "died_at": "case_admin", "circumstances": "concern_narrative", "medical_history": "sc_health"},
	"payload_facts": {"death_type": "sudi"},
}

test_statutory_notice_not_held_by_consent_or_health_threshold if {
	d := t.first(death)
	d.outcome == "share_minimised"
	d.withheld_fields == ["medical_history"]
	t.deciders(d) == ["C3"]
	t.messages(d, "GR4") == {"The partnership's procedures require a child death notification to be sent, so consent is not sought: it rests on the lawful basis \"legal obligation (statutory duty)\". Consent was refused by a person with parental responsibility, which does not stop it."}
	some x in d.reasons
	x.rule == "GR3"
	x.effect == "share"
}

test_health_threshold_still_applies_to_referrals if {
	p := object.union(not_sought_e1, {"sender": {"agency_id": "gp-a", "role": "gp"}, "recipients": [t.csc], "payload_fields": object.union(t.base.payload_fields, {"child_condition": "sc_health"})})
	d := t.first(p)
	d.outcome == "needs_advice"
	t.deciders(d) == ["GR3"]
}

test_consent_basis_needs_consent_on_any_notice if {
	transfer := {
		"message_type": "child_move_transfer", "purpose": "transfer_of_responsibility", "lawful_basis": "consent",
		"consent": [], "parental_position": null, "sender": {"agency_id": "csc-a", "role": "social_worker"},
		"recipients": [{"agency_id": "la-b", "role": "team_manager", "need_to_know": "transfer_case", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}],
		"payload_fields": {"child": "identity", "move_date": "case_admin", "transfer_type": "case_status"},
		"payload_facts": {"transfer_type": "temporary_move"},
	}
	held := t.first(transfer)
	held.outcome == "hold_for_authorisation"
	t.deciders(held) == ["GR4"]
	t.first(object.union(transfer, scoped({}))).outcome == "share"
	t.first(object.union(transfer, scoped({"scope_agencies": ["csc-a"]}))).outcome == "no_share"
	t.first(object.union(transfer, {"lawful_basis": "legal_obligation_statutory"})).outcome == "share"
}

test_no_configured_authorisation_rule_clears_sharing if {
	every _, type in data.safeguarding.config.message_types {
		not type.authorisation.rule in {"GR1", "C1", "C4"}
	}
}

# --- a referrer's consent record does not stand in for the subject's -----------------------------

referrer_not_sought := {"giver": "referrer", "status": "not_sought", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": "not_reasonable_to_obtain"}

test_referrer_exception_does_not_cancel_a_refusal if {
	p := object.union(refused, {"lawful_basis": "public_interest"})
	d := t.first(object.union(p, {"consent": array.concat(refused.consent, [referrer_not_sought])}))
	d.outcome == "needs_advice"
	t.deciders(d) == ["GR4", "C7"]
	d.decided_by[0].message == "Consent was refused by a person with parental responsibility, and no exception is recorded. Ask your DSL or named professional, as the nominated child protection adviser, and record the outcome."
	d == t.first(p)
}

# --- C7's words agree with the review it promises and the objection it weighs (sg-policy-0.7.13) -

test_c7_names_the_reviewers_of_the_review_obligation if {
	d := t.first(object.union(refused, {"lawful_basis": "safeguarding_children_individuals_at_risk", "risk": {"likely_significant_harm": true}}))
	some m in t.messages(d, "C7")
	contains(m, "Sent now; a DSL, IG lead or named professional reviews it afterwards.")
	some o in d.obligations
	o.kind == "review_urgent_share"
	contains(o.description, "a DSL, IG lead or named professional reviews this share")
}

test_c7_without_risk_weighs_consent_not_an_objection_to_it if {
	d := t.first(scoped({"scope_agencies": ["police-a"]}))
	d.outcome == "no_share"
	t.messages(d, "C7") == {"No risk of significant harm is recorded, so the duty to share does not, on its own, outweigh consent that does not cover this recipient."}
}

test_services_refused_says_to_send_it_as_a_safeguarding_concern if {
	d := t.first(object.union(refused, {"purpose": "request_for_services", "risk": {"likely_significant_harm": true}}))
	d.outcome == "no_share"
	some gr4 in t.messages(d, "GR4")
	endswith(gr4, "If there is a risk of significant harm, send it again as a safeguarding concern, not a request for services.")
	some c7 in t.messages(d, "C7")
	endswith(c7, "Where there is a risk of harm, send it again as a safeguarding concern, not a request for services.")
}
