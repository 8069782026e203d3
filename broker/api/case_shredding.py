"""`POST /v1/case-shredding`: destroy one case's keys, for the partnership's IG lead and Caldicott Guardian.

The person is named as for a case review (in the body, never in a URL) and turned into the
partnership's pseudonym at once; the shredding and every delivery it made unreadable are logged
with the reason code and the decision's reference (`broker.review.shredding`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from broker.api.deps import CallerDep
from broker.api.json_body import JsonRoute
from broker.api.recall import RecallDep
from broker.api.responses import AUTHENTICATED, BEARER, errors, ok, request_examples
from broker.review import case_review
from broker.review.access import Viewer
from schemas import api_examples
from schemas.case_api import CaseShredding, CaseShreddingRequest

router = APIRouter(prefix="/v1", tags=["access"], route_class=JsonRoute)


@router.post(
    "/case-shredding",
    response_model=CaseShredding,
    dependencies=BEARER,
    openapi_extra=request_examples(
        (
            "nhs",
            "Shred one child's case, sent about the wrong child",
            {
                "nhs_number": "4000000012",
                "reason_code": "sent_in_error",
                "decision_ref": "IG-2026-0143",
            },
        ),
    ),
    responses={
        **ok(200, ("shredded", "One child's case shredded", api_examples.CASE_SHREDDED)),
        **errors(*AUTHENTICATED, 404, 409, 413, 415),
    },
)
async def shred_case(query: CaseShreddingRequest, caller: CallerDep, recall: RecallDep) -> dict[str, Any]:
    """Destroy the keys of the named person's case: every stored copy of what was shared becomes unreadable."""
    viewer = Viewer.from_caller(caller)
    person = case_review.person_of(recall.keys.log_pseudonym_secret, viewer, query)
    return await recall.shred(person, viewer=viewer, reason_code=query.reason_code, decision_ref=query.decision_ref)
