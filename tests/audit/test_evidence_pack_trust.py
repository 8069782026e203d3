"""What the gateway hands out is proven under checkpoints it vouches for, never rows an insider stored.

An evidence pack exported from the review UI is proven under the checkpoint the gateway signed itself.

Before, the export signed a fresh checkpoint over the chain-head row as it found it, so an insider who
had rewritten that row alone got the broker's signature on a forged history through an IG lead's
download, even once the gateway's own signing refused it (test_log_insider_fixes.py).
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlmodel import Session, col

import audit
from broker.db.log import DecisionLog
from broker.errors import LogUnavailable
from broker.partnership.registry import Registry
from broker.review.views import integrity
from broker.ui.audit_page import _pack
from tests.audit.conftest import DraftFactory
from tests.audit.test_log_insider_fixes import _INSERT_CHECKPOINT, _forge_head, _log_of, _stored_sizes


async def test_an_honest_log_is_exported_under_the_checkpoint_the_gateway_signed(
    db_url: str, signer: audit.Signer, make_draft: DraftFactory
) -> None:
    async with DecisionLog.opened(db_url, signer=signer) as decision_log:
        await _log_of(decision_log, make_draft, 4)
        await decision_log.append([make_draft(delivery_id="ntf-0001.d4")])
        lines = [json.loads(line) for line in _pack(decision_log, None, None)[0].splitlines()]
        (note,) = [line["note"] for line in lines if line["type"] == "checkpoint"]
        assert audit.Checkpoint.parse(note, verify_with=signer.public_key).size == 5  # the export signed it first
        assert note.startswith(decision_log.checkpoint_note or "-")


async def test_no_pack_is_signed_over_a_chain_head_row_rewritten_alone(
    db_url: str, signer: audit.Signer, make_draft: DraftFactory
) -> None:
    async with DecisionLog.opened(db_url, signer=signer) as decision_log:
        await _log_of(decision_log, make_draft, 5)
        _forge_head(decision_log.engine, {1: {"outcome": "no_share"}})
        await decision_log.append([make_draft(delivery_id="ntf-0001.d5")])  # appended on the forged head
        with pytest.raises(LogUnavailable, match="tampered"):
            _pack(decision_log, None, None)
        assert max(_stored_sizes(decision_log.engine)) == 5, "the export signed the forged tree"
        with pytest.raises(LogUnavailable):  # the alarm stands for the process's life
            _pack(decision_log, None, None)


async def test_a_decisions_badge_is_proven_under_the_brokers_checkpoint_not_an_inserted_row(
    db_url: str, signer: audit.Signer, make_draft: DraftFactory
) -> None:
    async with DecisionLog.opened(db_url, signer=signer) as decision_log:
        await _log_of(decision_log, make_draft, 3)
        await decision_log.append([make_draft(delivery_id="ntf-0001.d3")])
        body = audit.Checkpoint.body(signer.origin, 4, bytes(32), "2025-01-01T00:00:00.000000Z", bytes(32))
        with decision_log.engine.begin() as connection:  # an INSERT the application role may make
            connection.execute(_INSERT_CHECKPOINT, {"size": 4, "origin": signer.origin, "note": body + "\n"})
        with Session(decision_log.engine) as session:
            first = session.execute(select(audit.Entry).where(col(audit.Entry.seq) == 1)).scalar_one()
        badge = integrity(decision_log, first, Registry(partnership_id="test-partnership"))  # no witnesses
        assert badge["status"] == "verified", badge
        assert badge["checkpoint_size"] == 3
