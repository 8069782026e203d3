# The reasons of one recipient's decision: which findings decide it (`decided_by`, by the
# outcome's effect), the order every reason reads in (the deciding findings, then the conditions
# met, then notes, each group in framework order), and the findings the decision itself adds in
# the words of its outcome (GR7's record, C3, C7, I14, SYS-UNCLEARED). Same package as
# decision.rego, whose `_decision_for` computes the state `s` and the outcome these read.
package safeguarding.decision

import data.safeguarding.context

# METADATA
# title: The effect of the findings that decide each outcome
# description: >-
#   decided_by holds the findings with this effect (schemas.policy_decision.OUTCOME_EFFECT).
#   For share only the findings that clear sharing decide it: the lawful basis (GR1), the
#   purpose (C1), need to know (C4) and consent or its exception (GR4).
outcome_effect := {
	"share": "share",
	"share_minimised": "withhold_fields",
	"share_urgent_review_after": "urgent_override",
	"hold_for_authorisation": "hold_for_authorisation",
	"needs_advice": "needs_advice",
	"no_share": "no_share",
}

_share_deciders := {"GR1", "C1", "C4", "GR4"}

# Each finding with its sort key: [note rank, framework rank, rule, finding]. A finding object
# compares by effect, then message, so within one rule the order is the message's. Sorted, the
# findings of one effect are in framework order. The deciding findings are filtered from the
# unsorted sets, the notification's once per outcome (OPA caches a call with the same
# arguments) and each recipient's own, and sorted after; the rest are a set difference sorted once.
# The rank tables are bound once per call, outside the comprehensions: a rule referenced inside
# one is looked up again for every finding.
_keyed(findings) := {[notes[x.effect], object.get(ranks, x.rule, 4), x.rule, x] | some x in findings} if {
	notes := _note_rank
	ranks := _rule_ranks
}

_deciding(keyed, outcome) := {t | some t in keyed; t[0] == 0; t[2] in deciders} if {
	outcome == "share"
	deciders := _share_deciders
} else := {t | some t in keyed; t[0] == note} if {
	note := _note_rank[outcome_effect[outcome]]
}

# Reasons read in the order of the framework: system checks, golden rules, Caldicott
# principles, then this project's invariants. Every rule this policy emits is listed (the tests
# check the prefixes and the policy pack's authorisation rules); any other would read last.
_rule_ranks := {
	"SYS-INPUT": 0, "SYS-REGISTRY": 0, "SYS-AGENCY": 0, "SYS-UNCLEARED": 0,
	"GR1": 1, "GR2": 1, "GR3": 1, "GR4": 1, "GR5": 1, "GR6": 1, "GR7": 1,
	"C1": 2, "C2": 2, "C3": 2, "C4": 2, "C5": 2, "C6": 2, "C7": 2, "C8": 2,
	"I11": 3, "I14": 3, "I15": 3, "I19": 3, "I26": 3, "I44": 3,
}

# After the deciding findings: the conditions met (effect share), then notes (other objections,
# withheld fields, the urgent override, the record), each group in framework order.
_note_rank := {
	"share": 0,
	"no_share": 1,
	"hold_for_authorisation": 2,
	"needs_advice": 3,
	"urgent_override": 4,
	"withhold_fields": 5,
	"record": 6,
}

_extra(s, outcome) := (((_c3(s, outcome) | _c7(s, outcome)) | _i14(s, outcome)) | {_gr7(outcome)}) | _uncleared(s, outcome)

# METADATA
# title: I14 a referral does not wait when significant harm is apparent
# description: >-
#   Immediate risk sends now to a protective agency, reviewed afterwards; where an objection other
#   than consent decides, the finding says nothing was sent and whom to phone.
# custom:
#   rule_id: I14
#   source: >-
#     CPSCP-Procedures, Responding to concerns about a child > Responsibilities of agencies and
#     organisations: a referral "must not be delayed by the need for consultation with management or
#     the designated safeguarding practitioner lead, or the completion of an assessment"
# One rule with else, not two rules: OPA tries every rule of a function on each call.
_i14(s, outcome) := {{"rule": "I14", "message": "Immediate risk of significant harm: sent now to this protective agency and reviewed afterwards. A referral must not wait for consultation or assessment.", "effect": "urgent_override"}} if {
	outcome == "share_urgent_review_after"
	s.urgent
} else := {{"rule": "I14", "message": "Immediate risk of significant harm, but urgency does not override the objection that decides this, so nothing is sent to this recipient. Phone the police (999) or children's social care now.", "effect": "urgent_override"}} if {
	outcome == "no_share"
	s.urgent
	s.barred
} else := set()

# METADATA
# title: C3 minimum necessary
# description: >-
#   The fields withheld from this recipient as not needed, that every field sent is needed, or that
#   nothing may go. Held and advice decisions list their withheld fields too: the reviewer sees
#   what release would send.
# custom:
#   rule_id: C3
#   source: >-
#     CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 3: "Use the
#     minimum necessary personal confidential data"
_c3(s, outcome) := s.withheld_reasons if {
	outcome != "no_share"
	s.minimised
} else := {{"rule": "C3", "message": _c3_nothing(s), "effect": "no_share"}} if {
	outcome == "no_share"
	s.nothing
} else := {{"rule": "C3", "message": "Every field sent is needed by this recipient: the minimum necessary.", "effect": "share"}} if {
	_shared(outcome)
} else := set()

