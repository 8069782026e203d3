"""The gateway's one OPA client: every recipient of a notification decided at once, or no share.

It also loads the agency registry into OPA and reads the policies' METADATA for the rule catalogue.

Fail closed: OPA unreachable, slow, erroring, or an undefined result all raise `PolicyUnavailable`,
which the HTTP layer turns into 503 with Retry-After and nothing written.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pydantic_core
from opa_client import AsyncOpaClient
from opa_client.errors import ConnectionsError, PolicyNotFoundError, QueryExecuteError
from pydantic import SecretStr

from broker.errors import PolicyUnavailable
from schemas.policy_bundle import DATA_PATH, bundle_digest

REGISTRY_PATH = "registry"
_JSON = {"Content-Type": "application/json"}
# Every failure the client can surface; all of them mean "no decision", never "allow".
_OPA_FAILURES = (
    aiohttp.ClientError,
    TimeoutError,
    ConnectionsError,
    QueryExecuteError,
    PolicyNotFoundError,
    ValueError,
)


def opa_headers(token: SecretStr | None) -> dict[str, str]:
    """The Authorization header OPA's API authorisation admits the gateway by (none without a token)."""
    return {"Authorization": f"Bearer {token.get_secret_value()}"} if token is not None else {}


def partnership_modules(listed: Any) -> list[dict[str, Any]]:
    """The modules of OPA's `/v1/policies` answer that are the partnership's policy: not OPA's own
    API authorisation (`package system...`, deploy/opa/authz.rego), which decides no share and is
    not part of the bundle a decision is logged with or replayed under."""
    if not isinstance(listed, list):
        return []
    return [m for m in listed if isinstance(m, dict) and not _is_system(m)]


def _is_system(module: dict[str, Any]) -> bool:
    ast = module.get("ast")
    path = ast.get("package", {}).get("path") if isinstance(ast, dict) else None
    return isinstance(path, list) and len(path) > 1 and isinstance(path[1], dict) and path[1].get("value") == "system"


@dataclass(frozen=True)
class RawDecision:
    """OPA's answer, its JSON as it came, before the gateway reads it against the decision contract
    (`broker.sharing.decide.read_answer`: parsed and validated in one pass, not decoded first)."""

    body: bytes


class PolicyEngine:
    """Holds one aiohttp-backed OPA client for the app's lifetime (opened in the lifespan)."""

    def __init__(self, url: str, *, timeout: float, entrypoint: str, token: SecretStr | None = None) -> None:
        parts = urlsplit(url)
        self._headers = opa_headers(token)
        # No retries: a retry doubles the wait of a practitioner who may need to phone instead.
        self._client = AsyncOpaClient(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 8181,
            ssl=parts.scheme == "https",
            retries=0,
            timeout=timeout,
            headers=dict(self._headers),
        )
        self._decision_url = f"{url.rstrip('/')}/v1/data/{entrypoint.replace('.', '/')}"
        self._policies_url = f"{url.rstrip('/')}/v1/policies"
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> PolicyEngine:
        await self._client.__aenter__()
        self._session = aiohttp.ClientSession(timeout=self._timeout, headers=self._headers)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.close_connection()
        if self._session is not None:
            await self._session.close()

    async def decide(self, policy_input: dict[str, Any]) -> RawDecision:
        """Ask OPA for the decision on `policy_input`: its answer's bytes, unread, or `PolicyUnavailable`.

        Posted on the engine's own session rather than through the OPA client: the input is encoded by
        pydantic-core and the answer is left as bytes, each a third to a half of the CPU `json` took
        (issue #17), and the client's request wrapper is skipped.
        """
        if self._session is None:
            raise PolicyUnavailable("the policy client is not open")
        body = pydantic_core.to_json({"input": policy_input})
        try:
            async with self._session.post(self._decision_url, data=body, headers=_JSON) as response:
                response.raise_for_status()
                return RawDecision(await response.read())
        except _OPA_FAILURES as exc:
            raise PolicyUnavailable(f"policy engine unavailable: {type(exc).__name__}") from exc

    async def push_registry(self, data: dict[str, Any]) -> None:
        """Give the policies the registry's agencies (`data.registry`), replacing what was there."""
        try:
            await self._client.update_or_create_data(data, REGISTRY_PATH)
        except _OPA_FAILURES as exc:
            raise PolicyUnavailable("could not load the agency registry into the policy engine") from exc

    async def registry_revision(self) -> str | None:
        """The registry revision OPA holds now; None when it has none (after an OPA restart)."""
        try:
            data = await self._client.get_data(f"{REGISTRY_PATH}/revision")
        except _OPA_FAILURES:
            return None
        value = data.get("result") if isinstance(data, dict) else None
        return value if isinstance(value, str) else None

    async def bundle_digest(self) -> str:
        """The content hash of the rules and policy data OPA serves now (`schemas.policy_bundle`)."""
        modules = [m["raw"] for m in await self.policy_modules() if isinstance(m.get("raw"), str)]
        try:
            data = await self._client.get_data("/".join(DATA_PATH))
        except _OPA_FAILURES as exc:
            raise PolicyUnavailable("could not read the policy data") from exc
        config = data.get("result") if isinstance(data, dict) else None
        if not modules or not isinstance(config, dict):
            raise PolicyUnavailable("the policy engine serves no policy bundle")
        return bundle_digest(modules, config)

    async def policy_modules(self) -> list[dict[str, Any]]:
        """The policy modules OPA serves, each with its parsed METADATA (`ast.annotations`)."""
        if self._session is None:
            raise PolicyUnavailable("the policy client is not open")
        try:
            async with self._session.get(self._policies_url) as response:
                response.raise_for_status()
                raw = await response.read()
            # About 0.8 MB of modules and their syntax trees (OPA serves no tests: SERVE_FLAGS), every
            # `SGB_POLICY_DIGEST_SECONDS`. In a thread the parse still holds the interpreter and requests
            # wait out all of it: pydantic-core takes about 8 ms, `json` twice that (issue #17).
            body = await asyncio.to_thread(pydantic_core.from_json, raw)
        except _OPA_FAILURES as exc:
            raise PolicyUnavailable("could not read the policies' metadata") from exc
        return partnership_modules(body.get("result") if isinstance(body, dict) else None)
