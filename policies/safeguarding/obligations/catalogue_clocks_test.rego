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

# sg-policy-0.7.29: the employer's account is its referral's (and a DBS referral's); the LADO's own
# stages answer the referral in reply, and are not made to tell it again.
test_the_lados_amm_record_needs_no_retold_account if {
	record := json.patch(lado_referral, [
		{"op": "replace", "path": "/payload_facts/stage", "value": "amm_record"},
		{"op": "replace", "path": "/sender", "value": {"agency_id": "lado-a", "role": "lado_officer"}},
		{"op": "replace", "path": "/recipients/0", "value": {"agency_id": "school-a", "role": "dsl", "need_to_know": "assess_and_decide", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}},
		{"op": "remove", "path": "/payload_fields/allegation_account"},
		{"op": "remove", "path": "/payload_fields/dsm_record_signed"},
		{"op": "add", "path": "/payload_fields/meeting_at", "value": "case_admin"},
		{"op": "add", "path": "/payload_fields/actions_agreed", "value": "case_status"},
	])
	d := t.first(record)
	d.outcome in {"share", "share_minimised"}
}

test_an_employers_referral_still_needs_its_account if {
	d := t.first(json.patch(lado_referral, [{"op": "remove", "path": "/payload_fields/allegation_account"}]))
	not d.outcome in {"share", "share_minimised"}
	"GR6" in t.deciders(d)
	dbs := t.first(json.patch(lado_referral, [
		{"op": "replace", "path": "/payload_facts/stage", "value": "dbs_referral"},
		{"op": "remove", "path": "/payload_fields/allegation_account"},
		{"op": "add", "path": "/payload_fields/allegation_outcome", "value": "case_status"},
		{"op": "add", "path": "/payload_fields/dbs_conditions", "value": "case_status"},
	]))
	not dbs.outcome in {"share", "share_minimised"}
	"GR6" in t.deciders(dbs)
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

# CPCH: a parent or carer at high risk and a child causing harm aged 16+ means a MARAC referral;
# under 16, MARAC considers it case by case (a note); not at high risk, neither.
cpch_high_risk(age) := json.patch(cpch_referral, [
	{"op": "add", "path": "/risk/da_high_risk_marac", "value": true},
	{"op": "replace", "path": "/subjects/0/age_years", "value": age},
])

test_a_cpch_referral_with_a_child_of_16_at_high_risk_means_a_marac_referral if {
	d := t.first(cpch_high_risk(16))
	d.outcome == "share"
	"refer_to_marac" in kinds(d)
	not "consider_marac" in kinds(d)
}

test_under_16_marac_considers_it_case_by_case if {
	d := t.first(cpch_high_risk(15))
	d.outcome == "share"
	"consider_marac" in kinds(d)
	not "refer_to_marac" in kinds(d)
}

test_no_marac_without_high_risk_or_cpch if {
	not_high := t.first(json.patch(cpch_high_risk(17), [{"op": "replace", "path": "/risk/da_high_risk_marac", "value": false}]))
	not "refer_to_marac" in kinds(not_high)
	not "consider_marac" in kinds(not_high)
	not_cpch := t.first(json.patch(cpch_high_risk(17), [{"op": "replace", "path": "/concern_tags", "value": []}]))
	not "refer_to_marac" in kinds(not_cpch)
}

test_an_adult_causing_harm_is_not_a_child_of_16_plus if {
	adult := json.patch(cpch_high_risk(15), [{"op": "add", "path": "/subjects/-", "value": {"role_in_case": "alleged_perpetrator", "age_years": 40, "gillick_competent": "not_assessed", "mental_capacity": "not_assessed", "adult_at_risk_care_act": null}}])
	"consider_marac" in kinds(t.first(adult))
}

# The receiving authority reads the move notice's written follow-up on its own decision, but the
# follow-up is the transferring authority's to send (T30; sg-policy-0.7.25).
test_the_transfers_written_follow_up_names_whose_it_is if {
	startswith(data.safeguarding.obligations._catalogue.transfer_written_follow_up.description, "The transferring authority follows the move notice up in writing within 7 working days [")
}
