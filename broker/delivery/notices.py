"""Notices in the outbox: the broker's signed withdrawal, correction or erasure of a delivery.

A notice goes out the way a delivery does, so it inherits the outbox's guarantees: it is committed
with the log entries that explain it, published by the relay only after that commit, retried while
Kafka is down. It is keyed like the delivery it names, so on the agency's inbox it follows that
delivery on the same partition. Its row's `delivery_id` is the notice's own id (the outbox keys on
it); the log names the delivery it is about (`notice_for` in the row's log context).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlmodel import Session, col, select

from broker.db.tables import OutboxRow
from broker.partnership.keys import BrokerKeys
from schemas.notice import NOTICE_CONTENT_TYPE, REASON_WORDS, Notice
from schemas.topics import inbox_topic
from transport.notice import sign_notice

NoticeKind = Literal["withdrawal", "correction", "erasure"]


@dataclass(frozen=True)
class NoticeWriter:
    """Signs notices with the broker's key and addresses them to the agencies' inboxes."""

    keys: BrokerKeys
    namespace: str
    partnership_id: str
    # The log's latest signed checkpoint, carried as a delivery carries it. A notice comes later than
    # the delivery it recalls, so its checkpoint usually covers that delivery's decision: something
    # for the agency's witness to check and cosign.
    checkpoint: str | None = None

    def row(
        self,
        *,
        kind: NoticeKind,
        delivery: OutboxRow,
        reason: str,
        now: datetime,
        superseded_by: str | None = None,
    ) -> OutboxRow:
        """The outbox row of a notice about `delivery` (which keeps its topic and Kafka key)."""
        notice = sign_notice(
            kind=kind,
            notice_id=f"notice-{uuid.uuid4()}",
            delivery_id=delivery.delivery_id,
            notification_id=delivery.notification_id,
            recipient_agency=delivery.recipient_agency,
            reason=reason,
            superseded_by=superseded_by,
            issued_at=now,
            signing_key=self.keys.signing_key,
            signing_key_id=self.keys.signing_key_id,
        )
        return OutboxRow(
            delivery_id=notice.notice_id,
            notification_id=notice.notification_id,
            thread_id=delivery.thread_id,
            recipient_agency=notice.recipient_agency,
            topic=inbox_topic(notice.recipient_agency, namespace=self.namespace),
            key=delivery.key,
            headers=self._headers(notice, now),
            envelope=notice.to_bytes(),
            log_context={**delivery.log_context, "notice_for": delivery.delivery_id, "notice_kind": kind},
            created_at=now,
        )

    def _headers(self, notice: Notice, now: datetime) -> dict[str, str]:
        return {
            "ce_specversion": "1.0",
            "ce_id": notice.notice_id,
            "ce_source": f"/sgb/{self.partnership_id}",
            "ce_type": f"uk.safeguarding.notice.{notice.kind}.v1",
            "ce_time": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "content-type": NOTICE_CONTENT_TYPE,
            "sgb_notification_id": notice.notification_id,
            **({"sgb_checkpoint": self.checkpoint} if self.checkpoint else {}),
        }


def send_erasures(
    session: Session, writer: NoticeWriter, delivery_ids: Sequence[str], *, reason: str, now: datetime
) -> int:
    """Queue an erasure notice for each delivery of a shredded case, published or queued (in the shredding's
    transaction)."""
    if not delivery_ids:
        return 0
    rows = session.exec(select(OutboxRow).where(col(OutboxRow.delivery_id).in_(delivery_ids))).all()
    for row in rows:
        session.add(writer.row(kind="erasure", delivery=row, reason=reason, now=now))
    return len(rows)


def reason_words(reason: str) -> str:
    return REASON_WORDS.get(reason, reason.replace("_", " "))
