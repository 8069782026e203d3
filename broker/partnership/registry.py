"""The agency registry: who is in the partnership, and the public keys the broker trusts for each.

It holds public keys only: token verification keys (EdDSA/Ed25519 or ES256/P-256, as JWKs) and
X25519 encryption keys. Lists are newest first. The broker seals to an agency's newest encryption
key; older ones stay listed so the record shows which key each old envelope was sealed to. A
rotated-out token key gets `not_after`, a short grace for tokens already issued with it.

The registry is the trust root for agency authentication. It needs no secrecy, it needs integrity:
every agency, key, grant and office in it comes from a change signed with the broker's key
(`broker.partnership.changes`), and the gateway and worker refuse a file edited by hand. Keep it
writable only by the operator all the same: running processes keep the registry they hold, but a
restart on a hand-edited file fails.
"""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final, Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from broker.errors import RegistryError
from broker.partnership.changes import PARTNERSHIP, AccessChange
from broker.partnership.grants import OfficeHolder
from broker.partnership.jwk import JwtPublicKey, alg_for, b64, cached_public_key, public_jwk, public_key_from_jwk, unb64
from broker.partnership.keys import key_id, write_public_file
from broker.partnership.roles import AGENCY_SYSTEM, PERSON_ROLES
from broker.partnership.witnesses import WitnessPublicKey, check_witness_names
from schemas.envelope import SUITE_NAME, SuiteName, canonical_json
from schemas.vocab import AgencyType
from transport.kem import RecipientPublicKey, public_key_from_raw, raw_public_key, suite_for

REGISTRY_FORMAT: Final = "sgb-registry/1"
DEFAULT_ROTATION_GRACE = timedelta(minutes=15)

_AGENCY_ID = r"^[a-z0-9][a-z0-9-]{1,62}$"
AGENCY_TYPES = frozenset(t.value for t in AgencyType)
_KID = r"^[A-Za-z0-9._:-]{1,64}$"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class JwtVerificationKey(_Frozen):
    """A public key that verifies an agency's tokens."""

    kid: str = Field(pattern=_KID)
    alg: Literal["EdDSA", "ES256"]
    jwk: dict[str, str]
    created_at: AwareDatetime
    # After this instant tokens signed with this key are refused (set when the key is rotated out).
    not_after: AwareDatetime | None = None

    @model_validator(mode="after")
    def _jwk_matches_alg_and_kid(self) -> JwtVerificationKey:
        key = public_key_from_jwk(self.jwk)
        if self.alg != alg_for(key):
            raise ValueError(f"key {self.kid}: alg {self.alg} does not match the JWK")
        if key_id(key) != self.kid:
            raise ValueError(f"key {self.kid}: kid is not the key id of the JWK")
        return self

    def public_key(self) -> JwtPublicKey:
        return cached_public_key(tuple(sorted(self.jwk.items())))

    def usable_at(self, moment: datetime) -> bool:
        return self.not_after is None or moment <= self.not_after


class EncryptionPublicKey(_Frozen):
    """An agency's public key (raw, base64url) that envelopes are sealed to, for its `suite` (`transport.kem`)."""

    kid: str = Field(pattern=_KID)
    public_key: str = Field(pattern=r"^[A-Za-z0-9_-]{43,1622}$")
    created_at: AwareDatetime
    # Left out when X25519, so registries written before the hybrid keep their bytes and revision.
    suite: SuiteName = Field(default=SUITE_NAME, exclude_if=lambda suite: suite == SUITE_NAME)

    @model_validator(mode="after")
    def _kid_matches(self) -> EncryptionPublicKey:
        if key_id(self.recipient_key()) != self.kid:
            raise ValueError(f"key {self.kid}: kid is not the key id of the public key")
        return self

    def recipient_key(self) -> RecipientPublicKey:
        """The key to seal to (its type chooses the suite); a `ValueError` if it is not one."""
        return _recipient_key(self.suite, self.public_key)

    def x25519(self) -> x25519.X25519PublicKey:
        key = self.recipient_key()
        if not isinstance(key, x25519.X25519PublicKey):
            raise RegistryError(f"key {self.kid} is a {self.suite} key, not X25519")
        return key


