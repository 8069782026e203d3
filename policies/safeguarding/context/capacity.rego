# Who may give the consent a share relies on. A child's own consent counts only where the child is
# not recorded as lacking the competence or capacity for the decision, and an adult's only where the
# adult is not recorded as lacking capacity for it. A refusal from either still counts: it can only
# make sharing stricter, and the conditions for sharing without consent still apply. Same package as
# context.rego (sg-policy-0.7.14).
package safeguarding.context

# METADATA
# title: A consent given by someone recorded as unable to give it
# description: >-
#   Explicit consent from the child where a child the notification is about is recorded as not
#   Gillick competent or lacking capacity for the decision, or from the adult subject where an adult
#   victim or adult at risk is recorded as lacking capacity for it. Not assessed is not a finding of
#   incompetence: the sender's choice of giver stands. Where one child is recorded as able to decide
#   and a sibling not, the consent is taken as the able child's own (sg-policy-0.7.17): the policy
#   input does not say whose a consent record is among several children.
# custom:
#   source: >-
#     CPSCP-Procedures, Self-harm > Information Sharing and Consent: "Where a child is not
#     competent, a person with parental responsibility should give consent unless the circumstances
#     for sharing without consent apply"; CPCH-Policy, 6. Strategy Meeting/Safeguarding Enquiries:
#     consent "must be sought from individuals, unless there are concerns about their mental
#     capacity"
unfit(c) if {
	c.status == "given_explicit"
	some s in object.get(input, "subjects", [])
	_unable(c.giver, s)
}

_unable("child", s) if {
	s.role_in_case == "child"
	"no" in {s.gillick_competent, s.mental_capacity}
	not competent_child
}

_unable("adult_subject", s) if {
	s.role_in_case in {"adult_victim", "adult_at_risk"}
	s.mental_capacity == "no"
}

# METADATA
# title: Whose consent was set aside as theirs not to give, in plain English
# description: The givers of the consents unfit sets aside, in the policy's words, once each.
unfit_givers := concat(" and ", sort({_giver_words[c.giver] | some c in input.consent; c.giver != "referrer"; unfit(c)}))

_giver_words := {
	"child": "the child, recorded as not competent to decide this",
	"adult_subject": "the adult, recorded as lacking capacity for this decision",
}

# METADATA
# title: A child the notification is about is recorded as able to decide for themselves
# description: >-
#   Gillick competent, or with capacity for the decision: whose wish that the parents not be told
#   golden rule 2 respects (sg-policy-0.7.15).
# custom:
#   source: >-
#     CPSCP-Procedures, Self-harm > Information Sharing and Consent: "if a competent child wants to
#     limit the information given to their parents or does not want them to know it at all; the
#     child's wishes should be respected"
competent_child if {
	some s in object.get(input, "subjects", [])
	s.role_in_case == "child"
	"yes" in {s.gillick_competent, s.mental_capacity}
	not "no" in {s.gillick_competent, s.mental_capacity}
}
