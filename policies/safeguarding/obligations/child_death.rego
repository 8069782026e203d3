# The child-death clocks (M19, child_death_notification): the initial case management discussion
# (T33), the siblings' safety when deliberate harm is suspected, the scene-of-death documentation
# owed to the pathologist (T34) and the post-mortem reports to the Coroner (T35). Same package as
# obligations.rego, whose `for_recipient` tries these `_applies` rules for a child death
# notification (`_kinds_by_type`) and reads their entries through `_catalogue`; kept apart because
# these clocks follow the stages of one message type and start from its payload's times (the death,
# the scene visit, the examination), not from the notice, unlike the clocks of any other share.
package safeguarding.obligations

import data.safeguarding.context

# METADATA
# title: The child-death clocks' catalogue entries
# description: >-
#   A literal object, joined to obligations.rego's in `_catalogue`; starts_at names the payload
#   time a clock runs from: the death (T33), the scene visit (T34), the examination (T35).
_child_death_catalogue := {
	"icmd": {"kind": "initial_case_management_discussion", "due_in": {"amount": 12, "unit": "hours"}, "starts_at": "payload.died_at", "description": "Hold the initial case management discussion (health, police, social care) within 12 hours of the death being confirmed, and send its minuted record (a child death notification at stage icmd_record, in reply) [CPSCP-Procedures, Child death > 4.5 Initial Case Management Discussion] (T33).", "rule": "GR6"},
	"safeguard_siblings": {"kind": "safeguard_siblings", "due_in": null, "description": "Deliberate harm is suspected: consider the safety of siblings and other children at once [CPSCP-Procedures, Child death > 3.10.1 Social Care].", "rule": "GR5"},
	"scene_documentation": {"kind": "scene_documentation_to_pathologist", "due_in": {"amount": 1, "unit": "working_days"}, "starts_at": "payload.scene_visit_at", "description": "Share the documentation of the scene-of-death visit and of the discussion with the parents with the pathologist within 24 hours of the visit, counted over the working week (1 working day: a visit on Friday evening is due on Monday evening, one at the weekend by the end of Monday); the documentation (a child death notification at stage scene_documentation, in reply) answers this, and Form B goes to the CDOP Manager [CPSCP-Procedures, Child death > 3.6.1 On call Health Professional] (T34).", "rule": "GR6"},
	"pm_provisional_report": {"kind": "post_mortem_provisional_report", "due_in": {"amount": 5, "unit": "working_days"}, "starts_at": "payload.post_mortem_at", "description": "Send the Coroner the provisional post-mortem report, with a preliminary cause of death where possible and the retained samples, within 5 working days of the examination; the report (a child death notification at stage pm_provisional_report, or pm_complete_report, in reply) answers this [CPSCP-Procedures, Child death > 3.9 Role of Coroner and Pathologist] (T35).", "rule": "GR6"},
	"pm_complete_report": {"kind": "post_mortem_complete_report", "due_in": {"amount": 7, "unit": "days"}, "starts_at": "payload.post_mortem_at", "description": "No complex investigations are awaited: send the Coroner the complete post-mortem report within one week of the examination; the report (a child death notification at stage pm_complete_report, in reply) answers this [CPSCP-Procedures, Child death > 3.9 Role of Coroner and Pathologist] (T35).", "rule": "GR6"},
	"pm_further_results": {"kind": "post_mortem_further_results", "due_in": null, "description": "Complex investigations are awaited: send the Coroner their results, with a commentary or conclusions and the stated cause of death, within one week of the findings being available (not timed here: the broker does not hear when they are) [CPSCP-Procedures, Child death > 3.9 Role of Coroner and Pathologist] (T35).", "rule": "GR6"},
}

_applies("icmd", r, outcome) if {
	input.message_type == "child_death_notification"
	object.get(input.payload_facts, "stage", "notification") == "notification"
	context.agency_type(r) in {"police", "csc_front_door", "csc_team", "cdop", "health_acute", "health_community", "health_gp"}
	_shared(outcome)
}

# T34: the scene-of-death visit's documentation is owed by the police or health sender of a notice
# (or ICMD record) that says when the visit was made, to the pathologist it reaches.
_applies("scene_documentation", r, outcome) if {
	input.message_type == "child_death_notification"
	object.get(input.payload_facts, "stage", "notification") in {"notification", "icmd_record"}
	input.payload_fields.scene_visit_at
	context.sender_type in context.mt.stage_sender_types.scene_documentation
	context.agency_type(r) == "pathologist"
	_shared(outcome)
}

# T35: the Coroner's notice that the examination was held starts the pathologist's provisional report.
_applies("pm_provisional_report", r, outcome) if {
	input.message_type == "child_death_notification"
	input.payload_facts.stage == "post_mortem_held"
	context.agency_type(r) == "pathologist"
	_shared(outcome)
}

# The provisional report to the Coroner starts the complete one, unless it names complex investigations.
_applies("pm_complete_report", r, outcome) if {
	input.message_type == "child_death_notification"
	input.payload_facts.stage == "pm_provisional_report"
	not input.payload_fields.complex_investigations
	context.agency_type(r) == "coroner"
	_shared(outcome)
}

_applies("pm_further_results", r, outcome) if {
	input.message_type == "child_death_notification"
	input.payload_facts.stage == "pm_provisional_report"
	input.payload_fields.complex_investigations
	context.agency_type(r) == "coroner"
	_shared(outcome)
}

_applies("safeguard_siblings", r, outcome) if {
	input.message_type == "child_death_notification"
	context.likely_harm
	_csc(r)
	_shared(outcome)
}
