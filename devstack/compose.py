"""`make compose-test`: docker-compose.yml brought up for real with podman, end to end, then removed.

No Docker engine runs here and no registry is reachable, so this uses Debian's podman (with runc: crun
refuses this machine's cgroups) and builds every image locally on Debian's minimal root file system,
imported once as localhost/debian:bookworm: stand-ins for the official Kafka, OPA and PostgreSQL
images from what the local stack already caches, and the product from the real Dockerfile on a
stand-in Python base. deploy/compose-test/compose.test.yml points the services at those images and
at the host's network, on ports of their own, so the local stack keeps running alongside.

One run: install podman if missing → base image (cached) → images (layer-cached) → fresh TLS files and
passwords → Kafka, OPA, PostgreSQL healthy → provision and kafka-access complete → gateway healthy →
worker and two agency consumers → post a notification as the school → both recipients' consumers
deliver, then acknowledge → `python -m audit verify` with the broker's public key → `down -v`,
always, even on failure.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import typer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from broker.partnership.cli import issue_token
from broker.partnership.keys import SIGNING_FILE, load_agency_keys
from demo.cases import cases
from devstack.kafka import new_cluster_id
from devstack.process import StackError, console
from devstack.settings import KAFKA_VERSION, OPA_VERSION, StackSettings

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "deploy" / "compose-test"
PROJECT = "sgb-compose-test"
IMAGES = "localhost/sgb-compose-test"
BASE_IMAGE = "localhost/debian:bookworm"
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
GATEWAY = "https://127.0.0.1:28443"
DATABASE = "postgresql+psycopg://sgb:{password}@127.0.0.1:25432/sgb"
NAMESPACE = "sgbct"
AUDIENCE = "safeguarding-broker"
CONSUMERS = {"csc-fenmere-mash": "consumer-csc", "police-fenmere": "consumer-police"}
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

cli = typer.Typer(add_completion=False, help=__doc__.splitlines()[0] if __doc__ else None)


def _run(
    args: list[str],
    *,
    capture: bool = False,
    check: bool = True,
    timeout: float = 900,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
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


@contextmanager
def _step(title: str, timings: dict[str, float]) -> Iterator[None]:
    started = time.monotonic()
    console.print(f"… {title}")
    yield
    timings[title] = time.monotonic() - started
    console.print(f"[green]✓[/green] {title} ({timings[title]:.0f}s)")


# --- podman and the images -------------------------------------------------------------------------


def ensure_podman() -> None:
    """Debian's podman, runc and debootstrap, and a containers.conf this machine accepts."""
    if not all(shutil.which(tool) for tool in ("podman", "runc", "debootstrap")):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        _run(["apt-get", "update", "-q"], env=env)
        _run(["apt-get", "install", "-y", "-q", "podman", "runc", "debootstrap"], env=env)
    conf = Path("/etc/containers/containers.conf")
    if not conf.exists():
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text(CONTAINERS_CONF)


def _image_exists(name: str) -> bool:
    return _run(["podman", "image", "exists", name], check=False).returncode == 0


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
    _run(["debootstrap", "--variant=minbase", "bookworm", str(rootfs), mirror], capture=True)
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    subprocess.run(["podman", "import", "-", BASE_IMAGE], stdin=tar.stdout, check=True, capture_output=True)
    if tar.wait() != 0:
        raise StackError("archiving the Debian root file system failed")
    shutil.rmtree(rootfs, ignore_errors=True)


def _image_id(tag: str) -> str:
    return _run(["podman", "image", "inspect", "-f", "{{.Id}}", tag], capture=True, check=False).stdout.strip()


