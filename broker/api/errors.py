"""The one place where errors become HTTP responses.

Every refusal names its reason; none repeats a payload value. Anything that stops a decision from
being made or recorded is a 503 with Retry-After, and tells a practitioner with an urgent concern
to use the phone route, as the procedures require when a referral cannot wait.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

import audit
from broker.errors import (
    AlreadyShredded,
    AlreadyWithdrawn,
    AuthError,
    BrokerError,
    CorrectionIncomplete,
    CsrfRejected,
    Forbidden,
    HeldDeliveryGone,
    IdempotencyConflict,
    InvalidNotification,
    LogUnavailable,
    NotFound,
    NotificationExists,
    OutOfReach,
    Overloaded,
    PayloadTooLarge,
    PolicyUnavailable,
    ReleaseRefused,
    ReplayError,
    ReviewInvalid,
    SharedInAnotherCase,
    SignInRequired,
    UnsupportedMediaType,
)
from broker.review.access import Viewer

log = logging.getLogger("broker.http")

URGENT_ROUTE = (
    "Nothing was shared. If a child may be at immediate risk of significant harm, do not wait: "
    "telephone the children's social care front door (or the Emergency Duty Team out of hours), "
    "or the police on 999, and confirm in writing within 24 hours."
)

_STATUS: tuple[tuple[type[Exception], int, str], ...] = (
    (AuthError, 401, "unauthenticated"),
    (Forbidden, 403, "forbidden"),
    (CsrfRejected, 403, "csrf_rejected"),
    (NotFound, 404, "not_found"),
    (IdempotencyConflict, 409, "idempotency_conflict"),
    (NotificationExists, 409, "notification_exists"),
    (HeldDeliveryGone, 409, "already_resolved"),
    (AlreadyShredded, 409, "already_shredded"),
    (AlreadyWithdrawn, 409, "already_withdrawn"),
    (ReleaseRefused, 409, "release_not_allowed"),
    (SharedInAnotherCase, 409, "shared_in_another_case"),
    (PayloadTooLarge, 413, "payload_too_large"),
    (UnsupportedMediaType, 415, "unsupported_media_type"),
    (InvalidNotification, 422, "invalid_notification"),
    (ReviewInvalid, 422, "invalid_review"),
    (CorrectionIncomplete, 503, "correction_incomplete"),
    (PolicyUnavailable, 503, "policy_unavailable"),
    (LogUnavailable, 503, "log_unavailable"),
    (Overloaded, 503, "busy"),
    (audit.Pushback, 503, "log_busy"),
    (audit.BatcherClosed, 503, "log_unavailable"),
    # The database itself is down or restarting (seen when checking a token's jti or a retry's key).
    (OperationalError, 503, "log_unavailable"),
    (InterfaceError, 503, "log_unavailable"),
    # PostgreSQL refuses what SQLite takes (a NUL byte in an id in the path, say): the request's fault.
    (DataError, 422, "invalid_value"),
)
DATABASE_DOWN = "the database is unavailable; nothing was decided, recorded or shared"
UNSTORABLE = "a value in the request cannot be stored or looked up (a control character in an id?)"


def _body(exc: Exception, code: str) -> dict[str, object]:
    # A driver's message names hosts and databases: say what it means instead.
    if isinstance(exc, DataError):
        detail = UNSTORABLE
    else:
        detail = DATABASE_DOWN if isinstance(exc, OperationalError | InterfaceError) else str(exc)
    body: dict[str, object] = {"error": code, "detail": detail}
    if isinstance(exc, AuthError):
        body["reason"] = exc.reason
    if isinstance(exc, InvalidNotification | ReviewInvalid):
        body["errors"] = exc.errors
    return body


# Records a refused action of an authenticated person: (request, viewer, code, detail).
DenialRecorder = Callable[[Request, Viewer, str, str], Awaitable[None]]
# Refusals an IG lead must be able to see: reaching past one's role, or claiming to be someone else.
_DENIAL_TYPES = frozenset({"sender_mismatch", "authorisation_token", "authoriser_mismatch"})


def denial(exc: Exception) -> str | None:
    """What to log of a refusal that is an access matter, or None for any other error."""
    if isinstance(exc, OutOfReach):
        return exc.logged
    if isinstance(exc, Forbidden | ReleaseRefused | ReplayError):
        return str(exc)
    if isinstance(exc, InvalidNotification):
        named = [e for e in exc.errors if e.get("type") in _DENIAL_TYPES]
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in named) or None  # type: ignore[attr-defined]
    return None


# Renders an error for a person at a browser: (request, status, code, detail) -> an HTML page.
HtmlRenderer = Callable[[Request, int, str, str], Response]
SIGN_IN_PATH = "/ui/signin"


# What the router itself refuses, as every other refusal is worded: a code and a sentence.
_ROUTER_REFUSALS = {
    404: ("not_found", "there is no such page or route; check the address"),
    405: ("method_not_allowed", "this address does not take that kind of request"),
}


def install(
    app: FastAPI,
    *,
    retry_after_seconds: int,
    html: HtmlRenderer | None = None,
    on_denial: DenialRecorder | None = None,
) -> None:
    """Map every broker error to its response; `on_denial` records access refusals of a known person
    (`request.state.viewer`, set once a token or UI session was verified)."""

    async def handle(request: Request, exc: Exception) -> Response:
        if isinstance(exc, SignInRequired):
            return RedirectResponse(SIGN_IN_PATH, status_code=303)
        for kind, status, code in _STATUS:
            if isinstance(exc, kind):
                viewer = getattr(request.state, "viewer", None)
                detail = denial(exc)
                if on_denial is not None and isinstance(viewer, Viewer) and detail is not None:
                    await on_denial(request, viewer, code, detail)
                body = _body(exc, code)
                if html is not None and request.url.path.startswith("/ui/"):
                    # The API's status, code and detail (never a driver's message); the page words it for a person.
                    return html(request, status, code, str(body["detail"]))
                headers: dict[str, str] = {}
                if status == 401:
                    headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
                if status == 503:
                    headers["Retry-After"] = str(retry_after_seconds)
                    if not isinstance(exc, CorrectionIncomplete):  # its replacement was shared
                        body["urgent"] = URGENT_ROUTE
                return JSONResponse(body, status_code=status, headers=headers)
        log.error("unmapped broker error %s", type(exc).__name__)
        return JSONResponse({"error": "internal"}, status_code=500)

    async def invalid(request: Request, exc: Exception) -> Response:
        if html is not None and request.url.path.startswith("/ui/"):
            # A person who mistyped an address gets a page, not the API's JSON; a bad path is no such page.
            errors = exc.errors() if isinstance(exc, RequestValidationError) else []
            in_path = any(e.get("loc", ())[:1] == ("path",) for e in errors)
            return html(request, 404 if in_path else 400, "request_invalid", "the address is not valid")
        return await _request_invalid(request, exc)

    async def no_route(request: Request, exc: Exception) -> Response:
        # The router's own refusals: no route at this path (404), or none taking this method (405, whose
        # Allow header stays). In the broker's shape, and a page for a person, not `{"detail": "Not Found"}`.
        status, headers = (exc.status_code, exc.headers or {}) if isinstance(exc, StarletteHTTPException) else (404, {})
        code, detail = _ROUTER_REFUSALS.get(status, ("request_invalid", "this request is not valid"))
        response = (
            html(request, status, code, detail)
            if html is not None and request.url.path.startswith("/ui/")
            else JSONResponse({"error": code, "detail": detail}, status_code=status)
        )
        response.headers.update(headers)
        return response

    for kind in (BrokerError, audit.AuditError, OperationalError, InterfaceError, DataError):
        app.add_exception_handler(kind, handle)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, no_route)


async def _request_invalid(_: Request, exc: Exception) -> Response:
    """FastAPI's 422 for a bad path, query or typed body, without the `input` and `ctx` it echoes: a
    near-valid NHS number, or a reference that is a name, is not repeated back (as `parse.safe_error`)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    kept = [{"loc": _field_path(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in errors]
    return JSONResponse({"detail": kept}, status_code=422)


def _field_path(loc: Iterable[str | int]) -> list[str | int]:
    """A body field's path from the body's first field, as a notification's refusals give it (FastAPI
    starts it with `body`); a parameter keeps its place first (`query`, `path`, `header`)."""
    path = list(loc)
    return path[1:] if path[:1] == ["body"] else path
