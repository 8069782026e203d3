# METADATA
# title: Safeguarding information-sharing decision
# description: >-
#   One query decides every requested recipient of a notification. Entry point:
#   POST /v1/data/safeguarding/decision/decision with the PolicyInput of schemas/policy_input.py;
#   the result matches PolicyDecision in schemas/policy_decision.py. Each recipient's outcome
#   is chosen by the precedence of its findings' effects (policies/README.md, "How a recipient
#   is decided"); `decided_by` names the findings with the outcome's effect, and `reasons` lists
#   them first, then the conditions met, then notes.
# related_resources:
#   - description: policies/README.md decision contract
#     ref: policies/README.md
package safeguarding.decision

import data.safeguarding.caldicott
import data.safeguarding.config
import data.safeguarding.context
import data.safeguarding.fields
import data.safeguarding.golden
import data.safeguarding.invariants
import data.safeguarding.obligations

# METADATA
# title: Sharing decision for every requested recipient
# description: >-
#   Never undefined: malformed input, a missing registry or an unknown sender give
#   no_share for every recipient listed, with the reason in `errors`.
# entrypoint: true
# custom:
#   rule_id: GR7
#   source: >-
#     CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing,
#     rule 7: "Keep a record of your decision and the reasons for it – whether it is to share
#     information or not."
decision := {
	"policy_revision": config.revision,
	"registry_revision": context.registry_revision,
	"partnership_id": _partnership,
	"recipients": _recipients,
	"errors": [e | some e in context.errors],
}

_partnership := input.partnership_id if is_string(input.partnership_id)

else := null

_recipients := [_blocked(r) | some r in _listed] if count(context.errors) > 0

else := [_decide(r) | some r in input.recipients]

_listed := [r | some r in input.recipients; is_object(r)] if is_array(input.recipients)

else := []

_str(x) := x if is_string(x)

else := ""

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

_blocked(r) := _no_share(r, [{"rule": e.rule, "message": e.message, "effect": "no_share"} | some e in context.errors])

_no_share(r, deciding) := {
	"agency_id": _str(object.get(r, "agency_id", "")),
	"role": _str(object.get(r, "role", "")),
	"outcome": "no_share",
	"decided_by": deciding,
	"reasons": array.concat(deciding, [_gr7("no_share")]),
	"lawful_basis": null,
	"allowed_fields": [],
	"withheld_fields": _all_fields,
	"obligations": [],
	"obligations_on_release": [],
}

_all_fields := sort(object.keys(input.payload_fields)) if is_object(input.payload_fields)

else := []

_decide(r) := _no_share(r, [{"rule": "SYS-AGENCY", "message": "The recipient agency is not registered in this partnership, so it has no secure inbox. If a child is at immediate risk, phone the police (999) or children's social care now.", "effect": "no_share"}]) if {
	not context.recipient_known(r)
} else := _decision_for(r, _findings(r))

_findings(r) := (golden.findings(r) | caldicott.findings(r)) | invariants.findings(r)

_decision_for(r, found) := {
	"agency_id": r.agency_id,
	"role": r.role,
	"outcome": outcome,
	"decided_by": deciding,
	"reasons": array.concat(deciding, _others(primary | extra, deciding)),
	"lawful_basis": _basis(r, outcome),
	"allowed_fields": _allowed(r, outcome),
	"withheld_fields": _withheld(r, outcome),
	"obligations": _obligations(r, outcome),
	"obligations_on_release": _on_release(r, outcome),
} if {
	outcome := _outcome(r, found)
	primary := {_plain(f) | some f in found}
	extra := _extra(r, found, outcome)
	deciding := array.concat(_deciding(primary - _overridden(r, found), outcome), _deciding(extra, outcome))
}

_plain(f) := {"rule": f.rule, "message": f.message, "effect": f.effect}

_withholds(found) := {f | some f in found; f.effect != "share"}

_soft(found) := {f | some f in _withholds(found); f.soft == true; not _services_gate(f)}

# Urgency does not override these: C6 over the whole notification, GR4 refused request for
# services (forced marriage and honour-based violence no longer, mirroring sg-policy-0.7.12).
_barred(found) if {
	some f in _withholds(found)
	f.effect == "no_share"
	f.rule == "C6"
}

_barred(found) if _services_refused(found)

_services_refused(found) if {
	some f in _withholds(found)
	f.effect == "no_share"
	_services_gate(f)
}