def _build(tag: str, context: Path, containerfile: Path, *extra: str) -> None:
    previous = _image_id(tag)
    # Host networking: apt and pip inside the build reach the network as the host does; the host's
    # CA bundle because this network inspects TLS.
    _run(
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
        _run(["podman", "rmi", previous], capture=True, check=False)


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


# --- secrets -----------------------------------------------------------------------------------------


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _certificate(
    subject: str, key: rsa.RSAPrivateKey, issuer: tuple[x509.Name, rsa.RSAPrivateKey] | None, names: list[str]
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    issuer_name, signer = issuer or (name, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
    else:
        sans: list[x509.GeneralName] = [x509.DNSName(n) for n in names if not n[0].isdigit()]
        sans += [x509.IPAddress(ipaddress.ip_address(n)) for n in names if n[0].isdigit()]
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(signer, hashes.SHA256())


def write_secrets(directory: Path) -> None:
    """A throw-away CA, Kafka's server certificate and the gateway's, valid for one day.

    Mode 0644: file secrets are bind-mounted as they are, and the services read them as `nobody`
    and Kafka's user; the directory itself is root's alone.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = _certificate("sgb compose-test CA", ca_key, None, [])
    issuer = (ca.subject, ca_key)
    files: dict[str, bytes] = {"kafka-ca.pem": ca.public_bytes(serialization.Encoding.PEM)}
    kafka_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kafka_cert = _certificate("kafka", kafka_key, issuer, ["kafka", "localhost", "127.0.0.1"])
    files["kafka-server.pem"] = _pem_key(kafka_key) + kafka_cert.public_bytes(serialization.Encoding.PEM)
    tls_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    files["tls.crt"] = _certificate("gateway", tls_key, issuer, ["gateway", "localhost", "127.0.0.1"]).public_bytes(
        serialization.Encoding.PEM
    )
    files["tls.key"] = _pem_key(tls_key)
    for name, data in files.items():
        path = directory / name
        path.write_bytes(data)
        path.chmod(0o644)


def write_env(path: Path, secrets_dir: Path) -> dict[str, str]:
    values = {
        name: secrets.token_urlsafe(24)
        for name in (
            "KAFKA_ADMIN_PASSWORD",
            "KAFKA_CONTROLLER_PASSWORD",
            "KAFKA_RELAY_PASSWORD",
            "KAFKA_CSC_PASSWORD",
            "KAFKA_POLICE_PASSWORD",
            "POSTGRES_PASSWORD",
        )
    }
    values["KAFKA_CLUSTER_ID"] = new_cluster_id()
    values["SECRETS_DIR"] = str(secrets_dir)
    values["SGB_TOPIC_NAMESPACE"] = NAMESPACE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("".join(f"{key}={value}\n" for key, value in values.items()))
    return values


# --- the compose project -----------------------------------------------------------------------------


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
        result = _run([*self.base, *args], capture=True, check=False)
        if check and result.returncode != 0:
            raise StackError(f"podman-compose {' '.join(args)} failed:\n{result.stderr[-3000:]}")

    def up(self, *services: str) -> None:
        # Service by service, because podman 4.3 cannot wait for health (podman-compose skips those
        # conditions below podman 4.6): this harness enforces docker-compose.yml's order itself.
        self("up", "-d", "--no-build", "--no-deps", *services)

    @staticmethod
    def container(service: str) -> str:
        result = _run(
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
            if _run(["podman", "healthcheck", "run", name], capture=True, check=False).returncode == 0:
                return
            state = _run(["podman", "inspect", "-f", "{{.State.Status}}", name], capture=True).stdout.strip()
            if state in {"exited", "stopped"}:
                raise StackError(f"{service} exited before it was healthy")
            time.sleep(2)
        raise StackError(f"{service} was not healthy within {timeout:.0f}s")

    def wait_completed(self, service: str, timeout: float = 300) -> None:
        name = self.container(service)
        result = _run(["podman", "wait", name], capture=True, timeout=timeout)
        if result.stdout.strip() != "0":
            raise StackError(f"{service} failed (exit code {result.stdout.strip()})")

    def logs(self) -> None:
        result = _run(
            ["podman", "ps", "-a", "--format", "{{.Names}}", "--filter", f"label=io.podman.compose.project={PROJECT}"],
            capture=True,
            check=False,
        )
        for name in result.stdout.split():
            out = _run(["podman", "logs", "--tail", "30", name], capture=True, check=False)
            console.print(f"[bold]--- {name}[/bold]\n{(out.stdout + out.stderr).strip()}")

    def down(self) -> None:
        self("down", "-v", "-t", "20", check=False)


def volume(name: str) -> Path:
    result = _run(["podman", "volume", "inspect", "-f", "{{.Mountpoint}}", f"{PROJECT}_{name}"], capture=True)
    return Path(result.stdout.strip())


# --- the end-to-end check ----------------------------------------------------------------------------


def _wait(check: Callable[[], bool], what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(1)
    raise StackError(f"waited {timeout:.0f}s for {what}")


def exercise(compose: Compose, secrets_dir: Path, env: dict[str, str], run_dir: Path) -> None:
    """Post as the school, see both consumers deliver and acknowledge, verify the decision log."""
    partnership = volume("partnership")
    title, notification = cases()[0]
    sender = notification["sender"]["agency_id"]
    keys = load_agency_keys(partnership / "agencies" / sender)
    ca = str(secrets_dir / "kafka-ca.pem")

    def status_view() -> dict[str, Any]:
        # Tokens are single use, so every question carries a fresh one.
        token = issue_token(keys, role="agency_system", audience=AUDIENCE)
        response = httpx.get(
            f"{GATEWAY}/v1/notifications/{notification['notification_id']}",
            headers={"Authorization": f"Bearer {token}"},
            verify=ca,
            timeout=10,
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    token = issue_token(keys, role="agency_system", audience=AUDIENCE)
    response = httpx.post(
        f"{GATEWAY}/v1/notifications",
        json=notification,
        verify=ca,
        timeout=30,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": notification["notification_id"]},
    )
    if response.status_code != 202:
        raise StackError(f"POST /v1/notifications answered {response.status_code}: {response.text[:500]}")
    recipients = {r["agency_id"]: r for r in response.json()["recipients"]}
    console.print(f"  posted {title!r}: " + ", ".join(f"{a} {r['outcome']}" for a, r in recipients.items()))
    ours = {
        agency: recipients[agency]["delivery_id"]
        for agency in CONSUMERS
        if recipients.get(agency, {}).get("outcome", "").startswith("share")
    }
    if set(ours) != set(CONSUMERS):
        raise StackError(f"expected shares to {sorted(CONSUMERS)}, got {recipients}")

    def statuses() -> dict[str, str]:
        return {item["agency_id"]: str(item["status"]) for item in status_view()["recipients"]}

    _wait(lambda: all(statuses()[a] in {"delivered", "acknowledged"} for a in ours), "deliveries")
    console.print("  delivered to " + ", ".join(ours) + " (the sender's status view)")
    for agency, delivery_id in ours.items():
        _run(
            [
                "podman",
                "exec",
                compose.container(CONSUMERS[agency]),
                "python",
                "-m",
                "consumers",
                "ack",
                "--agency",
                agency,
                "--delivery-id",
                delivery_id,
                "--notification-id",
                notification["notification_id"],
                "--by",
                f"{agency}-duty-worker",
            ],
            capture=True,
        )
    _wait(lambda: all(statuses()[a] == "acknowledged" for a in ours), "acknowledgements")
    console.print("  acknowledged by " + ", ".join(ours))

    # The trust anchor: the broker's public key, as an auditor would hold it.
    signing = serialization.load_pem_private_key((partnership / "broker-keys" / SIGNING_FILE).read_bytes(), None)
    public_pem = run_dir / "broker-public-key.pem"
    public_pem.write_bytes(
        signing.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    verify = _run(
        [
            sys.executable,
            "-m",
            "audit",
            "verify",
            "--db",
            DATABASE.format(password=env["POSTGRES_PASSWORD"]),
            "--public-key",
            str(public_pem),
        ],
        capture=True,
        check=False,
    )
    console.print("  " + verify.stdout.strip().replace("\n", "\n  "))
    if verify.returncode != 0:
        raise StackError(f"audit verify exited {verify.returncode}: {verify.stderr[-2000:]}")


@cli.command()
def test(keep: bool = typer.Option(False, "--keep", help="Leave the containers up (for debugging).")) -> None:
    """Bring docker-compose.yml up with podman, send one notification through it, tear it down."""
    started = time.monotonic()
    # A CI timeout or Ctrl-C must still tear down: SIGTERM becomes an exit that runs the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    stack = StackSettings()
    cache = stack.cache_dir / "compose-test"
    run_dir = stack.state_dir / "compose-test"
    timings: dict[str, float] = {}
    with _step("podman and the base image", timings):
        ensure_podman()
        ensure_base_image(cache)
    with _step("images (cached layers)", timings):
        build_images(stack, cache)
    shutil.rmtree(run_dir, ignore_errors=True)
    secrets_dir = run_dir / "secrets"
    write_secrets(secrets_dir)
    env = write_env(run_dir / "compose.env", secrets_dir)
    compose = Compose(run_dir / "compose.env")
    compose.down()  # whatever an interrupted run left behind
    failed = True
    try:
        with _step("kafka, opa, postgres healthy", timings):
            compose.up("kafka", "opa", "postgres")
            for service in ("kafka", "opa", "postgres"):
                compose.wait_healthy(service)
        with _step("provision and kafka-access completed", timings):
            compose.up("provision")
            compose.wait_completed("provision")
            compose.up("kafka-access")
            compose.wait_completed("kafka-access")
        with _step("gateway healthy; worker and consumers started", timings):
            compose.up("gateway")
            compose.wait_healthy("gateway")
            compose.up("worker", *CONSUMERS.values())
        with _step("notification delivered, acknowledged, log verified", timings):
            exercise(compose, secrets_dir, env, run_dir)
        failed = False
    finally:
        if failed:
            compose.logs()
        if not keep:
            with _step("torn down", timings):
                compose.down()
                shutil.rmtree(run_dir, ignore_errors=True)
        total = time.monotonic() - started
        console.print(
            f"compose-test {'FAILED' if failed else 'passed'} in {total:.0f}s: "
            + json.dumps({k: round(v) for k, v in timings.items()})
        )


@cli.command()
def down() -> None:
    """Remove whatever a run left up (`test --keep`, or an interrupted run): containers and volumes."""
    run_dir = StackSettings().state_dir / "compose-test"
    env_file = run_dir / "compose.env"
    if not env_file.exists():
        # podman-compose interpolates the file before it removes anything: any values will do.
        run_dir.mkdir(parents=True, exist_ok=True)
        write_env(env_file, run_dir / "secrets")
    Compose(env_file).down()
    shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    cli()
