"""The operator's review of the consumer, on the stack's real Kafka as the agency's own principal:

2. `ack` with a wrong password or topic namespace printed a traceback; it is one line naming the
   setting, exit status 2 (tests/consumers/test_operator_review_fixes.py has Kafka unreachable).
4. A delivery the case system refused told the operator to re-publish the dead letter, which the
   agency's principal cannot; the log names the gateway's republish route and the delivery. The
   dead letters of a forged or misaddressed record say why.
5. A wrong password or partnership id was logged as `waiting for Kafka: <type>` every second for
   ever; the log says what Kafka refused and which setting to check, waiting longer each time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from broker.partnership.keys import BrokerKeys, load_agency_keys
from consumers.errors import SinkRejected
from consumers.ledger import Ledger
from consumers.runner import AgencyConsumer
from consumers.service import build_consumer
from consumers.settings import ConsumerSettings
from consumers.sinks import Delivery, SqliteInboxSink
from schemas.notice import Notice
from schemas.topics import dead_letter_topic, receipts_topic
from tests.conftest import run_namespace
from tests.consumers.conftest import TopicTail, fictional_payload, make_agency_keys, seal_for, wait_until
from tests.consumers.test_cli import REPO, _cli, _env
from tests.consumers.test_runner import _inbox, publish_in_order

pytestmark = pytest.mark.stack
LOGGER = "consumers.runner"


def _accept(message_type: str, schema_version: str, payload: Mapping[str, Any]) -> None:
    """Any payload: what is checked here is what happens around it."""


def _said(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and "waiting for Kafka" in r.getMessage()]


@contextlib.asynccontextmanager
async def _running(consumer: AgencyConsumer, **waits: float) -> AsyncIterator[asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop, **waits))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


# --- 2. ack refused by Kafka ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        (
            "CONSUMER_KAFKA_PASSWORD",
            "not-this-agencys-password",
            "refused the login of principal {agency} ([Error 58] SaslAuthenticationFailed",
        ),
        ("CONSUMER_TOPIC_NAMESPACE", run_namespace("elsewhere"), "refused principal {agency} a topic"),
    ],
    ids=["password", "namespace"],
)
def test_ack_refused_by_kafka_is_one_line_naming_the_setting(
    consumer_settings: ConsumerSettings, setting: str, value: str, said: str
) -> None:
    ledger = Ledger(consumer_settings.ledger_path)
    ledger.remember("dlv-1", "ntf-1")
    ledger.close()
    args = ("--key-dir", str(consumer_settings.key_dir), "--ledger", str(consumer_settings.ledger_path))
    result = subprocess.run(
        _cli(consumer_settings, "ack", "--delivery-id", "dlv-1", "--notification-id", "ntf-1", *args),
        cwd=REPO,
        env={**_env(consumer_settings), setting: value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()  # no traceback, no aiokafka log, no unclosed producer
    assert line.startswith("error: not acknowledged: "), line
    assert said.format(agency=consumer_settings.agency_id) in line
    assert f"check {setting}" in line or f"check CONSUMER_KAFKA_USER, {setting}" in line
    assert result.stdout == ""


# --- 5. a consumer Kafka refuses -------------------------------------------------------------------


async def test_a_wrong_password_is_named_and_tried_again_ever_later(
    consumer_settings: ConsumerSettings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = consumer_settings.model_copy(update={"kafka_password": SecretStr("not-this-agencys-password")})
    ledger = Ledger(settings.ledger_path)
    consumer = build_consumer(settings, ledger=ledger, validate=_accept)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        async with _running(consumer):  # the waits it has in production: from 1 s, doubling
            await wait_until(lambda: len(_said(caplog)) >= 2, timeout=30)
    ledger.close()
    first, second = _said(caplog)[:2]
    assert first.levelname == "ERROR"
    assert first.getMessage().startswith(
        f"consumer {settings.agency_id} waiting for Kafka: Kafka at {settings.kafka_bootstrap} refused the login of "
        f"principal {settings.agency_id} ([Error 58] SaslAuthenticationFailed: "
    ), first.getMessage()
    assert "check CONSUMER_KAFKA_USER, CONSUMER_KAFKA_PASSWORD and CONSUMER_KAFKA_SASL_MECHANISM" in first.getMessage()
    waits = [r.getMessage().rsplit("; ", 1)[1] for r in (first, second)]
    assert waits == ["trying again in 1 s", "trying again in 2 s"]


@pytest.mark.usefixtures("topics")
async def test_a_partnership_id_the_group_was_not_granted_under_is_named(
    consumer_settings: ConsumerSettings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = consumer_settings.model_copy(update={"partnership_id": "another-partnership"})
    ledger = Ledger(settings.ledger_path)
    consumer = build_consumer(settings, ledger=ledger, validate=_accept)
    group = f"{settings.topic_namespace}.consumer.another-partnership.{settings.agency_id}"
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        async with _running(consumer, retry_seconds=0.05, most_seconds=0.1):
            await wait_until(lambda: bool(_said(caplog)), timeout=30)
    ledger.close()
    said = _said(caplog)[0].getMessage()
    assert f"Kafka refused principal {settings.agency_id} the consumer group {group} (" in said, said
    assert "GroupAuthorizationFailedError" in said
    assert "check CONSUMER_PARTNERSHIP_ID and CONSUMER_TOPIC_NAMESPACE" in said
    assert getattr(_said(caplog)[0], "reason", None) == "kafka_group_refused"


# --- 4. what a parked record says, and how to deliver a refused one -------------------------------


class RefusingCaseSystem:
    """The real SQLite inbox behind a case system that refuses one delivery for good (a 422)."""

    def __init__(self, inner: SqliteInboxSink, refuse: str) -> None:
        self._inner, self._refuse = inner, refuse

    async def deliver(self, delivery: Delivery) -> bool:
        if delivery.delivery_id == self._refuse:
            raise SinkRejected(delivery.delivery_id, "HTTP 422")
        return await self._inner.deliver(delivery)

    async def withdraw(self, notice: Notice) -> bool:
        return await self._inner.withdraw(notice)


@pytest.mark.usefixtures("topics")
async def test_parked_records_say_why_and_a_refused_delivery_names_the_republish_route(
    tmp_path: Path,
    consumer_settings: ConsumerSettings,
    broker_keys: BrokerKeys,
    kafka_admin_config: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    agency = load_agency_keys(consumer_settings.key_dir)
    other = make_agency_keys(tmp_path / "other-agency", "police-fictional")
    genuine = seal_for(agency, broker_keys, fictional_payload(1))
    tampered = genuine.model_copy(update={"sealed_at": "2020-01-01T00:00:00Z"})
    misaddressed = seal_for(other, broker_keys, fictional_payload(2))
    refused, good = (seal_for(agency, broker_keys, fictional_payload(n)) for n in (3, 4))
    topic = dead_letter_topic(agency.agency_id, namespace=consumer_settings.topic_namespace)
    dead_letters = await TopicTail(kafka_admin_config, topic).mark()
    values = [tampered.to_bytes(), misaddressed.to_bytes(), refused.to_bytes(), good.to_bytes()]
    await publish_in_order(kafka_admin_config, _inbox(consumer_settings, agency.agency_id), values)

    inbox = SqliteInboxSink(Path(consumer_settings.sink_target))
    sink = RefusingCaseSystem(inbox, refuse=refused.header.delivery_id)
    ledger = Ledger(consumer_settings.ledger_path)
    consumer = build_consumer(consumer_settings, ledger=ledger, validate=_accept, sink=sink)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        async with _running(consumer) as task:
            await wait_until(lambda: good.header.delivery_id in inbox.delivery_ids() or task.done(), timeout=60)
    ledger.close()

    parked = await dead_letters.wait_for(lambda rs: len(rs) >= 3)
    details = {dict(r.headers)["sgb_reason"].decode(): dict(r.headers)["sgb_detail"].decode() for r in parked}
    assert details == {
        "bad_signature": f"the signature does not verify under broker key {broker_keys.signing_key_id}: "
        "changed after the broker signed it, or not signed by the broker",
        "not_for_this_agency": f"delivery {misaddressed.header.delivery_id} is addressed to police-fictional, "
        f"not {agency.agency_id}: published to the wrong inbox",
        "sink_refused": "HTTP 422",
    }
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("SINK REFUSED")]
    assert f"POST /v1/deliveries/{refused.header.delivery_id}/republish" in line, line
    assert "agency_system token" in line
    assert "re-publish the dead letter" not in line, "the agency's principal cannot read its dead-letter topic"
    assert receipts_topic(namespace=consumer_settings.topic_namespace) not in line
