"""An insider who can write the log's database, against what the gateway signs, hands out and records.

Each attack here needs only what the application role may do on PostgreSQL (UPDATE the chain-head row
forward, INSERT checkpoint and cosignature rows) until the last step, which rewrites entries with the
triggers dropped (the owner's credentials, or a database file). The broker's key stays out of reach.

1. The chain-head row alone rewritten to describe a forged history: the gateway must not sign it (nor
   move its anchor onto it), must say so critically, and its verification must fail from then on.
2. Checkpoint rows the broker never signed: never handed out, never in the way of signing.
3. A cosignature row squatting a witness's place: an alarm, never the witness's success.
4. A verification stopped by a value the driver cannot read: a failure, not a pass left standing.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlmodel import Session, col

import audit
from audit.chain import GENESIS, link_hash
from audit.merkle import CompactRange
from broker.db import verification
from broker.db.anchor import AnchorFile
from broker.db.log import TAMPERED, DecisionLog
from broker.metrics import Metrics
from tests.audit.conftest import DraftFactory
from tests.audit.rounds import failed_rounds
from tests.audit.tampering import drop_triggers, recompute_hashes, witness_keys, witness_private_keys

_INSERT_CHECKPOINT = text(
    "INSERT INTO audit_checkpoint (tree_size, root_hash, chain_head, created_at, origin, note) "
    "VALUES (:size, 'x', 'x', 'x', :origin, :note)"
)


async def _log_of(decision_log: DecisionLog, make_draft: DraftFactory, count: int, *, start: int = 0) -> None:
    for i in range(start, start + count):
        await decision_log.append([make_draft(delivery_id=f"ntf-0001.d{i}", outcome="share")])
    assert decision_log.refresh_checkpoint()


def _forge_head(engine: Engine, changes: dict[int, dict[str, str]]) -> None:
    """The insider's one UPDATE: the chain-head row as the entries would give it after ``changes``."""
    head, compact = GENESIS, CompactRange()
    with Session(engine) as session:
        for entry in session.execute(select(audit.Entry).order_by(col(audit.Entry.seq))).scalars():
            document = entry.document() | changes.get(entry.seq, {})
            leaf = audit.entry_leaf_hash(document)
            head = link_hash(head, leaf)
            compact.append(leaf)
    with engine.begin() as connection:  # the size does not go back: the trigger lets it through
        connection.execute(
            text("UPDATE audit_chain_head SET head = :head, compact_range = :compact WHERE id = 1"),
            {"head": head.hex(), "compact": compact.encode()},
        )


def _stored_sizes(engine: Engine) -> list[int]:
    with Session(engine) as session:
        return list(session.execute(select(col(audit.CheckpointRecord.tree_size))).scalars())


def _size(note: str | None) -> int:
    assert note is not None
    return audit.Checkpoint.parse(note, verify_with=None).size


def _tamper_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.CRITICAL and getattr(r, "status", None) == TAMPERED]


# --- 1. the chain-head row rewritten alone ----------------------------------------------------------------


