"""A broker key the consumer does not hold is a configuration refusal (exit 2), never a witness alarm (exit 3).

The defect: with CONSUMER_GATEWAY_URL set, the witness judges each record's checkpoint before the record
is opened, and it raised the witness alarm ("the log may have been forked") for a checkpoint signed by
a broker key the agency had not installed yet: a rotation whose history was not handed over, which the
operator puts right by installing the broker's signing history. Without a gateway URL the same record
was refused as configuration (exit 2), but without naming the key. A checkpoint that a key the agency
holds signed and that does not verify, or that forks from the kept one, must still be an alarm.

Real keys throughout (the broker's own key tools make and rotate them), and the real consumer command
on the real Kafka as the agency's own principal. The witness's gateway is never asked in these cases
(no verdict here needs a consistency proof), so its URL is a loopback port nothing listens on.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import Checkpoint
from audit.canonical import format_time
from audit.note import NoteSignature, key_hash, sign_note, split_note
from broker.partnership.keys import BrokerKeys, load_agency_keys, rotate_broker_signing_key
from consumers.errors import CHECKPOINT_INVALID, ConfigurationError, UnknownBrokerKey, WitnessAlarm
from consumers.gateway import GatewayClient
from consumers.keys import load_broker_public_keys
from consumers.ledger import Ledger
from consumers.settings import ConsumerSettings
from consumers.sinks import SqliteInboxSink
from consumers.witness import CheckpointWitness
from schemas.envelope import SealedEnvelope
from schemas.topics import inbox_topic
from tests.consumers.conftest import fictional_payload, seal_for
from tests.consumers.test_cli import REPO, _env, run_command
from tests.consumers.test_witness_review_fixes import ORIGIN, SOURCE, TREE
from transport.keyfiles import AgencyWitnessKey

CHAIN = b"\x01" * 32


def _checkpoint(signing_key: Ed25519PrivateKey, size: int, *, root: bytes | None = None, name: str = ORIGIN) -> str:
    """The log's checkpoint of `size` entries (of TREE, or `root`), signed by `signing_key` under `name`."""
    body = Checkpoint.body(
        ORIGIN, size, TREE.root(size) if root is None else root, format_time(datetime.now(UTC)), CHAIN
    )
    return sign_note(body, name, signing_key)


def _forged(note: str) -> str:
    """`note` with its broker signature's bytes changed: the line still names the broker's key."""
    body, (line,) = split_note(note)
    blob = line.blob[:-1] + bytes([line.blob[-1] ^ 1])
    return body + "\n" + NoteSignature(line.name, line.key_id, blob).line


def _rotated(tmp_path: Path) -> BrokerKeys:
    """The broker's keys rotated on: the new key is in a history the agency was not given."""
    rotated_dir = tmp_path / "rotated-broker-keys"
    shutil.copytree(tmp_path / "broker-keys", rotated_dir)
    return rotate_broker_signing_key(rotated_dir, now=datetime.now(UTC))


def _note_key_id(broker: BrokerKeys) -> str:
    return f"{ORIGIN}+{key_hash(ORIGIN, broker.signing_key.public_key()).hex()}"


# --- the witness on its own ----------------------------------------------------------------------


async def test_the_witness_refuses_a_checkpoint_of_an_unknown_broker_key_as_configuration_naming_it(
    tmp_path: Path, broker_keys: BrokerKeys, broker_history: Path
) -> None:
    rotated = _rotated(tmp_path)
    ledger = Ledger(tmp_path / "ledger.db")
    try:
        witness = CheckpointWitness(
            key=AgencyWitnessKey("witness-1", "csc-fictional", Ed25519PrivateKey.generate(), "2026-01-05T09:00:00Z"),
            broker_keys=load_broker_public_keys(broker_history),
            origin=ORIGIN,
            ledger=ledger,
            # The real client, at a closed port: neither refusal asks the gateway for a proof.
            gateway=GatewayClient(base_url=_closed_port(), token=lambda: "never-sent"),
        )
        with pytest.raises(UnknownBrokerKey) as caught:
            await witness.observe(_checkpoint(rotated.signing_key, 5), source=SOURCE)
        assert isinstance(caught.value, ConfigurationError) and not isinstance(caught.value, WitnessAlarm)
        assert caught.value.key_id == _note_key_id(rotated), str(caught.value)
        assert _note_key_id(rotated) in str(caught.value) and "signing-history.json" in str(caught.value)
        assert witness.kept is None and ledger.kept_checkpoint(ORIGIN) is None

        # A line under the key the agency holds that does not verify is a forgery: still the alarm.
        with pytest.raises(WitnessAlarm) as alarm:
            await witness.observe(_forged(_checkpoint(broker_keys.signing_key, 5)), source=SOURCE)
        assert alarm.value.reason == CHECKPOINT_INVALID
        # So is a checkpoint with no signature under the log's name at all: nobody's rotation explains it.
        with pytest.raises(WitnessAlarm) as alarm:
            await witness.observe(_checkpoint(rotated.signing_key, 5, name="someone-else"), source=SOURCE)
        assert alarm.value.reason == CHECKPOINT_INVALID
        assert ledger.kept_checkpoint(ORIGIN) is None
    finally:
        ledger.close()


