"""Defects a receiving agency's IT operator found in the consumer, checked without Kafka:

1. The SQLite inbox, its WAL and its shared memory were made 0644: decrypted child data readable by
   every local user. It is made 0600 now, and an inbox others can read is refused, as a key file is.
2. `ack` against a Kafka it could not reach printed an 88-line traceback and an unclosed-producer
   warning; it is one line naming the setting to check, exit status 1.
3. A refused start (a key file at 0644) still left an empty ledger, by default in the current directory.
4. Dead letters for a record not signed by the broker, or addressed to another agency, had no detail.
5. The consumer logged only an exception's type, every second for ever; it says what failed and which
   setting to check, waiting longer each time.

The command lines run as an operator runs them: `python -m consumers` in a process of its own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
)

from broker.partnership.keys import AgencyKeys, BrokerKeys, load_agency_keys
from consumers.errors import ConfigurationError, RejectedMessage
from consumers.kafka_session import KafkaPlace, diagnose, keep_connected
from consumers.keys import load_agency_keyring, load_broker_public_keys
from consumers.ledger import Ledger
from consumers.opener import EnvelopeOpener, NoticeReader
from consumers.sinks import SqliteInboxSink
from tests.consumers.conftest import AUDIENCE, fictional_payload, make_agency_keys, seal_for
from tests.consumers.test_runner_review_fixes import _notice
from tests.consumers.test_sinks import _delivery

REPO = Path(__file__).resolve().parents[2]
AGENCY = "csc-fictional"
PLACE = KafkaPlace(principal=AGENCY, bootstrap="kafka.example:9093", namespace="sgb", group="sgb.consumer.p.x")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most systems start services with, under which SQLite made the inbox 0644."""
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


# --- 1. the inbox is owner-only -------------------------------------------------------------------


@pytest.mark.usefixtures("usual_umask")
async def test_the_inbox_its_wal_and_its_shared_memory_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    sink = SqliteInboxSink(path)
    assert await sink.deliver(_delivery(1)) is True
    reader = sqlite3.connect(path)  # an open reader keeps the WAL and the shared memory in place
    try:
        assert reader.execute("SELECT count(*) FROM inbox").fetchone() == (1,)
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert {file.name: _mode(file) for file in files} == {file.name: 0o600 for file in files}
    finally:
        reader.close()


@pytest.mark.parametrize("exposed", ["inbox.db", "inbox.db-wal"])
def test_an_inbox_other_users_can_read_is_refused_with_the_command_that_fixes_it(tmp_path: Path, exposed: str) -> None:
    path = tmp_path / "inbox.db"
    SqliteInboxSink(path)
    (tmp_path / exposed).touch()
    (tmp_path / exposed).chmod(0o644)
    with pytest.raises(ConfigurationError) as refused:
        SqliteInboxSink(path)
    assert f"run `chmod 600 {tmp_path / exposed}`" in str(refused.value)
    assert _mode(tmp_path / exposed) == 0o644, "refused, not quietly tightened"


def _keys(tmp_path: Path) -> AgencyKeys:
    """The agency's keys where `_env` names them (the `broker_keys` fixture makes the broker's beside them)."""
    return make_agency_keys(tmp_path / "agency-keys", AGENCY)


