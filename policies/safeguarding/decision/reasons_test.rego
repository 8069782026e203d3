package safeguarding.decision_test

import data.safeguarding.decision
import data.safeguarding.testing_test as t

# `school`, `refused`, `not_sought_e1` and `scoped` come from decision_test.rego (the same test package).

# --- decided_by: the finding that decided, first, in the words of its outcome --------------------

test_no_share_names_its_deciding_finding_first if {
	d := t.first(object.union(not_sought_e1, {"recipients": [school]}))
	d.outcome == "no_share"
	t.deciders(d) == ["C4"]
	d.reasons[0].rule == "C4"
	t.explained(d)
	every x in d.reasons {
		not contains(x.message, "Shared")
		not contains(x.message, "relies on")
	}
	d.reasons[count(d.reasons) - 1] == {"rule": "GR7", "message": "This decision not to share, and its reasons, are recorded.", "effect": "record"}
}

test_share_is_decided_by_the_findings_that_clear_it if {
	d := t.first({})
	t.deciders(d) == ["GR1", "GR4", "C1", "C4"]
	t.explained(d)
}

test_reasons_deciding_then_conditions_then_notes if {
	d := t.first({"parental_position": null, "sender_in_doubt": true})
	d.outcome == "hold_for_authorisation"
	t.deciders(d) == ["GR2"]
	effects := [x.effect | some x in d.reasons]
	effects[1] == "share"
	notes := [e | some e in array.slice(effects, 1, count(effects)); e != "share"]
	notes == ["needs_advice", "record"]
}

test_gr7_words_follow_the_outcome if {
	held := t.first({"lawful_basis": null})
	held.outcome == "hold_for_authorisation"
	t.messages(held, "GR7") == {"This decision to hold the information until it is authorised, and its reasons, are recorded."}
	advice := t.first({"lawful_basis": "unsure"})
	t.messages(advice, "GR7") == {"This decision to ask for advice first, and its reasons, are recorded."}
	every x in array.concat(held.reasons, advice.reasons) {
		not contains(x.message, "not to share")
	}
}

test_share_minimised_is_decided_by_the_withheld_fields if {
	fam := object.union(t.csc, {"conveys_to_family": true})
	d := t.first({"recipients": [fam]})
	d.outcome == "share_minimised"
	t.deciders(d) == ["GR5"]
	d.decided_by[0].effect == "withhold_fields"
}

test_urgent_share_is_decided_by_i14 if {
	d := t.first(object.union(refused, {"risk": {"immediate_significant_harm": true}}))
	t.deciders(d) == ["I14"]
	t.explained(d)
}

test_duty_to_share_is_decided_by_c7 if {
	d := t.first(object.union(refused, {"lawful_basis": "safeguarding_children_individuals_at_risk", "risk": {"likely_significant_harm": true}}))
	t.deciders(d) == ["C7"]
	some x in d.reasons
	x.rule == "GR4"
	x.effect == "needs_advice"
}

test_refusal_without_risk_decided_by_gr4_then_c7 if {
	d := t.first(object.union(refused, {"lawful_basis": "safeguarding_children_individuals_at_risk"}))
	t.deciders(d) == ["GR4", "C7"]
	t.explained(d)
}

test_c7_does_not_override_a_hard_objection if {
	p := object.union(refused, {"lawful_basis": "safeguarding_children_individuals_at_risk", "has_purpose_statement": false, "risk": {"likely_significant_harm": true}})
	d := t.first(p)
	d.outcome == "hold_for_authorisation"
	t.deciders(d) == ["C1"]
	some x in d.reasons
	x.rule == "C7"
	x.effect == "share"
	contains(x.message, "outweighs the objection that rests on consent alone")
}

# Under the duty to share, an objection that rests on consent alone (here consent that does not
# cover this recipient: no_share) no longer decides, however strict; the other objection does.
out_of_scope_with_harm := {
	"lawful_basis": "safeguarding_children_individuals_at_risk",
	"consent": [{"giver": "parent_pr", "status": "given_explicit", "scope_agencies": ["police-a"], "privacy_notice_given": true, "not_sought_reason": null}],
	"risk": {"likely_significant_harm": true},
}

