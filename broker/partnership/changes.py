"""The signed chain of changes to the registry: every agency, key, grant and office comes from one.

The registry changes only through signed changes (`AccessChange`): a grant, revocation, office
appointment or vacancy (`broker.partnership.grants.change_access`), an agency registered or its
keys rotated (`sign_registration`). Each is signed with the broker's Ed25519 key: who changed what,
when, and the digest of the registry after it, chained to the change before. A token key or an
agency type decides what an agency may do as surely as a grant does, so the digest covers every
agency, key, grant and office (`Registry.content_digest`), not the grants alone. The gateway and
the worker check the chain when they start and refuse a registry edited by hand
(`verify_access_changes`); the gateway logs each change it has not logged yet
(`broker.review.access_log`).

Changes signed before the agencies came under the chain vouch for the grants alone
(`covers="access"`). A registry whose last change is one of them is refused until an operator has
looked at its agencies and keys and signed them as they stand (`adopt_registry`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Final, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from broker.errors import RegistryError
from broker.partnership.roles import AGENCY_SYSTEM, Office
from schemas.envelope import canonical_json

if TYPE_CHECKING:
    from broker.partnership.registry import Registry

ChangeAction = Literal["grant", "revoke", "appoint", "vacate", "register", "rotate", "adopt"]
RegistrationAction = Literal["register", "rotate"]
# What a change's `access` digest vouches for: the grants and offices alone (changes signed before
# the agencies came under the chain), or the whole registry but its chain (every change since).
Covers = Literal["access", "registry"]
# The change that vouches for a registry as a whole names the partnership, not one agency.
PARTNERSHIP: Final = "partnership"
OPERATOR_ROLE: Final = "operator"

_AGENCY_ID = r"^[a-z0-9][a-z0-9-]{1,62}$"
# An operator id goes into the decision log's actor column, so it has the log's identifier shape.
OPERATOR_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AccessChange(_Frozen):
    """One signed change to the registry: who changed what, when, and the digest of what it led to."""

    number: int = Field(ge=1)
    action: ChangeAction
    agency_id: str = Field(pattern=_AGENCY_ID)
    role: str
    office: Office | None = None
    by: str = Field(pattern=OPERATOR_PATTERN)
    at: AwareDatetime
    # Left out while "access", so changes signed before it keep their bytes and their signatures.
    covers: Covers = Field(default="access", exclude_if=lambda covers: covers == "access")
    access: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="Registry.content_digest after this change (Registry.access_digest if covers is access)",
    )
    # What an IG lead needs to read a registration or rotation: the type, name and key ids it added.
    detail: str | None = Field(default=None, max_length=400, exclude_if=lambda detail: detail is None)
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
            "register": f"registered {self.agency_id}",
            "rotate": f"rotated the keys of {self.agency_id}",
            "adopt": "signed the registry's agencies and keys as they stood",
        }[self.action]
        said = f"change #{self.number}: {self.by} {what} at {self.at.isoformat()}"
        return f"{said} ({self.detail})" if self.detail else said


def sign_change(
    registry: Registry,
    *,
    action: ChangeAction,
    agency_id: str,
    role: str,
    by: str,
    signing_key: ed25519.Ed25519PrivateKey,
    key_id: str,
    now: datetime,
    office: Office | None = None,
    detail: str | None = None,
) -> Registry:
    """Append the signed change that vouches for `registry` as it is now, chained to the one before.

    Callers check the chain first (`verify_access_changes`): a signature on top of a hand edit would vouch for it.
    """
    last = registry.access_changes[-1] if registry.access_changes else None
    unsigned = AccessChange(
        number=len(registry.access_changes) + 1,
        action=action,
        agency_id=agency_id,
        role=role,
        office=office,
        by=by,
        at=now,
        covers="registry",
        access=registry.content_digest,
        detail=detail,
        previous=last.digest() if last else None,
        key_id=key_id,
        signature="",
    )
    signature = _b64(signing_key.sign(unsigned.signed_bytes()))
    change = unsigned.model_copy(update={"signature": signature})
    return registry.model_copy(update={"access_changes": (*registry.access_changes, change)})


def sign_registration(
    registry: Registry,
    *,
    action: RegistrationAction,
    agency_id: str,
    by: str,
    signing_key: ed25519.Ed25519PrivateKey,
    key_id: str,
    now: datetime,
) -> Registry:
    """Sign an agency's registration or key rotation, already made in `registry` (`broker.partnership.registry`)."""
    agency = registry.agency(agency_id)
    if agency is None:
        raise RegistryError(f"agency {agency_id!r} is not registered")
    witness = agency.current_witness_key
    # Key ids first: a long name is what gets cut at the field's limit, never the keys.
    detail = (
        f"token key {agency.jwt_keys[0].kid}, encryption key {agency.current_encryption_key.kid}"
        + (f", witness key {witness.kid}" if witness is not None else "")
        + f"; {agency.type} {json.dumps(agency.name, ensure_ascii=False)}"
    )
    return sign_change(
        registry,
        action=action,
        agency_id=agency_id,
        role=AGENCY_SYSTEM,
        by=by,
        signing_key=signing_key,
        key_id=key_id,
        now=now,
        detail=detail[:400],
    )


