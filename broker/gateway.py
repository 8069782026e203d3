"""`python -m broker.gateway`: run the gateway under uvicorn.

One process per scrape target: with `--workers N` every process keeps its own metrics, and each
scrape of the one port reads whichever process answers, so counters jump up and down (each drop a
"reset" to Prometheus, keeping `increase()` alerts firing) and the log-integrity gauge flaps. Scale
by running more gateways, each scraped on its own; `--workers` > 1 is refused with SGB_METRICS_TOKEN
set. (prometheus_client's multiprocess mode was the other way: its files outlive a killed or
restarted process, which uvicorn gives no hook to mark dead, so a gone process's -1 or 0 would be
read forever; and measured, 2 processes gained 15% over 1: bench/history/README.md.)"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
import uvicorn

from broker import logs
from broker.errors import BrokerError
from broker.partnership.keys import load_broker_keys
from broker.partnership.registry import load_registry
from broker.settings import read_settings

cli = typer.Typer(add_completion=False)
# Where a gateway listens unless told otherwise; sign-in links (broker.ui.cli) point here by default.
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8080
LogLevel = Literal["debug", "info", "warning", "error"]


@cli.command()
def main(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 in a container)")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port to listen on")] = DEFAULT_PORT,
    workers: Annotated[int, typer.Option(help="Processes; more than 1 is refused with SGB_METRICS_TOKEN set")] = 1,
    # A missing or unreadable file is refused naming its option, before uvicorn opens it.
    ssl_certfile: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, readable=True, help="PEM certificate chain, to serve HTTPS"),
    ] = None,
    ssl_keyfile: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, readable=True, help="PEM private key of the certificate"),
    ] = None,
    log_level: Annotated[LogLevel, typer.Option(help="How much the gateway logs")] = "info",
) -> None:
    """Serve the gateway; settings come from SGB_* environment variables."""
    log_config = logs.configure(log_level.upper())  # first: a setting's warning is a log line too
    try:
        settings = read_settings()
    except BrokerError as exc:
        raise _refused(exc) from exc
    token = settings.metrics_token
    if workers > 1 and token is not None and token.get_secret_value():
        raise typer.BadParameter(
            "each process would serve its own /metrics behind one port: run one process per gateway "
            "(and more gateways), or unset SGB_METRICS_TOKEN",
            param_hint="--workers",
        )
    # The app's start reads the keys and the registry again; read here first, an operator's mistake
    # in either is one line naming the file, before a database is migrated or a port bound.
    try:
        load_broker_keys(settings.keys_dir)
        load_registry(settings.registry_file, partnership_id=settings.partnership_id)
    except BrokerError as exc:
        raise _refused(exc) from exc
    uvicorn.run(
        "broker.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        ssl_certfile=None if ssl_certfile is None else str(ssl_certfile),
        ssl_keyfile=None if ssl_keyfile is None else str(ssl_keyfile),
        log_config=log_config,
        access_log=False,
    )


def _refused(exc: BrokerError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(code=2)


if __name__ == "__main__":
    cli()
