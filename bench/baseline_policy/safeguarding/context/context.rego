# METADATA
# title: Notification context
# description: >-
#   Shared facts for every safeguarding rule: input validation, the agency registry
#   (data.registry, pushed by the gateway) and the partnership policy pack
#   (data.safeguarding.config). Missing or malformed input and registry data make
#   `errors` non-empty, which forces no_share for every recipient (fail closed).
# related_resources:
#   - description: decision contract (input envelope) and the partnership policy pack
#     ref: policies/README.md
package safeguarding.context

import data.safeguarding.config

# METADATA
# title: Message type configuration
# description: The policy-pack entry for the notification's message type.
mt := config.message_types[input.message_type]

# METADATA
# title: Message type name for messages, with its article ("an adult safeguarding referral")
# description: >-
#   The article is the pack's (`articles`) where the name's sound is not its first letter's
#   ("an NRM referral"), otherwise "an" before a vowel.
a_mt := sprintf("%s %s", [article, _mt_name]) if {
	article := config.articles[input.message_type]
	is_string(article)
} else := sprintf("an %s", [_mt_name]) if {
	lower(substring(_mt_name, 0, 1)) in {"a", "e", "i", "o", "u"}
} else := sprintf("a %s", [_mt_name])

# METADATA
# title: Message type name for messages, capitalised, with its article
the_mt := sprintf("%s%s", [upper(substring(a_mt, 0, 1)), substring(a_mt, 1, -1)])

_mt_name := words(input.message_type)

# METADATA
# title: Input is well formed
# description: Every key the rules read exists with the right JSON type.
valid_input if {
	is_string(input.partnership_id)
	is_object(mt)
	_nullable_string(input.purpose)
	_nullable_string(input.lawful_basis)
	is_boolean(input.has_purpose_statement)
	is_boolean(input.sender_in_doubt)
	is_string(input.initial_contact)
	is_object(input.risk)
	is_object(input.restrictions)
	is_object(input.payload_facts)
	is_array(input.consent)
	is_array(input.concern_tags)
	is_array(input.subjects)
	_valid_sender
	_valid_recipients
	_valid_payload_fields
	_nullable_object(input.parental_position)
	_nullable_object(input.authorisation)
}

_nullable_string(x) if is_string(x)

_nullable_string(x) if is_null(x)

_nullable_object(x) if is_object(x)

_nullable_object(x) if is_null(x)

_valid_sender if {
	is_string(input.sender.agency_id)
	is_string(input.sender.role)
	is_boolean(input.sender.is_professional)
}

_valid_recipients if {
	is_array(input.recipients)
	count(input.recipients) > 0
	every r in input.recipients {
		is_string(r.agency_id)
		is_string(r.role)
		_nullable_string(r.need_to_know)
		is_boolean(r.conveys_to_family)
		is_boolean(r.conveys_to_alleged_perpetrator)
	}
}

_valid_payload_fields if {
	is_object(input.payload_fields)
	every _, data_class in input.payload_fields {
		is_object(config.matrix[data_class])
	}
}

# METADATA
# title: Whole-notification errors
# description: Any entry here makes every recipient no_share; the reason names what is wrong.
errors contains {"rule": "SYS-INPUT", "effect": "no_share", "message": "The notification could not be checked: required policy input is missing or malformed, so nothing is shared."} if {
	not valid_input
}

errors contains {"rule": "SYS-INPUT", "effect": "no_share", "message": "The notification's schema version is not one this policy pack decides for its message type, so nothing is shared."} if {
	is_object(mt)
	not input.schema_version in mt.schema_versions
}

errors contains {"rule": "SYS-REGISTRY", "effect": "no_share", "message": "The agency registry is not loaded in the policy engine, so no recipient can be verified and nothing is shared."} if {
	not _registry_loaded
}

errors contains {"rule": "SYS-REGISTRY", "effect": "no_share", "message": "The notification names a different partnership from the one this policy engine serves, so nothing is shared."} if {
	_registry_loaded
	input.partnership_id != data.registry.partnership_id
}

errors contains {"rule": "SYS-AGENCY", "effect": "no_share", "message": "The sending agency is not registered in this partnership, so nothing is shared."} if {
	_registry_loaded
	not _known_agency(input.sender.agency_id)
}

_registry_loaded if {
	is_string(data.registry.revision)
	is_string(data.registry.partnership_id)
	is_object(data.registry.agencies)
}

_known_agency(agency_id) if is_object(config.agency_types[data.registry.agencies[agency_id].type])

# METADATA
# title: Registry revision
# description: The registry revision the decision used, or null when none is loaded.
registry_revision := data.registry.revision if _registry_loaded

else := null

