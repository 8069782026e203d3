"""Withdrawing a notification in the browser, from one of its decisions' pages, as
`POST /v1/notifications/{notification_id}/withdrawal` does: the sender recalls it from every agency it
reached, or from the decision's recipient alone if they choose; the front door that received it from its
own inbox (`broker.review.withdrawal`).

The reason is a code, as in the API, because the log keeps it; nothing is recalled until the reader
has chosen one and confirmed that each agency it is withdrawn from is told to delete what it holds. The page it came
from then shows the withdrawal at its top.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from broker.api.access import record_denial
from broker.api.recall import RecallDep
from broker.errors import AlreadyShredded, AlreadyWithdrawn, NotFound, OutOfReach
from broker.review import withdrawal
from broker.ui.render import agency_names, page
from broker.ui.routes import PostedDep, SessionDep, ViewerDep, text
from broker.ui.sessions import UiSession
from broker.ui.words import WITHDRAWAL_REASONS
from schemas.common import CanonicalUuidText

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.post("/notifications/{notification_id}/withdrawal")
async def withdraw(
    notification_id: CanonicalUuidText,
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    posted: PostedDep,
    recall: RecallDep,
) -> Response:
    form = {name: text(posted, name) for name in ("reason", "confirm", "seq", "only", "scope_of")}
    back = f"/ui/decisions/{form['seq']}" if form["seq"].isdigit() else "/ui/decisions"
    errors = _mistakes(form)
    try:
        if errors:
            # Whose it is first: the form, mistakes marked, goes back only to whoever may withdraw it.
            await asyncio.to_thread(withdrawal.check_may_withdraw, recall.decision_log, viewer, notification_id)
            return _show(request, session, notification_id, form, back, errors=errors, status_code=422)
        only = form["only"] if form["scope_of"] and form["only"] == form["scope_of"] else None
        await recall.withdraw(viewer, notification_id, reason=form["reason"], only=only)
    except AlreadyShredded:
        said = "Its case was shredded: every agency it reached was told to erase it, so there is nothing to withdraw."
        return _show(request, session, notification_id, form, back, refused=said, status_code=409)
    except AlreadyWithdrawn:
        said = "It was already withdrawn or corrected: its decision page says when and by whom."
        return _show(request, session, notification_id, form, back, refused=said, status_code=409)
    except OutOfReach as exc:  # an attempt on what is not theirs: the IG lead sees it, as in the API
        await record_denial(request, viewer, "not_found", exc.logged)
        return _show(request, session, notification_id, form, back, refused=_NOT_YOURS, status_code=404)
    except NotFound:
        return _show(request, session, notification_id, form, back, refused=_NOT_YOURS, status_code=404)
    return RedirectResponse(back, status_code=303)


_NOT_YOURS = "There is no such notification that you may withdraw."


def _mistakes(form: dict[str, str]) -> dict[str, str]:
    """Each field that stops the withdrawal, named, before anything is recalled."""
    errors = {}
    if form["reason"] not in WITHDRAWAL_REASONS:
        errors["reason"] = "Choose why it is withdrawn."
    if form["scope_of"] and form["only"] not in ("every", form["scope_of"]):
        errors["only"] = "Choose whether it is withdrawn from every agency it was sent to, or from one alone."
    if form["confirm"] != "yes":
        errors["confirm"] = "Confirm that each agency it is withdrawn from is told to delete it."
    return errors


def _show(
    request: Request,
    session: UiSession,
    notification_id: str,
    form: dict[str, str],
    back: str,
    *,
    errors: dict[str, str] | None = None,
    refused: str | None = None,
    status_code: int,
) -> HTMLResponse:
    return page(
        request,
        "withdrawal.html",
        session,
        status_code=status_code,
        notification_id=notification_id,
        form=form,
        back=back,
        errors=errors or {},
        refused=refused,
        reasons=WITHDRAWAL_REASONS,
        # The one recipient the sender chose, kept on the page that asks again.
        only_choice=(form["scope_of"], agency_names(request).get(form["scope_of"], form["scope_of"]))
        if form["scope_of"]
        else None,
    )
