"""`GET /v1/decisions` and `GET /v1/decisions/{seq}`: the decision log, read-only and scoped by role.

There is deliberately no write route here: the log changes only through decisions, queue answers
and delivery events. Each read is itself logged (`viewed`), so auditors can see who looked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from broker import decision_view
from broker.api.deps import CallerDep, RuntimeDep
from broker.decision_view import Filters, Viewer
from broker.rule_catalogue import RuleCatalogue

router = APIRouter(prefix="/v1/decisions", tags=["decision log"])

Code = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]


def rules(request: Request) -> RuleCatalogue:
    catalogue: RuleCatalogue = request.app.state.rules
    return catalogue


RulesDep = Annotated[RuleCatalogue, Depends(rules)]


def filters(
    agency: Code = None, outcome: Code = None, message_type: Code = None,
    since: datetime | None = None, until: datetime | None = None,
    rule_id: Annotated[str | None, Query(pattern=r"^[A-Za-z][A-Za-z0-9.-]{0,31}$")] = None,
    consent_state: Code = None,
    limit: Annotated[int, Query(ge=1, le=decision_view.MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Filters:
    return Filters(agency, outcome, message_type, since, until, rule_id, consent_state, limit, offset)


@router.get("")
async def list_decisions(runtime: RuntimeDep, caller: CallerDep,
                         chosen: Annotated[Filters, Depends(filters)]) -> dict[str, Any]:
    """One page of decisions the caller may see, newest first, with the total for paging."""
    found = await decision_view.read_page(runtime, Viewer.from_caller(caller), chosen)
    return {"total": found.total, "limit": chosen.limit, "offset": chosen.offset,
            "items": [decision_view.summary(e) for e in found.items]}


@router.get("/{seq}")
async def get_decision(seq: int, runtime: RuntimeDep, caller: CallerDep, catalogue: RulesDep) -> dict[str, Any]:
    """One decision: reasons with rule and source, fields, basis, consent, linked events, integrity."""
    return await decision_view.read_detail(runtime, catalogue, Viewer.from_caller(caller), seq)
