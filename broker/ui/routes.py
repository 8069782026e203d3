"""Web pages: sign-in, decisions (list and detail), queues, urgent review, overdue, the access log.

Pages are thin: they read the form, call the same services as the JSON API (`decision_view`,
`review`), and render. Every POST carries the session's anti-forgery token. Every page behind
sign-in passes the access table's route check (`broker.review.access`) in `_session`, as the API's
routes do in their caller dependency.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from broker.admission.tokens import Caller, verify_token
from broker.api.deps import (
    MAX_INT64,
    CalendarDep,
    LogDep,
    OutboxDep,
    RegistryDep,
    RulesDep,
    SeqPath,
    SettingsDep,
    route_path,
    settings_of,
)
from broker.db.log import DecisionLog
from broker.errors import AuthError, LifetimeTooLong, ReplayError, ReviewInvalid, RoleNotGranted, SignInRequired
from broker.partnership.registry import Registry
from broker.review import access, access_log, scope, timescales, withdrawal
from broker.review import detail as decision_detail
from broker.review import queues as review
from broker.review import views as decision_view
from broker.review.access import Viewer
from broker.review.views import Filters
from broker.settings import BrokerSettings
from broker.ui import sessions
from broker.ui import words as say
from broker.ui.plain import signin_refusal
from broker.ui.policy_pack import PackDep
from broker.ui.render import page, sends_as
from broker.ui.reply_context import may_reply
from broker.ui.sessions import UiSession
from schemas.message_types import MessageType

router = APIRouter(prefix="/ui", include_in_schema=False)
PAGE_SIZE = 25
# Where a decision's notification no longer stands, so there is nothing left to withdraw.
_ENDED = frozenset({"withdrawn", "corrected", "shredded"})


async def _session(request: Request, decision_log: LogDep, settings: SettingsDep, registry: RegistryDep) -> UiSession:
    row = await asyncio.to_thread(sessions.current, decision_log.engine, settings, request)
    if row.role not in registry.granted_roles(row.agency_id):
        # Revoked since this person signed in: the session ends with the grant.
        raise SignInRequired("your role is no longer granted to your agency")
    # A refusal from here on is logged (broker.api.errors); its page keeps the menu and who is signed in.
    request.state.viewer, request.state.ui_session = row.viewer(registry), row
    access.require_route(request.state.viewer, request.method, route_path(request))
    return row


SessionDep = Annotated[UiSession, Depends(_session)]


async def _viewer(session: SessionDep, registry: RegistryDep) -> Viewer:
    return session.viewer(registry)


ViewerDep = Annotated[Viewer, Depends(_viewer)]


async def _posted(request: Request, session: SessionDep) -> FormData:
    form = await request.form()
    sessions.check_csrf(session, form.get("csrf_token"))
    return form


PostedDep = Annotated[FormData, Depends(_posted)]


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


# --- signing in and out ---------------------------------------------------------------------------


def _verify(registry: Registry, settings: BrokerSettings, token: str) -> Caller:
    return verify_token(
        token.strip(),
        registry=registry,
        audience=settings.audience,
        max_lifetime=timedelta(seconds=settings.max_token_lifetime_seconds),
    )


def _signin_page(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    token = request.cookies.get(sessions.SIGNIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = page(request, "signin.html", None, status_code=status, signin_csrf=token, **context)
    response.set_cookie(
        sessions.SIGNIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/ui/signin",
        secure=settings_of(request).ui_cookie_secure,
        max_age=900,
    )
    return response


@router.get("/signin")
async def signin_form(
    request: Request, registry: RegistryDep, settings: SettingsDep, decision_log: LogDep, token: str | None = None
) -> HTMLResponse:
    """Paste a token, or confirm a sign-in link (a link alone never signs in: scanners follow links)."""
    if token is None:
        return _signin_page(request)
    try:
        caller = _verify(registry, settings, token)
        if await asyncio.to_thread(sessions.token_used, decision_log.engine, caller):
            raise ReplayError("already used")  # say so now, not after the click
    except AuthError as exc:
        # As a refused Sign in does: the refusal's page looks signed out, so the browser must be.
        await asyncio.to_thread(sessions.end_current, decision_log.engine, settings, request)
        refused = await _refused(request, decision_log, registry, exc, "This sign-in link cannot be used")
        sessions.forget(settings, refused)
        return refused
    return _signin_page(request, confirm=caller, token=token)


async def _refused(
    request: Request, decision_log: DecisionLog, registry: Registry, exc: AuthError, lead: str
) -> HTMLResponse:
    names = {agency_id: a.name for agency_id, a in registry.agencies.items()}
    if isinstance(exc, RoleNotGranted):
        await access_log.record_refusal(decision_log, exc)
        why = signin_refusal(exc.reason, names, exc.role, exc.agency_id)
    else:
        why = signin_refusal(exc.reason, names, limit=exc.limit if isinstance(exc, LifetimeTooLong) else None)
    return _signin_page(request, 401, error=f"{lead}: {why}", error_code=exc.reason)


@router.post("/signin")
async def signin(request: Request, registry: RegistryDep, settings: SettingsDep, decision_log: LogDep) -> Response:
    form = await request.form()
    sessions.check_signin_csrf(request, form.get("csrf_token"))
    # Any sign-in ends the session this browser held: a refused one must not leave the last person in.
    await asyncio.to_thread(sessions.end_current, decision_log.engine, settings, request)
    try:
        caller = _verify(registry, settings, text(form, "token"))
        await asyncio.to_thread(sessions.burn, decision_log.engine, caller)
    except AuthError as exc:
        if isinstance(exc, ReplayError):
            # Logged as a replayed API token is: whoever opened the link again held a copy (or was its person).
            await access_log.record_denial(
                decision_log,
                Viewer.from_caller(caller),
                code="unauthenticated",
                detail=str(exc),
                where="POST /ui/signin",
            )
        refused = await _refused(request, decision_log, registry, exc, "That sign-in was not accepted")
        sessions.forget(settings, refused)
        return refused
    # Where their agency sends as them: a school's staff go through their DSL (and landed on a refusal).
    sends = caller.role == "practitioner" and sends_as(Viewer.from_caller(caller), registry)
    target = "/ui/submit" if sends else "/ui/decisions"
    response = RedirectResponse(target, status_code=303)
    await asyncio.to_thread(sessions.open_session, decision_log.engine, settings, caller, response)
    response.delete_cookie(sessions.SIGNIN_CSRF_COOKIE, path="/ui/signin")
    return response


@router.post("/signout")
async def signout(request: Request, decision_log: LogDep, settings: SettingsDep) -> Response:
    # Not `PostedDep`: Sign out ends even a revoked or rotated-out person's session (a re-grant would revive it).
    form = await request.form()
    try:
        row = await asyncio.to_thread(sessions.current, decision_log.engine, settings, request)
    except SignInRequired:
        row = None  # already over on the server: there is nothing to forge, only a cookie to clear
    if row is not None:
        sessions.check_csrf(row, form.get("csrf_token"))
    response = RedirectResponse("/ui/signin", status_code=303)
    await asyncio.to_thread(sessions.close_session, decision_log.engine, settings, request, response)
    return response


@router.get("/")
async def home() -> Response:
    return RedirectResponse("/ui/decisions", status_code=303)


# --- decisions ------------------------------------------------------------------------------------


def _day(value: str | None, field: str, errors: dict[str, str]) -> datetime | None:
    """A date filter as the person means it: that day in London (the times the pages show); a full
    date-time without a zone is London time too."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        errors[field] = "Use a date like 2026-01-31."
        return None
    return moment.replace(tzinfo=say.LOCAL_ZONE) if moment.tzinfo is None else moment


