"""What the log stores: the caller's :class:`EntryDraft` and the append-only tables.

Nothing here holds a payload value or a subject's identity: subjects appear only as keyed
pseudonyms (:func:`audit.pseudonymise`), released fields by name only, and the sealed projection
by its SHA-256 digest. The draft's patterns refuse free text wherever an identifier is expected.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import BigInteger, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from audit.canonical import Encoded, canonical_text

ENTRY_FORMAT = 4
"""Version of the canonical entry document; bump it (and add golden vectors) to change the encoding.

Format 2 adds `deciding_rules`; format 3 adds `deciding_reasons` (the positions in `reasons` of the
deciding findings, since one rule may have a deciding finding and one that did not decide); format 4
adds `blocking_reasons` (the positions of findings that did not decide but would on their own have
held or stopped the share, so a reviewer does not read them as met). Columns
added by a later format are in the document only when they hold something, and the document then
says the format of the latest such column (`"v": 2` with `deciding_rules` alone); an entry that
leaves them empty is encoded exactly as format 1 was, so every entry written before a column existed
still verifies.
"""
OPTIONAL_COLUMNS = ("deciding_rules", "deciding_reasons", "blocking_reasons")
COLUMN_FORMAT = {"deciding_rules": 2, "deciding_reasons": 3, "blocking_reasons": 4}
"""The entry format that added each optional column."""


def document_format(later: Iterable[str]) -> int:
    """The `v` of a document holding the optional columns ``later`` (1 when it holds none)."""
    return max((COLUMN_FORMAT[name] for name in later), default=1)


Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}$")]
Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
FieldName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_.\[\]]{0,127}$")]
RuleId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9.-]{0,31}$")]
Digest = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Pseudonym = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
SeqRef = Annotated[int, Field(ge=0)]
ReasonIndex = Annotated[int, Field(ge=0, le=9999)]


class EventKind(StrEnum):
    """What happened to a delivery (one recipient's decision)."""

    DECIDED = "decided"
    ADVICE_GIVEN = "advice_given"
    AUTHORISATION_GRANTED = "authorisation_granted"
    AUTHORISATION_REFUSED = "authorisation_refused"
    PUBLISHED = "published"
    DELIVERED = "delivered"
    ACKNOWLEDGED = "acknowledged"
    OVERDUE = "overdue"
    VIEWED = "viewed"
    URGENT_REVIEWED = "urgent_reviewed"
    ACCESS_REFUSED = "access_refused"
    REGISTRY_CHANGED = "registry_changed"
    WITHDRAWN = "withdrawn"
    CORRECTED = "corrected"
    EXPIRED = "expired"
    SHREDDED = "shredded"
    PURGED = "purged"
    REPUBLISH_REQUESTED = "republish_requested"
    NOTICE_PUBLISHED = "notice_published"  # a withdrawal, correction or erasure notice reached the inbox
    WITHDRAWAL_CONFIRMED = "withdrawal_confirmed"  # the recipient's consumer removed the delivery
    ERASURE_CONFIRMED = "erasure_confirmed"  # the recipient's consumer erased the delivery of a shredded case


class Reason(BaseModel):
    """One reason behind a decision, naming its rule (``GR1``..``GR7``, ``C1``..``C8``, ...)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: RuleId
    message: Annotated[str, StringConstraints(min_length=1, max_length=500)]


class EntryDraft(BaseModel):
    """An entry as the caller builds it; :func:`audit.append` adds seq, time and hashes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    notification_id: Identifier
    delivery_id: Identifier
    kind: EventKind
    outcome: Code
    sender_agency: Code
    sender_role: Code
    recipient_agency: Code
    message_type: Code
    reasons: tuple[Reason, ...] = ()
    # The rule ids of the findings that set the outcome (the policy's `decided_by`), so a reviewer
    # can filter and count decisions by what decided them, not by every rule that was consulted.
    deciding_rules: tuple[RuleId, ...] = ()
    # Positions in `reasons` of the deciding findings, in their order (empty: not recorded).
    deciding_reasons: tuple[ReasonIndex, ...] = ()
    # Positions in `reasons` of findings that did not decide but would on their own have held or stopped
    # the share (outranked, or overridden by an urgent share or a duty to share); empty: none, or not recorded.
    blocking_reasons: tuple[ReasonIndex, ...] = ()
    lawful_basis: Code | None = None
    consent_state: Code | None = None
    fields_released: tuple[FieldName, ...] = ()
    projection_digest: Digest | None = None
    policy_revision: Identifier | None = None
    decision_id: Identifier | None = None
    actor: Identifier | None = None
    actor_role: Code | None = None
    actor_agency: Code | None = None
    follows: tuple[SeqRef, ...] = ()
    subjects: tuple[Pseudonym, ...] = ()


class CanonicalJSON(TypeDecorator[Any]):
    """A JSON value stored as its canonical text, so that what is hashed is what is stored."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return value.text if isinstance(value, Encoded) else canonical_text(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


JSON_COLUMNS = (
    *("reasons", "fields_released", "follows", "subjects"),
    *("deciding_rules", "deciding_reasons", "blocking_reasons"),
)
"""Entry columns stored as canonical JSON text."""


class Entry(SQLModel, table=True):
    """One append-only decision-log entry. Never update or delete one: triggers refuse it."""

    __tablename__ = "audit_entry"

    seq: int = SQLField(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})
    recorded_at: str = SQLField(index=True, max_length=27)
    notification_id: str = SQLField(index=True, max_length=128)
    delivery_id: str = SQLField(index=True, max_length=128)
    kind: str = SQLField(max_length=32)
    outcome: str = SQLField(index=True, max_length=64)
    sender_agency: str = SQLField(index=True, max_length=64)
    sender_role: str = SQLField(max_length=64)
    recipient_agency: str = SQLField(index=True, max_length=64)
    message_type: str = SQLField(max_length=64)
    reasons: list[dict[str, str]] = SQLField(sa_type=CanonicalJSON, nullable=False)
    deciding_rules: list[str] = SQLField(default_factory=list, sa_type=CanonicalJSON, nullable=False)
    deciding_reasons: list[int] = SQLField(default_factory=list, sa_type=CanonicalJSON, nullable=False)
    blocking_reasons: list[int] = SQLField(default_factory=list, sa_type=CanonicalJSON, nullable=False)
    lawful_basis: str | None = SQLField(default=None, max_length=64)
    consent_state: str | None = SQLField(default=None, max_length=64)
    fields_released: list[str] = SQLField(sa_type=CanonicalJSON, nullable=False)
    projection_digest: str | None = SQLField(default=None, max_length=64)
    policy_revision: str | None = SQLField(default=None, max_length=128)
    decision_id: str | None = SQLField(default=None, max_length=128)
    actor: str | None = SQLField(default=None, max_length=128)
    actor_role: str | None = SQLField(default=None, max_length=64)
    actor_agency: str | None = SQLField(default=None, max_length=64)
    follows: list[int] = SQLField(sa_type=CanonicalJSON, nullable=False)
    subjects: list[str] = SQLField(sa_type=CanonicalJSON, nullable=False)
    leaf_hash: str = SQLField(max_length=64)
    chain_hash: str = SQLField(max_length=64)

    def document(self) -> dict[str, Any]:
        """Return the canonical document that :attr:`leaf_hash` covers."""
        return entry_document(self.model_dump())


def entry_document(values: dict[str, Any]) -> dict[str, Any]:
    """Build the canonical entry document from column values (everything but the two hashes)."""
    document = {name: values[name] for name in BASE_COLUMNS}
    later = {name: values[name] for name in OPTIONAL_COLUMNS if values.get(name)}
    document.update(later)
    document["v"] = document_format(later)
    return document


DOCUMENT_COLUMNS = tuple(name for name in Entry.model_fields if name not in ("leaf_hash", "chain_hash"))
BASE_COLUMNS = tuple(name for name in DOCUMENT_COLUMNS if name not in OPTIONAL_COLUMNS)


class ChainHead(SQLModel, table=True):
    """The single mutable row: the log's size, last chain hash and Merkle compact range.

    Appenders lock it (``SELECT ... FOR UPDATE``) so that appends from many processes serialise.
    It is a cache of what the entries already prove; the verifier checks it against them.
    """

    __tablename__ = "audit_chain_head"

    id: int = SQLField(primary_key=True, sa_column_kwargs={"autoincrement": False})
    size: int = SQLField(sa_type=BigInteger)
    head: str = SQLField(max_length=64)
    compact_range: str = SQLField(sa_type=Text)


class CheckpointRecord(SQLModel, table=True):
    """A signed checkpoint (tree size, Merkle root, time) as stored; append-only like entries."""

    __tablename__ = "audit_checkpoint"

    id: int | None = SQLField(default=None, primary_key=True)
    tree_size: int = SQLField(unique=True, sa_type=BigInteger)
    root_hash: str = SQLField(max_length=64)
    chain_head: str = SQLField(max_length=64)
    created_at: str = SQLField(max_length=27)
    origin: str = SQLField(max_length=200)
    note: str = SQLField(sa_type=Text)


class CosignatureRecord(SQLModel, table=True):
    """A witness's cosignature line on a stored checkpoint, kept as received; append-only.

    One row per checkpoint and witness key (the first cosignature received wins): the line is
    what an auditor re-verifies, the other columns index it.
    """

    __tablename__ = "audit_checkpoint_cosignature"
    __table_args__ = (
        UniqueConstraint("tree_size", "witness_name", "key_id", name="uq_audit_checkpoint_cosignature_witness"),
    )

    id: int | None = SQLField(default=None, primary_key=True)
    tree_size: int = SQLField(sa_type=BigInteger, foreign_key="audit_checkpoint.tree_size")
    witness_name: str = SQLField(max_length=200)
    key_id: str = SQLField(max_length=8)
    timestamp: int = SQLField(sa_type=BigInteger)
    line: str = SQLField(sa_type=Text)


class PolicyInputRecord(SQLModel, table=True):
    """What the policy was asked about one notification, kept for replay; append-only like the log.

    Names, data classes, codes and flags only (the gateway's policy input never holds a payload
    value or free text). `seqs` are the decided entries it produced, in the order of the input's
    recipients, so `audit replay` compares each recipient's new answer with what was decided.
    """

    __tablename__ = "audit_policy_input"

    # No foreign key: it would let a TRUNCATE of the log fail on the key before the log's own
    # append-only trigger speaks; `audit replay` checks every seq it reads.
    first_seq: int = SQLField(primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False})
    # Unique: a second notification under an id already decided is refused (`broker.sharing.flow`).
    notification_id: str = SQLField(index=True, unique=True, max_length=128)
    seqs: list[int] = SQLField(sa_type=CanonicalJSON, nullable=False)
    digest: str = SQLField(max_length=64)
    document: dict[str, Any] = SQLField(sa_type=CanonicalJSON, nullable=False)
