"""podman: this machine's stand-in for Docker, the images `make compose-test` runs and its compose project.

No Docker engine runs here and no registry is reachable, so Debian's podman (with runc: crun refuses
this machine's cgroups) builds every image locally on Debian's minimal root file system, imported
once as localhost/debian:bookworm: stand-ins for the official Kafka, OPA and PostgreSQL images from
what the local stack already caches, and the product from the real Dockerfile on a stand-in Python
base. podman-compose then runs docker-compose.yml with deploy/compose-test/compose.test.yml over it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from devstack.process import StackError, console
from devstack.settings import KAFKA_VERSION, OPA_VERSION, StackSettings

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "deploy" / "compose-test"
PROJECT = "sgb-compose-test"
IMAGES = "localhost/sgb-compose-test"
BASE_IMAGE = "localhost/debian:bookworm"
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
CONTAINERS_CONF = """[containers]
# podman's default (1048576) is refused here: "setrlimit ... operation not permitted".
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
# crun refuses this machine's hybrid cgroups; runc works.
runtime = "runc"
"""
# The scripts of the official Kafka image that docker-compose.yml and deploy/kafka/*.sh call.
KAFKA_BIN = {
    "kafka-server-start.sh": "kafka.Kafka",
    "kafka-storage.sh": "kafka.tools.StorageTool",
    "kafka-configs.sh": "kafka.admin.ConfigCommand",
    "kafka-acls.sh": "org.apache.kafka.tools.AclCommand",
    "kafka-topics.sh": "org.apache.kafka.tools.TopicCommand",
    "kafka-broker-api-versions.sh": "org.apache.kafka.tools.BrokerApiVersionsCommand",
}
LOG4J2 = """status = warn
appender.console.type = Console
appender.console.name = STDERR
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = STDERR
"""


def run(
    args: list[str],
    *,
    capture: bool = False,
    check: bool = True,
    timeout: float = 900,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The command's result; with check, a failure raises StackError carrying its captured output."""
    result = subprocess.run(
        args,
        capture_output=capture,
        text=True,
        check=False,
        timeout=timeout,
        env=env,
    )
    if check and result.returncode != 0:
        # Say what failed and why: a captured command's output would otherwise be lost.
        detail = (result.stderr or result.stdout or "")[-3000:] if capture else ""
        raise StackError(f"{' '.join(args[:4])} ... exited {result.returncode}\n{detail}")
    return result


def ensure_podman() -> None:
    """Debian's podman, runc and debootstrap, and a containers.conf this machine accepts."""
    if not all(shutil.which(tool) for tool in ("podman", "runc", "debootstrap")):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-q"], env=env)
        run(["apt-get", "install", "-y", "-q", "podman", "runc", "debootstrap"], env=env)
    conf = Path("/etc/containers/containers.conf")
    if not conf.exists():
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text(CONTAINERS_CONF)


def _image_exists(name: str) -> bool:
    return run(["podman", "image", "exists", name], check=False).returncode == 0


def ensure_base_image(cache: Path) -> None:
    """Debian bookworm's minimal root file system as a local image (about 45 s, once per machine)."""
    if _image_exists(BASE_IMAGE):
        return
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    mirror = "http://deb.debian.org/debian"
    if sources.exists():
        mirror = next(
            (line.split()[1] for line in sources.read_text().splitlines() if line.startswith("URIs:")), mirror
        )
    rootfs = cache / "rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    run(["debootstrap", "--variant=minbase", "bookworm", str(rootfs), mirror], capture=True)
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    subprocess.run(["podman", "import", "-", BASE_IMAGE], stdin=tar.stdout, check=True, capture_output=True)
    if tar.wait() != 0:
        raise StackError("archiving the Debian root file system failed")
    shutil.rmtree(rootfs, ignore_errors=True)


def _image_id(tag: str) -> str:
    return run(["podman", "image", "inspect", "-f", "{{.Id}}", tag], capture=True, check=False).stdout.strip()


def _build(tag: str, context: Path, containerfile: Path, *extra: str) -> None:
    previous = _image_id(tag)
    # Host networking: apt and pip inside the build reach the network as the host does; the host's
    # CA bundle because this network inspects TLS.
    run(
        [
            "podman",
            "build",
            "-q",
            "--network",
            "host",
            "-v",
            f"{HOST_CA}:/host-ca.crt:ro",
            "-t",
            tag,
            "-f",
            str(containerfile),
            *extra,
            str(context),
        ],
        capture=True,
    )
    if previous and previous != _image_id(tag):
        # The image this tag replaced; without this every source change would leave one behind.
        run(["podman", "rmi", previous], capture=True, check=False)


def _requirements() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return "".join(f"{requirement}\n" for requirement in project["dependencies"])


def _stage(directory: Path) -> Path:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


