# METADATA
# title: Obligations that follow a share
# description: >-
#   Deadlines and follow-up tasks attached to one recipient's decision (timer ids T..
#   in the descriptions). Durations use the units of the source documents: working days,
#   hours or days, and school days (before the start of the nth next school day); due_in
#   null means "immediately / as soon as possible". The broker's clocks say which message
#   answers each obligation (broker/delivery/clocks.py).
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

# Before the start of the nth next school day: the broker's calendar knows the working days, the
# school day's start and the partnership's school holidays (broker/delivery/calendar.py).
_school_days(n) := {"amount": n, "unit": "school_days"}

_o(kind, due, description, rule) := {"kind": kind, "due_in": due, "description": description, "rule": rule}

_catalogue := {
	"written_confirmation": _o("written_confirmation", _h(24), "Confirm this telephone referral in writing within 24 hours [CPSCP-Procedures, Responding to concerns about a child > Duty to co-operate and refer] (T06).", "I15"),
	"acknowledge_referral": _o("acknowledge_referral", _wd(1), "Children's social care acknowledges the referral within 1 working day [CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral] (T03).", "GR6"),
	"decide_referral": _o("decide_referral", _wd(1), "Children's social care decides the response within 1 working day and tells the referrer [CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral; CPSCP-Procedures, Threshold policy > Childrens Social Care] (T01, T05).", "GR6"),
	"review_urgent_share": _o("review_urgent_share", _wd(1), "Sent without waiting: a DSL, IG lead or named professional reviews this share and any missing authorisation afterwards [CPSCP-Procedures, Responding to concerns about a child > Responsibilities of agencies and organisations].", "I14"),
	"inform_adult": _o("inform_subject", null, "Tell the person that their information was shared and why, unless that would create or increase a risk of harm [CPSCP-Procedures, Flowchart of when and how to share information].", "C8"),
	"inform_subject": _o("inform_subject", null, "Tell the person (or the parents) that their information was shared and why, unless that would create or increase a risk of harm [CPSCP-Procedures, Responding to concerns about a child > Consulting parents; CPSCP-Procedures, Flowchart of when and how to share information].", "C8"),
	"inform_young_person_only": _o("inform_subject", null, "Tell the young person that their information was shared and why, not their parents, as the young person, able to decide, asked, unless telling them would create or increase a risk of harm [CPSCP-Procedures, Self-harm > Information Sharing and Consent; CPSCP-Procedures, Flowchart of when and how to share information].", "GR2"),
	"inform_young_person": _o("inform_subject", null, "Tell the young person, never the family or community, that their information was shared and why, unless that would create or increase a risk of harm [CPSCP-Procedures, Forced marriage > 6. Issues; CPSCP-Procedures, Flowchart of when and how to share information].", "I19"),
	"inform_adult_alone": _o("inform_subject", null, "Tell the person, never the family or community, that their information was shared and why, unless that would create or increase a risk of harm [CPSCP-Procedures, Forced marriage > 6. Issues; CPSCP-Procedures, Flowchart of when and how to share information].", "I19"),
	"strategy_cpch": _o("strategy_meeting", _wd(2), "Hold the CPCH strategy meeting or discussion, with adult care present, within 2 working days of the CPCH referral; a strategy discussion request answers this [CPCH-Policy, 6. Strategy Meeting/Safeguarding Enquiries] (T10).", "GR6"),
	"strategy_child_on_child": _o("strategy_meeting", {"amount": 5, "unit": "unclear_days"}, "Hold the multi-agency strategy meeting about abuse by a child within 5 days (days or working days, as the partnership has set: the source does not say) [DDSCP-RiskToOthers, 4. Children's Social Care Response] (T11).", "GR6"),
	"icpc": _o("initial_child_protection_conference", {"amount": 15, "unit": "unclear_days"}, "Hold the initial child protection conference within 15 days of the section 47 outcome that decided it (days or working days, as the partnership has set: the source does not say); the conference invitation, in reply, answers this [DDSCP-RiskToOthers, 4. Children's Social Care Response] (T12).", "GR6"),
	"convene_amm": _o("convene_amm", _wd(3), "If the threshold is met, refer to police and hold the allegations management meeting within 3 working days; its record (a LADO allegation at stage amm_record, in reply), or the outcome if no meeting is needed, answers this [CPSCP-Procedures, LADO > 6. LADO Allegation Management Meetings (AMM)] (T22).", "GR6"),
	"transfer_in_conference": _o("transfer_in_conference", _wd(15), "Acknowledge the transfer, confirm in writing, and hold the transfer-in conference within 15 working days [CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to Another > Child Subject of a Child Protection Plan] (T29).", "GR6"),
	"transfer_written_follow_up": _o("written_follow_up", _wd(7), "The transferring authority follows the move notice up in writing within 7 working days [CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to Another > Child Subject of a Child Protection Plan] (T30).", "GR6"),
	"icmd": object.union(_o("initial_case_management_discussion", _h(12), "Hold the initial case management discussion (health, police, social care) within 12 hours of the death being confirmed, and send its minuted record (a child death notification at stage icmd_record, in reply) [CPSCP-Procedures, Child death > 4.5 Initial Case Management Discussion] (T33).", "GR6"), {"starts_at": "payload.died_at"}),
	"safeguard_siblings": _o("safeguard_siblings", null, "Deliberate harm is suspected: consider the safety of siblings and other children at once [CPSCP-Procedures, Child death > 3.10.1 Social Care].", "GR5"),
	"separate_social_workers": _o("separate_social_workers", null, "Allocate separate social workers to the harmed child and the child who harmed wherever possible, or record why not [DDSCP-RiskToOthers, 4. Children's Social Care Response].", "GR5"),
	"assess_adult_risk": _o("assess_adult_risk", null, "Assess the information about the adult and act to protect the children in contact with them [CPSCP-Procedures, Identification of Individuals who Pose a Risk to Children > 2. Management of Individuals who Pose a Risk of Harm to Children].", "GR5"),
	"before_school_day": _o("acknowledge_before_school_day", _school_days(1), "The school's DSL reads this before the start of the next school day (working days less the partnership's school holidays), so staff can support the pupil [CPSCP-Procedures, Significant harm > Categories of Abuse and Neglect]; the timing is partnership configuration.", "GR6"),
	"give_advice": _o("give_advice", _wd(1), "Answer the practitioner's question (an advice_request at stage advice_given, in reply) and record the advice and its outcome; the sources set no time, so 1 working day is partnership configuration: the practitioner is waiting to decide [CPSCP-Procedures, Flowchart of when and how to share information].", "GR3"),
	"review_early_help_plan": _o("review_early_help_plan", _d(90), "Review the early help plan with the family and the team around them at least every 3 months [CPCH-Policy, 7. Assessment and Planning]; share it only with the agencies the family agreed to.", "GR6"),
	"discharge_strategy": _o("strategy_before_discharge", _wd(1), "Answer within 1 working day, as for any referral, with a strategy discussion request or a referral outcome: the child stays in hospital until children's social care of the hospital's area and of the home area know and a strategy meeting or discussion has been held if appropriate [CPSCP-Procedures, Responding to concerns about a child > Seeking urgent medical attention] (T42).", "GR5"),
	"osman_strategy": _o("strategy_discussion_now", null, "Start a strategy discussion and consider immediate safeguarding action for the child [CPSCP-Procedures, Gangs > 4. Protection and Action to be Taken].", "GR5"),
	"transition_review": _o("join_transition_review", null, "Join the young person's next review or conference and put adult services in place before they turn 18 [DDSCP-RiskToOthers, 7. Transition of Young People, who are seen to pose Sexual Risk to others, to Adult Services] (T14).", "GR6"),
	"nrm_police_risk": _o("act_on_trafficking_risk", null, "Act at once on the risk to the child; the NRM referral runs beside child protection procedures, never instead of them [CPSCP-Procedures, All Children Presenting Alone or with Adults who are Not Their Parents > Referring a Potential Victim of Modern Slavery to the National Referral Mechanism (NRM)] (T41).", "GR5"),
	"prevent_assessment": _o("consider_multi_agency_assessment", null, "Discuss the concern with the named or designated professional and, if there are grounds, convene a multi-agency assessment; a violent act imminent or weapons held is a 999 matter [CPSCP-Procedures, Violent extremism > 3. Referral and Intervention Processes].", "GR5"),
	"police_protection": _o("respond_to_police_protection", null, "A child is in police protection: children's social care (the Emergency Duty Team out of hours) takes responsibility for the child's safety now [CPSCPB-CSA-Strategy, Section Two > Agency and professional responsibilities > Responsibility of Police].", "GR5"),
	"trafficked_missing_to_police": _o("pass_risk_to_police", null, "A trafficked or unaccompanied child is missing: pass risk information to police immediately [CPSCP-Procedures, All Children Presenting Alone or with Adults who are Not Their Parents > Part 2 - Child Victims of Trafficking and/or Modern Slavery > Assessment] (T40).", "GR5"),
	"written_confirmation_peer": _o("written_confirmation", _h(24), "Confirm this telephone referral in writing within 24 hours [CPSCP-Procedures, Responding to concerns about a child > Duty to co-operate and refer; DDSCP-RiskToOthers, 5. Sexual Abuse > Consent] (T06).", "I15"),
	"consider_new_information": _o("consider_new_information", null, "The allocated social worker or case manager considers the new information; out of hours the emergency duty team acts if the concern is high [CPSCP-Procedures, Responding to concerns about a child > Duty to co-operate and refer] (T08).", "GR6"),
	"decide_investigation": _o("decide_investigation", null, "Decide whether to start a criminal investigation and plan with children's social care how the parents are told without jeopardising it [CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral > Where a Crime may have been Committed] (T07).", "GR5"),
	"join_s47_strategy": _o("join_s47_strategy", null, "The child is moving during section 47 enquiries: join the strategy discussions; if the risk of significant harm continues, convene the initial conference within statutory timescales [CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to Another > Child Subject To Section 47 Enquiries] (T31).", "GR5"),
	"conference_report": _o("send_conference_report", null, "Send the agency's report to the conference (as a cp_conference report in reply) and attend; reports are shared with the family in a language or medium they understand [CPSCP-Procedures, Communication difficulties > 4. Using Interpreters with Family Members].", "GR6"),
	"review_cin_first": _o("next_plan_review", _d(90), "The child in need plan is first reviewed at 3 months; the next plan review notice answers this [DDSCP-RiskToOthers, 4. Children's Social Care Response] (T13).", "GR6"),
	"review_cin": _o("next_plan_review", _d(120), "The child in need plan is reviewed every 4 months after the first review; the next plan review notice answers this [DDSCP-RiskToOthers, 4. Children's Social Care Response] (T13).", "GR6"),
	"review_cpch": _o("next_plan_review", _d(42), "The CPCH plan is formally reviewed every 4-6 weeks; the next plan review notice answers this [CPCH-Policy, 7. Assessment and Planning] (T17).", "GR6"),
	"review_early_help": _o("next_plan_review", _d(90), "The early help plan is reviewed at least every 3 months; the next plan review notice answers this [CPCH-Policy, 7. Assessment and Planning] (T17).", "GR6"),
	"review_safety_plan": _o("next_plan_review", _d(42), "The safety plan is reviewed every 6 weeks; the next plan review notice answers this [CPCH-Policy, 8. Safety Planning] (T18).", "GR6"),
	"prebirth_assessment": _o("prebirth_assessment", null, "Start the pre-birth assessment now and complete it at least 4 weeks before the expected delivery date; disclose it to the parents on completion [CPSCP-Procedures, Child and family assessment > 1.1 Pre-birth 'Good Practice Steps'] (T16).", "GR5"),
	"closure_implications": _o("consider_closure_implications", null, "An adult service is closing its work with a parent: consider what that means for the children before the case closes [CPSCP-Procedures, Misuse of substances > 4. Protection and Action to be Taken].", "GR5"),
	"prohibited_dog": _o("act_on_prohibited_dog", null, "A prohibited dog is reported: act on it now [CPSCP-Procedures, Dangerous dogs > Dangerous Dogs] (T43).", "GR5"),
	"answer_escalation": _o("answer_escalation", _wd(1), "Give the referrer a decision (a referral outcome in reply) within 1 working day: the referral has waited 3 working days or its decision is disputed; 1 working day is partnership configuration [CPSCP-Procedures, Responding to concerns about a child > Duty to co-operate and refer] (T04, T05).", "GR6"),
	"suicide_discussion": _o("attend_multi_agency_discussion", null, "Join the multi-agency discussion about the young person and their siblings; the school is invited [CPSCP-Procedures, Suicide > 2. Triggering a multi-agency response in the serious suicide attempt or death of a young person from suicide].", "GR5"),
	"cdr_meeting": _o("cdr_information_sharing_meeting", _wd(5), "The child death review information-sharing meeting is held within 5 working days of the death; the meeting record (a suicide_response in reply) answers this [CPSCP-Procedures, Suicide > 2. Triggering a multi-agency response in the serious suicide attempt or death of a young person from suicide] (T38).", "GR6"),
	"suicide_review": _o("review_suicide_response", _d(28), "Review the support put in place 4 weeks after the event; the next suicide_response in reply answers this [CPSCP-Procedures, Suicide > 2. Triggering a multi-agency response in the serious suicide attempt or death of a young person from suicide] (T39).", "GR6"),
	"scene_documentation": object.union(_o("scene_documentation_to_pathologist", _wd(1), "Share the documentation of the scene-of-death visit and of the discussion with the parents with the pathologist within 24 hours of the visit, counted over the working week (1 working day: a visit on Friday evening is due on Monday evening, one at the weekend by the end of Monday); the documentation (a child death notification at stage scene_documentation, in reply) answers this, and Form B goes to the CDOP Manager [CPSCP-Procedures, Child death > 3.6.1 On call Health Professional] (T34).", "GR6"), {"starts_at": "payload.scene_visit_at"}),
	"pm_provisional_report": object.union(_o("post_mortem_provisional_report", _wd(5), "Send the Coroner the provisional post-mortem report, with a preliminary cause of death where possible and the retained samples, within 5 working days of the examination; the report (a child death notification at stage pm_provisional_report, or pm_complete_report, in reply) answers this [CPSCP-Procedures, Child death > 3.9 Role of Coroner and Pathologist] (T35).", "GR6"), {"starts_at": "payload.post_mortem_at"}),
	"pm_complete_report": object.union(_o("post_mortem_complete_report", _d(7), "No complex investigations are awaited: send the Coroner the complete post-mortem report within one week of the examination; the report (a child death notification at stage pm_complete_report, in reply) answers this [CPSCP-Procedures, Child death > 3.9 Role of Coroner and Pathologist] (T35).", "GR6"), {"starts_at": "payload.post_mortem_at"}),
	"pm_further_results": _o("post_mortem_further_results", null, "Complex investigations are awaited: send the Coroner their results, with a commentary or conclusions and the stated cause of death, within one week of the findings being available (not timed here: the broker does not hear when they are) [CPSCP-Procedures, Child death > 3.9 Role of Coroner and Pathologist] (T35).", "GR6"),
	"marac_cpch": _o("refer_to_marac", null, "The parent or carer is at high risk and the child causing harm is 16 or over: make a MARAC referral (a marac_referral), where a DASH risk assessment is undertaken [CPCH-Policy, 5. Response to the Parent/Carer].", "GR5"),
	"marac_cpch_under_16": _o("consider_marac", null, "The parent or carer is at high risk and the child causing harm is under 16 (or their age is not given): no MARAC referral is required, but MARAC may consider one case by case; at 16 or over a referral should be made [CPCH-Policy, 5. Response to the Parent/Carer].", "GR5"),
}

