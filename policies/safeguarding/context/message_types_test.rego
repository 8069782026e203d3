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

test_authorisers_in_words if {
	context.authorisers == "line manager, children's social care manager or senior manager" with input as object.union(t.base, {"message_type": "strategy_discussion_request"})
	context.authorisers == "" with input as object.union(t.base, {"message_type": "missing_child"})
	six := "line manager, children's social care manager, designated safeguarding lead, named professional, designated professional or senior manager"
	context.authorisers == six with input as t.base
}

# The document and section only: the quotation stays in the pack and the rule's METADATA.
test_authorisation_cite_drops_the_quotation if {
	context.authorisation_cite == "CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral > Outcome of Referrals" with input as object.union(t.base, {"message_type": "referral_outcome"})
	cite_only := {"authorisation": {"roles": ["line_manager"], "rule": "GR4", "source": "CPSCP-Procedures, Consulting parents", "when": "always"}}
	context.authorisation_cite == "CPSCP-Procedures, Consulting parents" with input as t.base with data.safeguarding.config.message_types.safeguarding_referral as cite_only
	every name, type in data.safeguarding.config.message_types {
		cite := context.authorisation_cite with input as object.union(t.base, {"message_type": name})
		startswith(type.authorisation.source, cite)
		not contains(cite, "\"")
	}
}
