"""`python -m broker.worker`: the relay, receipt recorder and statutory clocks as their own process.

Run this when gateways run with `SGB_RUN_RELAY_IN_GATEWAY=false` (several workers or hosts). Any
number may run; the database lease lets one relay publish at a time, the others wait as standby.
"""

from __future__ import annotations

import asyncio
import signal

import typer

import audit
from broker import logs
from broker.db.log import migrate
from broker.delivery.background import build_ingester, build_relay, delivery_tasks
from broker.metrics import Metrics
from broker.partnership.registry import load_registry
from broker.settings import BrokerSettings


async def run(settings: BrokerSettings) -> None:
    engine = audit.create_engine_for(settings.database_url)
    await asyncio.to_thread(
        migrate, settings.database_url, migration_url=settings.migration_database_url, engine=engine
    )
    metrics = Metrics()
    relay = build_relay(settings=settings, engine=engine, metrics=metrics)
    ingester = build_ingester(settings=settings, engine=engine, registry=load_registry(settings.registry_file))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await asyncio.gather(
        *delivery_tasks(relay=relay, ingester=ingester, engine=engine, settings=settings, metrics=metrics, stop=stop)
    )
    engine.dispose()


cli = typer.Typer(add_completion=False)


@cli.command()
def main() -> None:
    """Relay the outbox, record receipts and run the clocks until SIGTERM; settings from SGB_*."""
    logs.configure()
    asyncio.run(run(BrokerSettings()))


if __name__ == "__main__":
    cli()
