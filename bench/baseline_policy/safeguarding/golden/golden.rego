# METADATA
# title: The seven golden rules of information sharing
# description: >-
#   GR1-GR6 as machine-checkable conditions, in the 2018 wording of
#   CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing
#   (see policies/SOURCES.md). GR7 (record the decision) is the gateway's write-ahead log; the
#   decision adds its GR7 reason. Each rule returns a set of findings for one recipient.
package safeguarding.golden

import data.safeguarding.config
import data.safeguarding.context
import data.safeguarding.context.finding
import data.safeguarding.context.soft_finding
import data.safeguarding.fields

# METADATA
# title: Golden-rule findings for one recipient
findings(r) := ((((gr1 | gr2) | gr3(r)) | gr4(r)) | gr5(r)) | gr6

# METADATA
# title: GR1 law is a framework, not a barrier
# description: A declared lawful basis allowed for the message type; none means hold, unsure means advice.
# custom:
#   rule_id: GR1
#   source: >-
#     CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing,
#     rule 1: "the General Data Protection Regulation (GDPR), Data Protection Act 2018 and human
#     rights law are not barriers to justified information sharing"
gr1 := {finding("GR1", "share", "An advice request identifies nobody: it needs no settled lawful basis, since asking is how the basis is found.")} if {
	context.advice_request
	input.lawful_basis in {null, "unsure"}
} else := {finding("GR1", "hold_for_authorisation", "No lawful basis was given: the sender must say which lawful basis the sharing would rely on.")} if {
	input.lawful_basis == null
} else := {finding("GR1", "needs_advice", "The sender is unsure of the lawful basis: an adviser (a DSL, named professional, IG lead or Caldicott Guardian) says which applies, and the sender sends it again naming it.")} if {
	input.lawful_basis == "unsure"
} else := {finding("GR1", "hold_for_authorisation", sprintf("The lawful basis \"%s\" is not accepted for %s. Choose one of: %s.", [context.words(input.lawful_basis), context.a_mt, context.words_list(context.mt.lawful_bases)]))} if {
	not input.lawful_basis in context.mt.lawful_bases
} else := {finding("GR1", "share", sprintf("The lawful basis \"consent\" is accepted for %s only where consent covers the share, which golden rule 4 checks.", [context.a_mt]))} if {
	input.lawful_basis == "consent"
} else := {finding("GR1", "share", sprintf("The lawful basis \"%s\" is accepted for %s: data protection law is a framework for this sharing, not a barrier.", [context.words(input.lawful_basis), context.a_mt]))}

# METADATA
# title: GR2 be open and honest
# description: >-
#   Parents (or the person) know, or a recorded exception says telling them is unsafe.
#   Free text alone means advice; nothing recorded means hold.
# custom:
#   rule_id: GR2
#   source: >-
#     CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing,
#     rule 2: "Be open and honest with the individual (and/or their family where appropriate) ...
#     and seek their agreement, unless it is unsafe or inappropriate to do so."
gr2 := _gr2_parents if context.mt.parental_position_required

else := _gr2_agreement if context.consent_applies

else := set()