class Agency(_Frozen):
    """One partner agency and its public keys, newest first."""

    id: str = Field(pattern=_AGENCY_ID)
    name: str = Field(min_length=1, max_length=200)
    type: str  # one of schemas.vocab.AgencyType, kept as its string value

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        # The log files changes to the registry as a whole under this name, seen partnership-wide only:
        # an agency of that name would see them as its own.
        if value == PARTNERSHIP:
            raise ValueError(f"agency id {PARTNERSHIP!r} is reserved for the partnership as a whole")
        return value

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in AGENCY_TYPES:
            raise ValueError(f"agency type {value!r} is not one of {sorted(AGENCY_TYPES)}")
        return value

    jwt_keys: tuple[JwtVerificationKey, ...] = Field(min_length=1)
    encryption_keys: tuple[EncryptionPublicKey, ...] = Field(min_length=1)
    # Keys the agency cosigns checkpoints with (broker.partnership.witnesses); left out while none.
    witness_keys: tuple[WitnessPublicKey, ...] = Field(default=(), exclude_if=lambda keys: not keys)
    created_at: AwareDatetime
    rotated_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _witnesses_are_named_after_the_agency(self) -> Agency:
        check_witness_names(self.id, self.witness_keys)
        return self

    @property
    def current_encryption_key(self) -> EncryptionPublicKey:
        return self.encryption_keys[0]

    @property
    def current_witness_key(self) -> WitnessPublicKey | None:
        return self.witness_keys[0] if self.witness_keys else None

    def jwt_key(self, kid: str) -> JwtVerificationKey | None:
        return next((k for k in self.jwt_keys if k.kid == kid), None)


class Registry(_Frozen):
    """Every agency of one partnership, by id, and who may assert which role (`broker.partnership.grants`)."""

    format: Literal["sgb-registry/1"] = REGISTRY_FORMAT
    partnership_id: str = Field(min_length=1, max_length=128)
    agencies: dict[str, Agency] = Field(default_factory=dict)
    # Person roles each agency's tokens may assert; agency_system is every agency's without a grant.
    grants: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    office_holders: tuple[OfficeHolder, ...] = ()
    # The signed changes that made the registry what it is, oldest first (broker.partnership.changes).
    access_changes: tuple[AccessChange, ...] = ()

    @model_validator(mode="after")
    def _keys_are_ids(self) -> Registry:
        for agency_id, agency in self.agencies.items():
            if agency.id != agency_id:
                raise ValueError(f"agency listed under {agency_id!r} has id {agency.id!r}")
        return self

    @model_validator(mode="after")
    def _grants_are_known(self) -> Registry:
        for agency_id, roles in self.grants.items():
            if agency_id not in self.agencies:
                raise ValueError(f"roles are granted to {agency_id!r}, which is not registered")
            unknown = set(roles) - set(PERSON_ROLES)
            if unknown:
                raise ValueError(f"{agency_id!r} is granted unknown roles {sorted(unknown)}")
        for holder in self.office_holders:
            if holder.role not in self.grants.get(holder.agency_id, ()):
                raise ValueError(
                    f"{holder.office} is held by the {holder.role} of {holder.agency_id!r}, "
                    "a role that agency was not granted"
                )
        return self

    @property
    def revision(self) -> str:
        """SHA-256 (hex) of the canonical JSON of the whole registry: names this exact content."""
        return hashlib.sha256(canonical_json(self.model_dump(mode="json"))).hexdigest()

    def agency(self, agency_id: str) -> Agency | None:
        return self.agencies.get(agency_id)

    def granted_roles(self, agency_id: str) -> frozenset[str]:
        """The roles this agency's tokens may assert (nothing for an agency that is not registered)."""
        if agency_id not in self.agencies:
            return frozenset()
        return frozenset({AGENCY_SYSTEM, *self.grants.get(agency_id, ())})

    def office_of(self, agency_id: str, role: str) -> str | None:
        """The partnership office the holder of `role` at `agency_id` has, if any."""
        return next((h.office for h in self.office_holders if (h.agency_id, h.role) == (agency_id, role)), None)

    @property
    def access_digest(self) -> str:
        """SHA-256 (hex) of who may assert which role: what changes signed before `content_digest` vouched for."""
        access = {
            "partnership_id": self.partnership_id,
            "grants": {a: sorted(r) for a, r in self.grants.items()},
            "office_holders": [h.model_dump(mode="json") for h in self.office_holders],
        }
        return hashlib.sha256(canonical_json(access)).hexdigest()

    @property
    def content_digest(self) -> str:
        """SHA-256 (hex) of the whole registry but its chain of changes: what a signed change vouches for."""
        return hashlib.sha256(canonical_json(self.model_dump(mode="json", exclude={"access_changes"}))).hexdigest()

    def to_opa_data(self) -> dict[str, Any]:
        """Return what the gateway pushes to OPA at `data.registry` (no keys: policy needs none)."""
        return {
            "revision": self.revision,
            "partnership_id": self.partnership_id,
            "agencies": {a.id: {"type": a.type, "name": a.name} for a in self.agencies.values()},
        }

    def with_agency(self, agency: Agency) -> Registry:
        return self.model_copy(update={"agencies": {**self.agencies, agency.id: agency}})


