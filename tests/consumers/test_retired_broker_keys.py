"""A retired broker key verifies only what it signed before its retirement, and not for ever.

Real keys throughout: the broker's own key tools make and rotate the signing history, and the broker's
own sealing, notice and checkpoint code signs with the old key after it was rotated out, as whoever
kept a copy of it could. Before the fix every key of the history verified anything, at any time.
The last test runs the consumer on the real broker, as the agency's own principal, in this run's
namespace (tests/consumers/conftest.py).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import Checkpoint
from audit.canonical import format_time
from audit.note import sign_note
from broker.partnership.keys import (
    AgencyKeys,
    BrokerKeys,
    generate_broker_keys,
    load_agency_keys,
    rotate_broker_signing_key,
)
from consumers.errors import CHECKPOINT_INVALID, ConfigurationError, RejectedMessage, WitnessAlarm
from consumers.keys import load_agency_keyring, load_broker_public_keys
from consumers.ledger import Ledger
from consumers.opener import EnvelopeOpener, NoticeReader
from consumers.service import load_broker_keys
from consumers.settings import ConsumerSettings
from consumers.validation import default_validator
from consumers.witness import CheckpointWitness
from schemas.envelope import format_timestamp
from schemas.notice import Notice
from schemas.topics import dead_letter_topic
from tests.consumers.conftest import NOW, Principal, TopicTail, fictional_payload, make_agency_keys, seal_for
from tests.consumers.test_runner import _consumer, _inbox, _run_until, _sink, publish_in_order
from tests.consumers.test_witness_review_fixes import ORIGIN, SOURCE, TREE, FakeGateway
from transport.keyfiles import AgencyWitnessKey
from transport.notice import sign_notice
from transport.sealing import seal

AGENCY = "csc-fictional"
# Whole seconds: envelopes and notices state their signed time to the second.
TODAY = datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Rotation:
    """A broker key set rotated at `retired`: the old key, the current one and their signing history."""

    old: BrokerKeys
    current: BrokerKeys
    history: Path
    retired: datetime


def _rotate(directory: Path, *, retired: datetime) -> Rotation:
    old = generate_broker_keys(directory, now=retired - timedelta(days=90))
    current = rotate_broker_signing_key(directory, now=retired)
    return Rotation(old, current, directory / "signing-history.json", retired)


@pytest.fixture
def agency_keys(tmp_path: Path) -> AgencyKeys:
    return make_agency_keys(tmp_path / "agency", AGENCY)


def _opener(tmp_path: Path, broker_keys: Any) -> EnvelopeOpener:
    keyring = load_agency_keyring(tmp_path / "agency", agency_id=AGENCY)
    return EnvelopeOpener(
        agency_id=AGENCY, broker_keys=broker_keys, decryption_keys=keyring.decryption_keys, validate=default_validator()
    )


def _refused(opener: Any, value: bytes) -> RejectedMessage:
    with pytest.raises(RejectedMessage) as caught:
        opener(value)
    return caught.value


def test_the_old_key_opens_what_it_sealed_before_its_retirement_and_not_what_it_sealed_after(
    tmp_path: Path, agency_keys: AgencyKeys
) -> None:
    rotation = _rotate(tmp_path / "broker-keys", retired=TODAY - timedelta(days=10))
    opener = _opener(tmp_path, load_broker_public_keys(rotation.history))
    old, retired = rotation.old, rotation.retired
    before = seal_for(agency_keys, old, fictional_payload(1), sealed_at=retired - timedelta(hours=1))
    # Inside the allowance: the gateway still signed with the old key while every agency took up the new
    # history, until it restarted on the new one.
    landing = seal_for(agency_keys, old, fictional_payload(2), sealed_at=retired + timedelta(hours=71))
    after = seal_for(agency_keys, old, fictional_payload(3), sealed_at=retired + timedelta(hours=73))
    current = seal_for(agency_keys, rotation.current, fictional_payload(4), sealed_at=TODAY)

    assert opener(before.to_bytes()).payload == fictional_payload(1)
    assert opener(landing.to_bytes()).payload == fictional_payload(2)
    assert opener(current.to_bytes()).payload == fictional_payload(4)
    refused = _refused(opener, after.to_bytes())
    assert refused.reason == "retired_signing_key"
    assert f"broker key {old.signing_key_id} was retired at {format_timestamp(retired)}" in refused.detail
    assert f"signed at {format_timestamp(retired + timedelta(hours=73))}" in refused.detail
    assert "more than 72 hours later" in refused.detail
    assert "Testchild" not in str(refused)


def test_a_key_retired_longer_ago_than_the_window_is_refused_whatever_time_it_states(
    tmp_path: Path, agency_keys: AgencyKeys
) -> None:
    # What a holder of the old key would do: backdate the record to before the key's retirement.
    rotation = _rotate(tmp_path / "broker-keys", retired=TODAY - timedelta(days=31))
    opener = _opener(tmp_path, load_broker_public_keys(rotation.history))
    backdated = seal_for(
        agency_keys, rotation.old, fictional_payload(1), sealed_at=rotation.retired - timedelta(hours=1)
    )
    current = seal_for(agency_keys, rotation.current, fictional_payload(2), sealed_at=TODAY)

    refused = _refused(opener, backdated.to_bytes())
    assert refused.reason == "retired_signing_key"
    assert f"broker key {rotation.old.signing_key_id} was retired at {format_timestamp(rotation.retired)}" in (
        refused.detail
    )
    assert "more than 30 days ago" in refused.detail and "retention" in refused.detail
    assert opener(current.to_bytes()).payload == fictional_payload(2)


def test_the_retirement_is_judged_once_the_signature_verified(tmp_path: Path, agency_keys: AgencyKeys) -> None:
    rotation = _rotate(tmp_path / "broker-keys", retired=TODAY - timedelta(days=10))
    opener = _opener(tmp_path, load_broker_public_keys(rotation.history))
    # Sealed to a key id this agency lacks: refused for the retired key's late signature, not taken for
    # a rotation of the agency's own keys, which stops the consumer until the key is installed.
    genuine = seal_for(agency_keys, rotation.old, fictional_payload(1), sealed_at=rotation.retired - timedelta(hours=1))
    late = seal(
        fictional_payload(1),
        header=genuine.header.model_copy(update={"recipient_key_id": "0123456789abcdef"}),
        recipient_public_key=agency_keys.current_encryption_key.private_key.public_key(),
        signing_key=rotation.old.signing_key,
        signing_key_id=rotation.old.signing_key_id,
        sealed_at=TODAY,
    )
    refused = _refused(opener, late.to_bytes())
    assert refused.reason == "retired_signing_key" and "retired" in refused.detail
    # A forgery naming the retired key stays a bad signature, with nothing said about the key's retirement.
    tampered = genuine.model_copy(update={"sealed_at": format_timestamp(TODAY)})
    forged = _refused(opener, tampered.to_bytes())
    assert forged.reason == "bad_signature" and "retired" not in forged.detail
    assert opener(genuine.to_bytes()).delivery_id == genuine.header.delivery_id


def test_the_settings_set_the_allowance_and_the_window(tmp_path: Path, agency_keys: AgencyKeys) -> None:
    rotation = _rotate(tmp_path / "broker-keys", retired=TODAY - timedelta(days=40))
    late = seal_for(agency_keys, rotation.old, fictional_payload(1), sealed_at=rotation.retired + timedelta(hours=80))

    with pytest.warns(UserWarning):  # development's placeholder Kafka password
        strict = ConsumerSettings(agency_id=AGENCY, environment="development", broker_public_keys=rotation.history)
    lenient = strict.model_copy(update={"retired_key_allowance_hours": 96, "retired_key_window_days": 45})
    assert (strict.retired_key_allowance_hours, strict.retired_key_window_days) == (72, 30)
    assert "30 days" in _refused(_opener(tmp_path, load_broker_keys(strict)), late.to_bytes()).detail
    assert _opener(tmp_path, load_broker_keys(lenient))(late.to_bytes()).payload == fictional_payload(1)


def test_a_pem_key_file_knows_no_retirement_so_still_accepts_and_says_so(
    tmp_path: Path, agency_keys: AgencyKeys, caplog: pytest.LogCaptureFixture
) -> None:
    rotation = _rotate(tmp_path / "broker-keys", retired=TODAY - timedelta(days=40))
    pem = tmp_path / "broker.pem"
    pem.write_bytes(
        b"".join(
            key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            for _, key in rotation.current.verify_keys
        )
    )
    with caplog.at_level(logging.WARNING, logger="consumers.keys"):
        keys = load_broker_public_keys(pem)
    # Only this logger's: a Kafka client of an earlier test, still closing, may warn meanwhile.
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name == "consumers.keys"]
    assert len(warnings) == 1 and "retired key's signatures cannot be refused" in warnings[0]
    assert all(key.retired_at is None for key in keys.entries())
    late = seal_for(agency_keys, rotation.old, fictional_payload(1), sealed_at=TODAY)
    assert _opener(tmp_path, keys)(late.to_bytes()).payload == fictional_payload(1)


def _notice(broker: BrokerKeys, issued_at: datetime) -> bytes:
    return sign_notice(
        kind="withdrawal",
        notice_id=f"ntc-{uuid.uuid4().hex}",
        delivery_id="dlv-1",
        notification_id="ntf-1",
        recipient_agency=AGENCY,
        reason="sent_in_error",
        issued_at=issued_at,
        signing_key=broker.signing_key,
        signing_key_id=broker.signing_key_id,
    ).to_bytes()


def test_a_notice_the_old_key_issued_after_its_retirement_is_refused(tmp_path: Path) -> None:
    """A forged withdrawal or erasure would remove a delivery from the agency's system."""
    rotation = _rotate(tmp_path / "broker-keys", retired=TODAY - timedelta(days=10))
    read = NoticeReader(agency_id=AGENCY, broker_keys=load_broker_public_keys(rotation.history))
    assert isinstance(read(_notice(rotation.old, rotation.retired - timedelta(hours=1))), Notice)
    assert isinstance(read(_notice(rotation.current, TODAY)), Notice)
    refused = _refused(read, _notice(rotation.old, rotation.retired + timedelta(hours=73)))
    assert refused.reason == "retired_signing_key"
    assert rotation.old.signing_key_id in refused.detail and "more than 72 hours later" in refused.detail