_gr2_parents := {finding("GR2", "hold_for_authorisation", "The referral does not say whether the parents know about it or agree. Record the parents' position before sending.")} if {
	input.parental_position == null
} else := {finding("GR2", "share", "The parents know about this referral: the sender has been open and honest with the family.")} if {
	input.parental_position.parents_informed == true
} else := {finding("GR2", "share", "The parents have not been told because the young person, competent to decide, asked that they not be: their wish is respected. It gives way only where the conditions for sharing without consent apply.")} if {
	input.parental_position.child_asked_not_told == true
	context.competent_child
} else := {finding("GR2", "share", sprintf("The parents have not been told, %s.", [context.recorded_reasons({input.parental_position.reason_not_informed})]))} if {
	is_string(input.parental_position.reason_not_informed)
} else := {finding("GR2", "hold_for_authorisation", "The young person asked that the parents not be told, but is not recorded as able to decide that (Gillick competent, or at 16 or 17 with capacity for the decision). Record whether they are, or why telling the parents would be unsafe, or tell them first.")} if {
	input.parental_position.child_asked_not_told == true
} else := {finding("GR2", "needs_advice", "The parents have not been told and the reason is given only as free text. Ask your DSL or named professional whether that reason is enough.")} if {
	input.parental_position.has_reason_text == true
} else := {finding("GR2", "hold_for_authorisation", "It is not recorded whether the parents know about this referral, nor any reason for not telling them. Find out and record it, or record why telling them would be unsafe.")} if {
	input.parental_position.parents_informed == null
} else := {finding("GR2", "hold_for_authorisation", "The parents have not been told and no reason is recorded. Record why telling them would be unsafe, or tell them first.")}

_gr2_agreement := {finding("GR2", "share", "The person's agreement was sought.")} if {
	some c in input.consent
	c.giver != "referrer"
	c.status in {"given_explicit", "refused", "withdrawn"}
} else := {finding("GR2", "share", sprintf("Agreement was not sought, %s.", [context.consent_reasons]))} if {
	count(context.exceptions) > 0
} else := {finding("GR2", "hold_for_authorisation", "Nobody has been asked for agreement and no reason is recorded. Seek agreement, or record why it would be unsafe.")}

# METADATA
# title: GR3 seek advice if in doubt
# description: >-
#   Doubt triggers route a pseudonymised advice request: the sender's own doubt,
#   confidential health information to a non-health agency without a risk of harm,
#   a hostile family, and adults who pose a risk without a conviction.
# custom:
#   rule_id: GR3
#   source: >-
#     CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing,
#     rule 3: "Seek advice from other practitioners, or your information governance lead, if you are
#     in any doubt about sharing the information concerned"
gr3(r) := {finding("GR3", "share", "This is the advice golden rule 3 asks for: sought without identifying anyone.")} if {
	context.advice_request
} else := _doubts(r) if {
	count(_doubts(r)) > 0
} else := {finding("GR3", "share", "No reason for doubt is recorded: the sender is not in doubt, no confidential health information goes to a non-health agency without a recorded risk or consent, no hostile family would hear of it through this recipient, and no adult without a conviction is named as a risk.")}

_doubts(r) := {finding("GR3", "needs_advice", message) |
	some check, message in _doubt_texts
	_doubt(check, r)
}

_doubt_texts := {
	"sender": "The sender is in doubt about this sharing: an adviser (a DSL, named professional, IG lead or Caldicott Guardian) answers, without anyone being named.",
	"health": "Confidential health information would go to a non-health agency without a recorded risk of harm or consent. Health information has a higher threshold: ask a named or designated professional.",
	"hostile": "The family is hostile: agree a plan of what, how and when to share with them before this recipient passes anything on.",
	"bichard": "This is about an adult who may pose a risk but has no conviction. Bichard compliance and legal advice are needed in each case.",
}

_doubt("sender", _) if input.sender_in_doubt == true

# Statutory notices with no consent regime (child death, missing child, most transfers) are
# required whatever the family's wishes: the health threshold does not hold them back.
_doubt("health", r) if {
	not context.statutory_notice
	context.sender_conf.health == true
	not context.type_conf(r).health == true
	not context.any_risk
	some field in fields.allowed(r)
	input.payload_fields[field] == "sc_health"
	not context.consent_given_for(r)
}

_doubt("hostile", r) if {
	context.tagged("hostile_family")
	r.conveys_to_family == true
}

_doubt("bichard", _) if context.tagged("unconvicted_adult_risk")

_doubt("bichard", _) if input.payload_facts.conviction_status == "not_convicted"

