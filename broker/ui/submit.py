"""The guided form, for practitioners whose agency has no integrated system.

It walks through the kind of notification (those this agency may send, `broker.ui.form_types`), purpose,
who needs to know, consent and its exceptions, risk, the details the type's schema and the policy
require, and authorisation, validating each step on the server. Before anything is sent it asks the
policy engine what each recipient would get and why (a dry run: nothing is recorded, sealed or queued),
then sends through the same sharing flow as any agency system, so the form can never take a path the API
does not. Agencies a payload fact's value lets receive it (the Virtual School for a looked-after child's
placement notice) are offered once it is given (`broker.ui.form_recipients`). Answers travel in the form
itself, never in server storage, so an abandoned draft leaves no personal data behind. "Your role"
offers only the roles the access table lets the signed-in person send as
(`broker.review.access.sender_roles`), and the flow checks it again; it starts at the one role of their
agency's type among them, if only one is (a pathology service's practitioner: pathologist), and at whom
the type's notification is about, where its payload says. A correction (`broker.ui.correction_page`)
walks the same steps carrying the notification it corrects (`CORRECTS`), to its own route.
"""

from __future__ import annotations

import functools
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from broker.api.deps import DeciderDep, LogDep, RulesDep, SharingDep, registry_of
from broker.api.errors import URGENT_ROUTE
from broker.errors import Forbidden, InvalidNotification, PolicyUnavailable
from broker.partnership.registry import Registry
from broker.sharing import flow
from broker.sharing.decide import Decider
from broker.sharing.rules import RuleCatalogue
from broker.ui import words as say
from broker.ui.form_answers import answered
from broker.ui.form_consent import KEY as CONSENT
from broker.ui.form_journey import Journey, journey_for
from broker.ui.form_path import changed_step, following
from broker.ui.form_preview import previewed
from broker.ui.form_recipients import RESUME, SHOWN, Recheck, later, offered, recheck
from broker.ui.form_safety import KEY as SAFETY
from broker.ui.form_subject import CORRECTS, IN_REPLY_TO, REPLY_TO_AGENCY, main_person
from broker.ui.form_types import own_role
from broker.ui.forms import NEED_TO_KNOW, build_notification, schema_errors, schema_errors_at, validate_step
from broker.ui.policy_pack import PackDep, PolicyPack
from broker.ui.receipt_page import sent
from broker.ui.render import agency_names, page, sends_as
from broker.ui.reply_context import reply_context
from broker.ui.routes import PostedDep, SessionDep, ViewerDep
from broker.ui.sessions import UiSession
from schemas.notifications import parse_notification

router = APIRouter(prefix="/ui", include_in_schema=False)
_CONTROL = ("csrf_token", "step", "go")
# When the check page was drawn: the notification's `created_at` (and an authorisation's time). Send
# builds the body with it, so a second press of Send posts the very same bytes and the Idempotency-Key
# answers with the first receipt; a body stamped afresh each press would be a 409 conflict instead.
STAMP = "created_at"
# Why a person with a right to send has nothing to send as (a teacher: a school's roles are its DSL's and leads').
NO_ROLE = (
    "do not send notifications through the broker themselves: none of the roles their agency sends as is theirs. "
    "Raise the concern with your Designated Safeguarding Lead or safeguarding lead, who sends it."
)


def sender_choices(session: UiSession, registry: Registry) -> list[tuple[str, str]]:
    """The body roles this person may send as: the only ones the form offers."""
    return [(code, say.option(code, say.ROLES)) for code in sorted(sends_as(session.viewer(registry), registry))]


def answers_of(form: FormData) -> dict[str, str]:
    return {k: v.strip() for k, v in form.multi_items() if k not in _CONTROL and isinstance(v, str)}


def render_step(
    request: Request,
    session: UiSession,
    journey: Journey,
    index: int,
    answers: dict[str, str],
    errors: dict[str, str] | None = None,
    *,
    replying: dict[str, Any] | None = None,
    **context: Any,
) -> HTMLResponse:
    step = journey.steps[index]
    # The recipients step records what it shows itself (SHOWN), so an older record is not carried.
    hidden = {k: v for k, v in answers.items() if not step.owns(k) and not (k == SHOWN and step.key == "recipients")}
    registry = registry_of(request)
    recipients = offered(registry, session.agency_id, journey.form, answers)
    roles = sender_choices(session, registry)
    return page(
        request,
        "submit.html",
        session,
        status_code=422 if errors else 200,
        steps=journey.steps,
        index=index,
        step=step,
        form_type=journey.form,
        answers=answers,
        hidden=hidden,
        errors=errors or {},
        recipients=recipients,
        shown=" ".join(r["id"] for r in recipients),
        later=later(registry, session.agency_id, journey.form, journey.details, answers),
        need_to_know=NEED_TO_KNOW,
        choices={"sender_role": roles},
        # Selected until the person answers otherwise (a blank they chose stays blank).
        preselected={
            "sender_role": own_role(session.agency_type, (code for code, _ in roles)),
            "subject_role": main_person(journey.form.message_type if journey.form else None),
        },
        corrects=_notification_in(answers, CORRECTS),
        replies_to=_notification_in(answers, IN_REPLY_TO),
        # A reply goes back to the agency that sent what it answers: chosen until the recipients step is posted.
        reply_to_agency=answers.get(REPLY_TO_AGENCY) if SHOWN not in answers else None,
        # The check step repeats every answer back, as the form offered it, before anything is sent.
        summary=answered(
            journey.steps[:index],
            answers,
            choices={"sender_role": roles},
            agencies=agency_names(request),
            need_to_know=NEED_TO_KNOW,
        )
        if step.key == "check"
        else [],
        **(replying or {}),  # what a reply answers, on every step (`broker.ui.reply_context`)
        **context,
    )


