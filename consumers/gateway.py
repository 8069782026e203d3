"""The consumer's two calls to the gateway's HTTP API, both for witnessing the log (`schemas.witness`).

    GET  /v1/log/proof?from=<smaller size>&to=<larger size>   a consistency proof between two checkpoints
    POST /v1/log/cosignatures                                 this agency's cosignature on a checkpoint

Each call carries a fresh single-use agency token signed with the agency's registered token key, as
the gateway requires of every caller (`consumers.receipt.ReceiptSigner.api_token`). Any failure to get
a usable answer is a `GatewayUnavailable`: it says nothing about the log, so the witness keeps what
it has and asks again later.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from typing import Any, TypeVar

import aiohttp
from pydantic import BaseModel, ValidationError

from consumers.errors import GatewayUnavailable
from schemas.witness import ConsistencyAnswer, CosignatureStored, CosignatureSubmission

Token = Callable[[], str]
M = TypeVar("M", bound=BaseModel)


class GatewayClient:
    """Talks to one gateway as one agency; a session per call, since calls are a few a minute at most."""

    def __init__(
        self, *, base_url: str, token: Token, ssl_context: ssl.SSLContext | None = None, timeout: float = 10.0
    ) -> None:
        self._base = base_url.rstrip("/")
        self._token = token
        self._ssl = ssl_context
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def consistency(self, from_size: int, to_size: int) -> ConsistencyAnswer:
        """Return the gateway's proof that the tree of `from_size` is a prefix of its checkpoint of `to_size`."""
        answer = await self._call(
            "GET", "/v1/log/proof", ConsistencyAnswer, params={"from": str(from_size), "to": str(to_size)}
        )
        if (answer.from_size, answer.to_size) != (from_size, to_size):
            got = f"{answer.from_size}->{answer.to_size}"
            raise GatewayUnavailable(f"asked for a proof {from_size}->{to_size}, got {got}")
        return answer

    async def cosign(self, tree_size: int, line: str) -> CosignatureStored:
        """Post this agency's cosignature line on the stored checkpoint of `tree_size`."""
        body = CosignatureSubmission(tree_size=tree_size, cosignature=line).model_dump(mode="json")
        return await self._call("POST", "/v1/log/cosignatures", CosignatureStored, json=body)

    async def _call(self, method: str, path: str, model: type[M], **kwargs: Any) -> M:
        headers = {"Authorization": f"Bearer {self._token()}"}
        try:
            async with (
                aiohttp.ClientSession(timeout=self._timeout) as session,
                session.request(
                    method, self._base + path, headers=headers, ssl=self._ssl or True, allow_redirects=False, **kwargs
                ) as response,
            ):
                text = await response.text()
                if 300 <= response.status < 400:
                    # Never a valid answer, and never followed: the token would go to wherever it points.
                    # No `code`: a redirect's body is not the gateway's refusal, so it cannot raise an alarm.
                    raise GatewayUnavailable(
                        f"{method} {path}: HTTP {response.status} redirect, not followed", status=response.status
                    )
                if response.status >= 300:
                    # The gateway's refusals name a code and a reason, never case data: safe to log.
                    raise GatewayUnavailable(
                        f"{method} {path}: HTTP {response.status} {text[:300]}",
                        status=response.status,
                        code=_error_code(text),
                    )
                return model.model_validate_json(text)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise GatewayUnavailable(f"{method} {path}: {type(exc).__name__}") from exc
        except ValidationError as exc:
            raise GatewayUnavailable(f"{method} {path}: the answer is not a {model.__name__}") from exc


def _error_code(text: str) -> str | None:
    """The `error` of the gateway's refusal body (`ApiError`); None for anything else (a proxy's page)."""
    try:
        body = json.loads(text)
    except ValueError:
        return None
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None
