"""Which notification types a practitioner may send by hand, and to whom, derived, never listed.

A type is offered when the schema has a model for it (its newest version), the policy pack has an
entry for it, the pack lets the signed-in agency's type send it, the form can ask for every field
of its payload, and some other registered agency may receive it. A type added to both the schema
and the pack is offered as soon as both are deployed. Its recipients are the registered agencies of
the types the pack lets receive it (and of those the answers' payload facts add), each addressed to
the role queues the pack lets it reach there (an adviser's for an advice request).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from broker.partnership.registry import Registry
from broker.review.views import field_classes
from broker.ui import words as say
from broker.ui.form_payload import enum_values, field_label, supported
from broker.ui.policy_pack import TypeRules
from schemas.agencies import role_names
from schemas.notifications import newest_model
from schemas.payloads.advice import ADVISER_ROLES
from schemas.vocab import AgencyRole

# Where children's social care takes a notification: a front door at its intake, or the social worker
# already allocated to the child, to whom the front door would only pass it on, or its Emergency Duty
# Team out of hours (Working Together to Safeguard Children 2023, chapter 2, "Making a referral"); a
# team manager where a disagreement is escalated (CPSCP-Procedures, Responding to concerns about a
# child > Duty to co-operate and refer). The sender picks one of those the pack's `recipient_roles`
# allow; the first allowed is offered first, so additional information goes to the allocated social
# worker unless the sender picks the duty team (M04).
QUEUES = {
    "csc_front_door": ("mash_intake", "social_worker", "edt", "team_manager"),
    "csc_team": ("social_worker", "team_manager"),
    "other_la_csc": ("mash_intake", "social_worker", "edt", "team_manager"),
}
# Offered only where the pack names them: a manager takes an escalation, not every referral the
# intake would triage, so a type that may go to any role is not offered to them.
_NAMED_ONLY = frozenset({"team_manager"})

# The role queue a notification reaches at each type of agency (C4: never a general inbox).
DEFAULT_ROLE = {
    "csc_front_door": "mash_intake",
    "csc_team": "social_worker",
    "other_la_csc": "mash_intake",
    "police": "police_public_protection",
    "health_gp": "gp",
    "health_community": "health_visitor",
    "health_acute": "named_professional",
    "health_mental_health": "named_professional",
    "education_school": "dsl",
    "education_early_years": "dsl",
    "asc": "adult_safeguarding_officer",
    "probation": "probation_officer",
    "yos": "yos_officer",
    "housing": "housing_officer",
    "vcs": "safeguarding_lead",
    "da_service": "da_caseworker",
    "lado": "lado_officer",
    "marac": "marac_coordinator",
    "cdop": "cdop_manager",
    "coroner": "coroners_officer",
    "virtual_school": "virtual_school_head",
}
# An advice request goes to whichever adviser an agency has, in this order.
_ADVISER_ORDER = ("dsl", "safeguarding_lead", "named_professional", "designated_professional", "ig_lead")


_CODE_NOTE = re.compile(r"\s*\(`[^`]*`\)")


@dataclass(frozen=True)
class FormType:
    message_type: str
    schema_version: str
    label: str
    payload: type[BaseModel]
    rules: TypeRules

    @property
    def stages(self) -> tuple[str, ...]:
        """The payload's stages, where its recipients (and senders) differ by stage."""
        return enum_values(self.payload, "stage")


def _label(model: type[BaseModel], rules: TypeRules) -> str:
    """The type by its name ("LADO allegation"), then what it is where its name does not say it
    (": allegation against a person working with children"). Not its catalogue id, which the
    decision pages add for those who look it up: the form shows a practitioner no codes."""
    # The model's docstring starts with its catalogue id and what it is ("M20 missing child notice.").
    words = (model.__doc__ or rules.message_type).strip().splitlines()[0].rstrip(".")
    # "(`stage`)" tells a developer the type has stages; the "or" in the words already says so.
    words = _CODE_NOTE.sub("", words).replace("`", "").strip().removeprefix(rules.catalogue_id).strip()
    name = say.type_name(rules.message_type)
    if re.match(rf"{re.escape(name)}\b", words, re.IGNORECASE):  # "Safeguarding referral to children's ..."
        words = words[len(name) :].strip()
    if not words:
        return name
    # What the name leaves out may go on from it ("or neonatal pre-discharge notice", "(Prevent / Channel)").
    joint = ", " if words.startswith("or ") else " " if words.startswith("(") else ": "
    return f"{name}{joint}{words}"


def payload_of(message_type: str) -> type[BaseModel] | None:
    """The payload model of this type's newest schema version, if the contract has the type."""
    newest = newest_model(message_type)
    payload: Any = newest[1].model_fields["payload"].annotation if newest is not None else None
    return payload if isinstance(payload, type) and issubclass(payload, BaseModel) else None


