# Clocks as the source documents count them (the catalogue review): where a clock starts, what
# stage of a reply answers it, and the unit the partnership sets where the source leaves it unclear.
package safeguarding.obligations_catalogue_test

import data.safeguarding.obligations_test.csc_sender
import data.safeguarding.obligations_test.due_of
import data.safeguarding.obligations_test.kinds
import data.safeguarding.obligations_test.notice
import data.safeguarding.obligations_test.statutory
import data.safeguarding.testing_test as t

cpch_referral := object.union(t.base, {"concern_tags": ["cpch"]})

test_a_cpch_referral_starts_the_two_working_day_strategy_clock if {
	d := t.first(cpch_referral)
	d.outcome in {"share", "share_minimised", "share_urgent_review_after"}
	some o in d.obligations
	o.kind == "strategy_meeting"
	o.due_in == {"amount": 2, "unit": "working_days"}
}

test_a_referral_not_about_cpch_starts_no_strategy_clock if {
	not "strategy_meeting" in kinds(t.first(t.base))
}

death_notice := object.union(statutory, {
	"message_type": "child_death_notification", "purpose": "child_death_review",
	"sender": {"agency_id": "police-a", "role": "police_public_protection"},
	"recipients": [t.csc],
	"payload_fields": {"child": "identity", "death_type": "case_status", "died_at": "case_admin", "circumstances": "concern_narrative"},
	"payload_facts": {"stage": "notification", "death_type": "sudi"},
})

test_icmd_clock_runs_from_the_death_not_the_notice if {
	some o in t.first(death_notice).obligations
	o.kind == "initial_case_management_discussion"
	o.starts_at == "payload.died_at"
	o.due_in == {"amount": 12, "unit": "hours"}
}

test_the_icmd_record_starts_no_second_icmd if {
	record := json.patch(death_notice, [
		{"op": "replace", "path": "/payload_facts/stage", "value": "icmd_record"},
		{"op": "add", "path": "/payload_fields/meeting_at", "value": "case_admin"},
		{"op": "add", "path": "/payload_fields/actions_agreed", "value": "case_status"},
	])
	d := t.first(record)
	d.outcome == "share"
	not "initial_case_management_discussion" in kinds(d)
}

test_the_icmd_record_must_carry_its_minutes if {
	record := json.patch(death_notice, [{"op": "replace", "path": "/payload_facts/stage", "value": "icmd_record"}])
	d := t.first(record)
	d.outcome == "hold_for_authorisation"
	t.deciders(d) == ["GR6"]
}

test_suspected_deliberate_harm_raises_the_siblings_duty_without_risk_flags if {
	suspected := json.patch(death_notice, [{"op": "add", "path": "/payload_facts/suspected_deliberate_harm", "value": "true"}])
	"safeguard_siblings" in kinds(t.first(suspected))
}

test_a_suspected_crime_raises_the_siblings_duty if {
	criminal := json.patch(death_notice, [
		{"op": "add", "path": "/payload_facts/suspected_deliberate_harm", "value": "false"},
		{"op": "replace", "path": "/payload_facts/death_type", "value": "criminal_suspected"},
	])
	"safeguard_siblings" in kinds(t.first(criminal))
}

test_no_siblings_duty_when_no_harm_is_suspected if {
	natural := json.patch(death_notice, [{"op": "add", "path": "/payload_facts/suspected_deliberate_harm", "value": "false"}])
	not "safeguard_siblings" in kinds(t.first(natural))
}

lado_referral := object.union(statutory, {
	"message_type": "lado_allegation", "purpose": "allegation_management",
	"sender": {"agency_id": "school-a", "role": "designated_senior_manager"},
	"recipients": [{"agency_id": "lado-a", "role": "lado_officer", "need_to_know": "assess_and_decide", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}],
	"payload_fields": {"person_subject_of_allegation": "identity", "job_and_setting": "service_use", "allegation_account": "criminal_allegation", "dsm_record_signed": "case_admin"},
	"payload_facts": {"stage": "referral"},
})

test_the_lados_amm_record_starts_no_second_amm_clock if {
	record := json.patch(lado_referral, [
		{"op": "replace", "path": "/payload_facts/stage", "value": "amm_record"},
		{"op": "replace", "path": "/sender", "value": {"agency_id": "lado-a", "role": "lado_officer"}},
		{"op": "replace", "path": "/recipients/0", "value": {"agency_id": "school-a", "role": "dsl", "need_to_know": "assess_and_decide", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}},
		{"op": "add", "path": "/payload_fields/meeting_at", "value": "case_admin"},
		{"op": "add", "path": "/payload_fields/actions_agreed", "value": "case_status"},
	])
	d := t.first(record)
	d.outcome in {"share", "share_minimised"}
	not "convene_amm" in kinds(d)
}

test_only_the_lado_sends_the_amm_record if {
	record := json.patch(lado_referral, [
		{"op": "replace", "path": "/payload_facts/stage", "value": "amm_record"},
		{"op": "add", "path": "/payload_fields/meeting_at", "value": "case_admin"},
		{"op": "add", "path": "/payload_fields/actions_agreed", "value": "case_status"},
	])
	d := t.first(record)
	d.outcome == "no_share"
	t.deciders(d) == ["C1"]
}

test_an_s47_outcome_deciding_a_conference_starts_the_icpc_clock if {
	d := t.first(notice("s47_enquiry", "child_protection_enquiry", csc_sender, [t.police], {"stage": "outcome", "icpc_required": "true"}))
	due_of(d, "initial_child_protection_conference") == {"amount": 15, "unit": "unclear_days"}
}

test_no_icpc_clock_without_a_conference_or_before_the_outcome if {
	none := t.first(notice("s47_enquiry", "child_protection_enquiry", csc_sender, [t.police], {"stage": "outcome", "icpc_required": "false"}))
	not "initial_child_protection_conference" in kinds(none)
	early := t.first(notice("s47_enquiry", "child_protection_enquiry", csc_sender, [t.police], {"stage": "enquiry_notice", "icpc_required": "true"}))
	not "initial_child_protection_conference" in kinds(early)
}
