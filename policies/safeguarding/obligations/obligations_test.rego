package safeguarding.obligations_test

import data.safeguarding.config
import data.safeguarding.golden_test
import data.safeguarding.obligations
import data.safeguarding.testing_test as t

kinds(d) := {o.kind | some o in d.obligations}

statutory := {"lawful_basis": "legal_obligation_statutory", "consent": [], "parental_position": null}

test_lado_amm_within_three_working_days if {
	p := object.union(statutory, {
		"message_type": "lado_allegation", "purpose": "allegation_management",
		"recipients": [{"agency_id": "lado-a", "role": "lado_officer", "need_to_know": "assess_and_decide", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}],
		"payload_fields": {"person_subject_of_allegation": "identity", "job_and_setting": "service_use", "allegation_account": "criminal_allegation", "dsm_record_signed": "case_admin"},
	})
	d := t.first(p)
	d.outcome == "share"
	some o in d.obligations
	o.kind == "convene_amm"
	o.due_in == {"amount": 3, "unit": "working_days"}
}

test_child_on_child_strategy_five_days if {
	p := object.union(statutory, {
		"message_type": "strategy_discussion_request", "purpose": "strategy_discussion",
		"lawful_basis": "safeguarding_children_individuals_at_risk",
		"sender": {"agency_id": "csc-a", "role": "team_manager"},
		"consent": [{"giver": "parent_pr", "status": "given_explicit", "scope_agencies": null, "privacy_notice_given": true, "not_sought_reason": null}],
		"recipients": [t.police],
		"payload_fields": {"child": "identity", "meeting_at": "case_admin", "concern_summary": "concern_narrative", "strategy_kind": "case_status"},
		"payload_facts": {"strategy_kind": "child_on_child"},
	})
	d := t.first(p)
	some o in d.obligations
	o.due_in == {"amount": 5, "unit": "unclear_days"}
	"inform_subject" in kinds(d)
}

test_trafficked_missing_child_to_police_now if {
	p := object.union(statutory, {
		"message_type": "missing_child", "purpose": "missing_child_response", "lawful_basis": "public_interest",
		"concern_tags": ["trafficking_modern_slavery"], "risk": {"likely_significant_harm": true},
		"recipients": [t.police],
		"payload_fields": {"child": "identity", "age_band": "case_admin", "missing_since": "case_admin", "physical_description": "identity", "last_known_location": "location_safety"},
	})
	d := t.first(p)
	d.outcome == "share"
	"pass_risk_to_police" in kinds(d)
}

test_no_obligations_when_not_shared if t.first({"purpose": "child_death_review"}).obligations == []

test_child_on_child_referral_to_csc if {
	p := {
		"message_type": "child_on_child_harm_referral", "lawful_basis": "safeguarding_children_individuals_at_risk",
		"payload_fields": {"harm_kind": "case_status", "harmed_child": "identity", "child_who_harmed": "identity", "incident_account": "concern_narrative"},
		"payload_facts": {"harm_kind": "harmful_sexual_behaviour"},
	}
	d := t.first(p)
	d.outcome == "share"
	{"acknowledge_referral", "decide_referral", "strategy_meeting", "separate_social_workers"} - kinds(d) == set()
}

test_adult_risk_information_to_csc_is_assessed if {
	p := object.union(statutory, {
		"message_type": "adult_risk_information", "purpose": "safeguarding_concern",
		"lawful_basis": "safeguarding_children_individuals_at_risk",
		"sender": {"agency_id": "probation-a", "role": "probation_officer"},
		"payload_fields": {"conviction_status": "case_status", "adult": "third_party_identity", "risk_summary": "risk_assessment", "children_in_contact": "identity", "line_manager_consulted": "case_admin"},
		"payload_facts": {"conviction_status": "convicted"},
	})
	d := t.first(p)
	d.outcome == "share"
	"assess_adult_risk" in kinds(d)
}

