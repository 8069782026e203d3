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
}

_all_fields := sort(object.keys(input.payload_fields)) if is_object(input.payload_fields)

else := []

_decide(r) := _no_share(r, [{"rule": "SYS-AGENCY", "message": "The recipient agency is not registered in this partnership, so it has no secure inbox. If a child is at immediate risk, phone the police (999) or children's social care now.", "effect": "no_share"}]) if {
	not context.recipient_known(r)
} else := _decision_for(r, _common, _own_findings(r))

# The findings that do not depend on the recipient are found, given their sort keys and
# filtered for objections once per notification; only each recipient's own are added to them.
_common := {"findings": found, "keyed": _keyed(found), "withholds": _withholds(found)} if {
	found := (golden.notification_findings | caldicott.notification_findings) | invariants.notification_findings
}

_own_findings(r) := (golden.recipient_findings(r) | caldicott.recipient_findings(r)) | invariants.recipient_findings(r)

# Everything the outcome and its reasons read about one recipient is computed once here (the
# fields it may see, its objections, urgency, the duty to share) and passed on as `s`, as flags
# and effects rather than the sets they come from.
_decision_for(r, common, own) := {
	"agency_id": r.agency_id,
	"role": r.role,
	"outcome": outcome,
	"decided_by": deciding,
	"reasons": array.concat(deciding, others),
	"lawful_basis": _basis(r, outcome),
	"allowed_fields": _allowed(view, outcome),
	"withheld_fields": _withheld(view, outcome),
	"obligations": _obligations(r, outcome),
} if {
	view := fields.view(r)
	withholds := common.withholds | _withholds(own)
	soft := _soft(withholds)
	s := {
		"nothing": count(view.allowed) == 0,
		"minimised": count(view.withheld) > 0,
		"withheld_reasons": view.reasons,
		"objecting": count(withholds) > 0,
		"strictest": _strictest(withholds),
		"soft": count(soft) > 0,
		"all_soft": soft == withholds,
		"soft_effect": _strictest(soft),
		"urgent": _holds_urgent(r),
		"duty": _holds_duty(r),
		"cleared": _holds_cleared(r, common.findings, own),
	}
	outcome := _outcome(s)
	own_keyed := _keyed(own)
	extra := _keyed(_extra(s, outcome))
	primary_deciders := _deciding(common.keyed, outcome) | _deciding(own_keyed, outcome)
	extra_deciders := _deciding(extra, outcome)
	deciding := [t[3] | some t in array.concat(sort(primary_deciders), sort(extra_deciders))]
	others := [t[3] | some t in sort(((common.keyed | own_keyed) | extra) - (primary_deciders | extra_deciders))]
}

_holds_urgent(r) if context.urgent(r)

else := false

_holds_duty(r) if _duty_to_share(r)

else := false

_holds_cleared(r, found, own) if _cleared(r, found, own)

else := false

_withholds(found) := {f | some f in found; f.effect != "share"}

# A finding is {rule, message, effect}, a literal in each rule. The objections that rest on consent
# alone (soft: a risk of significant harm outweighs them, C7) are GR4's refusals, doubts and
# out-of-scope consent; GR4's holds (no consent sought, no authorisation) are not, and no other
# rule's objection is.
_soft(withholds) := {f | some f in withholds; f.rule == "GR4"; f.effect != "hold_for_authorisation"}

