package safeguarding.golden_test

import data.safeguarding.golden
import data.safeguarding.testing_test as t

adult := {
	"message_type": "adult_safeguarding_referral", "purpose": "adult_safeguarding_enquiry",
	"lawful_basis": "safeguarding_children_individuals_at_risk", "parental_position": null,
	"recipients": [{"agency_id": "asc-a", "role": "adult_safeguarding_officer", "need_to_know": "protect_adult", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}],
	"payload_fields": {"adult": "identity", "care_and_support_needs": "sc_health", "abuse_or_neglect": "concern_narrative", "unable_to_protect_self": "risk_assessment"},
}

test_gr2_agreement_sought if {
	d := t.first(object.union(adult, {"lawful_basis": "consent"}))
	d.outcome == "share"
	some x in d.reasons
	x.rule == "GR2"
	contains(x.message, "agreement was sought")
}

test_gr2_no_agreement_no_reason_holds if {
	p := object.union(adult, {"consent": [{"giver": "adult_subject", "status": "not_sought", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": null}]})
	t.first(p).outcome == "hold_for_authorisation"
}

test_gr2_exception_recorded if {
	p := object.union(adult, {"consent": [{"giver": "adult_subject", "status": "not_sought", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": "cannot_consent"}]})
	t.first(p).outcome == "share"
}

test_serious_harm_to_adult_outweighs_refusal if {
	p := object.union(adult, {"consent": [{"giver": "adult_subject", "status": "refused", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": null}], "risk": {"serious_harm_to_adult": true}})
	t.first(p).outcome == "share_urgent_review_after"
}

strategy := {
	"message_type": "strategy_discussion_request", "purpose": "strategy_discussion",
	"lawful_basis": "safeguarding_children_individuals_at_risk", "parental_position": null,
	"sender": {"agency_id": "csc-a", "role": "team_manager"},
	"consent": [{"giver": "parent_pr", "status": "not_sought", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": "prejudice_crime"}],
	"authorisation": {"authoriser_role": "line_manager", "has_reason": true, "verified": true},
	"recipients": [{"agency_id": "gp-a", "role": "gp", "need_to_know": "attend_meeting", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}],
	"payload_fields": {"child": "identity", "meeting_at": "case_admin", "concern_summary": "concern_narrative", "strategy_kind": "case_status"},
	"payload_facts": {"strategy_kind": "cpch"},
}

test_gr4_strategy_authorised_share_with_deadline if {
	d := t.first(strategy)
	d.outcome == "share"
	some o in d.obligations
	o.due_in == {"amount": 2, "unit": "working_days"}
}

test_gr4_strategy_unauthorised_holds if t.first(object.union(strategy, {"authorisation": null})).outcome == "hold_for_authorisation"

# Issue 11: a block the sender typed in, with no token of the authoriser's own, is not evidence.
test_gr4_typed_in_authorisation_stays_held if {
	d := t.first(object.union(strategy, {"authorisation": {"authoriser_role": "line_manager", "has_reason": true, "verified": false}}))
	d.outcome == "hold_for_authorisation"
	some f in d.decided_by
	contains(f.message, "typed into the notification is not evidence")
}

# The hold names the roles in words and cites its source briefly: the pack's quotation made the
# message longer than the receipt allows (500 characters), and the request failed.
test_gr4_typed_in_authorisation_says_who_and_where_briefly if {
	d := t.first(object.union(strategy, {"authorisation": {"authoriser_role": "line_manager", "has_reason": true, "verified": false}}))
	[f.message | some f in d.decided_by] == ["Waiting for authorisation by one of: line manager, children's social care manager or senior manager. An authorisation typed into the notification is not evidence: the authoriser answers from the authorisation queue, or signs their own authorisation token for this notification. Source: CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral > Screening of Referrals by Children's Social Care."]
}

test_gr4_authorisation_messages_cite_without_the_quotation if {
	authorised := t.messages(t.first(strategy), "GR4")
	some m in authorised
	m == "Authorised by the line manager, as this partnership requires (CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral > Screening of Referrals by Children's Social Care)."
	held := t.first(object.union(strategy, {"authorisation": null}))
	[f.message | some f in held.decided_by] == ["Waiting for authorisation by one of: line manager, children's social care manager or senior manager. Source: CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral > Screening of Referrals by Children's Social Care."]
}

test_gr3_health_to_non_health_needs_advice if {
	p := object.union(strategy, {
		"sender": {"agency_id": "health-a", "role": "health_visitor"},
		"recipients": [{"agency_id": "school-a", "role": "dsl", "need_to_know": "protect_child", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}],
		"payload_fields": {"health_information": "sc_health"},
	})
	d := t.first(p)
	d.outcome != "share"
}

test_gr3_hostile_family_needs_advice if {
	fam := object.union(t.csc, {"conveys_to_family": true})
	t.first({"concern_tags": ["hostile_family"], "recipients": [fam]}).outcome == "needs_advice"
}

test_gr5_domestic_abuse_perpetrator_needs_advice if {
	perp := object.union(t.csc, {"conveys_to_alleged_perpetrator": true})
	d := t.first({"concern_tags": ["domestic_abuse"], "recipients": [perp]})
	d.outcome == "needs_advice"
}

test_gr5_family_facing_minimised if {
	fam := object.union(t.csc, {"conveys_to_family": true})
	d := t.first({"recipients": [fam]})
	d.outcome == "share_minimised"
	d.withheld_fields == ["current_location"]
	"GR5" in t.rules(d)
}

test_gr6_marac_not_high_risk_needs_advice if {
	p := {
		"message_type": "marac_referral", "purpose": "marac_risk_management", "parental_position": null,
		"recipients": [{"agency_id": "marac-a", "role": "marac_coordinator", "need_to_know": "coordinate_plan", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}],
		"payload_fields": {"victim": "identity", "dash_summary": "da_info"},
	}
	t.first(p).outcome == "needs_advice"
	t.first(object.union(p, {"risk": {"da_high_risk_marac": true}})).outcome == "share"
}

test_gr6_cp_transfer_needs_plan if {
	p := {
		"message_type": "child_move_transfer", "purpose": "transfer_of_responsibility", "lawful_basis": "legal_obligation_statutory",
		"consent": [], "parental_position": null, "sender": {"agency_id": "csc-a", "role": "social_worker"},
		"recipients": [{"agency_id": "la-b", "role": "team_manager", "need_to_know": "transfer_case", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}],
		"payload_fields": {"child": "identity", "move_date": "case_admin", "transfer_type": "case_status"},
		"payload_facts": {"transfer_type": "cp_plan_transfer"},
	}
	t.first(p).outcome == "hold_for_authorisation"
	full := object.union(p, {"payload_fields": {"cp_plan": "case_status", "assessments": "risk_assessment", "legal_status": "case_status"}})
	d := t.first(full)
	d.outcome == "share"
	{o.kind | some o in d.obligations} == {"transfer_in_conference", "written_follow_up"}
}

advice := {
	"message_type": "advice_request", "purpose": "seek_advice", "lawful_basis": "unsure", "sender_in_doubt": true,
	"consent": [], "parental_position": null,
	"recipients": [{"agency_id": "csc-a", "role": "ig_lead", "need_to_know": "assess_and_decide", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}],
	"payload_fields": {"topic": "case_status", "question": "concern_narrative"},
	"payload_facts": {"topic": "lawful_basis"},
}

test_advice_request_is_not_itself_held_for_advice if {
	d := t.first(advice)
	d.outcome == "share"
	"give_advice" in {o.kind | some o in d.obligations}
	t.deciders(d) == ["GR1", "C1", "C4"]
}

test_advice_request_to_a_non_adviser_is_no_share if {
	d := t.first(object.union(advice, {"recipients": [t.csc]}))
	d.outcome == "no_share"
	t.deciders(d) == ["C4"]
}

test_advice_request_with_identity_is_no_share if {
	d := t.first(object.union(advice, {"payload_fields": {"topic": "case_status", "question": "concern_narrative", "child": "identity"}}))
	d.outcome == "no_share"
	t.deciders(d) == ["C2"]
}

test_unconvicted_adult_fact_is_a_doubt if {
	some f in golden.gr3(t.csc) with input as object.union(t.base, {"payload_facts": {"conviction_status": "not_convicted"}})
	f.effect == "needs_advice"
}

test_advice_reaches_any_adviser_whole if {
	d := t.first(object.union(advice, {
		"recipients": [{"agency_id": "housing-a", "role": "safeguarding_lead", "need_to_know": "assess_and_decide", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}],
		"payload_fields": {"topic": "case_status", "question": "concern_narrative", "situation": "concern_narrative"},
	}))
	d.outcome == "share"
	d.withheld_fields == []
}

# Each message names the reason that grounds it, not the code first in the alphabet: the parents
# are not told because telling them is a risk, while the child's own record says the child cannot
# consent (sg-policy-0.7.0).
told_for_risk := {
	"lawful_basis": "safeguarding_children_individuals_at_risk",
	"parental_position": {"parents_informed": false, "parent_withheld_permission": null, "reason_not_informed": "risk_significant_harm", "has_reason_text": false},
	"consent": [{"giver": "child", "status": "not_sought", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": "cannot_consent"}],
}

test_gr2_names_the_parents_reason if {
	t.messages(t.first(told_for_risk), "GR2") == {"The parents have not been told, for a recorded reason: seeking agreement would put the child at risk of significant harm."}
}

test_gr4_names_the_consent_exception if {
	"No consent is relied on, for a recorded reason: the person cannot give consent. The declared lawful basis does not depend on consent." in t.messages(t.first(told_for_risk), "GR4")
	p := object.union(told_for_risk, {
		"parental_position": {"reason_not_informed": "loss_of_evidence"},
		"consent": [object.union(told_for_risk.consent[0], {"not_sought_reason": "risk_significant_harm"})],
	})
	"No consent is relied on, for a recorded reason: seeking agreement would put the child at risk of significant harm. The declared lawful basis does not depend on consent." in t.messages(t.first(p), "GR4")
	unsure := object.union(told_for_risk, {"lawful_basis": null}) # "Unsure" of the basis: none is declared
	"No consent is relied on, for a recorded reason: the person cannot give consent. No lawful basis is declared yet; golden rule 1 asks for one." in t.messages(t.first(unsure), "GR4")
}

not_sought(giver, reason) := {"giver": giver, "status": "not_sought", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": reason}

test_gr2_agreement_lists_every_subjects_reason if {
	p := object.union(adult, {"consent": [not_sought("adult_subject", "unreasonable_delay"), not_sought("parent_pr", "cannot_consent")]})
	t.messages(t.first(p), "GR2") == {"Agreement was not sought, for recorded reasons: the person cannot give consent and seeking consent would cause undue delay."}
	t.messages(t.first(p), "GR4") == {"No consent is relied on, for recorded reasons: the person cannot give consent and seeking consent would cause undue delay. The declared lawful basis does not depend on consent."}
}

# Where no subject's record gives a reason, the parental position's is the one recorded.
test_gr2_agreement_falls_back_to_the_parents_reason if {
	p := object.union(adult, {
		"consent": [not_sought("adult_subject", null)],
		"parental_position": {"parents_informed": false, "parent_withheld_permission": null, "reason_not_informed": "loss_of_evidence", "has_reason_text": false},
	})
	t.messages(t.first(p), "GR2") == {"Agreement was not sought, for a recorded reason: seeking consent could lose evidence."}
}

# GR3's health threshold looks only at the fields that would go to the recipient.
test_gr3_health_withheld_from_recipient_no_doubt if {
	p := object.union(strategy, {
		"sender": {"agency_id": "health-a", "role": "health_visitor"},
		"recipients": [{"agency_id": "school-a", "role": "dsl", "need_to_know": "protect_child", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}],
		"payload_fields": {"health_information": "sc_health"},
	})
	r := p.recipients[0]
	golden._doubt_health(r) == set() with input as t.merged(p) with data.registry as t.registry
		with data.safeguarding.fields.allowed as _sees_nothing
	count(golden._doubt_health(r)) == 1 with input as t.merged(p) with data.registry as t.registry
		with data.safeguarding.fields.allowed as _sees_health
}

_sees_nothing(_) := []

_sees_health(_) := ["health_information"]

# GR5 names who the recipient passes information to, and says fields are withheld from it only
# when the fields module withholds some for that reason (sg-policy-0.7.10).
fam_csc := object.union(t.csc, {"conveys_to_family": true})

perp_csc := object.union(t.csc, {"conveys_to_alleged_perpetrator": true})

both_csc := object.union(t.csc, {"conveys_to_family": true, "conveys_to_alleged_perpetrator": true})

test_gr5_family_facing_names_the_withholding if {
	d := t.first({"recipients": [fam_csc]})
	d.withheld_fields == ["current_location"]
	t.messages(d, "GR5") == {
		"This recipient would pass information to the family, so fields that could endanger someone are withheld from it.",
		"Withheld because this recipient passes information to the family or an alleged perpetrator: current location.",
	}
}

test_gr5_family_facing_nothing_to_withhold if {
	d := t.first({"recipients": [fam_csc], "payload_fields": {"child": "identity", "concern_summary": "concern_narrative", "current_location": "contact_address"}})
	d.outcome == "share"
	d.withheld_fields == []
	t.messages(d, "GR5") == {"This recipient would pass information to the family, but no field in this notification needs to be withheld from it for that reason."}
}

test_gr5_perpetrator_only_is_not_called_the_family if {
	d := t.first({"recipients": [perp_csc]})
	t.messages(d, "GR5") == {
		"This recipient would pass information to an alleged perpetrator, so fields that could endanger someone are withheld from it.",
		"Withheld because this recipient passes information to the family or an alleged perpetrator: concern summary, current location.",
	}
}

test_gr5_family_and_perpetrator_named_both if {
	some m in t.messages(t.first({"recipients": [both_csc]}), "GR5")
	m == "This recipient would pass information to the family and an alleged perpetrator, so fields that could endanger someone are withheld from it."
}

# Fields withheld for another reason only (necessity) are not GR5's withholding.
test_gr5_other_withholding_is_not_for_safety if {
	r := fam_csc
	p := t.merged({"recipients": [r]})
	golden.gr5(r) == {{"rule": "GR5", "effect": "share", "message": "This recipient would pass information to the family, but no field in this notification needs to be withheld from it for that reason."}} with input as p
		with data.registry as t.registry
		with data.safeguarding.fields.withheld_reasons as _necessity_only
}

_necessity_only(_) := {{"rule": "C3", "message": "Withheld as not necessary for this recipient (minimum necessary): current location.", "effect": "withhold_fields"}}

# "not required" is the sender's record, not a regime the pack knows: a message type with no consent
# regime never reaches this branch (gr4 takes _gr4_consent_basis there).
not_required := {
	"lawful_basis": "safeguarding_children_individuals_at_risk",
	"consent": [{"giver": "parent_pr", "status": "not_required", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": null}],
}

test_gr4_not_required_is_the_senders_record if {
	t.messages(t.first(not_required), "GR4") == {"The sender recorded consent as not required for this notification, and recorded no exception code saying why."}
}

test_gr4_not_required_with_a_code_names_the_code if {
	p := object.union(not_required, {"consent": [object.union(not_required.consent[0], {"not_sought_reason": "not_required_by_regime"})]})
	t.messages(t.first(p), "GR4") == {"No consent is relied on, for a recorded reason: the regime does not need consent. The declared lawful basis does not depend on consent."}
}

# Another person's "not required" does not widen a consent scoped to other agencies: with no
# exception recorded, the recipient outside the scope gets nothing (sg-policy-0.7.12).
test_gr4_not_required_does_not_widen_a_scoped_consent if {
	scoped := {"giver": "parent_pr", "status": "given_explicit", "scope_agencies": ["someone-else"], "privacy_notice_given": true, "not_sought_reason": null}
	p := object.union(not_required, {"consent": [scoped, object.union(not_required.consent[0], {"giver": "child"})]})
	d := t.first(p)
	d.outcome == "no_share"
	"GR4" in t.deciders(d)
	some m in t.messages(d, "GR4")
	contains(m, "no exception to seeking it is recorded")
}

# Consent out of scope says why the share keeps within it: the basis declared is consent, or a
# request for services needs it, or another basis has no exception to seeking consent recorded.
out_of_scope(patch) := object.union({"consent": [{"giver": "parent_pr", "status": "given_explicit", "scope_agencies": null, "scope_purposes": ["request_for_services"], "privacy_notice_given": true, "not_sought_reason": null}]}, patch)

test_gr4_scope_on_a_consent_basis if {
	d := t.first(out_of_scope({}))
	d.outcome == "no_share"
	d.decided_by[0].message == "The consent recorded covers only request for services; it does not cover safeguarding concern. The declared lawful basis is consent, and consent covers only what the person agreed to. Ask them about this too; if safety is at risk, record the exception to seeking consent and the basis relied on instead."
}

test_gr4_scope_on_another_basis if {
	d := t.first(out_of_scope({"lawful_basis": "safeguarding_children_individuals_at_risk"}))
	d.outcome == "no_share"
	d.decided_by[0].message == "The consent recorded covers only request for services; it does not cover safeguarding concern. Consent is not the declared lawful basis, but no exception to seeking it is recorded, so consent covers only what the person agreed to. Ask them about this too, or record why consent is not sought."
}

test_gr4_scope_of_a_request_for_services_on_another_basis if {
	p := {
		"purpose": "request_for_services", "lawful_basis": "safeguarding_children_individuals_at_risk", "recipients": [t.csc, t.police],
		"consent": [{"giver": "parent_pr", "status": "given_explicit", "scope_agencies": null, "scope_agency_types": ["csc_front_door"], "privacy_notice_given": true, "not_sought_reason": null}],
	}
	police := t.decide(p).recipients[1]
	police.outcome == "no_share"
	[f.message | some f in police.decided_by] == ["The consent recorded does not cover Test Police A. A request for services always needs consent, and consent covers only what the person agreed to. Ask the family about this too, then send again."]
}

# No doubt found says what was checked, not that no health information goes (sg-policy-0.7.13).
test_gr3_no_doubt_says_what_was_checked if {
	p := {"risk": {"likely_significant_harm": true}, "payload_fields": {"health_information": "sc_health"}}
	d := t.first(p)
	t.messages(d, "GR3") == {"No reason for doubt is recorded: the sender is not in doubt, no confidential health information goes to a non-health agency without a recorded risk or consent, no hostile family would hear of it through this recipient, and no adult without a conviction is named as a risk."}
}

# Consent relied on names whose it is, for this recipient alone (sg-policy-0.7.19).
given_by(giver, scope) := {"giver": giver, "status": "given_explicit", "scope_agencies": scope, "privacy_notice_given": true, "not_sought_reason": null}

test_gr4_given_names_the_giver if {
	d := t.first({"consent": [given_by("parent_pr", null)]})
	t.messages(d, "GR4") == {"Explicit consent was given by a person with parental responsibility, and it covers this recipient and purpose."}
}

test_gr4_given_names_only_the_givers_covering_this_recipient if {
	p := {"recipients": [t.csc, t.police], "consent": [given_by("parent_pr", [t.csc.agency_id]), given_by("child", null)]}
	[csc, police] := t.decide(p).recipients
	{m | some f in csc.reasons; f.rule == "GR4"; m := f.message} == {"Explicit consent was given by a person with parental responsibility and the child themselves, and it covers this recipient and purpose."}
	{m | some f in police.reasons; f.rule == "GR4"; m := f.message} == {"Explicit consent was given by the child themselves, and it covers this recipient and purpose."}
}

# "Don't know" whether the parents know is not "not told" (sg-policy-0.7.20).
test_gr2_parents_position_unknown_says_so if {
	p := {"lawful_basis": "safeguarding_children_individuals_at_risk", "parental_position": {"parents_informed": null, "parent_withheld_permission": null}}
	d := t.first(p)
	d.outcome == "hold_for_authorisation"
	t.messages(d, "GR2") == {"It is not recorded whether the parents know about this referral, nor any reason for not telling them. Find out and record it, or record why telling them would be unsafe."}
}

# Advice is anyone's the access table lets answer it, a named professional too; E1 in an adult's words (sg-policy-0.7.21).
test_advice_names_every_adviser if {
	t.messages(t.first({"lawful_basis": "unsure"}), "GR1") == {"The sender is unsure of the lawful basis: an adviser (a DSL, named professional, IG lead or Caldicott Guardian) says which applies, and the sender sends it again naming it."}
	t.messages(t.first({"sender_in_doubt": true}), "GR3") == {"The sender is in doubt about this sharing: an adviser (a DSL, named professional, IG lead or Caldicott Guardian) answers, without anyone being named."}
	unsure := {"consent": [{"giver": "parent_pr", "status": "unsure", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": null}]}
	t.messages(t.first(unsure), "GR4") == {"The sender is unsure whether consent was given. Check with the person, or an adviser (a DSL, named professional, IG lead or Caldicott Guardian) answers."}
}

test_gr4_services_names_the_giver if {
	d := t.first({"purpose": "request_for_services", "consent": [given_by("parent_pr", null)]})
	t.messages(d, "GR4") == {"Consent to this request for services was given by a person with parental responsibility, and it covers this agency."}
}

test_e1_in_an_adults_words if {
	risk := {"giver": "adult_subject", "status": "not_sought", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": "risk_significant_harm"}
	t.messages(t.first(object.union(adult, {"consent": [risk]})), "GR4") == {"No consent is relied on, for a recorded reason: seeking agreement would put the person at risk of serious harm. The declared lawful basis does not depend on consent."}
}

# E8 speaks of a young person; on an adult's notification it speaks of the person (sg-policy-0.7.22).
test_e8_in_an_adults_words if {
	urgent := {"giver": "adult_subject", "status": "not_sought", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": "serious_harm_young_person_urgent"}
	t.messages(t.first(object.union(adult, {"consent": [urgent]})), "GR4") == {"No consent is relied on, for a recorded reason: waiting for consent could seriously harm the person. The declared lawful basis does not depend on consent."}
	child := {"lawful_basis": "safeguarding_children_individuals_at_risk", "consent": [object.union(urgent, {"giver": "parent_pr"})]}
	t.messages(t.first(child), "GR4") == {"No consent is relied on, for a recorded reason: waiting for consent could seriously harm the young person. The declared lawful basis does not depend on consent."}
}

# A refusal set aside by a line manager's authorisation names whose it was (sg-policy-0.7.22).
test_gr4_consulted_names_who_refused if {
	refusal := {"giver": "parent_pr", "status": "refused", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": null}
	d := t.first(object.union(strategy, {"consent": [refusal]}))
	d.outcome == "share"
	"Consent was refused by a person with parental responsibility; the line manager was consulted and agreed to sharing, with reasons recorded." in t.messages(d, "GR4")
}
