"""An agency's witness key as the registry lists it: what the gateway checks a posted cosignature against.

Each agency's consumer checks every checkpoint it is shown against the last one it kept and cosigns
the newer one (`audit.cosign`) with an Ed25519 key from its own key directory (`witness-<kid>.pem`,
`transport.keyfiles`). The registry holds the public half as a C2SP verifier key
(`<name>+<key ID>+base64(0x04 || key)`, `audit.WitnessKey.vkey`): the same string an auditor is given,
whose public key goes to `python -m audit verify --witness-key NAME=PEM`. The witness name is the
agency's id, so a cosignature line names the agency that made it.
"""

from __future__ import annotations

from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import ed25519
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

import audit
from transport.keyfiles import AgencyWitnessKey, key_id

_KID = r"^[A-Za-z0-9._:-]{1,64}$"


class WitnessPublicKey(BaseModel):
    """One of an agency's witness keys, newest first in `Agency.witness_keys`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kid: str = Field(pattern=_KID)
    vkey: str = Field(min_length=1, max_length=512)
    created_at: AwareDatetime

    @model_validator(mode="after")
    def _vkey_is_an_ed25519_cosigner_with_this_kid(self) -> WitnessPublicKey:
        if key_id(self.witness().key) != self.kid:
            raise ValueError(f"witness key {self.kid}: kid is not the key id of the verifier key")
        return self

    def witness(self) -> audit.WitnessKey:
        """Return the key `audit.store_cosignature` checks a cosignature line with."""
        try:
            return audit.WitnessKey.from_vkey(self.vkey)
        except audit.AuditError as exc:  # pydantic reports ValueErrors as validation errors
            raise ValueError(f"witness key {self.kid}: {exc}") from exc

    @property
    def name(self) -> str:
        return self.witness().name


def witness_public_key(
    key: AgencyWitnessKey | ed25519.Ed25519PublicKey, *, name: str | None = None, created_at: datetime
) -> WitnessPublicKey:
    """Return the registry entry for a witness key (from the agency's directory, or a public key and name)."""
    if isinstance(key, AgencyWitnessKey):
        name, public = key.name, key.private_key.public_key()
    else:
        public = key
    if name is None:
        raise ValueError("a witness public key needs its witness name")
    return WitnessPublicKey(kid=key_id(public), vkey=audit.WitnessKey(name, public).vkey(), created_at=created_at)


def check_witness_names(agency_id: str, keys: tuple[WitnessPublicKey, ...]) -> None:
    """Refuse a witness key named for anyone but its agency: its cosignatures would speak for another."""
    for key in keys:
        if key.name != agency_id:
            raise ValueError(f"witness key {key.kid} is named {key.name!r}, not after agency {agency_id!r}")