def adopt_registry(
    registry: Registry,
    *,
    revision: str,
    keys: Iterable[tuple[str, ed25519.Ed25519PublicKey]],
    by: str,
    signing_key: ed25519.Ed25519PrivateKey,
    key_id: str,
    now: datetime,
) -> Registry:
    """Sign, as they stand, the agencies and keys of a registry written before they came under the chain.

    `revision` is the revision the operator was shown, every agency and key of it, and checked.
    """
    if revision != registry.revision:
        raise RegistryError(
            f"the registry is at revision {registry.revision[:16]}, not the {revision[:16]} you checked: look again"
        )
    check_adoptable(registry, keys)
    counted = sum(len(a.jwt_keys) + len(a.encryption_keys) + len(a.witness_keys) for a in registry.agencies.values())
    detail = f"{len(registry.agencies)} agencies and {counted} keys, revision {registry.revision}"
    return sign_change(
        registry,
        action="adopt",
        agency_id=PARTNERSHIP,
        role=OPERATOR_ROLE,
        by=by,
        signing_key=signing_key,
        key_id=key_id,
        now=now,
        detail=detail,
    )


def check_adoptable(registry: Registry, keys: Iterable[tuple[str, ed25519.Ed25519PublicKey]]) -> None:
    """Refuse any registry but one from before the agencies came under the chain, its grants as signed.

    Refused: one a change already vouched for as a whole (a later change signed over the grants alone
    is an old tool's, on top of what may be a hand edit), one whose grants were edited by hand. A chain
    cut back to before it covered the agencies is the gateway's to catch at start: the decision log
    holds the changes it lacks (`broker.review.access_log.behind`).
    """
    changes = registry.access_changes
    if not changes:
        if registry.grants or registry.office_holders:
            raise RegistryError(_GRANTS_UNSIGNED)
        return
    _verify_chain(changes, keys)
    covered = [c for c in changes if c.covers == "registry"]
    last = changes[-1]
    if covered and last.access == registry.content_digest:
        raise RegistryError(f"nothing to adopt: signed change #{last.number} vouches for the whole registry")
    if covered:
        raise RegistryError(
            f"signed change #{covered[-1].number} already vouched for the whole registry; it cannot be adopted "
            f"again. {_edited(covered[-1])}"
        )
    if last.access != registry.access_digest:
        raise RegistryError(_grants_edited(last))


_GRANTS_UNSIGNED = (
    "the registry grants roles but records no signed change: edited by hand? Put back the file its last "
    "signed change left"
)
_NO_CHANGE = (
    "the registry lists agencies but records no signed change. If it was written before registrations were "
    "signed, look at every agency and key with `python -m broker.partnership.cli adopt --registry ... --by ... "
    "--broker-keys ...` and sign them as they stand by running it again with `--revision`; otherwise it was "
    "written by hand"
)


def verify_access_changes(registry: Registry, keys: Iterable[tuple[str, ed25519.Ed25519PublicKey]]) -> None:
    """Refuse a registry that did not come from a chain of changes signed by one of the broker's keys.

    Closed by default: a registry that lists any agency must show the signed change that left it
    exactly as it is, agencies, keys, grants and offices alike.
    """
    changes = registry.access_changes
    if not changes:
        if registry.grants or registry.office_holders:
            raise RegistryError(_GRANTS_UNSIGNED)
        if registry.agencies:
            raise RegistryError(_NO_CHANGE)
        return
    _verify_chain(changes, keys)
    last = changes[-1]
    covered = [c for c in changes if c.covers == "registry"]
    if last.covers == "access" and covered:
        raise RegistryError(
            f"change #{last.number} vouches for the grants alone, signed by a tool from before registrations "
            f"were signed, over a registry change #{covered[-1].number} had vouched for as a whole. "
            + _edited(covered[-1])
        )
    if last.covers == "access":
        if last.access != registry.access_digest:
            raise RegistryError(_grants_edited(last))
        raise RegistryError(
            f"no signed change vouches for the registry's agencies and keys (change #{last.number} was signed "
            "before they came under the chain). Look at every agency and key with `python -m "
            "broker.partnership.cli adopt --registry ... --by ... --broker-keys ...`, which shows them and the "
            "revision to sign; then sign them as they stand by running it again with `--revision`"
        )
    if last.access != registry.content_digest:
        raise RegistryError(_edited(last))


def _verify_chain(changes: tuple[AccessChange, ...], keys: Iterable[tuple[str, ed25519.Ed25519PublicKey]]) -> None:
    """Each change in order, chained to the one before, and signed by a broker key not retired before it."""
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


def _grants_edited(last: AccessChange) -> str:
    return (
        f"the grants differ from what signed change #{last.number} left: edited by hand? Make changes with "
        "`python -m broker.partnership.cli grant`"
    )


def _edited(last: AccessChange) -> str:
    return (
        f"the registry differs from what signed change #{last.number} left (an agency, key, type, name, grant "
        "or office): edited by hand? Put back the file that change left, and make changes with "
        "`python -m broker.partnership.cli` (register, rotate, grant, revoke, appoint, vacate)"
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
