"""The access log in the browser, for IG leads and Caldicott Guardians: refused actions and signed
registry changes, as `GET /v1/access-events` answers them, narrowed to one kind or one agency if asked.

A refused action is what an IG lead looks for; the registry's changes, many of them when a partnership
is set up, would otherwise bury it.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from broker.api.deps import MAX_INT64, LogDep
from broker.review import access_log
from broker.ui.render import page
from broker.ui.routes import PAGE_SIZE, SessionDep, ViewerDep

router = APIRouter(prefix="/ui", include_in_schema=False)
SUBJECTS = {
    access_log.ACCESS: "Refused actions only",
    access_log.REGISTRY: "Registry changes only",
    access_log.SEARCHES: "Case searches only",
    access_log.SHREDDINGS: "Shreddings only",
}


@router.get("/access")
async def access_events(
    request: Request,
    decision_log: LogDep,
    session: SessionDep,
    viewer: ViewerDep,
    offset: int = 0,
    agency: str | None = None,
    subject: str | None = None,
) -> HTMLResponse:
    """Refused tokens and registry changes within the reader's `access_log` scope, newest first."""
    offset = min(max(offset, 0), MAX_INT64)
    chosen = {"agency": agency.strip() if agency else "", "subject": subject if subject in SUBJECTS else ""}
    asked = {name: value for name, value in chosen.items() if value}
    found = await asyncio.to_thread(access_log.read, decision_log, viewer, limit=PAGE_SIZE, offset=offset, **asked)
    more = urlencode({"offset": offset + PAGE_SIZE, **asked})
    return page(
        request,
        "access.html",
        session,
        rows=[access_log.event(e) for e in found],
        offset=offset,
        chosen=chosen,
        subjects=SUBJECTS,
        next_link=f"/ui/access?{more}" if len(found) == PAGE_SIZE else None,
    )
