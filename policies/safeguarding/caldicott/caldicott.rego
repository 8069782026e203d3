# METADATA
# title: The eight Caldicott principles
# description: >-
#   C1, C2, C4-C8 as machine-checkable conditions, from
#   CPSCP-Procedures, Information sharing > The Eight Caldicott Principles
#   (see policies/SOURCES.md).
#   C3 (minimum necessary) is field minimisation, reported by the decision from the
#   fields package. Each principle returns a set of findings for one recipient.
package safeguarding.caldicott

import data.safeguarding.config
import data.safeguarding.context

# METADATA
# title: Caldicott findings that are the same for every recipient
notification_findings := (c1 | c2) | c8

# METADATA
# title: Caldicott findings that depend on the recipient
recipient_findings(r) := (c4(r) | c5(r)) | c6(r)

# METADATA
# title: C1 justify the purpose
# description: A purpose allowed for the message type and a purpose statement; the right sender.
# custom:
#   rule_id: C1
#   source: >-
#     CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 1: "Justify
#     the purpose(s) for using confidential information"
c1 := {{"rule": "C1", "effect": "hold_for_authorisation", "message": "No purpose was given: the sender must say why the information is needed."}} if {
	input.purpose == null
} else := {{"rule": "C1", "effect": "hold_for_authorisation", "message": "There is no purpose statement. Say in a sentence why this recipient needs the information."}} if {
	input.has_purpose_statement != true
} else := {{"rule": "C1", "effect": "no_share", "message": context.fit(sprintf("The purpose \"%s\" is not a purpose %s can be used for.", [context.words(input.purpose), context.a_mt]))}} if {
	not input.purpose in context.mt.purposes
} else := {{"rule": "C1", "effect": "no_share", "message": context.fit(sprintf("%s can only be sent by: %s.", [context.the_mt, context.words_list(_senders)]))}} if {
	count(_senders) > 0
	not context.sender_type in _senders
} else := {{"rule": "C1", "effect": "share", "message": context.fit(sprintf("The purpose \"%s\" is a justified use of %s.", [context.words(input.purpose), context.a_mt]))}}

_senders := context.mt.stage_sender_types[input.payload_facts.stage] if {
	context.mt.stage_sender_types[input.payload_facts.stage]
} else := context.mt.sender_types

# METADATA
# title: C2 use personal data only when absolutely necessary
# description: Monitoring purposes take de-identified data only; identifying fields stop the share.
# custom:
#   rule_id: C2
#   source: >-
#     CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 2: "Don't
#     use personal confidential data unless it is absolutely necessary"
c2 := {{"rule": "C2", "effect": "no_share", "message": context.fit(sprintf("Partnership monitoring needs no personal data, but the notification identifies people (%s). Remove those fields first.", [context.words_list(sort(_identifying))]))}} if {
	input.purpose in config.deidentified_purposes
	count(_identifying) > 0
} else := {{"rule": "C2", "effect": "share", "message": "The data is de-identified, as monitoring requires."}} if {
	input.purpose in config.deidentified_purposes
} else := {{"rule": "C2", "effect": "share", "message": "Personal data is necessary here: whoever acts on it must identify the people concerned."}}

_identifying contains field if {
	some field, data_class in input.payload_fields
	data_class in config.identifying_classes
}

# METADATA
# title: C4 strict need to know
# description: >-
#   The recipient's agency type receives this message type (at this stage), its role queue is
#   one that does (never an IG lead's or Caldicott Guardian's but for the types that name them,
#   sg-policy-0.7.16), and the recipient states its need to know.
# custom:
#   rule_id: C4
#   source: >-
#     CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 4: "Access
#     to personal confidential data should be on a strict need-to-know basis"; CPSCP-Procedures,
#     Information sharing > Caldicott Guardians: each has a Caldicott Guardian "to provide advice
#     and guidance on appropriate information sharing"
#   source_for:
#     lado_allegation: >-
#       CPSCP-Procedures, LADO > 3. General Considerations Relating to Allegations Against People
#       who Work with Children > Confidentiality: information "should be restricted to those who
#       have a need to know"
c4(r) := {{"rule": "C4", "effect": "no_share", "message": context.fit(sprintf("%s does not receive %s: its type of agency, %s, is not among those that do, so it has no need to know.", [context.agency_name(r), context.a_mt, context.words(context.agency_type(r))]))}} if {
	not context.agency_type(r) in _recipient_types
} else := {{"rule": "C4", "effect": "no_share", "message": context.fit(sprintf("%s goes only to the role queues %s, not to \"%s\".", [context.the_mt, context.words_list(_recipient_roles), context.words(r.role)]))}} if {
	count(_recipient_roles) > 0
	not r.role in _recipient_roles
} else := {{"rule": "C4", "effect": "no_share", "message": context.fit(sprintf("%s does not go to the %s queue: information governance leads and Caldicott Guardians advise on sharing and audit it, and take advice requests, not case notifications. Address it to the team that acts on it.", [context.the_mt, context.words(r.role)]))}} if {
	r.role in config.oversight_roles
	not r.role in object.get(context.mt, "recipient_roles", [])
} else := {{"rule": "C4", "effect": "no_share", "message": "No need-to-know reason is given for this recipient."}} if {
	r.need_to_know == null
} else := {{"rule": "C4", "effect": "share", "message": context.fit(sprintf("%s needs to know in order to %s.", [context.agency_name(r), context.words(r.need_to_know)]))}}

