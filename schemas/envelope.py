"""The sealed envelope: one recipient's projection, encrypted to that agency and signed by the broker.

Shared by the gateway (which seals) and the agency consumers (which open); pure, no I/O.

Sealing uses HPKE (RFC 9180) base mode, suite DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 /
AES-256-GCM, through `cryptography`'s single-shot `hpke.Suite.encrypt`. Every seal runs a fresh
KEM encapsulation, so the AES-256-GCM key that encrypts the payload is fresh per message (the
per-message "content key") and is never stored or sent: the recipient re-derives it from
`enc` and its X25519 private key. `info` binds the routing header (ids, sender, recipient, type,
schema version, recipient key id) into that key schedule, so a ciphertext moved under another
header does not decrypt. The broker's Ed25519 signature covers everything else in the envelope.

Errors (every one is opaque: no crypto detail, only a reason code for the dead-letter topic)::

    EnvelopeError
    ├── MalformedEnvelope      not an envelope of this format (reason "malformed")
    ├── UnknownSigningKey      signed with a broker key id we do not know ("unknown_signing_key")
    ├── BadSignature           the broker signature does not verify ("bad_signature")
    ├── RecipientMismatch      sealed for another agency ("recipient_mismatch")
    ├── UnknownRecipientKey    sealed to a key id we hold no private key for ("unknown_recipient_key")
    └── DecryptFailed          HPKE open failed, or the plaintext is not a JSON object ("decrypt_failed")
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Final, Literal

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError

ENVELOPE_FORMAT: Final = "sgb-envelope/1"
SUITE_NAME: Final = "DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM"
SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
ENC_LENGTH = 32  # X25519 encapsulated key (RFC 9180 §7.1: Nenc = 32)

# Domain prefixes keep the HPKE info and the signed bytes apart from any other use of the keys.
INFO_PREFIX = b"sgb/envelope/v1 hpke-info\x00"
SIGNATURE_PREFIX = b"sgb/envelope/v1 signature\x00"

# A Kafka record bigger than this is refused before it is parsed.
MAX_ENVELOPE_BYTES = 1024 * 1024

_B64URL = r"^[A-Za-z0-9_-]*$"
_AGENCY_ID = r"^[a-z0-9][a-z0-9-]{1,62}$"
_KEY_ID = r"^[A-Za-z0-9._:-]{1,64}$"
_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"


class EnvelopeError(Exception):
    """Any failure to read, verify or open an envelope; `reason` is safe to log and dead-letter."""

    reason: ClassVar[str] = "envelope_error"

    def __init__(self) -> None:
        # Deliberately no detail: what failed inside the crypto is not the reader's business.
        super().__init__(self.reason)


class MalformedEnvelope(EnvelopeError):
    reason = "malformed"


class UnknownSigningKey(EnvelopeError):
    reason = "unknown_signing_key"


class BadSignature(EnvelopeError):
    reason = "bad_signature"


class RecipientMismatch(EnvelopeError):
    reason = "recipient_mismatch"


class UnknownRecipientKey(EnvelopeError):
    reason = "unknown_recipient_key"


class DecryptFailed(EnvelopeError):
    reason = "decrypt_failed"


class EnvelopeHeader(BaseModel):
    """The routing facts bound into the HPKE key schedule; readable without decrypting."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    delivery_id: str = Field(min_length=1, max_length=128)
    notification_id: str = Field(min_length=1, max_length=128)
    sender_agency: str = Field(pattern=_AGENCY_ID)
    recipient_agency: str = Field(pattern=_AGENCY_ID)
    message_type: str = Field(min_length=1, max_length=128)
    schema_version: str = Field(min_length=1, max_length=32)
    recipient_key_id: str = Field(pattern=_KEY_ID)


class SealedEnvelope(BaseModel):
    """What travels on an agency's inbox topic: header, HPKE output and the broker's signature."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    format: Literal["sgb-envelope/1"] = ENVELOPE_FORMAT
    suite: Literal["DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM"] = SUITE_NAME
    header: EnvelopeHeader
    sealed_at: str = Field(pattern=_TIMESTAMP)
    enc: str = Field(pattern=_B64URL, min_length=43, max_length=43)
    ciphertext: str = Field(pattern=_B64URL, min_length=22, max_length=MAX_ENVELOPE_BYTES)
    signing_key_id: str = Field(pattern=_KEY_ID)
    signature: str = Field(pattern=_B64URL, min_length=86, max_length=86)

    def signing_bytes(self) -> bytes:
        """Return the bytes the broker signs: domain prefix + canonical JSON without `signature`."""
        return SIGNATURE_PREFIX + canonical_json(self.model_dump(mode="json", exclude={"signature"}))

    def digest(self) -> str:
        """Return `sha256:<hex>` of the signed bytes: names this envelope in logs and receipts.

        A digest of the plaintext would let anyone holding the log confirm a guessed low-entropy
        value (a date of birth, a postcode); the sealed bytes reveal nothing.
        """
        return "sha256:" + hashlib.sha256(self.signing_bytes()).hexdigest()

    def to_bytes(self) -> bytes:
        """Encode for the wire (Kafka record value): canonical JSON."""
        return canonical_json(self.model_dump(mode="json"))

    @classmethod
    def from_bytes(cls, data: bytes) -> SealedEnvelope:
        """Decode a wire record; anything that is not a well-formed envelope is `MalformedEnvelope`."""
        if len(data) > MAX_ENVELOPE_BYTES:
            raise MalformedEnvelope
        try:
            return cls.model_validate_json(data)
        except (ValidationError, ValueError) as exc:
            raise MalformedEnvelope from exc


class OpenedEnvelope(BaseModel):
    """A verified, decrypted envelope: the header and the projected payload it carried."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    header: EnvelopeHeader
    sealed_at: str
    digest: str
    payload: dict[str, Any]


