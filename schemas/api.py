"""What the gateway's HTTP API answers: the 2xx bodies its OpenAPI publishes, as pydantic models.

Pure pydantic, no I/O, so agency systems parse the gateway's answers with the very models the
OpenAPI was generated from. Every model is closed (`extra="forbid"`, so `additionalProperties:
false` in the OpenAPI): a key the gateway starts sending without declaring it here fails the
gateway's response validation and the fuzz suite, rather than going unnoticed by clients.

Two families:

* the receipt of `POST /v1/notifications` (`NotificationReceipt`), built from a fresh policy
  decision, so it uses the vocabulary enums (`Outcome`, `LawfulBasis`, `AgencyRole`, `DueUnit`);
* views of the decision log (status, decisions, overdue; the review queues in `schemas.review_queues`),
  whose values are plain strings: the log is append-only and outlives vocabularies, so an entry written
  under an older vocabulary must still be readable.

Errors have their own models in `broker.api.responses`.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from schemas.common import AGENCY_ID_PATTERN
from schemas.deadlines import Deadline, HeldWait
from schemas.policy_decision import RULE_ID_PATTERN
from schemas.vocab import AgencyRole, DueUnit, LawfulBasis, Outcome

# The decision log's own grammar for times and rule ids (audit.canonical.TIME_FORMAT, audit.models.RuleId).
LOG_TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$"
LOG_RULE_PATTERN = r"^[A-Za-z][A-Za-z0-9.-]{0,31}$"

LogTime = Annotated[str, Field(pattern=LOG_TIME_PATTERN, description="UTC time the log recorded, microseconds")]
AgencyId = Annotated[str, Field(pattern=AGENCY_ID_PATTERN)]
Seq = Annotated[int, Field(ge=0, description="Position of the entry in the decision log")]
EventKindText = Annotated[
    str,
    Field(
        description=(
            "decided, advice_given, authorisation_granted, authorisation_refused, urgent_reviewed, published, "
            "delivered, acknowledged, overdue, viewed, withdrawn, corrected, shredded, notice_published, "
            "withdrawal_confirmed, erasure_confirmed, ..."
        )
    ),
]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleReason(_Answer):
    """One reason, naming its rule: GR1..GR7 golden rules, C1..C8 Caldicott principles, I01.. invariants, SYS-*."""

    rule: str = Field(pattern=LOG_RULE_PATTERN)
    message: str = Field(min_length=1, max_length=500)


# --- POST /v1/notifications ---------------------------------------------------------------------


class ObligationDue(_Answer):
    """Something the recipient must do, and by when (working days follow the partnership's calendar)."""

    kind: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str
    rule: str = Field(pattern=RULE_ID_PATTERN)
    amount: int | None = Field(ge=0, description="None: as soon as possible, no fixed limit")
    unit: DueUnit | None
    due_at: str | None = Field(description="ISO 8601 date-time with offset; None without a fixed limit")


class RecipientReceipt(_Answer):
    """One recipient's decision: field names, rules and deadlines only, never a payload value."""

    delivery_id: str = Field(description="Names this notification-to-this-recipient everywhere: log, Kafka, receipts")
    agency_id: AgencyId
    role: AgencyRole
    outcome: Outcome
    decided_by: list[RuleReason] = Field(description="The finding(s) that set the outcome")
    reasons: list[RuleReason] = Field(description="Every finding, the deciding ones first")
    blocking_reasons: list[Annotated[int, Field(ge=0)]] = Field(
        default_factory=list,
        description="Positions (from 0) in reasons of findings that did not decide the outcome but would on their "
        "own have held or stopped the share, as the decision log names them: put right before sending it again",
    )
    lawful_basis: LawfulBasis | None
    allowed_fields: list[str] = Field(description="Payload fields sealed for this recipient (empty when nothing is)")
    obligations: list[ObligationDue]
    deadline: str | None = Field(description="The earliest obligation's due_at")


class NotificationReceipt(_Answer):
    """The answer to a notification: 202 when it is new, 200 with the first answer for a retried Idempotency-Key."""

    notification_id: UUID
    checkpoint: str | None = Field(description="The latest signed checkpoint of the decision log (a signed note)")
    recipients: list[RecipientReceipt]


# --- GET /v1/notifications/{id} -----------------------------------------------------------------


class StatusEvent(_Answer):
    kind: EventKindText
    at: LogTime
    seq: Seq


class DeliveryStatus(_Answer):
    """Where one recipient's delivery has got to; `overdue` is a flag beside the stage."""

    delivery_id: str
    agency_id: str
    outcome: str = Field(description="The decided outcome (an Outcome value when it was decided)")
    status: Literal["decided", "published", "delivered", "acknowledged", "withdrawn", "corrected", "shredded"] = Field(
        description="How far it got; withdrawn, corrected or shredded once recalled, whatever came before"
    )
    overdue: bool
    events: list[StatusEvent]
    deadlines: list[Deadline] = Field(
        default_factory=list,
        description="The clocks this delivery started, soonest due first, as the decision's detail gives them",
    )


class NotificationStatus(_Answer):
    notification_id: str
    recipients: list[DeliveryStatus]


# --- GET /v1/decisions, GET /v1/decisions/{seq}, GET /v1/overdue ---------------------------------


class DecidingRule(_Answer):
    """The rule that decided, in words: its id and its title from the policy's rule catalogue."""

    rule: str
    title: str


class DecisionSummary(_Answer):
    """A list row: what was decided, between whom, on which rules; never a payload value."""

    seq: Seq
    recorded_at: LogTime
    notification_id: str
    delivery_id: str
    outcome: str
    message_type: str
    sender_agency: str
    sender_role: str
    recipient_agency: str
    lawful_basis: str | None
    consent_state: str | None
    rules: list[str] = Field(description="The rules behind the decision, sorted, each once")
    deciding_rule: DecidingRule | None = Field(
        default=None, description="The rule that decided (the first of the deciding rules), shown first"
    )
    deciding_rules: list[str] = Field(
        default_factory=list,
        description="Every rule whose finding decided it, in the policy's order (the first is `deciding_rule`);"
        " `rule_id` filters on these",
    )
    blocking_rules: list[str] = Field(
        default_factory=list,
        description="The rules of findings that did not decide it but would on their own have held or stopped "
        "the share (each once; decisions logged since entry format 4)",
    )
    state: (
        Literal[
            "held", "released", "refused", "expired", "review_due", "reviewed", "withdrawn", "corrected", "shredded"
        ]
        | None
    ) = Field(
        default=None,
        description=(
            "Where the decision stands now: a held one's answer (held until answered), an urgent share's review"
            " after (review_due until reviewed), or withdrawn, corrected or shredded once recalled; null for a"
            " share that still stands"
        ),
    )
    overdue: bool = Field(
        description="Whether a deadline this decision started is overdue now: its due time passed and it is not met"
    )


class DecisionPage(_Answer):
    total: int = Field(ge=0, description="How many decisions match, over all pages")
    limit: int
    offset: int
    items: list[DecisionSummary]


class LogEvent(_Answer):
    """A later entry on the same delivery: a person's answer, publication, receipt, overdue, view."""

    seq: Seq
    kind: EventKindText
    outcome: str
    recorded_at: LogTime
    # Always sent, null when the system acted (published, overdue). Not required in the schema only
    # because FastAPI strips nulls from OpenAPI examples, which would make an overdue example invalid.
    actor: str | None = None
    actor_role: str | None = None
    actor_agency: str | None = None
    reasons: list[RuleReason]
    follows: list[int] = Field(description="The entries (seq) this one answers")


class ExplainedReason(_Answer):
    """A reason with its rule's title and the source text the rule rests on."""

    rule: str
    message: str
    title: str
    source: str | None = Field(
        description=(
            "The public documents the rule rests on, as `KEY, Chapter > Section` with a quotation: the rule's own,"
            " then the clause of a procedure for this decision's message type where the rule has one (C4's in the"
            " LADO procedure, on a LADO allegation); null where there is none"
        )
    )
    source_origin: Literal["policy", "builtin"] = Field(
        description=(
            "policy: from the METADATA of the policy OPA serves; builtin: a one-line summary of a golden rule or"
            " Caldicott principle, given while OPA cannot be asked"
        )
    )
    deciding: bool = Field(default=False, description="This finding decided the outcome; deciding findings come first")
    blocking: bool = Field(
        default=False,
        description="This finding did not decide the outcome but would on its own have held or stopped the share "
        "(decisions logged since entry format 4); blocking findings come after the deciding ones",
    )


class DecidedBy(_Answer):
    policy_revision: str | None
    decision_id: str | None
    engine: str


class IntegrityPending(_Answer):
    status: Literal["pending"]
    detail: str


class IntegrityFailed(_Answer):
    status: Literal["failed"]
    detail: str


class IntegrityVerified(_Answer):
    """The entry is in the latest checkpoint signed by the broker key, and the proof checked out."""

    status: Literal["verified"]
    checkpoint_size: int
    checkpoint_time: str
    origin: str
    leaf_hash: str
    detail: str
    witnesses: int = Field(
        default=0,
        ge=0,
        description=(
            "How many agencies' witnesses cosigned a checkpoint that covers the entry, by a cosignature that "
            "verifies now under the agency's registered witness key"
        ),
    )
    witnessed_by: list[str] = Field(
        default_factory=list,
        description=(
            "Those agencies, as far as the caller may know of them: all for the partnership's IG lead and "
            "Caldicott Guardian, otherwise the caller's own agency if it is one"
        ),
    )


Integrity = Annotated[IntegrityPending | IntegrityFailed | IntegrityVerified, Field(discriminator="status")]


class DecisionDetail(DecisionSummary):
    """One decision: reasons with rule and source, fields released, basis, linked events, integrity."""

    reasons: list[ExplainedReason]
    fields_released: list[str]
    projection_digest: str | None = Field(description="SHA-256 of the sealed envelope (hex), never of the plaintext")
    subjects_pseudonymised: int
    decided_by: DecidedBy
    reviewed_by: list[LogEvent]
    events: list[LogEvent]
    integrity: Integrity
    deadlines: list[Deadline] = Field(
        default_factory=list, description="The clocks this decision started, soonest due first (none for most)"
    )
    deadlines_met: list[Deadline] = Field(
        default_factory=list,
        description=(
            "A reply's decision: the deadlines of the notification it answers (`replies_to`) that sharing it with "
            "this recipient met, soonest due first; empty for any other decision"
        ),
    )
    # Always sent; a default only so the example's null validates (FastAPI strips nulls from examples).
    waiting: HeldWait | None = Field(
        default=None, description="For a share held now (state held): its wait; null for every other decision"
    )
    corrects: str | None = Field(
        None, description="A correction's decision: the notification it replaced, if this caller may read it"
    )
    correction: str | None = Field(
        None,
        description="A corrected decision (state corrected): the notification that replaced it, if this caller may "
        "read it; null when the correction was not sent to this caller's agency",
    )
    replies_to: str | None = Field(
        None,
        description="A reply's decision: the notification it replies to (its in_reply_to), if this caller may read "
        "one of its decisions",
    )
    same_notification: list[DecisionSummary] = Field(
        default_factory=list,
        description="The same notification's other decisions this caller may read, as listed, oldest first",
    )
    replies: list[DecisionSummary] = Field(
        default_factory=list,
        description="The decisions of the notifications that reply to this one (their in_reply_to) that this caller "
        "may read, as listed, oldest first: a referral's answer, a meeting's record",
    )


class OverdueEvent(LogEvent, DecisionSummary):
    """An `overdue` entry: a deadline ran out on a delivery, with the delivery's summary."""

    # The entry's own time is when the sweep noticed, and it stays when the clock is answered late.
    deadline: Deadline | None = Field(
        default=None, description="The clock that ran out: when it was due, and whether it is still owed now"
    )


# --- operations ---------------------------------------------------------------------------------


class Liveness(_Answer):
    status: Literal["ok"]


class Readiness(_Answer):
    """Ready when the database and OPA (with this gateway's registry) answer; Kafka is reported only:
    `not_used` when this gateway runs no relay (a `python -m broker.worker` publishes instead)."""

    database: Literal["ok", "unavailable"]
    policy: Literal["ok", "unavailable"]
    kafka: Literal["connected", "disconnected", "not_used"]


class RepublishAnswer(_Answer):
    """A delivery put back in the relay's queue (or already waiting there)."""

    delivery_id: str
    queued: bool = Field(description="True: queued again now; false: it was still waiting to be published")
