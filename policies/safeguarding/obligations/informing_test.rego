package safeguarding.obligations_test

import data.safeguarding.testing_test as t

_pupil := [{"role_in_case": "child", "age_years": 14, "gillick_competent": "yes", "mental_capacity": "not_assessed", "adult_at_risk_care_act": null}]

_own := [{"giver": "child", "status": "given_explicit", "scope_agencies": null, "privacy_notice_given": true, "not_sought_reason": null}]

_position(asked) := {"parents_informed": false, "parent_withheld_permission": null, "reason_not_informed": "not_reasonable_to_obtain", "has_reason_text": false, "child_asked_not_told": asked}

_told(asked) := [o.description | some o in t.first({"parental_position": _position(asked), "subjects": _pupil, "consent": _own}).obligations; o.kind == "inform_subject"]

# The young person who asked is told afterwards, not the parents (sg-policy-0.7.18).
test_the_young_person_not_the_parents_is_told_afterwards if {
	_told(true) == ["Tell the young person that their information was shared and why, not their parents, as the young person, able to decide, asked, unless telling them would create or increase a risk of harm [CPSCP-Procedures, Self-harm > Information Sharing and Consent; CPSCP-Procedures, Flowchart of when and how to share information]."]
}

test_the_parents_are_told_where_no_young_person_asked_otherwise if {
	_told(false) == ["Tell the person (or the parents) that their information was shared and why, unless that would create or increase a risk of harm [CPSCP-Procedures, Responding to concerns about a child > Consulting parents; CPSCP-Procedures, Flowchart of when and how to share information]."]
}

# An adult is told themselves; the words name no parents (sg-policy-0.7.23).
test_an_adult_is_told_themselves if {
	d := t.first(data.safeguarding.golden_test.adult)
	[o.description | some o in d.obligations; o.kind == "inform_subject"] == ["Tell the person that their information was shared and why, unless that would create or increase a risk of harm [CPSCP-Procedures, Flowchart of when and how to share information]."]
}

# Forced marriage on an adult's notification: the person is told, never the family, in words about
# them; the only duty to tell anyone afterwards (sg-policy-0.7.25).
test_an_adult_at_risk_of_forced_marriage_is_told_alone if {
	d := t.first(data.safeguarding.invariants_test._adult_fm(false))
	d.outcome == "share"
	[o.description | some o in d.obligations; o.kind == "inform_subject"] == ["Tell the person, never the family or community, that their information was shared and why, unless that would create or increase a risk of harm [CPSCP-Procedures, Forced marriage > 6. Issues; CPSCP-Procedures, Flowchart of when and how to share information]."]
}

# Parents who already know are not told again, and nobody is: no duty is tried for any recipient.
test_nobody_is_told_where_the_parents_know if {
	d := t.first({"parental_position": object.union(_position(false), {"parents_informed": true}), "subjects": _pupil, "consent": _own})
	d.outcome == "share"
	[o | some o in d.obligations; o.kind == "inform_subject"] == []
}