# METADATA
# title: GR4 consent where possible, otherwise a lawful basis
# description: >-
#   Consent covering the recipient and purpose, or a recorded exception with a non-consent
#   basis. Refusal with no exception: no share when requesting services, advice otherwise.
#   A share that relies on consent goes only within the consent's scope (agencies, agency
#   types, purposes): outside it, no share.
# custom:
#   rule_id: GR4
#   source: >-
#     CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing,
#     rule 4: "you may share information without consent if, in your judgement, there is a lawful
#     basis to do so, such as where safety may be at risk"; CPSCP-Procedures, Threshold policy >
#     Parental Consent: "Consent to make a referral will always be needed where a practitioner is
#     requesting support of services"
gr4(r) := _gr4_consent(r) | _gr4_authorisation(r) if context.consent_applies

else := _gr4_consent_basis(r) | _gr4_authorisation(r)

_gr4_consent(r) := _gr4_services(r) if input.purpose == "request_for_services"

else := _gr4_safeguarding(r)

_gr4_given(r) := finding("GR4", "share", sprintf("Explicit consent was given by %s, and it covers this recipient and purpose.", [context.given_by(r)]))

_gr4_scope(r) := soft_finding("GR4", "no_share", sprintf("%s %s", [context.scope_gap(r), _gr4_scope_why]))

# Why the share stays within the consent, from what the notification declares: a basis of consent,
# a request for services (it always needs consent), or another basis with no exception to seeking
# consent recorded (the last scope branch of _gr4_safeguarding). The same for every recipient.
_gr4_scope_why := "The declared lawful basis is consent, and consent covers only what the person agreed to. Ask them about this too; if safety is at risk, record the exception to seeking consent and the basis relied on instead." if {
	input.lawful_basis == "consent"
} else := "A request for services always needs consent, and consent covers only what the person agreed to. Ask the family about this too, then send again." if {
	input.purpose == "request_for_services"
} else := "Consent is not the declared lawful basis, but no exception to seeking it is recorded, so consent covers only what the person agreed to. Ask them about this too, or record why consent is not sought."

_gr4_unfit := finding("GR4", "hold_for_authorisation", sprintf("Consent is recorded from %s, so it is not theirs to give and is not relied on. Seek consent from whoever may give it (for a child, a person with parental responsibility), or record why consent is not sought (for example: the person cannot give consent).", [context.unfit_givers]))

_gr4_consent_basis_missing := finding("GR4", "hold_for_authorisation", "Consent has not been given, but the lawful basis declared is consent. Declare the non-consent basis relied on.")

_gr4_services(r) := {finding("GR4", "share", sprintf("Consent to this request for services was given by %s, and it covers this agency.", [context.given_by(r)]))} if {
	context.consent_given_for(r)
} else := {soft_finding("GR4", "no_share", sprintf("Consent is always needed to request services for a family, and it was %s. If there is a risk of significant harm, send it again as a safeguarding concern, not a request for services.", [context.refused_by]))} if {
	context.consent_refused
} else := {_gr4_scope(r)} if {
	context.consent_out_of_scope(r)
} else := {_gr4_unfit} if {
	context.unfit_givers != ""
} else := {finding("GR4", "hold_for_authorisation", "A request for services needs the family's consent first, and none is recorded. Seek it and record it, then send again.")}

