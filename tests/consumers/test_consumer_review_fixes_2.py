"""Defects from the second review of the agency consumer, on the real broker as the agency's own principal:

1. A running consumer never took up its agency's rotated keys. The first record the gateway sealed to
   the new key was dead-lettered (`unknown_recipient_key`) and committed: never delivered, no receipt;
   and receipts kept the old token key, which the gateway refuses once the rotation's grace is over.
   A record sealed to a key the agency does not hold at all was parked and committed the same way,
   although the broker's verified signature says the key is registered for this agency.
2. A delivery the case system refused for good (422) was retried every second for ever, holding up
   every later record on its partition: other children's referrals.
3. `python -m consumers ack` signed and sent `acknowledged` for any delivery id, whether the consumer
   had delivered it or the broker had since withdrawn or erased it.

The case system is a real loopback aiohttp server. The gateway, which these tests do not run, is
`FakeGateway` behind the witness's own interface (tests/consumers/test_witness_review_fixes.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import web

from audit.cosignature import WitnessKey, verify_cosignature
from audit.errors import CosignatureInvalid
from broker.partnership.keys import BrokerKeys, generate_agency_keys, load_agency_keys
from consumers.errors import ConfigurationError, SinkError, SinkRejected
from consumers.keys import KeyringHolder
from consumers.ledger import Ledger
from consumers.receipt import ReceiptKind, ReceiptSigner
from consumers.runner import AgencyConsumer
from consumers.service import build_consumer
from consumers.settings import ConsumerSettings
from consumers.webhook import WebhookSink
from consumers.witness import CheckpointWitness
from schemas.topics import dead_letter_topic
from tests.consumers.conftest import AUDIENCE, NOW, TopicTail, fictional_payload, make_agency_keys, seal_for, wait_until
from tests.consumers.test_cli import REPO, _cli, _env
from tests.consumers.test_runner import _consumer, _inbox, _receipts, _sink, publish_in_order
from tests.consumers.test_sink_review_fixes import _serve
from tests.consumers.test_sinks import _delivery
from tests.consumers.test_witness_review_fixes import BROKER, ORIGIN, SOURCE, FakeGateway, _checkpoint

AGENCY = "csc-fictional"


class Clock:
    """The keyring holder's monotonic clock, moved by the test: settling is counted, never waited for."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@contextlib.asynccontextmanager
async def _running(consumer: AgencyConsumer) -> AsyncIterator[asyncio.Task[None]]:
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


async def _until(task: asyncio.Task[None], check: Callable[[], bool], *, timeout: float = 60.0) -> None:
    await wait_until(lambda: check() or task.done(), timeout=timeout)
    if task.done():
        task.result()  # surface the consumer's own failure


def _receipt_kids(records: list[Any], settings: ConsumerSettings) -> dict[str, str]:
    """delivery id -> kid of each `delivered` receipt, verified with that agency key as the gateway would."""
    keys = {k.kid: k for k in load_agency_keys(settings.key_dir).jwt_keys}
    found = {}
    for record in records:
        token = record.value.decode()
        if jwt.decode(token, options={"verify_signature": False}).get("iss") != settings.agency_id:
            continue  # another test's receipt on the shared topic
        kid = jwt.get_unverified_header(token)["kid"]
        claims = jwt.decode(token, keys[kid].private_key.public_key(), algorithms=["EdDSA"], audience=AUDIENCE)
        if claims["kind"] == "delivered":
            found[claims["delivery_id"]] = kid
    return found


# --- 1. rotated keys ------------------------------------------------------------------------------


