"""`GET /v1/access-events`: refused tokens and registry changes, for those who audit access.

Read-only, like the decision log it comes from; scoped by the access table (`access_log`): an
agency's IG lead and Caldicott Guardian see their own agency's, the partnership's see all.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from broker.api.decisions import Code
from broker.api.deps import MAX_INT64, CallerDep, LogDep
from broker.api.json_body import JsonRoute
from broker.api.responses import AUTHENTICATED, BEARER, errors, ok
from broker.review import access_log
from broker.review.access import Viewer
from broker.review.views import MAX_PAGE
from schemas import api_examples
from schemas.access_events import AccessEvent, AccessSubject

router = APIRouter(prefix="/v1", tags=["access"], route_class=JsonRoute)


@router.get(
    "/access-events",
    response_model=list[AccessEvent],
    dependencies=BEARER,
    responses={
        **ok(
            200,
            ("refused", "A token asserting a role its agency was not granted, and a grant", api_examples.ACCESS_EVENTS),
        ),
        **errors(*AUTHENTICATED),
    },
)
async def access_events(
    decision_log: LogDep,
    caller: CallerDep,
    agency: Code = None,
    subject: Annotated[
        AccessSubject | None,
        Query(
            description="access: refusals only; registry: signed registry changes only; case_review: searches "
            "for one person's case; case_shredding: cases shredded; omitted: refusals and registry changes"
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT64)] = 0,
) -> list[dict[str, Any]]:
    """Refused tokens and signed registry changes within the caller's scope (one agency's, if asked), newest first."""
    viewer = Viewer.from_caller(caller)
    found = await asyncio.to_thread(
        access_log.read, decision_log, viewer, limit=limit, offset=offset, agency=agency, subject=subject
    )
    return [access_log.event(e) for e in found]


async def record_denial(request: Request, viewer: Viewer, code: str, detail: str) -> None:
    """The gateway's `on_denial` (broker.api.errors): the refusal goes to the access log."""
    # The address names the item tried (a decision's number, a share's delivery id: never personal data),
    # so an IG lead sees which share someone tried to release, not only that someone did. Its query is
    # left out: a filter may be a child's reference.
    where = f"{request.method} {request.url.path}"
    await access_log.record_denial(request.app.state.decision_log, viewer, code=code, detail=detail, where=where)
