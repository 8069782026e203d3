# Who is told afterwards that their information was shared (Caldicott 8): the person or the parents,
# the young person alone in forced marriage (I19), or where a young person able to decide asked that
# the parents not be told (GR2, sg-policy-0.7.18). Same package as obligations.rego, whose catalogue
# holds their words.
package safeguarding.obligations

import data.safeguarding.context

# At most one such duty, the same for every recipient: only whether this recipient is sent anything
# is the recipient's, so the rest is decided once per notification (sg-policy-0.7.25), where each of
# four duties was tried for each recipient before.
_inform := [duty |
	duty := _inform_duty
	context.transparency_applies
	not _telling_is_risky
]

_applies(kind, _, outcome) if {
	kind == _inform_duty
	_shared(outcome)
}

# Forced marriage: the young person is told, never the family (I19); on an adult's notification the
# person, in words about them (sg-policy-0.7.25). A young person able to decide asked that the parents
# not be told (GR2 respects it): they are told, not the parents (sg-policy-0.7.18). An adult is told
# themselves: the catalogue's words for them name no parents (sg-policy-0.7.23).
_inform_duty := "inform_young_person" if {
	context.tagged("forced_marriage")
	not context.about_adult
} else := "inform_adult_alone" if {
	context.tagged("forced_marriage")
} else := "inform_young_person_only" if {
	_parents_not_to_be_told
} else := "inform_adult" if {
	not input.parental_position.parents_informed == true
	context.about_adult
} else := "inform_subject" if {
	not input.parental_position.parents_informed == true
}

_parents_not_to_be_told if {
	input.parental_position.child_asked_not_told == true
	not input.parental_position.parents_informed == true
	context.competent_child
}
