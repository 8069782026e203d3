"""`python -m broker.worker`: the relay, receipt recorder and statutory clocks as their own process.

Run this when gateways run with `SGB_RUN_RELAY_IN_GATEWAY=false` (several workers or hosts). Any
number may run; the database lease lets one relay publish at a time, the others wait as standby.
With SGB_WORKER_METRICS_PORT set, its Prometheus metrics (published, overdue, the state gauges) are
served there, since the gateways' /metrics cannot see this process's counters: only to scrapes carrying
SGB_METRICS_TOKEN as their bearer token, and without that token set it refuses to start.
"""

from __future__ import annotations

import asyncio
import signal
from wsgiref.simple_server import WSGIServer

import typer

import audit
from broker import heap, logs, metrics_state
from broker.db.provisioning import migrate
from broker.delivery.background import build_ingester, build_relay, delivery_tasks
from broker.errors import BrokerError
from broker.metrics import Metrics
from broker.partnership.changes import verify_access_changes
from broker.partnership.keys import load_broker_keys
from broker.partnership.registry import load_registry
from broker.partnership.watch import RegistryWatch
from broker.review import access_log
from broker.settings import BrokerSettings, read_settings
from transport.metrics_http import serve_metrics


async def run(settings: BrokerSettings) -> None:
    # The keys and the registry first: a mistake in either refuses the start before a database is touched.
    keys = load_broker_keys(settings.keys_dir)
    registry = load_registry(settings.registry_file, partnership_id=settings.partnership_id)
    engine = audit.create_engine_for(settings.database_url)
    await asyncio.to_thread(
        migrate, settings.database_url, migration_url=settings.migration_database_url, engine=engine
    )
    # Only what this process counts: the gateway-only series would read as a gateway's (broker.metrics).
    metrics = Metrics(gateway=False)
    relay = build_relay(settings=settings, engine=engine, metrics=metrics)
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
    heap.settle()  # started: what is built now lives as long as the process
    if settings.registry_poll_seconds > 0:
        # A rotated or revoked agency key must reach receipt checking without a restart.
        watch = RegistryWatch(
            path=settings.registry_file, current=registry, verify_keys=keys.verify_keys, listeners=(ingester.use,)
        )
        watching = watch.keep_watching(stop, every=settings.registry_poll_seconds)
        tasks.append(asyncio.create_task(watching, name="registry-watch"))
    server = None
    if settings.worker_metrics_port is not None:
        server = _serve_metrics(settings, metrics, port=settings.worker_metrics_port)
        tasks.append(asyncio.create_task(metrics_state.keep_refreshing(metrics, engine, stop), name="metrics"))
    try:
        await asyncio.gather(*tasks)
    finally:
        if server is not None:
            server.shutdown()
        engine.dispose()


def _serve_metrics(settings: BrokerSettings, metrics: Metrics, *, port: int) -> WSGIServer:
    # The settings refuse a port without the token; "" here would be refused again, not served open.
    token = settings.metrics_token.get_secret_value() if settings.metrics_token is not None else ""
    return serve_metrics(
        metrics.registry,
        host=settings.worker_metrics_host,
        port=port,
        token=token,
        setting="SGB_METRICS_TOKEN",
    )


cli = typer.Typer(add_completion=False)


@cli.command()
def main() -> None:
    """Relay the outbox, record receipts and run the clocks until SIGTERM; settings from SGB_*."""
    logs.configure()
    try:
        asyncio.run(run(read_settings()))
    except BrokerError as exc:
        # Settings, keys, a registry or a log that refuse the start: one line naming what to put right.
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc


if __name__ == "__main__":
    cli()