# --- load and save -------------------------------------------------------------------------------


def load_registry(path: Path, *, partnership_id: str | None = None) -> Registry:
    """Read and fully validate a registry file; with `partnership_id`, refuse another partnership's."""
    try:
        registry = Registry.model_validate_json(path.read_bytes())
    except FileNotFoundError as exc:
        raise RegistryError(f"registry file {path} does not exist") from exc
    except ValidationError as exc:
        raise RegistryError(f"registry file {path} is invalid: {exc}") from exc
    if partnership_id is not None and registry.partnership_id != partnership_id:  # or it works under another's name
        found = f"registry file {path} is partnership {registry.partnership_id!r}"
        raise RegistryError(f"{found}, but this service is configured for {partnership_id!r} (SGB_PARTNERSHIP_ID)")
    return registry


def save_registry(registry: Registry, path: Path) -> None:
    """Write the registry atomically (readers see the old file or the new one, never half)."""
    text = json.dumps(registry.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False)
    write_public_file(path, (text + "\n").encode("utf-8"))


# --- changes -------------------------------------------------------------------------------------


def register_agency(
    registry: Registry,
    *,
    agency_id: str,
    name: str,
    agency_type: str,
    jwt_key: JwtVerificationKey,
    encryption_key: EncryptionPublicKey,
    now: datetime,
    witness_key: WitnessPublicKey | None = None,
) -> Registry:
    """Add a new agency; refuses an id that is already registered."""
    if agency_id in registry.agencies:
        raise RegistryError(f"agency {agency_id!r} is already registered; use rotate")
    try:
        agency = Agency(
            id=agency_id,
            name=name,
            type=agency_type,
            jwt_keys=(jwt_key,),
            encryption_keys=(encryption_key,),
            witness_keys=(witness_key,) if witness_key else (),
            created_at=now,
        )
    except ValidationError as exc:
        raise RegistryError(f"invalid agency {agency_id!r}: {exc}") from exc
    return registry.with_agency(agency)


def rotate_agency_keys(
    registry: Registry,
    *,
    agency_id: str,
    jwt_key: JwtVerificationKey,
    encryption_key: EncryptionPublicKey,
    now: datetime,
    grace: timedelta = DEFAULT_ROTATION_GRACE,
    witness_key: WitnessPublicKey | None = None,
) -> Registry:
    """Make new keys current; old token keys expire after `grace`, old encryption and witness keys stay listed.

    Use `grace=timedelta(0)` when the old token key may be compromised.
    """
    agency = registry.agency(agency_id)
    if agency is None:
        raise RegistryError(f"agency {agency_id!r} is not registered")
    if agency.jwt_key(jwt_key.kid) or any(k.kid == encryption_key.kid for k in agency.encryption_keys):
        raise RegistryError(f"agency {agency_id!r} already has one of these key ids; generate new keys")
    retired = tuple(_retire(k, now + grace) for k in agency.jwt_keys)
    witness_keys = (witness_key, *agency.witness_keys) if witness_key else agency.witness_keys
    try:  # validated, not copied: a witness key named after another agency must not slip in
        rotated = Agency.model_validate(
            {
                **dict(agency),
                "jwt_keys": (jwt_key, *retired),
                "rotated_at": now,
                "encryption_keys": (encryption_key, *agency.encryption_keys),
                "witness_keys": witness_keys,
            }
        )
    except ValidationError as exc:
        raise RegistryError(f"invalid keys for {agency_id!r}: {exc}") from exc
    return registry.with_agency(rotated)


def _retire(key: JwtVerificationKey, not_after: datetime) -> JwtVerificationKey:
    if key.not_after is not None and key.not_after <= not_after:
        return key
    return key.model_copy(update={"not_after": not_after})


# --- key conversion ------------------------------------------------------------------------------


def jwt_verification_key(key: JwtPublicKey, *, created_at: datetime) -> JwtVerificationKey:
    return JwtVerificationKey(kid=key_id(key), alg=alg_for(key), jwk=public_jwk(key), created_at=created_at)


def jwt_verification_key_from_pem(pem: bytes, *, created_at: datetime) -> JwtVerificationKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise RegistryError("a token key must be an Ed25519 or P-256 public key")
    return jwt_verification_key(key, created_at=created_at)


def encryption_public_key(key: RecipientPublicKey, *, created_at: datetime) -> EncryptionPublicKey:
    return EncryptionPublicKey(
        kid=key_id(key), public_key=b64(raw_public_key(key)), created_at=created_at, suite=suite_for(key)
    )


@functools.lru_cache(maxsize=1024)
def _recipient_key(suite: SuiteName, public_key: str) -> RecipientPublicKey:
    return public_key_from_raw(suite, unb64(public_key))