test_school_told_before_the_school_day if {
	p := object.union(statutory, {
		"message_type": "domestic_abuse_school_notification", "purpose": "school_support",
		"lawful_basis": "safeguarding_children_individuals_at_risk",
		"sender": {"agency_id": "police-a", "role": "police_public_protection"},
		"recipients": [{"agency_id": "school-a", "role": "dsl", "need_to_know": "provide_support", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}],
		"payload_fields": {"exposure": "case_status", "pupil": "identity", "incident_at": "case_admin", "police_reference": "case_admin", "incident_summary": "da_info"},
		"payload_facts": {"exposure": "witnessed"},
	})
	d := t.first(p)
	d.outcome == "share_minimised"
	d.withheld_fields == ["incident_summary"]
	some o in d.obligations
	o.kind == "acknowledge_before_school_day"
	o.due_in == {"amount": 1, "unit": "school_days"}
}

test_school_notice_only_to_the_dsl if {
	p := object.union(statutory, {
		"message_type": "domestic_abuse_school_notification", "purpose": "school_support",
		"lawful_basis": "safeguarding_children_individuals_at_risk",
		"sender": {"agency_id": "police-a", "role": "police_public_protection"},
		"recipients": [{"agency_id": "school-a", "role": "designated_senior_manager", "need_to_know": "provide_support", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}],
		"payload_fields": {"exposure": "case_status", "pupil": "identity", "incident_at": "case_admin", "police_reference": "case_admin"},
		"payload_facts": {"exposure": "witnessed"},
	})
	d := t.first(p)
	d.outcome == "no_share"
	t.deciders(d) == ["C4"]
}

# --- M04, M05, M07-M10, M27, M28, M30, M33, M34 and the clocks that answer them ----------------

la_b := {"agency_id": "la-b", "role": "team_manager", "need_to_know": "transfer_case", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}

school := {"agency_id": "school-a", "role": "dsl", "need_to_know": "provide_support", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}

notice(message_type, purpose, sender, recipients, facts) := object.union(statutory, {
	"message_type": message_type, "purpose": purpose,
	"lawful_basis": "safeguarding_children_individuals_at_risk",
	"sender": sender, "recipients": recipients,
	"payload_fields": _adequate(message_type),
	"payload_facts": facts,
})

# Every field the type may require, as plain case administration (obligations follow any share).
_adequate(message_type) := {field: "case_admin" |
	some field in array.concat(
		config.message_types[message_type].mandatory_fields,
		[f | some rule in config.message_types[message_type].mandatory_when; some f in rule.fields],
	)
}

csc_sender := {"agency_id": "csc-a", "role": "team_manager", "is_professional": true}

health_sender := {"agency_id": "health-a", "role": "health_visitor", "is_professional": true}

due_of(d, kind) := [o.due_in | some o in d.obligations; o.kind == kind][0]

test_new_information_is_considered if {
	d := t.first(notice("additional_information", "safeguarding_concern", health_sender, [object.union(t.csc, {"role": "social_worker"})], {}))
	d.outcome == "share"
	"consider_new_information" in kinds(d)
}

test_police_decide_whether_to_investigate if {
	d := t.first(object.union(notice("crime_notification", "crime_investigation", csc_sender, [t.police], {}), {"lawful_basis": "crime_prevention_s115_cda1998"}))
	d.outcome == "share"
	"decide_investigation" in kinds(d)
}

test_receiving_authority_joins_s47_strategy if {
	d := t.first(notice("s47_enquiry", "child_protection_enquiry", csc_sender, [la_b], {"stage": "enquiry_notice"}))
	d.outcome == "share"
	"join_s47_strategy" in kinds(d)
}

test_conference_invitation_asks_for_a_report if {
	d := t.first(notice("cp_conference", "child_protection_conference", csc_sender, [school], {"stage": "invitation"}))
	d.outcome == "share"
	"send_conference_report" in kinds(d)
}