# --- `python -m consumers run` on Kafka ----------------------------------------------------------


def _closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


async def _publish(admin_config: dict[str, Any], topic: str, records: list[tuple[SealedEnvelope, str]]) -> None:
    """As the relay would: each envelope with the log's checkpoint in its `sgb_checkpoint` header, in order."""
    producer = AIOKafkaProducer(enable_idempotence=True, acks="all", **admin_config)
    await producer.start()
    try:
        for envelope, note in records:
            headers = [("sgb_checkpoint", note.encode())]
            await producer.send_and_wait(topic, envelope.to_bytes(), key=b"one-child", headers=headers)
    finally:
        await producer.stop()


def _run(settings: ConsumerSettings, *, gateway_url: str | None) -> subprocess.CompletedProcess[str]:
    env = _env(settings)
    if gateway_url is not None:
        env["CONSUMER_GATEWAY_URL"] = gateway_url
    else:
        env.pop("CONSUMER_GATEWAY_URL", None)
    return subprocess.run(run_command(settings), cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def _refusals(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error: ")]


@pytest.mark.stack
@pytest.mark.usefixtures("topics")
@pytest.mark.parametrize("witnessing", [True, False], ids=["gateway-url", "no-gateway-url"])
async def test_run_stops_with_exit_2_naming_the_broker_key_it_does_not_hold(
    tmp_path: Path,
    consumer_settings: ConsumerSettings,
    kafka_admin_config: dict[str, Any],
    witnessing: bool,
) -> None:
    agency = load_agency_keys(consumer_settings.key_dir)
    rotated = _rotated(tmp_path)
    # After `rotate-broker-keys` and a restart, the gateway seals and checkpoints with the new key alike.
    record = seal_for(agency, rotated, fictional_payload(1))
    topic = inbox_topic(agency.agency_id, namespace=consumer_settings.topic_namespace)
    await _publish(kafka_admin_config, topic, [(record, _checkpoint(rotated.signing_key, 5))])

    result = _run(consumer_settings, gateway_url=_closed_port() if witnessing else None)

    assert result.returncode == 2, result.stderr
    assert "ALARM" not in result.stderr, result.stderr
    (refusal,) = _refusals(result)
    # The witness sees the checkpoint first and can name only its signed-note key id; without a
    # witness the envelope names the kid of the broker's signing history.
    named = _note_key_id(rotated) if witnessing else rotated.signing_key_id
    assert f"broker key {named}, which this consumer does not hold" in refusal, refusal
    assert "install the broker's signing history (its signing-history.json, as CONSUMER_BROKER_PUBLIC_KEYS" in refusal
    assert SqliteInboxSink(Path(consumer_settings.sink_target)).delivery_ids() == []


@pytest.mark.stack
@pytest.mark.usefixtures("topics")
@pytest.mark.parametrize("fault", ["forked", "forged"])
async def test_run_still_raises_the_witness_alarm_for_a_checkpoint_of_a_key_it_holds(
    consumer_settings: ConsumerSettings, broker_keys: BrokerKeys, kafka_admin_config: dict[str, Any], fault: str
) -> None:
    agency = load_agency_keys(consumer_settings.key_dir)
    kept = _checkpoint(broker_keys.signing_key, 5)
    if fault == "forked":  # the broker's key signed another tree of the size this agency kept
        shown, reason = _checkpoint(broker_keys.signing_key, 5, root=b"\x07" * 32), "fork"
    else:
        shown, reason = _forged(_checkpoint(broker_keys.signing_key, 9)), CHECKPOINT_INVALID
    first, second = (
        seal_for(agency, broker_keys, fictional_payload(1)),
        seal_for(agency, broker_keys, fictional_payload(2)),
    )
    topic = inbox_topic(agency.agency_id, namespace=consumer_settings.topic_namespace)
    await _publish(kafka_admin_config, topic, [(first, kept), (second, shown)])

    result = _run(consumer_settings, gateway_url=_closed_port())

    assert result.returncode == 3, result.stderr
    assert f"ALARM: the decision log contradicts the checkpoint {agency.agency_id} kept ({reason}:" in result.stderr
    assert _refusals(result) == []
    # The first record's checkpoint was kept on first use and the record delivered; the second, not.
    assert SqliteInboxSink(Path(consumer_settings.sink_target)).delivery_ids() == [first.header.delivery_id]