test_duty_to_share_leaves_a_doubt_to_decide if {
	t.first(out_of_scope_with_harm).outcome == "share_urgent_review_after"
	d := t.first(object.union(out_of_scope_with_harm, {"sender_in_doubt": true}))
	d.outcome == "needs_advice"
	t.deciders(d) == ["GR3"]
	t.explained(d)
	some x in d.reasons
	x.rule == "GR4"
	x.effect == "no_share"
	t.messages(d, "C7") == {"There is a risk of significant harm, so the duty to share outweighs the objection that rests on consent alone, though not an objection on other grounds, which decides instead."}
	d.lawful_basis == "safeguarding_children_individuals_at_risk"
	d.allowed_fields != []
}

test_duty_to_share_leaves_a_hold_to_decide if {
	d := t.first(object.union(out_of_scope_with_harm, {"has_purpose_statement": false}))
	d.outcome == "hold_for_authorisation"
	t.deciders(d) == ["C1"]
	t.explained(d)
}

test_duty_to_share_drops_a_refusal_from_the_deciders_of_the_same_effect if {
	p := object.union(refused, {"lawful_basis": "safeguarding_children_individuals_at_risk", "risk": {"likely_significant_harm": true}, "sender_in_doubt": true})
	d := t.first(p)
	d.outcome == "needs_advice"
	t.deciders(d) == ["GR3"]
	some x in d.reasons
	x.rule == "GR4"
	x.effect == "needs_advice"
}

test_duty_to_share_keeps_a_hard_no_share if {
	fam := object.union(t.csc, {"conveys_to_family": true})
	d := t.first(object.union(out_of_scope_with_harm, {"concern_tags": ["forced_marriage"], "recipients": [fam]}))
	d.outcome == "no_share"
	t.deciders(d) == ["GR5", "I19"]
}

# Without the duty (no risk recorded) the consent-only objection still decides, with C7 saying why.
test_without_the_duty_a_consent_only_objection_still_decides if {
	p := object.union(out_of_scope_with_harm, {"risk": {"likely_significant_harm": false}, "sender_in_doubt": true})
	d := t.first(p)
	d.outcome == "no_share"
	t.deciders(d) == ["GR4", "C7"]
}

test_c7_overrides_consent_only_for_protective_agencies if {
	strategy := {
		"message_type": "strategy_discussion_request", "purpose": "strategy_discussion",
		"lawful_basis": "safeguarding_children_individuals_at_risk", "parental_position": null,
		"sender": {"agency_id": "csc-a", "role": "team_manager"},
		"consent": refused.consent, "risk": {"likely_significant_harm": true},
		"recipients": [object.union(school, {"need_to_know": "attend_meeting"})],
		"payload_fields": {"child": "identity", "meeting_at": "case_admin", "concern_summary": "concern_narrative"},
	}
	d := t.first(strategy)
	d.outcome == "hold_for_authorisation"
	t.deciders(d) == ["GR4"]
	some x in d.reasons
	x.rule == "C7"
	x.effect == "needs_advice"

	# It says which objection on consent alone it weighs (sg-policy-0.7.19), and whose (0.7.22).
	contains(x.message, "outweighs consent refused by a person with parental responsibility only for a protective agency")
}

test_c7_under_an_urgent_share_speaks_of_the_duty if {
	d := t.first(object.union(refused, {"lawful_basis": "safeguarding_children_individuals_at_risk", "has_purpose_statement": false, "risk": {"immediate_significant_harm": true}}))
	d.outcome == "share_urgent_review_after"
	t.messages(d, "C7") == {"There is a risk of significant harm, so the duty to share is as important as the duty of confidentiality."}
}

_prefix_rank(rule) := 0 if startswith(rule, "SYS-")

else := 1 if startswith(rule, "GR")

else := 2 if startswith(rule, "C")

else := 3

test_rule_rank_table_agrees_with_prefixes if {
	every rule, rank in decision._rule_ranks {
		_prefix_rank(rule) == rank
	}
	_prefix_rank("X9") == 3
}

test_every_configured_authorisation_rule_is_ranked if {
	every _, type in data.safeguarding.config.message_types {
		decision._rule_ranks[type.authorisation.rule]
	}
}

# C7 names the harm recorded: an adult at risk's, where no harm to a child is recorded.
test_c7_words_adult_harm if {
	decision._harm == "a risk of serious harm to an adult" with input.risk as {"serious_harm_to_adult": true}
	decision._harm == "a risk of significant harm" with input.risk as {"serious_harm_to_adult": true, "likely_significant_harm": true}
	decision._harm == "a risk of significant harm" with input.risk as {"serious_harm_to_adult": true, "immediate_significant_harm": true}
	decision._harm == "a risk of significant harm" with input.risk as {"likely_significant_harm": true}
}