async def test_a_chain_head_row_rewritten_alone_is_never_signed_nor_anchored(
    db_url: str, signer: audit.Signer, make_draft: DraftFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    anchor_file = tmp_path / "anchor"
    async with DecisionLog.opened(db_url, signer=signer, anchor_file=anchor_file) as decision_log:
        await _log_of(decision_log, make_draft, 5)
        honest = decision_log.checkpoint_note
        _forge_head(decision_log.engine, {1: {"outcome": "no_share"}})
        await decision_log.append([make_draft(delivery_id="ntf-0001.d5")])  # appended on the forged head
        with caplog.at_level(logging.CRITICAL, logger="broker.db.log"):
            assert not decision_log.refresh_checkpoint(), "a forged chain-head row was signed"
        assert max(_stored_sizes(decision_log.engine)) == 5, "a checkpoint of the forged tree was stored"
        assert decision_log.checkpoint_note == honest, "deliveries carry another note than the last one vouched for"
        assert decision_log.anchor is not None and decision_log.anchor.size == 5
        filed = AnchorFile(anchor_file, verify_keys=[signer.public_key]).read()
        assert filed is not None and filed.size == 5
        assert _tamper_records(caplog), "the refusal was not logged critically"
        assert decision_log.integrity_alarm is not None
        # The insider's second step: the entries made to match, the checkpoints that betray them gone.
        drop_triggers(decision_log.engine)
        with Session(decision_log.engine) as session, session.begin():
            session.execute(text("UPDATE audit_entry SET outcome = 'no_share' WHERE seq = 1"))
            recompute_hashes(session)
            session.execute(text("DELETE FROM audit_checkpoint WHERE tree_size BETWEEN 2 AND 5"))
        metrics = Metrics()
        assert not verification.verify(decision_log, metrics, anchor=decision_log.anchor)
        assert metrics.registry.get_sample_value("sgb_log_verification_ok") == 0


async def test_a_refused_checkpoint_is_a_counted_round_and_fails_verification_for_good(
    sqlite_url: str, signer: audit.Signer, make_draft: DraftFactory
) -> None:
    """Put the row back and the log agrees with itself again; what the gateway saw still fails it."""
    async with DecisionLog.opened(sqlite_url, signer=signer) as decision_log:
        await _log_of(decision_log, make_draft, 3)
        with Session(decision_log.engine) as session:
            kept = session.execute(text("SELECT head, compact_range FROM audit_chain_head")).one()
        failed = await failed_rounds(
            decision_log, every=0.02, meanwhile=lambda: _forge_head(decision_log.engine, {0: {"outcome": "no_share"}})
        )
        assert failed, "a refused checkpoint was not counted as a failed round"
        with decision_log.engine.begin() as connection:
            connection.execute(
                text("UPDATE audit_chain_head SET head = :h, compact_range = :c WHERE id = 1"),
                {"h": kept.head, "c": kept.compact_range},
            )
        await _log_of(decision_log, make_draft, 1, start=3)  # the row is honest again: signing resumes
        assert _size(decision_log.checkpoint_note) == 4
        metrics = Metrics()
        assert not verification.verify(decision_log, metrics, anchor=decision_log.anchor)
        assert metrics.registry.get_sample_value("sgb_log_verification_ok") == 0


async def test_a_restart_does_not_sign_a_chain_head_row_rewritten_while_no_gateway_ran(
    sqlite_url: str, signer: audit.Signer, make_draft: DraftFactory
) -> None:
    async with DecisionLog.opened(sqlite_url, signer=signer) as decision_log:
        await _log_of(decision_log, make_draft, 4)
        _forge_head(decision_log.engine, {2: {"outcome": "no_share"}})
    async with DecisionLog.opened(sqlite_url, signer=signer) as restarted:
        # Trust starts from the newest checkpoint a broker key signed, not from the row as found.
        await restarted.append([make_draft(delivery_id="ntf-0001.d4")])
        assert not restarted.refresh_checkpoint()
        assert max(_stored_sizes(restarted.engine)) == 4, "a checkpoint over the forged row was signed"
        assert restarted.integrity_alarm is not None
        assert not verification.verify(restarted, Metrics(), anchor=restarted.anchor)


def test_sign_trusted_signs_only_a_chain_head_row_the_entries_give(
    engine: Engine, signer: audit.Signer, make_draft: DraftFactory, clock: Callable[[], datetime]
) -> None:
    with Session(engine) as session, session.begin():
        audit.append(session, [make_draft(delivery_id=f"ntf-0001.d{i}") for i in range(3)], clock=clock)
        first, trusted = audit.sign_trusted(session, signer, audit.trusted_state(session, None), clock=clock)
    assert (first.size, trusted.size, trusted.compact.root()) == (3, 3, first.root)
    with Session(engine) as session, session.begin():
        audit.append(session, [make_draft(delivery_id="ntf-0001.d3")], clock=clock)
    _forge_head(engine, {3: {"outcome": "no_share"}})
    with Session(engine) as session, session.begin(), pytest.raises(audit.HeadMismatch):
        audit.sign_trusted(session, signer, trusted, clock=clock)
    assert _stored_sizes(engine) == [3]
    # Restarting from the signed checkpoint: its leaves are held to its root, which no insider can forge.
    drop_triggers(engine)
    with Session(engine) as session, session.begin():
        session.execute(text("UPDATE audit_entry SET leaf_hash = :leaf WHERE seq = 1"), {"leaf": "00" * 32})
    with Session(engine) as session, pytest.raises(audit.HistoryRewritten):
        audit.trusted_state(session, first)


# --- 2. checkpoint rows the broker never signed ------------------------------------------------------------


async def test_an_unsigned_note_at_the_next_size_is_never_handed_out(
    db_url: str, signer: audit.Signer, make_draft: DraftFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async with DecisionLog.opened(db_url, signer=signer) as decision_log:
        await _log_of(decision_log, make_draft, 3)
        await decision_log.append([make_draft(delivery_id="ntf-0001.d3")])
        body = audit.Checkpoint.body(signer.origin, 4, bytes(32), "2025-01-01T00:00:00.000000Z", bytes(32))
        with decision_log.engine.begin() as connection:  # triggers intact: INSERT is the role's to make
            connection.execute(_INSERT_CHECKPOINT, {"size": 4, "origin": signer.origin, "note": body + "\n"})
        with caplog.at_level(logging.CRITICAL, logger="broker.db.log"):
            assert not decision_log.refresh_checkpoint()
        note = decision_log.checkpoint_note
        assert note is not None and audit.Checkpoint.open(note, signer.public_key).size == 3
        assert _tamper_records(caplog) and decision_log.integrity_alarm is not None
        with Session(decision_log.engine) as session:
            latest = audit.latest_checkpoint(session, signer.public_key)
        assert latest is not None and latest.size == 3
        await decision_log.append([make_draft(delivery_id="ntf-0001.d4")])
        decision_log.refresh_checkpoint()  # the next size is free: signed as usual
        note = decision_log.checkpoint_note
        assert note is not None and audit.Checkpoint.open(note, signer.public_key).size == 5
        assert not verification.verify(decision_log, Metrics(), anchor=decision_log.anchor)


async def test_a_garbage_row_at_a_vast_size_neither_stops_signing_nor_hides_the_latest(
    db_url: str, signer: audit.Signer, make_draft: DraftFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async with DecisionLog.opened(db_url, signer=signer) as decision_log:
        await _log_of(decision_log, make_draft, 3)
        with decision_log.engine.begin() as connection:
            connection.execute(_INSERT_CHECKPOINT, {"size": 2**62, "origin": signer.origin, "note": "garbage"})
        await decision_log.append([make_draft(delivery_id="ntf-0001.d3")])
        with caplog.at_level(logging.CRITICAL, logger="broker.db.log"):
            assert not decision_log.refresh_checkpoint(), "a row no broker key signed went unreported"
        note = decision_log.checkpoint_note
        assert note is not None and audit.Checkpoint.open(note, signer.public_key).size == 4
        with Session(decision_log.engine) as session:
            latest = audit.latest_checkpoint(session)
        assert latest is not None and latest.size == 4
        assert _tamper_records(caplog) and decision_log.integrity_alarm is not None


def test_a_row_the_broker_did_not_sign_is_neither_reused_nor_the_latest(
    engine: Engine, signer: audit.Signer, make_draft: DraftFactory, clock: Callable[[], datetime]
) -> None:
    with Session(engine) as session, session.begin():
        audit.append(session, [make_draft(delivery_id=f"ntf-0001.d{i}") for i in range(2)], clock=clock)
        audit.write_checkpoint(session, signer, clock=clock)
        audit.append(session, [make_draft(delivery_id="ntf-0001.d2")], clock=clock)
    body = audit.Checkpoint.body(signer.origin, 3, bytes(32), "2025-01-01T00:00:00.000000Z", bytes(32))
    with engine.begin() as connection:
        connection.execute(_INSERT_CHECKPOINT, {"size": 3, "origin": signer.origin, "note": body + "\n"})
    with Session(engine) as session:
        latest = audit.latest_checkpoint(session, signer.public_key)
        assert latest is not None and latest.size == 2
        found = audit.foreign_checkpoints(session, 0, signer.public_key)
        assert found[1] == [3]
    with Session(engine) as session, session.begin(), pytest.raises(audit.CheckpointInvalid, match="size 3"):
        audit.write_checkpoint(session, signer, clock=clock, keys=signer.public_key)


# --- 3. a cosignature row squatting a witness's place -------------------------------------------------------


def test_a_squatted_cosignature_is_an_alarm_never_the_callers_success(
    engine: Engine, signer: audit.Signer, make_draft: DraftFactory, clock: Callable[[], datetime]
) -> None:
    witness = witness_keys()[0]
    key = witness_private_keys()[witness.name]
    with Session(engine) as session, session.begin():
        audit.append(session, [make_draft(delivery_id=f"ntf-0001.d{i}") for i in range(2)], clock=clock)
        checkpoint = audit.write_checkpoint(session, signer, clock=clock)
    bogus = audit.Cosignature(witness.name, witness.key_id, 1, bytes(64)).line
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_checkpoint_cosignature (tree_size, witness_name, key_id, timestamp, line) "
                "VALUES (:size, :name, :key_id, 1, :line)"
            ),
            {"size": checkpoint.size, "name": witness.name, "key_id": witness.key_id.hex(), "line": bogus},
        )
    real = audit.cosign(checkpoint.note, witness.name, key, datetime.now(UTC))
    with Session(engine) as session, session.begin(), pytest.raises(audit.CosignatureForged) as forged:
        audit.store_cosignature(session, checkpoint.size, real, witness)
    assert (forged.value.witness, forged.value.tree_size) == (witness.name, checkpoint.size)
    # Not the caller's fault, so not the endpoint's 422 for a line that does not verify.
    assert not isinstance(forged.value, audit.CosignatureInvalid | audit.EntryNotFound)
    # A witness's own earlier line still answers a repeat: that is the caller's.
    other = witness_keys()[1]
    first = audit.cosign(checkpoint.note, other.name, witness_private_keys()[other.name], datetime.now(UTC))
    with Session(engine) as session, session.begin():
        assert audit.store_cosignature(session, checkpoint.size, first, other).line == first
        assert audit.store_cosignature(session, checkpoint.size, first, other).line == first


# --- 4. a verification stopped by a value the driver cannot read ---------------------------------------------


async def test_a_verification_that_cannot_read_a_tampered_column_records_a_failure(
    tmp_path: Path, signer: audit.Signer, make_draft: DraftFactory, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "log.db"
    async with DecisionLog.opened(f"sqlite:///{database}", signer=signer) as decision_log:
        await _log_of(decision_log, make_draft, 3)
        metrics = Metrics()
        assert verification.verify(decision_log, metrics, anchor=decision_log.anchor)
        connection = sqlite3.connect(database)
        connection.execute("DROP TRIGGER audit_entry_no_update")
        connection.execute("UPDATE audit_entry SET outcome = 'no_share' WHERE seq = 1")  # the rewrite
        connection.execute("UPDATE audit_entry SET sender_role = CAST(x'ff' AS TEXT) WHERE seq = 2")  # the jam
        connection.commit()
        connection.close()
        with caplog.at_level(logging.ERROR, logger="broker.db.verification"):
            assert not verification.verify(decision_log, metrics, anchor=decision_log.anchor)
        assert metrics.registry.get_sample_value("sgb_log_verification_ok") == 0
        assert any("OperationalError" in r.getMessage() for r in caplog.records), "what stopped it was not logged"


async def test_the_gauge_drops_the_moment_the_signer_finds_the_log_tampered_with(
    db_url: str, signer: audit.Signer, make_draft: DraftFactory
) -> None:
    """Not at the next full verification (hourly by default, or never with SGB_LOG_VERIFY_SECONDS=0)."""
    metrics = Metrics()
    metrics.record_verification(True)
    async with DecisionLog.opened(
        db_url, signer=signer, on_alarm=lambda: metrics.record_verification(False)
    ) as decision_log:
        await _log_of(decision_log, make_draft, 3)
        assert metrics.registry.get_sample_value("sgb_log_verification_ok") == 1
        _forge_head(decision_log.engine, {1: {"outcome": "no_share"}})
        await decision_log.append([make_draft(delivery_id="ntf-0001.d3")])
        assert not decision_log.refresh_checkpoint()
        assert metrics.registry.get_sample_value("sgb_log_verification_ok") == 0
