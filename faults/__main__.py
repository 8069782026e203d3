"""`python -m faults [--leg six|cluster|fleet|all]`: the long fault run (`make faults-long`, ~10 minutes).

Leg "six": a private single Kafka broker, a private PostgreSQL cluster and a private OPA (so the
shared stack, which others are using, is never killed); under a steady load, kill -9 and restart in
turn the gateway, the relay worker, a consumer, the Kafka broker, OPA and PostgreSQL.
Leg "cluster": a three-broker KRaft cluster (replication 3, min.insync.replicas 2); under load,
kill -9 one broker and leave it dead while the load goes on, then restart it.
Leg "fleet" (issue #16 part 2): three gateways and two workers on a private PostgreSQL cluster and the
three-broker cluster; the load posts to all gateways at once, clocks are made due so both workers'
schedulers race, and one gateway, the worker holding the relay lease and one Kafka broker are killed
together mid-load; it also counts published entries, Kafka records, receipts and overdue marks.
Every leg ends with the same checks; a summary is written to --out (JSON) and printed.
"""

from __future__ import annotations

import json
import tempfile
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from faults.cluster import KafkaCluster
from faults.fleet import Fleet, run_fleet
from faults.harness import PrivateKafka, PrivateOpa, Site, running
from faults.postgres import PrivatePostgres
from faults.scenario import Fault, Timing, kill_in_turn, log

cli = typer.Typer(add_completion=False)


class Leg(StrEnum):
    SIX = "six"
    CLUSTER = "cluster"
    FLEET = "fleet"
    ALL = "all"


def leg_six(root: Path, rate: float, timing: Timing) -> dict[str, Any]:
    kafka, opa, pg = PrivateKafka(root / "kafka"), PrivateOpa(root), PrivatePostgres()
    with running(kafka, opa, pg):
        log("starting a private Kafka broker, OPA and PostgreSQL cluster")
        kafka.start()
        opa.start()
        pg.start()
        site = Site(root / "site", kafka.target(), opa.url, pg.url)
        site.setup()
        with running(site):
            site.start()
            assert site.gateway is not None and site.worker is not None
            worker, consumer = site.worker, site.consumers[site.agency("csc-fenmere-mash")]
            faults = [
                Fault("gateway", site.gateway.kill9, site.restart_gateway),
                Fault("relay (worker)", worker.kill9, worker.start),
                Fault("consumer csc", consumer.kill9, consumer.start),
                Fault("Kafka broker", kafka.kill9, kafka.start),
                Fault("OPA", opa.kill9, opa.start),
                Fault("PostgreSQL", pg.kill9, pg.restart),
            ]
            outcome = kill_in_turn(site, faults, rate=rate, timing=timing, drain=180)
    return {
        "survived": outcome.survived,
        "seconds": round(outcome.seconds),
        **outcome.report.counts,
        "problems": outcome.report.problems,
    }


def leg_cluster(root: Path, rate: float, timing: Timing) -> dict[str, Any]:
    cluster, opa = KafkaCluster(root / "cluster"), PrivateOpa(root)
    with running(cluster, opa):
        log("starting a three-broker Kafka cluster and OPA")
        cluster.start()
        opa.start()
        site = Site(root / "site", cluster.target(), opa.url, f"sqlite:///{root / 'broker.db'}")
        site.setup()
        with running(site):
            site.start()
            # Killed and left dead for the rest of the load; restarted only before the checks end.
            dead = Fault("Kafka broker 1 of 3 (left down under load)", lambda: cluster.kill9(1), lambda: None)
            outcome = kill_in_turn(
                site,
                [dead],
                rate=rate,
                timing=Timing(before=timing.before, down=timing.down * 4, after=timing.after),
                drain=180,
            )
            log("restarting broker 1")
            cluster.restart(1)
            brokers = cluster.brokers()
    return {
        "survived": outcome.survived,
        "seconds": round(outcome.seconds),
        "brokers_after_restart": brokers,
        **outcome.report.counts,
        "problems": outcome.report.problems,
    }


def leg_fleet(root: Path, rate: float, timing: Timing) -> dict[str, Any]:
    cluster, opa, pg = KafkaCluster(root / "cluster"), PrivateOpa(root), PrivatePostgres()
    with running(cluster, opa, pg):
        log("starting a three-broker Kafka cluster, OPA and a PostgreSQL cluster")
        cluster.start()
        opa.start()
        pg.start()
        fleet = Fleet(root / "site", cluster.target(), opa.url, pg.url)
        fleet.setup()
        with running(fleet):
            fleet.start()
            broker = Fault("Kafka broker 2 of 3", lambda: cluster.kill9(2), lambda: cluster.restart(2))
            outcome = run_fleet(fleet, rate=rate, timing=timing, drain=180, also=[broker])
    return {
        "survived": outcome.survived,
        "seconds": round(outcome.seconds),
        **outcome.report.counts,
        "problems": outcome.report.problems,
    }


@cli.command()
def main(
    # A choice, so a misspelt leg is refused rather than running nothing and passing.
    leg: Annotated[
        Leg, typer.Option(help="six (each part killed in turn), cluster (a Kafka broker left down), fleet or all")
    ] = Leg.ALL,
    rate: Annotated[float, typer.Option(help="Notifications a second, the steady load")] = 3.0,
    before: Annotated[float, typer.Option(help="Seconds of load before each kill")] = 8.0,
    down: Annotated[float, typer.Option(help="Seconds each killed part stays dead")] = 5.0,
    after: Annotated[float, typer.Option(help="Seconds of load after each restart")] = 6.0,
    out: Annotated[Path, typer.Option(help="Where to write the summary (JSON)")] = Path("faults-long.json"),
) -> None:
    """Run the long fault legs and print the figures; exit 1 if any check failed."""
    timing = Timing(before, down, after)
    results: dict[str, Any] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sgb-faults-") as tmp:
        if leg in (Leg.SIX, Leg.ALL):
            results["six"] = leg_six(Path(tmp) / "six", rate, timing)
        if leg in (Leg.CLUSTER, Leg.ALL):
            results["cluster"] = leg_cluster(Path(tmp) / "cluster", rate, timing)
        if leg in (Leg.FLEET, Leg.ALL):
            results["fleet"] = leg_fleet(Path(tmp) / "fleet", rate, timing)
    results["seconds"] = round(time.monotonic() - started)
    out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    if any(r["problems"] for r in results.values() if isinstance(r, dict)):
        raise typer.Exit(1)


if __name__ == "__main__":
    cli()