def _checkpoint(broker: BrokerKeys, size: int, at: datetime) -> str:
    body = Checkpoint.body(ORIGIN, size, TREE.root(size), format_time(at), b"\x01" * 32)
    return sign_note(body, ORIGIN, broker.signing_key)


def _witness(ledger: Ledger, history: Path) -> CheckpointWitness:
    key = AgencyWitnessKey("witness-1", AGENCY, Ed25519PrivateKey.generate(), "2026-01-05T09:00:00Z")
    return CheckpointWitness(
        key=key, broker_keys=load_broker_public_keys(history), origin=ORIGIN, ledger=ledger, gateway=FakeGateway()
    )


async def test_a_checkpoint_the_old_key_signed_after_its_retirement_is_a_witness_alarm(tmp_path: Path) -> None:
    rotation = _rotate(tmp_path / "broker-keys", retired=TODAY - timedelta(days=10))
    ledger = Ledger(tmp_path / "ledger.db")
    try:
        witness = _witness(ledger, rotation.history)
        await witness.observe(_checkpoint(rotation.old, 5, rotation.retired - timedelta(hours=1)), source=SOURCE)
        assert witness.kept is not None and witness.kept.tree_size == 5
        late = _checkpoint(rotation.old, 9, rotation.retired + timedelta(hours=73))
        with pytest.raises(WitnessAlarm) as caught:
            await witness.observe(late, source=SOURCE)
        assert caught.value.reason == CHECKPOINT_INVALID
        assert f"broker key {rotation.old.signing_key_id} was retired" in str(caught.value)
        assert "more than 72 hours later" in str(caught.value)
        assert (caught.value.evidence["kept_size"], caught.value.evidence["new_checkpoint"]) == (5, late)
        assert witness.kept.tree_size == 5
    finally:
        ledger.close()


