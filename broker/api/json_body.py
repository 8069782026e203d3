"""A request's JSON body: declared as JSON, under the size limit, and read one way only.

Every body the API takes is JSON. One not declared so is refused (415) rather than guessed at, and
one whose objects repeat a key is refused (422, `broker.sharing.strict_json`) rather than read as
its last copy. The notification routes read their body themselves (`read_body`); every other route
with a typed body gets the same checks from `JsonRoute`, before FastAPI validates the body. Either
way the body is read in chunks up to the size limit (413 past it), never buffered whole: FastAPI's
own reading would take any size, before the token is even looked at.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from broker.api.deps import settings_of
from broker.errors import PayloadTooLarge, UnsupportedMediaType
from broker.sharing import strict_json
from broker.sharing.parse import REPEATED_KEY

JSON = "application/json"


def check_declared_json(request: Request) -> None:
    """Refuse a body whose Content-Type is missing, not JSON, or JSON in another charset than UTF-8."""
    declared = request.headers.get("content-type")
    if declared is None:
        raise UnsupportedMediaType(f"give the body's Content-Type: {JSON}")
    media, *parameters = (part.strip().lower() for part in declared.split(";"))
    if media != JSON:
        # What was declared is not repeated: a refusal never quotes what was sent.
        raise UnsupportedMediaType(f"the body must be JSON, declared as Content-Type: {JSON}")
    charset = next((p.partition("=")[2].strip('"') for p in parameters if p.startswith("charset=")), "utf-8")
    if charset != "utf-8":
        raise UnsupportedMediaType("JSON is UTF-8 (RFC 8259 §8.1): give no charset, or charset=utf-8")


async def read_body(request: Request, limit: int) -> bytes:
    """Read at most `limit` bytes of a body declared as JSON; refuse larger ones without buffering them."""
    _check_length(request, limit)
    check_declared_json(request)
    return await _read_capped(request, limit)


def _check_length(request: Request, limit: int) -> None:
    # A declared length over the limit is refused before a byte is read.
    declared = request.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is over {limit} bytes")


async def _read_capped(request: Request, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class _ReadJson(Request):
    """A request whose JSON body was read (capped, strictly) before FastAPI asks for it."""

    raw = b""
    parsed: Any = None

    async def body(self) -> bytes:
        return self.raw

    async def json(self) -> Any:
        return self.parsed


def _invalid(loc: list[str | int], message: str, kind: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ["body", *loc], "msg": message, "type": kind}])


class JsonRoute(APIRoute):
    """A route whose typed body is declared JSON and has no repeated key, or is refused before FastAPI's
    own reading (which would take any Content-Type's bytes, and the last copy of a key)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler

        async def checked(request: Request) -> Response:
            request = _ReadJson(request.scope, request.receive)
            limit = settings_of(request).max_body_bytes
            _check_length(request, limit)
            request.raw = body = await _read_capped(request, limit)
            if body:
                check_declared_json(request)
                try:
                    request.parsed = strict_json.loads(body)
                except strict_json.DuplicateKey as exc:
                    raise _invalid(exc.loc, REPEATED_KEY, "duplicate_key") from exc
                except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
                    raise _invalid([], "the body is not valid JSON", "json_invalid") from exc
            return await handler(request)

        return checked
