"""The guided referral form, for practitioners whose agency has no integrated system.

It walks through purpose, who needs to know, consent and its exceptions, risk, the child and the
concern, and authorisation, validating each step on the server. Before anything is sent it asks
the policy engine what each recipient would get and why (a dry run: nothing is recorded, sealed or
queued), then sends through the same sharing flow as any agency system, so the form can never
take a path the API does not. Answers travel in the form itself, never in server storage, so an
abandoned draft leaves no personal data behind. "Your role" offers only the roles the access table
lets the signed-in person send as (`broker.review.access.sender_roles`), and the flow checks it again.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.datastructures import FormData

from broker.api.deps import (
    CalendarDep,
    DeciderDep,
    LogDep,
    OutboxDep,
    RecorderDep,
    RulesDep,
    SealerDep,
    registry_of,
)
from broker.api.errors import URGENT_ROUTE
from broker.errors import InvalidNotification, PolicyUnavailable
from broker.partnership.registry import Registry
from broker.review import access
from broker.sharing import flow
from broker.sharing.decide import Decider
from broker.sharing.rules import RuleCatalogue
from broker.ui.forms import NEED_TO_KNOW, STEPS, Step, build_notification, recipient_options, validate_step
from broker.ui.render import page
from broker.ui.routes import PostedDep, SessionDep
from broker.ui.sessions import UiSession
from schemas.notifications import parse_notification
from schemas.vocab import Outcome

router = APIRouter(prefix="/ui", include_in_schema=False)
_CONTROL = ("csrf_token", "step", "go")


def sender_choices(session: UiSession, registry: Registry) -> list[tuple[str, str]]:
    """The body roles this person may send as: the only ones the form offers."""
    allowed = access.sender_roles(session.role, registry.granted_roles(session.agency_id))
    return [(code, code.replace("_", " ").capitalize()) for code in sorted(allowed)]


def _answers(form: FormData) -> dict[str, str]:
    return {k: v.strip() for k, v in form.multi_items() if k not in _CONTROL and isinstance(v, str)}


def _render(
    request: Request,
    session: UiSession,
    index: int,
    answers: dict[str, str],
    errors: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    step = STEPS[index]
    hidden = {k: v for k, v in answers.items() if not step.owns(k)}
    registry = registry_of(request)
    return page(
        request,
        "submit.html",
        session,
        status_code=422 if errors else 200,
        steps=STEPS,
        index=index,
        step=step,
        answers=answers,
        hidden=hidden,
        errors=errors or {},
        recipients=recipient_options(registry, session.agency_id),
        need_to_know=NEED_TO_KNOW,
        choices={"sender_role": sender_choices(session, registry)},
        **context,
    )


@router.get("/submit")
async def start(request: Request, session: SessionDep) -> HTMLResponse:
    return _render(request, session, 0, {"notification_id": str(uuid.uuid4())})


@router.post("/submit")
async def step(
    request: Request, decider: DeciderDep, rules: RulesDep, session: SessionDep, form: PostedDep
) -> HTMLResponse:
    """Validate the posted step, then show the next one; the last step is the dry-run preview."""
    answers = _answers(form)
    index = min(max(int(str(form.get("step") or 0)), 0), len(STEPS) - 1)
    if form.get("go") == "back":
        return _render(request, session, max(index - 1, 0), answers)
    errors = validate_step(STEPS[index], answers, {"sender_role": sender_choices(session, registry_of(request))})
    if errors:
        return _render(request, session, index, answers, errors)
    if index + 1 < len(STEPS) - 1:
        return _render(request, session, index + 1, answers)
    return await _preview(request, session, answers, decider=decider, rules=rules)


async def _preview(
    request: Request, session: UiSession, answers: dict[str, str], *, decider: Decider, rules: RuleCatalogue
) -> HTMLResponse:
    check = len(STEPS) - 1
    try:
        notification = parse_notification(build_notification(answers, session, datetime.now(UTC)))
    except ValidationError as exc:
        first, errors = _schema_errors(exc)
        return _render(request, session, first, answers, errors)
    try:
        flow.check_sender(session.caller(), notification, registry_of(request))
    except InvalidNotification as exc:
        return _render(request, session, 0, answers, {"sender_role": str(exc.errors[0]["msg"])})
    try:
        decided = await decider.decide(notification)
    except PolicyUnavailable:
        return _render(request, session, check, answers, preview=None, unavailable=URGENT_ROUTE)
    preview = [
        {
            "agency_id": d.agency_id,
            "role": d.role,
            "outcome": d.outcome.value,
            "lawful_basis": d.lawful_basis.value if d.lawful_basis else None,
            "fields": list(d.allowed_fields) if d.outcome != Outcome.NO_SHARE else [],
            # The practitioner reads why before the rest: the deciding findings lead, the others follow.
            "decided_by": await rules.explain([{"rule": r.rule, "message": r.message} for r in d.decided_by]),
            "reasons": await rules.explain(
                [{"rule": r.rule, "message": r.message} for r in d.reasons if r not in d.decided_by]
            ),
        }
        for d in decided.recipients
    ]
    return _render(request, session, check, answers, preview=preview)


def _schema_errors(exc: ValidationError) -> tuple[int, dict[str, str]]:
    """Map the schema's field paths back to the step that asks for them."""
    errors: dict[str, str] = {}
    first = len(STEPS) - 1
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        index, name = _owner(loc)
        errors.setdefault(name, error["msg"])
        first = min(first, index)
    return first, errors


def _owner(loc: list[str]) -> tuple[int, str]:
    for index, item in enumerate(STEPS):
        name = item.field_for(loc)
        if name is not None:
            return index, name
    return 0, ".".join(loc[1:]) or "form"


@router.post("/submit/send")
async def send(
    request: Request,
    session: SessionDep,
    form: PostedDep,
    decision_log: LogDep,
    decider: DeciderDep,
    sealer: SealerDep,
    calendar: CalendarDep,
    recorder: RecorderDep,
    outbox: OutboxDep,
    rules: RulesDep,
) -> HTMLResponse:
    """Send through the gateway's own flow; the notification id doubles as the Idempotency-Key so a
    second press of the button returns the first receipt instead of sharing twice."""
    answers = _answers(form)
    body = json.dumps(build_notification(answers, session, datetime.now(UTC))).encode()
    receipt = await flow.submit(
        caller=session.caller(),
        body=body,
        idempotency_key=f"ui-form-{answers.get('notification_id', '')}",
        reader=decision_log.reader,
        decider=decider,
        sealer=sealer,
        calendar=calendar,
        recorder=recorder,
        outbox=outbox,
        checkpoint=decision_log.checkpoint_note,
        registry=registry_of(request),
    )
    recipients = [{**r, "reasons": await rules.explain(r["reasons"])} for r in receipt.body["recipients"]]
    return page(
        request,
        "submitted.html",
        session,
        receipt=receipt.body,
        recipients=recipients,
        repeat=receipt.status_code == 200,
    )


__all__ = ["STEPS", "Step", "router"]
