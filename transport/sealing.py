"""Sealing and opening the envelope: HPKE to the recipient agency, signed by the broker.

The envelope's shape and bytes are the contract's (`schemas.envelope`); this module holds the keys'
side. Sealing uses HPKE (RFC 9180) base mode through `cryptography`'s single-shot `hpke.Suite.encrypt`,
with the suite the recipient's current key is for (`transport.kem`): DHKEM(X25519, HKDF-SHA256) or the
post-quantum hybrid MLKEM768-X25519, both with HKDF-SHA256 and AES-256-GCM. Every seal runs a fresh
KEM encapsulation, so the AES-256-GCM key that encrypts the payload is fresh per message (the
per-message "content key") and is never stored or sent: the recipient re-derives it from `enc` and
its private key. `info` binds the routing header (ids, sender, recipient, type, schema version,
recipient key id) and, for every suite after the first, the suite's name into that key schedule, so
a ciphertext moved under another header or suite does not decrypt. The broker's Ed25519 signature
covers everything else in the envelope, the suite included.

Errors (every one is opaque: no crypto detail, only a reason code for the dead-letter topic)::

    EnvelopeError
    ├── MalformedEnvelope      not an envelope of this format (reason "malformed")
    ├── UnknownSigningKey      signed with a broker key id we do not know ("unknown_signing_key")
    ├── BadSignature           the broker signature does not verify ("bad_signature")
    ├── RecipientMismatch      sealed for another agency ("recipient_mismatch")
    ├── UnknownRecipientKey    sealed to a key id we hold no private key for ("unknown_recipient_key")
    └── DecryptFailed          HPKE open failed, the key is for another suite, or the plaintext is not
                               a JSON object ("decrypt_failed")
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from schemas.envelope import (
    ENVELOPE_FORMAT,
    SIGNATURE_PREFIX,
    SUITE_NAME,
    EnvelopeHeader,
    OpenedEnvelope,
    SealedEnvelope,
    b64url_decode,
    b64url_encode,
    canonical_json,
    format_timestamp,
)
from transport.kem import (
    ENC_LENGTHS,
    SUITES,
    HybridPrivateKey,
    HybridPublicKey,
    RecipientPrivateKey,
    RecipientPublicKey,
    suite_for,
)

# The first suite, `schemas.envelope.SUITE_NAME` (X25519); `transport.kem.SUITES` holds every one.
SUITE = SUITES[SUITE_NAME]
ENC_LENGTH = ENC_LENGTHS[SUITE_NAME]  # X25519 encapsulated key (RFC 9180 §7.1: Nenc = 32)

# A domain prefix keeps the HPKE info apart from any other use of the keys.
INFO_PREFIX = b"sgb/envelope/v1 hpke-info\x00"


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


def hpke_info(header: EnvelopeHeader, suite: str = SUITE_NAME) -> bytes:
    """Return the HPKE `info`: domain prefix + canonical JSON of every header field (and the suite).

    The first suite's info is exactly what it was before there was a second, so every X25519 envelope
    already sealed still opens; later suites add `"suite"` beside the header's fields (a name the
    header cannot hold: it forbids extra fields), binding the signed suite name into the key schedule too.
    """
    return _info(header.model_dump(mode="json"), suite)


def _info(header_fields: dict[str, Any], suite: str) -> bytes:
    """`hpke_info` from the header already dumped (the sealer dumps it once for every use)."""
    fields = dict(header_fields, suite=suite) if suite != SUITE_NAME else header_fields
    return INFO_PREFIX + canonical_json(fields)


def seal(
    payload: Mapping[str, Any],
    *,
    header: EnvelopeHeader,
    recipient_public_key: RecipientPublicKey,
    signing_key: Ed25519PrivateKey,
    signing_key_id: str,
    sealed_at: datetime,
) -> SealedEnvelope:
    """Encrypt `payload` (already projected to the allowed fields) to one recipient and sign it.

    `recipient_public_key` must be the key named by `header.recipient_key_id`; the caller takes
    both from the registry's current encryption key for `header.recipient_agency`. Its type chooses
    the suite: an X25519 key or a `transport.kem.HybridPublicKey`.
    """
    envelope, _ = seal_with_bytes(
        payload,
        header=header,
        recipient_public_key=recipient_public_key,
        signing_key=signing_key,
        signing_key_id=signing_key_id,
        sealed_at=sealed_at,
    )
    return envelope


def seal_with_bytes(
    payload: Mapping[str, Any],
    *,
    header: EnvelopeHeader,
    recipient_public_key: RecipientPublicKey,
    signing_key: Ed25519PrivateKey,
    signing_key_id: str,
    sealed_at: datetime,
) -> tuple[SealedEnvelope, bytes]:
    """`seal`, with the envelope's wire bytes (`SealedEnvelope.to_bytes`) made from the same fields.

    The header is dumped once and the signed and wire documents are built from that one dict: the
    same canonical JSON `signing_bytes` and `to_bytes` give, without dumping the model three times.
    """
    suite = suite_for(recipient_public_key)
    key = recipient_public_key.hpke() if isinstance(recipient_public_key, HybridPublicKey) else recipient_public_key
    header_fields = header.model_dump(mode="json")
    sealed = SUITES[suite].encrypt(canonical_json(dict(payload)), key, info=_info(header_fields, suite))
    enc_length = ENC_LENGTHS[suite]
    document: dict[str, Any] = {
        "format": ENVELOPE_FORMAT,
        "suite": suite,
        "header": header_fields,
        "sealed_at": format_timestamp(sealed_at),
        "enc": b64url_encode(sealed[:enc_length]),
        "ciphertext": b64url_encode(sealed[enc_length:]),
        "signing_key_id": signing_key_id,
    }
    # The signed and the wire documents differ only by the signature member, so each member is encoded
    # once and both are joined from the same pieces (byte for byte what canonical_json gives for each):
    # the ciphertext is most of the envelope, and encoding it twice was a tenth of a seal.
    members = {key: canonical_json(key) + b":" + canonical_json(value) for key, value in document.items()}
    document["signature"] = b64url_encode(signing_key.sign(SIGNATURE_PREFIX + _joined(members)))
    members["signature"] = b'"signature":' + canonical_json(document["signature"])
    # Validate so a bad header or key id fails here, at the sealer, not at the recipient.
    envelope = SealedEnvelope.model_validate(document)
    return envelope, _joined(members)


def _joined(members: dict[str, bytes]) -> bytes:
    """A JSON object from its encoded members, in canonical_json's order (sorted keys, no whitespace)."""
    return b"{" + b",".join(members[key] for key in sorted(members)) + b"}"