def build_images(stack: StackSettings, cache: Path) -> None:
    """Every image the override names; podman's layer cache makes an unchanged rebuild take seconds."""
    _build(f"{IMAGES}/base:latest", HERE, HERE / "base.Containerfile")
    python = _stage(cache / "build" / "python")
    (python / "requirements.txt").write_text(_requirements())
    _build(f"{IMAGES}/python:3.11", python, HERE / "python.Containerfile")
    # The real Dockerfile, with our Python stand-in in place of python:3.11-slim.
    _build(f"{IMAGES}/app:latest", ROOT, ROOT / "Dockerfile", "--from", f"{IMAGES}/python:3.11")

    kafka = _stage(cache / "build" / "kafka")
    shutil.copytree(stack.kafka_libs, kafka / "libs")
    (kafka / "bin").mkdir()
    for script, main_class in KAFKA_BIN.items():
        server = script == "kafka-server-start.sh"
        # The tools run for seconds: a small heap and no optimising compiler start them fastest.
        flags = (
            "${KAFKA_HEAP_OPTS:--Xmx1g} -XX:+UseG1GC"
            if server
            else "${KAFKA_HEAP_OPTS:--Xmx128m} -XX:+UseSerialGC -XX:TieredStopAtLevel=1"
        )
        (kafka / "bin" / script).write_text(
            "#!/bin/bash\n"
            f"exec java {flags} -Djava.awt.headless=true"
            " -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties"
            f" -cp '/opt/kafka/libs/*' {main_class} \"$@\"\n"
        )
    (kafka / "config").mkdir()
    (kafka / "config" / "log4j2.properties").write_text(LOG4J2)
    _build(f"{IMAGES}/kafka:{KAFKA_VERSION}", kafka, HERE / "kafka.Containerfile")

    opa = _stage(cache / "build" / "opa")
    shutil.copy2(stack.opa_binary, opa / "opa")
    _build(f"{IMAGES}/opa:{OPA_VERSION.removeprefix('v')}", opa, HERE / "opa.Containerfile")
    _build(f"{IMAGES}/postgres:15", HERE, HERE / "postgres.Containerfile")


class Compose:
    """podman-compose on docker-compose.yml plus the test override, and podman for what it lacks."""

    def __init__(self, env_file: Path) -> None:
        tool = Path(sys.executable).with_name("podman-compose")
        self.base = [
            str(tool),
            "--env-file",
            str(env_file),
            "-p",
            PROJECT,
            "-f",
            str(ROOT / "docker-compose.yml"),
            "-f",
            str(HERE / "compose.test.yml"),
        ]

    def __call__(self, *args: str, check: bool = True) -> None:
        result = run([*self.base, *args], capture=True, check=False)
        if check and result.returncode != 0:
            raise StackError(f"podman-compose {' '.join(args)} failed:\n{result.stderr[-3000:]}")

    def up(self, *services: str) -> None:
        # Service by service, because podman 4.3 cannot wait for health (podman-compose skips those
        # conditions below podman 4.6): this harness enforces docker-compose.yml's order itself.
        self("up", "-d", "--no-build", "--no-deps", *services)

    @staticmethod
    def container(service: str) -> str:
        result = run(
            [
                "podman",
                "ps",
                "-a",
                "--format",
                "{{.Names}}",
                "--filter",
                f"label=io.podman.compose.project={PROJECT}",
                "--filter",
                f"label=com.docker.compose.service={service}",
            ],
            capture=True,
        )
        names = result.stdout.split()
        if not names:
            raise StackError(f"no container for service {service}")
        return names[0]

    def wait_healthy(self, service: str, timeout: float = 180) -> None:
        """Run the service's own compose health check until it passes (no systemd timers run it here)."""
        name = self.container(service)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if run(["podman", "healthcheck", "run", name], capture=True, check=False).returncode == 0:
                return
            state = run(["podman", "inspect", "-f", "{{.State.Status}}", name], capture=True).stdout.strip()
            if state in {"exited", "stopped"}:
                raise StackError(f"{service} exited before it was healthy")
            time.sleep(2)
        raise StackError(f"{service} was not healthy within {timeout:.0f}s")

    def wait_completed(self, service: str, timeout: float = 300) -> None:
        name = self.container(service)
        result = run(["podman", "wait", name], capture=True, timeout=timeout)
        if result.stdout.strip() != "0":
            raise StackError(f"{service} failed (exit code {result.stdout.strip()})")

    def logs(self) -> None:
        result = run(
            ["podman", "ps", "-a", "--format", "{{.Names}}", "--filter", f"label=io.podman.compose.project={PROJECT}"],
            capture=True,
            check=False,
        )
        for name in result.stdout.split():
            out = run(["podman", "logs", "--tail", "30", name], capture=True, check=False)
            console.print(f"[bold]--- {name}[/bold]\n{(out.stdout + out.stderr).strip()}")

    def down(self) -> None:
        self("down", "-v", "-t", "20", check=False)


def volume(name: str) -> Path:
    result = run(["podman", "volume", "inspect", "-f", "{{.Mountpoint}}", f"{PROJECT}_{name}"], capture=True)
    return Path(result.stdout.strip())
