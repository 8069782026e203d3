"""`GET /v1/decisions` and `GET /v1/decisions/{seq}`: the decision log, read-only and scoped by role.

There is deliberately no write route here: the log changes only through decisions, queue answers
and delivery events. Each read is itself logged (`viewed`), so auditors can see who looked.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import AfterValidator, BeforeValidator

from broker.api.deps import MAX_INT64, CallerDep, LogDep, RegistryDep, RulesDep, SeqPath
from broker.api.json_body import JsonRoute
from broker.api.responses import AUTHENTICATED, BEARER, errors, ok
from broker.review import detail
from broker.review import views as decision_view
from broker.review.access import Viewer
from broker.review.views import Filters
from schemas import api_examples
from schemas.api import DecisionDetail, DecisionPage
from schemas.vocab import Outcome

router = APIRouter(prefix="/v1/decisions", tags=["decision log"], route_class=JsonRoute)

CODE = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
Code = Annotated[str | None, Query(pattern=CODE)]


def _iso_only(value: object) -> object:
    # A bare number would otherwise be read as a Unix timestamp; the API documents ISO 8601 only.
    if isinstance(value, str) and not re.match(r"^\d{4}-\d{2}-\d{2}", value):
        raise ValueError("use an ISO 8601 date-time, e.g. 2026-01-31T09:00:00Z")
    return value


def _in_utc_range(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    # A time without an offset is a different instant in London in summer than in UTC: asked for
    # rather than guessed, as the log's times are instants.
    if value.tzinfo is None:
        raise ValueError("give the time's offset from UTC, e.g. 2026-01-31T09:00:00Z or 2026-07-31T09:00:00+01:00")
    # 0001-01-01T00:00:00+00:09 parses, but is before year 1 in UTC, where the log's times live.
    try:
        value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("the date-time is out of range in UTC") from exc
    return value


When = Annotated[datetime | None, BeforeValidator(_iso_only), AfterValidator(_in_utc_range), Query()]


async def filters(
    agency: Code = None,
    # The six outcomes are the policy's whole answer, so a misspelt one ("shared") is refused by name
    # rather than matching nothing. The other codes stay open: the log keeps codes a later vocabulary
    # may drop, and an auditor must still be able to ask for them.
    outcome: Annotated[Outcome | None, Query()] = None,
    message_type: Code = None,
    since: When = None,
    until: When = None,
    rule_id: Annotated[str | None, Query(pattern=r"^[A-Za-z][A-Za-z0-9.-]{0,31}$")] = None,
    consent_state: Code = None,
    limit: Annotated[int, Query(ge=1, le=decision_view.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INT64)] = 0,
    overdue: Annotated[
        bool, Query(description="Only decisions with a deadline overdue now (past its due time and not met)")
    ] = False,
    sender: Annotated[str | None, Query(pattern=CODE, description="Only what this agency sent")] = None,
    recipient: Annotated[str | None, Query(pattern=CODE, description="Only what was decided for this agency")] = None,
    ended: Annotated[
        Literal["withdrawn", "corrected", "shredded"] | None,
        Query(description="Only decisions since withdrawn, corrected, or shredded with their case"),
    ] = None,
) -> Filters:
    return Filters(
        agency=agency,
        outcome=outcome,
        message_type=message_type,
        since=since,
        until=until,
        rule_id=rule_id,
        consent_state=consent_state,
        limit=limit,
        offset=offset,
        overdue=overdue,
        sender=sender,
        recipient=recipient,
        ended=ended,
    )


@router.get(
    "",
    response_model=DecisionPage,
    dependencies=BEARER,
    responses={**ok(200, ("page", "One decision in scope", api_examples.DECISION_PAGE)), **errors(*AUTHENTICATED)},
)
async def list_decisions(
    decision_log: LogDep, caller: CallerDep, catalogue: RulesDep, chosen: Annotated[Filters, Depends(filters)]
) -> dict[str, Any]:
    """One page of decisions the caller may see, newest first; `rule_id` filters by the deciding rule."""
    found = await decision_view.read_page(decision_log, Viewer.from_caller(caller), chosen)
    await catalogue.refresh()
    return {
        "total": found.total,
        "limit": chosen.limit,
        "offset": chosen.offset,
        "items": [
            decision_view.summary(e, catalogue, found.states.get(e.delivery_id), overdue=e.delivery_id in found.overdue)
            for e in found.items
        ],
    }


@router.get(
    "/{seq}",
    response_model=DecisionDetail,
    dependencies=BEARER,
    responses={
        **ok(200, ("share", "A delivered share, checkpointed", api_examples.DECISION_DETAIL)),
        **errors(401, 403, 404, 422, 503),
    },
)
async def get_decision(
    seq: SeqPath, decision_log: LogDep, caller: CallerDep, catalogue: RulesDep, registry: RegistryDep
) -> dict[str, Any]:
    """One decision: reasons with rule and source, fields, basis, consent, linked events, integrity."""
    return await detail.read_detail(decision_log, catalogue, Viewer.from_caller(caller), seq, registry=registry)
