# METADATA
# title: Obligations that follow a share
# description: >-
#   Deadlines and follow-up tasks attached to one recipient's decision (timer ids T.. in the
#   descriptions), in the source documents' units (school days: before the start of the nth next
#   school day); due_in null means "immediately / as soon as possible"; starts_at names the payload
#   time a clock runs from when the source counts from an event (the death), not from the notice of
#   it. The broker's clocks say which message answers each obligation (broker/delivery/clocks.py).
package safeguarding.obligations

import data.safeguarding.config
import data.safeguarding.context

# METADATA
# title: Obligations for one recipient and outcome
for_recipient(r, outcome) := [_catalogue[kind] |
	some kind in _candidates
	_applies(kind, r, outcome)
]

# Only the obligations a notification of this type can carry are tried, in the catalogue's (key)
# order: each `_applies` rule below names its message type(s), except those that follow any share: the
# review of an urgent share, and the one duty to tell someone afterwards that the notification carries
# (`_inform`, informing.rego), chosen once for all its recipients.
_candidates := sort(array.concat(array.concat(_inform, ["review_urgent_share"]), object.get(_kinds_by_type, input.message_type, [])))

_kinds_by_type := {
	"safeguarding_referral": ["acknowledge_referral", "decide_referral", "marac_cpch", "marac_cpch_under_16", "strategy_cpch", "written_confirmation"],
	"child_on_child_harm_referral": ["acknowledge_referral", "decide_referral", "separate_social_workers", "strategy_child_on_child", "written_confirmation_peer"],
	"prebirth_concern": ["acknowledge_referral", "decide_referral", "prebirth_assessment"],
	"dog_injury_referral": ["acknowledge_referral", "decide_referral", "prohibited_dog"],
	"strategy_discussion_request": ["strategy_child_on_child", "strategy_cpch"],
	"adult_risk_information": ["assess_adult_risk"],
	"offender_risk_information": ["assess_adult_risk"],
	"domestic_abuse_school_notification": ["before_school_day"],
	"advice_request": ["give_advice"],
	"early_help_assessment_share": ["review_early_help_plan"],
	"hospital_discharge_hold": ["discharge_strategy"],
	"osman_warning_referral": ["osman_strategy"],
	"transition_to_adult_services": ["transition_review"],
	"nrm_referral": ["nrm_police_risk"],
	"radicalisation_concern": ["prevent_assessment"],
	"police_protection_notice": ["police_protection"],
	"lado_allegation": ["convene_amm"],
	"child_move_transfer": ["transfer_in_conference", "transfer_written_follow_up"],
	"child_death_notification": ["icmd", "pm_complete_report", "pm_further_results", "pm_provisional_report", "safeguard_siblings", "scene_documentation"],
	"missing_child": ["trafficked_missing_to_police"],
	"additional_information": ["consider_new_information"],
	"crime_notification": ["decide_investigation"],
	"s47_enquiry": ["icpc", "join_s47_strategy"],
	"cp_conference": ["conference_report"],
	"plan_review_notice": ["review_cin", "review_cin_first", "review_cpch", "review_early_help", "review_safety_plan"],
	"case_closure_notice": ["closure_implications"],
	"professional_disagreement": ["answer_escalation"],
	"suicide_response": ["cdr_meeting", "suicide_discussion", "suicide_review"],
}

# Two literal objects, constants joined once per query (a complete rule): this file's and the
# child-death clocks' (child_death.rego). A unit may also be unclear_days (the source says "days"
# without saying which: the partnership decides); broker/delivery/calendar.py counts school days.
_catalogue := object.union(_general_catalogue, _child_death_catalogue)

