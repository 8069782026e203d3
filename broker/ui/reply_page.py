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
from sqlalchemy import Engine
from sqlmodel import Session, col, select

import audit
from broker.api.deps import LogDep, registry_of
from broker.db.tables import ObligationClock
from broker.delivery import clocks
from broker.errors import Forbidden, OutOfReach
from broker.review.scope import decided_at_all, first_decision
from broker.ui import plain
from broker.ui import words as say
from broker.ui.form_fields import PAYLOAD
from broker.ui.form_journey import Journey, journey_for
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
        exists = await asyncio.to_thread(decided_at_all, decision_log.engine, notification_id)
        raise OutOfReach("no such notification that you may read", exists=exists)
    sender = await asyncio.to_thread(_sender_of, decision_log.engine, seq)
    owed = await asyncio.to_thread(owed_by, decision_log.engine, notification_id, session.agency_id)
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
    return render_step(request, session, journey, 0, answers, owed=owed)


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


def owed_by(engine: Engine, notification_id: str, agency_id: str) -> list[dict[str, Any]]:
    """The notification's running deadlines that a reply from `agency_id` meets, each with the kinds of
    reply that meet it, in the form's words: the reader chooses the kind their reply is."""
    with Session(engine) as session:
        running = session.exec(
            select(ObligationClock).where(
                col(ObligationClock.notification_id) == notification_id, col(ObligationClock.stopped_at).is_(None)
            )
        ).all()
    owed: list[dict[str, Any]] = []
    for clock in sorted(running, key=lambda c: c.due_at):
        pairs, _ = clocks.answered_by(clock)
        replies = [a for a in clocks.answer_order(clock) if a not in _NOT_A_REPLY]
        kinds = [_kind(a) for a in replies]
        types = sorted({a.partition("@")[0] for a in replies})
        said = {
            "duty": plain.duty(clock.description).text,
            "due_at": clock.due_at,
            "kinds": kinds,
            "types": types,
            "answers": replies,
        }
        if kinds and any(who == agency_id for who, _ in pairs) and said not in owed:
            owed.append(said)  # one per duty: a sender owes it to each recipient alike
    return owed


# Answers that are no message a person sends: a consumer's signed receipt, a review, the notification itself.
_NOT_A_REPLY = frozenset({clocks.ACKNOWLEDGED, clocks.URGENT_REVIEW, clocks.BY_ITSELF})


def _kind(answer: str) -> str:
    """`lado_allegation@amm_record` as “LADO allegation: Record of the AMM”, the form's words."""
    message_type, _, stage = answer.partition("@")
    name = say.type_name(message_type)
    return f"{name}: {say.option(stage, say.PAYLOAD_CHOICES)}" if stage else name


def _sender_of(engine: Engine, seq: int) -> str:
    """The agency that sent the notification a decision the reader may read is of: whom a reply goes to."""
    with Session(engine) as session:
        return session.exec(select(audit.Entry.sender_agency).where(col(audit.Entry.seq) == seq)).one()
