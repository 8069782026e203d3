"""The post-quantum hybrid suite: its golden envelope opens, its bytes are pinned, and suites never mix."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from pydantic import ValidationError

from schemas.envelope import HYBRID_SUITE_NAME, SUITE_NAME, EnvelopeHeader, SealedEnvelope, b64url_decode
from transport.kem import (
    ENC_LENGTHS,
    HYBRID_PUBLIC_BYTES,
    SUITES,
    HybridPrivateKey,
    HybridPublicKey,
    KemKeyError,
    RecipientPrivateKey,
    public_key_from_raw,
    suite_for,
)
from transport.keyfiles import key_id
from transport.sealing import DecryptFailed, MalformedEnvelope, hpke_info, open_bytes, open_envelope, seal

GOLDEN_DIR = Path(__file__).with_name("golden")
HYBRID = json.loads(GOLDEN_DIR.joinpath("envelope_hybrid_v1.json").read_text("utf-8"))
CLASSIC = json.loads(GOLDEN_DIR.joinpath("envelope_v1.json").read_text("utf-8"))
BROKER = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(HYBRID["broker_signing_seed_hex"]))
RECIPIENT = HybridPrivateKey(
    MLKEM768PrivateKey.from_seed_bytes(bytes.fromhex(HYBRID["recipient_mlkem768_seed_hex"])),
    X25519PrivateKey.from_private_bytes(bytes.fromhex(HYBRID["recipient_x25519_private_hex"])),
)
HEADER = EnvelopeHeader(**HYBRID["header"])
BROKER_KEYS: dict[str, Ed25519PublicKey] = {HYBRID["signing_key_id"]: BROKER.public_key()}
KID = HYBRID["recipient_key_id"]


def _open(envelope: SealedEnvelope, keys: dict[str, Any] | None = None) -> dict[str, Any]:
    return open_envelope(
        envelope,
        recipient_agency=HEADER.recipient_agency,
        broker_keys=BROKER_KEYS,
        recipient_keys=keys if keys is not None else {KID: RECIPIENT},
    ).payload


def _seal(public_key: Any, header: EnvelopeHeader = HEADER) -> SealedEnvelope:
    return seal(
        HYBRID["payload"],
        header=header,
        recipient_public_key=public_key,
        signing_key=BROKER,
        signing_key_id=HYBRID["signing_key_id"],
        sealed_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
    )


# --- pinned recipes and bytes --------------------------------------------------------------------


def test_the_suites_are_the_cryptography_recipes_we_pinned() -> None:
    assert hpke.KEM.MLKEM768_X25519.enc_length() == 1120
    assert hpke.KEM.X25519.enc_length() == 32
    assert ENC_LENGTHS == {SUITE_NAME: 32, HYBRID_SUITE_NAME: 1120}
    assert set(SUITES) == {SUITE_NAME, HYBRID_SUITE_NAME}
    assert HYBRID_SUITE_NAME == "MLKEM768-X25519/HKDF-SHA256/AES-256-GCM"


def test_the_golden_keys_give_the_pinned_public_key_and_key_id() -> None:
    public = RECIPIENT.public_key()
    raw = public.raw()
    assert len(raw) == HYBRID_PUBLIC_BYTES == 1216
    # X-Wing's encoding: the ML-KEM-768 encapsulation key, then the X25519 key.
    assert raw[:1184] == RECIPIENT.mlkem.public_key().public_bytes_raw()
    assert raw == b64url_decode(HYBRID["recipient_public_key"])
    # Deterministic from the seeds: ML-KEM-768 key generation from (d, z) is fixed by FIPS 203.
    assert hashlib.sha256(raw).hexdigest() == "534ead1bfacf9ddca5ee2b3b6cf925d43ebb422c265524a2909521a39d6fb948"
    assert public.key_id() == key_id(public) == KID == "7e243198501e8e1f"


def test_the_hybrid_info_binds_the_suite_beside_the_header() -> None:
    expected = (
        b"sgb/envelope/v1 hpke-info\x00"
        b'{"delivery_id":"dlv-0002","message_type":"safeguarding_concern","notification_id":"ntf-0001",'
        b'"recipient_agency":"brackenford-police","recipient_key_id":"7e243198501e8e1f","schema_version":"1.0",'
        b'"sender_agency":"brackenford-primary","suite":"MLKEM768-X25519/HKDF-SHA256/AES-256-GCM"}'
    )
    assert hpke_info(HEADER, HYBRID_SUITE_NAME) == expected
    assert expected.hex() == HYBRID["info_hex"]
    # The first suite's info is what it always was: no "suite" key, so v1 envelopes still open.
    classic = EnvelopeHeader(**CLASSIC["header"])
    assert hpke_info(classic, SUITE_NAME).hex() == hpke_info(classic).hex() == CLASSIC["info_hex"]


def test_golden_hybrid_envelope_still_decodes_verifies_and_opens() -> None:
    wire = HYBRID["envelope"].encode("utf-8")
    envelope = SealedEnvelope.from_bytes(wire)
    assert envelope.suite == HYBRID_SUITE_NAME
    assert len(b64url_decode(envelope.enc)) == 1120
    assert envelope.signing_bytes().hex() == HYBRID["signing_bytes_hex"]
    assert envelope.digest() == HYBRID["digest"]
    assert envelope.to_bytes() == wire
    opened = open_bytes(
        wire, recipient_agency=HEADER.recipient_agency, broker_keys=BROKER_KEYS, recipient_keys={KID: RECIPIENT}
    )
    assert opened.payload == HYBRID["payload"]
    assert opened.header == HEADER


def test_a_recipient_holding_both_kinds_of_key_opens_both_golden_envelopes() -> None:
    classic_key = X25519PrivateKey.from_private_bytes(bytes.fromhex(CLASSIC["recipient_x25519_private_hex"]))
    keys: dict[str, RecipientPrivateKey] = {CLASSIC["header"]["recipient_key_id"]: classic_key, KID: RECIPIENT}
    for golden in (CLASSIC, HYBRID):
        opened = open_bytes(
            golden["envelope"].encode(),
            recipient_agency=golden["header"]["recipient_agency"],
            broker_keys=BROKER_KEYS,
            recipient_keys=keys,
        )
        assert opened.payload == golden["payload"]


# --- sealing -------------------------------------------------------------------------------------


def test_seal_chooses_the_suite_by_key_and_round_trips() -> None:
    envelope = _seal(RECIPIENT.public_key())
    assert envelope.suite == HYBRID_SUITE_NAME
    assert _open(SealedEnvelope.from_bytes(envelope.to_bytes())) == HYBRID["payload"]
    assert suite_for(RECIPIENT.public_key()) == suite_for(RECIPIENT) == HYBRID_SUITE_NAME
    assert suite_for(RECIPIENT.x25519.public_key()) == SUITE_NAME
    assert _seal(RECIPIENT.public_key()).enc != envelope.enc  # a fresh encapsulation each time


def test_a_hybrid_envelope_cannot_be_relabelled_as_the_classic_suite() -> None:
    envelope = _seal(RECIPIENT.public_key())
    with pytest.raises(ValidationError, match="enc must be 43"):
        SealedEnvelope.model_validate(envelope.model_dump(mode="json") | {"suite": SUITE_NAME})
    data = envelope.to_bytes().replace(HYBRID_SUITE_NAME.encode(), SUITE_NAME.encode())
    with pytest.raises(MalformedEnvelope):
        open_bytes(
            data, recipient_agency=HEADER.recipient_agency, broker_keys=BROKER_KEYS, recipient_keys={KID: RECIPIENT}
        )


def test_a_key_of_the_other_suite_under_the_same_kid_cannot_decrypt() -> None:
    hybrid_envelope = _seal(RECIPIENT.public_key())
    with pytest.raises(DecryptFailed):
        _open(hybrid_envelope, {KID: RECIPIENT.x25519})
    classic = _seal(RECIPIENT.x25519.public_key())
    assert classic.suite == SUITE_NAME
    with pytest.raises(DecryptFailed):
        _open(classic, {KID: RECIPIENT})
    assert _open(classic, {KID: RECIPIENT.x25519}) == HYBRID["payload"]


def test_another_hybrid_key_cannot_open() -> None:
    with pytest.raises(DecryptFailed):
        _open(_seal(RECIPIENT.public_key()), {KID: HybridPrivateKey.generate()})


# --- key formats ---------------------------------------------------------------------------------


def test_the_private_key_file_is_two_pkcs8_blocks_mlkem_first() -> None:
    pem = RECIPIENT.to_pem()
    assert pem.count(b"-----BEGIN PRIVATE KEY-----") == 2
    again = HybridPrivateKey.from_pem(pem)
    assert again.public_key().raw() == RECIPIENT.public_key().raw()
    mlkem_block, x25519_block = pem.split(b"-----END PRIVATE KEY-----\n")[:2]
    swapped = x25519_block + b"-----END PRIVATE KEY-----\n" + mlkem_block + b"-----END PRIVATE KEY-----\n"
    with pytest.raises(KemKeyError, match="ML-KEM-768 key, then an X25519 key"):
        HybridPrivateKey.from_pem(swapped)
    with pytest.raises(KemKeyError, match="exactly two"):
        HybridPrivateKey.from_pem(mlkem_block + b"-----END PRIVATE KEY-----\n")


@pytest.mark.parametrize(("suite", "length"), [(HYBRID_SUITE_NAME, 1215), (SUITE_NAME, 33), ("other", 32)])
def test_raw_public_keys_of_the_wrong_size_or_suite_are_refused(suite: str, length: int) -> None:
    with pytest.raises(KemKeyError):
        public_key_from_raw(suite, bytes(length))


def test_raw_public_keys_round_trip_for_both_suites() -> None:
    hybrid = public_key_from_raw(HYBRID_SUITE_NAME, RECIPIENT.public_key().raw())
    assert isinstance(hybrid, HybridPublicKey) and hybrid.key_id() == KID
    classic = public_key_from_raw(SUITE_NAME, bytes(range(32)))
    assert not isinstance(classic, HybridPublicKey)
