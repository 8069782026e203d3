"""The quick several-gateways run (issue #16 part 2, CI): three gateways and two workers on PostgreSQL.

A scratch database on the stack's PostgreSQL (the processes connect as the least-privilege role, as
in production; the owner migrates), the shared stack's Kafka (one broker; the long run, `python -m
faults --leg fleet`, uses three) and a private OPA. A load posts to all gateways at once; one gateway
and the worker holding the relay lease are killed with SIGKILL mid-load; clocks are made due so both
workers' schedulers race for them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from devstack import postgres
from devstack.settings import StackSettings
from faults.fleet import Fleet, run_fleet
from faults.harness import PrivateOpa, running, shared_kafka
from faults.scenario import Timing

pytestmark = pytest.mark.stack


def test_three_gateways_two_workers_one_chain_nothing_lost_nothing_twice(tmp_path: Path) -> None:
    with postgres.scratch_database(postgres.url(StackSettings()), prefix="fleet") as owner_url:
        opa = PrivateOpa(tmp_path)
        opa.start()
        app_url = postgres.application_url(owner_url)
        fleet = Fleet(tmp_path / "site", shared_kafka(), opa.url, app_url, migration_url=owner_url)
        fleet.setup()
        with running(opa, fleet):
            fleet.start()
            outcome = run_fleet(fleet, rate=4.0, timing=Timing(before=4, down=4, after=3), drain=90)
    counts = outcome.report.counts
    print(f"quick fleet run in {outcome.seconds:.0f}s: {counts}")
    assert outcome.report.problems == []
    assert counts["accepted"] > 0 and counts["delivered_once"] == counts["deliveries_expected"] > 0
    assert counts["lost"] == 0 and counts["duplicates"] == 0
    assert counts["twins"] > 0 and counts["clocks_made_due"] > 0
