"""Replying to a notification in the browser, as an agency system sets `in_reply_to`: the LADO's
record of the allegations management meeting, children's social care's referral outcome, an
agency's report to a conference. A reply shared with the agency waiting for it stops the deadline it
answers (`broker.delivery.clocks.stop_on_reply`); sent without `in_reply_to`, the same message
answered nothing, and the deadline went overdue though the reply was sent.

The guided form starts carrying the notification it replies to; the reader picks the kind, as the
deadlines on that notification's decision page name it ("a LADO allegation at stage amm_record, in
reply"). Only a notification one of whose decisions the reader may read can be replied to.
"""

from __future__ import annotations

import asyncio
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine
from sqlmodel import Session, col, select

import audit
from broker.api.deps import LogDep, registry_of
from broker.errors import Forbidden, OutOfReach
from broker.review.scope import first_decision
from broker.ui import words as say
from broker.ui.form_journey import journey_for
from broker.ui.form_subject import IN_REPLY_TO, REPLY_TO_AGENCY
from broker.ui.policy_pack import PackDep
from broker.ui.routes import SessionDep, ViewerDep
from broker.ui.submit import NO_ROLE, render_step, sender_choices
from schemas.common import CanonicalUuidText

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/notifications/{notification_id}/reply")
async def start(
    notification_id: CanonicalUuidText,
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    decision_log: LogDep,
    pack: PackDep,
) -> HTMLResponse:
    """The guided form, carrying the notification it replies to."""
    if not sender_choices(session, registry_of(request)):
        raise Forbidden(f"{say.option(session.role, say.ROLES)}s at {session.agency_id} {NO_ROLE}")
    seq = await asyncio.to_thread(first_decision, decision_log.engine, viewer, notification_id)
    if seq is None:
        raise OutOfReach("no such notification that you may read")
    sender = await asyncio.to_thread(_sender_of, decision_log.engine, seq)
    answers = {"notification_id": str(uuid.uuid4()), IN_REPLY_TO: notification_id, REPLY_TO_AGENCY: sender}
    return render_step(request, session, await journey_for(request, pack, session, answers), 0, answers)


def _sender_of(engine: Engine, seq: int) -> str:
    """The agency that sent the notification a decision the reader may read is of: whom a reply goes to."""
    with Session(engine) as session:
        return session.exec(select(audit.Entry.sender_agency).where(col(audit.Entry.seq) == seq)).one()
