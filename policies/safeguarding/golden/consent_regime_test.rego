# GR4 on a type the partnership's procedures ask no consent for (sg-policy-0.7.33): the share names
# the lawful basis it rests on instead, and any refusal on record, so a Caldicott Guardian reading
# its decision sees why no consent was sought.
package safeguarding.golden_consent_regime_test

import data.safeguarding.testing_test as t

refused := [{"giver": "parent_pr", "status": "refused", "scope_agencies": null, "privacy_notice_given": null, "not_sought_reason": null}]

missing := {
	"message_type": "missing_child", "purpose": "missing_child_response", "lawful_basis": "public_interest",
	"consent": [], "parental_position": null, "risk": {"likely_significant_harm": true},
	"recipients": [t.police],
	"payload_fields": {"child": "identity", "age_band": "case_admin", "missing_since": "case_admin", "physical_description": "identity", "last_known_location": "location_safety"},
}

school_notice := {
	"message_type": "domestic_abuse_school_notification", "purpose": "school_support",
	"lawful_basis": "safeguarding_children_individuals_at_risk", "consent": [], "parental_position": null,
	"sender": {"agency_id": "police-a", "role": "police_public_protection"},
	"recipients": [{"agency_id": "school-a", "role": "dsl", "need_to_know": "provide_support", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}],
	"payload_fields": {"exposure": "case_status", "pupil": "identity", "incident_at": "case_admin", "police_reference": "case_admin"},
	"payload_facts": {"exposure": "witnessed"},
}

test_a_statutory_notice_says_consent_is_not_sought_and_its_basis if {
	d := t.first(missing)
	d.outcome == "share"
	"GR4" in t.deciders(d)
	t.messages(d, "GR4") == {"The partnership's procedures require a missing child notice to be sent, so consent is not sought: it rests on the lawful basis \"overriding public interest\"."}
}

test_another_type_without_consent_names_its_basis if {
	d := t.first(school_notice)
	d.outcome == "share"
	"GR4" in t.deciders(d)
	t.messages(d, "GR4") == {"The partnership's procedures do not ask consent for a domestic abuse school notification: it rests on the lawful basis \"safeguarding of children and individuals at risk (DPA 2018)\"."}
}

test_a_refusal_on_record_is_named_and_does_not_stop_it if {
	d := t.first(object.union(missing, {"consent": refused}))
	d.outcome == "share"
	t.messages(d, "GR4") == {"The partnership's procedures require a missing child notice to be sent, so consent is not sought: it rests on the lawful basis \"overriding public interest\". Consent was refused by a person with parental responsibility, which does not stop it."}
}

test_a_basis_the_type_does_not_accept_gets_no_gr4_finding if {
	d := t.first(object.union(school_notice, {"lawful_basis": "crime_prevention_s115_cda1998"}))
	d.outcome == "hold_for_authorisation"
	t.deciders(d) == ["GR1"]
	not "GR4" in t.rules(d)
}

test_no_basis_gets_no_gr4_finding if {
	d := t.first(object.union(missing, {"lawful_basis": null}))
	not "GR4" in t.rules(d)
}

test_an_advice_request_gets_no_gr4_finding if {
	d := t.first({
		"message_type": "advice_request", "purpose": "seek_advice", "lawful_basis": "public_interest",
		"consent": [], "parental_position": null,
		"sender": {"agency_id": "gp-a", "role": "named_professional", "is_professional": true},
		"recipients": [{"agency_id": "gp-a", "role": "named_professional", "need_to_know": "assess_and_decide", "conveys_to_family": false, "conveys_to_alleged_perpetrator": false}],
		"payload_fields": {"stage": "case_status", "topic": "case_status", "question": "concern_narrative"},
		"payload_facts": {"stage": "question", "topic": "other"},
	})
	d.outcome == "share"
	not "GR4" in t.rules(d)
}