def _env(tmp_path: Path, *, bootstrap: str = "127.0.0.1:9") -> dict[str, str]:
    """An agency's settings for a consumer that never gets as far as Kafka, or finds none there."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("CONSUMER_")}
    return {
        **env,
        "PYTHONPATH": str(REPO),
        "CONSUMER_ENVIRONMENT": "development",
        "CONSUMER_AGENCY_ID": AGENCY,
        "CONSUMER_KAFKA_PASSWORD": "a-fictional-kafka-password",
        "CONSUMER_KAFKA_BOOTSTRAP": bootstrap,
        "CONSUMER_KEY_DIR": str(tmp_path / "agency-keys"),
        "CONSUMER_BROKER_PUBLIC_KEYS": str(tmp_path / "broker-keys" / "signing-history.json"),
        "CONSUMER_BROKER_AUDIENCE": AUDIENCE,
    }


def _consumers(env: dict[str, str], command: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "consumers", command, "--agency", AGENCY, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_refuses_an_inbox_other_users_can_read_in_one_line_and_opens_no_ledger(
    tmp_path: Path, broker_keys: BrokerKeys
) -> None:
    _keys(tmp_path)
    inbox = tmp_path / "inbox.db"
    inbox.touch(mode=0o644)
    inbox.chmod(0o644)
    ledger = tmp_path / "ledger.db"
    result = _consumers(_env(tmp_path), "run", "--sink", f"sqlite:{inbox}", "--ledger", str(ledger), cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"error: other users can read the case data in the inbox ({inbox} has mode 0644); run `chmod 600 {inbox}`"
    )
    assert "Traceback" not in result.stderr
    assert not ledger.exists(), "a refused start opened the ledger"


def test_list_refuses_an_inbox_other_users_can_read(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox.db"
    SqliteInboxSink(inbox)
    inbox.chmod(0o640)
    result = _consumers(_env(tmp_path), "list", "--sink", f"sqlite:{inbox}", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"error: other users can read the case data in the inbox ({inbox} has mode 0640); " + (
        f"run `chmod 600 {inbox}`\n"
    )


# --- 3. a refused start leaves no ledger ----------------------------------------------------------


def test_a_start_refused_for_a_key_file_leaves_no_ledger_and_no_inbox_in_the_current_directory(
    tmp_path: Path, broker_keys: BrokerKeys
) -> None:
    _keys(tmp_path)
    key = next((tmp_path / "agency-keys").glob("enc-*.pem"))
    key.chmod(0o644)
    here = tmp_path / "where-the-operator-stood"
    here.mkdir()
    result = _consumers(_env(tmp_path), "run", cwd=here)  # the ledger and the inbox at their defaults
    assert result.returncode == 2, result.stderr
    assert "chmod 600" in result.stderr
    assert sorted(os.listdir(here)) == [], "a refused start left files behind"


def test_a_kafka_ca_file_that_is_not_there_is_one_line_and_leaves_no_ledger(
    tmp_path: Path, broker_keys: BrokerKeys
) -> None:
    _keys(tmp_path)
    here = tmp_path / "where-the-operator-stood"
    here.mkdir()
    env = {**_env(tmp_path), "CONSUMER_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "CONSUMER_KAFKA_CA_FILE": "no-ca.pem"}
    result = _consumers(env, "run", cwd=here)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        "error: cannot use CONSUMER_KAFKA_CA_FILE no-ca.pem: [Errno 2] No such file or directory"
    ]
    assert sorted(os.listdir(here)) == []


# --- 2. ack with no Kafka to reach ----------------------------------------------------------------


def test_ack_with_no_kafka_to_reach_is_one_line_naming_the_bootstrap_setting(
    tmp_path: Path, broker_keys: BrokerKeys, unused_tcp_port: int
) -> None:
    _keys(tmp_path)
    ledger = Ledger(tmp_path / "ledger.db")
    ledger.remember("dlv-1", "ntf-1")
    ledger.close()
    env = _env(tmp_path, bootstrap=f"127.0.0.1:{unused_tcp_port}")
    args = ("--delivery-id", "dlv-1", "--notification-id", "ntf-1", "--ledger", str(tmp_path / "ledger.db"))
    result = _consumers(env, "ack", *args, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    (line,) = result.stderr.splitlines()  # no traceback, no aiokafka log, no unclosed producer
    assert line.startswith(f"error: not acknowledged: cannot reach Kafka at 127.0.0.1:{unused_tcp_port} ("), line
    assert "check CONSUMER_KAFKA_BOOTSTRAP (--bootstrap) and CONSUMER_KAFKA_SECURITY_PROTOCOL" in line
    assert result.stdout == ""


# --- 4. a dead letter says why, never what --------------------------------------------------------


@pytest.fixture
def opener(tmp_path: Path, broker_keys: BrokerKeys, broker_history: Path) -> EnvelopeOpener:
    make_agency_keys(tmp_path / "agency", AGENCY)
    keyring = load_agency_keyring(tmp_path / "agency", agency_id=AGENCY)
    return EnvelopeOpener(
        agency_id=AGENCY,
        broker_keys=load_broker_public_keys(broker_history),
        decryption_keys=keyring.decryption_keys,
        validate=_accept,
    )


def _accept(message_type: str, schema_version: str, payload: Mapping[str, Any]) -> None:
    """Any payload: these records are refused before their content is looked at."""


def test_a_record_the_broker_did_not_sign_or_addressed_elsewhere_is_parked_with_a_detail(
    tmp_path: Path, opener: EnvelopeOpener, broker_keys: BrokerKeys
) -> None:
    ours = load_agency_keys(tmp_path / "agency")
    other = make_agency_keys(tmp_path / "other", "police-fictional")
    genuine = seal_for(ours, broker_keys, fictional_payload(1))
    tampered = genuine.model_copy(update={"sealed_at": "2020-01-01T00:00:00Z"}).to_bytes()
    misaddressed = seal_for(other, broker_keys, fictional_payload(2), delivery_id="dlv-elsewhere").to_bytes()
    details = {}
    for value in (tampered, misaddressed):
        with pytest.raises(RejectedMessage) as parked:
            opener(value)
        details[parked.value.reason] = parked.value.detail
    assert details == {
        "bad_signature": f"the signature does not verify under broker key {broker_keys.signing_key_id}: "
        "changed after the broker signed it, or not signed by the broker",
        "not_for_this_agency": f"delivery dlv-elsewhere is addressed to police-fictional, not {AGENCY}: "
        "published to the wrong inbox",
    }
    assert not any("Testchild" in detail or "Alpha" in detail for detail in details.values())


def test_a_notice_the_broker_did_not_sign_or_addressed_elsewhere_is_parked_with_a_detail(
    broker_keys: BrokerKeys, broker_history: Path
) -> None:
    reader = NoticeReader(agency_id=AGENCY, broker_keys=load_broker_public_keys(broker_history))
    forged = _notice("withdrawal", "dlv-1", AGENCY, broker_keys).model_copy(update={"reason": "malicious"})
    elsewhere = _notice("erasure", "dlv-2", "police-fictional", broker_keys)
    details = {}
    for notice in (forged, elsewhere):
        with pytest.raises(RejectedMessage) as parked:
            reader(notice.to_bytes())
        details[parked.value.reason] = parked.value.detail
    assert details["bad_signature"].startswith(
        f"the signature does not verify under broker key {broker_keys.signing_key_id}"
    )
    assert details["not_for_this_agency"] == (
        f"notice {elsewhere.notice_id} (erasure of delivery dlv-2) is addressed to police-fictional, not {AGENCY}: "
        "published to the wrong inbox"
    )


# --- 5. what a Kafka failure means, and a wait that grows -----------------------------------------


def test_each_kafka_failure_names_the_setting_to_check() -> None:
    login = SaslAuthenticationFailed(
        "Authentication failed due to invalid credentials with SASL mechanism SCRAM-SHA-512"
    )
    found = {
        "unreachable": diagnose(
            KafkaConnectionError("Unable to bootstrap"), PLACE, [OSError(111, "Connect call failed")]
        ),
        "login": diagnose(KafkaConnectionError("Unable to bootstrap"), PLACE, [login]),
        "group": diagnose(GroupAuthorizationFailedError(), PLACE),
        "topic": diagnose(TopicAuthorizationFailedError("sgb.receipts"), PLACE),
    }
    assert {name: (d.reason, d.misconfigured) for name, d in found.items()} == {
        "unreachable": ("kafka_unreachable", False),
        "login": ("kafka_login_refused", True),
        "group": ("kafka_group_refused", True),
        "topic": ("kafka_topic_refused", True),
    }
    assert "cannot reach Kafka at kafka.example:9093 ([Errno 111] Connect call failed)" in str(found["unreachable"])
    assert "CONSUMER_KAFKA_BOOTSTRAP" in str(found["unreachable"])
    assert "refused the login of principal csc-fictional" in str(found["login"])
    assert "check CONSUMER_KAFKA_USER, CONSUMER_KAFKA_PASSWORD" in str(found["login"])
    assert "the consumer group sgb.consumer.p.x" in str(found["group"])
    assert "check CONSUMER_PARTNERSHIP_ID and CONSUMER_TOPIC_NAMESPACE" in str(found["group"])
    assert "sgb.receipts" in str(found["topic"]) and "check CONSUMER_TOPIC_NAMESPACE" in str(found["topic"])


async def test_a_kafka_that_keeps_refusing_is_tried_again_ever_later_and_said_each_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stop = asyncio.Event()
    log = logging.getLogger("tests.consumers.kafka_session")
    starts = 0

    async def refused() -> None:
        nonlocal starts
        starts += 1
        if starts == 6:
            stop.set()  # the operator put the password right; the session runs until stopped
            return
        logging.getLogger("aiokafka.client").error(
            'Unable connect to "%s:%s": %s', "kafka.example", 9093, SaslAuthenticationFailed("invalid credentials")
        )
        raise KafkaConnectionError("Unable to bootstrap from [('kafka.example', 9093)]")

    with caplog.at_level(logging.WARNING, logger=log.name):
        await keep_connected(refused, stop=stop, place=PLACE, name="consumer x", log=log, initial=0.001, most=0.004)
    ours = [r for r in caplog.records if r.name == log.name]
    waits = [r.getMessage().rsplit("trying again in ", 1)[1] for r in ours]
    assert waits == ["0.001 s", "0.002 s", "0.004 s", "0.004 s", "0.004 s"]
    assert {r.levelname for r in ours} == {"ERROR"}, "a refused login is an error, not a wait"
    assert all("check CONSUMER_KAFKA_USER, CONSUMER_KAFKA_PASSWORD" in r.getMessage() for r in ours)
    assert {getattr(r, "reason", None) for r in ours} == {"kafka_login_refused"}