def _filters(request: Request, errors: dict[str, str]) -> tuple[Filters, dict[str, str]]:
    q = {k: v.strip() for k, v in request.query_params.items() if v.strip()}
    try:
        offset = min(max(0, int(q.get("offset", "0"))), MAX_INT64)
    except ValueError:
        offset = 0
    since, until = _day(q.get("since"), "since", errors), _day(q.get("until"), "until", errors)
    if until is not None and "T" not in q.get("until", ""):
        until = say.local_day_end(until.date())  # a date "until" includes that whole (London) day
    chosen = Filters(
        agency=q.get("agency"),
        outcome=q.get("outcome"),
        message_type=q.get("message_type"),
        since=since,
        until=until,
        rule_id=q.get("rule_id"),
        consent_state=say.consent_code(q.get("consent_state")),
        limit=PAGE_SIZE,
        offset=offset,
        overdue=q.get("overdue") == "yes",
        sender=q.get("sender"),
        recipient=q.get("recipient"),
        # As an outcome no decision has: an ending the log does not have matches nothing.
        ended=q.get("ended"),
    )
    return chosen, {k: v for k, v in q.items() if k != "offset"}


@router.get("/decisions")
async def decisions(
    request: Request, decision_log: LogDep, rules: RulesDep, session: SessionDep, viewer: ViewerDep
) -> HTMLResponse:
    errors: dict[str, str] = {}
    chosen, query = _filters(request, errors)
    found = await decision_view.read_page(decision_log, viewer, chosen)
    await rules.refresh()

    def link(offset: int) -> str:
        return "/ui/decisions?" + urlencode({**query, "offset": offset})

    prev_link = link(max(0, chosen.offset - PAGE_SIZE)) if chosen.offset > 0 else None
    next_link = link(chosen.offset + PAGE_SIZE) if chosen.offset + PAGE_SIZE < found.total else None
    return page(
        request,
        "decisions.html",
        session,
        rows=[
            decision_view.summary(e, rules, found.shown(e.delivery_id), overdue=e.delivery_id in found.overdue)
            for e in found.items
        ],
        total=found.total,
        offset=chosen.offset,
        query=query,
        errors=errors,
        prev_link=prev_link,
        next_link=next_link,
        message_types=sorted(MessageType, key=say.message_type),
        consent_states=list(say.CONSENT_STATES),
        chosen_consent=chosen.consent_state,
    )


