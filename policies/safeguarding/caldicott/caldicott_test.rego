package safeguarding.caldicott_test

import data.safeguarding.testing_test as t

statutory := {
	"lawful_basis": "legal_obligation_statutory",
	"consent": [],
	"parental_position": null,
}

test_c1_wrong_sender_no_share if {
	d := t.first(object.union(statutory, {"message_type": "referral_acknowledgement", "purpose": "referral_feedback", "payload_fields": {"referral_reference": "case_admin", "child": "identity"}}))
	d.outcome == "no_share"
	some x in d.reasons
	x.rule == "C1"
	contains(x.message, "can only be sent by")
}

monitoring := object.union(statutory, {
	"message_type": "missing_child", "purpose": "partnership_monitoring", "lawful_basis": "public_interest",
	"recipients": [t.police],
	"payload_fields": {"age_band": "case_admin", "missing_since": "case_admin", "episode_count": "case_history"},
})

test_c2_monitoring_deidentified_shares if {
	d := t.first(monitoring)
	d.outcome == "share"
	some x in d.reasons
	x.rule == "C2"
	contains(x.message, "de-identified")
}

test_c2_monitoring_with_identity_no_share if {
	p := object.union(monitoring, {"payload_fields": {"child": "identity"}})
	d := t.first(p)
	d.outcome == "no_share"
	some x in d.reasons
	x.rule == "C2"
	contains(x.message, "child")
}

csod := object.union(statutory, {
	"message_type": "csod_disclosure", "purpose": "disclosure_decision", "lawful_basis": "police_common_law_power",
	"sender": {"agency_id": "police-a", "role": "police_disclosure_unit"},
	"recipients": [object.union(t.csc, {"role": "social_worker", "need_to_know": "protect_child", "conveys_to_family": true})],
	"payload_fields": {"stage": "case_status", "child": "identity", "protector": "third_party_identity", "subject_person": "third_party_identity", "relevant_convictions": "criminal_conviction"},
	"payload_facts": {"stage": "police_decision"},
	"risk": {"likely_significant_harm": true},
})

test_c5_csod_needs_undertaking if t.first(csod).outcome == "hold_for_authorisation"

test_c5_csod_with_undertaking_shares_without_convictions if {
	d := t.first(object.union(csod, {"restrictions": {"undertaking_signed": true}}))
	d.outcome == "share_minimised"
	not "relevant_convictions" in d.allowed_fields
}

test_c5_police_decide_without_undertaking if {
	auth := {"authorisation": {"authoriser_role": "police_senior_officer", "has_reason": true, "verified": true}}
	t.first(object.union(csod, auth)).outcome == "share_minimised"
	typed_in := {"authorisation": {"authoriser_role": "police_senior_officer", "has_reason": true, "verified": false}}
	t.first(object.union(csod, typed_in)).outcome == "hold_for_authorisation"
}

test_c5_onward_disclosure_prohibited_reason if {
	d := t.first({"restrictions": {"onward_disclosure_prohibited": true}})
	some x in d.reasons
	x.rule == "C5"
}

# The agency by its name, then its type in words: a name with its own brackets ("Brookside Homes
# (fictional housing provider)") read twice-bracketed with the type after it (sg-policy-0.7.11).
test_c4_names_the_agency_then_its_type_in_words if {
	housing := {"agency_id": "housing-a", "role": "housing_officer", "need_to_know": "provide_support", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}
	d := t.first({"recipients": [housing]})
	d.outcome == "no_share"
	t.deciders(d) == ["C4"]
	t.messages(d, "C4") == {"Test Housing A does not receive a safeguarding referral: its type of agency, housing, is not among those that do, so it has no need to know."}
}

test_c4_stage_restricts_recipients if {
	request := object.union(csod, {"payload_facts": {"stage": "agency_request"}, "sender": {"agency_id": "school-a", "role": "dsl"}})
	t.first(request).outcome == "no_share"
}

death := object.union(statutory, {
	"message_type": "child_death_notification", "purpose": "child_death_review",
	"sender": {"agency_id": "police-a", "role": "police_public_protection"},
	"recipients": [{"agency_id": "cdop-a", "role": "cdop_manager", "need_to_know": "statutory_notification", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}],
	"payload_fields": {"child": "identity", "death_type": "case_status", "died_at": "case_admin", "circumstances": "concern_narrative", "post_mortem_findings": "coronial_material"},
	"payload_facts": {"death_type": "sudi"},
})

