# Recipients the source documents require that the catalogue must let through (C4, the catalogue
# review): Ofsted and the DBS for a LADO allegation, the Virtual School for a looked-after child's
# placement, the pathologist for scene-of-death documentation.
package safeguarding.catalogue_recipients_test

import data.safeguarding.decision
import data.safeguarding.testing_test as t

registry := object.union(t.registry, {"agencies": {
	"ofsted-a": {"type": "ofsted", "name": "Test Ofsted A"},
	"dbs-a": {"type": "dbs", "name": "Test DBS A"},
	"vs-a": {"type": "virtual_school", "name": "Test Virtual School A"},
	"path-a": {"type": "pathologist", "name": "Test Pathologist A"},
}})

decide(patch) := result if {
	result := decision.decision with input as t.merged(patch) with data.registry as registry
}

recipient(id, role) := {"agency_id": id, "role": role, "need_to_know": "statutory_notification", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}

ofsted := recipient("ofsted-a", "regulatory_inspector")

dbs := recipient("dbs-a", "dbs_caseworker")

lado := recipient("lado-a", "lado_officer")

lado_fields := {"person_subject_of_allegation": "identity", "job_and_setting": "service_use", "allegation_account": "criminal_allegation", "dsm_record_signed": "case_admin"}

lado_referral := {
	"message_type": "lado_allegation", "purpose": "allegation_management", "lawful_basis": "legal_obligation_statutory",
	"consent": [], "parental_position": null,
	"sender": {"agency_id": "school-a", "role": "designated_senior_manager", "is_professional": true},
	"recipients": [lado, ofsted, dbs],
	"payload_fields": lado_fields,
	"payload_facts": {"stage": "referral"},
}

outcomes(d) := [r.outcome | some r in d.recipients]

test_a_registered_setting_tells_ofsted_but_not_yet_the_dbs if {
	d := decide(lado_referral)
	outcomes(d) == ["share", "share", "no_share"]
	[c4] := [x.rule | some x in d.recipients[2].decided_by]
	c4 == "C4"
}

test_the_employers_dbs_referral_reaches_the_dbs if {
	p := json.patch(lado_referral, [
		{"op": "replace", "path": "/payload_facts/stage", "value": "dbs_referral"},
		{"op": "replace", "path": "/recipients", "value": [dbs, lado]},
		{"op": "add", "path": "/payload_fields/allegation_outcome", "value": "case_status"},
		{"op": "add", "path": "/payload_fields/dbs_conditions", "value": "case_status"},
	])
	every r in decide(p).recipients {
		r.outcome in {"share", "share_minimised"}
	}
}

test_a_dbs_referral_must_say_how_the_conditions_are_met if {
	p := json.patch(lado_referral, [
		{"op": "replace", "path": "/payload_facts/stage", "value": "dbs_referral"},
		{"op": "replace", "path": "/recipients", "value": [dbs]},
	])
	d := decide(p).recipients[0]
	d.outcome == "hold_for_authorisation"
	t.deciders(d) == ["GR6"]
}

virtual_school := recipient("vs-a", "virtual_school_head")

transfer(kind, fields) := {
	"message_type": "child_move_transfer", "purpose": "transfer_of_responsibility", "lawful_basis": "legal_obligation_statutory",
	"consent": [], "parental_position": null,
	"sender": {"agency_id": "csc-a", "role": "social_worker", "is_professional": true},
	"recipients": [virtual_school],
	"payload_fields": object.union({"child": "identity", "move_date": "case_admin", "transfer_type": "case_status"}, fields),
	"payload_facts": {"transfer_type": kind},
}

test_the_virtual_school_hears_of_a_looked_after_childs_placement_only if {
	decide(transfer("lac_placement_notification", {})).recipients[0].outcome in {"share", "share_minimised"}
	other := decide(transfer("temporary_move", {})).recipients[0]
	other.outcome == "no_share"
	t.deciders(other) == ["C4"]
}

test_a_child_on_the_sex_offenders_register_carries_the_protection_package if {
	la := object.union(recipient("la-b", "team_manager"), {"need_to_know": "transfer_case"})
	bare := object.union(transfer("child_on_sex_offenders_register", {}), {"recipients": [la]})
	held := decide(bare).recipients[0]
	held.outcome == "hold_for_authorisation"
	t.deciders(held) == ["GR6"]
	protection := {"assessments": "risk_assessment", "pre_sentence_report": "criminal_conviction", "previous_cp_reports": "case_history"}
	full := object.union(transfer("child_on_sex_offenders_register", protection), {"recipients": [la]})
	decide(full).recipients[0].outcome in {"share", "share_minimised"}
}

pathologist := recipient("path-a", "pathologist")

death(stage, fields) := {
	"message_type": "child_death_notification", "purpose": "child_death_review", "lawful_basis": "legal_obligation_statutory",
	"consent": [], "parental_position": null,
	"sender": {"agency_id": "police-a", "role": "police_public_protection", "is_professional": true},
	"recipients": [pathologist],
	"payload_fields": object.union({"child": "identity", "death_type": "case_status", "died_at": "case_admin", "circumstances": "concern_narrative"}, fields),
	"payload_facts": {"stage": stage, "death_type": "sudi", "suspected_deliberate_harm": "false"},
}

test_the_scene_of_death_documentation_reaches_the_pathologist if {
	decide(death("scene_documentation", {"scene_visit_record": "concern_narrative"})).recipients[0].outcome in {"share", "share_minimised"}
	held := decide(death("scene_documentation", {})).recipients[0]
	held.outcome == "hold_for_authorisation"
	t.deciders(held) == ["GR6"]
}

test_only_the_visits_police_or_health_send_its_documentation if {
	p := object.union(death("scene_documentation", {"scene_visit_record": "concern_narrative"}), {"sender": {"agency_id": "school-a", "role": "dsl", "is_professional": true}})
	d := decide(p).recipients[0]
	d.outcome == "no_share"
	t.deciders(d) == ["C1"]
}

test_form_c_goes_to_the_coroner if {
	coroner := recipient("coroner-a", "coroners_officer")
	p := object.union(death("form_c", {"meeting_at": "case_admin", "actions_agreed": "case_status"}), {"recipients": [coroner]})
	decide(p).recipients[0].outcome in {"share", "share_minimised"}
}
