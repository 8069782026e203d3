package safeguarding.invariants_test

import data.safeguarding.invariants
import data.safeguarding.testing_test as t

test_i19_only_for_family_facing if {
	inp := object.union(t.base, {"concern_tags": ["forced_marriage"]})
	invariants.i19(t.csc) == set() with input as inp
	count(invariants.i19(object.union(t.csc, {"conveys_to_family": true}))) == 1 with input as inp
}

test_i44_needs_a_child_under_13 if {
	inp := object.union(t.base, {"concern_tags": ["sexual_activity_under_13"]})
	invariants.under_13_sexual_activity with input as inp
	older := json.patch(inp, [{"op": "replace", "path": "/subjects/0/age_years", "value": 14}])
	not invariants.under_13_sexual_activity with input as older
}

test_i26_advice if count(invariants.i26) == 1 with input as object.union(t.base, {"concern_tags": ["unconvicted_adult_risk"]})

test_i26_advice_for_an_unconvicted_adult if {
	count(invariants.i26) == 1 with input as object.union(t.base, {"payload_facts": {"conviction_status": "not_convicted"}})
	invariants.i26 == set() with input as object.union(t.base, {"payload_facts": {"conviction_status": "convicted"}})
}

# I44 sits under every outcome the referral can have, a hold included (here GR2: the parents'
# position is not recorded), so it claims only what it does: consent-only objections do not decide.
test_i44_message_holds_under_a_hold if {
	d := t.first({"concern_tags": ["sexual_activity_under_13"], "subjects": [{"role_in_case": "child", "age_years": 12}], "parental_position": null})
	d.outcome == "hold_for_authorisation"
	t.deciders(d) == ["GR2"]
	[m] := [x.message | some x in d.reasons; x.rule == "I44"]
	not contains(m, "cannot be withheld")
	contains(m, "consent alone")
}

# An early help share about forced marriage: outside child protection procedures, only on the
# young person's own express consent.
fm_services := object.union(t.base, {
	"concern_tags": ["forced_marriage"], "purpose": "request_for_services",
	"subjects": [{"role_in_case": "child", "age_years": 15, "gillick_competent": "yes"}],
})

child_consent := {"giver": "child", "status": "given_explicit", "scope_agencies": null, "privacy_notice_given": true, "not_sought_reason": null}

test_i19_holds_a_share_outside_cp_on_the_parents_consent_alone if {
	d := t.first(fm_services)
	d.outcome == "hold_for_authorisation"
	t.deciders(d) == ["I19"]
	some m in t.messages(d, "I19")
	contains(m, "young person's own express consent")
}

test_i19_lets_the_young_persons_own_consent_through if {
	inp := object.union(fm_services, {"consent": [child_consent]})
	invariants.i19(t.csc) == set() with input as inp
	d := t.first(inp)
	not "I19" in t.rules(d)
	some o in d.obligations
	o.kind == "inform_subject"
	o.rule == "I19"
	contains(o.description, "never the family")
}

test_i19_leaves_a_safeguarding_referral_alone if {
	inp := object.union(t.base, {"concern_tags": ["forced_marriage"]})
	invariants.i19(t.csc) == set() with input as inp
}

test_i19_never_blocks_an_immediate_risk if {
	inp := object.union(fm_services, {"risk": object.union(t.no_risk, {"immediate_significant_harm": true})})
	invariants.i19(t.csc) == set() with input as inp
}

test_i19_holds_an_early_help_plan_review if {
	inp := object.union(t.base, {"concern_tags": ["forced_marriage"], "purpose": "case_planning", "payload_facts": {"plan_kind": "early_help_plan"}})
	count(invariants.i19(t.csc)) == 1 with input as inp
}

# On an adult's notification I19 and GR5 speak of the person at risk, not a young person (sg-policy-0.7.25).
_adult_fm(family) := object.union(data.safeguarding.golden_test.adult, {
	"concern_tags": ["forced_marriage"],
	"recipients": [object.union(data.safeguarding.golden_test.adult.recipients[0], {"conveys_to_family": family})],
})

test_i19_and_gr5_speak_of_the_person_on_an_adults_notification if {
	d := t.first(_adult_fm(true))
	d.outcome == "no_share"
	t.messages(d, "I19") == {"Forced marriage: this recipient would pass information to the family, which can put the person at risk. No one may approach or inform the family or community that the person sought help."}
	t.messages(d, "GR5") == {"Forced marriage or honour-based violence: nothing may reach the family or community, because informing them can put the person in danger."}
}

test_i19_speaks_of_the_young_person_on_a_childs_notification if {
	d := t.first({"concern_tags": ["forced_marriage"], "recipients": [object.union(t.csc, {"conveys_to_family": true})]})
	t.messages(d, "I19") == {"Forced marriage: this recipient would pass information to the family, which can put the young person at risk. No one may approach or inform the family or community that the young person sought help."}
}
