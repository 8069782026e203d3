"""How far each agency has witnessed the decision log: for the audit page and for operators' gauges.

Each agency's consumer cosigns the newest checkpoint its records carry (`consumers.witness`), and the
gateway keeps a cosignature only once it verifies under the agency's registered witness key. The rows
can still be written by anyone who can write the database, so what is read here is checked again: a
cosignature counts only if it verifies now, over a checkpoint the broker signed, and an agency with
a stored one that does not is marked, since only someone other than the gateway could have put it there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

import audit
from broker.db.log import DecisionLog
from broker.partnership.registry import Registry


@dataclass(frozen=True)
class WitnessRow:
    """One agency with a witness key: the newest checkpoint it cosigned (None: none that verifies)."""

    agency_id: str
    size: int | None
    at: datetime | None
    forged: bool


@dataclass(frozen=True)
class Witnessing:
    newest: audit.Checkpoint | None
    rows: list[WitnessRow]


def witnessing(decision_log: DecisionLog, registry: Registry) -> Witnessing:
    """The newest checkpoint the broker signed, and each registered witness's newest that verifies, the
    agencies in the order their names sort (blocking)."""
    keys = {agency_id: [k.witness() for k in a.witness_keys] for agency_id, a in registry.agencies.items()}
    with Session(decision_log.reader) as db:
        newest = audit.latest_checkpoint(db, decision_log.verify_keys)
        marks = audit.witness_marks(db, [k for own in keys.values() for k in own], decision_log.verify_keys)
    rows = []
    for agency_id in sorted((a for a, own in keys.items() if own), key=lambda a: registry.agencies[a].name):
        own = [m for m in marks if m.name == agency_id]
        best = max((m for m in own if m.verified), key=lambda m: m.size, default=None)
        at = None if best is None else datetime.fromtimestamp(best.timestamp, UTC)
        rows.append(WitnessRow(agency_id, None if best is None else best.size, at, any(not m.verified for m in own)))
    return Witnessing(newest, rows)