# A reason not to tell the parents given only as free text is asked of those who answer advice here,
# not of "a manager", whom the product gives no advice to answer (sg-policy-0.7.27).
test_gr2_free_text_reason_asks_who_answers_advice if {
	d := t.first(object.union(refused, {
		"lawful_basis": "safeguarding_children_individuals_at_risk", "risk": {"likely_significant_harm": true},
		"parental_position": {"parents_informed": false, "reason_not_informed": null, "has_reason_text": true},
	}))
	d.outcome == "needs_advice"
	t.messages(d, "GR2") == {"The parents have not been told and the reason is given only as free text. Ask your DSL or named professional whether that reason is enough."}
}

# --- findings that speak of the notification, beside what this recipient receives (sg-policy-0.7.28) ---

# GR6 judges the notification's adequacy; what each recipient receives is C3's and GR5's. Its words said
# "every field the recipient needs", beside a family-facing recipient's withheld location.
test_gr6_speaks_of_the_notification_not_of_what_this_recipient_receives if {
	fam := object.union(t.csc, {"conveys_to_family": true})
	d := t.first({"recipients": [fam]})
	d.outcome == "share_minimised"
	t.messages(d, "GR6") == {"The notification gives every field its recipients need to act (adequate and relevant); what each receives of it is minimised apart (C3)."}
}

# Telling the person afterwards must not reach whoever a recipient would pass it on to: said where one would.
test_c8_says_telling_must_not_reach_whoever_must_not_learn_of_it if {
	fam := object.union(t.csc, {"conveys_to_alleged_perpetrator": true})
	t.messages(t.first({"recipients": [fam]}), "C8") == {"If anything is shared, the person concerned is to be told afterwards what, with whom and why, never in a way that lets someone who must not learn of it do so (golden rule 5)."}
	t.messages(t.first({}), "C8") == {"If anything is shared, the person concerned is to be told afterwards what, with whom and why."}
}

# --- C7 on a risk the sender does not know of (sg-policy-0.7.30) --------------------------------

test_c7_says_an_unknown_risk_is_unknown_not_unrecorded if {
	unknown := object.union(scoped({"scope_agencies": ["police-a"]}), {"risk": {"likely_significant_harm": null}})
	d := t.first(unknown)
	d.outcome == "no_share"
	t.messages(d, "C7") == {"Whether there is a risk of significant harm is not known, so the duty to share does not, on its own, outweigh consent that does not cover this recipient."}
	adult := object.union(scoped({"scope_agencies": ["police-a"]}), {"risk": {"serious_harm_to_adult": null}})
	t.messages(t.first(adult), "C7") == {"Whether there is a risk of serious harm to an adult is not known, so the duty to share does not, on its own, outweigh consent that does not cover this recipient."}
}

# --- GR1 on consent, C2 on a recipient that has no need to know (sg-policy-0.7.32) ----------------

# Beside "Consent: refused", GR1 read 'The lawful basis "consent" is accepted': it is, only where consent covers the share.
test_gr1_accepts_consent_as_a_basis_only_where_consent_covers_the_share if {
	shared := t.first({})
	t.messages(shared, "GR1") == {"The lawful basis \"consent\" is accepted for a safeguarding referral only where consent covers the share, which golden rule 4 checks."}
	refused_share := t.first(refused)
	refused_share.outcome != "share"
	t.messages(refused_share, "GR1") == t.messages(shared, "GR1")
	other := t.first(not_sought_e1)
	t.messages(other, "GR1") == {"The lawful basis \"safeguarding of children and individuals at risk (DPA 2018)\" is accepted for a safeguarding referral: data protection law is a framework for this sharing, not a barrier."}
}

# Under a C4 "no need to know", C2 said "the recipient must identify the people concerned to act".
test_c2_does_not_say_a_recipient_without_need_to_know_must_act if {
	d := t.first(object.union(not_sought_e1, {"recipients": [school]}))
	t.deciders(d) == ["C4"]
	t.messages(d, "C2") == {"Personal data is necessary here: whoever acts on it must identify the people concerned."}
}
