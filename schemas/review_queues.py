"""The HTTP contract of the review queues: what waits for a person (`GET /v1/queues`) and what their
answer became (`POST /v1/queues/{delivery_id}`, `POST /v1/urgent/{seq}`).

Views of the decision log, like the rest of `schemas.api` (plain strings, not vocabulary enums: the log
outlives vocabularies), and closed in the same way, so an undeclared key fails response validation.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from schemas.api import EventKindText, LogTime, RuleReason, Seq
from schemas.deadlines import Deadline


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReviewItem(_Answer):
    """A held delivery or an urgent share awaiting a person, pseudonymised: no payload value, no subject."""

    delivery_id: str
    outcome: str
    decided_seq: Seq
    message_type: str
    sender_agency: str
    recipient_agency: str
    purpose: str | None
    data_classes: list[str]
    reasons: list[RuleReason]
    lawful_basis: str | None
    consent_state: str | None
    waiting_since: LogTime
    expires_at: str | None = Field(description="When a held delivery is destroyed unanswered; None for urgent shares")
    # Always sent; a default only so an example with null validates (FastAPI strips nulls from examples).
    refuse_only: str | None = Field(
        default=None,
        description=(
            "Null when the item may be released; otherwise why the only answers are to refuse it or for the "
            "sender to send again (a release is then refused, 409 release_not_allowed)"
        ),
    )
    deciding_rules: list[str] = Field(
        default_factory=list,
        description="The rules of the findings that caused the hold, first; see deciding_reasons for the findings",
    )
    # Added beside `deciding_rules` (kept for existing clients): a rule can have a finding that decided and
    # one that did not, so only a position names the finding itself, as the decision page and log do.
    deciding_reasons: list[Annotated[int, Field(ge=0)]] = Field(
        default_factory=list,
        description=(
            "Positions (from 0) in reasons of the findings that caused the hold, in their order: the decision log's "
            "deciding_reasons (for an entry logged before it had them, as the decision page infers them). A rule in "
            "deciding_rules may have other findings; their positions are not listed"
        ),
    )
    blocking_reasons: list[Annotated[int, Field(ge=0)]] = Field(
        default_factory=list,
        description=(
            "Positions (from 0) in reasons of findings that did not cause the hold but would on their own have held "
            "or stopped the share: the decision log's blocking_reasons (empty for entries logged before it had them)"
        ),
    )
    resolves: str = Field(default="", description="What would resolve it: whose answer ends the wait")
    review_due: str | None = Field(
        default=None,
        description="For an urgent share: when its review afterwards is due (ISO 8601); None for held shares",
    )
    # Added after the rest (the page already grouped and named held shares by them); always sent, a default
    # only so an example with null validates, as for refuse_only.
    notification_id: str | None = Field(
        default=None,
        description=(
            "The notification this share belongs to, by the id its sender's answer gave: one notification held for "
            "several recipients has one item per recipient. Null for an advice request, which is answered without "
            "what identifies its case (GR3)"
        ),
    )
    sender_role: str | None = Field(
        default=None,
        description=(
            "The role the notification was sent as (sender.role); null for an advice request, as is notification_id"
        ),
    )
    meets_on_release: list[Deadline] = Field(
        default_factory=list,
        description=(
            "A held reply: the running deadlines of the notification it answers that releasing it would meet, "
            "soonest due first (what hangs on the answer); empty for anything else"
        ),
    )
    replies_to_type: str | None = Field(
        default=None,
        description="A held reply: the message type of the notification it answers; null otherwise, and for advice",
    )
    replies_to_seq: Seq | None = Field(
        default=None,
        description=(
            "A held reply: the decision (log seq) of the notification it answers, to the replying agency, where the "
            "caller may read it; null otherwise"
        ),
    )


class ReviewQueues(_Answer):
    needs_advice: list[ReviewItem]
    hold_for_authorisation: list[ReviewItem]
    urgent_review: list[ReviewItem]


class ReviewAnswer(_Answer):
    """The log entry a person's answer became; it follows the decision it answers."""

    seq: Seq
    kind: EventKindText
    outcome: str = Field(
        description="released or withheld for a held share; upheld or not_upheld for an urgent share's review"
    )
    follows: list[int]
    recorded_at: LogTime
