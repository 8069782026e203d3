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
	"obligations_on_release": _on_release(r, s, outcome),
} if {
	view := fields.view(r)
	withholds := common.withholds | _withholds(own)
	soft := _soft(withholds)
	duty := _holds_duty(r)
	overridden := _overridden(soft, duty)
	s := {
		"nothing": count(view.allowed) == 0,
		"minimised": count(view.withheld) > 0,
		"withheld_reasons": view.reasons,
		"objecting": count(withholds) > 0,
		"strictest": _strictest(withholds - overridden),
		"soft": count(soft) > 0,
		"all_soft": soft == withholds,
		"soft_effect": _strictest(soft),
		"urgent": _holds_urgent(r),
		"barred": _barred(withholds),
		"services_refused": _services_refused(withholds),
		"duty": duty,
		"cleared": _holds_cleared(r, common.findings, own),
	}
	outcome := _outcome(s)
	own_keyed := _keyed(own)
	extra := _keyed(_extra(s, outcome))
	primary_deciders := (_deciding(common.keyed, outcome) | _deciding(own_keyed, outcome)) - _keyed(overridden)
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
# A request for services is the exception: consent is always needed for it (GR4), so a refusal
# there is not outweighed; the route under a risk of harm is a separate safeguarding concern.
_soft(withholds) := {f | some f in withholds; f.rule == "GR4"; f.effect != "hold_for_authorisation"} if {
	not input.purpose == "request_for_services"
} else := set()

# The objections that not even urgency overrides (policies/README.md, "How a recipient is
# decided", step 3): the legal gates before urgency (domain 4.5: C6's permission over the whole
# notification) and a refused request for services (GR4), whose urgent route is a referral, not
# the request. Forced marriage and honour-based violence (GR5, I19) are not among them since
# sg-policy-0.7.12: urgency reaches only a protective agency, which the same procedure bars from
# approaching or informing the family, and its copy is minimised by the family's column.
_barred(withholds) if {
	some f in withholds
	f.effect == "no_share"
	_gate(f)
}

else := false

_gate(f) if f.rule == "C6"

_gate(f) if _services_gate(f)

_services_gate(f) if {
	f.rule == "GR4"
	input.purpose == "request_for_services"
}

_services_refused(withholds) if {
	some f in withholds
	f.effect == "no_share"
	_services_gate(f)
}

else := false

# Once the duty to share applies (C7, I44) the objections that rest on consent alone no longer
# decide: with another objection standing, that one decides, and they stay as notes. Otherwise a
# consent-only no_share would outrank a milder objection that a named professional can resolve.
_overridden(soft, true) := soft

_overridden(_, false) := set()

# METADATA
# title: Outcome for one recipient
# description: >-
#   Effects in precedence order (policies/README.md, "How a recipient is decided"): nothing
#   the recipient may see (no_share), urgency (I14) unless a gate that urgency does not
#   override stands (C6 over the whole notification, GR4 refused request for services), the duty
#   to share over objections that
#   rest on consent alone (C7, I44), then the strictest other objection (no_share >
#   hold_for_authorisation > needs_advice; under the duty to share, not the consent-only ones),
#   then withheld fields (share_minimised), then share. Sharing needs positive findings from
#   GR1, C1 and C4, so a rule that fails to evaluate never shares.
_outcome(s) := "no_share" if {
	s.nothing
} else := "share_urgent_review_after" if {
	s.urgent
	not s.barred
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

# The strictest effect among objections (no_share > hold_for_authorisation > needs_advice); for
# the objections that rest on consent alone, C7 says which one stands. The outcome's is taken
# over the objections the duty to share has not overridden.
_strictest(objections) := "no_share" if {
	some f in objections
	f.effect == "no_share"
} else := "hold_for_authorisation" if {
	some f in objections
	f.effect == "hold_for_authorisation"
} else := "needs_advice"

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

_allowed(view, outcome) := view.allowed if outcome != "no_share"

else := []

_withheld(view, outcome) := view.withheld if outcome != "no_share"

else := _all_fields

_obligations(r, outcome) := obligations.for_recipient(r, outcome) if outcome != "no_share"

else := []

# A held share runs no clocks; released, it is the share that `allowed_fields` describes and
# carries that share's obligations, whose clocks start on release (broker/delivery/held.py).
_on_release(r, s, outcome) := obligations.for_recipient(r, _released(s)) if outcome in {"hold_for_authorisation", "needs_advice"}

else := []

_released(s) := "share_minimised" if s.minimised

else := "share"