_general_catalogue := {
	"written_confirmation": {"kind": "written_confirmation", "due_in": {"amount": 24, "unit": "hours"}, "description": "Confirm this telephone referral in writing within 24 hours [CPSCP-Procedures, Responding to concerns about a child > Duty to co-operate and refer] (T06).", "rule": "I15"},
	"acknowledge_referral": {"kind": "acknowledge_referral", "due_in": {"amount": 1, "unit": "working_days"}, "description": "Children's social care acknowledges the referral within 1 working day [CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral] (T03).", "rule": "GR6"},
	"decide_referral": {"kind": "decide_referral", "due_in": {"amount": 1, "unit": "working_days"}, "description": "Children's social care decides the response within 1 working day and tells the referrer [CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral; CPSCP-Procedures, Threshold policy > Childrens Social Care] (T01, T05).", "rule": "GR6"},
	"review_urgent_share": {"kind": "review_urgent_share", "due_in": {"amount": 1, "unit": "working_days"}, "description": "Sent without waiting: a DSL, IG lead or named professional reviews this share and any missing authorisation afterwards [CPSCP-Procedures, Responding to concerns about a child > Responsibilities of agencies and organisations].", "rule": "I14"},
	"inform_adult": {"kind": "inform_subject", "due_in": null, "description": "Tell the person that their information was shared and why, unless that would create or increase a risk of harm [CPSCP-Procedures, Flowchart of when and how to share information].", "rule": "C8"},
	"inform_subject": {"kind": "inform_subject", "due_in": null, "description": "Tell the person (or the parents) that their information was shared and why, unless that would create or increase a risk of harm [CPSCP-Procedures, Responding to concerns about a child > Consulting parents; CPSCP-Procedures, Flowchart of when and how to share information].", "rule": "C8"},
	"inform_young_person_only": {"kind": "inform_subject", "due_in": null, "description": "Tell the young person that their information was shared and why, not their parents, as the young person, able to decide, asked, unless telling them would create or increase a risk of harm [CPSCP-Procedures, Self-harm > Information Sharing and Consent; CPSCP-Procedures, Flowchart of when and how to share information].", "rule": "GR2"},
	"inform_young_person": {"kind": "inform_subject", "due_in": null, "description": "Tell the young person, never the family or community, that their information was shared and why, unless that would create or increase a risk of harm [CPSCP-Procedures, Forced marriage > 6. Issues; CPSCP-Procedures, Flowchart of when and how to share information].", "rule": "I19"},
	"inform_adult_alone": {"kind": "inform_subject", "due_in": null, "description": "Tell the person, never the family or community, that their information was shared and why, unless that would create or increase a risk of harm [CPSCP-Procedures, Forced marriage > 6. Issues; CPSCP-Procedures, Flowchart of when and how to share information].", "rule": "I19"},
	"strategy_cpch": {"kind": "strategy_meeting", "due_in": {"amount": 2, "unit": "working_days"}, "description": "Hold the CPCH strategy meeting or discussion, with adult care present, within 2 working days of the CPCH referral; a strategy discussion request answers this [CPCH-Policy, 6. Strategy Meeting/Safeguarding Enquiries] (T10).", "rule": "GR6"},
	"strategy_child_on_child": {"kind": "strategy_meeting", "due_in": {"amount": 5, "unit": "unclear_days"}, "description": "Hold the multi-agency strategy meeting about abuse by a child within 5 days (days or working days, as the partnership has set: the source does not say) [DDSCP-RiskToOthers, 4. Children's Social Care Response] (T11).", "rule": "GR6"},
	"icpc": {"kind": "initial_child_protection_conference", "due_in": {"amount": 15, "unit": "unclear_days"}, "description": "Hold the initial child protection conference within 15 days of the section 47 outcome that decided it (days or working days, as the partnership has set: the source does not say); the conference invitation, in reply, answers this [DDSCP-RiskToOthers, 4. Children's Social Care Response] (T12).", "rule": "GR6"},
	"convene_amm": {"kind": "convene_amm", "due_in": {"amount": 3, "unit": "working_days"}, "description": "If the threshold is met, refer to police and hold the allegations management meeting within 3 working days; its record (a LADO allegation at stage amm_record, in reply), or the outcome if no meeting is needed, answers this [CPSCP-Procedures, LADO > 6. LADO Allegation Management Meetings (AMM)] (T22).", "rule": "GR6"},
	"transfer_in_conference": {"kind": "transfer_in_conference", "due_in": {"amount": 15, "unit": "working_days"}, "description": "Acknowledge the transfer, confirm in writing, and hold the transfer-in conference within 15 working days [CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to Another > Child Subject of a Child Protection Plan] (T29).", "rule": "GR6"},
	"transfer_written_follow_up": {"kind": "written_follow_up", "due_in": {"amount": 7, "unit": "working_days"}, "description": "The transferring authority follows the move notice up in writing within 7 working days [CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to Another > Child Subject of a Child Protection Plan] (T30).", "rule": "GR6"},
	"separate_social_workers": {"kind": "separate_social_workers", "due_in": null, "description": "Allocate separate social workers to the harmed child and the child who harmed wherever possible, or record why not [DDSCP-RiskToOthers, 4. Children's Social Care Response].", "rule": "GR5"},
	"assess_adult_risk": {"kind": "assess_adult_risk", "due_in": null, "description": "Assess the information about the adult and act to protect the children in contact with them [CPSCP-Procedures, Identification of Individuals who Pose a Risk to Children > 2. Management of Individuals who Pose a Risk of Harm to Children].", "rule": "GR5"},
	"before_school_day": {"kind": "acknowledge_before_school_day", "due_in": {"amount": 1, "unit": "school_days"}, "description": "The school's DSL reads this before the start of the next school day (working days less the partnership's school holidays), so staff can support the pupil [CPSCP-Procedures, Significant harm > Categories of Abuse and Neglect]; the timing is partnership configuration.", "rule": "GR6"},
	"give_advice": {"kind": "give_advice", "due_in": {"amount": 1, "unit": "working_days"}, "description": "Answer the practitioner's question (an advice_request at stage advice_given, in reply) and record the advice and its outcome; the sources set no time, so 1 working day is partnership configuration: the practitioner is waiting to decide [CPSCP-Procedures, Flowchart of when and how to share information].", "rule": "GR3"},
	"review_early_help_plan": {"kind": "review_early_help_plan", "due_in": {"amount": 90, "unit": "days"}, "description": "Review the early help plan with the family and the team around them at least every 3 months [CPCH-Policy, 7. Assessment and Planning]; share it only with the agencies the family agreed to.", "rule": "GR6"},
	"discharge_strategy": {"kind": "strategy_before_discharge", "due_in": {"amount": 1, "unit": "working_days"}, "description": "Answer within 1 working day, as for any referral, with a strategy discussion request or a referral outcome: the child stays in hospital until children's social care of the hospital's area and of the home area know and a strategy meeting or discussion has been held if appropriate [CPSCP-Procedures, Responding to concerns about a child > Seeking urgent medical attention] (T42).", "rule": "GR5"},
	"osman_strategy": {"kind": "strategy_discussion_now", "due_in": null, "description": "Start a strategy discussion and consider immediate safeguarding action for the child [CPSCP-Procedures, Gangs > 4. Protection and Action to be Taken].", "rule": "GR5"},
	"transition_review": {"kind": "join_transition_review", "due_in": null, "description": "Join the young person's next review or conference and put adult services in place before they turn 18 [DDSCP-RiskToOthers, 7. Transition of Young People, who are seen to pose Sexual Risk to others, to Adult Services] (T14).", "rule": "GR6"},
	"nrm_police_risk": {"kind": "act_on_trafficking_risk", "due_in": null, "description": "Act at once on the risk to the child; the NRM referral runs beside child protection procedures, never instead of them [CPSCP-Procedures, All Children Presenting Alone or with Adults who are Not Their Parents > Referring a Potential Victim of Modern Slavery to the National Referral Mechanism (NRM)] (T41).", "rule": "GR5"},
	"prevent_assessment": {"kind": "consider_multi_agency_assessment", "due_in": null, "description": "Discuss the concern with the named or designated professional and, if there are grounds, convene a multi-agency assessment; a violent act imminent or weapons held is a 999 matter [CPSCP-Procedures, Violent extremism > 3. Referral and Intervention Processes].", "rule": "GR5"},
	"police_protection": {"kind": "respond_to_police_protection", "due_in": null, "description": "A child is in police protection: children's social care (the Emergency Duty Team out of hours) takes responsibility for the child's safety now [CPSCPB-CSA-Strategy, Section Two > Agency and professional responsibilities > Responsibility of Police].", "rule": "GR5"},
	"trafficked_missing_to_police": {"kind": "pass_risk_to_police", "due_in": null, "description": "A trafficked or unaccompanied child is missing: pass risk information to police immediately [CPSCP-Procedures, All Children Presenting Alone or with Adults who are Not Their Parents > Part 2 - Child Victims of Trafficking and/or Modern Slavery > Assessment] (T40).", "rule": "GR5"},
	"written_confirmation_peer": {"kind": "written_confirmation", "due_in": {"amount": 24, "unit": "hours"}, "description": "Confirm this telephone referral in writing within 24 hours [CPSCP-Procedures, Responding to concerns about a child > Duty to co-operate and refer; DDSCP-RiskToOthers, 5. Sexual Abuse > Consent] (T06).", "rule": "I15"},
	"consider_new_information": {"kind": "consider_new_information", "due_in": null, "description": "The allocated social worker or case manager considers the new information; out of hours the emergency duty team acts if the concern is high [CPSCP-Procedures, Responding to concerns about a child > Duty to co-operate and refer] (T08).", "rule": "GR6"},
	"decide_investigation": {"kind": "decide_investigation", "due_in": null, "description": "Decide whether to start a criminal investigation and plan with children's social care how the parents are told without jeopardising it [CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral > Where a Crime may have been Committed] (T07).", "rule": "GR5"},
	"join_s47_strategy": {"kind": "join_s47_strategy", "due_in": null, "description": "The child is moving during section 47 enquiries: join the strategy discussions; if the risk of significant harm continues, convene the initial conference within statutory timescales [CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to Another > Child Subject To Section 47 Enquiries] (T31).", "rule": "GR5"},
	"conference_report": {"kind": "send_conference_report", "due_in": null, "description": "Send the agency's report to the conference (as a cp_conference report in reply) and attend; reports are shared with the family in a language or medium they understand [CPSCP-Procedures, Communication difficulties > 4. Using Interpreters with Family Members].", "rule": "GR6"},
	"review_cin_first": {"kind": "next_plan_review", "due_in": {"amount": 90, "unit": "days"}, "description": "The child in need plan is first reviewed at 3 months; the next plan review notice answers this [DDSCP-RiskToOthers, 4. Children's Social Care Response] (T13).", "rule": "GR6"},
	"review_cin": {"kind": "next_plan_review", "due_in": {"amount": 120, "unit": "days"}, "description": "The child in need plan is reviewed every 4 months after the first review; the next plan review notice answers this [DDSCP-RiskToOthers, 4. Children's Social Care Response] (T13).", "rule": "GR6"},
	"review_cpch": {"kind": "next_plan_review", "due_in": {"amount": 42, "unit": "days"}, "description": "The CPCH plan is formally reviewed every 4-6 weeks; the next plan review notice answers this [CPCH-Policy, 7. Assessment and Planning] (T17).", "rule": "GR6"},
	"review_early_help": {"kind": "next_plan_review", "due_in": {"amount": 90, "unit": "days"}, "description": "The early help plan is reviewed at least every 3 months; the next plan review notice answers this [CPCH-Policy, 7. Assessment and Planning] (T17).", "rule": "GR6"},
	"review_safety_plan": {"kind": "next_plan_review", "due_in": {"amount": 42, "unit": "days"}, "description": "The safety plan is reviewed every 6 weeks; the next plan review notice answers this [CPCH-Policy, 8. Safety Planning] (T18).", "rule": "GR6"},
	"prebirth_assessment": {"kind": "prebirth_assessment", "due_in": null, "description": "Start the pre-birth assessment now and complete it at least 4 weeks before the expected delivery date; disclose it to the parents on completion [CPSCP-Procedures, Child and family assessment > 1.1 Pre-birth 'Good Practice Steps'] (T16).", "rule": "GR5"},
	"closure_implications": {"kind": "consider_closure_implications", "due_in": null, "description": "An adult service is closing its work with a parent: consider what that means for the children before the case closes [CPSCP-Procedures, Misuse of substances > 4. Protection and Action to be Taken].", "rule": "GR5"},
	"prohibited_dog": {"kind": "act_on_prohibited_dog", "due_in": null, "description": "A prohibited dog is reported: act on it now [CPSCP-Procedures, Dangerous dogs > Dangerous Dogs] (T43).", "rule": "GR5"},
	"answer_escalation": {"kind": "answer_escalation", "due_in": {"amount": 1, "unit": "working_days"}, "description": "Give the referrer a decision (a referral outcome in reply) within 1 working day: the referral has waited 3 working days or its decision is disputed; 1 working day is partnership configuration [CPSCP-Procedures, Responding to concerns about a child > Duty to co-operate and refer] (T04, T05).", "rule": "GR6"},
	"suicide_discussion": {"kind": "attend_multi_agency_discussion", "due_in": null, "description": "Join the multi-agency discussion about the young person and their siblings; the school is invited [CPSCP-Procedures, Suicide > 2. Triggering a multi-agency response in the serious suicide attempt or death of a young person from suicide].", "rule": "GR5"},
	"cdr_meeting": {"kind": "cdr_information_sharing_meeting", "due_in": {"amount": 5, "unit": "working_days"}, "description": "The child death review information-sharing meeting is held within 5 working days of the death; the meeting record (a suicide_response in reply) answers this [CPSCP-Procedures, Suicide > 2. Triggering a multi-agency response in the serious suicide attempt or death of a young person from suicide] (T38).", "rule": "GR6"},
	"suicide_review": {"kind": "review_suicide_response", "due_in": {"amount": 28, "unit": "days"}, "description": "Review the support put in place 4 weeks after the event; the next suicide_response in reply answers this [CPSCP-Procedures, Suicide > 2. Triggering a multi-agency response in the serious suicide attempt or death of a young person from suicide] (T39).", "rule": "GR6"},
	"marac_cpch": {"kind": "refer_to_marac", "due_in": null, "description": "The parent or carer is at high risk and the child causing harm is 16 or over: make a MARAC referral (a marac_referral), where a DASH risk assessment is undertaken [CPCH-Policy, 5. Response to the Parent/Carer].", "rule": "GR5"},
	"marac_cpch_under_16": {"kind": "consider_marac", "due_in": null, "description": "The parent or carer is at high risk and the child causing harm is under 16 (or their age is not given): no MARAC referral is required, but MARAC may consider one case by case; at 16 or over a referral should be made [CPCH-Policy, 5. Response to the Parent/Carer].", "rule": "GR5"},
}

