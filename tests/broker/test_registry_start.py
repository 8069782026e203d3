"""A gateway starting on a registry file behind the decision log refuses it, unless an operator names it.

The running watch already refuses a file that goes back (`test_partnership_review_fixes.py`); a
restart used to take any signed file, so restoring yesterday's copy undid every revocation since.
Each test has its own copy of the partnership's registry and its own database.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlmodel import Session, col, select

import audit
from broker.errors import RegistryError
from broker.partnership.grants import change_access
from broker.partnership.keys import BrokerKeys, load_broker_keys, rotate_broker_signing_key
from broker.partnership.registry import Registry, load_registry, save_registry
from broker.review.access_log import WENT_BACK, refuse_if_behind
from broker.settings import BrokerSettings
from broker.worker import run as run_worker
from devstack.partnership import LocalPartnership
from tests.broker.conftest import Gateway, GatewayFactory, gateway_settings
from tests.broker.test_registry_watch import HOUSING, _signed

pytestmark = pytest.mark.stack


def _registry_entries(gateway: Gateway) -> list[audit.Entry]:
    with Session(gateway.engine) as session:
        query = select(audit.Entry).where(col(audit.Entry.kind) == audit.EventKind.REGISTRY_CHANGED)
        return list(session.exec(query.order_by(col(audit.Entry.seq))))


async def test_a_restart_on_a_copy_from_before_a_revocation_is_refused_until_named(
    gateway_factory: GatewayFactory, partnership: LocalPartnership, tmp_path: Path
) -> None:
    path = tmp_path / "registry.json"
    path.write_bytes(partnership.registry_file.read_bytes())
    first = await gateway_factory(registry_file=path, registry_poll_seconds=0)
    granted = _signed(first, load_registry(path), "grant", "dsl")
    revoked = _signed(first, granted, "revoke", "dsl")
    save_registry(revoked, path)
    current = await gateway_factory(registry_file=path, registry_poll_seconds=0)  # logs grant and revoke
    logged = len(_registry_entries(current))

    save_registry(granted, path)  # yesterday's copy: signed throughout, the DSL grant in force
    with pytest.raises(RegistryError) as refused:
        await gateway_factory(registry_file=path, registry_poll_seconds=0)
    said = str(refused.value)
    assert "lacks 1 signed access change" in said and f"revoked dsl from {HOUSING}" in said, said
    assert f"SGB_REGISTRY_ACCEPT_REVISION={granted.revision}" in said, "names how to go back on purpose"
    assert len(_registry_entries(current)) == logged, "nothing logged for a refused start"

    back = await gateway_factory(registry_file=path, registry_poll_seconds=0, registry_accept_revision=granted.revision)
    (went_back,) = [e for e in _registry_entries(back) if e.outcome == WENT_BACK]
    assert went_back.reasons[0]["message"].startswith(f"registry revision {granted.revision[:16]} taken into use")
    token = back.token(HOUSING, role="dsl", subject="housing-lead-01")
    read = await back.client.get("/v1/decisions", headers={"Authorization": f"Bearer {token}"})
    assert read.status_code == 200, "the operator's going back is in force"
    again = await gateway_factory(registry_file=path, registry_poll_seconds=0)  # accepted once, on record
    assert len([e for e in _registry_entries(again) if e.outcome == WENT_BACK]) == 1

    ahead = _signed(first, granted, "revoke", "dsl")  # going forward from there needs nothing named
    save_registry(ahead, path)
    await gateway_factory(registry_file=path, registry_poll_seconds=0)


def test_the_revision_to_accept_must_be_a_revision(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as refused:
        BrokerSettings(registry_accept_revision="yesterday")
    assert "registry_accept_revision" in str(refused.value)


def _grant_by(registry: Registry, keys: BrokerKeys) -> Registry:
    now = datetime.now(UTC)
    return change_access(
        registry,
        action="grant",
        agency_id=HOUSING,
        role="dsl",
        by="ops-admin-07",
        signing_key=keys.signing_key,
        key_id=keys.signing_key_id,
        now=now,
    )


async def test_a_start_refuses_a_change_it_never_logged_signed_with_a_retired_broker_key(
    gateway_factory: GatewayFactory, partnership: LocalPartnership, tmp_path: Path, sqlite_url: str
) -> None:
    keys_dir = tmp_path / "broker-keys"
    shutil.copytree(partnership.broker_keys_dir, keys_dir)
    retired = load_broker_keys(keys_dir)
    path = tmp_path / "registry.json"
    path.write_bytes(partnership.registry_file.read_bytes())
    await gateway_factory(registry_file=path, registry_poll_seconds=0, keys_dir=keys_dir)  # logs what is there
    current = rotate_broker_signing_key(keys_dir, now=datetime.now(UTC))
    before = load_registry(path)
    save_registry(_grant_by(before, retired), path)  # whoever kept the old key grants themselves a DSL
    with pytest.raises(RegistryError, match="a retired broker key"):
        await gateway_factory(registry_file=path, registry_poll_seconds=0, keys_dir=keys_dir)
    # The worker checks receipts against the agencies' keys: it refuses the same file.
    with pytest.raises(RegistryError, match="a retired broker key"):
        await run_worker(gateway_settings(partnership, sqlite_url, registry_file=path, keys_dir=keys_dir))
    save_registry(_grant_by(before, current), path)
    started = await gateway_factory(registry_file=path, registry_poll_seconds=0, keys_dir=keys_dir)
    assert any(e.outcome == "role_granted" and e.sender_agency == HOUSING for e in _registry_entries(started))


async def test_the_worker_refuses_a_registry_behind_the_log_too(
    gateway_factory: GatewayFactory, partnership: LocalPartnership, tmp_path: Path
) -> None:
    """The worker checks receipts against the agencies' keys; it logs nothing, but must not run on a
    copy the gateway would refuse."""
    path = tmp_path / "registry.json"
    path.write_bytes(partnership.registry_file.read_bytes())
    first = await gateway_factory(registry_file=path, registry_poll_seconds=0)
    granted = _signed(first, load_registry(path), "grant", "dsl")
    save_registry(_signed(first, granted, "revoke", "dsl"), path)
    current = await gateway_factory(registry_file=path, registry_poll_seconds=0)  # logs both
    refuse_if_behind(current.engine, load_registry(path), accept_revision=None)  # in step: nothing said
    with pytest.raises(RegistryError, match="lacks 1 signed access change"):
        refuse_if_behind(current.engine, granted, accept_revision=None)
    refuse_if_behind(current.engine, granted, accept_revision=granted.revision)  # named: let through
