"""A case review in the browser: every decision about one person, for IG leads and Caldicott Guardians
(a subject access request, a serious case review, a complaint), as `POST /v1/case-review` answers it.

The person is named by NHS number, or by an agency's own reference, in a posted form: never in a URL,
where the browser's history and proxies' logs would keep it, and never written back into the page
after the search. The same service as the API turns it into the partnership's pseudonym, searches
within the reviewer's scope (`case_review` in the access table) and logs the search and every decision
shown.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from broker.api.deps import KeysDep, LogDep, RegistryDep
from broker.errors import ReviewInvalid
from broker.partnership.registry import Registry
from broker.review import access, case_review, shredding
from broker.review.detail import fields_fate
from broker.ui.render import page
from broker.ui.routes import PostedDep, SessionDep, ViewerDep, text
from broker.ui.sessions import UiSession
from broker.ui.words import SHRED_REASONS
from schemas.case_api import CaseReviewQuery

router = APIRouter(prefix="/ui", include_in_schema=False)
FIELDS = ("nhs_number", "agency_id", "subject_ref")


@router.get("/case-review")
async def case_review_form(request: Request, session: SessionDep, registry: RegistryDep) -> HTMLResponse:
    return _show(request, session, registry)


@router.post("/case-review")
async def case_review_run(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    posted: PostedDep,
    decision_log: LogDep,
    keys: KeysDep,
    registry: RegistryDep,
) -> HTMLResponse:
    form = {name: text(posted, name).strip() or None for name in FIELDS}
    if form["nhs_number"] is not None:  # as it is often written: 400 000 0012
        form["nhs_number"] = form["nhs_number"].replace(" ", "")
    try:
        query = _query(form)
        person = case_review.person_of(keys.log_pseudonym_secret, viewer, query)
    except ReviewInvalid as exc:
        return _show(request, session, registry, errors=exc.errors)
    found = await case_review.review(decision_log, viewer, person)
    # What became of each decision's fields: a held share released since reads as released (`fields_fate`).
    rows = [{**r, "fields_fate": fields_fate(r["outcome"], r["then"], r["state"])} for r in found["decisions"]]
    found = {**found, "decisions": rows}
    may_shred = access.may_route(viewer, "POST", "/ui/case-shredding")
    kept = may_shred and await asyncio.to_thread(shredding.has_live_case, decision_log.engine, person)
    return _show(
        request, session, registry, found=found, by_nhs=query.nhs_number is not None, may_shred=may_shred, kept=kept
    )


def _query(form: dict[str, str | None]) -> CaseReviewQuery:
    """The form read as the API's body, each mistake named by its field before the identifier is used."""
    nhs, ref = form["nhs_number"], form["subject_ref"]
    if nhs is None and ref is None:
        raise ReviewInvalid("name the person", {"nhs_number": "Give an NHS number, or an agency's reference."})
    if nhs is not None and ref is not None:
        raise ReviewInvalid("name the person once", {"nhs_number": "Give an NHS number or a reference, not both."})
    try:
        # The agency list always posts a choice; it names whose reference it is, so it counts only beside one.
        return CaseReviewQuery.model_validate({**form, "agency_id": form["agency_id"] if ref is not None else None})
    except ValidationError as exc:
        said = {str(e["loc"][0]): _SAID.get(str(e["loc"][0]), e["msg"]) for e in exc.errors() if e["loc"]}
        raise ReviewInvalid("the person is not named as a case review needs", said) from exc


_SAID = {
    "nhs_number": "An NHS number is 10 digits.",
    "subject_ref": "A reference is letters, digits and . _ : - (up to 64), as the agency's system sent it.",
    "agency_id": "Choose one of the listed agencies.",
}


def _show(
    request: Request,
    session: UiSession,
    registry: Registry,
    *,
    errors: dict[str, str] | None = None,
    found: dict[str, object] | None = None,
    by_nhs: bool = False,
    may_shred: bool = False,
    kept: bool = False,
) -> HTMLResponse:
    listed = sorted(((a.id, a.name) for a in registry.agencies.values()), key=lambda pair: pair[1])
    return page(
        request,
        "case_review.html",
        session,
        status_code=422 if errors else 200,
        agencies_listed=listed,
        errors=errors or {},
        found=found,
        by_nhs=by_nhs,
        may_shred=may_shred,
        kept=kept,
        reasons=SHRED_REASONS,
    )
