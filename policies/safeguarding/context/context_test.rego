package safeguarding.context_test

import data.safeguarding.context
import data.safeguarding.testing_test as t

test_valid_base_input if context.valid_input with input as t.base

test_unknown_data_class_is_invalid if {
	not context.valid_input with input as object.union(t.base, {"payload_fields": {"x": "no_such_class"}})
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
	startswith(context.exception_label, "E3") with input as inp
}

test_consent_applies_by_fact if {
	inp := object.union(t.base, {"message_type": "child_move_transfer", "payload_facts": {"transfer_type": "cin_or_assessment"}})
	context.consent_applies with input as inp
}
