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

# --- consent from someone recorded as unable to give it (sg-policy-0.7.14) ------------------------

_own_consent(giver) := [{"giver": giver, "status": "given_explicit", "scope_agencies": null, "privacy_notice_given": true, "not_sought_reason": null}]

_six_year_old(gillick) := [{"role_in_case": "child", "age_years": 6, "gillick_competent": gillick, "mental_capacity": "not_assessed", "adult_at_risk_care_act": null}]

test_gr4_a_not_competent_childs_own_consent_is_held if {
	d := t.first({"consent": _own_consent("child"), "subjects": _six_year_old("no")})
	d.outcome == "hold_for_authorisation"
	t.deciders(d) == ["GR4"]
	d.decided_by[0].message == "Consent is recorded from the child, recorded as not competent to decide this, so it is not theirs to give and is not relied on. Seek consent from whoever may give it (for a child, a person with parental responsibility), or record why consent is not sought (for example: the person cannot give consent)."
}

test_gr4_a_competent_childs_own_consent_is_relied_on if {
	t.first({"consent": _own_consent("child"), "subjects": _six_year_old("yes")}).outcome == "share"
	t.first({"consent": _own_consent("child"), "subjects": _six_year_old("not_assessed")}).outcome == "share"
}

test_gr4_the_parents_consent_stands_beside_a_childs_unfit_one if {
	consent := array.concat(_own_consent("child"), _own_consent("parent_pr"))
	t.first({"consent": consent, "subjects": _six_year_old("no")}).outcome == "share"
}

test_gr4_an_exception_still_lets_a_share_go_without_the_unfit_consent if {
	consent := array.concat(_own_consent("child"), [{"giver": "parent_pr", "status": "not_sought", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": "cannot_consent"}])
	d := t.first({"lawful_basis": "safeguarding_children_individuals_at_risk", "consent": consent, "subjects": _six_year_old("no")})
	d.outcome == "share"
	some m in t.messages(d, "GR4")
	startswith(m, "No consent is relied on")
}

test_gr4_an_unfit_consent_on_another_basis_is_held_as_none_relied_on if {
	d := t.first({"lawful_basis": "safeguarding_children_individuals_at_risk", "consent": _own_consent("child"), "subjects": _six_year_old("no")})
	d.outcome == "hold_for_authorisation"
	some m in t.messages(d, "GR4")
	startswith(m, "Consent is recorded from the child")
}

test_gr4_an_unfit_consent_to_a_request_for_services_is_held if {
	d := t.first({"purpose": "request_for_services", "consent": _own_consent("child"), "subjects": _six_year_old("no")})
	d.outcome == "hold_for_authorisation"
	some m in t.messages(d, "GR4")
	startswith(m, "Consent is recorded from the child")
}

test_gr4_an_adult_lacking_capacity_cannot_consent_for_themselves if {
	adult := [{"role_in_case": "adult_at_risk", "age_years": 40, "gillick_competent": "not_assessed", "mental_capacity": "no", "adult_at_risk_care_act": true}]
	d := t.first({"consent": _own_consent("adult_subject"), "subjects": array.concat(_six_year_old("not_assessed"), adult)})
	d.outcome == "hold_for_authorisation"
	some m in t.messages(d, "GR4")
	startswith(m, "Consent is recorded from the adult, recorded as lacking capacity")
}

# --- a competent young person's wish that the parents not be told (sg-policy-0.7.15) -------------

_not_told := {"parents_informed": false, "parent_withheld_permission": null, "reason_not_informed": null, "has_reason_text": false, "child_asked_not_told": true}

_gr2(gillick, position) := t.messages(t.first({"parental_position": position, "subjects": _six_year_old(gillick)}), "GR2")

test_gr2_respects_a_competent_young_persons_wish if {
	d := t.first({"parental_position": _not_told, "subjects": _six_year_old("yes")})
	d.outcome == "share"
	t.messages(d, "GR2") == {"The parents have not been told because the young person, competent to decide, asked that they not be: their wish is respected. It gives way only where the conditions for sharing without consent apply."}
}

test_gr2_holds_the_wish_of_a_young_person_not_recorded_as_competent if {
	d := t.first({"parental_position": _not_told, "subjects": _six_year_old("not_assessed")})
	d.outcome == "hold_for_authorisation"
	t.deciders(d) == ["GR2"]
	d.decided_by[0].message == "The young person asked that the parents not be told, but is not recorded as able to decide that (Gillick competent, or at 16 or 17 with capacity for the decision). Record whether they are, or why telling the parents would be unsafe, or tell them first."
	_gr2("no", _not_told) == t.messages(d, "GR2")
}

test_gr2_holds_the_wish_of_a_young_person_of_16_lacking_capacity if {
	subjects := [{"subject_ref": "subj-1", "role_in_case": "child", "age_years": 16, "gillick_competent": "not_assessed", "mental_capacity": "no"}]
	d := t.first({"parental_position": _not_told, "subjects": subjects})
	d.outcome == "hold_for_authorisation"
	contains(d.decided_by[0].message, "(Gillick competent, or at 16 or 17 with capacity for the decision)")
}

test_gr2_a_recorded_reason_stands_beside_the_wish_of_a_child_not_competent if {
	position := object.union(_not_told, {"reason_not_informed": "risk_significant_harm"})
	some m in _gr2("no", position)
	startswith(m, "The parents have not been told, ")
}

test_gr2_parents_who_know_are_not_affected_by_the_wish if {
	position := object.union(_not_told, {"parents_informed": true})
	_gr2("yes", position) == {"The parents know about this referral: the sender has been open and honest with the family."}
}

test_a_child_with_capacity_for_the_decision_is_competent_to_decide if {
	older := [{"role_in_case": "child", "age_years": 16, "gillick_competent": "not_assessed", "mental_capacity": "yes", "adult_at_risk_care_act": null}]
	context.competent_child with input as t.merged({"subjects": older})
	not context.competent_child with input as t.merged({"subjects": _six_year_old("not_assessed")})
}

# A competent young person's own consent stands beside a sibling who cannot decide (sg-policy-0.7.17).
test_a_competent_childs_consent_stands_beside_a_sibling_who_cannot_decide if {
	siblings := array.concat(_six_year_old("no"), [object.union(_six_year_old("yes")[0], {"age_years": 15})])
	d := t.first({"consent": _own_consent("child"), "subjects": siblings})
	d.outcome == "share"
	every m in t.messages(d, "GR4") {
		not startswith(m, "Consent is recorded from")
	}
}

# The person was asked: GR2 says so even where GR4 sets their consent aside (sg-policy-0.7.17).
test_gr2_counts_a_consent_set_aside_as_agreement_sought if {
	d := t.first({"lawful_basis": "safeguarding_children_individuals_at_risk", "message_type": "early_help_assessment_share", "consent": _own_consent("child"), "subjects": _six_year_old("no")})
	"The person's agreement was sought." in t.messages(d, "GR2")
}
