package safeguarding.context_test

import data.safeguarding.context
import data.safeguarding.testing_test as t

test_valid_base_input if context.valid_input with input as t.base

test_unknown_data_class_is_invalid if {
	not context.valid_input with input as object.union(t.base, {"payload_fields": {"x": "no_such_class"}})
}

# A payload field's class must be a key of the matrix; every key is a row of column levels.
test_every_matrix_class_has_column_levels if {
	every _, row in data.safeguarding.config.matrix {
		is_object(row)
	}
}

test_non_string_data_class_is_invalid if {
	not context.valid_input with input as object.union(t.base, {"payload_fields": {"x": null}})
	not context.valid_input with input as json.patch(t.base, [{"op": "replace", "path": "/payload_fields", "value": ["identity"]}])
}

test_wrong_types_are_invalid if {
	not context.valid_input with input as object.union(t.base, {"lawful_basis": 3})
	not context.valid_input with input as object.union(t.base, {"recipients": []})
}

test_registry_revision_reported if context.registry_revision == "test-registry-1" with data.registry as t.registry

test_agency_name_falls_back_to_id if context.agency_name({"agency_id": "probation-a"}) == "probation-a" with data.registry as t.registry

test_exceptions_collected if {
	inp := object.union(t.base, {"parental_position": {"reason_not_informed": "loss_of_evidence"}})
	context.exceptions == {"loss_of_evidence"} with input as inp
	context.consent_exceptions == set() with input as inp
	context.consent_reasons == "for a recorded reason: seeking consent could lose evidence" with input as inp
}

# Every recorded reason is named, in code order, the first three and a count.
test_exception_words_lists_each_label if {
	context.exception_words({"unreasonable_delay", "cannot_consent"}) == "the person cannot give consent and seeking consent would cause undue delay"
	many := {"cannot_consent", "loss_of_evidence", "prejudice_crime", "unreasonable_delay"}
	context.exception_words(many) == "the person cannot give consent, seeking consent could lose evidence, telling the person or their family could prejudice the detection of crime and 1 more"
	context.recorded_reasons({"cannot_consent", "loss_of_evidence"}) == "for recorded reasons: the person cannot give consent and seeking consent could lose evidence"
	context.exception_words({"no_such_code"}) == "no such code"
}

test_consent_applies_by_fact if {
	inp := object.union(t.base, {"message_type": "child_move_transfer", "payload_facts": {"transfer_type": "cin_or_assessment"}})
	context.consent_applies with input as inp
}

test_unknown_schema_version_is_an_error if {
	some e in context.errors with input as object.union(t.base, {"schema_version": "9.9"}) with data.registry as t.registry
	e.rule == "SYS-INPUT"
	contains(e.message, "schema version")
}

test_second_version_of_a_type_is_accepted if {
	inp := object.union(t.base, {"message_type": "referral_acknowledgement", "schema_version": "2.0"})
	count(context.errors) == 0 with input as inp with data.registry as t.registry
}

# Messages name codes as practitioners write them; a code the pack does not name reads as words.
test_words_use_the_pack_names if {
	context.words("lado_allegation") == "LADO allegation"
	context.words("dsl") == "designated safeguarding lead"
	context.words("safeguarding_children_individuals_at_risk") == "safeguarding of children and individuals at risk (DPA 2018)"
	context.words("referral_outcome") == "referral outcome"
	context.words_list(["mash_intake", "social_worker"]) == "MASH intake, social worker"
}

test_message_type_article_follows_the_sound if {
	context.a_mt == "a LADO allegation" with input as object.union(t.base, {"message_type": "lado_allegation"})
	context.a_mt == "an NRM referral" with input as object.union(t.base, {"message_type": "nrm_referral"})
	context.a_mt == "an early help assessment share" with input as object.union(t.base, {"message_type": "early_help_assessment_share"})
	context.the_mt == "A Section 47 enquiry" with input as object.union(t.base, {"message_type": "s47_enquiry"})
}

# A name is never empty and an article is "a" or "an" (tests/ui/test_words.py checks every named
# code is a vocabulary code).
test_every_name_is_a_non_empty_string if {
	every _, name in data.safeguarding.config.names {
		is_string(name)
		name != ""
	}
	every _, article in data.safeguarding.config.articles {
		article in {"a", "an"}
	}
}

