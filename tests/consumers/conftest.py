"""Consumer test set-up: real keys made by the broker's key tools, real envelopes, real Kafka.

Tests may import `broker` (the consumer package may not): the broker's own key generator and
Kafka access code make the keys and principals exactly as production would. Principals, topics
and groups belong to this test run only (its agency prefix and topic namespace, tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from broker.partnership.keys import AgencyKeys, BrokerKeys, generate_agency_keys, generate_broker_keys
from consumers.keys import load_agency_keyring, load_broker_public_keys
from consumers.opener import EnvelopeOpener
from consumers.settings import ConsumerSettings
from consumers.validation import default_validator
from schemas.envelope import DecidingFinding, EnvelopeHeader, SealedEnvelope
from schemas.notifications import SCHEMA_VERSION
from schemas.topics import dead_letter_topic, inbox_topic, receipts_topic
from tests.conftest import provision_principals, run_agency_id
from transport.kafka import TopicSettings, ensure_topics
from transport.sealing import seal

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
AUDIENCE = "safeguarding-broker-test"
SENDER = "school-fictional"
PRINCIPAL_POOL = 32
# The policy's own words for a share to children's social care without consent (GR4: a lawful exception).
DECIDED_BY = (
    DecidingFinding(
        rule="GR4",
        message="Consent was not sought because seeking it would put the child at risk of significant harm; "
        "sharing without consent is justified.",
        effect="share",
    ),
)


@pytest.fixture
def broker_keys(tmp_path: Path) -> BrokerKeys:
    return generate_broker_keys(tmp_path / "broker-keys", now=NOW)


@pytest.fixture
def broker_history(tmp_path: Path, broker_keys: BrokerKeys) -> Path:
    return tmp_path / "broker-keys" / "signing-history.json"


def make_agency_keys(directory: Path, agency_id: str) -> AgencyKeys:
    return generate_agency_keys(directory, agency_id=agency_id, now=NOW)


def seal_for(
    agency: AgencyKeys,
    broker: BrokerKeys,
    payload: dict[str, Any],
    *,
    delivery_id: str | None = None,
    message_type: str = "safeguarding_referral",
    schema_version: str = SCHEMA_VERSION,
    decided_by: tuple[DecidingFinding, ...] = DECIDED_BY,
    sealed_at: datetime = NOW,
) -> SealedEnvelope:
    """Seal `payload` to the agency's current key, as the gateway would (`decided_by=()`: as it did
    before headers carried the deciding findings), signed by `broker`'s current key at `sealed_at`."""
    key = agency.current_encryption_key
    header = EnvelopeHeader(
        delivery_id=delivery_id or f"dlv-{uuid.uuid4().hex}",
        notification_id=f"ntf-{uuid.uuid4().hex}",
        sender_agency=SENDER,
        recipient_agency=agency.agency_id,
        message_type=message_type,
        schema_version=schema_version,
        recipient_key_id=key.kid,
        decided_by=list(decided_by),
    )
    return seal(
        payload,
        header=header,
        recipient_public_key=key.private_key.public_key(),
        signing_key=broker.signing_key,
        signing_key_id=broker.signing_key_id,
        sealed_at=sealed_at,
    )


def fictional_payload(n: int) -> dict[str, Any]:
    """A projection of a safeguarding referral (M01, version 1.0), as the gateway could seal it."""
    return {
        "concern_summary": f"Fictional concern number {n} about Test Child Alpha",
        "child": {"given_name": "Alpha", "family_name": "Testchild", "date_of_birth": "2015-03-01"},
    }


# What a reviewer sealed with a genuine broker key, each delivered before the consumer checked more
# than key names: (message type, schema version, payload). Each value is one no detail may repeat.
MISFITS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "mistyped-fields": ("missing_child", SCHEMA_VERSION, {"child": "Alpha Testchild, not an object", "age_band": 7}),
    "made-up-type": ("pupil_gossip_report", SCHEMA_VERSION, {"concern_summary": "Fictional gossip about Alpha"}),
    "unknown-version": ("safeguarding_referral", "9.9", {"concern_summary": "Fictional concern about Alpha"}),
}


# --- Kafka ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """An agency's SCRAM principal on the real broker, with the grants production gives it."""

    agency_id: str
    password: str


@pytest.fixture(scope="session")
def principal_pool(kafka_admin_config: dict[str, Any], topic_namespace: str) -> list[Principal]:
    """Fresh agency principals granted in this run's namespace, made in one JVM run (one per test)."""
    users = {run_agency_id(): secrets.token_urlsafe(18) for _ in range(PRINCIPAL_POOL)}
    provision_principals(kafka_admin_config, users, namespace=topic_namespace)
    return [Principal(agency_id, password) for agency_id, password in users.items()]