@pytest.mark.stack
@pytest.mark.usefixtures("topics")
async def test_a_record_sealed_to_the_rotated_key_of_a_running_consumer_is_delivered(
    consumer_settings: ConsumerSettings, broker_keys: BrokerKeys, kafka_admin_config: dict[str, Any]
) -> None:
    before = load_agency_keys(consumer_settings.key_dir)
    first = seal_for(before, broker_keys, fictional_payload(1))
    topic = _inbox(consumer_settings, before.agency_id)
    receipts = await TopicTail(kafka_admin_config, _receipts(consumer_settings)).mark()
    await publish_in_order(kafka_admin_config, topic, [first.to_bytes()])

    ledger = Ledger(consumer_settings.ledger_path)
    consumer = _consumer(consumer_settings, ledger)
    inbox = _sink(consumer_settings)
    async with _running(consumer) as task:
        await _until(task, lambda: first.header.delivery_id in inbox.delivery_ids())
        # What `broker.partnership.cli rotate` does to the directory; the gateway then seals to the new key.
        after = generate_agency_keys(consumer_settings.key_dir, agency_id=before.agency_id, now=datetime.now(UTC))
        second = seal_for(after, broker_keys, fictional_payload(2))
        await publish_in_order(kafka_admin_config, topic, [second.to_bytes()])
        await _until(task, lambda: second.header.delivery_id in inbox.delivery_ids() or consumer.dead_lettered > 0)
    ledger.close()

    assert consumer.dead_lettered == 0, "the record sealed to the rotated key was parked"
    assert inbox.delivery_ids() == [first.header.delivery_id, second.header.delivery_id]
    records = await receipts.wait_for(lambda rs: second.header.delivery_id in _receipt_kids(rs, consumer_settings))
    assert set(_receipt_kids(records, consumer_settings)) == {first.header.delivery_id, second.header.delivery_id}


@pytest.mark.stack
@pytest.mark.usefixtures("topics")
async def test_receipts_take_up_the_rotated_token_key_once_the_gateway_has_had_time_to_register_it(
    consumer_settings: ConsumerSettings, broker_keys: BrokerKeys, kafka_admin_config: dict[str, Any]
) -> None:
    before = load_agency_keys(consumer_settings.key_dir)
    clock, wall = Clock(), Clock()
    holder = KeyringHolder(
        consumer_settings.key_dir, agency_id=before.agency_id, settle_seconds=10.0, clock=clock, wall=wall
    )
    topic = _inbox(consumer_settings, before.agency_id)
    receipts = await TopicTail(kafka_admin_config, _receipts(consumer_settings)).mark()
    after = generate_agency_keys(consumer_settings.key_dir, agency_id=before.agency_id, now=datetime.now(UTC))
    written = (consumer_settings.key_dir / "agency.json").stat().st_mtime
    early, late = (seal_for(after, broker_keys, fictional_payload(n)) for n in (1, 2))
    clock.now, wall.now = 2.0, written + 2.0  # the change is seen; the gateway may not have the new registry yet

    ledger = Ledger(consumer_settings.ledger_path)
    consumer = build_consumer(consumer_settings, ledger=ledger, keys=holder)
    inbox = _sink(consumer_settings)
    async with _running(consumer) as task:
        await publish_in_order(kafka_admin_config, topic, [early.to_bytes()])
        await _until(task, lambda: early.header.delivery_id in inbox.delivery_ids())
        # Its receipt is signed after the sink has it: the clocks move only once it is out.
        await receipts.wait_for(lambda rs: early.header.delivery_id in _receipt_kids(rs, consumer_settings))
        clock.now, wall.now = 12.5, written + 12.5  # settled: the gateway has long taken the registry up
        await publish_in_order(kafka_admin_config, topic, [late.to_bytes()])
        await _until(task, lambda: late.header.delivery_id in inbox.delivery_ids())
    ledger.close()

    records = await receipts.wait_for(lambda rs: len(_receipt_kids(rs, consumer_settings)) >= 2)
    assert _receipt_kids(records, consumer_settings) == {
        early.header.delivery_id: before.current_jwt_key.kid,
        late.header.delivery_id: after.current_jwt_key.kid,
    }
    assert holder.jwt_key().kid == after.current_jwt_key.kid


