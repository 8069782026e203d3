# METADATA
# title: Per-recipient field minimisation
# description: >-
#   Decides, field by field, what one recipient may see: the policy pack's minimisation
#   matrix (config/data.json) by agency type (R required, C conditional, P conditional and
#   needs a permission, N not by default, X never), made stricter for recipients who pass
#   information to the family or an alleged perpetrator (GR5, I18, I21), with the
#   non-professional referrer's identity kept to CSC intake (I11).
# related_resources:
#   - description: per-recipient minimisation matrix (a proposal to validate with IG leads)
#     ref: policies/README.md
package safeguarding.fields

import data.safeguarding.config
import data.safeguarding.context

_rank := {"X": 0, "N": 1, "P": 2, "C": 3, "R": 4}

# METADATA
# title: Matrix level of a data class for a recipient
# description: The strictest level among the recipient's column and any family or perpetrator column.
level(r, data_class) := _level(_columns(r), data_class)

_level(cols, data_class) := min({_rank[config.matrix[data_class][col]] | some col in cols})

_columns(r) := {context.column(r)} | _family_columns(r)

_family_columns(r) := _family_columns_of(r.conveys_to_family, r.conveys_to_alleged_perpetrator)

_family_columns_of(family, perpetrator) := {col |
	some col, flag in {"family": family, "alleged_perpetrator": perpetrator}
	flag == true
}

# METADATA
# title: What one recipient may see, computed once
# description: >-
#   The allowed and withheld fields (sorted) and the reasons for the withheld ones. Everything
#   that depends only on the recipient (its columns, each present data class's level, the
#   conditions and the type's column cap) is computed once here, then each field is a lookup.
view(r) := _view(
	context.agency_type(r),
	object.get(r, "conveys_to_family", false) == true,
	object.get(r, "conveys_to_alleged_perpetrator", false) == true,
	_holds_conditional(r),
	_holds_nonpro(r),
)

# A view depends on the recipient only through these five scalars, so OPA's cache of function
# calls with the same arguments computes it once for all recipients of one agency type alike.
# Rules and documents read for every data class are bound once, before the comprehensions.
_view(type, family, perpetrator, conditional, nonpro) := {"allowed": sort(allowed), "withheld": withheld, "reasons": _reasons(causes)} if {
	col := config.agency_types[type].column
	matrix := config.matrix
	ranks := _rank
	payload := input.payload_fields
	own := {data_class: ranks[matrix[data_class][col]] | some data_class in _classes}
	levels := _levels(col, family, perpetrator, own)
	lowest := _lowest_level(conditional)
	by_matrix := ((_nonpro_classes(nonpro) | _advice_classes) | _permitted(type, levels)) | {data_class |
		some data_class, l in levels
		l >= lowest
		data_class != "referrer_identity_nonpro"
	}
	matrix_fields := {field | some field, data_class in payload; data_class in by_matrix}
	mandatory := {field |
		some field in context.mandatory_fields
		data_class := payload[field]
		data_class != "referrer_identity_nonpro"
		levels[data_class] == 3
	}
	allowed := _capped(matrix_fields | mandatory, object.get(object.get(context.mt, "column_fields", {}), col, false))
	withheld := sort(_present - allowed)
	causes := {field: _cause_in(levels, own, payload[field]) | some field in withheld}
}

# A recipient with its own column only (most) has its column's levels; one that passes
# information to the family or an alleged perpetrator takes the strictest of the columns.
_levels(col, family, perpetrator, own) := own if {
	family == false
	perpetrator == false
} else := {data_class: _level(cols, data_class) | some data_class in _classes} if {
	cols := {col} | _family_columns_of(family, perpetrator)
}

# The data classes and fields present in the notification.
_classes := context.payload_classes

_present contains field if some field, _ in input.payload_fields

_holds_conditional(r) if _conditional_met(r)

else := false

# METADATA
# title: Fields this recipient may see
allowed(r) := view(r).allowed

# METADATA
# title: Fields withheld from this recipient
withheld(r) := view(r).withheld

# A message type may list, per matrix column, the only fields that column gets (policy pack
# `column_fields`): the school's DSL gets the minimum of a police notice.
_capped(fields, false) := fields

_capped(fields, cap) := {field | some field in fields; field in cap} if cap != false

