"""Shredding a case in the browser: the partnership's IG lead or Caldicott Guardian, having found one
person's decisions on the Case review page, destroys their case's keys, as `POST /v1/case-shredding` does.

The page knows the person only as the partnership's pseudonym the search found (the identifier was never
written back into the page), so that is what the form posts. Nothing is destroyed until the reason is
given in words and the reviewer confirms it cannot be undone; a refusal (nothing left to shred, or a
person whose copies sit in another child's case) is said on the page with nothing destroyed.
"""

from __future__ import annotations

import re
from typing import Any, get_args

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from broker.api.recall import RecallDep
from broker.errors import NotFound, SharedInAnotherCase
from broker.ui.render import page
from broker.ui.routes import PostedDep, SessionDep, ViewerDep, text
from broker.ui.sessions import UiSession
from broker.ui.words import SHRED_REASONS, sentence
from schemas.case_api import ShredReasonCode

router = APIRouter(prefix="/ui", include_in_schema=False)
_PSEUDONYM = re.compile(r"[0-9a-f]{64}")
_DECISION_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")  # schemas.case_api.CaseShreddingRequest.decision_ref


@router.post("/case-shredding")
async def shred_case(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    posted: PostedDep,
    recall: RecallDep,
) -> HTMLResponse:
    form = {name: text(posted, name) for name in ("person", "reason_code", "decision_ref", "confirm")}
    errors = _mistakes(form)
    if errors:
        return _show(request, session, form, errors=errors, status_code=422)
    try:
        done = await recall.shred(
            form["person"], viewer=viewer, reason_code=form["reason_code"], decision_ref=form["decision_ref"]
        )
    except NotFound:
        return _show(request, session, form, refused="Nothing of this case is left to shred.", status_code=404)
    except SharedInAnotherCase as exc:
        return _show(request, session, form, refused=sentence(str(exc)), status_code=409)
    return _show(request, session, form, done=done)


def _mistakes(form: dict[str, str]) -> dict[str, str]:
    """Each field that stops the shredding, named, before anything is destroyed."""
    errors = {}
    if not _PSEUDONYM.fullmatch(form["person"]):
        errors["person"] = "The case is not named as a case review finds it: search for the person again."
    if form["reason_code"] not in get_args(ShredReasonCode):
        errors["reason_code"] = "Choose why the case is shredded."
    if not _DECISION_REF.fullmatch(form["decision_ref"]):
        errors["decision_ref"] = (
            "Give the decision's reference in your records: letters, digits and . _ : / - only, up to 64."
        )
    if form["confirm"] != "yes":
        errors["confirm"] = (
            "Confirm that nothing of this case that the broker keeps can be read again once it is shredded."
        )
    return errors


def _show(
    request: Request,
    session: UiSession,
    form: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    refused: str | None = None,
    done: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return page(
        request,
        "case_shredding.html",
        session,
        status_code=status_code,
        form=form,
        errors=errors or {},
        refused=refused,
        done=done,
        reasons=SHRED_REASONS,
    )
