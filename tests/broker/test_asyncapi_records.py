"""Records on the wire match docs/asyncapi.json: a delivery the relay really published, a real receipt JWT.

Each check is made twice: with the pydantic model and against the document's JSON Schema
(jsonschema_rs), and the document's schema is asserted to be that model's, so neither drifts alone.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiokafka import ConsumerRecord
from sqlmodel import Session, col, select

import audit
from broker.db.tables import OutboxRow
from consumers import opener
from consumers.errors import RejectedMessage, SinkRejected
from consumers.ledger import Ledger
from consumers.receipt import RECEIPT_LIFETIME, ReceiptKind, ReceiptSigner
from consumers.runner import SINK_REFUSED, AgencyConsumer
from consumers.sinks import Delivery
from devstack.partnership import LocalPartnership
from schemas import asyncapi, record_headers
from schemas.envelope import SealedEnvelope
from schemas.notice import Notice
from schemas.topics import NAMESPACE_PATTERN, inbox_topic
from tests.broker.conftest import AUDIENCE, GatewayFactory
from tests.broker.kafka_reader import records, wait_published
from tests.factories import school_referral

try:
    import jsonschema_rs  # with the `attack` extra (schemathesis brings it)

    HAVE_JSONSCHEMA_RS = True
except ImportError:  # without it, the model and the schema's equality to the model still check
    HAVE_JSONSCHEMA_RS = False
DOCUMENT = asyncapi.document()


def _check(model: type[Any], value: Any) -> None:
    """`value` is valid for the document's schema of `model`, which is exactly the model's own schema."""
    components = DOCUMENT["components"]
    schema = components["schemas"][model.__name__]
    own = model.model_json_schema(ref_template="#/components/schemas/{model}")
    own.pop("$defs", None)
    assert schema == own, f"docs/asyncapi.json's {model.__name__} is not the model's schema"
    model.model_validate(value)
    if HAVE_JSONSCHEMA_RS:
        validator = jsonschema_rs.Draft7Validator(
            {"$ref": f"#/components/schemas/{model.__name__}", "components": components}
        )
        errors = [str(error) for error in validator.iter_errors(value)]
        assert not errors, f"{model.__name__}: {errors}"


def _message(name: str) -> dict[str, Any]:
    message: dict[str, Any] = DOCUMENT["components"]["messages"][name]
    return message


def _address_pattern(channel: str) -> re.Pattern[str]:
    # The address's parameters, filled with the grammar their descriptions state.
    address = DOCUMENT["channels"][channel]["address"]
    pattern = re.escape(address).replace(r"\{namespace\}", f"(?P<namespace>{NAMESPACE_PATTERN[1:-1]})")
    return re.compile(pattern.replace(r"\{agency\}", r"(?P<agency>[a-z0-9][a-z0-9-]{1,62})"))


@pytest.mark.stack
async def test_a_relayed_delivery_matches_the_document(
    gateway_factory: GatewayFactory, relay_namespace: str, kafka_admin_config: dict[str, Any]
) -> None:
    gateway = await gateway_factory(topic_namespace=relay_namespace)
    notification = school_referral()
    response = await gateway.post(notification)
    assert response.status_code == 202, response.text
    await wait_published(gateway.outbox)
    with Session(gateway.engine) as session:
        rows = list(session.exec(select(OutboxRow).where(col(OutboxRow.published_at).is_not(None))))
    assert rows, "the referral should reach at least one inbox"
    row = rows[0]  # the topic the relay really used: the document must describe it
    found = await records(kafka_admin_config, row.topic, want={row.delivery_id})
    assert len(found) == 1
    record = found[0]

    topic = _address_pattern("inbox").fullmatch(record.topic)
    assert topic and topic["agency"] == row.recipient_agency, record.topic
    headers = {name: value.decode("utf-8") for name, value in record.headers}
    assert len(headers) == len(record.headers), "a header appears twice"
    _check(record_headers.DeliveryHeaders, headers)
    assert headers["content-type"] == _message("sealedEnvelope")["contentType"]

    key = record.key.decode("ascii")
    assert re.fullmatch(_message("sealedEnvelope")["bindings"]["kafka"]["key"]["pattern"], key)
    # The child's partnership pseudonym: from the sender's own reference when no NHS number links it.
    linking = f"ref:{notification['sender']['agency_id']}:{notification['subjects'][0]['subject_ref']}"
    assert key == audit.pseudonymise(gateway.keys.kafka_key_secret, linking)

    _check(SealedEnvelope, json.loads(record.value))
    envelope = SealedEnvelope.from_bytes(record.value)
    assert headers["ce_id"] == envelope.header.delivery_id == row.delivery_id
    assert headers["sgb_notification_id"] == envelope.header.notification_id == notification["notification_id"]
    assert headers["ce_type"] == f"uk.safeguarding.{envelope.header.message_type}.v{envelope.header.schema_version}"


@pytest.mark.stack  # the partnership fixture grants the stack's relay principal its ACLs
def test_a_receipt_jwt_matches_the_document(partnership: LocalPartnership) -> None:
    agency = "csc-fenmere-mash"
    signer = ReceiptSigner(agency_id=agency, audience=AUDIENCE, key=partnership.agency_keys(agency).current_jwt_key)
    delivered = signer.sign(
        kind=ReceiptKind.DELIVERED,
        delivery_id="00000000-0000-4000-8000-00000000d001",
        notification_id="00000000-0000-4000-8000-00000000e001",
        envelope_digest="sha256:" + "ab" * 32,
    )
    acknowledged = signer.sign(
        kind=ReceiptKind.ACKNOWLEDGED, delivery_id="d-1", notification_id="n-1", subject="worker-7"
    )
    payload = _message("receipt")["payload"]
    for token in (delivered, acknowledged):
        assert re.fullmatch(payload["pattern"], token)
        _check(record_headers.ReceiptJoseHeader, jwt.get_unverified_header(token))
        claims = jwt.decode(token, options={"verify_signature": False})
        _check(record_headers.ReceiptClaims, claims)
        assert claims["exp"] - claims["iat"] == RECEIPT_LIFETIME.total_seconds()
    assert _message("receipt")["contentType"] == "application/jwt"


class _Sent:
    """Stands in for the consumer's producer: keeps what it was asked to send."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []

    async def send_and_wait(
        self, topic: str, value: bytes, *, key: bytes | None = None, headers: list[tuple[str, bytes]] | None = None
    ) -> None:
        self.records.append({"topic": topic, "value": value, "key": key, "headers": headers or []})