@pytest.mark.stack
@pytest.mark.usefixtures("topics")
async def test_a_record_sealed_to_a_key_the_agency_does_not_hold_stops_the_consumer_uncommitted(
    tmp_path: Path, consumer_settings: ConsumerSettings, broker_keys: BrokerKeys, kafka_admin_config: dict[str, Any]
) -> None:
    agency = load_agency_keys(consumer_settings.key_dir)
    # Rotated elsewhere (another copy of the directory): the registry has the key, this consumer does not.
    elsewhere = tmp_path / "rotated-agency-keys"
    shutil.copytree(consumer_settings.key_dir, elsewhere)
    rotated = generate_agency_keys(elsewhere, agency_id=agency.agency_id, now=datetime.now(UTC))
    missing_kid = rotated.current_encryption_key.kid
    records = [
        seal_for(agency, broker_keys, fictional_payload(1)),
        seal_for(rotated, broker_keys, fictional_payload(2)),
    ]
    records.append(seal_for(agency, broker_keys, fictional_payload(3)))
    await publish_in_order(
        kafka_admin_config, _inbox(consumer_settings, agency.agency_id), [r.to_bytes() for r in records]
    )
    ids = [r.header.delivery_id for r in records]

    ledger = Ledger(consumer_settings.ledger_path)
    consumer = _consumer(consumer_settings, ledger)
    inbox = _sink(consumer_settings)
    with pytest.raises(ConfigurationError, match=f"{missing_kid}.*install the agency's private key"):
        async with _running(consumer) as task:
            await _until(task, lambda: len(inbox.delivery_ids()) == 3 or consumer.dead_lettered > 0)
    ledger.close()
    assert consumer.dead_lettered == 0, "parked: the delivery would never arrive"
    assert inbox.delivery_ids() == ids[:1], "nothing after the record was delivered"

    # The operator installs the agency's key: the record is read again, then the one behind it.
    installed = consumer_settings.model_copy(update={"key_dir": elsewhere})
    ledger = Ledger(consumer_settings.ledger_path)
    consumer = _consumer(installed, ledger)
    async with _running(consumer) as task:
        await _until(task, lambda: len(inbox.delivery_ids()) == 3)
    ledger.close()
    assert inbox.delivery_ids() == ids and consumer.dead_lettered == 0


async def test_the_witness_cosigns_with_the_rotated_witness_key_at_once(tmp_path: Path) -> None:
    """The gateway takes cosignatures by the agency's current witness key only: no settling helps."""
    directory = tmp_path / "agency-keys"
    before = make_agency_keys(directory, AGENCY)
    clock = Clock()
    holder = KeyringHolder(directory, agency_id=AGENCY, settle_seconds=10.0, clock=clock)
    ledger = Ledger(tmp_path / "ledger.db")
    witness = CheckpointWitness(
        key=holder.witness_key,
        broker_keys={"broker-1": BROKER.public_key()},
        origin=ORIGIN,
        ledger=ledger,
        gateway=FakeGateway(),
    )
    after = generate_agency_keys(directory, agency_id=AGENCY, now=NOW)
    assert before.current_witness_key is not None and after.current_witness_key is not None
    old = WitnessKey(AGENCY, before.current_witness_key.private_key.public_key())
    new = WitnessKey(AGENCY, after.current_witness_key.private_key.public_key())

    await witness.observe(_checkpoint(5), source=SOURCE)  # the first look after the rotation
    assert witness.kept is not None
    verify_cosignature(witness.kept.note, witness.kept.cosignature, new)
    with pytest.raises(CosignatureInvalid):
        verify_cosignature(witness.kept.note, witness.kept.cosignature, old)
    ledger.close()


def test_an_idle_consumer_signs_with_a_token_key_rotated_long_ago_at_once(tmp_path: Path) -> None:
    """Settling counts from when the manifest was written, not from when a quiet consumer first looks:
    the old key's grace may be over by then, and a receipt signed with it would be dropped for good."""
    directory = tmp_path / "agency-keys"
    before = make_agency_keys(directory, AGENCY)
    holder = KeyringHolder(directory, agency_id=AGENCY, settle_seconds=10.0, check_seconds=0.0)
    signer = ReceiptSigner(agency_id=AGENCY, audience=AUDIENCE, key=holder.jwt_key)
    after = generate_agency_keys(directory, agency_id=AGENCY, now=NOW)
    assert after.current_jwt_key.kid != before.current_jwt_key.kid
    long_ago = time.time() - 20 * 60
    os.utime(directory / "agency.json", (long_ago, long_ago))  # rotated 20 minutes before the first record
    token = signer.sign(kind=ReceiptKind.DELIVERED, delivery_id="d-1", notification_id="n-1")
    assert jwt.get_unverified_header(token)["kid"] == after.current_jwt_key.kid


