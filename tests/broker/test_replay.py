"""Issue 14, replay: each decision keeps its policy input (never a value) and the content hash of
the policy bundle; `python -m audit replay` re-decides a period under another policy directory and
lists exactly the decisions the change flips, without writing to the log. Real gateway, real OPA."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, func, select

import audit
from audit.canonical import canonical_text
from audit.models import PolicyInputRecord
from audit.replay import bundle_of, replay
from faults.harness import PrivateOpa
from tests.broker.conftest import Gateway, GatewayFactory
from tests.factories import PERSONAL_VALUES, school_referral

pytestmark = pytest.mark.stack

REPO = Path(__file__).resolve().parents[2]
POLICE = {"agency_id": "police-fenmere", "role": "police_public_protection", "need_to_know": "investigate_crime"}
BASIS = "safeguarding_children_individuals_at_risk"


async def _post(gateway: Gateway, **overrides: Any) -> list[str]:
    response = await gateway.post(school_referral(**overrides))
    assert response.status_code == 202, response.text
    return [r["outcome"] for r in response.json()["recipients"]]


def _without_basis(tmp_path: Path) -> Path:
    """A copy of the policies in which referrals may no longer rely on `BASIS` (GR1 then holds)."""
    policies = tmp_path / "policies"
    shutil.copytree(REPO / "policies", policies)
    config_file = policies / "safeguarding" / "config" / "data.json"
    config = json.loads(config_file.read_text())
    bases = config["message_types"]["safeguarding_referral"]["lawful_bases"]
    config["message_types"]["safeguarding_referral"]["lawful_bases"] = [b for b in bases if b != BASIS]
    config_file.write_text(json.dumps(config))
    return policies


def _counts(gateway: Gateway) -> tuple[int, int]:
    with Session(gateway.engine) as session:
        entries = session.exec(select(func.count()).select_from(audit.Entry)).one()
        inputs = session.exec(select(func.count()).select_from(PolicyInputRecord)).one()
    return entries, inputs


async def test_a_replay_lists_exactly_what_a_policy_change_flips(
    gateway: Gateway, opa_bin: str, tmp_path: Path
) -> None:
    relying = await _post(gateway, recipients=[POLICE])
    other = await _post(gateway, recipients=[POLICE], lawful_basis="public_interest")
    assert relying == ["share"] and other != ["hold_for_authorisation"], (relying, other)
    registry = _registry(gateway)
    with Session(gateway.engine) as session:
        records = list(session.exec(select(PolicyInputRecord)))
    kept = json.dumps([r.document for r in records])
    with Session(gateway.engine) as session:
        unchanged = replay(session, policies=REPO / "policies", registry=registry, opa=opa_bin)
    before = _counts(gateway)
    with Session(gateway.engine) as session:
        changed = replay(session, policies=_without_basis(tmp_path), registry=registry, opa=opa_bin)
    assert len(records) == 2 and all(len(r.seqs) == 1 for r in records)
    # The stored document is the very text its digest was made from, encoded once (canonical JSON).
    table = PolicyInputRecord.__table__  # type: ignore[attr-defined]
    with gateway.engine.connect() as connection:
        stored = connection.execute(sa.select(table.c.digest, sa.type_coerce(table.c.document, sa.Text))).all()
    for digest, text in stored:
        assert digest == hashlib.sha256(text.encode()).hexdigest()
        assert text == canonical_text(json.loads(text))
    assert not any(value in kept for value in PERSONAL_VALUES)  # names, classes and codes only
    assert (unchanged.decisions, unchanged.flips) == (2, [])
    (flip,) = changed.flips
    assert (flip.seq, flip.was, flip.now) == (records[0].first_seq, "share", "hold_for_authorisation")
    assert flip.now_rules == ("GR1",)
    assert _counts(gateway) == before  # a replay writes nothing
    name, digest = bundle_of(REPO / "policies")
    assert changed.logged_under == {e for e in changed.logged_under if e.startswith(f"{name}@{digest[:16]}+")}
    assert unchanged.hashed_with_tests == set()  # logged under this policy's own hash: nothing to explain
    with Session(gateway.engine) as session:
        bare = replay(session, policies=_without_tests(tmp_path), registry=registry, opa=opa_bin)
    assert (bare.decisions, bare.flips, bare.hashed_with_tests) == (2, [], set())  # one digest, the logged one


def _without_tests(tmp_path: Path) -> Path:
    """The policies as OPA serves them: no `_test.rego` files, so the digest with tests is the digest."""
    policies = tmp_path / "served"
    shutil.copytree(REPO / "policies", policies, ignore=shutil.ignore_patterns("*_test.rego"))
    return policies


async def test_decisions_hashed_with_the_tests_are_known_as_the_same_policy(
    gateway_factory: GatewayFactory, opa_bin: str, tmp_path: Path
) -> None:
    """Before OPA served the policy without its tests, a gateway logged a digest that took them in. A
    replay under the same directory says so, rather than leave two hashes of one policy to compare."""
    earlier = PrivateOpa(tmp_path / "opa-with-tests", serve_flags=())
    earlier.start()
    try:
        gateway = await gateway_factory(opa_url=earlier.url)
        await _post(gateway, recipients=[POLICE])
        with Session(gateway.engine) as session:
            report = replay(session, policies=REPO / "policies", registry=_registry(gateway), opa=opa_bin)
        printed = _replay_command(gateway, REPO / "policies", opa_bin)
    finally:
        earlier.stop()
    name, digest = bundle_of(REPO / "policies")
    (logged,) = report.logged_under
    assert logged.startswith(f"{name}@") and digest[:16] not in logged  # the tests changed the hash
    assert (report.decisions, report.flips, report.hashed_with_tests) == (1, [], {logged})
    assert f"{logged} is this same policy" in printed, printed


def _registry(gateway: Gateway) -> dict[str, Any]:
    registry: dict[str, Any] = json.loads(gateway.partnership.registry_file.read_text())
    return registry


def _replay_command(gateway: Gateway, policies: Path, opa_bin: str) -> str:
    printed = subprocess.run(
        [
            *(sys.executable, "-m", "audit", "replay", "--db", gateway.settings.database_url),
            *("--policies", str(policies), "--registry", str(gateway.partnership.registry_file)),
            *("--opa", opa_bin),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return printed.stdout


async def test_the_replay_command_prints_the_flip(gateway: Gateway, opa_bin: str, tmp_path: Path) -> None:
    await _post(gateway, recipients=[POLICE])
    printed = _replay_command(gateway, _without_basis(tmp_path), opa_bin)
    assert "1 would flip" in printed, printed
    assert "share (GR1" in printed and "→ hold_for_authorisation (GR1)" in printed, printed
    assert "same policy" not in printed, printed