test_plan_review_intervals if {
	due_of(t.first(notice("plan_review_notice", "case_planning", csc_sender, [school], {"plan_kind": "cin_first_review"})), "next_plan_review") == {"amount": 90, "unit": "days"}
	due_of(t.first(notice("plan_review_notice", "case_planning", csc_sender, [school], {"plan_kind": "cin_review"})), "next_plan_review") == {"amount": 120, "unit": "days"}
	due_of(t.first(notice("plan_review_notice", "case_planning", csc_sender, [school], {"plan_kind": "cpch_plan"})), "next_plan_review") == {"amount": 42, "unit": "days"}
	due_of(t.first(notice("plan_review_notice", "case_planning", csc_sender, [school], {"plan_kind": "safety_plan"})), "next_plan_review") == {"amount": 42, "unit": "days"}
	not "next_plan_review" in kinds(t.first(notice("plan_review_notice", "case_planning", csc_sender, [school], {"plan_kind": "cp_plan"})))
}

test_prebirth_concern_is_a_referral_with_its_assessment if {
	p := object.union(notice("prebirth_concern", "safeguarding_concern", health_sender, [t.csc], {"stage": "prebirth_concern"}), {"parental_position": t.base.parental_position, "consent": t.base.consent, "lawful_basis": "consent"})
	d := t.first(p)
	d.outcome == "share"
	{"acknowledge_referral", "decide_referral", "prebirth_assessment"} - kinds(d) == set()
}

test_closure_implications_for_csc if {
	p := object.union(notice("case_closure_notice", "case_planning", health_sender, [t.csc], {"service": "substance_misuse"}), {"sender": {"agency_id": "gp-a", "role": "gp", "is_professional": true}})
	d := t.first(p)
	d.outcome == "share"
	"consider_closure_implications" in kinds(d)
}

test_prohibited_dog_to_police if {
	d := t.first(notice("dog_injury_referral", "crime_investigation", health_sender, [t.police], {"stage": "prohibited_dog"}))
	d.outcome == "share"
	"act_on_prohibited_dog" in kinds(d)
}

test_escalation_answered_in_a_working_day if {
	d := t.first(notice("professional_disagreement", "professional_escalation", {"agency_id": "school-a", "role": "dsl", "is_professional": true}, [t.csc], {"ground": "no_decision_after_3_wd"}))
	d.outcome == "share"
	due_of(d, "answer_escalation") == {"amount": 1, "unit": "working_days"}
}

test_suicide_response_stages if {
	"attend_multi_agency_discussion" in kinds(t.first(notice("suicide_response", "safeguarding_concern", csc_sender, [school], {"stage": "serious_attempt"})))
	due_of(t.first(notice("suicide_response", "child_death_review", health_sender, [school], {"stage": "death"})), "cdr_information_sharing_meeting") == {"amount": 5, "unit": "working_days"}
	due_of(t.first(notice("suicide_response", "child_death_review", health_sender, [school], {"stage": "meeting_record"})), "review_suicide_response") == {"amount": 28, "unit": "days"}
}

test_phone_child_on_child_referral_is_confirmed_in_writing if {
	p := {
		"message_type": "child_on_child_harm_referral", "lawful_basis": "safeguarding_children_individuals_at_risk",
		"initial_contact": "phone",
		"payload_fields": {"harm_kind": "case_status", "harmed_child": "identity", "child_who_harmed": "identity", "incident_account": "concern_narrative"},
		"payload_facts": {"harm_kind": "harmful_sexual_behaviour"},
	}
	d := t.first(p)
	due_of(d, "written_confirmation") == {"amount": 24, "unit": "hours"}
}

test_advice_answer_starts_no_clock if {
	p := object.union(statutory, {
		"message_type": "advice_request", "purpose": "seek_advice", "lawful_basis": "unsure",
		"sender": {"agency_id": "gp-a", "role": "named_professional", "is_professional": true},
		"recipients": [{"agency_id": "gp-a", "role": "gp", "need_to_know": "assess_and_decide", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}],
		"payload_fields": {"topic": "case_status", "question": "concern_narrative", "advice": "opinion", "stage": "case_status"},
		"payload_facts": {"topic": "health_information", "stage": "advice_given"},
	})
	d := t.first(p)
	d.outcome == "share"
	not "give_advice" in kinds(d)
}

