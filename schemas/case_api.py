"""What the gateway answers about one person's case: the case review (`POST /v1/case-review`) and
the case shredding (`POST /v1/case-shredding`), as pydantic models; closed, as `schemas.api`'s are.

The person is named in a body, never a URL, and turned into the partnership's keyed pseudonym at once:
no answer here carries an NHS number or an agency's reference back.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.api import AgencyId, DecisionSummary, LogEvent, LogTime, _Answer

# --- POST /v1/case-review -----------------------------------------------------------------------


class CaseReviewQuery(_Answer):
    """Whose decisions to review: an NHS number (links every agency's records about the child), or an
    agency's own reference for the person (that agency's records only). Sent in a body, never a URL."""

    nhs_number: str | None = Field(None, pattern=r"^[0-9]{10}$")
    agency_id: AgencyId | None = Field(None, description="With subject_ref: whose reference it is")
    subject_ref: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


class CaseReviewDecision(DecisionSummary):
    fields_released: list[str] = Field(description="The payload fields this recipient received, by name")
    then: list[LogEvent] = Field(description="What followed: answers, publication, delivery, receipts, overdue")


class CaseReviewSearch(_Answer):
    """An earlier case review of the same person, or a shredding of their case: who, when, and what."""

    recorded_at: LogTime
    actor: str
    actor_role: str
    actor_agency: str
    message: str = Field(description="What the search found, or why and what the shredding destroyed, as logged")


class CaseReview(_Answer):
    """Every decision about one person within the reviewer's scope, oldest first; the search is logged."""

    person: str = Field(description="The partnership's keyed pseudonym of the person, as the log keeps it")
    decisions: list[CaseReviewDecision]
    searches: list[CaseReviewSearch] = Field(
        description="Earlier case reviews of this person, newest first (50 at most): an agency's reviewer "
        "sees their own agency's, the partnership's office holders everyone's"
    )
    shreddings: list[CaseReviewSearch] = Field(
        default_factory=list,
        description="Each shredding of this person's own case, newest first: who destroyed it, when, why, and "
        "what it made unreadable. Every reviewer sees them, as each decision's `then` lists its copy shredded",
    )


# --- POST /v1/case-shredding --------------------------------------------------------------------

ShredReasonCode = Literal["malicious", "sent_in_error", "court_order", "erasure_upheld", "retention_ended"]


class CaseShreddingRequest(CaseReviewQuery):
    """Whose case to shred (named as for a case review), why (a code), and under which decision of the
    partnership's own records. The log keeps both beside the actor for as long as it lasts, and an
    erasure must not leave words about the person there, so neither is free text."""

    reason_code: ShredReasonCode = Field(
        description=(
            "malicious: a notification made to harm the person; sent_in_error: about the wrong child, or "
            "never meant to be sent; court_order: a court ordered the records destroyed; erasure_upheld: "
            "the person's request to erase them (UK GDPR Article 17) was upheld; retention_ended: "
            "the partnership's retention for the case ran out early (e.g. the case was closed)"
        )
    )
    decision_ref: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$",
        description=(
            "The reference of the decision to shred in the IG lead's or Caldicott Guardian's own records "
            "(e.g. IG-2026-0143), where the reasons in words are kept: letters, digits and . _ : / -, up to 64"
        ),
    )


class ShreddedCopies(_Answer):
    """The stored copies made unreadable, by kind."""

    outbox_envelopes: int = Field(ge=0, description="Sealed envelopes in the outbox, published or waiting")
    held_deliveries: int = Field(ge=0, description="Held deliveries still waiting for an answer (now resolved)")


class CaseShredding(_Answer):
    """A case shredded: its keys destroyed, every copy under them unreadable, each delivery logged."""

    person: str = Field(description="The partnership's keyed pseudonym of the person, as the log keeps it")
    keys_destroyed: int = Field(ge=1, description="Case keys destroyed (one per generation of the case)")
    unreadable: ShreddedCopies
    deliveries_logged: int = Field(ge=0, description="Deliveries with a `shredded` entry in the log")
    published_deliveries: int = Field(
        ge=0, description="Deliveries already published, whose recipients are sent an erasure notice"
    )
    erasure_notices: int = Field(
        ge=0,
        description=(
            "Erasure notices sent: one per delivery published or still queued (the relay may be producing"
            " a queued one at this instant; an agency told of one it never received keeps the tombstone)"
        ),
    )
