"""Golden vectors pin the canonical encoding, entry hashes, a Merkle root and a checkpoint note."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from http import HTTPStatus
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, Text, select, type_coerce
from sqlmodel import Session

from audit import CanonicalError, Checkpoint, EntryDraft, append, canonical_bytes
from audit.canonical import Encoded, canonical_object, canonical_text, encoded, parse_time
from audit.merkle import root_of
from audit.models import JSON_COLUMNS, Entry
from audit.note import sign_note


class Color(StrEnum):
    RED = "red"


GOLDEN = json.loads((Path(__file__).parent / "golden" / "entries.json").read_text(encoding="utf-8"))


def _stopped_at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def test_canonical_encoding_matches_golden_text() -> None:
    case = GOLDEN["canonical"]
    value = {**json.loads(case["input_json"]), "when": datetime.fromisoformat(case["time"])}
    assert canonical_text(value) == case["expected"]
    assert canonical_bytes(value) == case["expected"].encode("utf-8")


@pytest.mark.parametrize(
    "value",
    [1.0, float("nan"), {"a": 0.5}, datetime(2025, 1, 1), {1: "int key"}, b"bytes"],
    ids=["float", "nan", "nested-float", "naive-datetime", "int-key", "bytes"],
)
def test_canonical_encoding_refuses_ambiguous_values(value: object) -> None:
    with pytest.raises(CanonicalError):
        canonical_bytes(value)


def test_an_object_joined_from_encoded_members_is_the_canonical_text_of_the_whole() -> None:
    case = GOLDEN["canonical"]
    value = {**json.loads(case["input_json"]), "when": datetime.fromisoformat(case["time"])}
    members = {key: encoded(item) if isinstance(item, dict | list) else item for key, item in value.items()}
    assert any(isinstance(item, Encoded) for item in members.values())
    assert canonical_object(members) == case["expected"]
    with pytest.raises(CanonicalError):
        encoded({"a": 0.5})  # encoding once still refuses what canonical_text refuses
    with pytest.raises(CanonicalError):
        canonical_object({1: "int key"})  # type: ignore[dict-item]  # deliberately not a str key: the refusal is tested


@pytest.mark.parametrize(
    "scalar",
    ["", "é☃\u2028", 'q"b\\s\n\t\x00\x1f\x7f', 0, -7, 2**70, True, False, None, HTTPStatus.OK, Color.RED],
    ids=["empty", "unicode", "escapes", "zero", "negative", "big-int", "true", "false", "null", "int-enum", "str-enum"],
)
def test_a_scalar_member_is_written_as_canonical_text_writes_it(scalar: object) -> None:
    # canonical_object writes plain scalars itself (no walk, no encoder pass): the same bytes.
    members = {"v": scalar, "a": encoded([scalar]), "z": 1}
    assert canonical_object(members) == canonical_text({"v": scalar, "a": [scalar], "z": 1})


def test_parse_time_accepts_only_the_canonical_spelling() -> None:
    assert parse_time("2025-03-04T05:06:07.890123Z") == datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
    for text in ["2025-03-04T05:06:07Z", "2025-03-04 05:06:07.890123Z", "2025-03-04T05:06:07.890123+00:00"]:
        with pytest.raises(CanonicalError):
            parse_time(text)


def test_appended_entries_match_golden_bytes_and_hashes(sqlite_engine: Engine) -> None:
    times = iter(GOLDEN["entries"])
    for case in GOLDEN["entries"]:
        clock_value = parse_time(next(times)["recorded_at"])
        with Session(sqlite_engine, expire_on_commit=False) as session, session.begin():
            (entry,) = append(session, [EntryDraft(**case["draft"])], clock=_stopped_at(clock_value))
        assert entry.seq == case["seq"]
        assert canonical_text(entry.document()) == case["canonical"]
        assert hashlib.sha256(b"\x00" + case["canonical"].encode()).hexdigest() == case["leaf_hash"]
        assert (entry.leaf_hash, entry.chain_hash) == (case["leaf_hash"], case["chain_hash"])
    # Each JSON column is stored as the very text its entry's hash covered.
    table = Entry.__table__  # type: ignore[attr-defined]
    with sqlite_engine.connect() as connection:
        stored = connection.execute(select(*(type_coerce(table.c[name], Text) for name in JSON_COLUMNS))).all()
    documents = [json.loads(case["canonical"]) for case in GOLDEN["entries"]]
    for row, document in zip(stored, documents, strict=True):
        for name, text in zip(JSON_COLUMNS, row, strict=True):
            if name in document:
                assert text == canonical_text(document[name])


def test_golden_root_and_checkpoint_note() -> None:
    leaves = [bytes.fromhex(case["leaf_hash"]) for case in GOLDEN["entries"]]
    assert root_of(leaves).hex() == GOLDEN["root"]
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(GOLDEN["key_seed_hex"]))
    chain = bytes.fromhex(GOLDEN["entries"][-1]["chain_hash"])
    body = Checkpoint.body(GOLDEN["origin"], 2, root_of(leaves), "2025-03-04T05:06:09.000000Z", chain)
    assert sign_note(body, GOLDEN["origin"], key) == GOLDEN["checkpoint_note"]
    opened = Checkpoint.open(GOLDEN["checkpoint_note"], key.public_key())
    assert (opened.size, opened.root.hex(), opened.chain_head) == (2, GOLDEN["root"], chain)