# METADATA
# title: Outcome for one recipient
# description: >-
#   Effects in precedence order (policies/README.md, "How a recipient is decided"): nothing
#   the recipient may see (no_share), urgency (I14), the duty to share over objections that
#   rest on consent alone (C7, I44), then no_share > hold_for_authorisation > needs_advice,
#   then withheld fields (share_minimised), then share. Sharing needs positive findings from
#   GR1, C1 and C4, so a rule that fails to evaluate never shares.
_outcome(s) := "no_share" if {
	s.nothing
} else := "share_urgent_review_after" if {
	s.urgent
} else := "share_urgent_review_after" if {
	s.duty
	s.objecting
	s.all_soft
} else := s.strictest if {
	s.objecting
} else := "no_share" if {
	not s.cleared
} else := "share_minimised" if {
	s.minimised
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

# GR1, C1 and C4 each give one finding (no other rule, nor the pack's authorisation rule, uses
# their ids; a test checks the pack); it must be among the recipient's findings and for sharing.
# GR1 and C1 are among the notification's findings, C4 among the recipient's own: each is looked
# up where it is, so the two sets are never joined for this.
_cleared(r, found, own) if {
	_clears(golden.gr1, found)
	_clears(caldicott.c1, found)
	_clears(caldicott.c4(r), own)
}

_clears(rule_findings, found) if {
	some f in rule_findings
	f.effect == "share"
	f in found
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

# One rule with else, not two rules: OPA tries every rule of a function on each call.
_i14(s, outcome) := {{"rule": "I14", "message": "Immediate risk of significant harm: sent now to this protective agency and reviewed afterwards. A referral must not wait for consultation or assessment.", "effect": "urgent_override"}} if {
	outcome == "share_urgent_review_after"
	s.urgent
} else := set()

# Held and advice decisions list their withheld fields too: the reviewer sees what release would send.
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

# The strictest effect among objections (no_share > hold_for_authorisation > needs_advice); for
# the objections that rest on consent alone, C7 says which one stands.
_strictest(objections) := "no_share" if {
	some f in objections
	f.effect == "no_share"
} else := "hold_for_authorisation" if {
	some f in objections
	f.effect == "hold_for_authorisation"
} else := "needs_advice"

_c7(s, outcome) := {{"rule": "C7", "message": "The duty to share outweighs the objection, which rests on consent alone: there is a risk of significant harm. Sent now; a named or designated professional reviews it afterwards.", "effect": "urgent_override"}} if {
	outcome == "share_urgent_review_after"
	not s.urgent
} else := {_c7_duty} if {
	s.urgent
} else := {{"rule": "C7", "message": "There is a risk of significant harm, but an objection that does not rest on consent alone also stands, so the duty to share does not override the objection to consent on its own.", "effect": s.soft_effect}} if {
	s.soft
	s.duty
} else := {{"rule": "C7", "message": "There is a risk of significant harm, but the duty to share overrides an objection to consent only for a protective agency (children's social care, a receiving local authority or the police; adult social care for an adult at risk).", "effect": s.soft_effect}} if {
	s.soft
	context.likely_harm
} else := {_c7_duty} if {
	context.likely_harm
} else := {{"rule": "C7", "message": "No risk of significant harm is recorded, so the duty to share does not outweigh the objection to consent on its own.", "effect": s.soft_effect}} if {
	s.soft
} else := set()

_c7_duty := {"rule": "C7", "message": "There is a risk of significant harm, so the duty to share is as important as the duty of confidentiality.", "effect": "share"}

# Sharing needs positive findings from GR1, C1 and C4; if one gave none, nothing is shared.
_uncleared(s, outcome) := {{"rule": "SYS-UNCLEARED", "message": "A rule that must approve sharing (GR1 lawful basis, C1 purpose, C4 need to know) gave no answer, so nothing is shared.", "effect": "no_share"}} if {
	outcome == "no_share"
	not s.objecting
	not s.nothing
	not s.cleared
} else := set()

_basis(r, outcome) := input.lawful_basis if {
	outcome != "no_share"
	input.lawful_basis in context.mt.lawful_bases
	not _consent_basis_without_consent(r)
} else := config.default_urgent_basis if {
	outcome == "share_urgent_review_after"
} else := null

_consent_basis_without_consent(r) if {
	input.lawful_basis == "consent"
	not context.consent_given_for(r)
}

_allowed(view, outcome) := view.allowed if outcome != "no_share"

else := []

_withheld(view, outcome) := view.withheld if outcome != "no_share"

else := _all_fields

_obligations(r, outcome) := obligations.for_recipient(r, outcome) if outcome != "no_share"

else := []