_gr4_safeguarding(r) := {_gr4_given(r)} if {
	context.consent_given_for(r)
} else := {soft_finding("GR4", "needs_advice", "The sender is unsure whether consent was given. Check with the person, or an adviser (a DSL, named professional, IG lead or Caldicott Guardian) answers.")} if {
	context.consent_unsure
} else := {_gr4_scope(r)} if {
	input.lawful_basis == "consent"
	context.consent_out_of_scope(r)
} else := {_gr4_unfit} if {
	input.lawful_basis == "consent"
	context.unfit_givers != ""
} else := {_gr4_consent_basis_missing} if {
	input.lawful_basis == "consent"
} else := {finding("GR4", "share", sprintf("No consent is relied on, %s.%s", [context.consent_reasons, _gr4_basis_said]))} if {
	count(context.exceptions) > 0
} else := {_gr4_scope(r)} if {
	context.consent_out_of_scope(r)
} else := {finding("GR4", "share", "The sender recorded consent as not required for this notification, and recorded no exception code saying why.")} if {
	context.consent_not_required
} else := {finding("GR4", "share", sprintf("Consent was %s; the %s was consulted and agreed to sharing, with reasons recorded.", [context.refused_by, context.words(input.authorisation.authoriser_role)]))} if {
	context.consent_refused
	context.authorised
} else := {soft_finding("GR4", "needs_advice", sprintf("Consent was %s, and no exception is recorded. Ask %s, and record the outcome.", [context.refused_by, _gr4_adviser]))} if {
	context.consent_refused
} else := {_gr4_unfit} if {
	context.unfit_givers != ""
} else := {finding("GR4", "hold_for_authorisation", sprintf("Consent was not sought and no reason is recorded. Seek consent, or record why seeking it would be unsafe or wrong (for example: it would put %s at risk, or lose evidence).", [_at_risk]))}

# Where no consent rule applies to the notification, a declared basis of consent still needs
# consent that covers the recipient and purpose; any other basis does not look at consent.
_gr4_consent_basis(r) := {_gr4_given(r)} if {
	input.lawful_basis == "consent"
	context.consent_given_for(r)
} else := {_gr4_scope(r)} if {
	input.lawful_basis == "consent"
	context.consent_out_of_scope(r)
} else := {_gr4_unfit} if {
	input.lawful_basis == "consent"
	context.unfit_givers != ""
} else := {_gr4_consent_basis_missing} if {
	input.lawful_basis == "consent"
} else := {finding("GR4", "share", concat("", [_gr4_regime, _gr4_refusal_noted]))} if {
	not context.advice_request
	input.lawful_basis in context.mt.lawful_bases
} else := set()

_gr4_regime := sprintf("The partnership's procedures require %s to be sent, so consent is not sought: it rests on the lawful basis \"%s\".", [context.a_mt, context.words(input.lawful_basis)]) if {
	context.statutory_notice
} else := sprintf("The partnership's procedures do not ask consent for %s: it rests on the lawful basis \"%s\".", [context.a_mt, context.words(input.lawful_basis)])

_gr4_refusal_noted := sprintf(" Consent was %s, which does not stop it.", [context.refused_by]) if context.consent_refused

else := ""

_gr4_authorisation(r) := {finding(context.mt.authorisation.rule, "share", sprintf("Authorised by the %s, as this partnership requires: %s.", [context.words(input.authorisation.authoriser_role), context.mt.authorisation.source]))} if {
	_authorisation_needed(r)
	context.authorised
} else := {finding(context.mt.authorisation.rule, "hold_for_authorisation", sprintf("Waiting for authorisation by one of: %s. An authorisation typed into the notification is not evidence: the authoriser answers from the authorisation queue, or signs their own authorisation token for this notification. The rule: %s.", [context.words_list(context.mt.authorisation.roles), context.mt.authorisation.source]))} if {
	_authorisation_needed(r)
	context.authorisation_unproven
} else := {finding(context.mt.authorisation.rule, "hold_for_authorisation", sprintf("Waiting for authorisation by one of: %s. The rule: %s.", [context.words_list(context.mt.authorisation.roles), context.mt.authorisation.source]))} if {
	_authorisation_needed(r)
} else := set()

_authorisation_needed(_) if context.mt.authorisation.when == "always"

_authorisation_needed(r) if {
	context.mt.authorisation.when == "without_consent"
	not context.consent_given_for(r)
}

