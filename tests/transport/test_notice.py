"""The broker's signed notices: exact bytes under a fixed key, and every way a forged one is refused."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from schemas.notice import NOTICE_SIGNATURE_PREFIX, Notice
from transport.notice import sign_notice, verify_notice
from transport.sealing import BadSignature, MalformedEnvelope, RecipientMismatch, UnknownSigningKey

# Ed25519 signatures are deterministic (RFC 8032), so a fixed seed gives fixed bytes.
BROKER = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
KEYS = {"broker-2026": BROKER.public_key()}
ISSUED = datetime(2026, 3, 2, 10, 15, 0, tzinfo=UTC)


def _notice(**overrides: object) -> Notice:
    values: dict[str, object] = {
        "kind": "withdrawal",
        "notice_id": "notice-00000000-0000-4000-8000-0000000000n1",
        "delivery_id": "00000000-0000-4000-8000-00000000d001",
        "notification_id": "00000000-0000-4000-8000-00000000e001",
        "recipient_agency": "csc-example-mash",
        "reason": "malicious",
        "issued_at": ISSUED,
        "signing_key": BROKER,
        "signing_key_id": "broker-2026",
    }
    values.update(overrides)
    return sign_notice(**values)  # type: ignore[arg-type]


def test_a_notice_has_exact_canonical_bytes_and_signature() -> None:
    notice = _notice()
    assert notice.signing_bytes() == NOTICE_SIGNATURE_PREFIX + (
        b'{"delivery_id":"00000000-0000-4000-8000-00000000d001","format":"sgb-notice/1","issued_at":'
        b'"2026-03-02T10:15:00Z","kind":"withdrawal","notice_id":"notice-00000000-0000-4000-8000-0000000000n1",'
        b'"notification_id":"00000000-0000-4000-8000-00000000e001","reason":"malicious","recipient_agency":'
        b'"csc-example-mash","signing_key_id":"broker-2026","superseded_by":null}'
    )
    # Pinned: a change to the canonical form or the prefix would strand every notice in flight.
    assert notice.signature == EXPECTED_SIGNATURE
    assert hashlib.sha256(notice.to_bytes()).hexdigest() == EXPECTED_DIGEST
    assert verify_notice(notice.to_bytes(), recipient_agency="csc-example-mash", broker_keys=KEYS) == notice


EXPECTED_SIGNATURE = "7xxrHDaspC2KuRiuiq7PypCcaOQaZM-KzrIOPx5PXiMf2YdUZhcEXu9HcEr-yXeFCtZZEj_g5AY1Tt5b1jCGCQ"
EXPECTED_DIGEST = "2d776b5acaa46ba4e70d25fe387fe2db2c3a768683f89a4f31322727fb907c5f"


def test_forged_misaddressed_and_malformed_notices_are_refused() -> None:
    notice = _notice()
    forged = notice.model_copy(update={"reason": "sent_in_error"}).to_bytes()
    with pytest.raises(BadSignature):
        verify_notice(forged, recipient_agency="csc-example-mash", broker_keys=KEYS)
    with pytest.raises(RecipientMismatch):
        verify_notice(notice.to_bytes(), recipient_agency="police-example", broker_keys=KEYS)
    with pytest.raises(UnknownSigningKey):
        verify_notice(notice.to_bytes(), recipient_agency="csc-example-mash", broker_keys={})
    with pytest.raises(MalformedEnvelope):
        verify_notice(b'{"format":"sgb-envelope/1"}', recipient_agency="csc-example-mash", broker_keys=KEYS)
    other = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
    impostor = _notice(signing_key=other).to_bytes()
    with pytest.raises(BadSignature):
        verify_notice(impostor, recipient_agency="csc-example-mash", broker_keys=KEYS)


def test_a_correction_must_name_its_replacement_and_only_a_correction_may() -> None:
    with pytest.raises(ValueError, match="superseded_by"):
        _notice(kind="correction")
    with pytest.raises(ValueError, match="superseded_by"):
        _notice(superseded_by="00000000-0000-4000-8000-00000000e002")
    corrected = _notice(kind="correction", reason="superseded", superseded_by="00000000-0000-4000-8000-00000000e002")
    assert verify_notice(corrected.to_bytes(), recipient_agency="csc-example-mash", broker_keys=KEYS) == corrected
