"""Checking the log's new entries between signatures, so a signature waits on few (`DecisionLog.carry_ahead`).

A signer holds the chain-head row to the entries appended since the state it vouches for, each
recomputed from its stored columns. Done only at each signature, ten seconds of entries were checked
at once and every request in that window waited behind them (issue #17). Carried ahead in between,
the signature checks only what came since, and an entry that fails in between is reported at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import text
from sqlmodel import Session

import audit
import audit.trusted
import audit.verify
from broker.db.log import DecisionLog
from tests.audit.conftest import DraftFactory
from tests.audit.rounds import failed_rounds
from tests.audit.tampering import drop_triggers, recompute_hashes

Replay = Callable[[Session, audit.HeadState, int], audit.HeadState]


@pytest.fixture
def replayed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, int, int]]]:
    """Each replay a signing round made, the real one watched: ("free", from, to) without the chain-head
    lock, ("locked", from, to) under it (`audit.sign_trusted`)."""
    spans: list[tuple[str, int, int]] = []

    def watching(where: str, real: Replay) -> Replay:
        def watched(session: Session, state: audit.HeadState, size: int) -> audit.HeadState:
            spans.append((where, state.size, size))
            return real(session, state, size)

        return watched

    monkeypatch.setattr(audit, "replay_entries", watching("free", audit.replay_entries))
    monkeypatch.setattr(audit.trusted, "replay_entries", watching("locked", audit.verify.replay_entries))
    yield spans


async def _append(decision_log: DecisionLog, make_draft: DraftFactory, start: int, count: int) -> None:
    for i in range(start, start + count):
        await decision_log.append([make_draft(delivery_id=f"ntf-0001.d{i}", outcome="share")])


async def test_a_signature_replays_only_what_came_after_the_last_carry(
    sqlite_url: str, signer: audit.Signer, make_draft: DraftFactory, replayed: list[tuple[str, int, int]]
) -> None:
    async with DecisionLog.opened(sqlite_url, signer=signer) as decision_log:
        await _append(decision_log, make_draft, 0, 6)
        assert decision_log.carry_ahead()
        await _append(decision_log, make_draft, 6, 2)
        replayed.clear()
        assert decision_log.refresh_checkpoint()
        assert replayed == [("free", 6, 8), ("locked", 8, 8)], "the carried entries were checked again"
        checkpoint = audit.Checkpoint.open(decision_log.checkpoint_note or "", signer.public_key)
        assert checkpoint.size == 8
        with Session(decision_log.engine) as session:
            report = audit.verify_log(
                session, signer.public_key, anchors=[audit.verify.Anchor(checkpoint, "kept checkpoint")]
            )
        assert report.size == 8 and report.anchor is not None


async def test_without_a_carry_the_signature_replays_everything_since_the_last(
    sqlite_url: str, signer: audit.Signer, make_draft: DraftFactory, replayed: list[tuple[str, int, int]]
) -> None:
    """The comparison the test above needs: the carry, not something else, is what shortened the replay."""
    async with DecisionLog.opened(sqlite_url, signer=signer) as decision_log:
        await _append(decision_log, make_draft, 0, 8)
        replayed.clear()
        assert decision_log.refresh_checkpoint()
        assert replayed == [("free", 0, 8), ("locked", 8, 8)]
        assert decision_log.integrity_alarm is None


async def test_an_entry_that_fails_the_carry_is_reported_at_once_not_at_the_next_signature(
    sqlite_url: str, signer: audit.Signer, make_draft: DraftFactory
) -> None:
    async with DecisionLog.opened(sqlite_url, signer=signer) as decision_log:
        await _append(decision_log, make_draft, 0, 3)
        assert decision_log.refresh_checkpoint()
        await _append(decision_log, make_draft, 3, 3)
        _rewrite(decision_log, 4, hashes_made_to_match=False)
        failed = await failed_rounds(decision_log, every=3600, carry_every=0.02)
        assert failed, "a carried entry that did not check out waited for the hourly signature"
        assert decision_log.integrity_alarm is not None


async def test_an_entry_rewritten_after_it_was_carried_is_not_signed(
    sqlite_url: str, signer: audit.Signer, make_draft: DraftFactory
) -> None:
    """The insider rewrites a carried entry with every hash and the chain-head row made to match."""
    async with DecisionLog.opened(sqlite_url, signer=signer) as decision_log:
        await _append(decision_log, make_draft, 0, 4)
        assert decision_log.carry_ahead()
        _rewrite(decision_log, 2, hashes_made_to_match=True)
        assert not decision_log.refresh_checkpoint()
        assert decision_log.integrity_alarm is not None


async def test_rounds_carry_between_signatures_and_still_sign(
    sqlite_url: str, signer: audit.Signer, make_draft: DraftFactory, replayed: list[tuple[str, int, int]]
) -> None:
    async with DecisionLog.opened(sqlite_url, signer=signer) as decision_log:
        stop = asyncio.Event()
        rounds = asyncio.create_task(decision_log.keep_checkpoints(stop, every=0.2, carry_every=0.02))
        await _append(decision_log, make_draft, 0, 5)
        for _ in range(250):
            note = decision_log.checkpoint_note
            if note and audit.Checkpoint.open(note, signer.public_key).size == 5:
                break
            await asyncio.sleep(0.02)
        stop.set()
        await rounds
        note = decision_log.checkpoint_note
        assert note is not None and audit.Checkpoint.open(note, signer.public_key).size == 5
        carries = [span for span in replayed if span[0] == "free"]
        signatures = [span for span in replayed if span[0] == "locked"]
        assert len(carries) > len(signatures), f"no carry between the signatures: {replayed}"
        assert all(start == 5 for _, start, end in signatures if end == 5), f"signatures replayed {signatures}"


def _rewrite(decision_log: DecisionLog, seq: int, *, hashes_made_to_match: bool) -> None:
    """An insider changes entry `seq`'s outcome past the append-only triggers, and perhaps its hashes."""
    drop_triggers(decision_log.engine)
    with Session(decision_log.engine) as session, session.begin():
        session.execute(text("UPDATE audit_entry SET outcome = 'no_share' WHERE seq = :seq"), {"seq": seq})
        if hashes_made_to_match:
            recompute_hashes(session)
