"""What each route answers, declared in the OpenAPI so clients (and fuzzers) can rely on it.

2xx bodies are the models of `schemas.api` (routes name them with `response_model=`), with the
worked examples of `schemas.api_examples`. Every refusal made by `broker.api.errors` has the
`ApiError` shape; FastAPI's own request validation (path, query, typed bodies) answers 422 with
`{"detail": [...]}`. Authenticated routes declare the `agencyToken` bearer scheme (`BEARER`).

    python -m broker.api.responses > docs/openapi.json     the committed copy of the OpenAPI
"""

from __future__ import annotations

import json
import sys
from typing import Any

from fastapi import Security
from fastapi.security import HTTPBearer
from pydantic import BaseModel, TypeAdapter

from schemas import api_examples
from schemas.notifications import Notification

DESCRIPTIONS = {
    401: "Missing, invalid, expired or replayed agency token",
    403: "The caller's agency or role may not do this",
    404: "Not found, or not visible to this caller",
    409: "Conflict: the Idempotency-Key was used for another body, the notification_id was already decided, "
    "the item is already resolved, or (a case shredding) the person's information is kept in another child's case",
    413: "The body is over the size limit",
    415: "The body is not declared as JSON (Content-Type: application/json, UTF-8)",
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


class RequestInvalid(BaseModel):
    """The answer for a bad path, query or typed body: each error's `loc` is a body field's path from
    the body's first field (as in a notification's `errors`), or a parameter's place and name
    (`["query", "limit"]`)."""

    detail: list[dict[str, Any]]


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route that can refuse with these status codes."""
    declared: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        # A body that cannot be parsed at all is a 422 too (`broker.api.json_body`), never FastAPI's 400.
        model: Any = ApiError | RequestInvalid if code == 422 else ApiError
        declared[code] = {"model": model, "description": DESCRIPTIONS[code]}
    return declared


def json_errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`errors` for a route whose success is not JSON (FastAPI files a model's schema under the route's
    own media type): its refusals are JSON all the same."""
    schema = {"$ref": "#/components/schemas/ApiError"}
    return {
        code: {"description": DESCRIPTIONS[code], "content": {"application/json": {"schema": schema}}} for code in codes
    }


AUTHENTICATED = (401, 403, 422, 503)


# Declared for the OpenAPI only: with auto_error=False it never refuses a request, so the token is
# still verified (and refused in the API's own error shape) by the caller dependency of broker.api.deps.
_BEARER = HTTPBearer(
    scheme_name="agencyToken",
    bearerFormat="JWT",
    auto_error=False,
    description="A short-lived agency JWT (EdDSA or ES256) signed with the agency's registered key; single use "
    "(jti); the role must be granted to the agency, and a person's token names them in `sub`.",
)
BEARER = [Security(_BEARER)]
"""`dependencies=` for a route that needs an agency token."""

Example = tuple[str, str, object]
"""(name, summary, value): the value a model instance, a list of them, or plain JSON.

FastAPI renders the OpenAPI with exclude_none, so every null vanishes from an example: examples
give each required field a value (tests/broker/test_api_documents.py checks them against the schemas).
"""


def _plain(value: object) -> object:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _examples(examples: tuple[Example, ...]) -> dict[str, Any]:
    return {name: {"summary": summary, "value": _plain(value)} for name, summary, value in examples}


def ok(
    code: int,
    *examples: Example,
    model: Any = None,
    description: str | None = None,
    media_type: str = "application/json",
) -> dict[int | str, dict[str, Any]]:
    """`responses=` entry for a success answer: its examples (and model, when it is not the route's own)."""
    entry: dict[str, Any] = {"content": {media_type: {"examples": _examples(examples)}}}
    if model is not None:
        entry["model"] = model
    if description is not None:
        entry["description"] = description
    return {code: entry}


def request_examples(*examples: Example) -> dict[str, Any]:
    """`openapi_extra=` adding examples to a route's JSON request body."""
    return {"requestBody": {"content": {"application/json": {"examples": _examples(examples)}}}}


# The route reads its raw body itself (size limit, idempotency digest), so FastAPI cannot see the
# union; its schema is published here. OpenAPI has no room for our own component schemas without
# a typed parameter, so the union's definitions sit beside it and refs point into this operation.
_BODY_DEFS = "#/paths/~1v1~1notifications/post/requestBody/content/application~1json/schema/$defs/"


def notification_body() -> dict[str, Any]:
    """`openapi_extra=` of `POST /v1/notifications`: the notification union, discriminated by message_type."""
    schema = TypeAdapter(Notification).json_schema(ref_template=_BODY_DEFS + "{model}")
    example: Example = (
        "referral",
        "A school refers a concern to social care and police (fictional)",
        api_examples.NOTIFICATION,
    )
    return {
        "requestBody": {
            "required": True,
            "description": "One notification; `message_type` selects its model (schemas/json/notifications/).",
            "content": {"application/json": {"schema": schema, "examples": _examples((example,))}},
        }
    }


def same_notification_body(description: str) -> dict[str, Any]:
    """`openapi_extra=` of a route whose body is a notification too: a $ref to the union above, not a copy."""
    schema = {"$ref": _BODY_DEFS.removesuffix("/$defs/")}
    example: Example = ("corrected", "The corrected referral (fictional)", api_examples.NOTIFICATION)
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": schema, "examples": _examples((example,))}},
        }
    }


def openapi_text() -> str:
    """The gateway's OpenAPI as committed in docs/openapi.json."""
    from broker.app import create_app  # here, not at the top: broker.app imports the routes, which import us

    return json.dumps(create_app().openapi(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(openapi_text())