@pytest.mark.parametrize("fault", ["undated", "out-of-order"])
def test_a_history_whose_dates_cannot_say_when_a_key_was_retired_is_refused(tmp_path: Path, fault: str) -> None:
    rotation = _rotate(tmp_path / "broker-keys", retired=NOW)
    entries = json.loads(rotation.history.read_text())
    if fault == "undated":
        entries[1]["created_at"] = "2026-01-05"  # no UTC offset: a local time of some unknown place
    else:
        entries[1]["created_at"] = (NOW + timedelta(days=1)).isoformat()
    rotation.history.write_text(json.dumps(entries))
    with pytest.raises(ConfigurationError, match=entries[1]["kid"]):
        load_broker_public_keys(rotation.history)


@pytest.mark.stack
@pytest.mark.usefixtures("topics")
async def test_on_kafka_a_record_the_old_key_sealed_after_its_retirement_is_dead_lettered_and_the_rest_arrive(
    tmp_path: Path,
    consumer_settings: ConsumerSettings,
    broker_keys: BrokerKeys,
    kafka_admin_config: dict[str, Any],
    principal: Principal,
) -> None:
    retired = TODAY - timedelta(days=10)
    # The run's own broker key directory (the one consumer_settings names), rotated ten days ago.
    current = rotate_broker_signing_key(tmp_path / "broker-keys", now=retired)
    agency = load_agency_keys(consumer_settings.key_dir)
    before = seal_for(agency, broker_keys, fictional_payload(1), sealed_at=retired - timedelta(hours=1))
    late = seal_for(agency, broker_keys, fictional_payload(2), sealed_at=retired + timedelta(hours=73))
    after = seal_for(agency, current, fictional_payload(3), sealed_at=TODAY)
    parked_topic = dead_letter_topic(principal.agency_id, namespace=consumer_settings.topic_namespace)
    dead_letters = await TopicTail(kafka_admin_config, parked_topic).mark()
    values = [before.to_bytes(), late.to_bytes(), after.to_bytes()]
    await publish_in_order(kafka_admin_config, _inbox(consumer_settings, principal.agency_id), values)

    ledger = Ledger(consumer_settings.ledger_path)
    consumer = _consumer(consumer_settings, ledger)
    inbox = _sink(consumer_settings)
    await _run_until(consumer, lambda: len(inbox.delivery_ids()) >= 2 and consumer.dead_lettered >= 1)
    ledger.close()

    assert sorted(inbox.delivery_ids()) == sorted([before.header.delivery_id, after.header.delivery_id])
    (parked,) = await dead_letters.wait_for(lambda rs: len(rs) >= 1)
    headers = {name: value.decode() for name, value in parked.headers}
    assert parked.value == late.to_bytes() and headers["sgb_reason"] == "retired_signing_key"
    assert (
        f"broker key {broker_keys.signing_key_id} was retired at {format_timestamp(retired)}" in (headers["sgb_detail"])
    )
