"""Request dependencies: the runtime, the authenticated caller, a size-limited body."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Path, Request

from broker.admission.tokens import Caller, verify_token
from broker.errors import MalformedToken, PayloadTooLarge
from broker.runtime import Runtime


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(_runtime)]


async def _caller(request: Request, runtime: RuntimeDep) -> Caller:
    """Verify the bearer token and burn its jti before anything else happens (replay refusal)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise MalformedToken("an Authorization: Bearer <agency JWT> header is required")
    caller = verify_token(
        token.strip(), registry=runtime.registry, audience=runtime.settings.audience,
        max_lifetime=timedelta(seconds=runtime.settings.max_token_lifetime_seconds),
    )
    # Committed before we go on (group commit with the other requests being admitted), so every
    # worker sees the jti as used at once.
    await runtime.token_burner.burn(caller)
    return caller


CallerDep = Annotated[Caller, Depends(_caller)]

# Log sequence numbers and offsets are 64-bit in both databases; a larger number is a 422, not a crash.
MAX_INT64 = 2**63 - 1
SeqPath = Annotated[int, Path(ge=0, le=MAX_INT64)]


async def read_body(request: Request, limit: int) -> bytes:
    """Read at most `limit` bytes; refuse larger bodies without buffering them."""
    declared = request.headers.get("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is over {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