# METADATA
# title: GR5 safety and well-being
# description: >-
#   Risk favours sharing with protective agencies. A recipient who passes information to
#   the family or an alleged perpetrator gets no victim-safety fields (see fields), nothing
#   at all in forced-marriage or honour-based-violence cases, and advice first in domestic abuse.
# custom:
#   rule_id: GR5
#   source: >-
#     CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing,
#     rule 5: "base your information sharing decisions on considerations of the safety and
#     well-being of the individual and others who may be affected by their actions"
gr5(r) := {finding("GR5", "no_share", sprintf("Forced marriage or honour-based violence: nothing may reach the family or community, because informing them can put %s in danger.", [_victim]))} if {
	context.family_facing(r)
	some tag in {"forced_marriage", "honour_based_violence"}
	context.tagged(tag)
} else := {finding("GR5", "needs_advice", "This recipient would pass information to an alleged perpetrator of domestic abuse. Agree how engagement will avoid increasing the risk to the victim first.")} if {
	r.conveys_to_alleged_perpetrator == true
	context.tagged("domestic_abuse")
} else := {finding("GR5", "share", "There is a risk of harm and this is a protective agency: safety and well-being favour sharing.")} if {
	context.any_risk
	context.protective(r)
} else := {finding("GR5", "share", "The recipient does not pass information to the family or an alleged perpetrator, so sharing does not increase the risk to anyone.")} if {
	not context.family_facing(r)
} else := {finding("GR5", "share", sprintf("This recipient would pass information to %s, so fields that could endanger someone are withheld from it.", [_passes_to(r)]))} if {
	_withheld_for_safety(r)
} else := {finding("GR5", "share", sprintf("This recipient would pass information to %s, but no field in this notification needs to be withheld from it for that reason.", [_passes_to(r)]))}

# Who a family-facing recipient passes information to, in words.
_passes_to(r) := "the family and an alleged perpetrator" if {
	r.conveys_to_family == true
	r.conveys_to_alleged_perpetrator == true
} else := "an alleged perpetrator" if {
	r.conveys_to_alleged_perpetrator == true
} else := "the family"

# The fields module withholds a field from this recipient because it passes information to the
# family or an alleged perpetrator (its GR5 reason): read from the recipient's view, computed once.
_withheld_for_safety(r) if {
	some reason in fields.withheld_reasons(r)
	reason.rule == "GR5"
}

# METADATA
# title: GR6 necessary, proportionate, adequate, accurate, timely
# description: >-
#   Mandatory fields (adequacy) present, and MARAC used only for high risk. Minimisation
#   itself is reported by the decision with C3.
# custom:
#   rule_id: GR6
#   source: >-
#     CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing,
#     rule 6: "Necessary, proportionate, relevant, adequate, accurate, timely and secure: ensure that
#     the information you share is necessary for the purpose for which you are sharing it"
gr6 := {finding("GR6", "hold_for_authorisation", sprintf("The notification is not adequate: it lacks %s. Add what is missing and send again.", [context.words_list(sort(_missing))]))} if {
	count(_missing) > 0
} else := {finding("GR6", "needs_advice", "MARAC is for high-risk domestic abuse, and this case is not recorded as high risk. Check the DASH assessment with the DSL before referring.")} if {
	context.mt.requires_marac_high_risk == true
	not input.risk.da_high_risk_marac == true
} else := {finding("GR6", "share", "The notification gives every field its recipients need to act (adequate and relevant); what each receives of it is minimised apart (C3).")}

_missing contains field if {
	some field in context.mandatory_fields
	not input.payload_fields[field]
}

_at_risk := "the person" if input.message_type in config.adult_message_types

else := "the child"

_gr4_adviser := "your agency's safeguarding lead (its DSL or named professional)" if input.message_type in config.adult_message_types

else := "your DSL or named professional, as the nominated child protection adviser"

_victim := "the person" if input.message_type in config.adult_message_types

else := "the young person"

# Whether the notification declares a basis at all: a sender "Unsure" of it sends none, which golden
# rule 1 weighs, so GR4 must not speak of "the declared lawful basis".
_gr4_basis_said := " The declared lawful basis does not depend on consent." if {
	is_string(input.lawful_basis)
} else := " No lawful basis is declared yet; golden rule 1 asks for one."
