# METADATA
# title: Obligations that follow a share
# description: >-
#   Deadlines and follow-up tasks attached to one recipient's decision (timer ids T..
#   in the descriptions). Durations use the units of the source documents: working days,
#   hours or days; due_in null means "immediately / as soon as possible".
package safeguarding.obligations

import data.safeguarding.config
import data.safeguarding.context

# METADATA
# title: Obligations for one recipient and outcome
for_recipient(r, outcome) := [o |
	some kind, o in _catalogue
	_applies(kind, r, outcome)
]

_wd(n) := {"amount": n, "unit": "working_days"}

_h(n) := {"amount": n, "unit": "hours"}

_d(n) := {"amount": n, "unit": "days"}

_o(kind, due, description, rule) := {"kind": kind, "due_in": due, "description": description, "rule": rule}

_catalogue := {
	"written_confirmation": _o("written_confirmation", _h(24), "Confirm this telephone referral in writing within 24 hours [CPSCP-Procedures, Responding to concerns about a child > Duty to co-operate and refer] (T06).", "I15"),
	"acknowledge_referral": _o("acknowledge_referral", _wd(1), "Children's social care acknowledges the referral within 1 working day [CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral] (T03).", "GR6"),
	"decide_referral": _o("decide_referral", _wd(1), "Children's social care decides the response within 1 working day and tells the referrer [CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral; CPSCP-Procedures, Threshold policy > Childrens Social Care] (T01, T05).", "GR6"),
	"review_urgent_share": _o("review_urgent_share", _wd(1), "Sent without waiting: a DSL, IG lead or named professional reviews this share and any missing authorisation afterwards [CPSCP-Procedures, Responding to concerns about a child > Responsibilities of agencies and organisations].", "I14"),
	"inform_subject": _o("inform_subject", null, "Tell the person (or the parents) that their information was shared and why, unless that would create or increase a risk of harm [CPSCP-Procedures, Responding to concerns about a child > Consulting parents; CPSCP-Procedures, Flowchart of when and how to share information].", "C8"),
	"strategy_cpch": _o("strategy_meeting", _wd(2), "Hold the CPCH strategy meeting or discussion, with adult care present, within 2 working days [CPCH-Policy, 6. Strategy Meeting/Safeguarding Enquiries] (T10).", "GR6"),
	"strategy_child_on_child": _o("strategy_meeting", _d(5), "Hold the multi-agency strategy meeting about abuse by a child within 5 days [DDSCP-RiskToOthers, 4. Children's Social Care Response] (T11).", "GR6"),
	"convene_amm": _o("convene_amm", _wd(3), "If the threshold is met, refer to police and convene the allegations management meeting within 3 working days [CPSCP-Procedures, LADO > 6. LADO Allegation Management Meetings (AMM)] (T22).", "GR6"),
	"transfer_in_conference": _o("transfer_in_conference", _wd(15), "Acknowledge the transfer, confirm in writing, and hold the transfer-in conference within 15 working days [CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to Another > Child Subject of a Child Protection Plan] (T29).", "GR6"),
	"transfer_written_follow_up": _o("written_follow_up", _wd(7), "Follow the move notice up in writing within 7 working days [CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to Another > Child Subject of a Child Protection Plan] (T30).", "GR6"),
	"icmd": _o("initial_case_management_discussion", _h(12), "Hold the initial case management discussion (health, police, social care) within 12 hours of death [CPSCP-Procedures, Child death > 4.5 Initial Case Management Discussion] (T33).", "GR6"),
	"safeguard_siblings": _o("safeguard_siblings", null, "Deliberate harm is suspected: consider the safety of siblings and other children at once [CPSCP-Procedures, Child death > 3.10.1 Social Care].", "GR5"),
	"trafficked_missing_to_police": _o("pass_risk_to_police", null, "A trafficked or unaccompanied child is missing: pass risk information to police immediately [CPSCP-Procedures, All Children Presenting Alone or with Adults who are Not Their Parents > Part 2 - Child Victims of Trafficking and/or Modern Slavery > Assessment] (T40).", "GR5"),
}

_shared(outcome) if outcome in {"share", "share_minimised", "share_urgent_review_after"}

_is(type) if input.message_type == type

_csc(r) if context.type_conf(r).column == "csc"

_applies("written_confirmation", r, _) if {
	_is("safeguarding_referral")
	input.initial_contact == "phone"
	context.protective(r)
}

_applies("acknowledge_referral", r, outcome) if {
	_is("safeguarding_referral")
	_csc(r)
	_shared(outcome)
}

_applies("decide_referral", r, outcome) if {
	_is("safeguarding_referral")
	_csc(r)
	_shared(outcome)
}

_applies("review_urgent_share", _, "share_urgent_review_after")

_applies("inform_subject", _, outcome) if {
	_shared(outcome)
	context.transparency_applies
	not _telling_is_risky
	not input.parental_position.parents_informed == true
}

_applies("strategy_cpch", _, outcome) if {
	_is("strategy_discussion_request")
	input.payload_facts.strategy_kind == "cpch"
	_shared(outcome)
}

_applies("strategy_child_on_child", _, outcome) if {
	_is("strategy_discussion_request")
	input.payload_facts.strategy_kind == "child_on_child"
	_shared(outcome)
}

_applies("convene_amm", r, outcome) if {
	_is("lado_allegation")
	context.agency_type(r) == "lado"
	_shared(outcome)
}

_applies("transfer_in_conference", r, outcome) if {
	_is("child_move_transfer")
	input.payload_facts.transfer_type == "cp_plan_transfer"
	context.agency_type(r) == "other_la_csc"
	_shared(outcome)
}

_applies("transfer_written_follow_up", r, outcome) if {
	_is("child_move_transfer")
	context.agency_type(r) == "other_la_csc"
	_shared(outcome)
}

_applies("icmd", r, outcome) if {
	_is("child_death_notification")
	context.agency_type(r) in {"police", "csc_front_door", "csc_team", "cdop", "health_acute", "health_community", "health_gp"}
	_shared(outcome)
}

_applies("safeguard_siblings", r, outcome) if {
	_is("child_death_notification")
	context.likely_harm
	_csc(r)
	_shared(outcome)
}

_applies("trafficked_missing_to_police", r, outcome) if {
	_is("missing_child")
	some tag in {"trafficking_modern_slavery", "unaccompanied_child"}
	context.tagged(tag)
	context.agency_type(r) == "police"
	_shared(outcome)
}

_telling_is_risky if {
	some code in context.exceptions
	code in config.risk_exceptions
}
