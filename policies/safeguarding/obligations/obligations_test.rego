package safeguarding.obligations_test

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
	o.due_in == {"amount": 5, "unit": "days"}
	"inform_subject" in kinds(d)
}

test_child_death_siblings_and_icmd if {
	p := object.union(statutory, {
		"message_type": "child_death_notification", "purpose": "child_death_review",
		"sender": {"agency_id": "police-a", "role": "police_public_protection"},
		"risk": {"likely_significant_harm": true},
		"recipients": [t.csc],
		"payload_fields": {"child": "identity", "death_type": "case_status", "died_at": "case_admin", "circumstances": "concern_narrative"},
		"payload_facts": {"death_type": "criminal_suspected"},
	})
	{"initial_case_management_discussion", "safeguard_siblings"} - kinds(t.first(p)) == set()
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

# Monday 19:00 -> Tuesday 08:30; Friday 17:00 -> Monday 08:30; Tuesday 07:00 -> 08:30 the same day.
test_school_day_hours if {
	obligations.school_day_hours == 13 with time.now_ns as 1772478000000000000
	obligations.school_day_hours == 63 with time.now_ns as 1772816400000000000
	obligations.school_day_hours == 1 with time.now_ns as 1772521200000000000
}

test_saturday_waits_for_monday if {
	obligations.school_day_hours == 44 with time.now_ns as 1772886600000000000
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
	d := t.first(p) with time.now_ns as 1772478000000000000
	d.outcome == "share_minimised"
	d.withheld_fields == ["incident_summary"]
	some o in d.obligations
	o.kind == "acknowledge_before_school_day"
	o.due_in == {"amount": 13, "unit": "hours"}
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
