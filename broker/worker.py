"""`python -m broker.worker`: the relay, receipt recorder and statutory clocks as their own process.

Run this when gateways run with `SGB_RUN_RELAY_IN_GATEWAY=false` (several workers or hosts). Any
number may run; the database lease lets one relay publish at a time, the others wait as standby.
With SGB_WORKER_METRICS_PORT set, its Prometheus metrics (published, overdue, the state gauges) are
served there, since the gateways' /metrics cannot see this process's counters.
"""

from __future__ import annotations

import asyncio
import signal

import typer
from prometheus_client import start_http_server

import audit
from broker import logs, metrics_state
from broker.db.log import migrate
from broker.delivery.background import build_ingester, build_relay, delivery_tasks
from broker.metrics import Metrics
from broker.partnership.changes import verify_access_changes
from broker.partnership.keys import load_broker_keys
from broker.partnership.registry import load_registry
from broker.partnership.watch import RegistryWatch
from broker.review import access_log
from broker.settings import BrokerSettings


async def run(settings: BrokerSettings) -> None:
    engine = audit.create_engine_for(settings.database_url)
    await asyncio.to_thread(
        migrate, settings.database_url, migration_url=settings.migration_database_url, engine=engine
    )
    # Only what this process counts: the gateway-only series would read as a gateway's (broker.metrics).
    metrics = Metrics(gateway=False)
    keys = load_broker_keys(settings.keys_dir)
    relay = build_relay(settings=settings, engine=engine, metrics=metrics)
    registry = load_registry(settings.registry_file, partnership_id=settings.partnership_id)
    # Receipts are checked against the agencies' keys: not those of a copy from before a revocation
    # (the log is asked first), nor a key added by hand or by a change signed with a retired broker key.
    await asyncio.to_thread(
        access_log.refuse_if_behind,
        engine,
        registry,
        accept_revision=settings.registry_accept_revision,
        signing_key_id=keys.signing_key_id,
    )
    verify_access_changes(registry, keys.verify_keys)
    ingester = build_ingester(settings=settings, engine=engine, registry=registry)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = delivery_tasks(relay=relay, ingester=ingester, engine=engine, settings=settings, metrics=metrics, stop=stop)
    if settings.registry_poll_seconds > 0:
        # A rotated or revoked agency key must reach receipt checking without a restart.
        watch = RegistryWatch(
            path=settings.registry_file, current=registry, verify_keys=keys.verify_keys, listeners=(ingester.use,)
        )
        watching = watch.keep_watching(stop, every=settings.registry_poll_seconds)
        tasks.append(asyncio.create_task(watching, name="registry-watch"))
    server = None
    if settings.worker_metrics_port is not None:
        server, _ = start_http_server(
            settings.worker_metrics_port, addr=settings.worker_metrics_host, registry=metrics.registry
        )
        tasks.append(asyncio.create_task(metrics_state.keep_refreshing(metrics, engine, stop), name="metrics"))
    try:
        await asyncio.gather(*tasks)
    finally:
        if server is not None:
            server.shutdown()
        engine.dispose()


cli = typer.Typer(add_completion=False)


@cli.command()
def main() -> None:
    """Relay the outbox, record receipts and run the clocks until SIGTERM; settings from SGB_*."""
    logs.configure()
    asyncio.run(run(BrokerSettings()))


if __name__ == "__main__":
    cli()
