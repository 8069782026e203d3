"""The gateway's own tables: outbox, held deliveries and their keys, case keys, idempotency records, relay lease.

They live in their own SQLModel registry so the decision log's tables (owned and migrated by `audit`)
are never created or altered from here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, Text, text
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class BrokerTable(SQLModel, registry=registry()):
    """Base of every gateway table; `BrokerTable.metadata` holds only these."""


class OutboxRow(BrokerTable, table=True):
    """One sealed delivery waiting for, or done with, publication to an agency's inbox."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(unique=True, index=True)
    notification_id: str = Field(index=True)
    # The reply chain's root notification (b0007, `broker.db.threads`): every delivery of a thread, found at once.
    thread_id: str | None = Field(default=None, index=True)
    recipient_agency: str
    topic: str
    key: str
    headers: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    # With `case_key_id`: AES-256-GCM under that case key (`broker.delivery.case_keys`), nonce beside it;
    # without (rows from before case keys, system notices): the sealed envelope as it goes to Kafka.
    envelope: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    case_key_id: int | None = Field(default=None, index=True)
    nonce: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    # What the relay needs to log the `published` event without re-reading the decision.
    log_context: dict[str, object] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime
    published_at: datetime | None = Field(default=None, index=True)


class HeldDelivery(BrokerTable, table=True):
    """A sealed projection waiting for a person to release or refuse it, encrypted under its own key."""

    __tablename__ = "held_delivery"

    delivery_id: str = Field(primary_key=True)
    notification_id: str = Field(index=True)
    thread_id: str | None = Field(default=None, index=True)
    recipient_agency: str
    outcome: str
    topic: str
    key: str
    headers: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    nonce: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # The outbox row's case-key ciphertext, encrypted again under the held key: both keys are needed.
    ciphertext: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    case_key_id: int | None = Field(default=None, index=True)
    case_nonce: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    log_context: dict[str, object] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime
    expires_at: datetime
    resolved_at: datetime | None = None
    resolution: str | None = None


class HeldKey(BrokerTable, table=True):
    """The key of one held delivery; deleting this row is what destroys a refused or expired share."""

    __tablename__ = "held_key"

    delivery_id: str = Field(primary_key=True)
    key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CaseKey(BrokerTable, table=True):
    """One case's AES-256-GCM key; setting `key` to NULL (shredding) makes every copy under it unreadable.

    The row stays after shredding, as the record of when and by whom; a later notification about the
    same child gets a new row (a new generation), so at most one row per case has a key.
    """

    __tablename__ = "case_key"
    __table_args__ = (
        Index(
            "uq_case_key_live",
            "case_ref",
            unique=True,
            sqlite_where=text("key IS NOT NULL"),
            postgresql_where=text("key IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_ref: str = Field(index=True)
    key: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime
    shredded_at: datetime | None = None
    shredded_by: str | None = None
    # The shredding's reason code (b0004), for an erasure notice sent after the shredding committed.
    shredded_reason: str | None = None


class IdempotencyRecord(BrokerTable, table=True):
    """The first receipt for an agency's Idempotency-Key, so a retry never causes a second decision."""

    __tablename__ = "idempotency"

    agency_id: str = Field(primary_key=True)
    key: str = Field(primary_key=True)
    body_digest: str
    notification_id: str
    # The first answer's JSON text, exactly as it was sent (migration b0006).
    response: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime


class RelayLease(BrokerTable, table=True):
    """Which relay instance may publish; the holder renews it, a dead holder's lease expires."""

    __tablename__ = "relay_lease"

    name: str = Field(primary_key=True)
    holder: str
    expires_at: datetime


class ObligationClock(BrokerTable, table=True):
    """A statutory clock started by a decision; an answer (acknowledgement) stops it, time runs it out."""

    __tablename__ = "obligation_clock"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(index=True)
    notification_id: str = Field(index=True)
    recipient_agency: str
    sender_agency: str
    kind: str
    rule: str
    description: str
    due_at: datetime = Field(index=True)
    stops_on: str
    stopped_at: datetime | None = None
    # The reply whose share met it (b0009), so both sides read which answer met a deadline, not only when;
    # None while it runs, and for one met otherwise (a receipt, a review, its own notification).
    met_by: str | None = Field(default=None, index=True)
    overdue_at: datetime | None = None
    # The seq of the `overdue` entry logged when it ran out (b0008): which clock an entry is about.
    overdue_seq: int | None = Field(default=None, index=True, sa_type=BigInteger)
    log_context: dict[str, object] = Field(sa_column=Column(JSON, nullable=False))


class NamedPerson(BrokerTable, table=True):
    """A person of the sending agency a notification names as acting (`sender.user_ref`).

    An agency system posts for its people; the log's actor is then the system, so this is what lets
    the practitioner named on it see it, as the access table's "own" scope promises (issue 11).
    """

    __tablename__ = "named_person"

    notification_id: str = Field(primary_key=True)
    agency_id: str = Field(primary_key=True)
    person: str = Field(primary_key=True, index=True)
