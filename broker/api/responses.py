"""The error answers each route can give, declared in the OpenAPI so clients (and fuzzers) can rely on them.

Every refusal made by `broker.api.errors` has the `ApiError` shape; FastAPI's own request
validation (path, query, typed bodies) answers 422 with `{"detail": [...]}`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

DESCRIPTIONS = {
    400: "The body could not be parsed at all",
    401: "Missing, invalid, expired or replayed agency token",
    403: "The caller's agency or role may not do this",
    404: "Not found, or not visible to this caller",
    409: "Conflict: the Idempotency-Key was used for another body, or the item is already resolved",
    413: "The body is over the size limit",
    422: "The request does not match its schema; the errors name each bad field's path",
    503: "The policy engine or the decision log is unavailable: nothing was decided or shared",
}


class ApiError(BaseModel):
    """A refusal: a stable code, a message, and for 422/401/503 the details a client needs."""

    error: str
    detail: str
    reason: str | None = None
    # A list of {loc, msg, type} for a notification; field -> message for a review answer.
    errors: list[dict[str, Any]] | dict[str, str] | None = None
    urgent: str | None = None


class BadRequest(BaseModel):
    """FastAPI's answer for a body it cannot parse at all (not UTF-8, not JSON)."""

    detail: str


class RequestInvalid(BaseModel):
    """FastAPI's answer for a bad path, query or typed body."""

    detail: list[dict[str, Any]]


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route that can refuse with these status codes."""
    declared: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        model: Any = {422: ApiError | RequestInvalid, 400: BadRequest}.get(code, ApiError)
        declared[code] = {"model": model, "description": DESCRIPTIONS[code]}
    return declared


AUTHENTICATED = (401, 403, 422, 503)
