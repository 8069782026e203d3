"""Sealing and opening: the golden envelope still opens, round trips, and every way opening must fail."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.bindings._rust import openssl as rust_openssl
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from schemas.envelope import EnvelopeHeader, SealedEnvelope, canonical_json
from transport.sealing import (
    ENC_LENGTH,
    SUITE,
    BadSignature,
    DecryptFailed,
    EnvelopeError,
    MalformedEnvelope,
    RecipientMismatch,
    UnknownRecipientKey,
    UnknownSigningKey,
    hpke_info,
    open_bytes,
    open_envelope,
    seal,
)

GOLDEN = json.loads(Path(__file__).with_name("golden").joinpath("envelope_v1.json").read_text("utf-8"))
BROKER = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(GOLDEN["broker_signing_seed_hex"]))
RECIPIENT = X25519PrivateKey.from_private_bytes(bytes.fromhex(GOLDEN["recipient_x25519_private_hex"]))
OTHER_AGENCY = X25519PrivateKey.from_private_bytes(bytes(range(32)))
HEADER = EnvelopeHeader(**GOLDEN["header"])
RECIPIENT_ID = HEADER.recipient_agency
BROKER_KEYS: dict[str, Ed25519PublicKey] = {GOLDEN["signing_key_id"]: BROKER.public_key()}
RECIPIENT_KEYS = {HEADER.recipient_key_id: RECIPIENT}


def _seal(payload: dict[str, Any] | None = None, header: EnvelopeHeader = HEADER) -> SealedEnvelope:
    return seal(
        payload if payload is not None else GOLDEN["payload"],
        header=header,
        recipient_public_key=RECIPIENT.public_key(),
        signing_key=BROKER,
        signing_key_id=GOLDEN["signing_key_id"],
        sealed_at=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
    )


def _open(envelope: SealedEnvelope, **overrides: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "recipient_agency": RECIPIENT_ID,
        "broker_keys": BROKER_KEYS,
        "recipient_keys": RECIPIENT_KEYS,
    } | overrides
    return open_envelope(envelope, **kwargs).payload


def _altered(envelope: SealedEnvelope, **changes: Any) -> SealedEnvelope:
    """Rebuild an envelope with fields changed, keeping the old signature (an attacker's edit)."""
    return SealedEnvelope.model_validate(envelope.model_dump(mode="json") | changes)


def _flip(b64: str, index: int = 0) -> str:
    raw = bytearray(base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)))
    raw[index] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


# --- golden format -------------------------------------------------------------------------------


def test_golden_info_bytes_are_pinned() -> None:
    expected = (
        b"sgb/envelope/v1 hpke-info\x00"
        b'{"delivery_id":"dlv-0001","message_type":"safeguarding_concern","notification_id":"ntf-0001",'
        b'"recipient_agency":"brackenford-csc","recipient_key_id":"enc-test-1","schema_version":"1.0",'
        b'"sender_agency":"brackenford-primary"}'
    )
    assert hpke_info(HEADER) == expected
    assert hpke_info(HEADER).hex() == GOLDEN["info_hex"]


def test_golden_envelope_still_decodes_verifies_and_opens() -> None:
    envelope = SealedEnvelope.from_bytes(GOLDEN["envelope"].encode("utf-8"))
    assert envelope.signing_bytes().hex() == GOLDEN["signing_bytes_hex"]
    assert envelope.digest() == GOLDEN["digest"]
    # The wire form is canonical: decoding and re-encoding gives the same bytes.
    assert envelope.to_bytes() == GOLDEN["envelope"].encode("utf-8")
    opened = open_bytes(
        GOLDEN["envelope"].encode("utf-8"),
        recipient_agency=RECIPIENT_ID,
        broker_keys=BROKER_KEYS,
        recipient_keys=RECIPIENT_KEYS,
    )
    assert opened.payload == GOLDEN["payload"]
    assert opened.header == HEADER
    assert opened.sealed_at == "2026-03-02T09:30:00Z"
    assert opened.digest == GOLDEN["digest"]


