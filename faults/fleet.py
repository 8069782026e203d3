"""Several gateways and workers of one partnership on one PostgreSQL database (issue #16, part 2).

A `Fleet` is a `Site` with N gateway processes (each on its own port; the load spreads over them and
fails over to the next one) and M workers (each runs a relay, a receipt recorder and the clock
scheduler; the relay lease lets one publish at a time). `run_fleet` drives a concurrent load, makes
some statutory clocks due at once so every worker's scheduler races for them, kill -9s one gateway
and the worker holding the relay lease mid-load, restarts them, and then checks everything
(`faults.checks.verify` and `faults.exactly_once.check_exactly_once`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

import audit
from broker.db.tables import ObligationClock, RelayLease
from faults.checks import verify, wait_delivered
from faults.exactly_once import check_exactly_once, wait_overdue
from faults.harness import HOST, Child, Site, free_port, http_ok, wait_for
from faults.load import Load
from faults.scenario import Fault, Outcome, Timing, log


@dataclass
class Fleet(Site):
    """One site with `gateway_count` gateways and `worker_count` workers, all on `database_url`."""

    gateway_count: int = 3
    worker_count: int = 2
    # Each worker checks the clocks this often, so clocks made due are marked within the run.
    clock_check_seconds: float = 1.0
    # The database owner, when `database_url` is the least-privilege application role.
    migration_url: str | None = None
    ports: list[int] = field(default_factory=list)
    gateways: list[Child] = field(default_factory=list)
    workers: list[Child] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [f"http://{HOST}:{port}" for port in self.ports]

    def setup(self) -> None:
        super().setup()
        assert self.gateway is not None and self.worker is not None
        env = self._broker_env()
        self.ports = [self.port, *(free_port() for _ in range(self.gateway_count - 1))]
        self.gateway.name, self.worker.name = "gateway-0", "worker-0"
        self.gateways = [self.gateway]
        for i, port in enumerate(self.ports[1:], start=1):
            args = [sys.executable, "-m", "broker.gateway", "--port", str(port), "--log-level", "warning"]
            self.gateways.append(Child(f"gateway-{i}", args, env, self.root / f"gateway-{i}.log"))
        self.workers = [self.worker]
        for i in range(1, self.worker_count):
            args = [sys.executable, "-m", "broker.worker"]
            self.workers.append(Child(f"worker-{i}", args, env, self.root / f"worker-{i}.log"))

    def _broker_env(self) -> dict[str, str]:
        env = {**super()._broker_env(), "SGB_CLOCK_CHECK_SECONDS": str(self.clock_check_seconds)}
        if self.migration_url is not None:
            env["SGB_MIGRATION_DATABASE_URL"] = self.migration_url
        return env

    def children(self) -> list[Child]:
        return [*self.gateways, *self.workers, *self.consumers.values()]

    def start(self) -> None:
        for child in self.children():
            child.start()
        for index in range(len(self.gateways)):
            self.wait_gateway_at(index)

    def wait_gateway_at(self, index: int, timeout: float = 120) -> None:
        gateway, url = self.gateways[index], self.urls[index]
        wait_for(
            lambda: gateway.alive and http_ok(f"{url}/readyz"), what=gateway.name, timeout=timeout, log=gateway.log
        )

    def lease_holder(self) -> Child:
        """The worker whose relay holds the lease now (its holder id is "host:pid:object")."""
        engine = audit.create_engine_for(self.database_url)
        try:
            with Session(engine) as session:
                lease = session.get(RelayLease, "relay")
        finally:
            engine.dispose()
        pid = int(lease.holder.split(":")[1]) if lease is not None else -1
        for worker in self.workers:
            if worker.proc is not None and worker.proc.pid == pid:
                return worker
        return self.workers[0]

    def age_clocks(self, limit: int) -> list[int]:
        """Make up to `limit` running clocks due a minute ago: every worker's next check finds them."""
        engine = audit.create_engine_for(self.database_url)
        try:
            with Session(engine) as session:
                query = (
                    select(ObligationClock.id)
                    .where(col(ObligationClock.stopped_at).is_(None), col(ObligationClock.overdue_at).is_(None))
                    .order_by(col(ObligationClock.id))
                    .limit(limit)
                )
                ids = [i for i in session.exec(query) if i is not None]
                past = datetime.now(UTC) - timedelta(minutes=1)
                session.execute(update(ObligationClock).where(col(ObligationClock.id).in_(ids)).values(due_at=past))
                session.commit()
        finally:
            engine.dispose()
        return ids


def run_fleet(
    fleet: Fleet,
    *,
    rate: float,
    timing: Timing,
    drain: float = 120.0,
    aged_per_round: int = 8,
    also: Sequence[Fault] = (),
) -> Outcome:
    """Load all gateways at once; kill -9 one gateway and the lease-holding worker (and `also`, e.g. a
    Kafka broker) together mid-load, restart them; then check everything."""
    started = time.monotonic()
    load = Load(fleet, rate=rate, threads=len(fleet.gateways), twins_every=5)
    load.start()
    aged: list[int] = []
    survived: list[str] = []
    try:
        survived = _kill_mid_load(fleet, timing, also, lambda: aged.extend(fleet.age_clocks(aged_per_round)))
    finally:
        log("load: no new notifications; retrying the pending ones")
        load.drain(timeout=drain)
    log(f"load: {load.counts()}")
    if not wait_delivered(fleet, load, timeout=drain):
        log("not every expected delivery arrived in time")
    wait_overdue(fleet, aged, timeout=60)
    report = verify(fleet, load, receipts_recorded=True)
    deadline = time.monotonic() + 30
    while report.problems and time.monotonic() < deadline:
        # The last receipts may still be travelling back through Kafka.
        time.sleep(2.0)
        report = verify(fleet, load, receipts_recorded=True)
    check_exactly_once(fleet, load, report, aged)
    for child in fleet.children():
        if not child.alive:
            report.problem(f"{child.name} exited on its own (see {child.log})")
    report.counts["faults_injected"] = len(survived)
    return Outcome(report, survived, time.monotonic() - started)


def _kill_mid_load(fleet: Fleet, timing: Timing, also: Sequence[Fault], age: Callable[[], None]) -> list[str]:
    """The faults, with clocks made due while every worker runs (their schedulers race), while one is
    dead (the survivor marks them) and after the restart; returns what was killed and restarted."""
    time.sleep(timing.before)
    age()
    time.sleep(timing.before / 2)
    gateway, worker = fleet.gateways[1], fleet.lease_holder()
    log(f"kill -9 {gateway.name} and {worker.name} (holds the relay lease) mid-load")
    gateway.kill9()
    worker.kill9()
    for fault in also:
        log(f"kill -9 {fault.name}")
        fault.kill()
    age()
    time.sleep(timing.down)
    log(f"restart {gateway.name} and {worker.name}")
    worker.start()
    gateway.start()
    for fault in also:
        log(f"restart {fault.name}")
        fault.restart()
    fleet.wait_gateway_at(1)
    time.sleep(timing.after)
    age()
    return [gateway.name, worker.name, *(f.name for f in also)]
