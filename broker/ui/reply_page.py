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
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from broker.api.deps import LogDep, registry_of
from broker.errors import Forbidden, OutOfReach
from broker.review.scope import decided_at_all
from broker.ui import words as say
from broker.ui.form_fields import PAYLOAD
from broker.ui.form_journey import Journey, journey_for
from broker.ui.form_subject import IN_REPLY_TO, REPLY_TO_AGENCY
from broker.ui.policy_pack import PackDep
from broker.ui.reply_context import reply_context
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
    replying = await reply_context(decision_log.engine, viewer, notification_id)
    if not replying:
        exists = await asyncio.to_thread(decided_at_all, decision_log.engine, notification_id)
        raise OutOfReach("no such notification that you may read", exists=exists)
    owed = replying["owed"]
    sender = replying["answering"]["sender_agency"]
    answers = {"notification_id": str(uuid.uuid4()), IN_REPLY_TO: notification_id, REPLY_TO_AGENCY: sender}
    # Where every deadline waiting for this agency is met by one kind of notification, it is chosen for
    # the reader, who may choose another (a LADO's meeting record or outcome are both a LADO allegation).
    kinds = {kind for o in owed for kind in o["types"]}
    journey = await journey_for(request, pack, session, answers)
    offered = {code for code, _ in journey.steps[0].fields[0].choices}
    if len(kinds) == 1 and kinds <= offered:
        answers["message_type"] = kinds.pop()
        # The stage too, before the details step asks that stage's questions: a LADO's reply left at
        # the schema's default stage was asked a referral's (readers of the demo, the last two stops).
        stage = stage_owed(owed, answers["message_type"])
        if stage is not None:
            answers[PAYLOAD + "stage"] = stage
        journey = await journey_for(request, pack, session, answers)
        if stage is not None and stage not in _stages_offered(journey):
            del answers[PAYLOAD + "stage"]  # a stage this sender may not send is not chosen for them
            journey = await journey_for(request, pack, session, answers)  # the form as those answers make it
    return render_step(request, session, journey, 0, answers, replying=replying)


def stage_owed(owed: list[dict[str, Any]], message_type: str) -> str | None:
    """The stage of `message_type` that meets the soonest deadline waiting, the usual one first where
    several do; none where the kind answers it at any stage."""
    for o in owed:
        mine: list[str] = [a for a in o["answers"] if a.partition("@")[0] == message_type]
        if message_type in mine:
            return None
        if mine:
            return mine[0].partition("@")[2]
    return None


def _stages_offered(journey: Journey) -> set[str]:
    field = next((f for f in journey.details.fields if f.name == PAYLOAD + "stage"), None)
    return {code for code, _ in field.choices} if field is not None else set()
