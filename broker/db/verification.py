"""Re-verify the whole decision log on a timer, so a broken chain or signature raises an alert
(`sgb_log_verification_ok`) instead of waiting for someone to open the audit page; and read, in the
same round, how far each agency has witnessed it (`sgb_witness_cosigned_tree_size`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable

from sqlmodel import Session

import audit
from broker.db.log import DecisionLog
from broker.db.witnessing import witnessing
from broker.metrics import Metrics
from broker.partnership.registry import Registry

log = logging.getLogger("broker.db.verification")


def verify(decision_log: DecisionLog, metrics: Metrics, *, anchor: audit.Checkpoint | None = None) -> bool:
    """Verify every entry, checkpoint signature and the chain head; record and return the verdict.

    `anchor`: a checkpoint held outside the database (`DecisionLog.anchor`: in memory, and with
    SGB_ANCHOR_FILE across restarts, `broker.db.anchor`) that the log must still extend. Without
    one, an insider who cut or rewrote entries and deleted the later checkpoints leaves a log that
    agrees with itself and passes.

    Anything that stops the verification is a failure too (recorded, and logged as what it was): a
    stored value the driver cannot even read (a column made invalid UTF-8) fails in SQLAlchemy, not
    here, and must not leave the last pass standing. So is the signer's alarm
    (`DecisionLog.integrity_alarm`): it saw what the database may no longer show.
    """
    anchors = () if anchor is None else (audit.Anchor(anchor, "checkpoint this gateway signed"),)
    try:
        with Session(decision_log.reader) as session:
            # Every key of the broker's signing history: a checkpoint signed before a rotation is
            # still the broker's, and only a key it never held is a failure.
            report = audit.verify_log(session, decision_log.verify_keys, anchors=anchors)
    except audit.AuditError as exc:
        # The kind of failure only: its message may quote a stored value.
        log.error("decision log verification failed: %s", type(exc).__name__)
        metrics.record_verification(False)
        return False
    except Exception as exc:  # the database is down, say, or a stored value cannot be read
        log.error(
            "decision log verification could not finish (%s): counted as failed", type(exc).__name__, exc_info=True
        )
        metrics.record_verification(False)
        return False
    alarm = decision_log.integrity_alarm
    if alarm is not None:
        log.critical("decision log verification failed: the gateway found the log tampered with (%s)", alarm)
        metrics.record_verification(False)
        return False
    log.info("decision log verified", extra={"count": report.size})
    metrics.record_verification(True)
    return True


def record_witnesses(decision_log: DecisionLog, metrics: Metrics, registry: Registry) -> None:
    """Set the witness gauges from the stored cosignatures, each checked again (blocking)."""
    try:
        found = witnessing(decision_log, registry)
    except Exception as exc:  # the database is down, say: the gauges keep their last values
        log.warning("could not read the witnesses' cosignatures (%s)", type(exc).__name__, exc_info=True)
        return
    metrics.checkpoint_size.set(-1 if found.newest is None else found.newest.size)
    metrics.witnessed_size.clear()  # an agency the registry no longer lists leaves no stale series
    metrics.witness_forged.clear()
    for row in found.rows:
        metrics.witnessed_size.labels(agency=row.agency_id).set(-1 if row.size is None else row.size)
        metrics.witness_forged.labels(agency=row.agency_id).set(1 if row.forged else 0)
        if row.forged:
            log.critical("a stored cosignature of %s does not verify: written past the gateway", row.agency_id)


async def keep_verifying(
    decision_log: DecisionLog,
    metrics: Metrics,
    stop: asyncio.Event,
    *,
    every: float,
    registry: Callable[[], Registry] | None = None,
) -> None:
    """Verify at once, then every `every` seconds until `stop` (O(n) each time: keep `every` long);
    with `registry` (the one in force), read the witnesses' progress in the same round.

    A round that cannot run records a failure (`verify`): decisions never wait on it, and the next
    round tries again.
    """
    while not stop.is_set():
        await asyncio.to_thread(functools.partial(verify, decision_log, metrics, anchor=decision_log.anchor))
        if registry is not None:
            await asyncio.to_thread(record_witnesses, decision_log, metrics, registry())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
