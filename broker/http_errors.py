"""The one place where errors become HTTP responses.

Every refusal names its reason; none repeats a payload value. Anything that stops a decision from
being made or recorded is a 503 with Retry-After, and tells a practitioner with an urgent concern
to use the phone route, as the procedures require when a referral cannot wait.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

import audit
from broker.errors import (
    AuthError,
    BrokerError,
    Forbidden,
    HeldDeliveryGone,
    IdempotencyConflict,
    InvalidNotification,
    LogUnavailable,
    NotFound,
    PayloadTooLarge,
    PolicyUnavailable,
)

log = logging.getLogger("broker.http")

URGENT_ROUTE = (
    "Nothing was shared. If a child may be at immediate risk of significant harm, do not wait: "
    "telephone the children's social care front door (or the Emergency Duty Team out of hours), "
    "or the police on 999, and confirm in writing within 24 hours."
)

_STATUS: tuple[tuple[type[Exception], int, str], ...] = (
    (AuthError, 401, "unauthenticated"),
    (Forbidden, 403, "forbidden"),
    (NotFound, 404, "not_found"),
    (IdempotencyConflict, 409, "idempotency_conflict"),
    (HeldDeliveryGone, 409, "already_resolved"),
    (PayloadTooLarge, 413, "payload_too_large"),
    (InvalidNotification, 422, "invalid_notification"),
    (PolicyUnavailable, 503, "policy_unavailable"),
    (LogUnavailable, 503, "log_unavailable"),
    (audit.Pushback, 503, "log_busy"),
    (audit.BatcherClosed, 503, "log_unavailable"),
)


def _body(exc: Exception, code: str) -> dict[str, object]:
    body: dict[str, object] = {"error": code, "detail": str(exc)}
    if isinstance(exc, AuthError):
        body["reason"] = exc.reason
    if isinstance(exc, InvalidNotification):
        body["errors"] = exc.errors
    return body


def install(app: FastAPI, *, retry_after_seconds: int) -> None:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        for kind, status, code in _STATUS:
            if isinstance(exc, kind):
                body = _body(exc, code)
                headers: dict[str, str] = {}
                if status == 401:
                    headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
                if status == 503:
                    headers["Retry-After"] = str(retry_after_seconds)
                    body["urgent"] = URGENT_ROUTE
                return JSONResponse(body, status_code=status, headers=headers)
        log.error("unmapped broker error %s", type(exc).__name__)
        return JSONResponse({"error": "internal"}, status_code=500)

    for kind in (BrokerError, audit.AuditError):
        app.add_exception_handler(kind, handle)
