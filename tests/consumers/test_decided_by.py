"""An agency's delivery leads with the finding that decided it should receive it (issue #12).

The deciding finding(s) ride in the envelope's signed header: the consumer hands them to the sink
first (SQLite inbox, JSON file, webhook body), the `list` command shows them, an envelope sealed
before headers carried them still arrives, and one whose findings were rewritten on the way is
refused as a bad signature. The Kafka tests run as the agency's own principal on the real broker.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from broker.partnership.keys import AgencyKeys, BrokerKeys, load_agency_keys
from consumers.errors import RejectedMessage
from consumers.ledger import Ledger
from consumers.opener import EnvelopeOpener
from consumers.service import build_consumer
from consumers.settings import ConsumerSettings
from consumers.sinks import Delivery, DirectorySink, SqliteInboxSink
from schemas.envelope import DecidingFinding, SealedEnvelope, deciding_findings
from schemas.policy_decision import Reason, RecipientDecision
from schemas.topics import dead_letter_topic, inbox_topic
from schemas.vocab import Outcome
from tests.consumers.conftest import (
    DECIDED_BY,
    TopicTail,
    fictional_payload,
    publish,
    seal_for,
    wait_until,
)
from tests.consumers.test_cli import REPO, _cli, _env

AGENCY = "csc-fictional"
MINIMISED = DecidingFinding(
    rule="C3",
    message="Only the fields this recipient needs were sealed; the rest were withheld.",
    effect="withhold_fields",
)


def _rewritten(envelope: SealedEnvelope) -> bytes:
    """The same envelope with its deciding finding swapped on the way: as an attacker or a bad relay would."""
    header = envelope.header.model_copy(update={"decided_by": [MINIMISED]})
    return envelope.model_copy(update={"header": header}).to_bytes()


def test_the_opened_delivery_carries_the_signed_deciding_findings(
    opener: EnvelopeOpener, agency_keys: AgencyKeys, broker_keys: BrokerKeys
) -> None:
    envelope = seal_for(agency_keys, broker_keys, fictional_payload(1))
    assert opener(envelope.to_bytes()).decided_by == DECIDED_BY
    earlier = seal_for(agency_keys, broker_keys, fictional_payload(2), decided_by=())
    assert b"decided_by" not in earlier.to_bytes()  # the wire form of envelopes sealed before #12
    assert opener(earlier.to_bytes()).decided_by == ()
    with pytest.raises(RejectedMessage) as caught:
        opener(_rewritten(envelope))
    assert caught.value.reason == "bad_signature"


def test_the_header_takes_the_policys_deciding_findings_with_their_effect() -> None:
    decision = RecipientDecision(
        agency_id=AGENCY,
        role="mash_intake",
        outcome=Outcome.SHARE_MINIMISED,
        # An older policy revision's finding has no effect: it takes its outcome's.
        decided_by=[Reason(rule="C3", message=MINIMISED.message)],
        reasons=[],
        lawful_basis=None,
        allowed_fields=[],
        withheld_fields=[],
        obligations=[],
    )
    assert deciding_findings(decision) == [MINIMISED]


class Both:
    """The configured SQLite inbox and a directory of JSON files, fed by one consumer (one group's offsets)."""

    def __init__(self, inbox: SqliteInboxSink, directory: Path) -> None:
        self._inbox, self._files = inbox, DirectorySink(directory)

    async def deliver(self, delivery: Delivery) -> bool:
        return await self._files.deliver(delivery) & await self._inbox.deliver(delivery)


async def _consume(settings: ConsumerSettings, **overrides: Any) -> None:
    """Run the agency's consumer until both genuine envelopes reached the sink and the forged one was dead-lettered.

    The three records carry different keys, so they land on different partitions: waiting for the deliveries alone
    could stop the consumer before it reached the forged record's partition."""
    ledger = Ledger(settings.ledger_path)
    consumer = build_consumer(settings, ledger=ledger, **overrides)
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        await wait_until(lambda: (consumer.delivered >= 2 and consumer.dead_lettered >= 1) or task.done(), timeout=60)
        if task.done():
            task.result()
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)
        ledger.close()


@pytest.mark.stack
@pytest.mark.usefixtures("topics")
async def test_the_agency_inbox_and_files_lead_with_why_it_was_sent(
    tmp_path: Path, consumer_settings: ConsumerSettings, broker_keys: BrokerKeys, kafka_admin_config: dict[str, Any]
) -> None:
    agency = load_agency_keys(consumer_settings.key_dir)
    decided = seal_for(agency, broker_keys, fictional_payload(1))
    earlier = seal_for(agency, broker_keys, fictional_payload(2), decided_by=())
    forged = _rewritten(seal_for(agency, broker_keys, fictional_payload(3)))
    topic = inbox_topic(agency.agency_id, namespace=consumer_settings.topic_namespace)
    dead = await TopicTail(
        kafka_admin_config, dead_letter_topic(agency.agency_id, namespace=consumer_settings.topic_namespace)
    ).mark()
    await publish(kafka_admin_config, topic, [forged, decided.to_bytes(), earlier.to_bytes()])

    files = tmp_path / "files"
    await _consume(consumer_settings, sink=Both(SqliteInboxSink(Path(consumer_settings.sink_target)), files))
    rows = {row["delivery_id"]: row for row in SqliteInboxSink(Path(consumer_settings.sink_target)).rows()}
    assert all(next(iter(row)) == "decided_by" for row in rows.values())
    assert rows[decided.header.delivery_id]["decided_by"] == [f.model_dump() for f in DECIDED_BY]
    assert rows[earlier.header.delivery_id]["decided_by"] == []
    (rejected,) = await dead.wait_for(lambda records: len(records) >= 1)
    assert dict(rejected.headers)["sgb_reason"] == b"bad_signature"

    listed = subprocess.run(
        _cli(consumer_settings, "list", "--sink", consumer_settings.sink),
        cwd=REPO,
        env=_env(consumer_settings),
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    assert f"decided by GR4 (share): {DECIDED_BY[0].message}" in listed
    assert "decided by — (—): not stated (sealed earlier)" in listed
    written = json.loads((files / f"{decided.header.delivery_id}.json").read_text())
    assert next(iter(written)) == "decided_by"
    assert written["decided_by"] == [{"rule": "GR4", "message": DECIDED_BY[0].message, "effect": "share"}]
