"""A decision is logged with the digest of the policy bundle that made it, even after an OPA redeploy
this gateway did not notice (another gateway pushed the registry first, so this one never reloaded).

On a real gateway deciding with an OPA of its own, whose policy data is changed under it.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

import audit
from tests.broker.conftest import GatewayFactory
from tests.factories import school_referral

pytestmark = pytest.mark.stack


def _logged_revisions(engine: Engine) -> list[str]:
    with Session(engine) as session:
        query = select(audit.Entry.policy_revision).where(col(audit.Entry.kind) == audit.EventKind.DECIDED)
        return sorted({r for r in session.exec(query) if r})


async def test_a_redeployed_policy_is_logged_with_its_own_digest(
    gateway_factory: GatewayFactory, private_opa: str
) -> None:
    gateway = await gateway_factory(opa_url=private_opa)
    assert (await gateway.post(school_referral())).status_code == 202
    (before,) = _logged_revisions(gateway.engine)
    # The redeploy: a new revision of the policy data, as another gateway's operator would ship it.
    async with httpx.AsyncClient(base_url=private_opa) as opa:
        changed = await opa.put("/v1/data/safeguarding/config/revision", json="sg-policy-redeployed")
        assert changed.status_code == 204, changed.text
    assert (await gateway.post(school_referral())).status_code == 202
    after = next(r for r in _logged_revisions(gateway.engine) if r != before)
    assert after.startswith("sg-policy-redeployed@")
    assert _digest(after) != _digest(before), "the digest of the bundle that decided, not the one before"


def _digest(revision: str) -> str:
    """`name@digest+registry`, as `schemas.policy_bundle.recorded_revision` writes it."""
    return revision.split("@")[1].split("+")[0]
