# METADATA
# title: Invariants from the source documents
# description: >-
#   Rules a correct broker must enforce whatever else applies, beyond the golden rules
#   and Caldicott principles. Ids I01-I50 are this project's invariant labels; each rule
#   cites its source document (policies/SOURCES.md).
package safeguarding.invariants

import data.safeguarding.config
import data.safeguarding.context
import data.safeguarding.context.finding

# METADATA
# title: Invariant findings for one recipient
findings(r) := (i19(r) | i26) | i44(r)

# METADATA
# title: I19 forced marriage - never inform the family or community
# custom:
#   rule_id: I19
#   source: >-
#     CPSCP-Procedures, Forced marriage > 6. Issues: professionals should not "Approach or inform
#     the child's family, friends or members of the community that the victim has sought help" nor
#     "Share information outside child protection information-sharing protocols without the express
#     consent of the child"
i19(r) := {finding("I19", "no_share", sprintf("Forced marriage: this recipient would pass information to the family, which can put %s at risk. No one may approach or inform the family or community that %s sought help.", [_victim, _victim]))} if {
	context.family_facing(r)
	context.tagged("forced_marriage")
} else := {finding("I19", "hold_for_authorisation", "Forced marriage: outside child protection procedures only the young person's own express consent allows this, and none recorded covers this recipient. Record the young person's consent, asked alone and safely; if the young person is at risk, refer to children's social care or the police instead.")} if {
	context.tagged("forced_marriage")
	_outside_cp_protocols
	not _young_persons_consent(r)
} else := set()

# Outside child protection procedures: a purpose the partnership's pack lists as such (a request
# for services, transition planning) or an early help plan's review, whatever lawful basis the
# sender chose. An immediate risk is a child protection matter, whose urgent path is never blocked.
_outside_cp_protocols if {
	_outside_cp_purpose
	not context.immediate
}

_outside_cp_purpose if input.purpose in config.outside_cp_purposes

_outside_cp_purpose if input.payload_facts.plan_kind == "early_help_plan"

# The child's own consent, explicit and covering this recipient: a parent's does not do.
_young_persons_consent(r) if {
	some c in input.consent
	c.giver == "child"
	c.status == "given_explicit"
	context.covers(c, r)
}

# METADATA
# title: I26 unconvicted adults - Bichard compliance
# custom:
#   rule_id: I26
#   source: >-
#     CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's
#     Area to Another > Information Sharing In Special Circumstances: "Bichard compliance is
#     essential and legal advice should be sought in individual cases."
i26 := {finding("I26", "needs_advice", "Information about an adult with no conviction goes to other agencies only after legal or IG advice on this case.")} if {
	_unconvicted_adult
} else := set()

_unconvicted_adult if context.tagged("unconvicted_adult_risk")

_unconvicted_adult if input.payload_facts.conviction_status == "not_convicted"

# METADATA
# title: I44 under-13 sexual activity - always a child protection referral
# custom:
#   rule_id: I44
#   source: >-
#     DDSCP-RiskToOthers, 5. Sexual Abuse > Consent: "a child under the age of 13 years cannot
#     consent to any form of sexual activity. Therefore, a child protection referral is required in
#     all such cases."
i44(r) := {finding("I44", "share", "Sexual activity involving a child under 13 always needs a child protection referral, so an objection that rests on consent alone does not decide whether this protective agency receives it.")} if {
	under_13_sexual_activity
	context.protective(r)
} else := set()

# METADATA
# title: Under-13 sexual activity is recorded
under_13_sexual_activity if {
	context.tagged("sexual_activity_under_13")
	some s in input.subjects
	s.role_in_case == "child"
	s.age_years < 13
}

_victim := "the person" if input.message_type in config.adult_message_types

else := "the young person"
