"""Exactly-once across several gateways and workers: the figures the issue asks for.

On top of `faults.checks.verify` (answers, decisions, sinks, receipts, the chain verifies), this
counts per delivery id the `published` log entries (exactly one), the records in the agencies' Kafka
inboxes (at least one: a relay killed between Kafka's ack and its commit publishes the same bytes
again, which consumers drop by delivery id, so repeats are counted but are not duplicates), and per
delivery the `overdue` entries against the clocks marked overdue (one each). It also checks that the
"twins" (one request sent to two gateways at once under one key) got one decision.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlmodel import Session, col, select

import audit
from broker.db.tables import ObligationClock
from faults.checks import Report, expected_deliveries, sink_rows
from faults.harness import Site
from faults.load import Load, unclear
from schemas.topics import inbox_topic

# How the problems of the known clock race begin (broker/delivery/clocks.py `mark_overdue` reads the
# late clocks without a row lock, so two schedulers ticking at once both mark and log each one).
OVERDUE_TWICE = "overdue logged twice"


def kafka_records(site: Site) -> tuple[Counter[str], list[str]]:
    """How many records each delivery id (CloudEvents `ce_id`) has in this site's inbox topics, and
    the partitions that could not be read to their end."""
    return asyncio.run(_read_inboxes(site))


async def _read_inboxes(site: Site) -> tuple[Counter[str], list[str]]:
    topics = [inbox_topic(a.agency_id, namespace=site.namespace) for a in site.agencies]
    partitions = [TopicPartition(t, p) for t in topics for p in range(site.kafka.topics.partitions)]
    consumer = AIOKafkaConsumer(group_id=None, enable_auto_commit=False, **site.kafka.admin)
    await consumer.start()
    try:
        consumer.assign(partitions)
        start = await consumer.beginning_offsets(partitions)
        end = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    found = Counter[str]()
    at = {tp: start[tp] for tp in partitions if end[tp] > start[tp]}
    # A fresh consumer for each pass: one run read nothing for 90 s from the busy shared broker,
    # so a pass that stalls gives way to another that carries on where it stopped.
    for _ in range(4):
        if not at:
            break
        await _read_pass(site, at, end, found)
    return found, [f"{tp.topic}[{tp.partition}]: {end[tp] - n} records not read" for tp, n in at.items()]


async def _read_pass(
    site: Site, at: dict[TopicPartition, int], end: dict[TopicPartition, int], found: Counter[str]
) -> None:
    """Read each partition in `at` from its offset there towards `end`, for up to 30 s; `at` keeps
    the next offset of each partition not yet read to its end."""
    consumer = AIOKafkaConsumer(group_id=None, enable_auto_commit=False, **site.kafka.admin)
    await consumer.start()
    try:
        consumer.assign(list(at))
        for tp, offset in at.items():
            consumer.seek(tp, offset)
        deadline = time.monotonic() + 30
        while at and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=1000, max_records=500)
            for tp, records in batch.items():
                for record in records:
                    headers = dict(record.headers or ())
                    found[headers.get("ce_id", b"?").decode()] += 1
                if tp in at and records:
                    at[tp] = records[-1].offset + 1
                    if at[tp] >= end[tp]:
                        del at[tp]
    finally:
        await consumer.stop()


def _log_tallies(site: Site) -> tuple[dict[str, Counter[str]], Counter[str]]:
    """Log entries per kind and delivery id, and clocks marked overdue per delivery id."""
    engine = audit.create_engine_for(site.database_url)
    try:
        with Session(engine) as session:
            rows = session.exec(select(audit.Entry.kind, audit.Entry.delivery_id))
            kinds: dict[str, Counter[str]] = {}
            for kind, delivery_id in rows:
                kinds.setdefault(str(kind), Counter())[str(delivery_id)] += 1
            marked = Counter(
                str(d)
                for d in session.exec(
                    select(ObligationClock.delivery_id).where(col(ObligationClock.overdue_at).is_not(None))
                )
            )
    finally:
        engine.dispose()
    return kinds, marked


def wait_overdue(site: Site, aged: list[int], timeout: float) -> None:
    """Wait until every clock made due is marked overdue (or was stopped by an answer meanwhile)."""
    engine = audit.create_engine_for(site.database_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with Session(engine) as session:
                waiting = session.exec(
                    select(ObligationClock.id).where(
                        col(ObligationClock.id).in_(aged),
                        col(ObligationClock.overdue_at).is_(None),
                        col(ObligationClock.stopped_at).is_(None),
                    )
                ).all()
            if not waiting:
                return
            time.sleep(0.5)
    finally:
        engine.dispose()


def check_exactly_once(site: Site, load: Load, report: Report, aged: list[int]) -> None:
    """Add the exactly-once problems and figures to `report`."""
    kinds, marked = _log_tallies(site)
    published = kinds.get(audit.EventKind.PUBLISHED.value, Counter())
    delivered = kinds.get(audit.EventKind.DELIVERED.value, Counter())
    overdue = kinds.get(audit.EventKind.OVERDUE.value, Counter())
    records, unread = kafka_records(site)
    for partition in unread:
        report.problem(f"Kafka inbox {partition}")
    want = {d for rows in expected_deliveries(load).values() for _, d in rows}
    sinks = Counter(d for spec in site.agencies for _, d in sink_rows(site, spec.agency_id))
    duplicates = Counter[str]()
    for delivery_id in sorted(want):
        if published[delivery_id] != 1:
            report.problem(f"delivery {delivery_id} has {published[delivery_id]} `published` entries")
        if records[delivery_id] == 0:
            report.problem(f"delivery {delivery_id} is in no Kafka inbox")
    for name, tally in (("published", published), ("delivered", delivered), ("sink", sinks)):
        duplicates[name] = sum(n - 1 for n in tally.values() if n > 1)
    for delivery_id in set(overdue) | set(marked):
        logged, clocks = overdue[delivery_id], marked[delivery_id]
        if logged != clocks:
            report.problem(f"{OVERDUE_TWICE}: delivery {delivery_id} has {logged} entries for {clocks} clocks")
            duplicates["overdue"] += max(0, logged - clocks)
    _check_twins(load, report)
    lost = len(want - set(sinks))
    for name, count in duplicates.items():
        if count and name != "overdue":  # each overdue one is reported with its delivery above
            report.problem(f"{count} duplicate {name} entries")
    report.counts.update(_figures(load, want, sinks, records, duplicates, lost))
    report.counts.update(
        published_entries=sum(published.values()),
        receipts_logged=sum(delivered.values()),
        clocks_made_due=len(aged),
        clocks_marked_overdue=sum(marked.values()),
        overdue_entries=sum(overdue.values()),
    )


def _figures(
    load: Load, want: set[str], sinks: Counter[str], records: Counter[str], duplicates: Counter[str], lost: int
) -> dict[str, Any]:
    return {
        "posted": len(load.sent),
        "delivered_once": sum(sinks[d] == 1 for d in want),
        "duplicates": sum(duplicates.values()),
        "duplicates_by_kind": dict(duplicates),
        "lost": lost,
        "kafka_records": sum(records[d] for d in want),
        # Not duplicates: the same sealed bytes again after a relay died before marking its batch.
        "kafka_repeats": sum(max(0, records[d] - 1) for d in want),
    }


def _check_twins(load: Load, report: Report) -> None:
    """A request sent to two gateways at once: one decision, and both answers name its deliveries."""
    for sent in load.sent:
        for attempt in sent.twin:
            if (why := unclear(attempt)) is not None:
                report.problem(f"twin of {sent.notification_id}: {why}")
            if attempt.status not in (200, 202) or sent.receipt is None:
                continue
            mine = sorted(r["delivery_id"] for r in sent.receipt["recipients"])
            theirs = sorted(r["delivery_id"] for r in attempt.body["recipients"])
            if mine != theirs:
                report.problem(f"twin of {sent.notification_id} answered other deliveries: {theirs} != {mine}")
