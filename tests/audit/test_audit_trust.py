"""An outside tester's attacks, triggers dropped and every hash and checkpoint recomputed.

Each is either refused (no trust anchor) or reported against a witnessed checkpoint an agency
kept, naming the entry and the witnesses. The log is built through the real witness flow
(request, advance, cosign, store) in tests/audit/tampering.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from audit import (
    CheckpointInvalid,
    HistoryRewritten,
    LogStateError,
    LogTruncated,
    NoTrustAnchor,
    Signer,
    TrustPolicy,
    WitnessQuorumMissing,
    verify_log,
    verify_trusted,
)
from tests.audit.tampering import (
    SIZE,
    WitnessedLog,
    build_witnessed_log,
    drop_triggers,
    fork,
    resign_latest,
    rewrite_entries,
    truncate,
    witness_keys,
)

W1, W2 = (w.name for w in witness_keys())


@pytest.fixture
def witnessed(engine: Engine, signer: Signer, make_draft: Any, clock: Callable[[], datetime]) -> WitnessedLog:
    log = build_witnessed_log(engine, signer, make_draft, clock)
    drop_triggers(engine)
    return log


def _verify(engine: Engine, policy: TrustPolicy) -> Any:
    with Session(engine) as session:
        return verify_trusted(session, policy)


def _kept(log: WitnessedLog, *sizes: int, key: bool = False, minimum: int = 2) -> TrustPolicy:
    return TrustPolicy(
        public_key=log.signer.public_key if key else None,
        kept=tuple(log.kept[size] for size in sizes),
        witnesses=tuple(witness_keys()),
        min_witnesses=minimum,
    )


def test_untampered_log_extends_the_kept_witnessed_checkpoint(witnessed: WitnessedLog) -> None:
    report = _verify(witnessed.engine, _kept(witnessed, 5, key=True))
    assert report.size == SIZE and report.signatures_checked
    assert report.anchor is not None
    # Stored checkpoints cosigned by both witnesses are anchors too; the largest one matched is reported.
    assert (report.anchor.size, report.anchor.witnesses) == (SIZE, (W1, W2))


def test_no_anchor_no_verdict(witnessed: WitnessedLog) -> None:
    with pytest.raises(NoTrustAnchor):
        _verify(witnessed.engine, TrustPolicy())


def test_rewrite_with_recomputed_hashes_is_located_by_the_kept_checkpoint(witnessed: WitnessedLog) -> None:
    # Entry 4 flips share -> no_share; hashes, head recomputed; checkpoints 5..7 and their cosignatures gone.
    rewrite_entries(witnessed.engine, {4: {"outcome": "no_share"}}, keep_checkpoints_upto=4)
    with Session(witnessed.engine) as session:
        assert verify_log(session, witnessed.signer.public_key).size == SIZE  # agrees with itself
    with pytest.raises(HistoryRewritten) as caught:
        _verify(witnessed.engine, _kept(witnessed, 5, key=True))
    error = caught.value
    assert (error.seq, error.last, error.anchor_size, error.witnesses) == (4, 4, 5, (W1, W2))
    assert error.source == "kept checkpoint"


def test_a_later_kept_checkpoint_brackets_the_rewrite(witnessed: WitnessedLog) -> None:
    rewrite_entries(witnessed.engine, {4: {"outcome": "no_share"}}, keep_checkpoints_upto=4)
    with pytest.raises(HistoryRewritten) as caught:
        _verify(witnessed.engine, _kept(witnessed, 7))
    # Witnessed checkpoints 1..4 still match, so the rewrite lies in 4..6.
    assert (caught.value.seq, caught.value.last, caught.value.anchor_size) == (4, 6, 7)


def test_without_a_kept_checkpoint_a_rewrite_hidden_by_deletion_goes_unseen(witnessed: WitnessedLog) -> None:
    """The documented limit: only a copy held elsewhere proves the deleted checkpoints existed."""
    rewrite_entries(witnessed.engine, {4: {"outcome": "no_share"}}, keep_checkpoints_upto=4)
    report = _verify(witnessed.engine, TrustPolicy(witnessed.signer.public_key, (), tuple(witness_keys()), 2))
    assert report.anchor is not None and report.anchor.size == 4 < report.size


def test_checkpoints_replaced_under_another_key(witnessed: WitnessedLog, other_signer: Signer, clock: Any) -> None:
    rewrite_entries(witnessed.engine, {4: {"outcome": "no_share"}}, keep_checkpoints_upto=4)
    resign_latest(witnessed.engine, other_signer, clock)
    with pytest.raises(NoTrustAnchor):
        _verify(witnessed.engine, TrustPolicy())
    with pytest.raises(CheckpointInvalid) as signed:
        _verify(witnessed.engine, TrustPolicy(public_key=witnessed.signer.public_key))
    assert signed.value.tree_size == SIZE
    with pytest.raises(HistoryRewritten) as caught:
        _verify(witnessed.engine, _kept(witnessed, 5))
    assert (caught.value.seq, caught.value.witnesses) == (4, (W1, W2))


def test_even_the_broker_key_cannot_hide_a_rewrite_from_the_kept_checkpoint(
    witnessed: WitnessedLog, clock: Any
) -> None:
    rewrite_entries(witnessed.engine, {4: {"outcome": "no_share"}}, keep_checkpoints_upto=4)
    resign_latest(witnessed.engine, witnessed.signer, clock)  # an insider holding the broker key
    with pytest.raises(HistoryRewritten) as caught:
        _verify(witnessed.engine, _kept(witnessed, 5, key=True))
    assert (caught.value.seq, caught.value.last) == (4, 4)


def test_truncation_below_the_kept_size_names_the_first_missing_entry(witnessed: WitnessedLog) -> None:
    truncate(witnessed.engine, 5)
    with Session(witnessed.engine) as session:
        assert verify_log(session, witnessed.signer.public_key).size == 5
    with pytest.raises(LogTruncated) as caught:
        _verify(witnessed.engine, _kept(witnessed, 7, key=True))
    assert (caught.value.seq, caught.value.anchor_size, caught.value.witnesses) == (5, 7, (W1, W2))


def test_a_fork_after_the_kept_checkpoint_is_reported(witnessed: WitnessedLog, make_draft: Any, clock: Any) -> None:
    others = [make_draft(delivery_id=f"ntf-0001.fork{i}", outcome="no_share") for i in range(3)]
    fork(witnessed.engine, 5, others, clock)
    with pytest.raises(HistoryRewritten) as caught:
        _verify(witnessed.engine, _kept(witnessed, 7))
    assert (caught.value.seq, caught.value.last, caught.value.anchor_size) == (5, 6, 7)


def test_a_whole_new_history_is_reported_from_entry_zero(witnessed: WitnessedLog, make_draft: Any, clock: Any) -> None:
    fork(witnessed.engine, 0, [make_draft(delivery_id=f"ntf-9.d{i}") for i in range(SIZE)], clock)
    with pytest.raises(HistoryRewritten) as caught:
        _verify(witnessed.engine, _kept(witnessed, 3))
    assert (caught.value.seq, caught.value.last) == (0, 2)


def test_kept_checkpoint_must_carry_the_witness_quorum(witnessed: WitnessedLog) -> None:
    bare = witnessed.kept[5].split("\n\n")[0] + "\n\n" + witnessed.kept[5].split("\n\n")[1].split("\n")[0] + "\n"
    with Session(witnessed.engine) as session, session.begin():
        session.execute(text("DELETE FROM audit_checkpoint_cosignature WHERE tree_size = 5"))
    policy = TrustPolicy(kept=(bare,), witnesses=tuple(witness_keys()), min_witnesses=1)
    with pytest.raises(WitnessQuorumMissing) as caught:
        _verify(witnessed.engine, policy)
    assert (caught.value.tree_size, caught.value.found, caught.value.required) == (5, (), 1)


def test_kept_checkpoint_cosignatures_stored_in_the_log_count(witnessed: WitnessedLog) -> None:
    bare = witnessed.kept[5].split("\n\n")[0] + "\n\n" + witnessed.kept[5].split("\n\n")[1].split("\n")[0] + "\n"
    policy = TrustPolicy(kept=(bare,), witnesses=tuple(witness_keys()), min_witnesses=2)
    assert _verify(witnessed.engine, policy).size == SIZE


def test_kept_checkpoint_signed_by_another_key_is_refused(witnessed: WitnessedLog, other_signer: Signer) -> None:
    policy = TrustPolicy(public_key=other_signer.public_key, kept=(witnessed.kept[5],))
    with pytest.raises(CheckpointInvalid, match="kept checkpoint"):
        _verify(witnessed.engine, policy)


def test_witnesses_alone_anchor_the_stored_checkpoints(witnessed: WitnessedLog) -> None:
    report = _verify(witnessed.engine, TrustPolicy(witnesses=tuple(witness_keys()), min_witnesses=2))
    assert report.anchor is not None and report.anchor.source == "witnessed checkpoint"
    assert not report.signatures_checked


@pytest.mark.parametrize("table", ["audit_entry", "audit_checkpoint_cosignature"])
def test_a_dropped_table_is_a_clear_verdict(witnessed: WitnessedLog, table: str) -> None:
    with witnessed.engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {table}"))
    with pytest.raises(LogStateError, match=table):
        _verify(witnessed.engine, _kept(witnessed, 7, key=True))


def test_policy_refuses_an_impossible_quorum() -> None:
    from audit import AuditError

    with pytest.raises(AuditError, match="cannot require 3 of 2"):
        TrustPolicy(witnesses=tuple(witness_keys()), min_witnesses=3)


def test_garbage_planted_among_stored_cosignatures_is_skipped(witnessed: WitnessedLog) -> None:
    with witnessed.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_checkpoint_cosignature (tree_size, witness_name, key_id, timestamp, line) "
                "VALUES (5, :name, '00000000', 0, :line)"
            ),
            {"name": W1, "line": f"\u2014 {W1} not-base64\n"},
        )
    assert _verify(witnessed.engine, _kept(witnessed, 5)).size == SIZE
