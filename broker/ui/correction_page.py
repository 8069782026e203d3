"""Correcting a notification in the browser, as `POST /v1/notifications/{id}/correction` does: its
sender fills in the guided form again, and sending it withdraws the first from every agency it
reached (reason `superseded`), the correction being decided afresh.

The form starts from what the decision log knows of the first: its kind, the sender's role and the
agencies it was addressed to, each at the team it went to there while that team may still take it.
Its details are asked again, because the broker keeps no readable copy of what was sent: each
recipient's copy was sealed to that agency's own key. Only the sender may correct (a recipient that
may withdraw may not put words in the sender's mouth), and nothing is decided unless the first still
stands, as the API refuses it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

import audit
from broker.admission import idempotency
from broker.api.deps import KeysDep, LogDep, RulesDep, Sharing, SharingDep, registry_of
from broker.api.recall import Recall, RecallDep
from broker.db.log import DecisionLog
from broker.errors import AlreadyWithdrawn, InvalidNotification
from broker.partnership.keys import BrokerKeys
from broker.partnership.registry import Registry
from broker.review import addressed, case_review, views, withdrawal
from broker.review.access import Viewer
from broker.review.withdrawal import Withdrawal
from broker.ui import words as say
from broker.ui.form_journey import journey_for
from broker.ui.form_recipients import offered
from broker.ui.form_subject import CASE_OF, NAMED
from broker.ui.policy_pack import PackDep
from broker.ui.receipt_page import sent
from broker.ui.routes import PostedDep, SessionDep, ViewerDep
from broker.ui.sessions import UiSession
from broker.ui.submit import CORRECTS, answers_of, form_key, prepared, render_step
from schemas.common import CanonicalUuidText

router = APIRouter(prefix="/ui", include_in_schema=False)
SAME_ID = "a correction is a new notification, with its own id"
RETRY = "press Send again on the check page, or withdraw the first from its decision page"


@router.get("/notifications/{notification_id}/correction")
async def start(
    notification_id: CanonicalUuidText,
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    decision_log: LogDep,
    pack: PackDep,
    keys: KeysDep,
) -> HTMLResponse:
    """The guided form, started from the first notification's kind, role and recipients."""
    decided = await _correctable(decision_log, viewer, notification_id)
    # What the page shows of the first (its kind, role, recipients and their teams) is a read, logged
    # as every read is: a line manager may correct a colleague's notification they cannot open.
    await views.record_views(decision_log, viewer, decided, how=views.TO_CORRECT)
    first = decided[0]
    case_of, named = await asyncio.to_thread(_case, decision_log, keys, session.agency_id, first)
    answers = {
        "notification_id": str(uuid.uuid4()),
        CORRECTS: notification_id,
        CASE_OF: case_of,
        **({NAMED: "yes"} if named else {}),
        "message_type": first.message_type,
        "sender_role": first.sender_role,
    }
    journey = await journey_for(request, pack, session, answers)
    registry = registry_of(request)
    options = offered(registry, session.agency_id, journey.form, answers)
    was = await _first_roles(decision_log, decided, registry)
    to, readdressed = _readdressed(options, decided, was)
    return render_step(request, session, journey, 0, answers | to, readdressed=readdressed)


async def _first_roles(decision_log: DecisionLog, decided: list[audit.Entry], registry: Registry) -> dict[str, str]:
    """The team each first recipient was addressed to (the decided entries do not say). None is known
    of a notification decided before the policy inputs were kept: the form's first team, as before."""
    asked = await addressed.read(decision_log, decided[0].notification_id, registry)
    return {e.recipient_agency: a.role for e in decided if (a := asked.get(e.seq))}


