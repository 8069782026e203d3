"""`make compose-test`: docker-compose.yml brought up for real with podman, end to end, then removed.

No Docker engine runs here and no registry is reachable, so this uses Debian's podman (with runc: crun
refuses this machine's cgroups) and builds every image locally on Debian's minimal root file system,
imported once as localhost/debian:bookworm: stand-ins for the official Kafka, OPA and PostgreSQL
images from what the local stack already caches, and the product from the real Dockerfile on a
stand-in Python base. deploy/compose-test/compose.test.yml points the services at those images and
at the host's network, on ports of their own, so the local stack keeps running alongside.

One run: install podman if missing → base image (cached) → images (layer-cached) → fresh TLS files and
passwords → Kafka, OPA, PostgreSQL healthy → provision, kafka-access and migrate complete → gateway
healthy → worker and two agency consumers → post a notification as the school → both recipients'
consumers deliver, then acknowledge → each consumer has cosigned a checkpoint of size > 0 (another
notification if the first carried only the empty tree's) → the gateway's own database credentials
are refused UPDATE, DELETE and TRUNCATE on the log → `python -m audit verify` trusting the broker's
public key, then trusting the two agencies' witness keys instead → `down -v`, always, even on failure.
devstack/podman.py builds the images and drives the compose project; devstack/compose_checks.py
exercises the running deployment.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from devstack.compose_checks import CONSUMERS, exercise
from devstack.kafka import new_cluster_id
from devstack.podman import Compose, build_images, ensure_base_image, ensure_podman
from devstack.process import console
from devstack.settings import StackSettings

NAMESPACE = "sgbct"
PARTNERSHIP = "sgbct_scp"

cli = typer.Typer(add_completion=False, help=__doc__.splitlines()[0] if __doc__ else None)


@contextmanager
def _step(title: str, timings: dict[str, float]) -> Iterator[None]:
    started = time.monotonic()
    console.print(f"… {title}")
    yield
    timings[title] = time.monotonic() - started
    console.print(f"[green]✓[/green] {title} ({timings[title]:.0f}s)")


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
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    # One CA for both here; an operator may well use two.
    files: dict[str, bytes] = {"kafka-ca.pem": ca_pem, "gateway-ca.pem": ca_pem}
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
            "POSTGRES_APP_PASSWORD",
            "SGB_OPA_TOKEN",
            "SGB_METRICS_TOKEN",
            "METRICS_CSC_TOKEN",
            "METRICS_POLICE_TOKEN",
        )
    }
    values["KAFKA_CLUSTER_ID"] = new_cluster_id()
    values["SECRETS_DIR"] = str(secrets_dir)
    values["SGB_TOPIC_NAMESPACE"] = NAMESPACE
    # Not the demo spec's own id: provision makes the registry and grants for the configured one.
    values["SGB_PARTNERSHIP_ID"] = PARTNERSHIP
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("".join(f"{key}={value}\n" for key, value in values.items()))
    return values


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
        with _step("provision, kafka-access and migrate completed", timings):
            # migrate needs only PostgreSQL: it runs while provision works.
            compose.up("provision", "migrate")
            compose.wait_completed("provision")
            compose.up("kafka-access")
            compose.wait_completed("kafka-access")
            compose.wait_completed("migrate")
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