# METADATA
# title: Recipient agency type
# description: Policy-pack settings for the recipient's registered agency type.
type_conf(r) := config.agency_types[data.registry.agencies[r.agency_id].type]

# METADATA
# title: Recipient agency type name
agency_type(r) := data.registry.agencies[r.agency_id].type

# METADATA
# title: Recipient agency name for messages
agency_name(r) := data.registry.agencies[r.agency_id].name if is_string(data.registry.agencies[r.agency_id].name)

else := r.agency_id

# METADATA
# title: The recipient's agency gives the permission this material needs
# description: >-
#   The Coroner decides who sees post-mortem material, so the Coroner's officer needs no
#   separate permission (policy pack `grants_permission`).
grants_permission(r, data_class) if data_class in object.get(type_conf(r), "grants_permission", [])

# METADATA
# title: Registered recipient
recipient_known(r) if is_object(type_conf(r))

# METADATA
# title: Sender agency type
sender_type := data.registry.agencies[input.sender.agency_id].type

# METADATA
# title: Sender agency type settings
sender_conf := config.agency_types[sender_type]

# METADATA
# title: Minimisation matrix column of a recipient
column(r) := type_conf(r).column

# METADATA
# title: Protective agency
# description: CSC front door, CSC teams, receiving local authority and police.
protective(r) if type_conf(r).protective == true

# METADATA
# title: Immediate risk of significant harm
immediate if input.risk.immediate_significant_harm == true

# METADATA
# title: Likely significant harm or serious harm to an adult
likely_harm if input.risk.likely_significant_harm == true

likely_harm if input.risk.serious_harm_to_adult == true

likely_harm if immediate

# METADATA
# title: Any recorded risk of harm
any_risk if likely_harm

any_risk if input.risk.risk_to_others == true

# METADATA
# title: Urgent share to a protective agency
# description: >-
#   Immediate risk of significant harm and a protective recipient: never blocked
#   (CPSCP-Procedures, Responding to concerns about a child > Responsibilities of agencies
#   and organisations: a referral "must not be delayed by the need for consultation");
#   step 2 of the decision order in policies/README.md.
urgent(r) if {
	immediate
	protective(r)
}

# METADATA
# title: Recipient passes information to the family or alleged perpetrator
family_facing(r) if r.conveys_to_family == true

family_facing(r) if r.conveys_to_alleged_perpetrator == true

# METADATA
# title: Consent records of the people the information is about
# description: Referrers' consent is about their own identity only.
subject_consents := [c | some c in input.consent; c.giver != "referrer"; not unfit(c)]

# METADATA
# title: Explicit consent covers this recipient and purpose
consent_given_for(r) if {
	some c in subject_consents
	c.status == "given_explicit"
	covers(c, r)
	not consent_refused
}

# METADATA
# title: Who gave the explicit consent that covers this recipient, in plain English
# description: Each giver once; a consent set aside as not its giver's to give is not among them.
given_by(r) := concat(" and ", sort({_consent_givers[c.giver] | some c in subject_consents; c.status == "given_explicit"; covers(c, r)}))

_consent_givers := {"parent_pr": "a person with parental responsibility", "child": "the child themselves", "adult_subject": "the person themselves"}

refused_by := concat(" and ", sort({sprintf("%s by %s", [c.status, _consent_givers[c.giver]]) | some c in subject_consents; c.status in {"refused", "withdrawn"}}))

# METADATA
# title: A consent record's scope covers this recipient and the notification's purpose
# description: >-
#   Agencies by id or by type: once either list is given, the recipient must be named by one
#   of them. Purposes likewise. A missing or null list means no limit stated.
covers(c, r) if {
	_agency_in_scope(c, r)
	_purpose_in_scope(c)
}

_agency_in_scope(c, _) if {
	object.get(c, "scope_agencies", null) == null
	object.get(c, "scope_agency_types", null) == null
}

_agency_in_scope(c, r) if r.agency_id in object.get(c, "scope_agencies", null)

_agency_in_scope(c, r) if agency_type(r) in object.get(c, "scope_agency_types", null)

_purpose_in_scope(c) if object.get(c, "scope_purposes", null) == null

_purpose_in_scope(c) if input.purpose in object.get(c, "scope_purposes", null)

_given := [c | some c in subject_consents; c.status == "given_explicit"]

# METADATA
# title: Explicit consent exists but its scope leaves this recipient or purpose out
consent_out_of_scope(r) if {
	count(_given) > 0
	not consent_refused
	not consent_given_for(r)
}

