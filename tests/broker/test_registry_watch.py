"""Registry changes reach a running gateway within seconds, and only signed ones (issues 11 and 16).

Each test runs its gateway on its own copy of the partnership's registry file, so the session's
file (which every other test reads) is never touched.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

import audit
from broker.partnership.cli import issue_token
from broker.partnership.grants import change_access
from broker.partnership.keys import load_agency_keys, load_broker_keys
from broker.partnership.registry import Registry, jwt_verification_key, load_registry, save_registry
from devstack.partnership import LocalPartnership
from tests.broker.conftest import AUDIENCE, Gateway, GatewayFactory

pytestmark = pytest.mark.stack

HOUSING, HV = "housing-brookside", "health-visiting-fenmere"
POLL = 0.1


async def _own_copy(
    gateway_factory: GatewayFactory, partnership: LocalPartnership, tmp_path: Path
) -> tuple[Gateway, Path]:
    """A gateway watching a registry file of its own."""
    path = tmp_path / "registry.json"
    path.write_bytes(partnership.registry_file.read_bytes())
    started: Gateway = await gateway_factory(registry_file=path, registry_poll_seconds=POLL)
    return started, path


def _signed(gateway: Gateway, registry: Registry, action: str, role: str) -> Registry:
    keys = load_broker_keys(gateway.partnership.broker_keys_dir)
    return change_access(
        registry,
        action=action,  # type: ignore[arg-type]
        agency_id=HOUSING,
        role=role,
        by="ops-admin-07",
        signing_key=keys.signing_key,
        key_id=keys.signing_key_id,
        now=datetime.now(UTC),
    )


async def _status_becomes(gateway: Gateway, token_role: str, want: int, *, within: float = 10.0) -> int:
    """The status of a housing person's read, polled until it is `want` or `within` runs out."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        token = gateway.token(HOUSING, role=token_role, subject="housing-lead-01")
        got = (await gateway.client.get("/v1/decisions", headers={"Authorization": f"Bearer {token}"})).status_code
        if got == want or asyncio.get_running_loop().time() > deadline:
            return got
        await asyncio.sleep(POLL)


def _changes(gateway: Gateway) -> list[tuple[str, str, str | None]]:
    with Session(gateway.engine) as session:
        found = session.exec(select(audit.Entry).where(audit.Entry.kind == audit.EventKind.REGISTRY_CHANGED))
        return [(e.outcome, e.sender_role, e.actor) for e in found]


async def test_a_grant_and_a_revocation_apply_without_a_restart_and_are_logged(
    gateway_factory: GatewayFactory, partnership: LocalPartnership, tmp_path: Path
) -> None:
    gateway, path = await _own_copy(gateway_factory, partnership, tmp_path)
    assert await _status_becomes(gateway, "dsl", 401, within=0) == 401  # housing holds no DSL grant
    granted = _signed(gateway, load_registry(path), "grant", "dsl")
    save_registry(granted, path)
    assert await _status_becomes(gateway, "dsl", 200) == 200
    assert ("role_granted", "dsl", "ops-admin-07") in _changes(gateway)
    revoked = _signed(gateway, granted, "revoke", "dsl")
    save_registry(revoked, path)
    assert await _status_becomes(gateway, "dsl", 401) == 401
    assert ("role_revoked", "dsl", "ops-admin-07") in _changes(gateway)
    revisions = [r for o, r, _ in _changes(gateway) if o == "registry_revision"]
    assert len(revisions) >= 3  # at start, after the grant, after the revocation


async def test_a_hand_edited_grant_is_refused_and_the_running_registry_stays(
    gateway_factory: GatewayFactory, partnership: LocalPartnership, tmp_path: Path
) -> None:
    gateway, path = await _own_copy(gateway_factory, partnership, tmp_path)
    before = gateway.registry.revision
    edited = json.loads(path.read_bytes())
    edited["grants"][HOUSING] = sorted([*edited["grants"][HOUSING], "dsl"])
    save_registry(Registry.model_validate(edited), path)
    await asyncio.sleep(POLL * 10)  # several rounds of the watch
    assert gateway.registry.revision == before
    assert await _status_becomes(gateway, "dsl", 401, within=0) == 401


def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "broker.partnership.cli", *args], check=True, capture_output=True, text=True)


async def test_a_new_agency_and_a_rotated_key_apply_without_a_restart(
    gateway_factory: GatewayFactory, partnership: LocalPartnership, tmp_path: Path
) -> None:
    gateway, path = await _own_copy(gateway_factory, partnership, tmp_path)
    newcomer, keys = "yot-brookside", tmp_path / "yot-keys"
    _cli("generate-keys", "--agency", newcomer, "--out", str(keys))

    async def read_with(agency_keys: Path, agency: str) -> int:
        token = issue_token(load_agency_keys(agency_keys), role="agency_system", audience=AUDIENCE)
        answer = await gateway.client.get("/v1/decisions", headers={"Authorization": f"Bearer {token}"})
        return answer.status_code

    assert await read_with(keys, newcomer) == 401  # not registered
    signer = ("--by", "ops-admin-07", "--broker-keys", str(partnership.broker_keys_dir))
    _cli(
        *("register", "--registry", str(path), "--agency", newcomer, "--name", "Brookside YOT (fictional)"),
        *("--type", "yos", "--keys", str(keys), *signer),
    )
    assert await _until(lambda: read_with(keys, newcomer), 200) == 200
    hv_keys = tmp_path / "hv-keys"
    shutil.copytree(partnership.agency_keys_dir(HV), hv_keys)
    _cli("rotate", "--registry", str(path), "--agency", HV, "--keys", str(hv_keys), *signer)
    assert await _until(lambda: read_with(hv_keys, HV), 200) == 200  # the new token key is known at once
    logged = _changes(gateway)
    assert ("agency_registered", "agency_system", "ops-admin-07") in logged
    assert ("keys_rotated", "agency_system", "ops-admin-07") in logged


async def test_a_token_key_added_by_hand_is_refused_and_the_running_registry_stays(
    gateway_factory: GatewayFactory, partnership: LocalPartnership, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Whoever can write the file but not sign could otherwise log in as the agency, with its grants."""
    gateway, path = await _own_copy(gateway_factory, partnership, tmp_path)
    before = gateway.registry.revision
    forger = tmp_path / "forged-keys"
    _cli("generate-keys", "--agency", HV, "--out", str(forger))
    forged = load_agency_keys(forger)
    edited = json.loads(path.read_bytes())
    public = jwt_verification_key(forged.current_jwt_key.private_key.public_key(), created_at=datetime.now(UTC))
    edited["agencies"][HV]["jwt_keys"].insert(0, public.model_dump(mode="json"))
    with caplog.at_level(logging.ERROR, logger="broker.registry"):
        save_registry(Registry.model_validate(edited), path)
        await asyncio.sleep(POLL * 10)  # several rounds of the watch
    assert "edited by hand" in caplog.text, "the watch read the file and refused it"
    assert gateway.registry.revision == before
    token = issue_token(forged, role="agency_system", audience=AUDIENCE)
    answer = await gateway.client.get("/v1/decisions", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401


async def _until(probe: Callable[[], Awaitable[int]], want: int, *, within: float = 10.0) -> int:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        got = await probe()
        if got == want or asyncio.get_running_loop().time() > deadline:
            return got
        await asyncio.sleep(POLL)