@router.get("/decisions/{seq}")
async def decision(
    seq: SeqPath,
    request: Request,
    decision_log: LogDep,
    rules: RulesDep,
    session: SessionDep,
    viewer: ViewerDep,
    registry: RegistryDep,
    pack: PackDep,
) -> HTMLResponse:
    detail = await decision_detail.read_page(decision_log, rules, viewer, seq, registry=registry)
    recall = detail["state"] not in _ENDED and access.may_route(
        viewer, "POST", "/ui/notifications/{notification_id}/withdrawal"
    )
    # Only the sender corrects; whoever may withdraw it may be the front door that received it.
    offer = (
        await asyncio.to_thread(withdrawal.offers, decision_log, viewer, detail["notification_id"])
        if recall
        else withdrawal.Offer(False, None, False)
    )
    return page(
        request,
        "decision.html",
        session,
        d=detail,
        field_classes=decision_view.field_classes(detail["message_type"], detail["fields_released"]),
        # Asked only where the Consent line needs it: a decision's page must not wait on OPA otherwise.
        asks_consent=(await pack.asks_consent() or {}).get(detail["message_type"])
        if detail["consent_state"] == "not_recorded"
        else None,
        may_withdraw=offer.withdraw,
        withdraw_as=offer.as_whom,
        may_correct=offer.correct,
        may_reply=may_reply(viewer, detail, ended=_ENDED) and bool(sends_as(viewer, registry)),
        reasons=say.WITHDRAWAL_REASONS,
        form={},
        errors={},
    )


# --- queues ---------------------------------------------------------------------------------------


@router.get("/queues")
async def queues(
    request: Request, decision_log: LogDep, session: SessionDep, viewer: ViewerDep, done: int | None = None
) -> HTMLResponse:
    found = await asyncio.to_thread(review.queues_for, decision_log, viewer)
    answered = await asyncio.to_thread(review.answered_for, decision_log, viewer)
    held = [i.decided_seq for i in found["needs_advice"] + found["hold_for_authorisation"] + [a.item for a in answered]]
    readable = await asyncio.to_thread(scope.readable, decision_log.engine, viewer, held)
    return page(request, "queues.html", session, queues=found, answered=answered, done=done, readable=readable)


@router.post("/queues/{delivery_id}")
async def answer(
    delivery_id: str,
    request: Request,
    decision_log: LogDep,
    outbox: OutboxDep,
    calendar: CalendarDep,
    viewer: ViewerDep,
    form: PostedDep,
) -> Response:
    choice = text(form, "decision")
    if choice not in ("release", "refuse"):
        raise ReviewInvalid("choose release or refuse", {"decision": "Choose one."})
    entry = await review.decide(
        decision_log,
        viewer,
        delivery_id,
        release=choice == "release",
        reason=text(form, "reason"),
        outbox=outbox,
        calendar=calendar,
    )
    return RedirectResponse(f"/ui/queues?done={entry.seq}", status_code=303)


@router.get("/urgent")
async def urgent(
    request: Request, decision_log: LogDep, session: SessionDep, viewer: ViewerDep, done: int | None = None
) -> HTMLResponse:
    found = await asyncio.to_thread(review.queues_for, decision_log, viewer)
    reviewed = await asyncio.to_thread(review.reviewed_for, decision_log, viewer)
    shown = [
        decision_view.event(e) | {"message_type": e.message_type, "recipient_agency": e.recipient_agency}
        for e in reviewed
    ]
    return page(request, "urgent.html", session, items=found["urgent_review"], done=done, reviewed=shown)


@router.post("/urgent/{seq}")
async def review_urgent(seq: SeqPath, decision_log: LogDep, viewer: ViewerDep, form: PostedDep) -> Response:
    entry = await review.review_urgent(
        decision_log, viewer, seq, reason=text(form, "reason"), finding=text(form, "finding")
    )
    return RedirectResponse(f"/ui/urgent?done={entry.seq}", status_code=303)


@router.get("/overdue")
async def overdue(request: Request, decision_log: LogDep, session: SessionDep, viewer: ViewerDep) -> HTMLResponse:
    found = await asyncio.to_thread(review.overdue_page, decision_log, viewer, Filters(limit=200))
    await decision_view.record_views(decision_log, viewer, found.items)
    clocks = await asyncio.to_thread(timescales.deadlines, decision_log, found.items, datetime.now(UTC))
    rows = [
        decision_view.event(e)
        | decision_view.summary(e, state=found.states.get(e.delivery_id), overdue=e.delivery_id in found.overdue)
        | {"clock": clocks.get(e.seq)}
        for e in found.items
    ]
    return page(request, "overdue.html", session, rows=rows)