# --- round trips ---------------------------------------------------------------------------------


def test_seal_then_open_round_trips_through_the_wire() -> None:
    envelope = _seal()
    again = SealedEnvelope.from_bytes(envelope.to_bytes())
    assert again == envelope
    assert _open(again) == GOLDEN["payload"]


def test_each_seal_uses_a_fresh_encapsulation() -> None:
    first, second = _seal(), _seal()
    assert first.enc != second.enc
    assert first.ciphertext != second.ciphertext


def test_ciphertext_length_is_plaintext_plus_gcm_tag() -> None:
    envelope = _seal({"k": "v"})
    raw = base64.urlsafe_b64decode(envelope.ciphertext + "=" * (-len(envelope.ciphertext) % 4))
    assert len(raw) == len(canonical_json({"k": "v"})) + 16


def test_seal_refuses_naive_timestamp_and_bad_key_id() -> None:
    with pytest.raises(ValueError):
        seal(
            {},
            header=HEADER,
            recipient_public_key=RECIPIENT.public_key(),
            signing_key=BROKER,
            signing_key_id="k",
            sealed_at=datetime(2026, 1, 1),
        )
    with pytest.raises(ValueError):
        seal(
            {},
            header=HEADER,
            recipient_public_key=RECIPIENT.public_key(),
            signing_key=BROKER,
            signing_key_id="bad key id",
            sealed_at=datetime(2026, 1, 1, tzinfo=UTC),
        )


# --- failures ------------------------------------------------------------------------------------


def test_another_agencys_private_key_cannot_open() -> None:
    with pytest.raises(DecryptFailed):
        _open(_seal(), recipient_keys={HEADER.recipient_key_id: OTHER_AGENCY})


def test_unknown_recipient_key_id() -> None:
    with pytest.raises(UnknownRecipientKey):
        _open(_seal(), recipient_keys={"some-other-kid": RECIPIENT})


def test_envelope_for_another_agency_is_refused_before_decrypting() -> None:
    with pytest.raises(RecipientMismatch):
        _open(_seal(), recipient_agency="fernhill-police")


def test_unknown_broker_signing_key() -> None:
    with pytest.raises(UnknownSigningKey):
        _open(_seal(), broker_keys={"other": BROKER.public_key()})


def test_signature_by_another_broker_key_fails() -> None:
    impostor = Ed25519PrivateKey.from_private_bytes(bytes(32))
    with pytest.raises(BadSignature):
        _open(_seal(), broker_keys={GOLDEN["signing_key_id"]: impostor.public_key()})


@pytest.mark.parametrize(
    "field",
    ["ciphertext", "enc", "signature"],
    ids=["ciphertext", "enc", "signature"],
)
def test_tampered_bytes_fail_signature(field: str) -> None:
    envelope = _seal()
    with pytest.raises(BadSignature):
        _open(_altered(envelope, **{field: _flip(getattr(envelope, field), 5)}))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("delivery_id", "dlv-9999"),
        ("notification_id", "ntf-9999"),
        ("sender_agency", "fernhill-police"),
        ("message_type", "other_type"),
        ("schema_version", "2.0"),
        ("recipient_key_id", "enc-test-2"),
    ],
)
def test_tampered_header_fails_signature(field: str, value: str) -> None:
    envelope = _seal()
    header = envelope.header.model_dump() | {field: value}
    with pytest.raises(BadSignature):
        _open(_altered(envelope, header=header), recipient_keys={value: RECIPIENT} | RECIPIENT_KEYS)


def test_tampered_sealed_at_fails_signature() -> None:
    with pytest.raises(BadSignature):
        _open(_altered(_seal(), sealed_at="2030-01-01T00:00:00Z"))


