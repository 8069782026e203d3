"""Witnessed delivery end to end on the real stack: the gateway over HTTP, its relay on Kafka, agency consumers.

A classic (X25519) and a post-quantum hybrid agency receive the same notifications; each checks the
checkpoint every record carries against the one it kept, keeps the newer, and cosigns it; the gateway
stores the cosignatures and `python -m audit verify` requires them. Shown a checkpoint the broker's
key signed for another tree, a consumer stops where it is: nothing committed, nothing dead-lettered,
an alarm with the evidence, exit status 3.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlmodel import Session, select

import audit
from audit.note import sign_note
from broker.db.tables import OutboxRow
from broker.delivery.case_keys import read_envelope
from consumers.errors import FORK, INCONSISTENT, WitnessAlarm
from consumers.ledger import KeptCheckpoint, Ledger
from consumers.service import build_consumer
from consumers.settings import ConsumerSettings
from consumers.sinks import SqliteInboxSink
from schemas.envelope import HYBRID_SUITE_NAME, SUITE_NAME, EnvelopeHeader, SealedEnvelope
from schemas.topics import consumer_group, dead_letter_topic, inbox_topic
from tests.consumers.conftest import TopicTail
from tests.witness.conftest import CONSUMERS, CSC, POLICE, Site, post_accepted, run_consumers
from transport.sealing import seal

pytestmark = pytest.mark.stack
ORIGIN = "sgb.decision-log"
REPO = Path(__file__).resolve().parents[2]


async def _post(site: Site) -> str:
    response = await post_accepted(site.gateway)
    outcomes = {r["agency_id"]: r["outcome"] for r in response.json()["recipients"]}
    assert outcomes[CSC] == outcomes[POLICE] == "share", outcomes
    return str(response.json()["notification_id"])


def _kept(settings: ConsumerSettings) -> KeptCheckpoint | None:
    ledger = Ledger(settings.ledger_path)
    try:
        return ledger.kept_checkpoint(ORIGIN)
    finally:
        ledger.close()


async def _audit_verify(site: Site, *witness_args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "audit",
        "verify",
        "--db",
        str(site.gateway.settings.database_url),
        "--public-key",
        str(site.root / "broker.pem"),
        *witness_args,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "SGB_AUDIT_PUBLIC_KEY": ""},
    )


def _witness_args(site: Site) -> list[str]:
    args = []
    for agency in CONSUMERS:
        key = site.gateway.registry.agencies[agency].current_witness_key
        assert key is not None
        pem = site.root / f"{agency}.witness.pem"
        pem.write_bytes(key.witness().key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
        args += ["--witness-key", f"{agency}={pem}"]
    (site.root / "broker.pem").write_bytes(
        site.gateway.keys.signing_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    return args


async def test_classic_and_hybrid_agencies_receive_the_same_notification_and_witness_the_log(site: Site) -> None:
    settings = {agency: site.consumer_settings(agency) for agency in CONSUMERS}
    ledgers = {agency: Ledger(s.ledger_path) for agency, s in settings.items()}
    consumers = {agency: build_consumer(s, ledger=ledgers[agency]) for agency, s in settings.items()}
    sinks = {agency: SqliteInboxSink(Path(s.sink_target)) for agency, s in settings.items()}
    first = await _post(site)
    # A checkpoint is signed every half second: the second notification carries one covering the first.
    await asyncio.sleep(1.5)
    second = await _post(site)

    def witnessed() -> bool:
        kept = [ledgers[a].kept_checkpoint(ORIGIN) for a in CONSUMERS]
        return all(len(sinks[a].rows()) == 2 for a in CONSUMERS) and all(
            k is not None and k.posted and k.tree_size > 0 for k in kept
        )

    await run_consumers(consumers, asyncio.Event(), witnessed)
    for agency in CONSUMERS:
        assert {row["notification_id"] for row in sinks[agency].rows()} == {first, second}
        assert consumers[agency].healthy and consumers[agency].dead_lettered == 0
    sizes = {kept.tree_size for kept in map(_kept, settings.values()) if kept is not None}
    with Session(site.gateway.engine) as session:
        suites = {
            row.recipient_agency: SealedEnvelope.from_bytes(read_envelope(session, row)).suite
            for row in session.exec(select(OutboxRow))
        }
        stored = {c.name for size in sizes for c in audit.cosignatures_for(session, size)}
    assert suites[CSC] == SUITE_NAME and suites[POLICE] == HYBRID_SUITE_NAME
    assert stored == {CSC, POLICE}
    args = _witness_args(site)
    for minimum in ("1", "2"):
        verify = await _audit_verify(site, *args, "--min-witnesses", minimum)
        out, err = await verify.communicate()
        assert verify.returncode == 0, (out + err).decode()
    for ledger in ledgers.values():
        ledger.close()


def _forged(site: Site, size: int) -> str:
    """A checkpoint the broker's own key signed, of a tree the log never had."""
    body = audit.Checkpoint.body(
        ORIGIN, size, os.urandom(32), datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), os.urandom(32)
    )
    return sign_note(body, ORIGIN, site.gateway.keys.signing_key)


async def _delivered_partition(admin_config: dict[str, Any], topic: str) -> int:
    """The partition the relay put the agency's deliveries on (one child, one key, one partition)."""
    admin = AIOKafkaAdminClient(**admin_config)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
    finally:
        await admin.close()
    partitions = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
    consumer = AIOKafkaConsumer(enable_auto_commit=False, **admin_config)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        found: set[int] = set()
        for _ in range(25):
            found |= {tp.partition for tp, records in (await consumer.getmany(timeout_ms=200)).items() if records}
    finally:
        await consumer.stop()
    (partition,) = found
    return partition


