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
	context.exception_label == "seeking consent could lose evidence" with input as inp
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
