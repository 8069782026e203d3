package safeguarding.context_test

import data.safeguarding.context
import data.safeguarding.testing_test as t

test_advice_request_flag if {
	context.advice_request with input as object.union(t.base, {"message_type": "advice_request"})
	not context.advice_request with input as t.base
}

test_mandatory_fields_of_a_type if {
	context.mandatory_fields == {"harm_kind", "harmed_child", "child_who_harmed", "incident_account"} with input as object.union(t.base, {"message_type": "child_on_child_harm_referral"})
}