def test_header_change_re_signed_by_the_broker_still_cannot_decrypt() -> None:
    """`info` binds the header into HPKE, so even a validly signed moved ciphertext fails."""
    envelope = _seal()
    moved = _altered(envelope, header=envelope.header.model_dump() | {"delivery_id": "dlv-moved"})
    resigned = _altered(
        moved, signature=base64.urlsafe_b64encode(BROKER.sign(moved.signing_bytes())).rstrip(b"=").decode()
    )
    with pytest.raises(DecryptFailed):
        _open(resigned)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"[]",
        b'{"format":"sgb-envelope/2"}',
        GOLDEN["envelope"].replace('"sealed_at"', '"extra":1,"sealed_at"').encode(),
        GOLDEN["envelope"].replace('"enc":"', '"enc":"!').encode(),
        b"{" + b" " * (1024 * 1024) + b"}",
    ],
    ids=["empty", "not-json", "array", "other-format", "extra-field", "bad-base64", "too-big"],
)
def test_malformed_records(data: bytes) -> None:
    with pytest.raises(MalformedEnvelope):
        open_bytes(data, recipient_agency=RECIPIENT_ID, broker_keys=BROKER_KEYS, recipient_keys=RECIPIENT_KEYS)


def test_non_canonical_base64_is_malformed() -> None:
    envelope = _seal()
    last = envelope.signature[-1]
    # The final character of 64 bytes in base64url carries 2 unused bits; setting one is a second
    # spelling of the same signature.
    sibling = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    twin = sibling[sibling.index(last) + 1]
    with pytest.raises(MalformedEnvelope):
        _open(_altered(envelope, signature=envelope.signature[:-1] + twin))


def test_errors_are_opaque_with_reason_codes() -> None:
    reasons = {
        cls.reason
        for cls in (
            MalformedEnvelope,
            UnknownSigningKey,
            BadSignature,
            RecipientMismatch,
            UnknownRecipientKey,
            DecryptFailed,
        )
    }
    assert len(reasons) == 6
    with pytest.raises(EnvelopeError) as caught:
        _open(_seal(), recipient_keys={HEADER.recipient_key_id: OTHER_AGENCY})
    assert str(caught.value) == "decrypt_failed"


# --- the exact cryptography API we rely on (cryptography 50.0.2) ---------------------------------


def test_hpke_suite_output_is_enc_then_ciphertext_and_tag() -> None:
    out = SUITE.encrypt(b"abc", RECIPIENT.public_key(), info=b"i")
    assert hpke.KEM.X25519.enc_length() == ENC_LENGTH == 32
    assert len(out) == ENC_LENGTH + 3 + 16
    assert SUITE.decrypt(out, RECIPIENT, info=b"i") == b"abc"


def test_hpke_wrong_info_or_key_raises_invalid_tag() -> None:
    out = SUITE.encrypt(b"abc", RECIPIENT.public_key(), info=b"i")
    with pytest.raises(InvalidTag):
        SUITE.decrypt(out, RECIPIENT, info=b"j")
    with pytest.raises(InvalidTag):
        SUITE.decrypt(out, OTHER_AGENCY, info=b"i")
    with pytest.raises(InvalidTag):
        SUITE.decrypt(out[:20], RECIPIENT, info=b"i")


def test_hpke_public_api_has_no_aad_keyword() -> None:
    # Some `cryptography` docs show `aad=`; the installed release does not take it, so we bind via `info`.
    with pytest.raises(TypeError):
        SUITE.encrypt(b"abc", RECIPIENT.public_key(), info=b"i", aad=b"x")  # type: ignore[call-arg]


def test_hpke_is_rfc9180_base_mode() -> None:
    """RFC 9180 A.1.1 (X25519, HKDF-SHA256, AES-128-GCM), first sequence-number encryption.

    The vector uses AAD "Count-0", which only the private helper accepts; this pins that the Suite
    is real RFC 9180 HPKE, so any conforming implementation can open our envelopes.
    """
    h = bytes.fromhex
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
    sk_r = X25519PrivateKey.from_private_bytes(h("4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8"))
    enc = h("37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431")
    ct = h("f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a")
    info = h("4f6465206f6e2061204772656369616e2055726e")
    plaintext = rust_openssl.hpke._decrypt_with_aad(suite, enc + ct, sk_r, info=info, aad=b"Count-0")
    assert plaintext == b"Beauty is truth, truth beauty"
