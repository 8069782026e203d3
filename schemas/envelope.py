"""The sealed envelope: one recipient's projection, encrypted to that agency and signed by the broker.

The wire format shared by the gateway (which seals) and the agency consumers (which open): the
models, their canonical bytes, the bytes the broker signs and the digest that names an envelope.
Pure, no I/O and no keys: sealing and opening live in `transport.sealing`.

A record that is not an envelope of this format fails `SealedEnvelope.from_bytes` with a
`ValueError` (pydantic's `ValidationError` is one); openers turn that into their own error.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from schemas.policy_decision import OUTCOME_EFFECT, RULE_ID_PATTERN, RecipientDecision
from schemas.vocab import ReasonEffect

ENVELOPE_FORMAT: Final = "sgb-envelope/1"
# The HPKE suites' names as the envelope states them; `transport.kem.SUITES` holds each recipe.
# X25519 alone, the first suite (every envelope sealed before the hybrid existed):
SUITE_NAME: Final = "DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM"
# ML-KEM-768 combined with X25519 (X-Wing, HPKE KEM 0x647A): confidential while either one holds.
HYBRID_SUITE_NAME: Final = "MLKEM768-X25519/HKDF-SHA256/AES-256-GCM"
SuiteName = Literal["DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM", "MLKEM768-X25519/HKDF-SHA256/AES-256-GCM"]
# The encapsulated key in base64url characters: 32 bytes for X25519, 1,120 for the hybrid.
ENC_CHARS: Final[dict[str, int]] = {SUITE_NAME: 43, HYBRID_SUITE_NAME: 1494}

# A domain prefix keeps the signed bytes apart from any other use of the broker's key.
SIGNATURE_PREFIX = b"sgb/envelope/v1 signature\x00"

# A Kafka record bigger than this is refused before it is parsed.
MAX_ENVELOPE_BYTES = 1024 * 1024

_B64URL = r"^[A-Za-z0-9_-]*$"
_AGENCY_ID = r"^[a-z0-9][a-z0-9-]{1,62}$"
_KEY_ID = r"^[A-Za-z0-9._:-]{1,64}$"
_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"


# A deciding finding's message is the policy's plain-English sentence (no payload values: the decision
# log keeps the same words); the bound keeps a header small whatever a policy revision writes.
MAX_FINDING_MESSAGE = 1000
MAX_DECIDING_FINDINGS = 16
_EFFECT = "^(" + "|".join(effect.value for effect in ReasonEffect) + ")$"


class DecidingFinding(BaseModel):
    """One finding that set this recipient's outcome: the rule, its plain-English message, its effect.

    Plain strings, not the vocabulary's enum: the header is strict, and a strict enum would refuse the
    JSON form the sealer re-validates.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    rule: str = Field(pattern=RULE_ID_PATTERN)
    message: str = Field(min_length=1, max_length=MAX_FINDING_MESSAGE)
    effect: str = Field(pattern=_EFFECT)


def deciding_findings(decision: RecipientDecision) -> list[DecidingFinding]:
    """The header's `decided_by` for one recipient's decision, in the policy's order.

    A finding without an effect (an older policy revision's) takes its outcome's, as the policy's own
    contract says every deciding finding has (`schemas.policy_decision.OUTCOME_EFFECT`).
    """
    effect = OUTCOME_EFFECT[decision.outcome]
    return [
        DecidingFinding(rule=r.rule, message=r.message, effect=(r.effect or effect).value)
        for r in decision.decided_by[:MAX_DECIDING_FINDINGS]
    ]


class EnvelopeHeader(BaseModel):
    """The routing facts bound into the HPKE key schedule; readable without decrypting.

    `decided_by` (the finding(s) that set this recipient's outcome) rides here, in the clear, so the
    agency's system can say why it received something before it decrypts anything; being in the
    header it is signed and bound into the key schedule, so it cannot be moved to another delivery.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    delivery_id: str = Field(min_length=1, max_length=128)
    notification_id: str = Field(min_length=1, max_length=128)
    sender_agency: str = Field(pattern=_AGENCY_ID)
    recipient_agency: str = Field(pattern=_AGENCY_ID)
    message_type: str = Field(min_length=1, max_length=128)
    schema_version: str = Field(min_length=1, max_length=32)
    recipient_key_id: str = Field(pattern=_KEY_ID)
    decided_by: list[DecidingFinding] = Field(default_factory=list, max_length=MAX_DECIDING_FINDINGS)

    @model_serializer(mode="wrap")
    def _without_empty_decided_by(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Envelopes sealed before headers carried `decided_by` signed and bound their header without
        # it; leaving an empty one out keeps their signed bytes and HPKE info, so they still open.
        fields: dict[str, Any] = handler(self)
        if not self.decided_by:
            fields.pop("decided_by", None)
        return fields


class SealedEnvelope(BaseModel):
    """What travels on an agency's inbox topic: header, HPKE output and the broker's signature.

    `suite` is covered by the broker's signature (as every field but `signature` is) and, for every
    suite after the first, bound into the HPKE key schedule with the header (`transport.sealing.hpke_info`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    format: Literal["sgb-envelope/1"] = ENVELOPE_FORMAT
    suite: SuiteName = SUITE_NAME
    header: EnvelopeHeader
    sealed_at: str = Field(pattern=_TIMESTAMP)
    enc: str = Field(pattern=_B64URL, min_length=43, max_length=1494)
    ciphertext: str = Field(pattern=_B64URL, min_length=22, max_length=MAX_ENVELOPE_BYTES)
    signing_key_id: str = Field(pattern=_KEY_ID)
    signature: str = Field(pattern=_B64URL, min_length=86, max_length=86)

    @model_validator(mode="after")
    def _enc_fits_the_suite(self) -> SealedEnvelope:
        if len(self.enc) != ENC_CHARS[self.suite]:
            raise ValueError(f"enc must be {ENC_CHARS[self.suite]} base64url characters for {self.suite}")
        return self

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
        """Decode a wire record; anything that is not a well-formed envelope raises `ValueError`."""
        if len(data) > MAX_ENVELOPE_BYTES:
            raise ValueError(f"an envelope is at most {MAX_ENVELOPE_BYTES} bytes")
        return cls.model_validate_json(data)


class OpenedEnvelope(BaseModel):
    """A verified, decrypted envelope: the header and the projected payload it carried."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    header: EnvelopeHeader
    sealed_at: str
    digest: str
    payload: dict[str, Any]


# What `json.dumps` with these arguments builds on every call; one instance gives the same text
# without constructing an encoder each time (several calls per seal and per log entry).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(value: object) -> bytes:
    """Encode as canonical JSON: sorted keys, no whitespace, UTF-8, no NaN or infinities."""
    return _CANONICAL.encode(value).encode("utf-8")


def format_timestamp(moment: datetime) -> str:
    """Render an aware datetime as the envelope's UTC second-precision timestamp."""
    if moment.tzinfo is None:
        raise ValueError("sealed_at must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def b64url_encode(data: bytes) -> str:
    """Encode as the envelope's base64url: URL-safe alphabet, no padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode the envelope's base64url; `ValueError` unless `text` is the one canonical spelling."""
    try:
        data = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except ValueError as exc:  # binascii.Error, or text that is not ASCII
        raise ValueError("not base64url") from exc
    # One encoding per value: stray trailing bits would give one envelope two wire forms.
    if b64url_encode(data) != text:
        raise ValueError("not the canonical base64url spelling")
    return data