def test_a_key_directory_that_changes_but_does_not_load_leaves_the_keys_in_use(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "agency-keys"
    before = make_agency_keys(directory, AGENCY)
    clock = Clock()
    holder = KeyringHolder(directory, agency_id=AGENCY, settle_seconds=0.0, clock=clock)
    signer = ReceiptSigner(agency_id=AGENCY, audience=AUDIENCE, key=holder.jwt_key)
    manifest = directory / "agency.json"
    good = manifest.read_text()
    half = directory / "half.json"
    half.write_text(good[: len(good) // 2])
    half.replace(manifest)  # a new inode, as every write of the manifest makes

    clock.now = 5.0
    with caplog.at_level(logging.WARNING, logger="consumers.keys"):
        token = signer.sign(kind=ReceiptKind.DELIVERED, delivery_id="d-1", notification_id="n-1")
    assert jwt.get_unverified_header(token)["kid"] == before.current_jwt_key.kid
    assert set(holder.decryption_keys()) == {before.current_encryption_key.kid}
    assert "does not load; the keys in use stay" in caplog.text

    manifest.write_text(good)
    after = generate_agency_keys(directory, agency_id=AGENCY, now=NOW)
    clock.now = 10.0
    assert jwt.get_unverified_header(signer.api_token())["kid"] == after.current_jwt_key.kid
    assert set(holder.decryption_keys()) == {before.current_encryption_key.kid, after.current_encryption_key.kid}


# --- 2. a delivery the case system refuses for good -------------------------------------------------


def _case_system(answer: Callable[[str], web.Response], posts: list[str]) -> web.Application:
    """A case system answering each POST by its delivery id (the Idempotency-Key)."""

    async def post(request: web.Request) -> web.Response:
        delivery_id = request.headers["Idempotency-Key"]
        posts.append(delivery_id)
        return answer(delivery_id)

    app = web.Application()
    app.router.add_post("/cases", post)
    return app


@pytest.mark.parametrize("status", [400, 413, 415, 422])
async def test_the_case_systems_refusal_of_one_record_is_final_and_says_only_its_status(status: int) -> None:
    posts: list[str] = []
    body = '{"error": "child.date_of_birth: Testchild is not a date"}'  # the case system may echo content
    app = _case_system(lambda _: web.Response(status=status, text=body, content_type="application/json"), posts)
    async with _serve(app) as url:
        with pytest.raises(SinkRejected) as refused:
            await WebhookSink(f"{url}/cases", attempts=3).deliver(_delivery(1))
    assert (refused.value.delivery_id, refused.value.detail) == ("d-1", f"HTTP {status}")
    assert posts == ["d-1"], "a refusal of this record is not tried again"


@pytest.mark.parametrize(
    ("status", "location", "text"),
    [
        (302, "/login", ""),
        (308, "https://elsewhere.example/cases", ""),
        (401, None, ""),
        (403, None, ""),
        (404, None, ""),
        (405, None, ""),
        (410, None, "this endpoint is retired"),
    ],
    ids=["302", "308", "401", "403", "404", "405", "bare-410"],
)
async def test_answers_that_refuse_every_record_alike_keep_the_record_waiting(
    status: int, location: str | None, text: str
) -> None:
    """A wrong URL or credential: parked, every record would go to the dead-letter topic within seconds."""
    headers = {"Location": location} if location else {}
    app = _case_system(lambda _: web.Response(status=status, headers=headers, text=text), [])
    async with _serve(app) as url:
        with pytest.raises(SinkError) as failed:
            await WebhookSink(f"{url}/cases", attempts=2).deliver(_delivery(1))
    assert not isinstance(failed.value, SinkRejected)


@pytest.mark.stack
@pytest.mark.usefixtures("topics")
async def test_a_delivery_the_case_system_refuses_for_good_is_parked_and_the_partition_goes_on(
    consumer_settings: ConsumerSettings,
    broker_keys: BrokerKeys,
    kafka_admin_config: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    agency = load_agency_keys(consumer_settings.key_dir)
    refused, behind = (seal_for(agency, broker_keys, fictional_payload(n)) for n in (1, 2))
    topic = _inbox(consumer_settings, agency.agency_id)
    dead_letters = await TopicTail(
        kafka_admin_config, dead_letter_topic(agency.agency_id, namespace=consumer_settings.topic_namespace)
    ).mark()
    receipts = await TopicTail(kafka_admin_config, _receipts(consumer_settings)).mark()
    await publish_in_order(kafka_admin_config, topic, [refused.to_bytes(), behind.to_bytes()])

    posts: list[str] = []
    taken: list[str] = []

    def answer(delivery_id: str) -> web.Response:
        if delivery_id == refused.header.delivery_id:
            return web.Response(status=422, text='{"error": "Testchild: unknown school"}')
        taken.append(delivery_id)
        return web.Response(status=201)

    ledger = Ledger(consumer_settings.ledger_path)
    async with _serve(_case_system(answer, posts)) as url:
        sink = WebhookSink(f"{url}/cases", attempts=2)
        consumer = build_consumer(consumer_settings, ledger=ledger, sink=sink)
        with caplog.at_level(logging.WARNING, logger="consumers.runner"):
            async with _running(consumer) as task:
                await _until(task, lambda: behind.header.delivery_id in taken, timeout=30)
    assert not ledger.seen(refused.header.delivery_id), "never handed over"
    ledger.close()

    assert (consumer.sink_refused, consumer.dead_lettered, consumer.delivered) == (1, 1, 1)
    assert posts == [refused.header.delivery_id, behind.header.delivery_id], "the refusal was not retried"
    (parked,) = await dead_letters.wait_for(lambda rs: len(rs) >= 1)
    headers = {name: value.decode() for name, value in parked.headers}
    assert (headers["sgb_reason"], headers["sgb_detail"]) == ("sink_refused", "HTTP 422")
    assert parked.value == refused.to_bytes(), "the dead letter is the sealed record, unchanged"
    assert "Testchild" not in caplog.text
    assert f"SINK REFUSED agency={agency.agency_id} delivery={refused.header.delivery_id}" in caplog.text
    found = await receipts.wait_for(lambda rs: behind.header.delivery_id in _receipt_kids(rs, consumer_settings))
    assert set(_receipt_kids(found, consumer_settings)) == {behind.header.delivery_id}, "no `delivered` receipt"


# --- 3. ack only what was delivered here and is still held ------------------------------------------


@pytest.mark.stack
@pytest.mark.usefixtures("topics")
async def test_ack_refuses_a_delivery_the_ledger_does_not_show_delivered_and_still_held(
    tmp_path: Path, consumer_settings: ConsumerSettings, kafka_admin_config: dict[str, Any]
) -> None:
    ledger = Ledger(consumer_settings.ledger_path)
    for n in range(1, 5):
        ledger.remember(f"dlv-{n}", f"ntf-{n}")
    ledger.remember_withdrawal(delivery_id="dlv-1", notice_id="ntc-1", kind="withdrawal", reason="sent_in_error")
    ledger.remember_withdrawal(delivery_id="dlv-2", notice_id="ntc-2", kind="erasure", reason="court_order")
    ledger.close()
    receipts = await TopicTail(kafka_admin_config, _receipts(consumer_settings)).mark()
    refused = {
        ("dlv-1", "ntf-1", consumer_settings.ledger_path): "was removed on the broker's withdrawal notice",
        ("dlv-2", "ntf-2", consumer_settings.ledger_path): "was removed on the broker's erasure notice",
        ("dlv-never", "ntf-9", consumer_settings.ledger_path): "has no delivery dlv-never",
        ("dlv-3", "ntf-other", consumer_settings.ledger_path): "belongs to notification ntf-3, not ntf-other",
        ("dlv-4", "ntf-4", tmp_path / "no-such-ledger.db"): "no ledger at",
    }

    def ack(delivery_id: str, notification_id: str, ledger_path: Path) -> subprocess.CompletedProcess[str]:
        # The ledger as deployments give it (CONSUMER_LEDGER_PATH), the key directory on the command line.
        env = {**_env(consumer_settings), "CONSUMER_LEDGER_PATH": str(ledger_path)}
        args = ["--key-dir", str(consumer_settings.key_dir), "--delivery-id", delivery_id]
        command = _cli(consumer_settings, "ack", *args, "--notification-id", notification_id)
        return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)

    for (delivery_id, notification_id, ledger_path), why in refused.items():
        result = ack(delivery_id, notification_id, ledger_path)
        assert result.returncode == 2, (delivery_id, result.stdout, result.stderr)
        assert "not acknowledged" in result.stderr and why in result.stderr, result.stderr
    assert not (tmp_path / "no-such-ledger.db").exists(), "a wrong path must not become an empty ledger"
    assert ack("dlv-4", "ntf-4", consumer_settings.ledger_path).returncode == 0

    def ours(records: list[Any]) -> set[str]:
        claims = (jwt.decode(r.value, options={"verify_signature": False}) for r in records)
        return {c["delivery_id"] for c in claims if c["iss"] == consumer_settings.agency_id}

    sent = ours(await receipts.wait_for(lambda rs: "dlv-4" in ours(rs)))
    assert sent == {"dlv-4"}, "an acknowledgement went out for a delivery not held here"
