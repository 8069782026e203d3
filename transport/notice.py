"""Sign and verify the broker's notices (`schemas.notice`): withdrawal, correction, erasure.

The same Ed25519 key that signs envelopes signs notices, over bytes with a prefix of their own, so a
consumer that trusts the broker's key history trusts its notices and nothing else can be passed off
as one. Failures reuse the envelope errors' reasons, so they are dead-lettered the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from schemas.envelope import b64url_decode, b64url_encode, format_timestamp
from schemas.notice import Notice
from transport.sealing import BadSignature, MalformedEnvelope, RecipientMismatch, UnknownSigningKey


def sign_notice(
    *,
    kind: Literal["withdrawal", "correction", "erasure"],
    notice_id: str,
    delivery_id: str,
    notification_id: str,
    recipient_agency: str,
    reason: str,
    issued_at: datetime,
    signing_key: Ed25519PrivateKey,
    signing_key_id: str,
    superseded_by: str | None = None,
) -> Notice:
    """Return the notice, signed."""
    unsigned = Notice(
        kind=kind,
        notice_id=notice_id,
        delivery_id=delivery_id,
        notification_id=notification_id,
        recipient_agency=recipient_agency,
        reason=reason,
        superseded_by=superseded_by,
        issued_at=format_timestamp(issued_at),
        signing_key_id=signing_key_id,
    )
    signature = b64url_encode(signing_key.sign(unsigned.signing_bytes()))
    return unsigned.model_copy(update={"signature": signature})


def verify_notice(data: bytes, *, recipient_agency: str, broker_keys: Mapping[str, Ed25519PublicKey]) -> Notice:
    """Return the notice in `data` if the broker signed it for `recipient_agency`; raise an `EnvelopeError`."""
    try:
        notice = Notice.from_bytes(data)
        signature = b64url_decode(notice.signature)
    except ValueError as exc:
        raise MalformedEnvelope from exc
    public_key = broker_keys.get(notice.signing_key_id)
    if public_key is None:
        raise UnknownSigningKey
    try:
        public_key.verify(signature, notice.signing_bytes())
    except InvalidSignature as exc:
        raise BadSignature from exc
    # Checked after the signature, so a forged notice is reported as forged, not as misaddressed.
    if notice.recipient_agency != recipient_agency:
        raise RecipientMismatch
    return notice
