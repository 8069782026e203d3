"""The gateway's own re-verification of the log (`broker.db.verification`) against an insider.

An insider with the database (not the broker's key) who cuts or rewrites history and deletes the
checkpoints that would betray it leaves a log that agrees with itself. The gateway that signed those
checkpoints still knows the largest one: its periodic verification must hold the log to it.
"""

from __future__ import annotations

from audit import Signer
from broker.db import verification
from broker.db.log import DecisionLog
from broker.metrics import Metrics
from tests.audit.conftest import DraftFactory
from tests.audit.tampering import drop_triggers, rewrite_entries, truncate


async def _log_of_three(decision_log: DecisionLog, make_draft: DraftFactory) -> None:
    for i in range(3):
        await decision_log.append([make_draft(delivery_id=f"ntf-0001.d{i}")])
    decision_log.refresh_checkpoint()


async def test_a_log_truncated_under_the_gateway_fails_its_verification(
    sqlite_url: str, signer: Signer, make_draft: DraftFactory
) -> None:
    async with DecisionLog.opened(sqlite_url, signer=signer) as decision_log:
        await _log_of_three(decision_log, make_draft)
        metrics = Metrics()
        assert verification.verify(decision_log, metrics, anchor=decision_log.anchor)
        drop_triggers(decision_log.engine)
        truncate(decision_log.engine, keep=1)  # every later checkpoint deleted, head rewound
        decision_log.refresh_checkpoint()  # the gateway signs the shorter log, as it would
        assert not verification.verify(decision_log, metrics, anchor=decision_log.anchor), (
            "a log cut below the checkpoint this gateway signed verified"
        )


async def test_a_log_rewritten_under_the_gateway_fails_its_verification(
    sqlite_url: str, signer: Signer, make_draft: DraftFactory
) -> None:
    async with DecisionLog.opened(sqlite_url, signer=signer) as decision_log:
        await _log_of_three(decision_log, make_draft)
        drop_triggers(decision_log.engine)
        rewrite_entries(decision_log.engine, {1: {"outcome": "no_share"}}, keep_checkpoints_upto=0)
        assert not verification.verify(decision_log, Metrics(), anchor=decision_log.anchor), (
            "a log rewritten below the checkpoint this gateway signed verified"
        )
