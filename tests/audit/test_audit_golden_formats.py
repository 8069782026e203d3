"""Golden vectors for entry formats 3 and 4: the exact bytes, hashes and checkpoint of entries naming
their deciding findings by position (`deciding_reasons`, format 3) and the findings that would also have
held or stopped the share (`blocking_reasons`, format 4), each beside an entry of the format before
written by the same code.

`golden/entries_format3.json` and `entries_format4.json` were generated once (each `comment` says how)
and are fixed data: a test failing here means the canonical form of a logged entry changed, so every
stored entry of that form would stop verifying. Add a new format (and new vectors) instead of
regenerating these.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlmodel import Session

from audit import EntryDraft, Signer, append, canonical_bytes, verify_log, write_checkpoint
from audit.canonical import canonical_text, parse_time
from audit.merkle import root_of
from audit.models import entry_document

HERE = Path(__file__).parent / "golden"
FORMATS = {v: json.loads((HERE / f"entries_format{v}.json").read_text(encoding="utf-8")) for v in (3, 4)}
GOLDEN = FORMATS[3]
# The checkpoint is signed with the earlier vectors' test key and origin.
LOG = json.loads((HERE / "entries.json").read_text(encoding="utf-8"))
SIGNER = Signer(LOG["origin"], Ed25519PrivateKey.from_private_bytes(bytes.fromhex(LOG["key_seed_hex"])))


def _stopped_at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def _values(case: dict[str, Any]) -> dict[str, Any]:
    """The entry's column values as the log holds them (defaults filled in), with its seq and time."""
    draft = EntryDraft(**case["draft"]).model_dump(mode="json")
    return {**draft, "seq": case["seq"], "recorded_at": case["recorded_at"]}


def test_the_vectors_hold_what_format_3_adds() -> None:
    # Guards the data itself: vectors regenerated from code that dropped the positions would fail here.
    first, refused, older = GOLDEN["entries"]
    assert '"deciding_reasons":[0],"deciding_rules":["GR4"],' in first["canonical"]
    assert '"deciding_reasons":[0,1],"deciding_rules":["GR4","C7"],' in refused["canonical"]
    assert all(c["canonical"].endswith(',"v":3}') for c in (first, refused))
    assert "deciding_reasons" not in older["canonical"] and older["canonical"].endswith(',"v":2}')
    # One rule with a deciding finding and one that did not decide: what positions say and rules cannot.
    rules = [r["rule"] for r in first["draft"]["reasons"]]
    assert rules.count("GR4") == 2 and first["draft"]["deciding_reasons"] == [0]


def test_the_vectors_hold_what_format_4_adds() -> None:
    refused, urgent, older = FORMATS[4]["entries"]
    assert '"blocking_reasons":[1],"consent_state":"refused","deciding_reasons":[0],' in refused["canonical"]
    assert '"blocking_reasons":[1,2],' in urgent["canonical"]
    assert all(c["canonical"].endswith(',"v":4}') for c in (refused, urgent))
    assert "blocking_reasons" not in older["canonical"] and older["canonical"].endswith(',"v":3}')


per_format = pytest.mark.parametrize("golden", FORMATS.values(), ids=[f"format{v}" for v in FORMATS])


@per_format
def test_documents_encode_to_the_golden_bytes_and_leaf_hashes(golden: dict[str, Any]) -> None:
    for case in golden["entries"]:
        encoded = canonical_bytes(entry_document(_values(case)))
        assert encoded == case["canonical"].encode("utf-8"), case["seq"]
        # RFC 6962 leaf hash, computed here rather than by audit.merkle.
        assert hashlib.sha256(b"\x00" + encoded).hexdigest() == case["leaf_hash"], case["seq"]


@per_format
def test_the_chain_and_root_match_golden(golden: dict[str, Any]) -> None:
    head = bytes(32)
    for case in golden["entries"]:
        head = hashlib.sha256(b"\x01" + head + bytes.fromhex(case["leaf_hash"])).digest()
        assert head.hex() == case["chain_hash"], case["seq"]
    assert root_of([bytes.fromhex(c["leaf_hash"]) for c in golden["entries"]]).hex() == golden["root"]


@per_format
def test_appended_entries_match_golden_and_verify(sqlite_engine: Engine, golden: dict[str, Any]) -> None:
    for case in golden["entries"]:
        at = parse_time(case["recorded_at"])
        with Session(sqlite_engine, expire_on_commit=False) as session, session.begin():
            (entry,) = append(session, [EntryDraft(**case["draft"])], clock=_stopped_at(at))
        assert entry.seq == case["seq"]
        assert canonical_text(entry.document()) == case["canonical"]
        assert (entry.leaf_hash, entry.chain_hash) == (case["leaf_hash"], case["chain_hash"])
    checkpoint_time = parse_time(golden["checkpoint_time"])
    with Session(sqlite_engine) as session, session.begin():
        assert write_checkpoint(session, SIGNER, clock=lambda: checkpoint_time).note == golden["checkpoint_note"]
    # The verifier rebuilds each document from the stored column text, not from `entry_document`:
    # it must reach the same bytes.
    with Session(sqlite_engine) as session:
        assert verify_log(session, SIGNER.public_key).size == len(golden["entries"])
