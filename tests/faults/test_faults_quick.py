"""The quick fault run (CI): kill -9 the gateway, the relay worker, a consumer and OPA under load.

Real processes on the shared stack's Kafka (never killed here: others use it), a private OPA and a
SQLite log. The long run (`make faults-long`) adds Kafka, PostgreSQL and a three-broker cluster.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from faults.harness import PrivateOpa, Site, running, shared_kafka
from faults.scenario import Fault, Timing, kill_in_turn

pytestmark = pytest.mark.stack


def test_kill_gateway_relay_consumer_and_opa_under_load(tmp_path: Path) -> None:
    opa = PrivateOpa(tmp_path)
    opa.start()
    site = Site(tmp_path / "site", shared_kafka(), opa.url, f"sqlite:///{tmp_path / 'broker.db'}")
    site.setup()
    with running(opa, site):
        site.start()
        assert site.gateway is not None and site.worker is not None
        gateway, worker = site.gateway, site.worker
        consumer = site.consumers[site.agency("csc-fenmere-mash")]
        faults = [
            Fault("gateway", gateway.kill9, site.restart_gateway),
            Fault("relay (worker)", worker.kill9, worker.start),
            Fault("consumer csc", consumer.kill9, consumer.start),
            Fault("OPA", opa.kill9, opa.start),
        ]
        # Receipts are checked too: this run's topics and groups live in its own namespace.
        outcome = kill_in_turn(
            site, faults, rate=3.0, timing=Timing(before=3, down=2, after=3), drain=90, receipts_recorded=True
        )
    counts = outcome.report.counts
    print(f"quick fault run: survived {outcome.survived} in {outcome.seconds:.0f}s; {counts}")
    assert outcome.report.problems == []
    assert outcome.survived == [f.name for f in faults]
    assert counts["accepted"] > 0 and counts["deliveries_expected"] > 0
    assert counts["no_share_or_held_recipients"] > 0
