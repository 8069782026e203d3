"""Golden vector for the evidence-pack bytes (sgb-audit-pack/2): the golden log, witnessed, exported."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlmodel import Session

from audit import EntryDraft, Signer, WitnessKey, append, export_pack, store_cosignature, verify_pack, write_checkpoint
from audit.canonical import parse_time

HERE = Path(__file__).parent / "golden"
LOG = json.loads((HERE / "entries.json").read_text(encoding="utf-8"))
COSIGNED = json.loads((HERE / "cosignature.json").read_text(encoding="utf-8"))
PACK = HERE / "pack_v2.jsonl"
SIGNER = Signer(LOG["origin"], Ed25519PrivateKey.from_private_bytes(bytes.fromhex(LOG["key_seed_hex"])))
WITNESS = WitnessKey.from_vkey(COSIGNED["witness_vkey"])


def _stopped_at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def _export(engine: Engine) -> str:
    for case in LOG["entries"]:
        at = parse_time(case["recorded_at"])
        with Session(engine) as session, session.begin():
            append(session, [EntryDraft(**case["draft"])], clock=_stopped_at(at))
    checkpoint_time = parse_time("2025-03-04T05:06:09.000000Z")
    with Session(engine) as session, session.begin():
        assert write_checkpoint(session, SIGNER, clock=lambda: checkpoint_time).note == LOG["checkpoint_note"]
        store_cosignature(session, 2, COSIGNED["signature_line"], WITNESS)
        out = io.StringIO()
        export_pack(session, out, SIGNER, clock=lambda: parse_time("2025-03-05T00:00:00.000000Z"), min_witnesses=1)
    return out.getvalue()


def test_exported_pack_matches_golden_bytes(sqlite_engine: Engine) -> None:
    text = _export(sqlite_engine)
    assert text == PACK.read_text(encoding="utf-8")
    lines = text.split("\n")
    assert json.loads(lines[1])["note"] == COSIGNED["cosigned_note"]
    assert json.loads(lines[-2])["key"] == COSIGNED["log_vkey"]


def test_golden_pack_verifies_offline_with_a_witness_alone() -> None:
    summary = verify_pack(PACK.read_text(encoding="utf-8"), witnesses=[WITNESS], min_witnesses=1)
    assert (summary.entries, summary.checkpoint.size, summary.witnesses) == (2, 2, (WITNESS.name,))
    assert verify_pack(PACK.read_text(encoding="utf-8"), SIGNER.public_key).witnesses == ()