# The role queues a stage goes to (policy pack `stage_recipient_roles`; [] for any role: an
# adviser's answer goes back to whoever asked), else the type's.
_recipient_roles := object.get(object.get(context.mt, "stage_recipient_roles", {}), object.get(input.payload_facts, "stage", ""), object.get(context.mt, "recipient_roles", []))

_recipient_types := context.mt.stage_recipient_types[input.payload_facts.stage] if {
	context.mt.stage_recipient_types[input.payload_facts.stage]
} else := array.concat(context.mt.recipient_types, _fact_recipient_types)

# Recipient types a payload fact's value adds (the pack's `fact_recipient_types`): the Virtual
# School receives a looked-after child's placement notice, not every transfer.
_fact_recipient_types := [type |
	some fact, by_value in object.get(context.mt, "fact_recipient_types", {})
	some type in object.get(by_value, input.payload_facts[fact], [])
]

# METADATA
# title: C5 everyone with access is aware of their responsibilities
# description: >-
#   A CSOD decision passed to a member of the public needs their signed undertaking,
#   or a senior police officer's decision to disclose anyway.
# custom:
#   rule_id: C5
#   source: >-
#     CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 5: "Everyone
#     with access to personal confidential data should be aware of their responsibilities"
#   source_for:
#     csod_disclosure: >-
#       CPSCP-Procedures, Information sharing > Child Sex Offender Disclosure Scheme: a disclosure
#       is kept confidential and the person signs an undertaking
c5(r) := _c5_undertaking(r) if {
	context.mt.undertaking_applies == true
	r.conveys_to_family == true
} else := {{"rule": "C5", "effect": "share", "message": "Onward disclosure is prohibited: the recipient must not pass this information on."}} if {
	input.restrictions.onward_disclosure_prohibited == true
} else := set()

_c5_undertaking(_) := {{"rule": "C5", "effect": "share", "message": "The person to be told has signed an undertaking to use the information only to protect the child."}} if {
	input.restrictions.undertaking_signed == true
} else := {{"rule": "C5", "effect": "share", "message": "No undertaking was signed, and a senior police officer decided to disclose anyway."}} if {
	input.authorisation.authoriser_role == "police_senior_officer"
	input.authorisation.verified == true
} else := {{"rule": "C5", "effect": "hold_for_authorisation", "message": "The person to be told has not signed the undertaking. Police must decide whether to disclose anyway."}}

# METADATA
# title: C6 comply with the law
# description: >-
#   Court material needs the court's permission; post-mortem material the Coroner's. Permission
#   governs its field: without it, only the material it guards is withheld (see fields), and
#   the Coroner's own officer needs none. Only when the sender says permission is needed but no
#   field is marked as such material does the permission cover the whole notification.
# custom:
#   rule_id: C6
#   source: >-
#     CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 6: "Comply
#     with the law"
#   source_for:
#     child_death_notification: >-
#       CPSCP-Procedures, Child death > 3.9 Role of Coroner and Pathologist: the post-mortem report
#       "will always be forwarded to the Coroner in the first instance, and only at his/her
#       discretion will it be shared with partners"
#     child_move_transfer: >-
#       CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local
#       Authority's Area to Another > Child in Need, Or Subject of Child and Family Assessment: the
#       information to be shared "is contained within statutory regulations, and these must be
#       followed"
c6(r) := {{"rule": "C6", "effect": "share", "message": "No court or coroner restriction applies to this material."}} if {
	count(_gates) == 0
} else := _c6(r, _whole_gates_blocked(r))

