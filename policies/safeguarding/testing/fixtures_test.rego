# METADATA
# title: Shared fixtures for the safeguarding policy tests
# description: >-
#   A small fictional registry and a valid M01 referral input; tests patch it with
#   object.union. Every name here is invented.
package safeguarding.testing_test

import data.safeguarding.decision

registry := {
	"revision": "test-registry-1",
	"partnership_id": "test_partnership",
	"agencies": {
		"school-a": {"type": "education_school", "name": "Test School A"},
		"health-a": {"type": "health_community", "name": "Test Health Visiting A"},
		"gp-a": {"type": "health_gp", "name": "Test GP A"},
		"csc-a": {"type": "csc_front_door", "name": "Test MASH A"},
		"police-a": {"type": "police", "name": "Test Police A"},
		"asc-a": {"type": "asc", "name": "Test ASC A"},
		"housing-a": {"type": "housing", "name": "Test Housing A"},
		"probation-a": {"type": "probation"},
		"lado-a": {"type": "lado", "name": "Test LADO A"},
		"marac-a": {"type": "marac", "name": "Test MARAC A"},
		"la-b": {"type": "other_la_csc", "name": "Test Receiving LA B"},
		"cdop-a": {"type": "cdop", "name": "Test CDOP A"},
		"vcs-a": {"type": "vcs", "name": "Test Club A"},
		"coroner-a": {"type": "coroner", "name": "Test Coroner A"},
		"pathologist-a": {"type": "pathologist", "name": "Test Pathology Service A"},
	},
}

csc := {"agency_id": "csc-a", "role": "mash_intake", "need_to_know": "assess_and_decide", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}

police := {"agency_id": "police-a", "role": "police_public_protection", "need_to_know": "investigate_crime", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}

no_risk := {
	"immediate_significant_harm": false, "likely_significant_harm": false, "serious_harm_to_adult": false,
	"risk_to_others": false, "crime_suspected": false,
}

base := {
	"input_version": "1.0",
	"partnership_id": "test_partnership",
	"notification_id": "00000000-0000-4000-8000-000000000001",
	"message_type": "safeguarding_referral",
	"schema_version": "1.0",
	"purpose": "safeguarding_concern",
	"has_purpose_statement": true,
	"lawful_basis": "consent",
	"consent": [{"giver": "parent_pr", "status": "given_explicit", "scope_agencies": null, "privacy_notice_given": true, "not_sought_reason": null}],
	"parental_position": {"parents_informed": true, "parent_withheld_permission": false, "reason_not_informed": null, "has_reason_text": false},
	"authorisation": null,
	"risk": no_risk,
	"concern_tags": [],
	"subjects": [{"role_in_case": "child", "age_years": 9, "gillick_competent": "not_assessed", "mental_capacity": "not_assessed", "adult_at_risk_care_act": null}],
	"sender": {"agency_id": "school-a", "role": "dsl", "is_professional": true},
	"recipients": [csc],
	"restrictions": {"court_permission_required": false, "court_permission_obtained": null, "coroner_permission_required": false, "coroner_permission_obtained": null, "undertaking_signed": null, "onward_disclosure_prohibited": false},
	"initial_contact": "written",
	"sender_in_doubt": false,
	"deadline": null,
	"payload_fields": {"child": "identity", "concern_summary": "concern_narrative", "current_location": "location_safety"},
	"payload_facts": {},
}

# METADATA
# title: Decide a patched copy of the base input
decide(patch) := result if {
	result := decision.decision with input as merged(patch) with data.registry as registry
}

# METADATA
# title: Base input deep-merged with a patch; payload fields and facts are replaced whole
merged(patch) := json.patch(object.union(base, patch), [
	{"op": "replace", "path": "/payload_fields", "value": object.get(patch, "payload_fields", base.payload_fields)},
	{"op": "replace", "path": "/payload_facts", "value": object.get(patch, "payload_facts", base.payload_facts)},
])

# METADATA
# title: The first recipient's decision for a patched base input
first(patch) := decide(patch).recipients[0]

# METADATA
# title: Rule ids in a recipient decision's reasons
rules(d) := {x.rule | some x in d.reasons}

# METADATA
# title: Rule ids of the findings that decided a recipient decision, in order
deciders(d) := [x.rule | some x in d.decided_by]

# METADATA
# title: Messages of one rule in a recipient decision's reasons
messages(d, rule) := {x.message | some x in d.reasons; x.rule == rule}

# METADATA
# title: The effect of the findings that decide each outcome
outcome_effect := {
	"share": "share", "share_minimised": "withhold_fields", "share_urgent_review_after": "urgent_override",
	"hold_for_authorisation": "hold_for_authorisation", "needs_advice": "needs_advice", "no_share": "no_share",
}

# METADATA
# title: A recipient decision explains itself
# description: >-
#   decided_by is non-empty, leads the reasons, and every deciding finding has the outcome's effect.
explained(d) if {
	count(d.decided_by) > 0
	array.slice(d.reasons, 0, count(d.decided_by)) == d.decided_by
	every x in d.decided_by {
		x.effect == outcome_effect[d.outcome]
	}
}

test_base_input_shares if {
	d := first({})
	d.outcome == "share"
	explained(d)
}