async def _publish_with_checkpoint(site: Site, admin_config: dict[str, Any], agency: str, note: str) -> Any:
    """A genuine delivery to `agency` (sealed to its key, signed by the broker) carrying `note` as its checkpoint."""
    key = site.gateway.registry.agencies[agency].current_encryption_key
    header = EnvelopeHeader(
        delivery_id=f"forged-{uuid.uuid4().hex}",
        notification_id=str(uuid.uuid4()),
        sender_agency="school-oakfield-primary",
        recipient_agency=agency,
        message_type="safeguarding_referral",
        schema_version="1.0",
        recipient_key_id=key.kid,
    )
    envelope = seal(
        {"concern_summary": "Fictional forged-checkpoint test"},
        header=header,
        recipient_public_key=key.recipient_key(),
        signing_key=site.gateway.keys.signing_key,
        signing_key_id=site.gateway.keys.signing_key_id,
        sealed_at=datetime.now(UTC),
    )
    topic = inbox_topic(agency, namespace=site.namespace)
    partition = await _delivered_partition(admin_config, topic)
    producer = AIOKafkaProducer(enable_idempotence=True, acks="all", **admin_config)
    await producer.start()
    try:
        return await producer.send_and_wait(
            topic, envelope.to_bytes(), partition=partition, headers=[("sgb_checkpoint", note.encode())]
        )
    finally:
        await producer.stop()


async def _committed(admin_config: dict[str, Any], settings: ConsumerSettings, partition: TopicPartition) -> int:
    admin = AIOKafkaAdminClient(**admin_config)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(
            consumer_group(settings.agency_id, namespace=settings.topic_namespace)
        )
    finally:
        await admin.close()
    return offsets[partition].offset if partition in offsets else -1


def _cli_env(settings: ConsumerSettings) -> dict[str, str]:
    values = {
        "AGENCY_ID": settings.agency_id,
        "KAFKA_USER": str(settings.kafka_user),
        "KAFKA_PASSWORD": settings.kafka_password.get_secret_value(),
        "KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "TOPIC_NAMESPACE": settings.topic_namespace,
        "KEY_DIR": str(settings.key_dir),
        "BROKER_PUBLIC_KEYS": str(settings.broker_public_keys),
        "SINK": settings.sink,
        "LEDGER_PATH": str(settings.ledger_path),
        "BROKER_AUDIENCE": settings.broker_audience,
        "GATEWAY_URL": str(settings.gateway_url),
        "ENVIRONMENT": settings.environment,
    }
    return {**os.environ, **{f"CONSUMER_{name}": value for name, value in values.items()}}


@pytest.mark.parametrize(("agency", "grow", "reason"), [(CSC, 0, FORK), (POLICE, 1000, INCONSISTENT)])
async def test_a_checkpoint_for_another_tree_stops_the_consumer_where_it_is(
    site: Site, kafka_admin_config: dict[str, Any], agency: str, grow: int, reason: str
) -> None:
    settings = site.consumer_settings(agency)
    await _post(site)
    await asyncio.sleep(1.5)
    await _post(site)
    ledger = Ledger(settings.ledger_path)
    sink = SqliteInboxSink(Path(settings.sink_target))

    def witnessed() -> bool:
        kept = ledger.kept_checkpoint(ORIGIN)
        return len(sink.rows()) == 2 and kept is not None and kept.posted and kept.tree_size > 0

    await run_consumers({agency: build_consumer(settings, ledger=ledger)}, asyncio.Event(), witnessed)
    kept = ledger.kept_checkpoint(ORIGIN)
    assert kept is not None
    dead_letters = await TopicTail(kafka_admin_config, dead_letter_topic(agency, namespace=site.namespace)).mark()
    forged = await _publish_with_checkpoint(site, kafka_admin_config, agency, _forged(site, kept.tree_size + grow))
    partition = TopicPartition(forged.topic, forged.partition)

    consumer = build_consumer(settings, ledger=ledger)
    with pytest.raises(WitnessAlarm) as alarm:
        await run_consumers({agency: consumer}, asyncio.Event(), lambda: False, timeout=60)
    assert alarm.value.reason == reason and consumer.alarm is alarm.value and not consumer.healthy
    assert alarm.value.evidence["kept_size"] == kept.tree_size
    assert alarm.value.evidence["offset"] == forged.offset
    # Stopped where it was: the forged record is neither delivered, committed nor dead-lettered.
    assert len(sink.rows()) == 2
    # The first run committed everything before the forged record (on the same partition), nothing after.
    assert await _committed(kafka_admin_config, settings, partition) == forged.offset
    assert ledger.kept_checkpoint(ORIGIN) == kept

    # The operator's view: the command exits 3 and says why, and does so again on every restart.
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "consumers",
        "run",
        "--agency",
        agency,
        cwd=REPO,
        env=_cli_env(settings),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=90)
    assert process.returncode == 3, (out + err).decode()
    assert "ALARM" in err.decode() and reason in err.decode()
    assert await dead_letters.wait_for(lambda records: False, timeout=2) == []
    assert await _committed(kafka_admin_config, settings, partition) == forged.offset
    ledger.close()
