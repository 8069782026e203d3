"""A withdrawn delivery read again (a lost ledger, a topic re-read from the start) gets no `delivered` receipt.

Every sink keeps a tombstone and refuses to take the delivery back; it now says so (`DeliveryWithdrawn`)
instead of answering as for a harmless redelivery, which the consumer confirmed with a `delivered`
receipt: a false statement to the broker's record that the agency held it. The consumer test runs on
the real broker as the agency's own principal; the webhook's case system is a real loopback aiohttp
server that keeps the tombstones it is sent.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from broker.partnership.keys import BrokerKeys, load_agency_keys
from consumers.errors import DeliveryWithdrawn, SinkError
from consumers.ledger import Ledger
from consumers.logs import ConsumerJsonFormatter
from consumers.settings import ConsumerSettings
from consumers.sinks import DirectorySink, SqliteInboxSink
from consumers.webhook import WebhookSink
from schemas.topics import consumer_group
from tests.consumers.conftest import TopicTail, fictional_payload, seal_for
from tests.consumers.test_runner import _consumer, _inbox, _receipts, _run_until, _sink
from tests.consumers.test_runner_review_fixes import _notice, _publish
from tests.consumers.test_sink_review_fixes import _serve
from tests.consumers.test_sinks import _delivery
from tests.consumers.test_sinks import _notice as _sink_notice


async def _reset_to_earliest(admin_config: dict[str, Any], settings: ConsumerSettings) -> None:
    """What an operator's `kafka-consumer-groups --reset-offsets --to-earliest` does to the agency's group."""
    topic = _inbox(settings, settings.agency_id)
    admin = AIOKafkaAdminClient(**admin_config)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    group = consumer_group(
        settings.agency_id, namespace=settings.topic_namespace, partnership_id=settings.partnership_id
    )
    resetter = AIOKafkaConsumer(group_id=group, enable_auto_commit=False, **admin_config)
    await resetter.start()
    try:
        partitions = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
        resetter.assign(partitions)
        await resetter.commit(await resetter.beginning_offsets(partitions))
    finally:
        await resetter.stop()


def _kinds_for(records: list[Any], delivery_id: str) -> list[str]:
    claims = [jwt.decode(r.value, options={"verify_signature": False}) for r in records]
    return [c["kind"] for c in claims if c.get("delivery_id") == delivery_id]


@pytest.mark.stack
@pytest.mark.usefixtures("topics")
async def test_a_withdrawn_delivery_read_again_with_a_lost_ledger_gets_no_delivered_receipt(
    consumer_settings: ConsumerSettings,
    broker_keys: BrokerKeys,
    kafka_admin_config: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    agency = load_agency_keys(consumer_settings.key_dir)
    envelope = seal_for(agency, broker_keys, fictional_payload(1))
    delivery_id = envelope.header.delivery_id
    withdrawal = _notice("withdrawal", delivery_id, agency.agency_id, broker_keys)
    receipts = await TopicTail(kafka_admin_config, _receipts(consumer_settings)).mark()
    records = [(envelope.to_bytes(), False), (withdrawal.to_bytes(), True)]
    await _publish(kafka_admin_config, _inbox(consumer_settings, agency.agency_id), records)

    ledger = Ledger(consumer_settings.ledger_path)
    first = _consumer(consumer_settings, ledger)
    await _run_until(first, lambda: first.withdrawn == 1)
    ledger.close()
    first_kinds = _kinds_for(await receipts.wait_for(lambda rs: len(_kinds_for(rs, delivery_id)) >= 2), delivery_id)
    assert first_kinds == ["delivered", "withdrawn"]

    # The ledger is lost and the group's offsets go back to the start: both records are read again.
    for leftover in consumer_settings.ledger_path.parent.glob(consumer_settings.ledger_path.name + "*"):
        leftover.unlink()
    await _reset_to_earliest(kafka_admin_config, consumer_settings)
    receipts = await TopicTail(kafka_admin_config, _receipts(consumer_settings)).mark()
    ledger = Ledger(consumer_settings.ledger_path)
    again = _consumer(consumer_settings, ledger)
    with caplog.at_level(logging.INFO, logger="consumers.runner"):
        await _run_until(again, lambda: again.withdrawn == 1)
    ledger.close()

    got = await receipts.wait_for(lambda rs: "withdrawn" in _kinds_for(rs, delivery_id))
    assert _kinds_for(got, delivery_id) == ["withdrawn"], "a delivery the agency does not hold was receipted"
    inbox = _sink(consumer_settings)
    assert inbox.delivery_ids() == [], "the sink took the withdrawn delivery back"
    assert [t["delivery_id"] for t in inbox.withdrawn()] == [delivery_id]
    assert (again.delivered, again.recalled_not_delivered) == (0, 1)
    (event,) = [r for r in caplog.records if getattr(r, "outcome", None) == "not_delivered"]
    line = json.loads(ConsumerJsonFormatter().format(event))
    assert (line["outcome"], line["reason"], line["delivery_id"]) == ("not_delivered", "withdrawal", delivery_id)
    assert "Testchild" not in json.dumps(line) and "Alpha" not in json.dumps(line)


async def test_the_sqlite_inbox_says_which_recall_it_refused(tmp_path: Any) -> None:
    sink = SqliteInboxSink(tmp_path / "inbox.db")
    await sink.deliver(_delivery(1))
    await sink.withdraw(_sink_notice(1))
    await sink.withdraw(_sink_notice(1, kind="erasure", notice_id="notice-erase-1", reason="court_order"))
    with pytest.raises(DeliveryWithdrawn) as refused:
        await sink.deliver(_delivery(1))
    assert (refused.value.delivery_id, refused.value.kind) == ("d-1", "erasure")
    assert await sink.deliver(_delivery(2)) is True
    assert await sink.deliver(_delivery(2)) is False, "a plain redelivery is still no refusal"


async def test_the_directory_sink_says_which_recall_it_refused(tmp_path: Any) -> None:
    sink = DirectorySink(tmp_path / "out")
    await sink.deliver(_delivery(1))
    await sink.withdraw(_sink_notice(1, kind="correction", reason="superseded", superseded_by="n-9"))
    with pytest.raises(DeliveryWithdrawn) as refused:
        await sink.deliver(_delivery(1))
    assert refused.value.kind == "correction"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["d-1.withdrawn.json"]


@contextlib.asynccontextmanager
async def _case_system(recalled: int) -> AsyncIterator[str]:
    """An agency case system that keeps the tombstone of each DELETE and answers a later POST of that
    delivery `recalled` (410, or 409 as some systems answer any repeated key) with the tombstone."""
    held: set[str] = set()
    tombstones: dict[str, dict[str, Any]] = {}

    async def take(request: web.Request) -> web.Response:
        delivery_id = request.headers["Idempotency-Key"]
        if delivery_id in tombstones:
            return web.json_response(tombstones[delivery_id], status=recalled)
        if delivery_id in held:
            return web.json_response({"error": "already held"}, status=409)
        held.add(delivery_id)
        return web.Response(status=201)

    async def remove(request: web.Request) -> web.Response:
        delivery_id = request.match_info["delivery"]
        if delivery_id in tombstones:  # recalled before: gone, and here is what said so
            return web.json_response(tombstones[delivery_id], status=410)
        tombstones[delivery_id] = await request.json()
        present = delivery_id in held
        held.discard(delivery_id)
        return web.Response(status=204 if present else 404)

    async def retired(_: web.Request) -> web.Response:
        return web.json_response({"error": "this endpoint is retired"}, status=410)

    app = web.Application()
    app.router.add_post("/cases", take)
    app.router.add_delete("/cases/{delivery}", remove)
    app.router.add_post("/retired", retired)
    app.router.add_delete("/retired/{delivery}", retired)
    async with _serve(app) as url:
        yield url


@pytest.fixture
async def case_system() -> AsyncIterator[str]:
    async with _case_system(410) as url:
        yield url


@pytest.fixture
async def conflict_case_system() -> AsyncIterator[str]:
    async with _case_system(409) as url:
        yield url


async def test_a_webhook_case_system_keeping_the_tombstone_answers_410_and_the_sink_says_so(case_system: str) -> None:
    sink = WebhookSink(f"{case_system}/cases", attempts=2)
    assert await sink.deliver(_delivery(1)) is True
    assert await sink.withdraw(_sink_notice(1, kind="erasure", reason="court_order")) is True
    with pytest.raises(DeliveryWithdrawn) as refused:
        await sink.deliver(_delivery(1))
    assert refused.value.kind == "erasure"
    assert await sink.deliver(_delivery(2)) is True
    assert await sink.deliver(_delivery(2)) is False


async def test_a_409_carrying_the_tombstone_of_this_delivery_is_a_recall_not_a_repeat(
    conflict_case_system: str,
) -> None:
    sink = WebhookSink(f"{conflict_case_system}/cases", attempts=1)
    assert await sink.deliver(_delivery(4)) is True
    assert await sink.deliver(_delivery(4)) is False  # a plain repeat: the system holds it
    assert await sink.withdraw(_sink_notice(4)) is True
    with pytest.raises(DeliveryWithdrawn) as refused:
        await sink.deliver(_delivery(4))
    assert (refused.value.delivery_id, refused.value.kind) == ("d-4", "withdrawal")


async def test_a_410_that_names_no_tombstone_of_this_delivery_is_still_a_failure(case_system: str) -> None:
    """A retired endpoint's 410 must not be read as a recall: every delivery would be skipped, committed."""
    with pytest.raises(SinkError, match="HTTP 410"):
        await WebhookSink(f"{case_system}/retired", attempts=1).deliver(_delivery(3))


async def test_a_delete_answered_410_counts_only_with_this_deliverys_tombstone(conflict_case_system: str) -> None:
    """A retired endpoint's bare 410 would have every recall confirmed (an `erased` receipt, logged as
    confirmed) while the case system still held the payload."""
    sink = WebhookSink(f"{conflict_case_system}/cases", attempts=1)
    assert await sink.deliver(_delivery(5)) is True
    assert await sink.withdraw(_sink_notice(5)) is True
    assert await sink.withdraw(_sink_notice(5)) is False  # recalled before: its tombstone comes back
    with pytest.raises(SinkError, match="HTTP 410"):
        await WebhookSink(f"{conflict_case_system}/retired", attempts=1).withdraw(_sink_notice(6))
