# Message type rules of the policy pack:
#   per-type facts read from the partnership policy pack (data.safeguarding.config): whether
#   consent applies, statutory notices, advice requests, transparency, mandatory fields and
#   authorisation. Same package as context.rego.
package safeguarding.context

# METADATA
# title: Consent rules apply to this notification
consent_applies if mt.consent_applies == true

consent_applies if {
	some fact, values in mt.consent_applies_when
	input.payload_facts[fact] in values
}

# METADATA
# title: Statutory notice with no consent regime
# description: >-
#   A notice the partnership's procedures require whatever the family's wishes (policy pack
#   `statutory_notice`: child death, missing child, transfer between local authorities) and
#   to which no consent rule applies here. Consent and the health-information threshold of
#   GR3 do not hold it back; minimisation and the legal gates still apply.
# custom:
#   source: >-
#     CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local
#     Authority's Area to Another > Child Subject of a Child Protection Plan: the information
#     "should be shared in all circumstances"; CPSCP-Procedures, Child death > 4.2 Informing the
#     Co-ordinator for Child Death Overview Panel (CDOP) Arrangements: "The Safeguarding Childrens
#     Partnership must be informed about the child death via the CDOP Manager"; CPSCP-Procedures, All
#     Children Presenting Alone or with Adults who are Not Their Parents > Part 2 - Child Victims
#     of Trafficking and/or Modern Slavery > Assessment: "The social worker must immediately pass
#     to the police any information on the child"
statutory_notice if {
	mt.statutory_notice == true
	not consent_applies
}

# METADATA
# title: The notification is a de-identified request for advice (M32)
# description: >-
#   Asking is how golden rule 3 resolves a doubt, so neither an unsure lawful basis nor the
#   sender's doubt holds an advice request back; it carries no identifying field (C2).
# custom:
#   source: >-
#     CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing,
#     rule 3: "Seek advice from other practitioners, or your information governance lead, if you
#     are in any doubt about sharing the information concerned, without disclosing the identity of
#     the individual where possible."
advice_request if mt.advice_request == true

# METADATA
# title: The people concerned are told about the sharing (GR2, C8)
transparency_applies if consent_applies

transparency_applies if mt.parental_position_required == true

# METADATA
# title: Fields this message type must carry (adequacy, GR6)
# description: The type's mandatory fields, plus those required by a payload fact or the purpose.
mandatory_fields contains field if some field in mt.mandatory_fields

mandatory_fields contains field if {
	some rule in mt.mandatory_when
	input.payload_facts[rule.fact] == rule.value
	some field in rule.fields
}

mandatory_fields contains field if {
	some rule in mt.mandatory_when
	input.purpose == rule.purpose
	some field in rule.fields
}

# METADATA
# title: Valid authorisation for this message type
# description: >-
#   The authoriser holds a role this type accepts, gave a reason, and the gateway verified their
#   own signed token for this notification. A block the sender typed in is a claim, not evidence.
authorised if {
	input.authorisation.authoriser_role in mt.authorisation.roles
	input.authorisation.has_reason == true
	input.authorisation.verified == true
}

# METADATA
# title: An authorisation typed in without the authoriser's token
authorisation_unproven if {
	input.authorisation.authoriser_role
	not input.authorisation.verified == true
}

# A child's death from suspected deliberate harm puts the surviving siblings at likely
# significant harm, whatever the envelope's risk flags say (CPSCP-Procedures, Child death >
# 3.10.1 Social Care).
likely_harm if suspected_deliberate_death

# METADATA
# title: A child death where deliberate harm or a crime is suspected
suspected_deliberate_death if {
	input.message_type == "child_death_notification"
	input.payload_facts.suspected_deliberate_harm == "true"
}

suspected_deliberate_death if {
	input.message_type == "child_death_notification"
	input.payload_facts.death_type == "criminal_suspected"
}
