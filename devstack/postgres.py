"""PostgreSQL from Debian's packages, as a dedicated cluster on its own loopback port.

`initdb` refuses to run as root, so the cluster is managed with Debian's cluster tools, which drop
to the postgres user themselves. A dedicated cluster keeps the machine's default one untouched.

Two roles, as in production: `sgb` owns the databases and runs the migrations (and, with CREATEDB,
makes each test's scratch database); `sgb_app` is what the gateway and worker connect as, owning
nothing and granted only what they need when the owner migrates (`broker/db/privileges.py`).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from devstack.process import StackError, console, run_with_progress
from devstack.settings import StackSettings

ROLE = "sgb"
# Loopback-only development credentials; production takes its DSN from the environment.
PASSWORD = "sgb-local-only"  # noqa: S105
APP_ROLE = "sgb_app"
APP_PASSWORD = "sgb-app-local-only"  # noqa: S105


def _installed_version() -> str | None:
    root = Path("/usr/lib/postgresql")
    versions = sorted((p.name for p in root.glob("*") if (p / "bin" / "postgres").exists()), key=int)
    return versions[-1] if versions else None


def install_state() -> str:
    return _installed_version() or "not installed"


def install() -> str:
    version = _installed_version()
    if version is not None and shutil.which("pg_ctlcluster"):
        return version
    run_with_progress(["apt-get", "update", "-q"], title="updating Debian package lists")
    run_with_progress(
        ["apt-get", "install", "-y", "-q", "postgresql"],
        title="installing PostgreSQL from Debian's packages",
        env={"DEBIAN_FRONTEND": "noninteractive"},
    )
    version = _installed_version()
    if version is None:
        raise StackError("PostgreSQL installed but no server binary found under /usr/lib/postgresql")
    return version


def _clusters() -> str:
    return subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True).stdout


def _psql(settings: StackSettings, sql: str) -> str:
    cmd = ["su", "postgres", "-c", f'psql -p {settings.pg_port} -tAc "{sql}"']
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


def url(settings: StackSettings, database: str = "sgb") -> str:
    return f"postgresql+psycopg://{ROLE}:{PASSWORD}@{settings.host}:{settings.pg_port}/{database}"


def application_url(owner_url: str) -> str:
    """The same database as `owner_url`, as the application role (what SGB_DATABASE_URL names)."""
    return make_url(owner_url).set(username=APP_ROLE, password=APP_PASSWORD).render_as_string(hide_password=False)


@contextlib.contextmanager
def scratch_database(admin_url: str, prefix: str = "t") -> Iterator[str]:
    """A new, empty database (for one test or benchmark run), dropped afterwards; yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def healthy(settings: StackSettings) -> bool:
    result = subprocess.run(["pg_isready", "-q", "-h", settings.host, "-p", str(settings.pg_port)], check=False)
    return result.returncode == 0


def start(settings: StackSettings) -> None:
    version = install()
    name = settings.pg_cluster
    if f"{version} {name} " not in _clusters():
        run_with_progress(
            [
                "pg_createcluster",
                version,
                name,
                "--port",
                str(settings.pg_port),
                "--",
                "--auth-local=peer",
                "--auth-host=scram-sha-256",
            ],
            title=f"creating PostgreSQL {version} cluster '{name}'",
        )
    if not healthy(settings):
        run_with_progress(["pg_ctlcluster", version, name, "start"], title="starting PostgreSQL")
    if _psql(settings, f"SELECT 1 FROM pg_roles WHERE rolname='{ROLE}'") != "1":
        _psql(settings, f"CREATE ROLE {ROLE}")
    # CREATEDB lets each test make and drop its own database; set every time so the role is known.
    _psql(settings, f"ALTER ROLE {ROLE} LOGIN CREATEDB NOSUPERUSER PASSWORD '{PASSWORD}'")
    ensure_application_role(settings)
    if _psql(settings, f"SELECT 1 FROM pg_database WHERE datname='{ROLE}'") != "1":
        _psql(settings, f"CREATE DATABASE {ROLE} OWNER {ROLE}")
    console.print(f"[green]✓[/green] PostgreSQL {version} on {settings.host}:{settings.pg_port}")


def ensure_application_role(settings: StackSettings) -> None:
    """The role the gateway and worker connect as: may log in, owns and creates nothing."""
    if _psql(settings, f"SELECT 1 FROM pg_roles WHERE rolname='{APP_ROLE}'") != "1":
        _psql(settings, f"CREATE ROLE {APP_ROLE}")
    _psql(settings, f"ALTER ROLE {APP_ROLE} LOGIN NOCREATEDB NOCREATEROLE NOSUPERUSER PASSWORD '{APP_PASSWORD}'")
    # The owner may end the application role's sessions, so a test's scratch database can be dropped
    # WITH (FORCE) while a gateway still holds a connection (membership this way round gives the
    # application role nothing of the owner's).
    _psql(settings, f"GRANT {APP_ROLE} TO {ROLE}")
    # Membership alone is not enough: a backend still authenticating (or a pool reconnecting during
    # teardown) has no role yet, and PostgreSQL then refuses the FORCE unless the owner may signal
    # backends generally. A CI run failed on exactly that race.
    _psql(settings, f"GRANT pg_signal_backend TO {ROLE}")


def stop(settings: StackSettings) -> None:
    version = _installed_version()
    if version is None or f"{version} {settings.pg_cluster} " not in _clusters():
        return
    if healthy(settings):
        subprocess.run(["pg_ctlcluster", version, settings.pg_cluster, "stop"], check=True)
        console.print("[green]✓[/green] stopped PostgreSQL")


def status(settings: StackSettings) -> str:
    return "healthy" if healthy(settings) else "stopped"
