"""`POST /v1/case-review`: every decision about one person, for IG leads and Caldicott Guardians.

The identifier travels in the body (never in a URL, where proxies and access logs would keep it) and
is turned into the partnership's pseudonym at once; the log is searched by the pseudonym; the search
and every decision shown are logged.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from broker.api.deps import CallerDep, KeysDep, LogDep
from broker.api.json_body import JsonRoute
from broker.api.responses import AUTHENTICATED, BEARER, errors, ok, request_examples
from broker.review import case_review
from broker.review.access import Viewer
from schemas import api_examples
from schemas.case_api import CaseReview, CaseReviewQuery

router = APIRouter(prefix="/v1", tags=["access"], route_class=JsonRoute)


@router.post(
    "/case-review",
    response_model=CaseReview,
    dependencies=BEARER,
    openapi_extra=request_examples(
        ("nhs", "Every agency's decisions about one child", {"nhs_number": "4000000012"}),
        (
            "reference",
            "One agency's decisions about a person it refers to",
            {"agency_id": "school-example-primary", "subject_ref": "pupil-0415"},
        ),
    ),
    responses={
        **ok(200, ("found", "One child's decisions across the partnership", api_examples.CASE_REVIEW)),
        **errors(*AUTHENTICATED, 413, 415),
    },
)
async def review_case(query: CaseReviewQuery, caller: CallerDep, decision_log: LogDep, keys: KeysDep) -> dict[str, Any]:
    """Every decision about the person named, within the caller's scope, oldest first, each with what followed."""
    viewer = Viewer.from_caller(caller)
    person = case_review.person_of(keys.log_pseudonym_secret, viewer, query)
    return await case_review.review(decision_log, viewer, person)
