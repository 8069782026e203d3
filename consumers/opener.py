"""Turn a Kafka record value into a `Delivery`: verify, check it is ours, decrypt, validate.

Every failure becomes `RejectedMessage(reason)` with one of the codes below, which the runner puts
on the dead-letter topic. The detail never carries payload values or crypto internals: it ends up
in logs and on a topic that operators read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from consumers.errors import RejectedMessage
from consumers.sinks import Delivery
from consumers.validation import ProjectionInvalid, Validator
from schemas.envelope import OpenedEnvelope
from schemas.notice import Notice
from transport.kem import RecipientPrivateKey
from transport.notice import verify_notice
from transport.sealing import (
    BadSignature,
    DecryptFailed,
    EnvelopeError,
    MalformedEnvelope,
    RecipientMismatch,
    UnknownRecipientKey,
    UnknownSigningKey,
    open_bytes,
)

MALFORMED: Final = "malformed"
UNKNOWN_SIGNING_KEY: Final = "unknown_signing_key"
BAD_SIGNATURE: Final = "bad_signature"
NOT_FOR_THIS_AGENCY: Final = "not_for_this_agency"
UNKNOWN_RECIPIENT_KEY: Final = "unknown_recipient_key"
CANNOT_DECRYPT: Final = "cannot_decrypt"
SCHEMA_INVALID: Final = "schema_invalid"

REASONS: Final[dict[type[EnvelopeError], str]] = {
    MalformedEnvelope: MALFORMED,
    # Kept apart from bad_signature: it usually means the consumer lacks a rotated broker key.
    UnknownSigningKey: UNKNOWN_SIGNING_KEY,
    BadSignature: BAD_SIGNATURE,
    RecipientMismatch: NOT_FOR_THIS_AGENCY,
    # Usually an agency key deleted too early after a rotation.
    UnknownRecipientKey: UNKNOWN_RECIPIENT_KEY,
    DecryptFailed: CANNOT_DECRYPT,
}


class EnvelopeOpener:
    """Opens records for one agency with its decryption keys and the broker's public keys."""

    def __init__(
        self,
        *,
        agency_id: str,
        broker_keys: Mapping[str, Ed25519PublicKey],
        decryption_keys: Mapping[str, RecipientPrivateKey],
        validate: Validator,
    ) -> None:
        self._agency_id = agency_id
        self._broker_keys = dict(broker_keys)
        self._decryption_keys = dict(decryption_keys)
        self._validate = validate

    def __call__(self, value: bytes) -> Delivery:
        """Return the verified delivery in `value`; raise `RejectedMessage` if it can never be one."""
        opened = self._open(value)
        header = opened.header
        try:
            self._validate(header.message_type, header.schema_version, opened.payload)
        except Exception as exc:  # the hook is pluggable: any raise means "invalid"
            raise RejectedMessage(SCHEMA_INVALID, _safe_detail(exc, header.delivery_id)) from exc
        return Delivery(
            decided_by=tuple(header.decided_by),
            delivery_id=header.delivery_id,
            notification_id=header.notification_id,
            message_type=header.message_type,
            schema_version=header.schema_version,
            sender_agency=header.sender_agency,
            recipient_agency=header.recipient_agency,
            payload=opened.payload,
            envelope_digest=opened.digest,
            sealed_at=opened.sealed_at,
        )

    def _open(self, value: bytes) -> OpenedEnvelope:
        try:
            return open_bytes(
                value,
                recipient_agency=self._agency_id,
                broker_keys=self._broker_keys,
                recipient_keys=self._decryption_keys,
            )
        except EnvelopeError as exc:
            raise RejectedMessage(REASONS.get(type(exc), MALFORMED)) from exc


class NoticeReader:
    """Verifies the broker's notices (withdrawal, correction, erasure) addressed to one agency."""

    def __init__(self, *, agency_id: str, broker_keys: Mapping[str, Ed25519PublicKey]) -> None:
        self._agency_id = agency_id
        self._broker_keys = dict(broker_keys)

    def __call__(self, value: bytes) -> Notice:
        try:
            return verify_notice(value, recipient_agency=self._agency_id, broker_keys=self._broker_keys)
        except EnvelopeError as exc:
            raise RejectedMessage(REASONS.get(type(exc), MALFORMED)) from exc


def _safe_detail(exc: Exception, delivery_id: str) -> str:
    """Say where a payload is invalid, never what it holds (pydantic errors embed input values)."""
    if isinstance(exc, ValidationError):
        places = sorted({".".join(str(p) for p in error["loc"]) + f" ({error['type']})" for error in exc.errors()})
        where = "; ".join(places[:10])
    elif isinstance(exc, ProjectionInvalid):
        where = str(exc)
    else:
        where = type(exc).__name__
    return f"delivery {delivery_id}: {where}"