class _Unreached:
    """Stands in for the sink and the receipt signer: a refused record never reaches them."""

    async def deliver(self, delivery: Delivery) -> bool:
        raise AssertionError("a refused record reached the sink")

    async def withdraw(self, notice: Notice) -> bool:
        raise AssertionError("a refused record reached the sink")

    def sign_receipt(self, delivery: Delivery, kind: str) -> bytes:
        raise AssertionError("a refused record was receipted")


def _refuse(reason: str) -> Any:
    def open_record(_: bytes) -> Any:
        raise RejectedMessage(reason, "delivery d-1: payload.child (missing)" if reason == "schema_invalid" else "")

    return open_record


class _Refusing(_Unreached):
    """Stands in for an agency's system that refuses this delivery for good."""

    async def deliver(self, delivery: Delivery) -> bool:
        raise SinkRejected(delivery.delivery_id, "HTTP 422")


def _record(agency: str, namespace: str) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic=inbox_topic(agency, namespace=namespace),
        partition=2,
        offset=41,
        timestamp=0,
        timestamp_type=0,
        key=b"ab" * 32,
        value=b"not an envelope",
        checksum=None,
        serialized_key_size=64,
        serialized_value_size=15,
        headers=[],
    )


async def test_a_delivery_the_agencys_system_refuses_is_dead_lettered_as_the_document_says(tmp_path: Path) -> None:
    agency, namespace = "csc-fenmere-mash", "sgbdoc"
    delivery = Delivery(
        decided_by=(),
        delivery_id="d-1",
        notification_id="n-1",
        message_type="safeguarding_referral",
        sender_agency="school-oakfield-primary",
        recipient_agency=agency,
        payload={},
        schema_version="1.0",
        envelope_digest="sha256:" + "0" * 64,
        sealed_at="2026-12-03T20:00:00Z",
    )
    ledger = Ledger(tmp_path / "ledger.db")
    producer = _Sent()
    consumer = AgencyConsumer(
        agency_id=agency,
        group_id="unused",
        kafka_config={},
        opener=lambda _: delivery,
        sink=_Refusing(),
        ledger=ledger,
        sign_receipt=_Unreached().sign_receipt,
        namespace=namespace,
    )
    await consumer.handle(producer, _record(agency, namespace))
    (sent,) = producer.records
    assert _address_pattern("deadLetters").fullmatch(sent["topic"])
    headers = {name: value.decode("utf-8") for name, value in sent["headers"]}
    _check(record_headers.DeadLetterHeaders, headers)
    assert (headers["sgb_reason"], headers["sgb_detail"]) == (SINK_REFUSED, "HTTP 422")
    ledger.close()


async def test_dead_letters_the_consumer_writes_match_the_document(tmp_path: Path) -> None:
    # A key the consumer lacks is no dead letter: it stops the consumer (test_runner_review_fixes.py,
    # test_consumer_review_fixes_2.py). A refusal by the agency's system is the sink's (below).
    codes = {*opener.REASONS.values(), opener.MALFORMED, opener.SCHEMA_INVALID, opener.RETIRED_SIGNING_KEY} - {
        opener.UNKNOWN_SIGNING_KEY,
        opener.UNKNOWN_RECIPIENT_KEY,
    }
    assert codes | {SINK_REFUSED} == {reason.value for reason in record_headers.DeadLetterReason}
    agency, namespace = "csc-fenmere-mash", "sgbdoc"
    ledger = Ledger(tmp_path / "ledger.db")  # like the sink, never reached: a refused record is dead-lettered first
    for reason in sorted(codes):
        producer = _Sent()
        consumer = AgencyConsumer(
            agency_id=agency,
            group_id="unused",
            kafka_config={},
            opener=_refuse(reason),
            sink=_Unreached(),
            ledger=ledger,
            sign_receipt=_Unreached().sign_receipt,
            namespace=namespace,
        )
        record = _record(agency, namespace)
        await consumer.handle(producer, record)
        (sent,) = producer.records
        assert _address_pattern("deadLetters").fullmatch(sent["topic"])
        assert (sent["value"], sent["key"]) == (record.value, record.key), "a dead letter is the record, unchanged"
        headers = {name: value.decode("utf-8") for name, value in sent["headers"]}
        _check(record_headers.DeadLetterHeaders, headers)
        assert headers["sgb_reason"] == reason
    ledger.close()