def _readdressed(
    options: list[dict[str, str]], decided: list[audit.Entry], was: dict[str, str]
) -> tuple[dict[str, str], list[str]]:
    """Each first recipient the form still offers for this kind, with the team the first went to where
    that team may still take it: a correction the intake receives while the allocated social worker
    holds the case is one the worker acting on the first never sees. Otherwise it goes to the team the
    form offers first, and a sentence says so, for the sender to choose again if that is wrong."""
    by_id = {r["id"]: r for r in options}
    answers: dict[str, str] = {}
    said = []
    for agency in dict.fromkeys(e.recipient_agency for e in decided):
        if (option := by_id.get(agency)) is None:
            continue
        answers[f"to:{agency}"] = option["role"]
        team = was.get(agency)
        if team in option["queues"].split():
            answers[f"as:{agency}"] = team
        elif team is not None:
            said.append(
                f"{option['name']} was addressed to the {_team(team)} before; that team cannot receive this, "
                f"so it goes to the {_team(option['role'])}."
            )
    return answers, said


def _team(role: str) -> str:
    return say.ROLES.get(role, role.replace("_", " "))


def _case(decision_log: DecisionLog, keys: BrokerKeys, agency_id: str, first: audit.Entry) -> tuple[str, bool]:
    with Session(decision_log.engine) as session:
        return case_review.correction_case(
            session,
            keys.log_pseudonym_secret,
            agency_id=agency_id,
            notification_id=first.notification_id,
            subjects=first.subjects,
        )


@router.post("/notifications/{notification_id}/correction")
async def send(
    notification_id: CanonicalUuidText,
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    form: PostedDep,
    sharing: SharingDep,
    recall: RecallDep,
    rules: RulesDep,
    pack: PackDep,
    decision_log: LogDep,
) -> HTMLResponse:
    """Send the correction through the gateway's own flow, then withdraw the first; a second press
    answers with the first receipt, and finishes the withdrawal if the first press was cut short."""
    answers = answers_of(form) | {CORRECTS: notification_id}
    if answers.get("notification_id") == notification_id:
        raise InvalidNotification([{"loc": ["notification_id"], "msg": SAME_ID, "type": "value_error"}])
    body = await prepared(request, session, pack, answers)
    if isinstance(body, HTMLResponse):
        return body
    first_answer, repeat = await _decided(sharing, session, viewer, notification_id, body, key=form_key(answers))
    done = await _supersede(recall, viewer, notification_id, str(first_answer["notification_id"]), repeat=repeat)
    said = {"corrects": notification_id, "recalled": done, "recall_words": say.RECALLED}
    return await sent(
        request,
        session,
        first_answer,
        rules,
        answers=answers,
        repeat=repeat,
        decision_log=decision_log,
        viewer=viewer,
        **said,
    )


async def _supersede(
    recall: Recall, viewer: Viewer, notification_id: str, replaced_by: str, *, repeat: bool
) -> Withdrawal | None:
    """The first notification's withdrawal; None if it was already withdrawn when this correction was
    pressed again (by its first press, or by someone else after a first press cut short)."""
    try:
        return await recall.supersede(viewer, notification_id, replaced_by=replaced_by, retry=RETRY)
    except AlreadyWithdrawn:
        if not repeat:
            raise
        return None


async def _decided(
    sharing: Sharing, session: UiSession, viewer: Viewer, notification_id: str, body: bytes, *, key: str
) -> tuple[dict[str, Any], bool]:
    """The correction's receipt and whether it is the first press's (then it is not decided again)."""
    earlier = await idempotency.find(
        sharing.decision_log.lookups, viewer.agency_id, key, idempotency.digest(body, correcting=notification_id)
    )
    if earlier is not None:
        return json.loads(earlier), True
    # Refused before anything is decided: a correction of what one may not withdraw sends nothing.
    await _correctable(sharing.decision_log, viewer, notification_id)
    receipt = await sharing.submit(caller=session.caller(), body=body, idempotency_key=key, correcting=notification_id)
    return receipt.body, receipt.status_code == 200


async def _correctable(decision_log: DecisionLog, viewer: Viewer, notification_id: str) -> list[audit.Entry]:
    """The first notification's decided entries, if the viewer sent it, may send, and it still stands."""
    return await asyncio.to_thread(
        withdrawal.check_may_withdraw, decision_log, viewer, notification_id, correction=True
    )
