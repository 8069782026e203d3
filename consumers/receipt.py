"""Receipts: a compact JWT, signed with the agency's registered token key, saying a delivery arrived.

The gateway verifies a receipt's signature as it verifies an agency's API token (registry key by
kid, EdDSA or ES256 only, `aud` = the broker, `exp - iat` at most ten minutes, a role the registry
grants the agency), with two differences (`broker.delivery.receipts.record_receipt`). A receipt may
wait on the topic while the gateway is down, so it is accepted up to a week past its `exp`, and an
acknowledgement counts from its `iat`. Its `jti` is not burned: a receipt read twice (a consumer
re-sending after a crash, a partition handed over) must be harmless, not refused, and it is, since
each kind is logged once per delivery and a second copy changes nothing. The gateway records it in
the decision log only if the delivery was sealed to the signing agency. The Kafka record carries the
token as its value and the delivery id as its key, so all receipts for one delivery share a partition.

Claims::

    iss              the agency id (the gateway looks up its keys by this)
    aud              the broker's audience
    iat, exp         issued now, valid for five minutes (the gateway caps lifetimes at ten, and
                     accepts a receipt up to a week late); an acknowledgement stops its clocks at `iat`
    jti              a fresh UUID4 (required, but not single-use: a repeat is simply not logged again)
    role             "agency_system"
    kind             "delivered" (the sink has it; never for one the sink refused for its tombstone),
                     "acknowledged" (a person has read it), "withdrawn" (the sink removed it on a
                     withdrawal or correction notice) or "erased" (on an erasure notice)
    delivery_id      one notification to one recipient
    notification_id  the notification it belongs to
    envelope_digest  sha256 of the sealed envelope that arrived ("delivered" only)
    sub              who acknowledged, when a person did (optional; the gateway logs it as the actor)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt
from aiokafka import AIOKafkaProducer

from consumers.errors import ConfigurationError, KafkaUnavailable
from consumers.kafka_session import KafkaPlace, diagnose, logged_errors
from consumers.sinks import Delivery
from schemas.notice import Notice, NoticeKind
from schemas.topics import DEFAULT_NAMESPACE, receipts_topic
from transport.keyfiles import AgencyJwtKey
from transport.supervisor import KAFKA_AWAY

RECEIPT_LIFETIME = timedelta(minutes=5)
# A token for one call to the gateway's HTTP API (the witness's): used at once, so short.
API_TOKEN_LIFETIME = timedelta(minutes=1)
ROLE = "agency_system"
CONTENT_TYPE = ("content-type", b"application/jwt")


class ReceiptKind(StrEnum):
    DELIVERED = "delivered"
    ACKNOWLEDGED = "acknowledged"
    WITHDRAWN = "withdrawn"
    ERASED = "erased"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ReceiptSigner:
    """Signs receipts as one agency for one broker audience; the clock is injectable for tests.

    `key` is the token key, or what returns the one to sign with now (`KeyringHolder.jwt_key`), so a
    running consumer signs with its agency's rotated key without a restart.
    """

    agency_id: str
    audience: str
    key: AgencyJwtKey | Callable[[], AgencyJwtKey] = field(repr=False)
    clock: Callable[[], datetime] = _now

    def _key(self) -> AgencyJwtKey:
        return self.key if isinstance(self.key, AgencyJwtKey) else self.key()

    def sign(
        self,
        *,
        kind: ReceiptKind,
        delivery_id: str,
        notification_id: str,
        envelope_digest: str = "",
        subject: str | None = None,
    ) -> str:
        """Return a compact JWT receipt."""
        issued = int(self.clock().timestamp())
        claims: dict[str, Any] = {
            "iss": self.agency_id,
            "aud": self.audience,
            "iat": issued,
            "exp": issued + int(RECEIPT_LIFETIME.total_seconds()),
            "jti": str(uuid.uuid4()),
            "role": ROLE,
            "kind": kind.value,
            "delivery_id": delivery_id,
            "notification_id": notification_id,
        }
        if envelope_digest:
            claims["envelope_digest"] = envelope_digest
        if subject:
            claims["sub"] = subject
        return _encode(claims, self._key())

    def api_token(self) -> str:
        """Return a single-use agency token for one gateway API call (the claims of a receipt, less its facts)."""
        issued = int(self.clock().timestamp())
        claims: dict[str, Any] = {
            "iss": self.agency_id,
            "aud": self.audience,
            "iat": issued,
            "exp": issued + int(API_TOKEN_LIFETIME.total_seconds()),
            "jti": str(uuid.uuid4()),
            "role": ROLE,
        }
        return _encode(claims, self._key())

    def for_delivery(self, delivery: Delivery, kind: str) -> bytes:
        """Return the Kafka record value of a receipt for `delivery` (the runner's signer hook)."""
        token = self.sign(
            kind=ReceiptKind(kind),
            delivery_id=delivery.delivery_id,
            notification_id=delivery.notification_id,
            envelope_digest=delivery.envelope_digest,
        )
        return token.encode("ascii")

    def for_notice(self, notice: Notice) -> bytes:
        """Return the Kafka record value of a receipt saying the sink removed what `notice` named."""
        kind = ReceiptKind.ERASED if notice.kind == NoticeKind.ERASURE.value else ReceiptKind.WITHDRAWN
        token = self.sign(kind=kind, delivery_id=notice.delivery_id, notification_id=notice.notification_id)
        return token.encode("ascii")


def _encode(claims: dict[str, Any], key: AgencyJwtKey) -> str:
    return jwt.encode(claims, key.private_key, algorithm=key.alg, headers={"kid": key.kid, "typ": "JWT"})


async def send_receipt(
    kafka_config: dict[str, Any], token: str, *, delivery_id: str, namespace: str = DEFAULT_NAMESPACE
) -> None:
    """Publish one receipt to the namespace's receipts topic and wait until Kafka has it (acks=all).

    Raises `ConfigurationError` if Kafka refuses the agency's login or the receipts topic (a setting to
    put right), `KafkaUnavailable` if it cannot be reached; either way nothing was sent, and the
    message names what failed and the settings to check.
    """
    place = KafkaPlace(
        principal=str(kafka_config.get("sasl_plain_username")),
        bootstrap=str(kafka_config.get("bootstrap_servers")),
        namespace=namespace,
    )
    producer = AIOKafkaProducer(enable_idempotence=True, acks="all", **kafka_config)
    with logged_errors() as seen:
        try:
            await producer.start()  # within the try: a producer that failed to start is closed too
            await producer.send_and_wait(
                receipts_topic(namespace=namespace),
                token.encode("ascii"),
                key=delivery_id.encode(),
                headers=[CONTENT_TYPE],
            )
        except KAFKA_AWAY as exc:
            found = diagnose(exc, place, seen)
            raise (ConfigurationError if found.misconfigured else KafkaUnavailable)(str(found)) from exc
        finally:
            await producer.stop()