_nonpro_classes(true) := {"referrer_identity_nonpro"}

_nonpro_classes(false) := set()

_holds_nonpro(r) if {
	"referrer_identity_nonpro" in _classes
	_nonpro_referrer_allowed(r)
}

else := false

# A de-identified advice request reaches its adviser whole: the matrix minimises what identifies
# people, and an advice request carries nothing that does (C2 refuses it otherwise).
_advice_classes := {data_class | some data_class in _classes; not data_class in config.identifying_classes} if {
	context.advice_request
} else := set()

# R (4) always goes; C (3) only where a risk of harm or the person's consent makes it relevant.
# A conditional field the message type must carry is relevant to every recipient by definition
# (`mandatory` in view).
_lowest_level(true) := 3

_lowest_level(false) := 4

# Permission-gated material (court, coroner) goes where the matrix allows it once permission
# exists; permission governs its field only, never the rest of the notification (C6).
_permitted(type, levels) := {data_class |
	some data_class in _gated
	levels[data_class] == 2
	_permission(type, data_class)
}

# The matrix's P level is for court and post-mortem material only (a test checks the pack).
_gated_classes := {"court_material", "coronial_material"}

_gated := _gated_classes & _classes

# Conditional fields go only where a risk of harm or the person's consent makes them relevant.
_conditional_met(_) if context.any_risk

_conditional_met(r) if context.consent_given_for(r)

_permission(_, "court_material") if input.restrictions.court_permission_obtained == true

_permission(_, "coronial_material") if input.restrictions.coroner_permission_obtained == true

# The Coroner decides who sees post-mortem material: the Coroner's officer needs no permission.
_permission(type, data_class) if context.type_grants_permission(type, data_class)

# METADATA
# title: I11 a member of the public who referred is named only with their consent
# description: >-
#   The referrer agreed to be named to this (non-family-facing) recipient, or it is CSC intake.
# custom:
#   rule_id: I11
#   source: >-
#     CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral > Screening
#     of Referrals by Children's Social Care: "Personal information about non-professional
#     referrers should not be disclosed to third parties (including subject families and other
#     agencies) without consent"; CPSCP-Procedures, Responding to concerns about a child >
#     Responding to concerns raised by members of the public: "professionals should not give
#     referrers any guarantees of confidentiality"
_nonpro_referrer_allowed(r) if {
	not context.family_facing(r)
	context.referrer_consents_for(r)
}

_nonpro_referrer_allowed(r) if {
	not context.family_facing(r)
	context.type_conf(r).intake == true
	r.role in config.intake_roles
}

# METADATA
# title: Reasons for withheld fields
# description: One reason per cause, naming the withheld fields (GR5, I11, C6, C3); effect withhold_fields.
withheld_reasons(r) := view(r).reasons

_reasons(causes) := {reason |
	some cause in {c | some c in causes}
	names := [field | some field, c in causes; c == cause]
	reason := {"rule": _cause_rule[cause], "message": context.fit(sprintf(_cause_text[cause], [context.words_list(sort(names))])), "effect": "withhold_fields"}
}

_cause_rule := {"referrer": "I11", "safety": "GR5", "court_permission": "C6", "coroner_permission": "C6", "necessity": "C3"}

_cause_text := {
	"referrer": "Withheld the identity of the member of the public who raised the concern (%s): it goes only to CSC intake unless they agree.",
	"safety": "Withheld because this recipient passes information to the family or an alleged perpetrator: %s.",
	"court_permission": "Withheld until the court gives permission; the rest of the notification is not held back by it: %s.",
	"coroner_permission": "Withheld until the Coroner gives permission (post-mortem material goes to partners only at the Coroner's discretion); the rest of the notification is not held back by it: %s.",
	"necessity": "Withheld as not necessary for this recipient (minimum necessary): %s.",
}

_cause_in(_, _, "referrer_identity_nonpro") := "referrer"

_cause_in(levels, own, data_class) := "safety" if {
	data_class != "referrer_identity_nonpro"
	own[data_class] > levels[data_class]
} else := "court_permission" if {
	data_class == "court_material"
	levels[data_class] == 2
} else := "coroner_permission" if {
	data_class == "coronial_material"
	levels[data_class] == 2
} else := "necessity" if {
	data_class != "referrer_identity_nonpro"
}
