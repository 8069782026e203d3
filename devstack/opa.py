"""A real OPA server, built from its Go module and serving this checkout's `policies/`.

OPA runs in plain directory mode (not `--bundle`) with `--watch`, so policy edits reload at once and
the gateway can write the agency registry to `data.registry` through the Data API.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

from devstack.process import (
    StackError,
    console,
    port_open,
    run_with_progress,
    running_pid,
    start_daemon,
    stop_pid,
    wait_until,
)
from devstack.settings import OPA_GOGC, OPA_VERSION, StackSettings
from schemas.policy_bundle import SERVE_FLAGS

MARKER = "opa run --server"


def build(settings: StackSettings) -> Path:
    """`go install` the pinned OPA once into the cache; Go caches its modules in GOMODCACHE."""
    binary = settings.opa_binary
    if binary.exists():
        return binary
    if shutil.which("go") is None:
        raise StackError("Go is needed to build OPA: install golang")
    binary.parent.mkdir(parents=True, exist_ok=True)
    run_with_progress(
        ["go", "install", "-v", f"github.com/open-policy-agent/opa@{OPA_VERSION}"],
        title=f"building OPA {OPA_VERSION} from its Go module (first time only, ~2-4 min)",
        env={"CGO_ENABLED": "0", "GOBIN": str(binary.parent), "GOFLAGS": "-mod=mod"},
    )
    return binary


def url(settings: StackSettings) -> str:
    return f"http://{settings.host}:{settings.opa_port}"


def healthy(settings: StackSettings) -> bool:
    try:
        with urllib.request.urlopen(f"{url(settings)}/health", timeout=1) as response:  # noqa: S310 - loopback
            return bool(response.status == 200)
    except OSError:
        return False


def version(settings: StackSettings) -> str:
    out = subprocess.run([str(settings.opa_binary), "version"], capture_output=True, text=True, check=True).stdout
    return out.splitlines()[0].removeprefix("Version: ").strip()


def _serving(settings: StackSettings) -> dict[str, object] | None:
    path = settings.opa_state / "serving.json"
    if not path.exists():
        return None
    served: dict[str, object] = json.loads(path.read_text())
    return served


def start(settings: StackSettings, policies: Path) -> None:
    build(settings)
    state = settings.opa_state
    state.mkdir(parents=True, exist_ok=True)
    pid_file = state / "opa.pid"
    policies = policies.resolve()
    if not policies.is_dir():
        raise StackError(f"no policies directory at {policies}")
    args = [
        str(settings.opa_binary),
        "run",
        "--server",
        f"--addr={settings.host}:{settings.opa_port}",
        "--watch",
        "--log-level=error",
        "--log-format=json",
        *SERVE_FLAGS,
        str(policies),
    ]
    serving = {"policies": str(policies), "args": args}
    if running_pid(pid_file, MARKER) is not None:
        if _serving(settings) == serving and healthy(settings):
            console.print("[green]✓[/green] OPA already running")
            return
        # Another checkout's policies, or other flags: tests here must see this checkout's rules as it serves them.
        stop(settings)
    if port_open(settings.host, settings.opa_port):
        raise StackError(f"port {settings.opa_port} is taken by a process this stack did not start")
    # The command line must carry MARKER exactly for the pid check.
    start_daemon(args, log_file=state / "opa.log", pid_file=pid_file, env={"GOGC": OPA_GOGC})
    (state / "serving.json").write_text(json.dumps(serving))
    wait_until(lambda: healthy(settings), what="OPA server", timeout=30, log_file=state / "opa.log")
    console.print(f"[green]✓[/green] OPA {version(settings)} on {url(settings)} serving {policies}")


def stop(settings: StackSettings) -> None:
    stop_pid(settings.opa_state / "opa.pid", MARKER, name="OPA", grace=10)


def status(settings: StackSettings) -> str:
    if running_pid(settings.opa_state / "opa.pid", MARKER) is None:
        return "stopped"
    return "healthy" if healthy(settings) else "starting or unhealthy"