_services_gate(f) if {
	f.rule == "GR4"
	input.purpose == "request_for_services"
}

# Under the duty to share the objections that rest on consent alone no longer decide.
_overridden(r, found) := {_plain(f) | some f in _soft(found)} if _duty_to_share(r)

else := set()

_standing(r, found) := _withholds(found) - _soft(found) if _duty_to_share(r)

else := _withholds(found)

# METADATA
# title: Outcome for one recipient
# description: >-
#   Effects in precedence order (policies/README.md, "How a recipient is decided"): nothing
#   the recipient may see (no_share), urgency (I14), the duty to share over objections that
#   rest on consent alone (C7, I44), then no_share > hold_for_authorisation > needs_advice,
#   then withheld fields (share_minimised), then share. Sharing needs positive findings from
#   GR1, C1 and C4, so a rule that fails to evaluate never shares.
_outcome(r, found) := "no_share" if {
	count(fields.allowed(r)) == 0
} else := "share_urgent_review_after" if {
	context.urgent(r)
	not _barred(found)
} else := "share_urgent_review_after" if {
	_duty_to_share(r)
	count(_withholds(found)) > 0
	_soft(found) == _withholds(found)
} else := "no_share" if {
	some f in _standing(r, found)
	f.effect == "no_share"
} else := "hold_for_authorisation" if {
	some f in _standing(r, found)
	f.effect == "hold_for_authorisation"
} else := "needs_advice" if {
	count(_withholds(found)) > 0
} else := "no_share" if {
	not _cleared(found)
} else := "share_minimised" if {
	count(fields.withheld(r)) > 0
} else := "share"

_duty_to_share(r) if {
	context.likely_harm
	context.protective(r)
}

_duty_to_share(r) if {
	input.risk.serious_harm_to_adult == true
	context.agency_type(r) == "asc"
}

_duty_to_share(r) if {
	invariants.under_13_sexual_activity
	context.protective(r)
}

_cleared(found) if {
	every rule in {"GR1", "C1", "C4"} {
		some f in found
		f.rule == rule
		f.effect == "share"
	}
}

_shared(outcome) if outcome in {"share", "share_minimised", "share_urgent_review_after"}

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

_decides(x, outcome) if {
	outcome != "share"
	x.effect == outcome_effect[outcome]
}

_decides(x, "share") if {
	x.effect == "share"
	x.rule in _share_deciders
}

_deciding(reasons, outcome) := [x |
	some t in sort([[_rule_rank(x.rule), x.rule, x.message, x.effect] | some x in reasons; _decides(x, outcome)])
	x := {"rule": t[1], "message": t[2], "effect": t[3]}
]

# Reasons read in the order of the framework: system checks, golden rules, Caldicott
# principles, then this project's invariants.
_rule_rank(rule) := 0 if startswith(rule, "SYS-")

else := 1 if startswith(rule, "GR")

else := 2 if startswith(rule, "C")

else := 3

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

_others(reasons, deciding) := [x |
	some t in sort([[_note_rank[x.effect], _rule_rank(x.rule), x.rule, x.message, x.effect] | some x in reasons; not x in deciding])
	x := {"rule": t[2], "message": t[3], "effect": t[4]}
]

_extra(r, found, outcome) := (((_c3(r, outcome) | _c7(r, found, outcome)) | _i14(r, found, outcome)) | {_gr7(outcome)}) | _uncleared(r, found, outcome)

_i14(r, _, "share_urgent_review_after") := {{"rule": "I14", "message": "Immediate risk of significant harm: sent now to this protective agency and reviewed afterwards. A referral must not wait for consultation or assessment.", "effect": "urgent_override"}} if {
	context.urgent(r)
}

_i14(r, found, outcome) := set() if {
	not context.urgent(r)
} else := {{"rule": "I14", "message": "Immediate risk of significant harm, but urgency does not override the objection that decides this, so nothing is sent to this recipient. Phone the police (999) or children's social care now.", "effect": "urgent_override"}} if {
	outcome == "no_share"
	_barred(found)
} else := set() if outcome != "share_urgent_review_after"

