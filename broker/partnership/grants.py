"""Who may assert which role: each agency's granted roles and the partnership's office holders.

Roles are granted, not claimed. An agency holds the private key its tokens are signed with, so it
could put any `role` claim in them; the registry says which of the person roles
(`broker.partnership.roles.PERSON_ROLES`) its tokens may assert, and the gateway refuses any other.
Every agency may act as `agency_system` (its own systems: posting, receipts), and nothing more
until an operator grants it.

A few office holders see across the partnership: the partnership's IG lead and Caldicott Guardian,
each named by agency and role (`OFFICES`). What they, and every role, may see and decide is the
table in `broker.review.access`.

Grants and offices change only through `change_access`, which appends a change signed with the
broker's key (`broker.partnership.changes`); the gateway refuses a registry edited by hand.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric import ed25519
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from broker.errors import RegistryError
from broker.partnership.changes import AccessChange, ChangeAction, sign_change
from broker.partnership.roles import OFFICES, PERSON_ROLES, Office

if TYPE_CHECKING:
    from broker.partnership.registry import Registry

_AGENCY_ID = r"^[a-z0-9][a-z0-9-]{1,62}$"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OfficeHolder(_Frozen):
    """A partnership office, held by whoever has `role` at `agency_id`."""

    office: Office
    agency_id: str = Field(pattern=_AGENCY_ID)
    role: str

    @model_validator(mode="after")
    def _role_of_office(self) -> OfficeHolder:
        if self.role != OFFICES[self.office]:
            raise ValueError(f"the {self.office} must be a {OFFICES[self.office]}, not a {self.role}")
        return self


def taken_since(registry: Registry, agency_id: str, role: str, moment: datetime) -> AccessChange | None:
    """The last change after `moment` that took something from `role` at `agency_id`: the role
    revoked, or an office its holder held vacated. Granted back since or not, a session opened
    before it must start again: otherwise a revoke and a re-grant revive it unseen."""
    taken = (
        change
        for change in reversed(registry.access_changes)
        if change.action in ("revoke", "vacate") and (change.agency_id, change.role) == (agency_id, role)
    )
    last = next(taken, None)
    return last if last is not None and last.at > moment else None


def change_access(
    registry: Registry,
    *,
    action: ChangeAction,
    agency_id: str,
    by: str,
    signing_key: ed25519.Ed25519PrivateKey,
    key_id: str,
    now: datetime,
    role: str | None = None,
    office: Office | None = None,
) -> Registry:
    """Grant or revoke a role, appoint or vacate an office; returns the registry with the signed change."""
    if registry.agency(agency_id) is None:
        raise RegistryError(f"agency {agency_id!r} is not registered")
    grants = {a: set(r) for a, r in registry.grants.items()}
    holders = list(registry.office_holders)
    if action in ("grant", "revoke"):
        role = _person_role(role)
        held = grants.setdefault(agency_id, set())
        if (role in held) == (action == "grant"):
            raise RegistryError(f"{agency_id!r} {'already has' if action == 'grant' else 'was never granted'} {role}")
        held.symmetric_difference_update({role})
    else:
        if office is None:
            raise RegistryError("name the office: " + ", ".join(OFFICES))
        role = OFFICES[office]
        holders = _changed_offices(holders, action, office, agency_id, role)
    updated = _validated(registry, grants, holders)
    return sign_change(
        updated,
        action=action,
        agency_id=agency_id,
        role=role,
        office=office,
        by=by,
        signing_key=signing_key,
        key_id=key_id,
        now=now,
    )


def _person_role(role: str | None) -> str:
    if role not in PERSON_ROLES:
        # agency_system is every agency's already; anything else is not a role the broker knows.
        raise RegistryError(f"role {role!r} cannot be granted; grant one of {', '.join(PERSON_ROLES)}")
    return role


def _changed_offices(
    holders: list[OfficeHolder], action: ChangeAction, office: Office, agency_id: str, role: str
) -> list[OfficeHolder]:
    current = [h for h in holders if h.office == office]
    if action == "appoint":
        if any(h.agency_id == agency_id for h in current):
            raise RegistryError(f"the {role} of {agency_id!r} already holds {office}")
        return [*holders, OfficeHolder(office=office, agency_id=agency_id, role=role)]
    if not any(h.agency_id == agency_id for h in current):
        raise RegistryError(f"the {role} of {agency_id!r} does not hold {office}")
    return [h for h in holders if not (h.office == office and h.agency_id == agency_id)]


def _validated(registry: Registry, grants: dict[str, set[str]], holders: list[OfficeHolder]) -> Registry:
    # Through validation (not model_copy), so the registry's own checks run on the new grants.
    data = registry.model_dump(mode="json")
    data["grants"] = {a: sorted(r) for a, r in sorted(grants.items()) if r}
    data["office_holders"] = [h.model_dump(mode="json") for h in holders]
    try:
        return type(registry).model_validate(data)
    except ValidationError as exc:
        raise RegistryError(f"the change would leave the registry invalid: {exc}") from exc
