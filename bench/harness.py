"""Processes the benchmark starts and stops itself: a private OPA, the gateway and its worker, a no-op app.

Everything listens on 127.0.0.1 only. Each process is started in its own session and stopped by
its own pid (SIGTERM, then SIGKILL after a grace period); nothing else on the machine is touched.

Why a private OPA: the agency registry lives in OPA's global `data.registry`, so a benchmark that
pushed its registry into the shared stack OPA would flip the revision under any test running at
the same time (and theirs under it). The private OPA is the same binary (OPA 1.22.2 from the
stack's cache) with the stack's flags, serving this checkout's `policies/`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.postgres import scratch_database
from devstack.settings import OPA_GOGC
from devstack.topics import delete_topics
from schemas.policy_bundle import SERVE_FLAGS
from transport.kafka import client_config

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


def load_stack_env() -> dict[str, str]:
    """The stack's connection settings (`python -m devstack env` writes them)."""
    from devstack.settings import StackSettings

    env_file = StackSettings().env_file
    if not env_file.exists():
        raise SystemExit("the stack is not set up: run `make stack` first")
    values = {}
    for line in env_file.read_text().splitlines():
        key, _, value = line.partition("=")
        if key:
            values[key] = os.environ.get(key, value)
    return values


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_http(
    url: str,
    *,
    timeout: float,
    proc: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
    token: str | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        try:
            request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback only
            with urllib.request.urlopen(request, timeout=1) as response:  # noqa: S310 - loopback only
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s\n{tail}")


@dataclass
class Process:
    """A child process started by the benchmark, stopped by its own pid."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self, grace: float = 15.0) -> None:
        if self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)

    def cpu_seconds(self) -> float:
        """User+system CPU time the process has used so far (from /proc)."""
        return cpu_seconds(self.proc.pid)


def cpu_seconds(pid: int, *, with_children: bool = False) -> float:
    """CPU seconds of `pid` (and of its children that have exited, e.g. PostgreSQL backends)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    used = int(fields[11]) + int(fields[12])
    if with_children:
        used += int(fields[13]) + int(fields[14])
    return used / ticks


def start(name: str, args: list[str], *, log_dir: Path, env: dict[str, str] | None = None) -> Process:
    log = log_dir / f"{name}.log"
    handle = log.open("ab")
    proc = subprocess.Popen(
        args,
        stdout=handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    handle.close()
    return Process(name, proc, log)


@contextlib.contextmanager
def private_opa(opa_binary: str, log_dir: Path) -> Iterator[str]:
    port = free_port()
    proc = start(
        "opa",
        [
            opa_binary,
            "run",
            "--server",
            f"--addr={HOST}:{port}",
            "--log-level=error",
            "--log-format=json",
            *SERVE_FLAGS,
            str(REPO / "policies"),
        ],
        log_dir=log_dir,
        env={"GOGC": OPA_GOGC},  # as the local stack and docker-compose.yml run it
    )
    url = f"http://{HOST}:{port}"
    try:
        wait_http(f"{url}/health", timeout=30, proc=proc.proc, log=proc.log)
        yield url
    finally:
        proc.stop()


@dataclass
class Gateway:
    """The gateway (request path only) and the `broker.worker` that relays its outbox, as deployed."""

    url: str
    process: Process
    database_url: str
    env: dict[str, str] = field(repr=False)
    worker: Process | None = None

    def stop(self) -> None:
        # The gateway first, so nothing reaches the outbox after the worker has gone.
        self.process.stop()
        if self.worker is not None:
            self.worker.stop()


def relay_config(stack: dict[str, str]) -> dict[str, Any]:
    """aiokafka keyword arguments for the stack's relay principal (what the gateway publishes as)."""
    return client_config(
        bootstrap=stack["SGB_KAFKA_BOOTSTRAP"],
        security_protocol="SASL_PLAINTEXT",
        user=stack["SGB_KAFKA_USER"],
        password=stack["SGB_KAFKA_PASSWORD"],
        ca_file=None,
    )


def admin_config(stack: dict[str, str]) -> dict[str, Any]:
    """aiokafka keyword arguments for the stack's super-user (set-up and clean-up only)."""
    return client_config(
        bootstrap=stack["SGB_KAFKA_BOOTSTRAP"],
        security_protocol="SASL_PLAINTEXT",
        user=stack["SGB_KAFKA_ADMIN_USER"],
        password=stack["SGB_KAFKA_ADMIN_PASSWORD"],
        ca_file=None,
    )


def grant_relay(stack: dict[str, str], namespace: str) -> None:
    """Let the stack's relay principal publish to (and create) the inboxes of the benchmark's namespace."""
    from broker.partnership import kafka_access

    kafka_access.apply(
        kafka_libs=Path(stack["SGB_KAFKA_LIBS"]),
        users={},
        admin_properties=kafka_access.admin_properties(
            bootstrap=stack["SGB_KAFKA_BOOTSTRAP"],
            user=stack["SGB_KAFKA_ADMIN_USER"],
            password=stack["SGB_KAFKA_ADMIN_PASSWORD"],
        ),
        grants=kafka_access.relay_grants(stack["SGB_KAFKA_USER"], namespace=namespace),
    )


async def delete_namespace_topics(stack: dict[str, str], namespace: str) -> None:
    """Remove the benchmark's own topics (`<namespace>.*`) so repeated runs do not fill the disk."""
    try:
        await delete_topics(admin_config(stack), namespaces=lambda found: found == namespace)
    except Exception as exc:  # cleanup only: never hide the results
        print(f"could not delete the benchmark topics: {exc}", file=sys.stderr)


def gateway_env(
    *,
    partnership_root: Path,
    database_url: str,
    opa_url: str,
    stack: dict[str, str],
    partnership_id: str,
    namespace: str,
) -> dict[str, str]:
    return {
        "SGB_DATABASE_URL": database_url,
        "SGB_PARTNERSHIP_ID": partnership_id,
        "SGB_REGISTRY_FILE": str(partnership_root / "registry.json"),
        "SGB_KEYS_DIR": str(partnership_root / "broker-keys"),
        "SGB_AUDIENCE": "safeguarding-broker",
        "SGB_OPA_URL": opa_url,
        "SGB_KAFKA_BOOTSTRAP": stack["SGB_KAFKA_BOOTSTRAP"],
        "SGB_KAFKA_USER": stack["SGB_KAFKA_USER"],
        "SGB_KAFKA_PASSWORD": stack["SGB_KAFKA_PASSWORD"],
        "SGB_CHECKPOINT_SECONDS": "10",
        "SGB_TOPIC_NAMESPACE": namespace,
        # As docker-compose.yml runs it: the gateway answers, `python -m broker.worker` relays.
        "SGB_RUN_RELAY_IN_GATEWAY": "false",
        # Its /metrics, for where the time goes (`bench.breakdown`); the worker gets a token of its own.
        "SGB_METRICS_TOKEN": secrets.token_urlsafe(24),
    }


def process_env(env: dict[str, str], workers: int) -> dict[str, str]:
    """The gateway's settings for `workers` processes. With more than one, each would serve its own
    /metrics behind one port, which `python -m broker.gateway` refuses: the scale curve's gateways
    serve none (`bench.breakdown` reads the one-process gateway's)."""
    return env if workers == 1 else {key: value for key, value in env.items() if key != "SGB_METRICS_TOKEN"}


def start_gateway(name: str, env: dict[str, str], database_url: str, log_dir: Path, workers: int = 1) -> Gateway:
    env = process_env(env, workers)
    port = free_port()
    process = start(
        name,
        [
            sys.executable,
            "-m",
            "broker.gateway",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        log_dir=log_dir,
        env=env,
    )
    url = f"http://{HOST}:{port}"
    try:
        wait_http(f"{url}/livez", timeout=60, proc=process.proc, log=process.log)
        # Started after the gateway has migrated the database, so the two never race to create it.
        worker = start_worker(f"{name}-worker", env, log_dir)
    except Exception:
        process.stop()
        raise
    return Gateway(url, process, database_url, env, worker)


def start_worker(name: str, env: dict[str, str], log_dir: Path) -> Process:
    """`python -m broker.worker` on the gateway's settings: relay, receipts and clocks in their own process."""
    port, token = free_port(), secrets.token_urlsafe(24)
    process = start(name, [sys.executable, "-m", "broker.worker"], log_dir=log_dir, env=worker_env(env, port, token))
    try:
        wait_http(f"http://{HOST}:{port}/metrics", timeout=60, proc=process.proc, log=process.log, token=token)
    except Exception:
        process.stop()
        raise
    return process


def worker_env(env: dict[str, str], port: int, token: str) -> dict[str, str]:
    """The worker's settings: the gateway's, with a metrics port that is only there to tell us it is up
    (it opens after the migration). The port serves only scrapes with the run's own token, as in production."""
    return {**env, "SGB_WORKER_METRICS_PORT": str(port), "SGB_WORKER_METRICS_HOST": HOST, "SGB_METRICS_TOKEN": token}


def start_noop(log_dir: Path) -> tuple[str, Process]:
    port = free_port()
    process = start(
        "noop",
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.noop_app:app",
            "--host",
            HOST,
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        log_dir=log_dir,
    )
    url = f"http://{HOST}:{port}"
    wait_http(f"{url}/livez", timeout=30, proc=process.proc, log=process.log)
    return url, process


def scratch_postgres(admin_url: str) -> contextlib.AbstractContextManager[str]:
    """A new, empty database on the stack's PostgreSQL, dropped afterwards."""
    return scratch_database(admin_url, prefix="bench")