def label_of(message_type: str, name: str) -> str:
    """A payload field of this type in the words the form asked for it in (`form_payload.field_label`):
    every page that names a field released names it so."""
    return field_label(payload_of(message_type), name)


def fields_of(message_type: str, fields: list[str]) -> dict[str, dict[str, str]]:
    """What the answer and check pages say of each of `fields` on this type: its data class (`classes`)
    and its words (`labels`, `label_of`)."""
    return {"classes": field_classes(message_type, fields), "labels": {f: label_of(message_type, f) for f in fields}}


def offered(pack: dict[str, TypeRules], agency_type: str) -> list[FormType]:
    """The types this agency may send by hand, by catalogue id."""
    found = []
    for message_type, rules in pack.items():
        newest = newest_model(message_type)
        if newest is None or not rules.sent_by(agency_type):
            continue
        version, model = newest
        payload: Any = model.model_fields["payload"].annotation
        if isinstance(payload, type) and issubclass(payload, BaseModel) and supported(payload):
            found.append(FormType(message_type, version, _label(model, rules), payload, rules))
    return sorted(found, key=lambda t: (t.rules.catalogue_id or "M99", t.message_type))


def find(types: list[FormType], message_type: str | None) -> FormType | None:
    return next((t for t in types if t.message_type == message_type), None)


def recipient_queues(
    agency_type: str, form_type: FormType | None, allowed: frozenset[str] | None = None
) -> tuple[str, ...]:
    """The role queues at an agency of this type that may take this notification, the one it goes to
    unless the sender picks another first; none: no queue there may. `allowed`: the roles the policy
    lets this notification reach (`TypeRules.roles_at`), None for any."""
    roles = role_names(agency_type)
    if form_type is not None and form_type.rules.advice_request:
        advisers = {r.value for r in ADVISER_ROLES if isinstance(r, AgencyRole)}
        return tuple(r for r in _ADVISER_ORDER if r in roles & advisers and (allowed is None or r in allowed))[:1]
    if agency_type in QUEUES:
        return tuple(
            q
            for q in QUEUES[agency_type]
            if q in roles and (q in allowed if allowed is not None else q not in _NAMED_ONLY)
        )
    role = DEFAULT_ROLE.get(agency_type) or (sorted(roles)[0] if roles else "safeguarding_lead")
    return (role,) if allowed is None or role in allowed else ()


def own_role(agency_type: str, allowed: Iterable[str]) -> str | None:
    """The role the form picks first for a sender: the one role queue of their agency's type they may
    send as (a pathology service's practitioner: pathologist). None where several are (a MASH worker
    may be intake, duty or a social worker) or none: guessing there would send under the wrong role."""
    mine = role_names(agency_type) & set(allowed)
    return next(iter(mine)) if len(mine) == 1 else None


def recipient_options(
    registry: Registry, own_agency: str, form_type: FormType | None, facts: dict[str, str] | None = None
) -> list[dict[str, str]]:
    """The agencies this notification may go to, given the payload facts answered so far, each with
    the role queue it goes to and (space-separated, as every option's value is text) those the
    sender may pick from instead."""
    options = []
    own = registry.agency(own_agency)
    sender_type = own.type if own else ""
    for agency_id, agency in sorted(registry.agencies.items()):
        if agency_id == own_agency:
            continue
        queues = _queues(agency.type, form_type, facts or {}, sender_type)
        if queues:
            options.append({"id": agency_id, "name": agency.name, "role": queues[0], "queues": " ".join(queues)})
    return options


def _queues(agency_type: str, form_type: FormType | None, facts: dict[str, str], sender_type: str) -> tuple[str, ...]:
    """The role queues at an agency of this type the policy's C4 would let this reach. A fact's value
    counts only once given: the form never offers whom the policy would refuse."""
    if form_type is None:
        return recipient_queues(agency_type, None)
    rules, stages = form_type.rules, form_type.stages
    if not rules.received_by(agency_type, facts, sender_type=sender_type, stages=stages):
        return ()
    allowed = rules.roles_at(agency_type, facts, sender_type=sender_type, stages=stages)
    return recipient_queues(agency_type, form_type, allowed)


def sendable(pack: dict[str, TypeRules], registry: Registry, agency_id: str) -> list[FormType]:
    """The types this agency may send by hand to at least one registered agency (a type only the
    sender's own kind of agency receives, such as a crime report to the police by the police, is not)."""
    agency = registry.agency(agency_id)
    if agency is None:
        return []
    return [t for t in offered(pack, agency.type) if recipient_options(registry, agency_id, t)]
