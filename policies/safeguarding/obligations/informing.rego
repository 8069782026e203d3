# Who is told afterwards that their information was shared (Caldicott 8): the person or the parents,
# the young person alone in forced marriage (I19), or where a young person able to decide asked that
# the parents not be told (GR2, sg-policy-0.7.18). Same package as obligations.rego, whose catalogue
# holds their words.
package safeguarding.obligations

import data.safeguarding.context

_applies("inform_subject", _, outcome) if {
	_informs_subject(outcome)
	not context.about_adult
}

# An adult is told themselves: the catalogue's words for them name no parents (sg-policy-0.7.23).
_applies("inform_adult", _, outcome) if {
	_informs_subject(outcome)
	context.about_adult
}

_informs_subject(outcome) if {
	_shared(outcome)
	context.transparency_applies
	not _telling_is_risky
	not input.parental_position.parents_informed == true
	not context.tagged("forced_marriage")
	not _parents_not_to_be_told
}

# A young person able to decide asked that the parents not be told (GR2 respects it): they are told,
# not the parents (sg-policy-0.7.18).
_applies("inform_young_person_only", _, outcome) if {
	_shared(outcome)
	context.transparency_applies
	not _telling_is_risky
	not context.tagged("forced_marriage")
	_parents_not_to_be_told
}

_parents_not_to_be_told if {
	input.parental_position.child_asked_not_told == true
	not input.parental_position.parents_informed == true
	context.competent_child
}

# Forced marriage: the young person is told, never the parents (I19).
_applies("inform_young_person", _, outcome) if {
	_shared(outcome)
	context.transparency_applies
	not _telling_is_risky
	context.tagged("forced_marriage")
}
