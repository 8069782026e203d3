"""Kill -9 and restart each part in turn under the load, then check everything."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from faults.checks import Report, verify, wait_delivered
from faults.harness import Site
from faults.load import Load


@dataclass(frozen=True)
class Fault:
    name: str
    kill: Callable[[], None]
    restart: Callable[[], None]


@dataclass(frozen=True)
class Timing:
    before: float = 4.0  # load running before the kill
    down: float = 3.0  # how long the part stays dead
    after: float = 4.0  # load running after the restart, before the next fault


@dataclass
class Outcome:
    report: Report
    survived: list[str] = field(default_factory=list)
    seconds: float = 0.0


def log(message: str) -> None:
    print(f"[faults {time.strftime('%H:%M:%S')}] {message}", flush=True)


def kill_in_turn(
    site: Site,
    faults: list[Fault],
    *,
    rate: float,
    timing: Timing,
    drain: float = 120.0,
    receipts_recorded: bool = True,
) -> Outcome:
    started = time.monotonic()
    load = Load(site, rate=rate)
    load.start()
    survived = []
    try:
        for fault in faults:
            time.sleep(timing.before)
            log(f"kill -9 {fault.name}")
            fault.kill()
            time.sleep(timing.down)
            log(f"restart {fault.name}")
            fault.restart()
            survived.append(fault.name)
        time.sleep(timing.after)
    finally:
        log("load: no new notifications; retrying the pending ones")
        load.drain(timeout=drain)
    log(f"load: {load.counts()}")
    if not wait_delivered(site, load, timeout=drain):
        log("not every expected delivery arrived in time")
    report = verify(site, load, receipts_recorded=receipts_recorded)
    deadline = time.monotonic() + 30
    while receipts_recorded and report.problems and time.monotonic() < deadline:
        # The last deliveries' receipts may still be travelling back through Kafka.
        time.sleep(2.0)
        report = verify(site, load, receipts_recorded=receipts_recorded)
    for child in site.children():
        if not child.alive:
            report.problem(f"{child.name} exited on its own (see {child.log})")
    report.counts["faults_injected"] = len(survived)
    return Outcome(report, survived, time.monotonic() - started)
