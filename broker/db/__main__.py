"""`python -m broker.db migrate`: migrate the database as its owner and grant the application role, then exit.

`upgrade` is the same step by Alembic's name; `current` shows where the database stands in each of
the two migration histories (the decision log's, owned by `audit`, and the gateway's own tables'),
`history` lists their revisions.

A deployment's one-shot step before gateways and workers start, so that they can run with only the
application role's credentials (`SGB_DATABASE_URL`) and never hold the owner's
(`SGB_MIGRATION_DATABASE_URL`, used here). Settings come from the `SGB_*` variables.
"""

from __future__ import annotations

from pathlib import Path

import typer
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import OperationalError

import audit
from audit import migration as audit_migration
from broker import logs
from broker.db import migration as broker_migration
from broker.db.provisioning import migrate, unreachable
from broker.errors import BrokerError
from broker.settings import read_settings

cli = typer.Typer(add_completion=False, no_args_is_help=True)


def _refused(exc: BrokerError) -> typer.Exit:
    # A setting or a database that refuses the step: one line naming it, exit status 2.
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(code=2)


@cli.command("migrate")
def migrate_cmd() -> None:
    """Bring the log and the gateway's tables to the current schema; grant SGB_DATABASE_URL's role."""
    logs.configure()
    try:
        settings = read_settings()
        migrate(settings.database_url, migration_url=settings.migration_database_url)
    except BrokerError as exc:
        raise _refused(exc) from exc
    typer.echo("database migrated")


@cli.command("upgrade")
def upgrade_cmd() -> None:
    """The same as `migrate` (Alembic's word for it): both histories to their heads."""
    migrate_cmd()


def _histories() -> dict[str, tuple[Config, str]]:
    """Each history's Alembic config and version table; the log's first, as `prepare_database` runs them."""
    broker_scripts = Path(broker_migration.__file__).with_name("migrations")
    broker_config = Config()
    broker_config.set_main_option("script_location", str(broker_scripts))
    broker_config.set_main_option("path_separator", "os")
    broker_config.set_main_option("version_locations", str(broker_scripts / "versions"))
    return {
        "audit (decision log)": (audit_migration.alembic_config(), audit_migration.VERSION_TABLE),
        "broker (gateway tables)": (broker_config, broker_migration.VERSION_TABLE),
    }


@cli.command("current")
def current_cmd() -> None:
    """Each history's revision in the database against its newest; exit 1 if either is behind."""
    try:
        settings = read_settings()
        behind = _show_current(settings.migration_database_url or settings.database_url)
    except BrokerError as exc:
        raise _refused(exc) from exc
    if behind:
        raise typer.Exit(1)


def _show_current(url: str) -> bool:
    """Print where each history stands; whether either is behind its newest revision."""
    engine = audit.create_engine_for(url)
    behind = False
    try:
        with engine.connect() as connection:
            for name, (config, table) in _histories().items():
                heads = set(ScriptDirectory.from_config(config).get_heads())
                context = MigrationContext.configure(connection, opts={"version_table": table})
                current = set(context.get_current_heads())
                behind = behind or current != heads
                state = "up to date" if current == heads else f"behind (head {', '.join(sorted(heads))})"
                typer.echo(f"{name}: {', '.join(sorted(current)) or 'empty'} — {state}")
    except OperationalError as exc:
        raise unreachable(url, exc) from exc
    finally:
        engine.dispose()
    return behind


@cli.command("history")
def history_cmd() -> None:
    """Every revision of both histories, newest first (read from the package, no database needed)."""
    for name, (config, _table) in _histories().items():
        typer.echo(f"{name}:")
        for script in ScriptDirectory.from_config(config).walk_revisions():
            typer.echo(f"  {script.revision}  {(script.doc or '').splitlines()[0] if script.doc else ''}")


# A callback makes the app a group, so `migrate` stays a named subcommand (typer runs a lone command bare).
@cli.callback()
def main() -> None:
    """The database's one-shot deployment steps."""


if __name__ == "__main__":
    cli()
