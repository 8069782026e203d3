"""What must hold after the faults: decisions logged, deliveries exactly once, no leaks, log verifies."""

from __future__ import annotations

import sqlite3
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

import audit
from broker.db.tables import OutboxRow
from faults.harness import SHARE_OUTCOMES, Site
from faults.load import Load, unclear


@dataclass
class Report:
    counts: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def problem(self, text: str) -> None:
        if len(self.problems) < 50:
            self.problems.append(text)


def expected_deliveries(load: Load) -> dict[str, set[tuple[str, str]]]:
    """agency -> {(notification_id, delivery_id)} that policy allowed to be shared."""
    want: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for sent in load.sent:
        for r in (sent.receipt or {}).get("recipients", []):
            if sent.state == "accepted" and r["outcome"] in SHARE_OUTCOMES:
                want[r["agency_id"]].add((sent.notification_id, r["delivery_id"]))
    return want


def sink_rows(site: Site, agency: str) -> list[tuple[str, str]]:
    path = site.sink_path(agency)
    if not path.exists():
        return []
    with sqlite3.connect(path) as conn:
        try:
            return [(n, d) for d, n in conn.execute("SELECT delivery_id, notification_id FROM inbox")]
        except sqlite3.OperationalError:
            return []


def wait_delivered(site: Site, load: Load, timeout: float) -> bool:
    want = expected_deliveries(load)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(rows <= set(sink_rows(site, agency)) for agency, rows in want.items()):
            return True
        time.sleep(0.5)
    return False


def verify(site: Site, load: Load, *, receipts_recorded: bool) -> Report:
    report = Report(counts=load.counts())
    for sent in load.sent:
        if sent.state == "pending":
            report.problem(f"{sent.notification_id} never got an answer after {len(sent.attempts)} attempts")
        for attempt in sent.attempts:
            if (why := unclear(attempt)) is not None:
                report.problem(f"{sent.notification_id}: {why}")
    entries, unpublished, outbox_ids, log = _read_log(site)
    report.counts["log_entries_verified"] = log.size
    report.counts["signed_checkpoints"] = log.checkpoints
    if unpublished:
        report.problem(f"{unpublished} outbox rows were never published")
    decided: dict[str, list[audit.Entry]] = defaultdict(list)
    delivered = Counter[str]()
    for entry in entries:
        if entry.kind == audit.EventKind.DECIDED:
            decided[entry.notification_id].append(entry)
        elif entry.kind == audit.EventKind.DELIVERED:
            delivered[entry.delivery_id] += 1
    _check_decisions(report, load, decided, outbox_ids)
    _check_sinks(report, site, load, delivered if receipts_recorded else None)
    report.counts["decisions_logged"] = sum(len(v) for v in decided.values())
    return report


def _read_log(site: Site) -> tuple[list[audit.Entry], int, set[str], audit.LogReport]:
    """The entries, unpublished outbox rows and outbox notification ids; the chain verified."""
    # One snapshot (REPEATABLE READ on PostgreSQL): the workers still append (checkpoints, receipts)
    # while this reads, and the entries and the chain head must be read as of one moment.
    engine = audit.create_engine_for(site.database_url, read_only=True)
    try:
        with Session(engine) as session:
            entries = list(session.exec(select(audit.Entry)))
            unpublished = session.exec(
                select(func.count()).select_from(OutboxRow).where(col(OutboxRow.published_at).is_(None))
            ).one()
            outbox_ids = set(session.exec(select(OutboxRow.notification_id)))
            log = audit.verify_log(session)
    finally:
        engine.dispose()
    return entries, int(unpublished), outbox_ids, log


def _check_decisions(report: Report, load: Load, decided: dict[str, list[audit.Entry]], outbox_ids: set[str]) -> None:
    """Every accepted notification's decisions are logged as answered; a failed one left nothing."""
    sent_by_id = {s.notification_id: s for s in load.sent}
    for notification_id in set(decided) - set(sent_by_id):
        report.problem(f"log holds decisions for {notification_id}, which the load never sent")
    for sent in load.sent:
        logged = sorted((e.recipient_agency, e.delivery_id) for e in decided.get(sent.notification_id, []))
        if sent.state == "accepted":
            answered = sorted((r["agency_id"], r["delivery_id"]) for r in sent.receipt["recipients"])  # type: ignore[index]
            if logged != answered:
                report.problem(f"{sent.notification_id}: log {logged} != receipt {answered}")
        elif logged or sent.notification_id in outbox_ids:
            report.problem(
                f"{sent.notification_id} failed ({sent.attempts[-1].status}) but left {len(logged)} log entries behind"
            )


def _check_sinks(report: Report, site: Site, load: Load, delivered: Counter[str] | None) -> None:
    """Each allowed delivery is in its agency's sink once, nothing else is; with `delivered` (receipts
    per delivery id), each was logged as delivered once."""
    want = expected_deliveries(load)
    no_share: dict[str, set[str]] = defaultdict(set)
    for sent in load.sent:
        for r in (sent.receipt or {}).get("recipients", []):
            if r["outcome"] not in SHARE_OUTCOMES:
                no_share[r["agency_id"]].add(sent.notification_id)
    handed_over = 0
    for spec in site.agencies:
        agency = spec.agency_id
        rows = sink_rows(site, agency)
        handed_over += len(rows)
        per_notification = Counter(n for n, _ in rows)
        for notification_id, times in per_notification.items():
            if times != 1:
                report.problem(f"{agency} received {notification_id} {times} times")
        got = set(rows)
        for missing in sorted(want.get(agency, set()) - got):
            report.problem(f"{agency} never received {missing}")
        for stray in sorted(got - want.get(agency, set())):
            report.problem(f"{agency} received {stray}, which it was not allowed")
        for leaked in no_share.get(agency, set()) & set(per_notification):
            report.problem(f"no-share recipient {agency} received {leaked}")
        for _, delivery_id in want.get(agency, set()):
            if delivered is not None and delivered[delivery_id] != 1:
                report.problem(f"{agency} delivery {delivery_id} has {delivered[delivery_id]} receipts logged")
    report.counts["deliveries_expected"] = sum(len(v) for v in want.values())
    report.counts["deliveries_in_sinks"] = handed_over
    report.counts["no_share_or_held_recipients"] = sum(len(v) for v in no_share.values())