_shared(outcome) if outcome in {"share", "share_minimised", "share_urgent_review_after"}

_is(type) if input.message_type == type

_csc(r) if context.type_conf(r).column == "csc"

_applies("written_confirmation", r, _) if {
	_is("safeguarding_referral")
	input.initial_contact == "phone"
	context.protective(r)
}

_referral_types := {"safeguarding_referral", "child_on_child_harm_referral", "prebirth_concern", "dog_injury_referral"}

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
	not context.tagged("forced_marriage")
	not _parents_not_to_be_told
	not input.message_type in config.adult_message_types
}

_applies("inform_adult", _, outcome) if {
	_shared(outcome)
	context.transparency_applies
	not _telling_is_risky
	not input.parental_position.parents_informed == true
	not context.tagged("forced_marriage")
	not _parents_not_to_be_told
	input.message_type in config.adult_message_types
}

_applies("inform_young_person_only", _, outcome) if {
	_shared(outcome)
	context.transparency_applies
	not _telling_is_risky
	not context.tagged("forced_marriage")
	_parents_not_to_be_told
}

_parents_not_to_be_told if {
	input.parental_position.child_asked_not_told == true
	not input.parental_position.parents_informed == true
	context.competent_child
}

# Forced marriage: the young person is told, never the parents (I19); an adult in words about them.
_applies("inform_young_person", _, outcome) if {
	_shared(outcome)
	context.transparency_applies
	not _telling_is_risky
	context.tagged("forced_marriage")
	not input.message_type in config.adult_message_types
}