# Held and advice decisions list their withheld fields too: the reviewer sees what release would send.
_c3(r, outcome) := fields.withheld_reasons(r) if {
	outcome != "no_share"
	count(fields.withheld(r)) > 0
} else := {{"rule": "C3", "message": _c3_nothing(r), "effect": "no_share"}} if {
	outcome == "no_share"
	count(fields.allowed(r)) == 0
} else := {{"rule": "C3", "message": "Every field sent is needed by this recipient: the minimum necessary.", "effect": "share"}} if {
	_shared(outcome)
} else := set()

_c3_nothing(r) := "None of the notification's fields may go to this recipient (minimum necessary), so nothing is sent. If a child is at immediate risk, phone the police (999) or children's social care now." if {
	context.urgent(r)
} else := "None of the notification's fields may go to this recipient (minimum necessary), so nothing is sent."

# The strictest effect among objections that rest on consent alone.
_soft_effect(found) := "no_share" if {
	some f in _soft(found)
	f.effect == "no_share"
} else := "hold_for_authorisation" if {
	some f in _soft(found)
	f.effect == "hold_for_authorisation"
} else := "needs_advice"

_c7(r, found, outcome) := {{"rule": "C7", "message": sprintf("The duty to share outweighs the objection, which rests on consent alone: there is %s. Sent now; a DSL, IG lead or named professional reviews it afterwards.", [_harm]), "effect": "urgent_override"}} if {
	outcome == "share_urgent_review_after"
	not context.urgent(r)
} else := {{"rule": "C7", "message": "The duty to share does not override a refusal of consent to a request for services: consent is always needed for it. Where there is a risk of harm, send it again as a safeguarding concern, not a request for services.", "effect": "share"}} if {
	_services_refused(found)
	_duty_to_share(r)
} else := {_c7_duty} if {
	context.urgent(r)
} else := {{"rule": "C7", "message": sprintf("There is %s, so the duty to share outweighs the objection that rests on consent alone, though not an objection on other grounds, which decides instead.", [_harm]), "effect": "share"}} if {
	count(_soft(found)) > 0
	_duty_to_share(r)
} else := {{"rule": "C7", "message": sprintf("There is %s, but the duty to share outweighs %s only for a protective agency (children's social care, a receiving local authority or the police; adult social care for an adult at risk).", [_harm, _consent_objection]), "effect": _soft_effect(found)}} if {
	count(_soft(found)) > 0
	context.likely_harm
} else := {_c7_duty} if {
	context.likely_harm
} else := {{"rule": "C7", "message": sprintf("Whether there is %s is not known, so the duty to share does not, on its own, outweigh %s.", [_harm_unknown, _consent_objection]), "effect": _soft_effect(found)}} if {
	count(_soft(found)) > 0
	_harm_unknown
} else := {{"rule": "C7", "message": sprintf("No risk of significant harm is recorded, so the duty to share does not, on its own, outweigh %s.", [_consent_objection]), "effect": _soft_effect(found)}} if {
	count(_soft(found)) > 0
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
_uncleared(r, found, "no_share") := {{"rule": "SYS-UNCLEARED", "message": "A rule that must approve sharing (GR1 lawful basis, C1 purpose, C4 need to know) gave no answer, so nothing is shared.", "effect": "no_share"}} if {
	count(_withholds(found)) == 0
	count(fields.allowed(r)) > 0
	not _cleared(found)
}

_uncleared(r, found, outcome) := set() if {
	outcome != "no_share"
} else := set() if {
	count(_withholds(found)) > 0
} else := set() if {
	count(fields.allowed(r)) == 0
} else := set() if _cleared(found)

_basis(r, outcome) := input.lawful_basis if {
	outcome != "no_share"
	input.lawful_basis in context.mt.lawful_bases
	not _consent_basis_without_consent(r)
} else := config.default_urgent_basis if {
	outcome == "share_urgent_review_after"
	config.default_urgent_basis in context.mt.lawful_bases
} else := null

_consent_basis_without_consent(r) if {
	input.lawful_basis == "consent"
	not context.consent_given_for(r)
}

_allowed(r, outcome) := fields.allowed(r) if outcome != "no_share"

else := []

_withheld(r, outcome) := fields.withheld(r) if outcome != "no_share"

else := _all_fields

_obligations(r, outcome) := obligations.for_recipient(r, outcome) if outcome != "no_share"

else := []

_on_release(r, outcome) := obligations.for_recipient(r, _released(r)) if outcome in {"hold_for_authorisation", "needs_advice"}

else := []

_released(r) := "share_minimised" if count(fields.withheld(r)) > 0

else := "share"
