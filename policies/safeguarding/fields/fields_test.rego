package safeguarding.fields_test

import data.safeguarding.fields
import data.safeguarding.testing_test as t

probation := {"agency_id": "probation-a", "role": "probation_officer", "need_to_know": "attend_meeting", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}

test_level_takes_strictest_column if {
	fam := object.union(t.csc, {"conveys_to_family": true})
	l := fields.level(fam, "location_safety") with input as t.base with data.registry as t.registry
	l == 0
	fields.level(t.csc, "location_safety") == 4 with input as t.base with data.registry as t.registry
}

test_perpetrator_column_strips_contact if {
	perp := object.union(t.csc, {"conveys_to_alleged_perpetrator": true})
	inp := object.union(t.base, {"payload_fields": {"home_address": "contact_address"}})
	fields.withheld(perp) == ["concern_summary", "current_location", "home_address"] with input as inp with data.registry as t.registry
}

test_nothing_necessary_is_no_share if {
	p := {
		"message_type": "strategy_discussion_request", "purpose": "strategy_discussion",
		"lawful_basis": "safeguarding_children_individuals_at_risk", "parental_position": null,
		"sender": {"agency_id": "csc-a", "role": "team_manager"},
		"recipients": [probation],
		"payload_fields": {"religion": "sc_religion"},
	}
	d := t.first(p)
	d.outcome != "share"
	d.allowed_fields == []
}

test_conditional_fields_need_risk_or_consent if {
	refused := {"lawful_basis": "safeguarding_children_individuals_at_risk", "consent": [{"giver": "parent_pr", "status": "not_sought", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": "prejudice_crime"}], "parental_position": {"parents_informed": false, "reason_not_informed": "prejudice_crime"}}
	p := object.union(refused, {"recipients": [t.police], "payload_fields": object.union(t.base.payload_fields, {"religion": "sc_religion"})})
	d := t.first(p)
	d.outcome == "share_minimised"
	d.withheld_fields == ["religion"]
	some x in d.reasons
	x.rule == "C3"
	contains(x.message, "religion")
}

test_only_gated_classes_need_permission if {
	needing := {data_class | some data_class, row in data.safeguarding.config.matrix; "P" in {level | some level in row}}
	needing - fields._gated_classes == set()
}
