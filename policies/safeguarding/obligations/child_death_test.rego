# Tests of child_death.rego: the child-death clocks (M19) as the source documents count them:
# the ICMD from the death (T33), the siblings' duty, the scene-of-death documentation owed to the
# pathologist (T34) and the post-mortem reports to the Coroner (T35).
package safeguarding.obligations_child_death_test

import data.safeguarding.obligations
import data.safeguarding.obligations_test.kinds
import data.safeguarding.obligations_test.statutory
import data.safeguarding.testing_test as t

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

# T34: the scene-of-death visit's documentation is due to the pathologist within 24 hours counted
# over the working week, from the visit the notice records, owed by its police or health sender.
pathologist := {"agency_id": "pathologist-a", "role": "pathologist", "need_to_know": "statutory_notification", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}

visited := json.patch(death_notice, [
	{"op": "replace", "path": "/recipients", "value": [pathologist]},
	{"op": "add", "path": "/payload_fields/scene_visit_at", "value": "case_admin"},
])

test_a_notice_recording_the_scene_visit_starts_the_documentation_clock if {
	d := t.first(visited)
	d.outcome == "share"
	some o in d.obligations
	o.kind == "scene_documentation_to_pathologist"
	o.starts_at == "payload.scene_visit_at"
	o.due_in == {"amount": 1, "unit": "working_days"}
}

test_the_icmd_record_may_record_the_visit if {
	record := json.patch(visited, [
		{"op": "replace", "path": "/payload_facts/stage", "value": "icmd_record"},
		{"op": "add", "path": "/payload_fields/meeting_at", "value": "case_admin"},
		{"op": "add", "path": "/payload_fields/actions_agreed", "value": "case_status"},
	])
	"scene_documentation_to_pathologist" in kinds(t.first(record))
}

test_no_documentation_clock_without_a_visit_for_another_recipient_or_sender if {
	not "scene_documentation_to_pathologist" in kinds(t.first(json.patch(visited, [{"op": "remove", "path": "/payload_fields/scene_visit_at"}])))
	not "scene_documentation_to_pathologist" in kinds(t.first(json.patch(visited, [{"op": "replace", "path": "/recipients", "value": [t.police]}])))
	not "scene_documentation_to_pathologist" in kinds(t.first(json.patch(visited, [{"op": "replace", "path": "/sender", "value": {"agency_id": "cdop-a", "role": "cdop_manager"}}])))
}

test_the_documentation_itself_starts_no_second_clock if {
	documentation := json.patch(visited, [
		{"op": "replace", "path": "/payload_facts/stage", "value": "scene_documentation"},
		{"op": "add", "path": "/payload_fields/scene_visit_record", "value": "concern_narrative"},
	])
	d := t.first(documentation)
	d.outcome == "share"
	not "scene_documentation_to_pathologist" in kinds(d)
}

# T35: the Coroner's notice that the examination was held starts the pathologist's provisional
# report (5 working days); the provisional report to the Coroner starts the complete one (1 week)
# unless it names complex investigations.
coroner := {"agency_id": "coroner-a", "role": "coroners_officer", "need_to_know": "statutory_notification", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}

pm_held := json.patch(death_notice, [
	{"op": "replace", "path": "/sender", "value": {"agency_id": "coroner-a", "role": "coroners_officer"}},
	{"op": "replace", "path": "/recipients", "value": [pathologist]},
	{"op": "replace", "path": "/payload_facts/stage", "value": "post_mortem_held"},
	{"op": "add", "path": "/payload_fields/post_mortem_at", "value": "case_admin"},
])

provisional := json.patch(pm_held, [
	{"op": "replace", "path": "/sender", "value": {"agency_id": "pathologist-a", "role": "pathologist"}},
	{"op": "replace", "path": "/recipients", "value": [coroner]},
	{"op": "replace", "path": "/payload_facts/stage", "value": "pm_provisional_report"},
	{"op": "add", "path": "/payload_fields/post_mortem_findings", "value": "coronial_material"},
])

test_the_examination_starts_the_provisional_report_clock if {
	d := t.first(pm_held)
	d.outcome == "share"
	some o in d.obligations
	o.kind == "post_mortem_provisional_report"
	o.starts_at == "payload.post_mortem_at"
	o.due_in == {"amount": 5, "unit": "working_days"}
	not "post_mortem_complete_report" in kinds(d)
}

test_only_the_coroner_says_the_examination_was_held if {
	d := t.first(json.patch(pm_held, [{"op": "replace", "path": "/sender", "value": {"agency_id": "police-a", "role": "police_public_protection"}}]))
	d.outcome == "no_share"
	t.deciders(d) == ["C1"]
}

test_the_examination_notice_needs_its_time if {
	d := t.first(json.patch(pm_held, [{"op": "remove", "path": "/payload_fields/post_mortem_at"}]))
	d.outcome == "hold_for_authorisation"
	t.deciders(d) == ["GR6"]
}

test_the_provisional_report_starts_the_complete_report_clock if {
	d := t.first(provisional)
	d.outcome == "share"
	some o in d.obligations
	o.kind == "post_mortem_complete_report"
	o.starts_at == "payload.post_mortem_at"
	o.due_in == {"amount": 7, "unit": "days"}
	not "post_mortem_provisional_report" in kinds(d)
	not "post_mortem_further_results" in kinds(d)
}

test_complex_investigations_leave_the_complete_report_untimed if {
	complex := json.patch(provisional, [{"op": "add", "path": "/payload_fields/complex_investigations", "value": "coronial_material"}])
	d := t.first(complex)
	d.outcome == "share"
	not "post_mortem_complete_report" in kinds(d)
	some o in d.obligations
	o.kind == "post_mortem_further_results"
	o.due_in == null
}

test_the_reports_go_to_the_coroner_first if {
	d := t.first(json.patch(provisional, [{"op": "replace", "path": "/recipients", "value": [t.police]}]))
	d.outcome == "no_share"
	t.deciders(d) == ["C4"]
}

# object.union lets the right-hand object win: no kind may be in both halves of the catalogue.
test_the_child_death_catalogue_shares_no_kind_with_the_rest if {
	object.keys(obligations._child_death_catalogue) & object.keys(obligations._general_catalogue) == set()
	count(obligations._catalogue) == count(obligations._child_death_catalogue) + count(obligations._general_catalogue)
}