_applies("inform_adult_alone", _, outcome) if {
	_shared(outcome)
	context.transparency_applies
	not _telling_is_risky
	context.tagged("forced_marriage")
	input.message_type in config.adult_message_types
}

_applies("strategy_cpch", r, outcome) if {
	_is("safeguarding_referral")
	context.tagged("cpch")
	_csc(r)
	_shared(outcome)
}

_applies("strategy_cpch", _, outcome) if {
	_is("strategy_discussion_request")
	input.payload_facts.strategy_kind == "cpch"
	_shared(outcome)
}

_applies("marac_cpch", _, outcome) if {
	_is("safeguarding_referral")
	context.tagged("cpch")
	input.risk.da_high_risk_marac == true
	_cpch_child_aged_16_or_17
	_shared(outcome)
}

_applies("marac_cpch_under_16", _, outcome) if {
	_is("safeguarding_referral")
	context.tagged("cpch")
	input.risk.da_high_risk_marac == true
	not _cpch_child_aged_16_or_17
	_shared(outcome)
}

_cpch_child_aged_16_or_17 if {
	some i
	input.subjects[i].role_in_case in {"child", "alleged_perpetrator"}
	input.subjects[i].age_years >= 16
	input.subjects[i].age_years <= 17
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
	not input.payload_facts.stage == "advice_given"
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
	object.get(input.payload_facts, "stage", "referral") == "referral"
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
	object.get(input.payload_facts, "stage", "notification") == "notification"
	context.agency_type(r) in {"police", "csc_front_door", "csc_team", "cdop", "health_acute", "health_community", "health_gp"}
	_shared(outcome)
}

