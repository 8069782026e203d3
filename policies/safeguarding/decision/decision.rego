# METADATA
# title: Safeguarding information-sharing decision
# description: >-
#   One query decides every requested recipient of a notification. Entry point:
#   POST /v1/data/safeguarding/decision/decision with the PolicyInput of schemas/policy_input.py;
#   the result matches PolicyDecision in schemas/policy_decision.py. Evaluation order (see
#   policies/README.md): whole-notification errors, urgency gate, rule findings, duty to
#   share, most restrictive finding, minimisation.
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

_gr7_withheld := {"rule": "GR7", "message": "This decision not to share, and its reasons, are recorded.", "effect": "record"}

_gr7_shared := {"rule": "GR7", "message": "This decision, what is shared, with whom and why, is recorded before anything is sent.", "effect": "record"}

_blocked(r) := _no_share(r, [{"rule": e.rule, "message": e.message, "effect": "no_share"} | some e in context.errors])

_no_share(r, reasons) := {
	"agency_id": _str(object.get(r, "agency_id", "")),
	"role": _str(object.get(r, "role", "")),
	"outcome": "no_share",
	"reasons": array.concat(reasons, [_gr7_withheld]),
	"lawful_basis": null,
	"allowed_fields": [],
	"withheld_fields": _all_fields,
	"obligations": [],
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
	"reasons": _reasons(r, found, outcome),
	"lawful_basis": _basis(r, outcome),
	"allowed_fields": _allowed(r, outcome),
	"withheld_fields": _withheld(r, outcome),
	"obligations": _obligations(r, outcome),
} if {
	outcome := _outcome(r, found)
}

_withholds(found) := {f | some f in found; f.effect != "share"}

# METADATA
# title: Outcome for one recipient
# description: >-
#   Urgency first (I14), then the duty to share (C7, I44) over consent-only objections,
#   then the most restrictive finding, then minimisation. Sharing needs positive
#   findings from GR1, C1 and C4, so a rule that fails to evaluate never shares.
_outcome(r, found) := "share_urgent_review_after" if {
	context.urgent(r)
} else := "share_urgent_review_after" if {
	_duty_to_share(r)
	count(_withholds(found)) > 0
	every f in _withholds(found) {
		f.soft == true
	}
} else := "no_share" if {
	some f in _withholds(found)
	f.effect == "no_share"
} else := "hold_for_authorisation" if {
	some f in _withholds(found)
	f.effect == "hold_for_authorisation"
} else := "needs_advice" if {
	count(_withholds(found)) > 0
} else := "no_share" if {
	count(fields.allowed(r)) == 0
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

# Sorted by rule id, then message, so reviewers read the rules in a stable order.
_reasons(r, found, outcome) := [{"rule": t[0], "message": t[1], "effect": t[2]} | some t in sort(_triples(r, found, outcome))]

_triples(r, found, outcome) := array.concat(
	[[f.rule, f.message, f.effect] | some f in found],
	[[x.rule, x.message, x.effect] | some x in _extra_reasons(r, found, outcome)],
)

_extra_reasons(r, found, outcome) := ((_c3(r, outcome) | _c7(r, found, outcome)) | _i14(r)) | _gr7(outcome)

_gr7(outcome) := {_gr7_shared} if _shared(outcome)

else := {_gr7_withheld}

_i14(r) := {{"rule": "I14", "message": "Immediate risk of significant harm: sent now to this protective agency and reviewed afterwards. A referral must not wait for consultation or assessment.", "effect": "urgent_override"}} if {
	context.urgent(r)
} else := set()

# Held and advice decisions list their withheld fields too: the reviewer sees what release would send.
_c3(r, outcome) := fields.withheld_reasons(r) if {
	outcome != "no_share"
	count(fields.withheld(r)) > 0
} else := {{"rule": "C3", "message": "None of the fields is necessary for this recipient, so nothing is sent.", "effect": "no_share"}} if {
	count(fields.allowed(r)) == 0
} else := {{"rule": "C3", "message": "Every field sent is needed by this recipient: the minimum necessary.", "effect": "share"}} if {
	_shared(outcome)
} else := set()

_c7(r, found, outcome) := {{"rule": "C7", "message": "There is a risk of significant harm: the duty to share outweighs the lack of consent. Sent now; a named or designated professional reviews it afterwards.", "effect": "urgent_override"}} if {
	outcome == "share_urgent_review_after"
	not context.urgent(r)
	count(_withholds(found)) > 0
} else := {{"rule": "C7", "message": "There is a risk of significant harm, so the duty to share is as important as the duty of confidentiality.", "effect": "share"}} if {
	context.likely_harm
} else := {{"rule": "C7", "message": "No risk of significant harm is recorded, so the duty to share does not outweigh the person's refusal on its own.", "effect": outcome}} if {
	context.consent_applies
	context.consent_refused
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

_allowed(r, outcome) := fields.allowed(r) if outcome != "no_share"

else := []

_withheld(r, outcome) := fields.withheld(r) if outcome != "no_share"

else := _all_fields

_obligations(r, outcome) := obligations.for_recipient(r, outcome) if outcome != "no_share"

else := []
