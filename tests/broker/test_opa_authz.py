"""OPA as docker-compose.yml runs it: token authentication and deploy/opa/authz.rego admit only the
gateway's SGB_OPA_TOKEN, and nobody may replace a policy module through the API.

On the stack's OPA binary, started here with the compose file's own flags and policy files; and a
real gateway deciding through it. Also: a module replaced in place under an unchanged revision is
logged under its own content hash once the gateway reads the digest again (SGB_POLICY_DIGEST_SECONDS).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from pydantic import SecretStr
from sqlalchemy import Engine
from sqlmodel import Session, col, select

import audit
from audit.replay import bundle_of
from broker.errors import PolicyUnavailable
from broker.sharing.policy import PolicyEngine
from devstack.settings import StackSettings
from faults.process import HOST, REPO, Child, clean_env, free_port, http_ok, wait_for
from tests.broker.conftest import GatewayFactory
from tests.factories import school_referral

pytestmark = pytest.mark.stack

TOKEN = "gateway-token-for-the-authz-test"
ENTRYPOINT = "safeguarding/decision/decision"


def _compose_opa_flags() -> list[str]:
    """The flags docker-compose.yml gives OPA, less its address and the paths it mounts."""
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    command: list[str] = compose["services"]["opa"]["command"]
    return [arg for arg in command if arg.startswith("--") and not arg.startswith("--addr")]


@pytest.fixture
def guarded_opa(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    args = [str(StackSettings().opa_binary), "run", *_compose_opa_flags(), f"--addr={HOST}:{port}"]
    args += [str(REPO / "policies"), str(REPO / "deploy" / "opa" / "authz.rego")]
    child = Child("opa", args, {**clean_env(), "OPA_GATEWAY_TOKEN": TOKEN}, tmp_path / "opa.log")
    child.start()
    url = f"http://{HOST}:{port}"
    try:
        # The health check carries no token: it must still be answered.
        wait_for(lambda: http_ok(f"{url}/health"), what="OPA", timeout=30, log=child.log)
        yield url
    finally:
        child.stop()


def test_compose_runs_opa_with_token_authentication_and_basic_authorisation() -> None:
    flags = _compose_opa_flags()
    assert "--authentication=token" in flags
    assert "--authorization=basic" in flags


async def test_nobody_without_the_token_reads_or_rewrites_the_policy(guarded_opa: str) -> None:
    module = (REPO / "policies" / "safeguarding" / "decision" / "decision.rego").read_text()
    async with httpx.AsyncClient(base_url=guarded_opa) as opa:
        listed = await opa.get("/v1/policies")
        rewritten = await opa.put("/v1/policies/injected", content=module)
        decided = await opa.post(f"/v1/data/{ENTRYPOINT}", json={"input": {}})
        wrong = await opa.get("/v1/policies", headers={"Authorization": "Bearer not-the-gateway-token"})
    assert [listed.status_code, rewritten.status_code, decided.status_code, wrong.status_code] == [401] * 4


async def test_the_gateway_token_cannot_rewrite_the_policy_either(guarded_opa: str) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    module = (REPO / "policies" / "safeguarding" / "decision" / "decision.rego").read_text()
    async with httpx.AsyncClient(base_url=guarded_opa, headers=auth) as opa:
        listed = (await opa.get("/v1/policies")).json()["result"]
        replaced = await opa.put(f"/v1/policies/{listed[0]['id']}", content=module)
        config = await opa.put("/v1/data/safeguarding/config/revision", json="sg-policy-forged")
        own = await opa.get("/v1/data/system/authz")
        registry = await opa.put("/v1/data/registry", json={"revision": "r"})
    # OPA answers every request its authorisation policy refuses with 401, token or not.
    assert [replaced.status_code, config.status_code, own.status_code] == [401, 401, 401]
    assert registry.status_code == 204, registry.text


async def test_the_engine_with_the_token_reads_the_bundle_as_replay_does(guarded_opa: str) -> None:
    async with PolicyEngine(guarded_opa, timeout=5, entrypoint=ENTRYPOINT, token=SecretStr(TOKEN)) as engine:
        digest = await engine.bundle_digest()
        modules = await engine.policy_modules()
    # OPA's own authorisation module is served too, but it is not the partnership's policy.
    assert all(not str(m["id"]).endswith("authz.rego") for m in modules)
    assert digest == bundle_of(REPO / "policies")[1]
    async with PolicyEngine(guarded_opa, timeout=5, entrypoint=ENTRYPOINT) as anonymous:
        with pytest.raises(PolicyUnavailable):
            await anonymous.decide({})
        with pytest.raises(PolicyUnavailable):
            await anonymous.bundle_digest()


async def test_a_gateway_decides_through_the_guarded_opa(gateway_factory: GatewayFactory, guarded_opa: str) -> None:
    gateway = await gateway_factory(opa_url=guarded_opa, opa_token=SecretStr(TOKEN))
    assert (await gateway.post(school_referral())).status_code == 202
    ready = await gateway.client.get("/readyz")
    assert ready.json()["policy"] == "ok", ready.text


def _logged_revisions(engine: Engine) -> set[str]:
    with Session(engine) as session:
        query = select(audit.Entry.policy_revision).where(col(audit.Entry.kind) == audit.EventKind.DECIDED)
        return {r for r in session.exec(query) if r}


async def test_a_module_replaced_in_place_is_logged_under_its_own_hash(
    gateway_factory: GatewayFactory, private_opa: str
) -> None:
    # An unguarded OPA (as before this fix), whose module is swapped keeping the revision string.
    gateway = await gateway_factory(opa_url=private_opa, policy_digest_seconds=0.2)
    assert (await gateway.post(school_referral())).status_code == 202
    (before,) = _logged_revisions(gateway.engine)
    async with httpx.AsyncClient(base_url=private_opa) as opa:
        listed = (await opa.get("/v1/policies")).json()["result"]
        target = next(m for m in listed if m["id"].endswith("decision/decision.rego"))
        swapped = await opa.put(f"/v1/policies/{target['id']}", content=target["raw"] + "\n# swapped in place\n")
        assert swapped.status_code == 200, swapped.text
    deadline = time.monotonic() + 60
    while _logged_revisions(gateway.engine) == {before} and time.monotonic() < deadline:
        await asyncio.sleep(0.3)
        assert (await gateway.post(school_referral())).status_code == 202
    (after,) = _logged_revisions(gateway.engine) - {before}
    assert after.split("@")[0] == before.split("@")[0], "the revision string did not change"
    assert after.split("@")[1] != before.split("@")[1]
