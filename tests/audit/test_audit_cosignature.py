"""Golden vectors pin the cosignature bytes (C2SP tlog-cosignature/v1) and the witness request body.

tests/audit/golden/cosignature.json was checked once against the Go reference implementation
(transparency-dev/formats note.NewVerifierForCosignatureV1 with x/mod/sumdb/note.Open): it verifies
both the broker's signature and the witness's cosignature in `cosigned_note`, and a cosignature made
there verifies here.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import (
    CanonicalError,
    Checkpoint,
    CheckpointInvalid,
    Cosignature,
    CosignatureInvalid,
    WitnessKey,
    WitnessQuorumMissing,
    cosign,
    cosigners,
    require_cosignatures,
    verify_cosignature,
    with_cosignatures,
)
from audit.cosignature import cosigned_message
from audit.note import split_note

GOLDEN = json.loads((Path(__file__).parent / "golden" / "cosignature.json").read_text(encoding="utf-8"))
LOG = json.loads((Path(__file__).parent / "golden" / "entries.json").read_text(encoding="utf-8"))
NOTE = GOLDEN["checkpoint_note"]
WITNESS_KEY = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(GOLDEN["witness_seed_hex"]))
WITNESS = WitnessKey(GOLDEN["witness_name"], WITNESS_KEY.public_key())
LOG_KEY = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(LOG["key_seed_hex"]))


def test_golden_note_is_the_log_golden_checkpoint() -> None:
    assert LOG["checkpoint_note"] == NOTE


def test_key_id_and_vkey_match_golden() -> None:
    assert WITNESS.key_id.hex() == GOLDEN["key_id_hex"]
    assert WITNESS.vkey() == GOLDEN["witness_vkey"]
    assert WitnessKey.from_vkey(GOLDEN["witness_vkey"]).key_id == WITNESS.key_id


def test_signed_message_and_line_match_golden() -> None:
    body, _ = split_note(NOTE)
    assert cosigned_message(body, GOLDEN["timestamp"]).decode() == GOLDEN["signed_message"]
    line = cosign(NOTE, WITNESS.name, WITNESS_KEY, datetime.fromisoformat(GOLDEN["time"]))
    assert line == GOLDEN["signature_line"]
    raw = base64.b64decode(line.split(" ")[2])
    assert (raw[:4].hex(), int.from_bytes(raw[4:12], "big"), len(raw)) == (
        GOLDEN["key_id_hex"],
        GOLDEN["timestamp"],
        4 + 8 + 64,
    )


def test_cosigned_note_matches_golden_and_still_opens_for_the_broker_key() -> None:
    cosigned = with_cosignatures(NOTE, [GOLDEN["signature_line"]])
    assert cosigned == GOLDEN["cosigned_note"]
    assert with_cosignatures(cosigned, [GOLDEN["signature_line"]]) == cosigned  # no duplicate lines
    assert Checkpoint.open(cosigned, LOG_KEY.public_key()).size == 2
    parsed = verify_cosignature(cosigned, GOLDEN["signature_line"], WITNESS)
    assert (parsed.name, parsed.timestamp) == (WITNESS.name, GOLDEN["timestamp"])
    assert cosigners(cosigned, [WITNESS]) == (WITNESS.name,)


def test_cosignature_line_round_trips() -> None:
    parsed = Cosignature.parse(GOLDEN["signature_line"])
    assert parsed.line == GOLDEN["signature_line"]


def test_verify_refuses_other_keys_other_checkpoints_and_changed_bytes() -> None:
    line = GOLDEN["signature_line"]
    impostor = WitnessKey(WITNESS.name, Ed25519PrivateKey.from_private_bytes(bytes(32)).public_key())
    with pytest.raises(CosignatureInvalid, match="not"):
        verify_cosignature(NOTE, line, impostor)
    with pytest.raises(CosignatureInvalid):
        verify_cosignature(NOTE, line, WitnessKey("other.witness.invalid", WITNESS.key))
    other_body = NOTE.replace("\n2\n", "\n3\n", 1)
    with pytest.raises(CosignatureInvalid, match="does not verify"):
        verify_cosignature(other_body, line, WITNESS)
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    for position in (5, 11, 20, len(raw) - 1):  # timestamp bytes and signature bytes
        bent = bytearray(raw)
        bent[position] ^= 1
        changed = f"\u2014 {WITNESS.name} {base64.b64encode(bytes(bent)).decode()}\n"
        with pytest.raises(CosignatureInvalid):
            verify_cosignature(NOTE, changed, WITNESS)


@pytest.mark.parametrize(
    "line",
    [
        "- w1 AAAA\n",
        "\u2014 w1 not-base64!\n",
        f"\u2014 w1 {base64.b64encode(bytes(4 + 64)).decode()}\n",  # a plain note signature, not a cosignature
        f"\u2014 w1 {base64.b64encode(bytes(4) + (2**63).to_bytes(8, 'big') + bytes(64)).decode()}\n",
        f"\u2014 bad+name {base64.b64encode(bytes(76)).decode()}\n",
    ],
    ids=["ascii-dash", "not-base64", "wrong-length", "timestamp-over-2^63", "plus-in-name"],
)
def test_malformed_lines_are_refused(line: str) -> None:
    with pytest.raises(CosignatureInvalid):
        Cosignature.parse(line)


def test_unknown_and_bad_lines_are_skipped_when_counting() -> None:
    stranger = Ed25519PrivateKey.from_private_bytes(bytes(range(3, 35)))
    stranger_line = cosign(NOTE, "stranger.invalid", stranger, datetime.fromisoformat(GOLDEN["time"]))
    cosigned = with_cosignatures(NOTE, [stranger_line])
    assert cosigners(cosigned, [WITNESS]) == ()
    assert cosigners(cosigned, [WITNESS], [GOLDEN["signature_line"]]) == (WITNESS.name,)
    with pytest.raises(WitnessQuorumMissing) as caught:
        require_cosignatures(cosigned, [WITNESS], 1)
    assert (caught.value.tree_size, caught.value.found, caught.value.required) == (2, (), 1)


def test_cosign_needs_an_aware_time_and_a_checkpoint() -> None:
    with pytest.raises(CanonicalError):
        cosign(NOTE, WITNESS.name, WITNESS_KEY, datetime(2025, 3, 4))
    with pytest.raises(CheckpointInvalid):
        cosign(
            "not a checkpoint\n\n\u2014 x AAAAAAA=\n", WITNESS.name, WITNESS_KEY, datetime.fromisoformat(GOLDEN["time"])
        )
    with pytest.raises(CheckpointInvalid):
        WitnessKey("has space", WITNESS.key)


def test_from_vkey_refuses_broker_keys_and_bad_hashes() -> None:
    with pytest.raises(CosignatureInvalid, match="type 0x01"):
        WitnessKey.from_vkey(GOLDEN["log_vkey"])
    name, _, rest = GOLDEN["witness_vkey"].partition("+")
    with pytest.raises(CheckpointInvalid, match="does not match"):
        WitnessKey.from_vkey(f"{name}+00000000+{rest.partition('+')[2]}")