def canonical_json(value: object) -> bytes:
    """Encode as canonical JSON: sorted keys, no whitespace, UTF-8, no NaN or infinities."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def hpke_info(header: EnvelopeHeader) -> bytes:
    """Return the HPKE `info` for a header: domain prefix + canonical JSON of every header field."""
    return INFO_PREFIX + canonical_json(header.model_dump(mode="json"))


def format_timestamp(moment: datetime) -> str:
    """Render an aware datetime as the envelope's UTC second-precision timestamp."""
    if moment.tzinfo is None:
        raise ValueError("sealed_at must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seal(
    payload: Mapping[str, Any],
    *,
    header: EnvelopeHeader,
    recipient_public_key: X25519PublicKey,
    signing_key: Ed25519PrivateKey,
    signing_key_id: str,
    sealed_at: datetime,
) -> SealedEnvelope:
    """Encrypt `payload` (already projected to the allowed fields) to one recipient and sign it.

    `recipient_public_key` must be the key named by `header.recipient_key_id`; the caller takes
    both from the registry's current encryption key for `header.recipient_agency`.
    """
    plaintext = canonical_json(dict(payload))
    sealed = SUITE.encrypt(plaintext, recipient_public_key, info=hpke_info(header))
    unsigned = SealedEnvelope.model_construct(
        header=header,
        sealed_at=format_timestamp(sealed_at),
        enc=_b64encode(sealed[:ENC_LENGTH]),
        ciphertext=_b64encode(sealed[ENC_LENGTH:]),
        signing_key_id=signing_key_id,
        signature="",
    )
    signature = signing_key.sign(unsigned.signing_bytes())
    # Re-validate so a bad header or key id fails here, at the sealer, not at the recipient.
    return SealedEnvelope.model_validate(
        {**unsigned.model_dump(mode="json"), "signature": _b64encode(signature)}
    )


def open_envelope(
    envelope: SealedEnvelope,
    *,
    recipient_agency: str,
    broker_keys: Mapping[str, Ed25519PublicKey],
    recipient_keys: Mapping[str, X25519PrivateKey],
) -> OpenedEnvelope:
    """Verify the broker's signature, check the envelope is ours, and decrypt it.

    `broker_keys` maps broker signing key ids to public keys (current and retired);
    `recipient_keys` maps this agency's encryption key ids to private keys (current and older,
    so messages sealed before a rotation still open). Raises an `EnvelopeError` subclass.
    """
    _verify_signature(envelope, broker_keys)
    header = envelope.header
    if header.recipient_agency != recipient_agency:
        raise RecipientMismatch
    private_key = recipient_keys.get(header.recipient_key_id)
    if private_key is None:
        raise UnknownRecipientKey
    payload = _decrypt(envelope, private_key)
    return OpenedEnvelope(
        header=header, sealed_at=envelope.sealed_at, digest=envelope.digest(), payload=payload
    )


def open_bytes(
    data: bytes,
    *,
    recipient_agency: str,
    broker_keys: Mapping[str, Ed25519PublicKey],
    recipient_keys: Mapping[str, X25519PrivateKey],
) -> OpenedEnvelope:
    """Decode a Kafka record value and open it (see `open_envelope`)."""
    return open_envelope(
        SealedEnvelope.from_bytes(data),
        recipient_agency=recipient_agency,
        broker_keys=broker_keys,
        recipient_keys=recipient_keys,
    )


def _verify_signature(envelope: SealedEnvelope, broker_keys: Mapping[str, Ed25519PublicKey]) -> None:
    public_key = broker_keys.get(envelope.signing_key_id)
    if public_key is None:
        raise UnknownSigningKey
    try:
        public_key.verify(_b64decode(envelope.signature), envelope.signing_bytes())
    except InvalidSignature as exc:
        raise BadSignature from exc


def _decrypt(envelope: SealedEnvelope, private_key: X25519PrivateKey) -> dict[str, Any]:
    sealed = _b64decode(envelope.enc) + _b64decode(envelope.ciphertext)
    try:
        plaintext = SUITE.decrypt(sealed, private_key, info=hpke_info(envelope.header))
        payload = json.loads(plaintext)
    except (InvalidTag, ValueError) as exc:
        raise DecryptFailed from exc
    if not isinstance(payload, dict):
        raise DecryptFailed
    return payload


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedEnvelope from exc
    # One encoding per value: stray trailing bits would give one envelope two wire forms.
    if _b64encode(data) != text:
        raise MalformedEnvelope
    return data
