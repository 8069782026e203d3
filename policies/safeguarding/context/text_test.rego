package safeguarding.context_test

import data.safeguarding.caldicott
import data.safeguarding.config
import data.safeguarding.context
import data.safeguarding.decision
import data.safeguarding.golden
import data.safeguarding.testing_test as t

_text(n) := concat("", [c | some i in numbers.range(1, n); c := substring("abcdefghij", i % 10, 1)])

test_fit_keeps_a_message_within_the_limit if {
	context.fit("Short.") == "Short."
	context.fit(_text(500)) == _text(500)
}

test_fit_cuts_a_longer_message_to_the_limit if {
	cut := context.fit(_text(501))
	count(cut) == 500
	endswith(cut, "…")
	startswith(_text(501), trim_suffix(cut, "…"))
	count(context.fit(_text(5000))) == 500
}

test_few_lists_the_first_items_then_how_many_more if {
	context.few([], 3, "or", "more") == ""
	context.few(["A"], 3, "or", "more") == "A"
	context.few(["A", "B"], 3, "or", "more") == "A or B"
	context.few(["A", "B", "C"], 3, "and", "more") == "A, B and C"
	context.few(["A", "B", "C", "D", "E"], 3, "or", "more purposes") == "A, B, C or 2 more purposes"
}

# The rule ids the policy can emit fit the receipt's and the log's (schemas/policy_decision.py
# RULE_ID_PATTERN, at most 32 characters): its own and the pack's authorisation rules.
test_every_rule_id_fits_the_receipt if {
	pack_rules := {type.authorisation.rule | some type in config.message_types}
	every rule in object.keys(decision._rule_ranks) | pack_rules {
		regex.match(`^(GR[1-7]|C[1-8]|I[0-9]{2}|SYS-[A-Z-]{1,28})$`, rule)
	}
}

_bases := {b | some type in config.message_types; some b in type.lawful_bases}

# The first wording of a finding set (each rule here gives one finding).
_message(findings) := [f.message | some f in findings][0]

# What the pack decides the length of: per message type, the lawful bases offered (GR1), the
# fields a notification lacks (GR6), who may send it (C1) and who may authorise it (GR4). None of
# those wordings needs `fit` with the shipped pack: it is a backstop, not how a message is written.
_pack_messages contains m if {
	some name, type in config.message_types
	some basis in (_bases - {b | some b in type.lawful_bases})
	m := _message(golden.gr1) with input as object.union(t.base, {"message_type": name, "lawful_basis": basis})
}

_pack_messages contains m if {
	some name, _ in config.message_types
	m := _message(golden.gr6) with input as object.union(t.base, {"message_type": name, "payload_fields": {}})
}

_pack_messages contains m if {
	some name, type in config.message_types
	some senders in array.concat([type.sender_types], [s | some _, s in object.get(type, "stage_sender_types", {})])
	count(senders) > 0
	outsider := min({x | some x, _ in config.agency_types; not x in senders})
	registry := object.union(t.registry, {"agencies": {"outsider-a": {"type": outsider, "name": "Test Outsider A"}}})
	stage := [s | some s, listed in object.get(type, "stage_sender_types", {}); listed == senders]
	patch := {"message_type": name, "purpose": type.purposes[0], "sender": {"agency_id": "outsider-a"}, "payload_facts": {"stage": array.concat(stage, [""])[0]}}
	m := _message(caldicott.c1) with input as t.merged(patch) with data.registry as registry
}

_pack_messages contains m if {
	some name, type in config.message_types
	count(type.authorisation.roles) > 0
	some authorisation in [
		{"authoriser_role": type.authorisation.roles[0], "has_reason": true, "verified": true},
		{"authoriser_role": type.authorisation.roles[0], "has_reason": true, "verified": false},
		null,
	]
	m := _message(golden._gr4_authorised) with input as object.union(t.base, {"message_type": name, "authorisation": authorisation})
}

test_no_pack_wording_needs_cutting if {
	count(_pack_messages) > 100
	every m in _pack_messages {
		count(m) <= context.max_message
		endswith(m, ".")
	}
}

test_the_pack_reaches_every_wording_it_sizes if {
	prefixes := {"The lawful basis", "The notification is not adequate", "can only be sent by", "Authorised by the", "Waiting for authorisation by one of"}
	every p in prefixes {
		some m in _pack_messages
		contains(m, p)
	}
}