_c3_nothing(s) := "None of the notification's fields may go to this recipient (minimum necessary), so nothing is sent. If a child is at immediate risk, phone the police (999) or children's social care now." if {
	s.urgent
} else := "None of the notification's fields may go to this recipient (minimum necessary), so nothing is sent."

_shared(outcome) if outcome in {"share", "share_minimised", "share_urgent_review_after"}

# METADATA
# title: C7 the duty to share
# description: >-
#   Whether a risk of harm outweighs an objection that rests on consent alone, and why a refusal
#   stands where it does not. Under the duty to share with another objection standing, C7 is a
#   condition met (effect share): the consent-only objections no longer decide, the other does.
# custom:
#   rule_id: C7
#   source: >-
#     CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 7: "The duty
#     to share information can be as important as the duty to protect patient confidentiality";
#     CPSCP-Procedures, Information sharing > National Guidance on Sharing Information: "Where there
#     is a clear risk of significant harm to a child, or serious harm to adults, the public interest
#     test will almost certainly be satisfied"
_c7(s, outcome) := {{"rule": "C7", "message": sprintf("The duty to share outweighs the objection, which rests on consent alone: there is %s. Sent now; a DSL, IG lead or named professional reviews it afterwards.", [_harm]), "effect": "urgent_override"}} if {
	outcome == "share_urgent_review_after"
	not s.urgent
} else := {{"rule": "C7", "message": "The duty to share does not override a refusal of consent to a request for services: consent is always needed for it. Where there is a risk of harm, send it again as a safeguarding concern, not a request for services.", "effect": "share"}} if {
	s.services_refused
	s.duty
} else := {_c7_duty} if {
	s.urgent
} else := {{"rule": "C7", "message": sprintf("There is %s, so the duty to share outweighs the objection that rests on consent alone, though not an objection on other grounds, which decides instead.", [_harm]), "effect": "share"}} if {
	s.soft
	s.duty
} else := {{"rule": "C7", "message": sprintf("There is %s, but the duty to share outweighs %s only for a protective agency (children's social care, a receiving local authority or the police; adult social care for an adult at risk).", [_harm, _consent_objection]), "effect": s.soft_effect}} if {
	s.soft
	context.likely_harm
} else := {_c7_duty} if {
	context.likely_harm
} else := {{"rule": "C7", "message": sprintf("Whether there is %s is not known, so the duty to share does not, on its own, outweigh %s.", [_harm_unknown, _consent_objection]), "effect": s.soft_effect}} if {
	s.soft
	_harm_unknown
} else := {{"rule": "C7", "message": sprintf("No risk of significant harm is recorded, so the duty to share does not, on its own, outweigh %s.", [_consent_objection]), "effect": s.soft_effect}} if {
	s.soft
} else := set()

# The objection on consent alone, by which kind it is: one consent record's refusal decides it where
# there is one (GR4), then the sender's doubt; otherwise it is consent given that leaves this recipient out.
_consent_objection := sprintf("consent %s", [context.refused_by]) if {
	context.consent_refused
} else := "consent the sender is unsure of" if {
	context.consent_unsure
} else := "consent that does not cover this recipient"

_c7_duty := {"rule": "C7", "message": sprintf("There is %s, so the duty to share is as important as the duty of confidentiality.", [_harm]), "effect": "share"}

# A risk the sender does not know of (null: "Don't know"), not one they said there is not: C7 must not
# call it unrecorded, which reads as absent. The child's first, as `_harm` weighs it.
_harm_unknown := "a risk of significant harm" if {
	some flag in ["immediate_significant_harm", "likely_significant_harm"]
	input.risk[flag] == null
} else := "a risk of serious harm to an adult" if {
	input.risk.serious_harm_to_adult == null
}

# The harm C7 weighs, in words: an adult at risk's where no harm to a child is recorded.
_harm := "a risk of serious harm to an adult" if {
	input.risk.serious_harm_to_adult == true
	not input.risk.likely_significant_harm == true
	not input.risk.immediate_significant_harm == true
} else := "a risk of significant harm"

# Sharing needs positive findings from GR1, C1 and C4; if one gave none, nothing is shared.
_uncleared(s, outcome) := {{"rule": "SYS-UNCLEARED", "message": "A rule that must approve sharing (GR1 lawful basis, C1 purpose, C4 need to know) gave no answer, so nothing is shared.", "effect": "no_share"}} if {
	outcome == "no_share"
	not s.objecting
	not s.nothing
	not s.cleared
} else := set()

# GR7 in the words of the outcome it records.
_gr7_texts := {
	"share": "This decision, what is shared, with whom and why, is recorded before anything is sent.",
	"share_minimised": "This decision, what is shared and what is withheld, with whom and why, is recorded before anything is sent.",
	"share_urgent_review_after": "This decision, what is sent now, to whom and why, is recorded before it is sent, for the review afterwards.",
	"hold_for_authorisation": "This decision to hold the information until it is authorised, and its reasons, are recorded.",
	"needs_advice": "This decision to ask for advice first, and its reasons, are recorded.",
	"no_share": "This decision not to share, and its reasons, are recorded.",
}

_gr7(outcome) := {"rule": "GR7", "message": _gr7_texts[outcome], "effect": "record"}