# A consent's scope is as long as the sender makes it: the message lists three items and a count.
_scoped(scope) := object.union(t.base, {
	"purpose": "safeguarding_concern",
	"recipients": [t.police],
	"consent": [object.union({"giver": "parent_pr", "status": "given_explicit", "scope_agencies": null, "privacy_notice_given": true, "not_sought_reason": null}, scope)],
})

test_scope_gap_lists_the_first_purposes_then_a_count if {
	purposes := ["child_death_review", "professional_escalation", "request_for_services", "strategy_discussion", "transition_planning"]
	gap := context.scope_gap(t.police) with input as _scoped({"scope_purposes": purposes}) with data.registry as t.registry
	gap == "The consent recorded covers only child death review, professional escalation, request for services or 2 more purposes; it does not cover safeguarding concern."
}

# A recipient reads its own decision: the gap names it alone, never the agencies the consent
# covers, which would tell it who else was sent the notification (sg-policy-0.7.16).
test_scope_gap_names_the_recipient_not_the_agencies_covered if {
	ids := [sprintf("unlisted-%d", [i]) | some i in numbers.range(1, 40)]
	every scope in [{"scope_agencies": ids, "scope_agency_types": ["csc_front_door"]}, {"scope_agencies": ["school-a", "health-a"]}, {"scope_agencies": []}] {
		gap := context.scope_gap(t.police) with input as _scoped(scope) with data.registry as t.registry
		gap == "The consent recorded does not cover Test Police A."
	}
}

test_scope_gap_says_when_the_scope_names_no_purpose if {
	context.scope_gap(t.police) == "The consent recorded covers no purpose; it does not cover safeguarding concern." with input as _scoped({"scope_purposes": []}) with data.registry as t.registry
}

# A referrer's consent record is about their own identity only (subject_consents): its reason for
# not seeking consent is no exception for the people the information is about.
test_referrer_records_give_no_exception if {
	inp := object.union(t.base, {"consent": [
		{"giver": "parent_pr", "status": "refused", "scope_agencies": null, "privacy_notice_given": true, "not_sought_reason": null},
		{"giver": "referrer", "status": "not_sought", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": "not_reasonable_to_obtain"},
	]})
	context.exceptions == set() with input as inp
	not context.consent_reasons with input as inp
}

# GR4 names each refusal's giver and what they did, once each (sg-policy-0.7.22).
test_refusal_names_who_refused_or_withdrew if {
	child_withdrew := {"giver": "child", "status": "withdrawn", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": null}
	both := object.union(data.safeguarding.decision_test.refused, {"lawful_basis": "public_interest", "consent": array.concat(data.safeguarding.decision_test.refused.consent, [child_withdrew, data.safeguarding.decision_test.refused.consent[0]])})
	d := t.first(both)
	d.decided_by[0].message == "Consent was refused by a person with parental responsibility and withdrawn by the child themselves, and no exception is recorded. Ask your DSL or named professional, as the nominated child protection adviser, and record the outcome."
	services := t.first(object.union(data.safeguarding.decision_test.refused, {"purpose": "request_for_services"}))
	startswith(services.decided_by[0].message, "Consent is always needed to request services for a family, and it was refused by a person with parental responsibility. ")
}

# On an adult's notification GR4 speaks of the person and the agency's safeguarding lead (sg-policy-0.7.24).
test_gr4_in_an_adults_words if {
	adult := data.safeguarding.golden_test.adult
	unsought := {"giver": "adult_subject", "status": "not_sought", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": null}
	t.messages(t.first(object.union(adult, {"consent": [unsought]})), "GR4") == {"Consent was not sought and no reason is recorded. Seek consent, or record why seeking it would be unsafe or wrong (for example: it would put the person at risk, or lose evidence)."}
	refused := object.union(unsought, {"status": "refused"})
	t.messages(t.first(object.union(adult, {"consent": [refused]})), "GR4") == {"Consent was refused by the person themselves, and no exception is recorded. Ask your agency's safeguarding lead (its DSL or named professional), and record the outcome."}
	child := {"lawful_basis": "safeguarding_children_individuals_at_risk", "consent": [object.union(unsought, {"giver": "parent_pr"})]}
	t.messages(t.first(child), "GR4") == {"Consent was not sought and no reason is recorded. Seek consent, or record why seeking it would be unsafe or wrong (for example: it would put the child at risk, or lose evidence)."}
}
