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
level(r, data_class) := min({_rank[config.matrix[data_class][col]] | some col in _columns(r)})

_columns(r) := {context.column(r)} | _family_columns(r)

_family_columns(r) := {col |
	some col, flag in {"family": r.conveys_to_family, "alleged_perpetrator": r.conveys_to_alleged_perpetrator}
	flag == true
}

# METADATA
# title: Fields this recipient may see
allowed(r) := sort([field |
	some field, data_class in input.payload_fields
	_allowed(r, field, data_class)
])

# METADATA
# title: Fields withheld from this recipient
withheld(r) := sort([field |
	some field, data_class in input.payload_fields
	not _allowed(r, field, data_class)
])

# The matrix allows the field and the message type does not cap this recipient's column below it.
_allowed(r, field, data_class) if {
	_allowed_by_matrix(r, field, data_class)
	_type_permits(r, field)
}

# A message type may list, per matrix column, the only fields that column gets (policy pack
# `column_fields`): the school's DSL gets the minimum of a police notice.
_type_permits(r, _) if not object.get(context.mt, "column_fields", {})[context.column(r)]

_type_permits(r, field) if field in context.mt.column_fields[context.column(r)]

_allowed_by_matrix(r, _, data_class) if {
	data_class == "referrer_identity_nonpro"
	_nonpro_referrer_allowed(r)
}

_allowed_by_matrix(r, _, data_class) if {
	data_class != "referrer_identity_nonpro"
	_allowed_by_level(r, data_class)
}

# A de-identified advice request reaches its adviser whole: the matrix minimises what identifies
# people, and an advice request carries nothing that does (C2 refuses it otherwise).
_allowed_by_matrix(_, _, data_class) if {
	context.advice_request
	not data_class in config.identifying_classes
}

# A conditional field the message type must carry is relevant to every recipient by definition.
_allowed_by_matrix(r, field, data_class) if {
	data_class != "referrer_identity_nonpro"
	level(r, data_class) == 3
	field in context.mandatory_fields
}

_allowed_by_level(r, data_class) if level(r, data_class) == 4

_allowed_by_level(r, data_class) if {
	level(r, data_class) == 3
	_conditional_met(r)
}

# Permission-gated material (court, coroner) goes where the matrix allows it once permission
# exists; permission governs its field only, never the rest of the notification (C6).
_allowed_by_level(r, data_class) if {
	level(r, data_class) == 2
	_permission(r, data_class)
}

# Conditional fields go only where a risk of harm or the person's consent makes them relevant.
_conditional_met(_) if context.any_risk

_conditional_met(r) if context.consent_given_for(r)

_permission(_, "court_material") if input.restrictions.court_permission_obtained == true

_permission(_, "coronial_material") if input.restrictions.coroner_permission_obtained == true

# The Coroner decides who sees post-mortem material: the Coroner's officer needs no permission.
_permission(r, data_class) if context.grants_permission(r, data_class)

# The referrer agreed to be named to this (non-family-facing) recipient, or it is CSC intake.
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
withheld_reasons(r) := {reason |
	some cause, fields in _by_cause(r)
	count(fields) > 0
	reason := {"rule": _cause_rule[cause], "message": sprintf(_cause_text[cause], [context.words_list(sort(fields))]), "effect": "withhold_fields"}
}

_cause_rule := {"referrer": "I11", "safety": "GR5", "court_permission": "C6", "coroner_permission": "C6", "necessity": "C3"}

_cause_text := {
	"referrer": "Withheld the identity of the member of the public who raised the concern (%s): it goes only to CSC intake unless they agree.",
	"safety": "Withheld because this recipient passes information to the family or an alleged perpetrator: %s.",
	"court_permission": "Withheld until the court gives permission; the rest of the notification is not held back by it: %s.",
	"coroner_permission": "Withheld until the Coroner gives permission (post-mortem material goes to partners only at the Coroner's discretion); the rest of the notification is not held back by it: %s.",
	"necessity": "Withheld as not necessary for this recipient (minimum necessary): %s.",
}

_by_cause(r) := {cause: {field |
	some field in withheld(r)
	_cause(r, input.payload_fields[field]) == cause
} |
	some cause in object.keys(_cause_rule)
}

_cause(r, data_class) := "referrer" if {
	data_class == "referrer_identity_nonpro"
} else := "safety" if {
	_rank[config.matrix[data_class][context.column(r)]] > level(r, data_class)
} else := "court_permission" if {
	data_class == "court_material"
	level(r, data_class) == 2
} else := "coroner_permission" if {
	data_class == "coronial_material"
	level(r, data_class) == 2
} else := "necessity"