test_advice_question_answered_in_a_working_day if {
	p := object.union(statutory, {
		"message_type": "advice_request", "purpose": "seek_advice", "lawful_basis": "unsure",
		"sender": {"agency_id": "gp-a", "role": "gp", "is_professional": true},
		"recipients": [{"agency_id": "gp-a", "role": "named_professional", "need_to_know": "assess_and_decide", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}],
		"payload_fields": {"topic": "case_status", "question": "concern_narrative", "stage": "case_status"},
		"payload_facts": {"topic": "health_information", "stage": "question"},
	})
	due_of(t.first(p), "give_advice") == {"amount": 1, "unit": "working_days"}
}

# Each message type's own obligations are tried for it (obligations._kinds_by_type): a share of
# that type to the agency the rule names carries the obligation.
_by_type := [
	["early_help_assessment_share", "school-a", {}, "review_early_help_plan"],
	["hospital_discharge_hold", "csc-a", {}, "strategy_before_discharge"],
	["osman_warning_referral", "police-a", {}, "strategy_discussion_now"],
	["transition_to_adult_services", "asc-a", {}, "join_transition_review"],
	["nrm_referral", "police-a", {}, "act_on_trafficking_risk"],
	["radicalisation_concern", "police-a", {}, "consider_multi_agency_assessment"],
	["police_protection_notice", "csc-a", {}, "respond_to_police_protection"],
	["adult_risk_information", "csc-a", {}, "assess_adult_risk"],
	["crime_notification", "police-a", {}, "decide_investigation"],
	["additional_information", "csc-a", {}, "consider_new_information"],
]

test_each_type_tries_its_own_obligations if {
	every row in _by_type {
		[message_type, agency_id, facts, kind] := row
		recipient := {"agency_id": agency_id, "role": "x", "need_to_know": "assess_and_decide", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}
		found := {o.kind | some o in obligations.for_recipient(recipient, "share")} with input as {"message_type": message_type, "payload_facts": facts, "consent": []}
			with data.registry as t.registry
		kind in found
	}
}

test_candidates_name_catalogue_entries if {
	every _, kinds in obligations._kinds_by_type {
		every kind in kinds {
			obligations._catalogue[kind]
		}
	}
}

# --- a held share runs no clocks; released, it carries the obligations of the share it becomes ----

test_held_strategy_carries_its_meeting_clock_to_release if {
	authorised := t.first(golden_test.strategy)
	authorised.outcome == "share"
	held := t.first(object.union(golden_test.strategy, {"authorisation": null}))
	held.outcome == "hold_for_authorisation"
	held.obligations == []
	held.obligations_on_release == authorised.obligations
	some o in held.obligations_on_release
	o.kind == "strategy_meeting"
	o.due_in == {"amount": 2, "unit": "working_days"}
}

test_referral_held_for_advice_carries_the_csc_clocks_to_release if {
	d := t.first({"sender_in_doubt": true, "initial_contact": "phone"})
	d.outcome == "needs_advice"
	kinds(d) == {"written_confirmation"}
	{o.kind | some o in d.obligations_on_release} == {"written_confirmation", "acknowledge_referral", "decide_referral"}
}

test_a_minimised_release_carries_the_same_clocks if {
	fam := object.union(t.csc, {"conveys_to_family": true})
	d := t.first({"sender_in_doubt": true, "recipients": [fam]})
	d.outcome == "needs_advice"
	d.withheld_fields != []
	{"acknowledge_referral", "decide_referral"} - {o.kind | some o in d.obligations_on_release} == set()
}

test_only_held_decisions_carry_release_obligations if {
	t.first({}).obligations_on_release == []
	t.first({"recipients": [object.union(t.csc, {"need_to_know": null})]}).obligations_on_release == []
	t.first({"risk": {"immediate_significant_harm": true}}).obligations_on_release == []
	t.decide({"partnership_id": "other_one"}).recipients[0].obligations_on_release == []
}