def open_envelope(
    envelope: SealedEnvelope,
    *,
    recipient_agency: str,
    broker_keys: Mapping[str, Ed25519PublicKey],
    recipient_keys: Mapping[str, RecipientPrivateKey],
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
    return OpenedEnvelope(header=header, sealed_at=envelope.sealed_at, digest=envelope.digest(), payload=payload)


def open_bytes(
    data: bytes,
    *,
    recipient_agency: str,
    broker_keys: Mapping[str, Ed25519PublicKey],
    recipient_keys: Mapping[str, RecipientPrivateKey],
) -> OpenedEnvelope:
    """Decode a Kafka record value and open it (see `open_envelope`)."""
    try:
        envelope = SealedEnvelope.from_bytes(data)
    except ValueError as exc:
        raise MalformedEnvelope from exc
    return open_envelope(
        envelope,
        recipient_agency=recipient_agency,
        broker_keys=broker_keys,
        recipient_keys=recipient_keys,
    )


def _verify_signature(envelope: SealedEnvelope, broker_keys: Mapping[str, Ed25519PublicKey]) -> None:
    public_key = broker_keys.get(envelope.signing_key_id)
    if public_key is None:
        raise UnknownSigningKey
    try:
        public_key.verify(_decoded(envelope.signature), envelope.signing_bytes())
    except InvalidSignature as exc:
        raise BadSignature from exc


def _decrypt(envelope: SealedEnvelope, private_key: RecipientPrivateKey) -> dict[str, Any]:
    if suite_for(private_key) != envelope.suite:
        raise DecryptFailed  # a key is only ever used with its own suite
    sealed = _decoded(envelope.enc) + _decoded(envelope.ciphertext)
    key = private_key.hpke if isinstance(private_key, HybridPrivateKey) else private_key
    try:
        plaintext = SUITES[envelope.suite].decrypt(sealed, key, info=hpke_info(envelope.header, envelope.suite))
        payload = json.loads(plaintext)
    except (InvalidTag, ValueError) as exc:
        raise DecryptFailed from exc
    if not isinstance(payload, dict):
        raise DecryptFailed
    return payload


def _decoded(text: str) -> bytes:
    try:
        return b64url_decode(text)
    except ValueError as exc:
        raise MalformedEnvelope from exc
