"""Operators see how far each agency has witnessed the log, from the gateway's verification round.

`sgb_witness_cosigned_tree_size{agency}` against `sgb_log_checkpoint_tree_size` shows a witness that
stopped (a consumer that found the log contradicting what it kept exits 3); a stored cosignature that
does not verify sets `sgb_witness_cosignature_invalid{agency}` (deploy/monitoring/alerts.yml).
"""

from __future__ import annotations

import asyncio

import pytest

from broker.db import verification
from broker.metrics import Metrics
from tests.broker.conftest import GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.cosigning import forge_cosignature, post_cosignature, signed_checkpoint
from tests.broker.test_metrics import scrape, value

pytestmark = pytest.mark.stack

CSC, POLICE, SCHOOL = "csc-fenmere-mash", "police-fenmere", "school-oakfield-primary"


async def test_the_verification_round_sets_each_agency_s_witness_gauges(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory(log_verify_seconds=0)  # no timer: the round is run here
    checkpoint = await signed_checkpoint(gateway)
    await post_cosignature(gateway, checkpoint, CSC)
    forge_cosignature(gateway, checkpoint, POLICE)

    metrics: Metrics = gateway.app.state.metrics
    before = await scrape(gateway)
    assert value(before, "sgb_log_checkpoint_tree_size") == -1, "not read yet is neither none nor some"
    await asyncio.to_thread(verification.record_witnesses, gateway.decision_log, metrics, gateway.registry)
    samples = await scrape(gateway)

    assert value(samples, "sgb_log_checkpoint_tree_size") == checkpoint.size
    sizes = {dict(k)["agency"]: v for k, v in samples["sgb_witness_cosigned_tree_size"].items()}
    assert sizes == {a.id: -1 for a in gateway.registry.agencies.values() if a.witness_keys} | {CSC: checkpoint.size}
    forged = {dict(k)["agency"]: v for k, v in samples["sgb_witness_cosignature_invalid"].items() if v}
    assert forged == {POLICE: 1}