test_c6_post_mortem_withheld_without_coroner if {
	d := t.first(death)
	d.outcome == "share_minimised"
	d.withheld_fields == ["post_mortem_findings"]
	t.deciders(d) == ["C6"]
	some x in d.decided_by
	contains(x.message, "Coroner")
}

coroner := {"agency_id": "coroner-a", "role": "coroners_officer", "need_to_know": "statutory_notification", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}

test_c6_coroners_officer_gets_post_mortem_material if {
	d := t.decide(object.union(death, {"recipients": [coroner, t.police]}))
	d.recipients[0].outcome == "share"
	"post_mortem_findings" in d.recipients[0].allowed_fields
	some x in d.recipients[0].reasons
	x.rule == "C6"
	contains(x.message, "Coroner's officer")
	d.recipients[1].outcome == "share_minimised"
	d.recipients[1].withheld_fields == ["post_mortem_findings"]
}

test_c6_post_mortem_not_necessary_for_csc if {
	d := t.first(object.union(death, {"recipients": [t.csc]}))
	d.withheld_fields == ["post_mortem_findings"]
	t.deciders(d) == ["C3"]
}

test_c6_flag_without_marked_field_covers_whole_notification if {
	flagged := json.patch(death, [{"op": "remove", "path": "/payload_fields/post_mortem_findings"}])
	p := object.union(flagged, {"restrictions": {"coroner_permission_required": true}, "recipients": [death.recipients[0], coroner]})
	d := t.decide(p)
	d.recipients[0].outcome == "no_share"
	t.deciders(d.recipients[0]) == ["C6"]
	d.recipients[1].outcome == "share"
	court := t.first(object.union(statutory, {"restrictions": {"court_permission_required": true}}))
	court.outcome == "no_share"
	some x in court.decided_by
	contains(x.message, "court's permission")
}

test_c6_post_mortem_with_coroner_permission if {
	d := t.first(object.union(death, {"restrictions": {"coroner_permission_obtained": true}}))
	d.outcome == "share"
	some o in d.obligations
	o.kind == "initial_case_management_discussion"
}

advice(stage, role) := object.union(statutory, {
	"message_type": "advice_request", "purpose": "seek_advice", "lawful_basis": "unsure",
	"sender": {"agency_id": "gp-a", "role": "named_professional", "is_professional": true},
	"recipients": [{"agency_id": "gp-a", "role": role, "need_to_know": "assess_and_decide", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}],
	"payload_fields": {"stage": "case_status", "topic": "case_status", "question": "concern_narrative"},
	"payload_facts": {"stage": stage, "topic": "other"},
})

test_c4_a_question_goes_only_to_advisers if {
	d := t.first(advice("question", "gp"))
	d.outcome == "no_share"
	t.deciders(d) == ["C4"]
	some x in d.reasons
	contains(x.message, "role queues")
}

test_c4_the_advisers_answer_goes_back_to_whoever_asked if {
	t.first(advice("advice_given", "gp")).outcome == "share"
}

# C8 names the risk that makes telling the family risky, not another recorded reason (sg-policy-0.7.0).
test_c8_names_the_risk_not_the_childs_consent_reason if {
	d := t.first(data.safeguarding.golden_test.told_for_risk)
	t.messages(d, "C8") == {"The family will not be told about any sharing for now, because: seeking agreement would put the child at risk of significant harm."}
}

test_c8_lists_every_risk_and_only_risks if {
	p := object.union(data.safeguarding.golden_test.told_for_risk, {
		"parental_position": {"reason_not_informed": "prejudice_crime"},
		"consent": [
			data.safeguarding.golden_test.not_sought("child", "cannot_consent"),
			data.safeguarding.golden_test.not_sought("parent_pr", "loss_of_evidence"),
		],
	})
	t.messages(t.first(p), "C8") == {"The family will not be told about any sharing for now, because: seeking consent could lose evidence and telling the person or their family could prejudice the detection of crime."}
}

# Parents recorded as knowing of the referral are not said to be "not told" (sg-policy-0.7.19).
test_c8_beside_parents_who_know_says_what_they_are_not_told if {
	p := object.union(data.safeguarding.golden_test.told_for_risk, {
		"parental_position": {"parents_informed": true, "reason_not_informed": null},
		"consent": [data.safeguarding.golden_test.not_sought("parent_pr", "risk_significant_harm")],
	})
	t.messages(t.first(p), "C8") == {"The parents know of this referral, but will not be told about any sharing for now, because: seeking agreement would put the child at risk of significant harm."}
}