# `whole`: the gates that cover the whole notification for this recipient, computed once. Only
# called when some gate applies (c6).
_c6(r, whole) := {f | some gate in whole; f := {"rule": "C6", "effect": "no_share", "message": _whole_texts[gate]}} if {
	count(whole) > 0
} else := {{"rule": "C6", "effect": "share", "message": "The Coroner decides who may see post-mortem material, so the Coroner's officer needs no separate permission for it."}} if {
	"coroner" in _gates
	context.grants_permission(r, "coronial_material")
} else := {{"rule": "C6", "effect": "share", "message": "Court or post-mortem material goes only where the permission it needs is recorded. Without it, this principle holds back that material alone; it does not stop the rest of the notification."}} if {
	count(_gates_blocked) > 0
} else := {{"rule": "C6", "effect": "share", "message": "The permission the law requires for court or post-mortem material is recorded."}}

_whole_texts := {
	"court": "The sender says this notification needs the court's permission, which is not recorded, and no field is marked as court material, so the permission covers the whole notification.",
	"coroner": "The sender says this notification needs the Coroner's permission, which is not recorded, and no field is marked as post-mortem material, so the permission covers the whole notification.",
}

_class := {"court": "court_material", "coroner": "coronial_material"}

_gates contains "court" if input.restrictions.court_permission_required == true

_gates contains "coroner" if input.restrictions.coroner_permission_required == true

_gates contains gate if {
	some gate in object.keys(_class)
	_marked(gate)
}

_marked(gate) if _class[gate] in context.payload_classes

_obtained("court") if input.restrictions.court_permission_obtained == true

_obtained("coroner") if input.restrictions.coroner_permission_obtained == true

_gates_blocked contains gate if {
	some gate in _gates
	not _obtained(gate)
}

_whole_gates_blocked(r) := {gate |
	some gate in _gates_blocked
	not _marked(gate)
	not context.grants_permission(r, _class[gate])
}

# METADATA
# title: C8 inform people how their data is used
# description: >-
#   Consent relied on without the privacy notice is held, and so is consent whose record does not
#   say the notice was given (missing input denies). Otherwise the person is told after sharing,
#   unless a recorded exception says that would increase risk; the message names those risks, and
#   where a recipient passes information to someone who must not learn of it, says that telling
#   must not reach them.
# custom:
#   rule_id: C8
#   source: >-
#     CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 8: "Inform
#     patients and service users about how their confidential information is used";
#     CPSCP-Procedures, Flowchart of when and how to share information: inform the individual that
#     the information has been shared "as long as this would not create or increase risk of harm"
c8 := set() if {
	not context.transparency_applies
} else := {{"rule": "C8", "effect": "hold_for_authorisation", "message": "Consent is relied on, but the person was not given the privacy notice explaining how their information is used."}} if {
	input.lawful_basis == "consent"
	some c in context.subject_consents
	c.privacy_notice_given == false
} else := {{"rule": "C8", "effect": "hold_for_authorisation", "message": "Consent is relied on, but the consent record does not say whether the person was given the privacy notice explaining how their information is used. Record whether they were before sending."}} if {
	input.lawful_basis == "consent"
	some c in context.subject_consents
	c.status == "given_explicit"
	not c.privacy_notice_given == true
} else := {{"rule": "C8", "effect": "share", "message": context.fit(sprintf("%s, because: %s.", [_not_told, context.exception_words(_risks)]))}} if {
	count(_risks) > 0
} else := {{"rule": "C8", "effect": "share", "message": "If anything is shared, the person concerned is to be told afterwards what, with whom and why, never in a way that lets someone who must not learn of it do so (golden rule 5)."}} if {
	some r in input.recipients
	context.family_facing(r)
} else := {{"rule": "C8", "effect": "share", "message": "If anything is shared, the person concerned is to be told afterwards what, with whom and why."}}

# Parents recorded as knowing of the referral are not "not told": what they are not told is the sharing.
# On an adult's notification the one who knows, or is not told, is the person (sg-policy-0.7.23).
_not_told := "The person knows of this referral, but will not be told about any sharing for now" if {
	context.about_adult
	input.parental_position.parents_informed == true
} else := "The person and their family will not be told about any sharing for now" if {
	context.about_adult
} else := "The parents know of this referral, but will not be told about any sharing for now" if {
	input.parental_position.parents_informed == true
} else := "The family will not be told about any sharing for now"

# The recorded reasons that make telling the family risky: the only ones that ground not telling.
_risks contains code if {
	some code in context.exceptions
	code in config.risk_exceptions
}
