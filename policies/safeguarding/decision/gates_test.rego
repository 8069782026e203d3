# Tests of the objections that urgency and the duty to share do not override (decision.rego,
# `_barred`, `_soft`), and of GR3 on what would actually go. Beside decision_test.rego, whose
# fixtures (not_sought_e1) they share; a separate file keeps each under 400 lines.
package safeguarding.decision_test

import data.safeguarding.decision
import data.safeguarding.testing_test as t

# At immediate risk a forced marriage or honour-based violence referral still reaches children's
# social care when the sender says it will be in contact with the family (sg-policy-0.7.12; the
# broker must never block a protective agency at immediate risk, domain brief 4.1): the family's
# column withholds what could endanger the young person, and GR5 and I19 stay as notes.
test_forced_marriage_urgent_reaches_protective_agency_in_contact_with_family if {
	fam := object.union(t.csc, {"conveys_to_family": true})
	d := t.first(object.union(not_sought_e1, {"concern_tags": ["forced_marriage"], "recipients": [fam], "risk": {"immediate_significant_harm": true}}))
	d.outcome == "share_urgent_review_after"
	t.deciders(d) == ["I14"]
	"current_location" in d.withheld_fields
	{"GR5", "I19"} - t.rules(d) == set()
	not _says_phone(d)
}

test_honour_based_violence_urgent_reaches_protective_agency_in_contact_with_family if {
	fam := object.union(t.csc, {"conveys_to_family": true})
	d := t.first(object.union(not_sought_e1, {"concern_tags": ["honour_based_violence"], "recipients": [fam], "risk": {"immediate_significant_harm": true}}))
	d.outcome == "share_urgent_review_after"
	t.deciders(d) == ["I14"]
	"current_location" in d.withheld_fields
}

# Without an immediate risk nothing reaches a recipient in contact with the family (GR5, I19).
test_forced_marriage_not_urgent_nothing_to_family if {
	fam := object.union(t.csc, {"conveys_to_family": true})
	d := t.first(object.union(not_sought_e1, {"concern_tags": ["forced_marriage"], "recipients": [fam], "risk": {"likely_significant_harm": true}}))
	d.outcome == "no_share"
	t.deciders(d) == ["GR5", "I19"]
}

_says_phone(d) if {
	some x in d.reasons
	contains(x.message, "Phone the police (999)")
}

test_forced_marriage_urgent_still_to_protective_agency if {
	d := t.first(object.union(not_sought_e1, {"concern_tags": ["forced_marriage"], "risk": {"immediate_significant_harm": true}}))
	d.outcome == "share_urgent_review_after"
}

# A refused request for services is not sent, whatever the risk: a safeguarding concern is the route.
services_refused := {"purpose": "request_for_services", "consent": [{"giver": "parent_pr", "status": "refused", "scope_agencies": null, "privacy_notice_given": true, "not_sought_reason": null}]}

test_services_refused_not_overridden_by_duty if {
	d := t.first(object.union(services_refused, {"risk": {"likely_significant_harm": true}}))
	d.outcome == "no_share"
	t.deciders(d) == ["GR4"]
	d.lawful_basis == null
	some x in d.reasons
	x.rule == "C7"
	startswith(x.message, "The duty to share does not override a refusal of consent to a request for services")
}

test_services_refused_not_overridden_by_urgency if {
	d := t.first(object.union(services_refused, {"risk": {"immediate_significant_harm": true, "likely_significant_harm": true}}))
	d.outcome == "no_share"
	t.deciders(d) == ["GR4"]
	some x in d.reasons
	x.rule == "I14"
	contains(x.message, "Phone the police (999)")
}

test_services_refusal_is_not_soft if {
	count(decision._soft({{"rule": "GR4", "effect": "no_share", "message": "x"}})) == 1
	soft := decision._soft({{"rule": "GR4", "effect": "no_share", "message": "x"}}) with input.purpose as "request_for_services"
	count(soft) == 0
}

# The Coroner's permission over the whole notification is a legal gate before urgency.
test_coroner_gate_not_overridden_by_urgency if {
	p := object.union(not_sought_e1, {"risk": {"immediate_significant_harm": true}, "restrictions": {"coroner_permission_required": true, "coroner_permission_obtained": false}})
	d := t.first(p)
	d.outcome == "no_share"
	t.deciders(d) == ["C6"]
}

# An urgent share records the default basis only where the message type accepts it.
test_urgent_basis_only_if_accepted if {
	decision._basis({}, "share_urgent_review_after") == "safeguarding_children_individuals_at_risk" with input.lawful_basis as "consent"
		with data.safeguarding.context.mt as {"lawful_bases": ["safeguarding_children_individuals_at_risk"]}
	decision._basis({}, "share_urgent_review_after") == null with input.lawful_basis as "consent"
		with data.safeguarding.context.mt as {"lawful_bases": ["public_task"]}
}

# GR3 looks only at what would go: a health field withheld from the recipient raises no doubt.
test_health_threshold_ignores_withheld_health_field if {
	p := object.union(not_sought_e1, {"sender": {"agency_id": "gp-a", "role": "gp"}, "recipients": [t.police], "payload_fields": object.union(t.base.payload_fields, {"child_condition": "sc_health"})})
	d := t.first(p)
	d.outcome == "share_minimised"
	t.deciders(d) == ["C3"]
	d.withheld_fields == ["child_condition"]
}