# Consent relied on with the privacy notice unstated holds as surely as one not given: missing
# input denies (sg-policy-0.7.0). The message says it is not recorded, not that it was not given.
given(notice) := {"consent": [{"giver": "parent_pr", "status": "given_explicit", "scope_agencies": null, "privacy_notice_given": notice, "not_sought_reason": null}]}

test_c8_privacy_notice_not_recorded_holds if {
	d := t.first(given(null))
	d.outcome == "hold_for_authorisation"
	t.deciders(d) == ["C8"]
	[f.message | some f in d.decided_by] == ["Consent is relied on, but the consent record does not say whether the person was given the privacy notice explaining how their information is used. Record whether they were before sending."]
	unstated := json.patch(t.base, [{"op": "remove", "path": "/consent/0/privacy_notice_given"}])
	missing := data.safeguarding.decision.decision with input as unstated with data.registry as t.registry
	t.deciders(missing.recipients[0]) == ["C8"]
}

test_c8_privacy_notice_not_given_says_so if {
	d := t.first(given(false))
	t.deciders(d) == ["C8"]
	[f.message | some f in d.decided_by] == ["Consent is relied on, but the person was not given the privacy notice explaining how their information is used."]
	t.first(given(true)).outcome == "share"
}

# Only a record that consent relies on needs the notice: a basis other than consent, or a referrer
# agreeing to be named, does not.
test_c8_privacy_notice_only_where_consent_is_relied_on if {
	t.first(object.union(given(null), {"lawful_basis": "safeguarding_children_individuals_at_risk"})).outcome == "share"
	referrer := {"giver": "referrer", "status": "given_explicit", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": null}
	with_referrer := {"consent": [t.base.consent[0], referrer]}
	t.first(with_referrer).outcome == "share"
}

# Under a refusal C8 does not say that anything was shared (sg-policy-0.7.13).
test_c8_promises_telling_only_if_something_is_shared if {
	d := t.first(data.safeguarding.decision_test.scoped({"scope_purposes": ["request_for_services"]}))
	d.outcome == "no_share"
	t.messages(d, "C8") == {"If anything is shared, the person concerned is to be told afterwards what, with whom and why."}
}

# An IG lead's or Caldicott Guardian's queue takes advice, not a case (sg-policy-0.7.16).
_oversight_words := {"ig_lead": "IG lead", "caldicott_guardian": "Caldicott Guardian"}

test_c4_a_referral_does_not_go_to_an_oversight_queue if {
	every role, said in _oversight_words {
		d := t.first({"recipients": [object.union(t.csc, {"role": role})]})
		d.outcome == "no_share"
		t.deciders(d) == ["C4"]
		d.decided_by[0].message == sprintf("A safeguarding referral does not go to the %s queue: information governance leads and Caldicott Guardians advise on sharing and audit it, and take advice requests, not case notifications. Address it to the team that acts on it.", [said])
	}
}

test_c4_an_advice_request_still_reaches_an_oversight_queue if {
	every role, _ in _oversight_words {
		t.first(advice("question", role)).outcome == "share"
	}
}

# At immediate risk nothing blocks a protective agency (domain brief §4.1), the queue it was addressed
# to included: I14 sends it now, and C4's finding stays for the review afterwards.
test_c4_an_oversight_queue_does_not_block_an_immediate_risk if {
	d := t.first({"recipients": [object.union(t.csc, {"role": "caldicott_guardian"})], "risk": {"immediate_significant_harm": true}})
	d.outcome == "share_urgent_review_after"
	some m in t.messages(d, "C4")
	startswith(m, "A safeguarding referral does not go to the Caldicott Guardian queue")
}

# On an adult's notification C8 speaks of the person, who may know of the referral (sg-policy-0.7.23).
test_c8_on_an_adults_notification_speaks_of_the_person if {
	risk := data.safeguarding.golden_test.not_sought("adult_subject", "risk_to_others_or_immediate_harm")
	p := object.union(data.safeguarding.golden_test.adult, {"consent": [risk]})
	t.messages(t.first(p), "C8") == {"The person and their family will not be told about any sharing for now, because: telling the person or their family could put them or someone else at immediate risk."}
	knows := object.union(p, {"parental_position": {"parents_informed": true, "reason_not_informed": null}})
	t.messages(t.first(knows), "C8") == {"The person knows of this referral, but will not be told about any sharing for now, because: telling the person or their family could put them or someone else at immediate risk."}
}
