"""Review queues over the API: what waits for the caller, and their answer to it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from broker.api.decisions import filters
from broker.api.deps import CalendarDep, CallerDep, LogDep, OutboxDep, SeqPath
from broker.api.json_body import JsonRoute
from broker.api.responses import AUTHENTICATED, BEARER, errors, ok, request_examples
from broker.review import queues as review
from broker.review import timescales
from broker.review import views as decision_view
from broker.review.access import Viewer
from broker.review.views import Filters
from schemas import api_examples
from schemas.api import OverdueEvent
from schemas.common import CanonicalUuidText
from schemas.review_queues import ReviewAnswer, ReviewQueues

router = APIRouter(prefix="/v1", tags=["review"], route_class=JsonRoute)


class QueueAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    decision: Literal["release", "refuse"]
    reason: str = Field(min_length=1, max_length=review.MAX_REASON)


class UrgentReview(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str = Field(min_length=1, max_length=review.MAX_REASON)
    finding: Literal["upheld", "not_upheld"] = Field(
        description="upheld: it was right to share it with this recipient at once; not_upheld: it should not have"
        " gone to this recipient (withdraw it from that recipient alone: POST"
        " /v1/notifications/{notification_id}/withdrawal with its agency_id and the reason not_upheld)"
    )


def _answer(entry: Any) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "kind": entry.kind,
        "outcome": entry.outcome,
        "follows": entry.follows,
        "recorded_at": entry.recorded_at,
    }


@router.get(
    "/queues",
    response_model=ReviewQueues,
    dependencies=BEARER,
    responses={**ok(200, ("waiting", "One share waiting for advice", api_examples.QUEUES)), **errors(401, 403, 503)},
)
async def queues(decision_log: LogDep, caller: CallerDep) -> dict[str, Any]:
    """Advice requests, authorisations and urgent shares this caller may decide (pseudonymised)."""
    found = await asyncio.to_thread(review.queues_for, decision_log, Viewer.from_caller(caller))
    return {name: [item.to_json() for item in items] for name, items in found.items()}


@router.post(
    "/queues/{delivery_id}",
    response_model=ReviewAnswer,
    dependencies=BEARER,
    responses={
        **ok(200, ("released", "Advice given: the share goes out", api_examples.RELEASED)),
        **errors(401, 403, 404, 409, 413, 415, 422, 503),
    },
    openapi_extra=request_examples(("release", "Release the held share", api_examples.QUEUE_ANSWER)),
)
async def answer(
    delivery_id: CanonicalUuidText,
    body: QueueAnswer,
    decision_log: LogDep,
    outbox: OutboxDep,
    calendar: CalendarDep,
    caller: CallerDep,
) -> dict[str, Any]:
    """Release or refuse a held delivery; the answer is a new log entry following the decision. The
    sender may not answer their own share, and one whose time ran out is gone (409)."""
    entry = await review.decide(
        decision_log,
        Viewer.from_caller(caller),
        delivery_id,
        release=body.decision == "release",
        reason=body.reason,
        outbox=outbox,
        calendar=calendar,
    )
    return _answer(entry)


@router.post(
    "/urgent/{seq}",
    response_model=ReviewAnswer,
    dependencies=BEARER,
    responses={
        **ok(200, ("reviewed", "The urgent share reviewed after it went", api_examples.REVIEWED)),
        **errors(401, 403, 404, 409, 413, 415, 422, 503),
    },
    openapi_extra=request_examples(("review", "A reviewer's reason", api_examples.URGENT_REVIEW)),
)
async def review_urgent(seq: SeqPath, body: UrgentReview, decision_log: LogDep, caller: CallerDep) -> dict[str, Any]:
    """Record the post-hoc review of an urgent share."""
    return _answer(
        await review.review_urgent(
            decision_log, Viewer.from_caller(caller), seq, reason=body.reason, finding=body.finding
        )
    )


@router.get(
    "/overdue",
    response_model=list[OverdueEvent],
    dependencies=BEARER,
    responses={
        **ok(200, ("late", "A referral decision not made in time", api_examples.OVERDUE)),
        **errors(*AUTHENTICATED),
    },
)
async def overdue(
    decision_log: LogDep, caller: CallerDep, chosen: Annotated[Filters, Depends(filters)]
) -> list[dict[str, Any]]:
    """Deadlines that ran out (kind `overdue`) on deliveries the caller may see."""
    viewer = Viewer.from_caller(caller)
    found = await asyncio.to_thread(review.overdue_page, decision_log, viewer, chosen)
    await decision_view.record_views(decision_log, viewer, found.items)
    clocks = await asyncio.to_thread(timescales.deadlines, decision_log, found.items, datetime.now(UTC))
    # An overdue entry carries its decision's outcome; the page's states say where it stands now, and
    # its clock when it was due and whether it is still owed (the entry stays when it is met late).
    return [
        decision_view.event(e)
        | decision_view.summary(e, state=found.states.get(e.delivery_id), overdue=e.delivery_id in found.overdue)
        | {"deadline": clocks[e.seq].as_deadline() if e.seq in clocks else None}
        for e in found.items
    ]
