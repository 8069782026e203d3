"""Turn a Kafka record value into a `Delivery`: verify, check it is ours, decrypt, validate.

Every failure becomes `RejectedMessage(reason)` with one of the codes below, which the runner puts
on the dead-letter topic. The detail never carries payload values or crypto internals: it ends up
in logs and on a topic that operators read.

A signature by a broker key the signing history says was retired is refused, after it verified, as
`retired_signing_key` with a detail naming the key, when it was retired and why (`consumers.broker_keys`):
signed too long after the retirement by its own signed time (`sealed_at`, `issued_at`), or by a key
retired longer ago than a record can still be unread.

But for one: a record the broker signed (verified) for this agency, sealed to a key id its
decryption keys lack, is a rotation the consumer has not taken up, not a bad record. The opener
reloads the agency's key directory and opens it again; if the directory still lacks the key, it
raises `ConfigurationError` naming the key id, and the consumer stops uncommitted until the
agency's private key is installed (parked and committed, the delivery would never arrive).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from consumers.broker_keys import BrokerKeyring
from consumers.errors import ConfigurationError, RejectedMessage
from consumers.sinks import Delivery
from consumers.validation import ProjectionInvalid, Validator
from schemas.envelope import OpenedEnvelope, SealedEnvelope
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
    open_envelope,
)

MALFORMED: Final = "malformed"
UNKNOWN_SIGNING_KEY: Final = "unknown_signing_key"
BAD_SIGNATURE: Final = "bad_signature"
RETIRED_SIGNING_KEY: Final = "retired_signing_key"
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
    # Never a dead letter from the opener, which stops the consumer instead (see above).
    UnknownRecipientKey: UNKNOWN_RECIPIENT_KEY,
    DecryptFailed: CANNOT_DECRYPT,
}


class EnvelopeOpener:
    """Opens records for one agency with its decryption keys and the broker's public keys.

    `reload_keys` returns the decryption keys the agency's key directory holds now
    (`consumers.keys.KeyringHolder.reload`); without it a missing key stops the consumer at once.
    """

    def __init__(
        self,
        *,
        agency_id: str,
        broker_keys: BrokerKeyring | Mapping[str, Ed25519PublicKey],
        decryption_keys: Mapping[str, RecipientPrivateKey],
        validate: Validator,
        reload_keys: Callable[[], Mapping[str, RecipientPrivateKey]] | None = None,
    ) -> None:
        self._agency_id = agency_id
        self._broker_keys = BrokerKeyring.of(broker_keys)
        self._decryption_keys = dict(decryption_keys)
        self._validate = validate
        self._reload_keys = reload_keys

    def __call__(self, value: bytes) -> Delivery:
        """Return the verified delivery in `value`; raise `RejectedMessage` if it can never be one.

        Raises `ConfigurationError` if the broker sealed it to a key of this agency's that the key
        directory does not hold, even reloaded.
        """
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
            envelope = SealedEnvelope.from_bytes(value)
        except ValueError as exc:
            raise RejectedMessage(MALFORMED) from exc
        try:
            return self._open_with_keys(envelope)
        except UnknownRecipientKey as exc:
            # Raised only once the broker's signature verified and the envelope named this agency,
            # so the broker sealed it to a key registered for us: a rotation, not a forgery.
            if self._reload_keys is not None:
                self._decryption_keys = dict(self._reload_keys())
                with contextlib.suppress(UnknownRecipientKey):
                    return self._open_with_keys(envelope)
            raise ConfigurationError(
                f"a record is sealed to this agency's key {envelope.header.recipient_key_id}, which its key "
                "directory does not hold: install the agency's private key for it (CONSUMER_KEY_DIR) and start "
                "again; the record is read again"
            ) from exc

    def _open_with_keys(self, envelope: SealedEnvelope) -> OpenedEnvelope:
        """Open with the keys held now; `UnknownRecipientKey` is left to the caller, every other failure parked."""
        try:
            opened = open_envelope(
                envelope,
                recipient_agency=self._agency_id,
                broker_keys=self._broker_keys,
                recipient_keys=self._decryption_keys,
            )
        except UnknownRecipientKey:
            # The signature verified: a retired key's is refused here, or whoever holds one could stop
            # the consumer by sealing to a key id this agency lacks.
            _refuse_retired(self._broker_keys, envelope.signing_key_id, envelope.sealed_at)
            raise
        except EnvelopeError as exc:
            header = envelope.header
            why = _why(
                exc,
                item=f"delivery {header.delivery_id}",
                addressed_to=header.recipient_agency,
                agency_id=self._agency_id,
                signing_key_id=envelope.signing_key_id,
            )
            raise RejectedMessage(REASONS.get(type(exc), MALFORMED), why) from exc
        _refuse_retired(self._broker_keys, envelope.signing_key_id, envelope.sealed_at)
        return opened


class NoticeReader:
    """Verifies the broker's notices (withdrawal, correction, erasure) addressed to one agency."""

    def __init__(self, *, agency_id: str, broker_keys: BrokerKeyring | Mapping[str, Ed25519PublicKey]) -> None:
        self._agency_id = agency_id
        self._broker_keys = BrokerKeyring.of(broker_keys)

    def __call__(self, value: bytes) -> Notice:
        try:
            notice = verify_notice(value, recipient_agency=self._agency_id, broker_keys=self._broker_keys)
        except EnvelopeError as exc:
            raise RejectedMessage(REASONS.get(type(exc), MALFORMED), self._why(exc, value)) from exc
        _refuse_retired(self._broker_keys, notice.signing_key_id, notice.issued_at)
        return notice

    def _why(self, exc: EnvelopeError, value: bytes) -> str:
        if not isinstance(exc, BadSignature | RecipientMismatch):
            return ""
        notice = Notice.from_bytes(value)  # it parsed, or the error would be `malformed`
        return _why(
            exc,
            item=f"notice {notice.notice_id} ({notice.kind} of delivery {notice.delivery_id})",
            addressed_to=notice.recipient_agency,
            agency_id=self._agency_id,
            signing_key_id=notice.signing_key_id,
        )


def _refuse_retired(broker_keys: BrokerKeyring, kid: str, signed_at: str) -> None:
    """Refuse a verified signature by a retired broker key: parked, never delivered or applied."""
    why = broker_keys.refusal(kid, signed_at)
    if why is not None:
        raise RejectedMessage(RETIRED_SIGNING_KEY, why)


def _why(exc: EnvelopeError, *, item: str, addressed_to: str, agency_id: str, signing_key_id: str) -> str:
    """The dead letter's detail for a forged or misaddressed record: ids only, never content. A bad
    signature's record names only the key id: its other fields are unverified, whatever they claim."""
    if isinstance(exc, BadSignature):
        return (
            f"the signature does not verify under broker key {signing_key_id}: changed after the broker "
            "signed it, or not signed by the broker"
        )
    if isinstance(exc, RecipientMismatch):
        # Checked after the signature verified: the broker did address it so.
        return f"{item} is addressed to {addressed_to}, not {agency_id}: published to the wrong inbox"
    return ""


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
