"""`python -m devstack up|down|status|env`: the local stack of real parts on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from devstack import kafka, opa, postgres
from devstack.process import StackError, console
from devstack.settings import KAFKA_VERSION, StackSettings

app = typer.Typer(add_completion=False, help="Install, start and stop Kafka, OPA and PostgreSQL locally.")
REPO = Path(__file__).resolve().parents[1]
PoliciesOpt = Annotated[Path, typer.Option(help="Rego directory OPA serves")]


def _env(settings: StackSettings) -> dict[str, str]:
    admin = kafka.admin_config(settings)
    return {
        "SGB_KAFKA_BOOTSTRAP": admin["bootstrap_servers"],
        "SGB_KAFKA_ADMIN_USER": admin["sasl_plain_username"],
        "SGB_KAFKA_ADMIN_PASSWORD": admin["sasl_plain_password"],
        "SGB_KAFKA_LIBS": str(settings.kafka_libs),
        "SGB_KAFKA_USER": "relay",
        "SGB_KAFKA_PASSWORD": kafka.relay_password(settings),
        "SGB_OPA_URL": opa.url(settings),
        "SGB_OPA_BIN": str(settings.opa_binary),
        "SGB_PG_URL": postgres.url(settings),
        "SGB_PG_APP_URL": postgres.application_url(postgres.url(settings)),
    }


def _write_env(settings: StackSettings) -> None:
    lines = [f"{key}={value}" for key, value in _env(settings).items()]
    path = settings.env_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text("\n".join(lines) + "\n")


@app.command()
def up(policies: PoliciesOpt = REPO / "policies") -> None:
    """Install what is missing, start every part, wait until healthy; harmless when already up."""
    settings = StackSettings()
    try:
        postgres.start(settings)
        opa.start(settings, policies)
        kafka.start(settings)
    except StackError as exc:
        console.print(f"[red]✗ {exc}[/red]")
        raise typer.Exit(1) from exc
    _write_env(settings)
    _print_table(settings)


@app.command()
def down() -> None:
    """Stop every part cleanly (Kafka gets a controlled shutdown)."""
    settings = StackSettings()
    kafka.stop(settings)
    opa.stop(settings)
    postgres.stop(settings)


@app.command()
def status() -> None:
    """Show each part's state and where it listens."""
    _print_table(StackSettings())


@app.command()
def env() -> None:
    """Print the stack's connection settings as shell assignments (for tests and the demo)."""
    settings = StackSettings()
    for key, value in _env(settings).items():
        typer.echo(f"export {key}='{value}'")


def _print_table(settings: StackSettings) -> None:
    table = Table(title="local stack (loopback only)")
    for column in ("part", "version", "listens on", "state"):
        table.add_column(column)
    opa_version = opa.version(settings) if settings.opa_binary.exists() else "not built"
    table.add_row(
        "Apache Kafka (KRaft, SASL/SCRAM + ACLs)",
        KAFKA_VERSION,
        f"{settings.host}:{settings.kafka_port}",
        kafka.status(settings),
    )
    table.add_row("Open Policy Agent", opa_version, opa.url(settings), opa.status(settings))
    table.add_row(
        "PostgreSQL", postgres.install_state(), f"{settings.host}:{settings.pg_port}", postgres.status(settings)
    )
    console.print(table)
    console.print(f"connection settings: {settings.env_file}")


if __name__ == "__main__":
    app()