def _notification_in(answers: dict[str, str], name: str) -> str | None:
    """The notification a carried answer names: the one a correction replaces (`CORRECTS`,
    `broker.ui.correction_page`) or a reply answers (`IN_REPLY_TO`, `broker.ui.reply_page`). It is put
    in an address, so only an id is taken."""
    try:
        return str(uuid.UUID(answers.get(name, "")))
    except ValueError:
        return None


@router.get("/submit")
async def start(request: Request, session: SessionDep, pack: PackDep) -> HTMLResponse:
    if not sender_choices(session, registry_of(request)):  # a teacher: the school's DSL sends for them
        raise Forbidden(f"{say.option(session.role, say.ROLES)}s at {session.agency_id} {NO_ROLE}")
    answers = {"notification_id": str(uuid.uuid4())}
    return render_step(request, session, await journey_for(request, pack, session, answers), 0, answers)


def _errors(
    request: Request, session: UiSession, journey: Journey, index: int, answers: dict[str, str]
) -> dict[str, str]:
    registry = registry_of(request)
    errors = validate_step(journey.steps[index], answers, {"sender_role": sender_choices(session, registry)})
    if journey.steps[index].key == "recipients":
        # Only agencies that may receive this type (another type may have been chosen since).
        offered_ids = {r["id"] for r in offered(registry, session.agency_id, journey.form, answers)}
        if any(k.startswith("to:") and k[3:] not in offered_ids for k in answers):
            errors["recipients"] = "Choose from the agencies listed."
    if journey.steps[index] is journey.details and not errors:
        errors = _whole(request, session, journey, index, answers)
    return errors


def _whole(
    request: Request, session: UiSession, journey: Journey, index: int, answers: dict[str, str]
) -> dict[str, str]:
    """The schema's refusals of the whole notification that fall on this step's answers (a category of
    death the age given does not fit, a meeting record without its minutes): said at their question
    now, not after the steps that follow it."""
    try:
        parse_notification(_notification(request, session, journey, answers, datetime.now(UTC)))
    except ValidationError as exc:
        return schema_errors_at(journey.steps, index, exc)
    return {}


@router.post("/submit")
async def step(
    request: Request,
    decider: DeciderDep,
    rules: RulesDep,
    session: SessionDep,
    form: PostedDep,
    pack: PackDep,
    decision_log: LogDep,
    viewer: ViewerDep,
) -> HTMLResponse:
    """Validate the posted step, then show the next one; the last step is the dry-run preview."""
    answers = answers_of(form)
    journey = await journey_for(request, pack, session, answers)
    answering = _notification_in(answers, IN_REPLY_TO) if CORRECTS not in answers else None
    replying = await reply_context(decision_log.engine, viewer, answering) if answering else {}
    show = functools.partial(render_step, replying=replying)  # every step says what the reply answers
    index = min(max(int(str(form.get("step") or 0)), 0), journey.check)
    changed = changed_step(str(form.get("go") or ""), check=journey.check, answers=answers)
    if changed is not None:
        return show(request, session, journey, changed, answers)
    if form.get("go") == "back":
        answers.pop(RESUME, None)
        return show(request, session, journey, max(index - 1, 0), answers)
    if form.get("go") == "stay":
        # Unchecked: a half-written step is kept as it is, and the press renews the idle limit.
        return show(request, session, journey, index, answers)
    errors = _errors(request, session, journey, index, answers)
    if errors:
        return show(request, session, journey, index, answers, errors)
    again = _recheck(request, session, journey, answers) if index > journey.recipients else None
    if again is not None:
        answers.setdefault(RESUME, str(index + 1))  # a Change's way back to the check step is kept
        return _recipients_again(request, session, journey, answers, again, replying)
    going = following(index, check=journey.check, answers=answers)
    if going < journey.check:
        return show(request, session, journey, going, answers)
    return await _preview(request, session, journey, answers, decider=decider, rules=rules, replying=replying)


def _recheck(request: Request, session: UiSession, journey: Journey, answers: dict[str, str]) -> Recheck | None:
    return recheck(registry_of(request), session.agency_id, journey.form, journey.details, answers)