@pytest.fixture
def principal(principal_pool: list[Principal]) -> Principal:
    if not principal_pool:
        pytest.fail("principal pool exhausted: raise PRINCIPAL_POOL")
    return principal_pool.pop()


@pytest.fixture
async def topics(kafka_admin_config: dict[str, Any], principal: Principal, topic_namespace: str) -> None:
    """The agency's inbox and dead-letter topic, and the run's receipts topic (the operator's job)."""
    agency = principal.agency_id
    names = [
        inbox_topic(agency, namespace=topic_namespace),
        dead_letter_topic(agency, namespace=topic_namespace),
        receipts_topic(namespace=topic_namespace),
    ]
    await ensure_topics(kafka_admin_config, names, settings=TopicSettings())


@pytest.fixture
def consumer_settings(
    tmp_path: Path, principal: Principal, broker_history: Path, topic_namespace: str
) -> ConsumerSettings:
    make_agency_keys(tmp_path / "agency-keys", principal.agency_id)
    return ConsumerSettings(
        agency_id=principal.agency_id,
        topic_namespace=topic_namespace,
        kafka_bootstrap=os.environ["SGB_KAFKA_BOOTSTRAP"],
        kafka_password=principal.password,
        key_dir=tmp_path / "agency-keys",
        broker_public_keys=broker_history,
        sink=f"sqlite:{tmp_path / 'inbox.db'}",
        ledger_path=tmp_path / "ledger.db",
        broker_audience=AUDIENCE,
        environment="development",  # the stack's loopback Kafka has no TLS
    )


async def publish(admin_config: dict[str, Any], topic: str, values: list[bytes]) -> None:
    """Publish as the stack's super-user (standing in for the gateway's relay)."""
    producer = AIOKafkaProducer(enable_idempotence=True, acks="all", **admin_config)
    await producer.start()
    try:
        for n, value in enumerate(values):
            await producer.send(topic, value, key=f"subject-{n % 5}".encode())
        await producer.flush()
    finally:
        await producer.stop()


class TopicTail:
    """Reads a topic from the offsets it had when created: only what this test produced."""

    def __init__(self, admin_config: dict[str, Any], topic: str) -> None:
        self._config = admin_config
        self._topic = topic
        self._start: dict[TopicPartition, int] = {}
        self.records: list[Any] = []

    async def mark(self) -> TopicTail:
        admin = AIOKafkaAdminClient(**self._config)
        await admin.start()
        try:
            (described,) = await admin.describe_topics([self._topic])
        finally:
            await admin.close()
        consumer = AIOKafkaConsumer(**self._config)
        await consumer.start()
        try:
            partitions = [TopicPartition(self._topic, p["partition"]) for p in described["partitions"]]
            self._start = await consumer.end_offsets(partitions)
        finally:
            await consumer.stop()
        return self

    async def wait_for(self, done: Callable[[list[Any]], bool], *, timeout: float = 30.0) -> list[Any]:
        """Collect records until `done(records)` holds; fail after `timeout` seconds."""
        self.records = []
        consumer = AIOKafkaConsumer(enable_auto_commit=False, **self._config)
        await consumer.start()
        try:
            consumer.assign(list(self._start))
            for partition, offset in self._start.items():
                consumer.seek(partition, offset)
            deadline = time.monotonic() + timeout
            while not done(self.records) and time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=200)
                self.records += [r for records in batch.values() for r in records]
        finally:
            await consumer.stop()
        return self.records


async def wait_until(check: Callable[[], bool], *, timeout: float = 60.0, every: float = 0.05) -> None:
    """Poll `check` until true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout} s")
        await asyncio.sleep(every)


@pytest.fixture
def stop_event() -> Iterator[asyncio.Event]:
    event = asyncio.Event()
    yield event
    event.set()


# The agency most consumer tests open envelopes for: a fictional children's social care front door.
FRONT_DOOR = "csc-fictional"


@pytest.fixture
def agency_keys(tmp_path: Path) -> AgencyKeys:
    return make_agency_keys(tmp_path / "agency", FRONT_DOOR)


@pytest.fixture
def opener(tmp_path: Path, agency_keys: AgencyKeys, broker_history: Path) -> EnvelopeOpener:
    """The front door's opener, with the contract's own check of each payload, as `run` builds it."""
    keyring = load_agency_keyring(tmp_path / "agency", agency_id=FRONT_DOOR)
    return EnvelopeOpener(
        agency_id=FRONT_DOOR,
        broker_keys=load_broker_public_keys(broker_history),
        decryption_keys=keyring.decryption_keys,
        validate=default_validator(),
    )
