"""Who may assert which role: each agency's granted roles, the partnership's office holders, and
the signed chain of changes that made them so.

Roles are granted, not claimed. An agency holds the private key its tokens are signed with, so it
could put any `role` claim in them; the registry says which of the person roles (`PERSON_ROLES`)
its tokens may assert, and the gateway refuses any other. Every agency may act as `agency_system`
(its own systems: posting, receipts), and nothing more until an operator grants it.

A few office holders see across the partnership: the partnership's IG lead and Caldicott Guardian,
each named by agency and role (`OFFICES`). What they, and every role, may see and decide is the
table in `broker.review.access`.

Grants and offices change only through `change_access`, which appends an `AccessChange` signed
with the broker's Ed25519 key: who changed what, when, and the digest of the grants after it,
chained to the change before. The gateway checks the chain when it starts and refuses a registry
whose grants were edited by hand (`verify_access_changes`), and logs each change it has not logged
yet (`broker.review.access_log`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Final, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from broker.errors import RegistryError
from schemas.envelope import canonical_json

if TYPE_CHECKING:
    from broker.partnership.registry import Registry

AGENCY_SYSTEM: Final = "agency_system"
# In the order the access table lists them: a person acting, then leads, then authorisers.
PERSON_ROLES: Final = ("practitioner", "dsl", "ig_lead", "caldicott_guardian", "line_manager", "named_professional")
ROLES: Final = frozenset({AGENCY_SYSTEM, *PERSON_ROLES})
# Partnership-level offices and the role their holder must have been granted at their agency.
OFFICES: Final = {"partnership_ig_lead": "ig_lead", "partnership_caldicott_guardian": "caldicott_guardian"}
Office = Literal["partnership_ig_lead", "partnership_caldicott_guardian"]
ChangeAction = Literal["grant", "revoke", "appoint", "vacate"]

_AGENCY_ID = r"^[a-z0-9][a-z0-9-]{1,62}$"
# An operator id goes into the decision log's actor column, so it has the log's identifier shape.
OPERATOR_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$"


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


class AccessChange(_Frozen):
    """One signed change to the grants or offices: who changed what, when, and what it led to."""

    number: int = Field(ge=1)
    action: ChangeAction
    agency_id: str = Field(pattern=_AGENCY_ID)
    role: str
    office: Office | None = None
    by: str = Field(pattern=OPERATOR_PATTERN)
    at: AwareDatetime
    access: str = Field(pattern=r"^[0-9a-f]{64}$", description="Registry.access_digest after this change")
    previous: str | None = Field(pattern=r"^[0-9a-f]{64}$", description="digest() of the change before")
    key_id: str = Field(pattern=r"^[A-Za-z0-9._:-]{1,64}$")
    signature: str = Field(pattern=r"^[A-Za-z0-9_-]*$")

    def signed_bytes(self) -> bytes:
        return canonical_json(self.model_dump(mode="json", exclude={"signature"}))

    def digest(self) -> str:
        return hashlib.sha256(canonical_json(self.model_dump(mode="json"))).hexdigest()

    def describe(self) -> str:
        what = {
            "grant": f"granted {self.role} to {self.agency_id}",
            "revoke": f"revoked {self.role} from {self.agency_id}",
            "appoint": f"appointed the {self.role} of {self.agency_id} as {self.office}",
            "vacate": f"vacated {self.office} (held by the {self.role} of {self.agency_id})",
        }[self.action]
        return f"change #{self.number}: {self.by} {what} at {self.at.isoformat()}"


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
    last = registry.access_changes[-1] if registry.access_changes else None
    unsigned = AccessChange(
        number=len(registry.access_changes) + 1,
        action=action,
        agency_id=agency_id,
        role=role,
        office=office,
        by=by,
        at=now,
        access=updated.access_digest,
        previous=last.digest() if last else None,
        key_id=key_id,
        signature="",
    )
    signature = _b64(signing_key.sign(unsigned.signed_bytes()))
    change = unsigned.model_copy(update={"signature": signature})
    return updated.model_copy(update={"access_changes": (*registry.access_changes, change)})


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


def verify_access_changes(registry: Registry, keys: Iterable[tuple[str, ed25519.Ed25519PublicKey]]) -> None:
    """Refuse grants that did not come from a chain of changes signed by one of the broker's keys.

    Closed by default: a registry that grants anything beyond `agency_system` must show, for the
    grants it holds now, the signed change that produced them.
    """
    changes = registry.access_changes
    if not changes:
        if registry.grants or registry.office_holders:
            raise RegistryError(
                "the registry grants roles but records no signed change; grant them with "
                "`python -m broker.partnership.cli grant`"
            )
        return
    ordered = list(keys)  # newest first
    by_id, rank = dict(ordered), {kid: index for index, (kid, _) in enumerate(ordered)}
    previous: str | None = None
    for number, change in enumerate(changes, start=1):
        key = by_id.get(change.key_id)
        if change.number != number or change.previous != previous:
            raise RegistryError(f"access change #{number} is out of order: the chain of changes is broken")
        if key is None:
            raise RegistryError(f"access change #{number} is signed with {change.key_id!r}, not a broker key")
        if number > 1 and rank[change.key_id] > rank[changes[number - 2].key_id]:
            # Keys are retired in order: a change after one signed with a newer key was signed by a key
            # already retired when it was made (whoever still holds it).
            raise RegistryError(
                f"access change #{number} is signed with {change.key_id!r}, a broker key retired before "
                f"change #{number - 1} was signed with {changes[number - 2].key_id!r}"
            )
        try:
            key.verify(_unb64(change.signature), change.signed_bytes())
        except InvalidSignature as exc:
            raise RegistryError(f"access change #{number} has a bad signature") from exc
        previous = change.digest()
    if changes[-1].access != registry.access_digest:
        raise RegistryError(
            f"the grants differ from what signed change #{changes[-1].number} left: edited by "
            "hand? Make changes with `python -m broker.partnership.cli grant`"
        )


def signed_with_current(changes: Iterable[AccessChange], current_key_id: str) -> None:
    """Refuse a change new to this process (not in force, not logged) unless the broker's current key
    signed it: every key of the history verifies old changes, but a retired one may be in other hands."""
    for change in changes:
        if change.key_id != current_key_id:
            raise RegistryError(
                f"access change #{change.number} is new but signed with {change.key_id!r}, a retired broker "
                f"key; changes are signed with the current key, {current_key_id!r}"
            )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return b""