_shared(outcome) if outcome in {"share", "share_minimised", "share_urgent_review_after"}

# OPA indexes a function's rules by `input.message_type == "..."` in their bodies, not by their
# arguments: each rule below names its message type that way, so a call tries only that type's rules.

_csc(r) if context.type_conf(r).column == "csc"

# METADATA
# title: I15 a telephone referral is confirmed in writing
# custom:
#   rule_id: I15
#   source: >-
#     CPSCP-Procedures, Responding to concerns about a child > Duty to co-operate and refer: "All
#     telephone referrals should be confirmed in writing within 24 hours."
_applies("written_confirmation", r, _) if {
	input.message_type == "safeguarding_referral"
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

_applies("strategy_cpch", _, outcome) if {
	input.message_type == "strategy_discussion_request"
	input.payload_facts.strategy_kind == "cpch"
	_shared(outcome)
}

# T10 runs from the CPCH referral's receipt: children's social care answers it with a strategy
# discussion request in reply, as an M29 referral's 5-day strategy clock is answered.
_applies("strategy_cpch", r, outcome) if {
	input.message_type == "safeguarding_referral"
	context.tagged("cpch")
	_csc(r)
	_shared(outcome)
}

# CPCH: a parent or carer at high risk (the referral's domestic abuse high-risk flag, from the CPCH
# Risk Assessment Tool) and a child causing harm aged 16 or 17: the sender refers to MARAC. Under 16
# (or no age given) MARAC decides case by case: a note, not a duty.
_applies("marac_cpch", _, outcome) if {
	input.message_type == "safeguarding_referral"
	context.tagged("cpch")
	input.risk.da_high_risk_marac == true
	_child_causing_harm_16_plus
	_shared(outcome)
}

_applies("marac_cpch_under_16", _, outcome) if {
	input.message_type == "safeguarding_referral"
	context.tagged("cpch")
	input.risk.da_high_risk_marac == true
	not _child_causing_harm_16_plus
	_shared(outcome)
}

_child_causing_harm_16_plus if {
	some subject in input.subjects
	subject.role_in_case in {"child", "alleged_perpetrator"}
	subject.age_years >= 16
	subject.age_years < 18
}

_applies("strategy_child_on_child", _, outcome) if {
	input.message_type == "strategy_discussion_request"
	input.payload_facts.strategy_kind == "child_on_child"
	_shared(outcome)
}

_applies("strategy_child_on_child", r, outcome) if {
	input.message_type == "child_on_child_harm_referral"
	_csc(r)
	_shared(outcome)
}

_applies("separate_social_workers", r, outcome) if {
	input.message_type == "child_on_child_harm_referral"
	_csc(r)
	_shared(outcome)
}

_applies("assess_adult_risk", r, outcome) if {
	input.message_type in {"adult_risk_information", "offender_risk_information"}
	_csc(r)
	_shared(outcome)
}

_applies("before_school_day", r, outcome) if {
	input.message_type == "domestic_abuse_school_notification"
	context.type_conf(r).column == "school"
	_shared(outcome)
}

_applies("give_advice", _, outcome) if {
	input.message_type == "advice_request"
	not input.payload_facts.stage == "advice_given"
	_shared(outcome)
}

_applies("review_early_help_plan", _, outcome) if {
	input.message_type == "early_help_assessment_share"
	_shared(outcome)
}

_applies("discharge_strategy", r, outcome) if {
	input.message_type == "hospital_discharge_hold"
	context.protective(r)
	_shared(outcome)
}

_applies("osman_strategy", r, outcome) if {
	input.message_type == "osman_warning_referral"
	context.protective(r)
	_shared(outcome)
}

_applies("transition_review", r, outcome) if {
	input.message_type == "transition_to_adult_services"
	context.agency_type(r) == "asc"
	_shared(outcome)
}

_applies("nrm_police_risk", r, outcome) if {
	input.message_type == "nrm_referral"
	context.agency_type(r) == "police"
	_shared(outcome)
}

_applies("prevent_assessment", r, outcome) if {
	input.message_type == "radicalisation_concern"
	context.agency_type(r) in {"police", "channel_panel"}
	_shared(outcome)
}

_applies("police_protection", r, outcome) if {
	input.message_type == "police_protection_notice"
	_csc(r)
	_shared(outcome)
}

_applies("convene_amm", r, outcome) if {
	input.message_type == "lado_allegation"
	object.get(input.payload_facts, "stage", "referral") == "referral"
	context.agency_type(r) == "lado"
	_shared(outcome)
}

_applies("transfer_in_conference", r, outcome) if {
	input.message_type == "child_move_transfer"
	input.payload_facts.transfer_type == "cp_plan_transfer"
	context.agency_type(r) == "other_la_csc"
	_shared(outcome)
}

_applies("transfer_written_follow_up", r, outcome) if {
	input.message_type == "child_move_transfer"
	context.agency_type(r) == "other_la_csc"
	_shared(outcome)
}

_applies("trafficked_missing_to_police", r, outcome) if {
	input.message_type == "missing_child"
	some tag in {"trafficking_modern_slavery", "unaccompanied_child"}
	context.tagged(tag)
	context.agency_type(r) == "police"
	_shared(outcome)
}

_applies("written_confirmation_peer", r, _) if {
	input.message_type == "child_on_child_harm_referral"
	input.initial_contact == "phone"
	context.protective(r)
}

_applies("consider_new_information", r, outcome) if {
	input.message_type == "additional_information"
	_csc(r)
	_shared(outcome)
}

_applies("decide_investigation", r, outcome) if {
	input.message_type == "crime_notification"
	context.agency_type(r) == "police"
	_shared(outcome)
}

_applies("join_s47_strategy", r, outcome) if {
	input.message_type == "s47_enquiry"
	input.payload_facts.stage == "enquiry_notice"
	context.agency_type(r) == "other_la_csc"
	_shared(outcome)
}

_applies("conference_report", _, outcome) if {
	input.message_type == "cp_conference"
	input.payload_facts.stage == "invitation"
	_shared(outcome)
}

_applies("icpc", _, outcome) if {
	input.message_type == "s47_enquiry"
	input.payload_facts.stage == "outcome"
	input.payload_facts.icpc_required == "true"
	_shared(outcome)
}

_plan_reviews := {
	"cin_first_review": "review_cin_first", "cin_review": "review_cin", "cpch_plan": "review_cpch",
	"early_help_plan": "review_early_help", "safety_plan": "review_safety_plan",
}

_applies(kind, _, outcome) if {
	input.message_type == "plan_review_notice"
	kind == _plan_reviews[input.payload_facts.plan_kind]
	_shared(outcome)
}

_applies("prebirth_assessment", r, outcome) if {
	input.message_type == "prebirth_concern"
	_csc(r)
	_shared(outcome)
}

_applies("closure_implications", r, outcome) if {
	input.message_type == "case_closure_notice"
	_csc(r)
	_shared(outcome)
}

_applies("prohibited_dog", r, outcome) if {
	input.message_type == "dog_injury_referral"
	input.payload_facts.stage == "prohibited_dog"
	context.agency_type(r) == "police"
	_shared(outcome)
}

_applies("answer_escalation", r, outcome) if {
	input.message_type == "professional_disagreement"
	_csc(r)
	_shared(outcome)
}

_applies("suicide_discussion", _, outcome) if {
	input.message_type == "suicide_response"
	input.payload_facts.stage == "serious_attempt"
	_shared(outcome)
}

_applies("cdr_meeting", _, outcome) if {
	input.message_type == "suicide_response"
	input.payload_facts.stage == "death"
	_shared(outcome)
}

_applies("suicide_review", _, outcome) if {
	input.message_type == "suicide_response"
	input.payload_facts.stage == "meeting_record"
	_shared(outcome)
}

_telling_is_risky if {
	some code in context.exceptions
	code in config.risk_exceptions
}