_applies("scene_documentation", r, outcome) if {
	_is("child_death_notification")
	_stage_or_notice in {"notification", "icmd_record"}
	input.payload_fields.scene_visit_at
	_sender_owes_scene_documentation
	context.agency_type(r) == "pathologist"
	_shared(outcome)
}

_stage_or_notice := object.get(input.payload_facts, "stage", "notification")

_sender_owes_scene_documentation if {
	some type in context.mt.stage_sender_types.scene_documentation
	type == context.sender_type
}

_applies("pm_provisional_report", r, outcome) if {
	_is("child_death_notification")
	input.payload_facts.stage == "post_mortem_held"
	context.agency_type(r) == "pathologist"
	_shared(outcome)
}

_applies("pm_complete_report", r, outcome) if {
	_is("child_death_notification")
	input.payload_facts.stage == "pm_provisional_report"
	not input.payload_fields.complex_investigations
	context.agency_type(r) == "coroner"
	_shared(outcome)
}

_applies("pm_further_results", r, outcome) if {
	_is("child_death_notification")
	input.payload_facts.stage == "pm_provisional_report"
	input.payload_fields.complex_investigations
	context.agency_type(r) == "coroner"
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

_applies("written_confirmation_peer", r, _) if {
	_is("child_on_child_harm_referral")
	input.initial_contact == "phone"
	context.protective(r)
}

_applies("consider_new_information", r, outcome) if {
	_is("additional_information")
	_csc(r)
	_shared(outcome)
}

_applies("decide_investigation", r, outcome) if {
	_is("crime_notification")
	context.agency_type(r) == "police"
	_shared(outcome)
}

_applies("icpc", _, outcome) if {
	_is("s47_enquiry")
	input.payload_facts.stage == "outcome"
	input.payload_facts.icpc_required == "true"
	_shared(outcome)
}

_applies("join_s47_strategy", r, outcome) if {
	_is("s47_enquiry")
	input.payload_facts.stage == "enquiry_notice"
	context.agency_type(r) == "other_la_csc"
	_shared(outcome)
}

_applies("conference_report", _, outcome) if {
	_is("cp_conference")
	input.payload_facts.stage == "invitation"
	_shared(outcome)
}

_plan_reviews := {
	"cin_first_review": "review_cin_first", "cin_review": "review_cin", "cpch_plan": "review_cpch",
	"early_help_plan": "review_early_help", "safety_plan": "review_safety_plan",
}

_applies(kind, _, outcome) if {
	_is("plan_review_notice")
	kind == _plan_reviews[input.payload_facts.plan_kind]
	_shared(outcome)
}

_applies("prebirth_assessment", r, outcome) if {
	_is("prebirth_concern")
	_csc(r)
	_shared(outcome)
}

_applies("closure_implications", r, outcome) if {
	_is("case_closure_notice")
	_csc(r)
	_shared(outcome)
}

_applies("prohibited_dog", r, outcome) if {
	_is("dog_injury_referral")
	input.payload_facts.stage == "prohibited_dog"
	context.agency_type(r) == "police"
	_shared(outcome)
}

_applies("answer_escalation", r, outcome) if {
	_is("professional_disagreement")
	_csc(r)
	_shared(outcome)
}

_applies("suicide_discussion", _, outcome) if {
	_is("suicide_response")
	input.payload_facts.stage == "serious_attempt"
	_shared(outcome)
}

_applies("cdr_meeting", _, outcome) if {
	_is("suicide_response")
	input.payload_facts.stage == "death"
	_shared(outcome)
}

_applies("suicide_review", _, outcome) if {
	_is("suicide_response")
	input.payload_facts.stage == "meeting_record"
	_shared(outcome)
}

_telling_is_risky if {
	some code in context.exceptions
	code in config.risk_exceptions
}
