"""A notification named by its id, for a reader who follows a link to it: the decision log names a
correction's replacement by notification id ("replaced by notification …"), and the decision pages
are by log entry, so this finds the first of its decisions the reader may read.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import RedirectResponse

from broker.api.deps import LogDep
from broker.errors import OutOfReach
from broker.review import scope
from broker.ui.routes import ViewerDep
from schemas.common import AGENCY_ID_PATTERN, CanonicalUuidText

router = APIRouter(prefix="/ui", include_in_schema=False)
# The agency whose decision the reader came from, so the link lands on the same recipient's.
AgencyIdQuery = Annotated[str | None, Query(pattern=AGENCY_ID_PATTERN)]


@router.get("/notifications/{notification_id}")
async def first_decision(
    notification_id: CanonicalUuidText, viewer: ViewerDep, decision_log: LogDep, recipient: AgencyIdQuery = None
) -> RedirectResponse:
    """To the notification's first decision this reader may read (`recipient`'s, if it names one they
    may read); 404 if none (none exists, or none is theirs to read: the answer does not say which)."""
    seq = await asyncio.to_thread(scope.first_decision, decision_log.engine, viewer, notification_id, recipient)
    if seq is None:
        exists = await asyncio.to_thread(scope.decided_at_all, decision_log.engine, notification_id)
        raise OutOfReach("no decision of this notification that you may read", exists=exists)
    return RedirectResponse(f"/ui/decisions/{seq}", status_code=303)
