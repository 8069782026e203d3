package safeguarding.context_test

import data.safeguarding.context
import data.safeguarding.testing_test as t

_own(giver) := {"giver": giver, "status": "given_explicit", "scope_agencies": null, "privacy_notice_given": true, "not_sought_reason": null}

_child(gillick, capacity) := {"role_in_case": "child", "age_years": 6, "gillick_competent": gillick, "mental_capacity": capacity, "adult_at_risk_care_act": null}

_adult(capacity) := {"role_in_case": "adult_at_risk", "age_years": 40, "gillick_competent": "not_assessed", "mental_capacity": capacity, "adult_at_risk_care_act": true}

_unfit_with(consent, subjects) := found if {
	found := [c | some c in consent; context.unfit(c)] with input as t.merged({"consent": consent, "subjects": subjects})
}

test_a_childs_consent_is_unfit_where_the_child_is_recorded_not_competent if {
	count(_unfit_with([_own("child")], [_child("no", "not_assessed")])) == 1
	count(_unfit_with([_own("child")], [_child("yes", "no")])) == 1
}

test_not_assessed_is_not_a_finding_of_incompetence if {
	count(_unfit_with([_own("child")], [_child("not_assessed", "not_assessed")])) == 0
	count(_unfit_with([_own("child")], [_child("yes", "yes")])) == 0
}

test_only_explicit_consent_is_set_aside if {
	refused := object.union(_own("child"), {"status": "refused"})
	count(_unfit_with([refused], [_child("no", "no")])) == 0
}

test_an_adults_consent_is_unfit_where_the_adult_lacks_capacity if {
	count(_unfit_with([_own("adult_subject")], [_adult("no")])) == 1
	count(_unfit_with([_own("adult_subject")], [_adult("yes")])) == 0

	# A child recorded as not competent says nothing about the adult's own consent.
	count(_unfit_with([_own("adult_subject")], [_child("no", "no")])) == 0
}

test_a_parents_consent_is_never_set_aside_for_the_childs_competence if {
	count(_unfit_with([_own("parent_pr")], [_child("no", "no")])) == 0
}

test_unfit_givers_names_each_giver_once if {
	words := context.unfit_givers with input as t.merged({"consent": [_own("child"), _own("child"), _own("adult_subject")], "subjects": [_child("no", "no"), _adult("no")]})
	words == "the adult, recorded as lacking capacity for this decision and the child, recorded as not competent to decide this"
}

test_an_unfit_consent_is_not_a_subject_consent if {
	consents := context.subject_consents with input as t.merged({"consent": [_own("child"), _own("parent_pr")], "subjects": [_child("no", "not_assessed")]})
	[c.giver | some c in consents] == ["parent_pr"]
}