# METADATA
# title: What the recorded consent does not cover, in plain English
# description: >-
#   The purpose when no consent names it, with what the consent does cover; otherwise the
#   recipient alone (mirroring sg-policy-0.7.16). Only meaningful when consent_out_of_scope(r).
scope_gap(r) := sprintf("The consent recorded covers only %s; it does not cover %s.", [
	concat(" or ", sort({words(p) | some c in _given; some p in object.get(c, "scope_purposes", [])})),
	words(input.purpose),
]) if {
	every c in _given {
		not _purpose_in_scope(c)
	}
} else := sprintf("The consent recorded does not cover %s.", [agency_name(r)])

# METADATA
# title: Consent refused or withdrawn
consent_refused if {
	some c in subject_consents
	c.status in {"refused", "withdrawn"}
}

# METADATA
# title: Sender unsure of consent
consent_unsure if {
	some c in subject_consents
	c.status == "unsure"
}

# METADATA
# title: Consent not required by the regime
consent_not_required if {
	some c in subject_consents
	c.status == "not_required"
}

# METADATA
# title: Non-professional referrer agreed to be named to this recipient
referrer_consents_for(r) if {
	some c in input.consent
	c.giver == "referrer"
	c.status == "given_explicit"
	covers(c, r)
}

# METADATA
# title: Recorded exception codes (E1-E10 reasons consent was not sought)
exceptions contains code if some code in consent_exceptions

exceptions contains input.parental_position.reason_not_informed if is_string(input.parental_position.reason_not_informed)

# METADATA
# title: Exception codes the subjects' consent records give
consent_exceptions contains c.not_sought_reason if {
	some c in subject_consents
	is_string(c.not_sought_reason)
}

# METADATA
# title: Why consent or agreement was not sought, in words (the subjects' reasons, else the parents')
consent_reasons := recorded_reasons(consent_exceptions) if count(consent_exceptions) > 0

else := recorded_reasons(exceptions) if count(exceptions) > 0

# METADATA
# title: Recorded reasons, in words
recorded_reasons(codes) := sprintf("for a recorded reason: %s", [exception_words(codes)]) if count(codes) == 1

else := sprintf("for recorded reasons: %s", [exception_words(codes)])

# METADATA
# title: Exception codes in words, in code order, the first three and how many more
exception_words(codes) := few([_exception_label(code) | some code in sort(codes)], 3, "and", "more")

_exception_label(code) := config.exception_labels_adult[code] if {
	input.message_type in config.adult_message_types
} else := object.get(config.exception_labels, code, words(code))

# METADATA
# title: The first few items of a list, then how many more (as policies/ context.few)
few(items, n, conj, more) := sprintf("%s %s %d %s", [concat(", ", array.slice(items, 0, n)), conj, count(items) - n, more]) if {
	count(items) > n
} else := sprintf("%s %s %s", [concat(", ", array.slice(items, 0, count(items) - 1)), conj, items[count(items) - 1]]) if {
	count(items) > 1
} else := concat("", items)

# METADATA
# title: Tag present
tagged(tag) if tag in input.concern_tags

# METADATA
# title: A rule finding
# description: >-
#   effect is share (the rule supports sharing), no_share, hold_for_authorisation or
#   needs_advice. A soft finding rests on consent alone, which a risk of significant
#   harm outweighs (C7); urgency (I14) outweighs every finding.
finding(rule, effect, message) := {"rule": rule, "effect": effect, "message": message, "soft": false}

# METADATA
# title: A finding that a risk of significant harm outweighs
soft_finding(rule, effect, message) := {"rule": rule, "effect": effect, "message": message, "soft": true}

# METADATA
# title: A code in words
# description: >-
#   A vocabulary code as a reader sees it in a message: its name in the pack (`names`:
#   "lado_allegation" reads "LADO allegation", "dsl" reads "designated safeguarding lead") or,
#   for a code that reads as words already, the code with spaces ("referral_outcome").
words(code) := name if {
	name := config.names[code]
	is_string(name)
} else := replace(code, "_", " ")

# METADATA
# title: Codes in words, joined
words_list(codes) := concat(", ", [words(c) | some c in codes])

# METADATA
# title: A consent given by someone recorded as unable to give it (mirroring sg-policy-0.7.14)
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
# title: Whose consent was set aside, in plain English
unfit_givers := concat(" and ", sort({_giver_words[c.giver] | some c in input.consent; c.giver != "referrer"; unfit(c)}))

_giver_words := {
	"child": "the child, recorded as not competent to decide this",
	"adult_subject": "the adult, recorded as lacking capacity for this decision",
}

# METADATA
# title: A child recorded as able to decide for themselves (mirroring sg-policy-0.7.15)
competent_child if {
	some s in object.get(input, "subjects", [])
	s.role_in_case == "child"
	"yes" in {s.gillick_competent, s.mental_capacity}
	not "no" in {s.gillick_competent, s.mental_capacity}
}