def _recipients_again(
    request: Request,
    session: UiSession,
    journey: Journey,
    answers: dict[str, str],
    again: Recheck,
    replying: dict[str, Any],
) -> HTMLResponse:
    return render_step(
        request, session, journey, journey.recipients, answers, again.errors, note=again.note, **replying
    )


def _stamp(session: UiSession, answers: dict[str, str]) -> datetime:
    """The check page's time from the form, if it could be one (not before this session opened, not
    in the future); otherwise now."""
    now = datetime.now(UTC)
    try:
        stamped = datetime.fromisoformat(answers.get(STAMP, ""))
    except ValueError:
        return now
    if stamped.tzinfo is None or not session.created_at <= stamped <= now:
        return now
    return stamped


def _notification(
    request: Request, session: UiSession, journey: Journey, answers: dict[str, str], now: datetime
) -> dict[str, Any]:
    if journey.form is None:
        raise InvalidNotification([{"loc": ["message_type"], "msg": "choose what you are sending first"}])
    # Each chosen agency is addressed to the role queue that takes this type, or the one picked of its queues.
    listed = offered(registry_of(request), session.agency_id, journey.form, answers)
    roles = {r["id"]: r["role"] for r in listed}
    picked = {r["id"]: answers[f"as:{r['id']}"] for r in listed if answers.get(f"as:{r['id']}") in r["queues"].split()}
    # An agency not offered for these answers is never addressed (the policy's C4 would refuse it).
    chosen = {k: picked.get(k[3:], roles[k[3:]]) for k in answers if k.startswith("to:") and k[3:] in roles}
    answers = {k: v for k, v in answers.items() if not k.startswith("to:")}
    return build_notification({**answers, **chosen}, session, now, journey.form, journey.details)


async def _preview(
    request: Request,
    session: UiSession,
    journey: Journey,
    answers: dict[str, str],
    *,
    decider: Decider,
    rules: RuleCatalogue,
    replying: dict[str, Any],
) -> HTMLResponse:
    show = functools.partial(render_step, replying=replying)
    # Recipients changed after the consent and safety steps (a Change comes straight back here) are
    # asked about there first: a consent whose agencies were all taken away covers none of them.
    for key in (CONSENT, SAFETY):
        asks = next(i for i, s in enumerate(journey.steps) if s.key == key)
        if unsaid := validate_step(journey.steps[asks], answers):
            answers.setdefault(RESUME, str(journey.check))
            return show(request, session, journey, asks, answers, unsaid)
    now = datetime.now(UTC)
    answers[STAMP] = now.isoformat()  # carried by the check page to Send (see STAMP)
    try:
        notification = parse_notification(_notification(request, session, journey, answers, now))
    except ValidationError as exc:
        first, errors = schema_errors(journey.steps, journey.check, exc)
        return show(request, session, journey, first, answers, errors)
    try:
        flow.check_sender(session.caller(), notification, registry_of(request))
    except InvalidNotification as exc:
        return show(request, session, journey, 1, answers, {"sender_role": str(exc.errors[0]["msg"])})
    try:
        decided = await decider.decide(notification)
    except PolicyUnavailable:
        return show(request, session, journey, journey.check, answers, preview=None, unavailable=URGENT_ROUTE)
    preview = [await previewed(d, notification.message_type.value, rules) for d in decided.recipients]
    return show(request, session, journey, journey.check, answers, preview=preview)


@router.post("/submit/send")
async def send(
    request: Request,
    session: SessionDep,
    form: PostedDep,
    sharing: SharingDep,
    rules: RulesDep,
    pack: PackDep,
    decision_log: LogDep,
    viewer: ViewerDep,
) -> HTMLResponse:
    """Send through the gateway's own flow; the notification id doubles as the Idempotency-Key so a
    second press of the button returns the first receipt instead of sharing twice."""
    answers = answers_of(form)
    body = await prepared(request, session, pack, answers)
    if isinstance(body, HTMLResponse):
        return body
    receipt = await sharing.submit(caller=session.caller(), body=body, idempotency_key=form_key(answers))
    repeat = receipt.status_code == 200
    return await sent(
        request, session, receipt.body, rules, answers=answers, repeat=repeat, decision_log=decision_log, viewer=viewer
    )


def form_key(answers: dict[str, str]) -> str:
    """The Idempotency-Key of a form's notification: pressing Send twice sends it once."""
    return f"ui-form-{answers.get('notification_id', '')}"


async def prepared(
    request: Request, session: UiSession, pack: PolicyPack, answers: dict[str, str]
) -> bytes | HTMLResponse:
    """The notification's body as an agency system would POST it, or the recipients step again if
    the page it came from offered agencies these answers no longer allow (then nothing is sent)."""
    journey = await journey_for(request, pack, session, answers)
    again = _recheck(request, session, journey, answers)
    if again is not None and again.errors:
        return _recipients_again(request, session, journey, answers, again, {})
    return json.dumps(_notification(request, session, journey, answers, _stamp(session, answers))).encode()


__all__ = ["CORRECTS", "answers_of", "form_key", "prepared", "render_step", "router"]
