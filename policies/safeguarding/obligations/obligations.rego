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
	"separate_social_workers": _o("separate_social_workers", null, "Allocate separate social workers to the harmed child and the child who harmed wherever possible, or record why not [DDSCP-RiskToOthers, 4. Children's Social Care Response].", "GR5"),
	"assess_adult_risk": _o("assess_adult_risk", null, "Assess the information about the adult and act to protect the children in contact with them [CPSCP-Procedures, Identification of Individuals who Pose a Risk to Children > 2. Management of Individuals who Pose a Risk of Harm to Children].", "GR5"),
	"before_school_day": _o("acknowledge_before_school_day", _h(school_day_hours), "The school's DSL reads this before the start of the next school day (08:30 on the next weekday), so staff can support the pupil [CPSCP-Procedures, Significant harm > Categories of Abuse and Neglect]; the timing is partnership configuration.", "GR6"),
	"give_advice": _o("give_advice", null, "Answer the practitioner's question and record the advice and its outcome; the sources set no time, but the practitioner is waiting to decide [CPSCP-Procedures, Flowchart of when and how to share information].", "GR3"),
	"review_early_help_plan": _o("review_early_help_plan", _d(90), "Review the early help plan with the family and the team around them at least every 3 months [CPCH-Policy, 7. Assessment and Planning]; share it only with the agencies the family agreed to.", "GR6"),
	"discharge_strategy": _o("strategy_before_discharge", null, "The child stays in hospital until children's social care of the hospital's area and of the home area know and a strategy meeting or discussion has been held if appropriate [CPSCP-Procedures, Responding to concerns about a child > Seeking urgent medical attention] (T42).", "GR5"),
	"osman_strategy": _o("strategy_discussion_now", null, "Start a strategy discussion and consider immediate safeguarding action for the child [CPSCP-Procedures, Gangs > 4. Protection and Action to be Taken].", "GR5"),
	"transition_review": _o("join_transition_review", null, "Join the young person's next review or conference and put adult services in place before they turn 18 [DDSCP-RiskToOthers, 7. Transition of Young People, who are seen to pose Sexual Risk to others, to Adult Services] (T14).", "GR6"),
	"nrm_police_risk": _o("act_on_trafficking_risk", null, "Act at once on the risk to the child; the NRM referral runs beside child protection procedures, never instead of them [CPSCP-Procedures, All Children Presenting Alone or with Adults who are Not Their Parents > Referring a Potential Victim of Modern Slavery to the National Referral Mechanism (NRM)] (T41).", "GR5"),
	"prevent_assessment": _o("consider_multi_agency_assessment", null, "Discuss the concern with the named or designated professional and, if there are grounds, convene a multi-agency assessment; a violent act imminent or weapons held is a 999 matter [CPSCP-Procedures, Violent extremism > 3. Referral and Intervention Processes].", "GR5"),
	"police_protection": _o("respond_to_police_protection", null, "A child is in police protection: children's social care (the Emergency Duty Team out of hours) takes responsibility for the child's safety now [CPSCPB-CSA-Strategy, Section Two > Agency and professional responsibilities > Responsibility of Police].", "GR5"),
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

_referral_types := {"safeguarding_referral", "child_on_child_harm_referral"}

_applies("acknowledge_referral", r, outcome) if {
	input.message_type in _referral_types
	_csc(r)
	_shared(outcome)
}

_applies("decide_referral", r, outcome) if {
	input.message_type in _referral_types
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

_applies("strategy_child_on_child", r, outcome) if {
	_is("child_on_child_harm_referral")
	_csc(r)
	_shared(outcome)
}

_applies("separate_social_workers", r, outcome) if {
	_is("child_on_child_harm_referral")
	_csc(r)
	_shared(outcome)
}

_applies("assess_adult_risk", r, outcome) if {
	input.message_type in {"adult_risk_information", "offender_risk_information"}
	_csc(r)
	_shared(outcome)
}

_applies("before_school_day", r, outcome) if {
	_is("domestic_abuse_school_notification")
	context.type_conf(r).column == "school"
	_shared(outcome)
}

_applies("give_advice", _, outcome) if {
	_is("advice_request")
	_shared(outcome)
}

_applies("review_early_help_plan", _, outcome) if {
	_is("early_help_assessment_share")
	_shared(outcome)
}

_applies("discharge_strategy", r, outcome) if {
	_is("hospital_discharge_hold")
	context.protective(r)
	_shared(outcome)
}

_applies("osman_strategy", r, outcome) if {
	_is("osman_warning_referral")
	context.protective(r)
	_shared(outcome)
}

_applies("transition_review", r, outcome) if {
	_is("transition_to_adult_services")
	context.agency_type(r) == "asc"
	_shared(outcome)
}

_applies("nrm_police_risk", r, outcome) if {
	_is("nrm_referral")
	context.agency_type(r) == "police"
	_shared(outcome)
}

_applies("prevent_assessment", r, outcome) if {
	_is("radicalisation_concern")
	context.agency_type(r) in {"police", "channel_panel"}
	_shared(outcome)
}

_applies("police_protection", r, outcome) if {
	_is("police_protection_notice")
	_csc(r)
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

# METADATA
# title: Whole hours from now to the start of the next school day
# description: >-
#   08:30 Europe/London on the next weekday (today if before 08:30), rounded down so the
#   clock never runs past the school day's start. School holidays and INSET days are the
#   broker calendar's to add (a `school_day_start` unit); until then weekdays stand in.
school_day_hours := floor((((_days_to_school_day * 1440) + _school_start) - _minutes_now) / 60)

_school_start := 510

_tz := "Europe/London"

_minutes_now := (time.clock([time.now_ns(), _tz])[0] * 60) + time.clock([time.now_ns(), _tz])[1]

_days_to_school_day := 0 if {
	not time.weekday([time.now_ns(), _tz]) in {"Saturday", "Sunday"}
	_minutes_now < _school_start
} else := 3 if {
	time.weekday([time.now_ns(), _tz]) == "Friday"
} else := 2 if {
	time.weekday([time.now_ns(), _tz]) == "Saturday"
} else := 1
