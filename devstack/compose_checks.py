"""The end-to-end checks of a running compose-test deployment, through its own interfaces.

The school posts a notification to the gateway; both recipients' consumers deliver it and are made
to acknowledge; each consumer cosigns a checkpoint of size > 0; the gateway's own database
credentials are refused every change to the log; and `python -m audit verify` accepts the log
trusting the broker's public key, then trusting the two agencies' witness keys instead, then holding
the checkpoint each agency's consumer kept (`python -m consumers checkpoint` in its container); and the
gateway filed its log's anchor, signed by the broker's key, on a volume of its own; and the gateway,
worker and consumers serve the metrics deploy/monitoring/alerts.yml reads.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from sqlalchemy import create_engine, text

import audit
from broker.partnership.cli import issue_token
from broker.partnership.keys import SIGNING_FILE, load_agency_keys
from broker.partnership.registry import load_registry
from broker.settings import BrokerSettings
from demo.cases import cases
from devstack.podman import Compose, run, volume
from devstack.postgres import APP_ROLE
from devstack.process import StackError, console

GATEWAY = "https://127.0.0.1:28443"
DATABASE = "postgresql+psycopg://sgb:{password}@127.0.0.1:25432/sgb"
AUDIENCE = "safeguarding-broker"
CONSUMERS = {"csc-fenmere-mash": "consumer-csc", "police-fenmere": "consumer-police"}
# Where compose.test.yml serves the worker's and each consumer's metrics (docker-compose.yml: 9464 each),
# and the variable holding the token each serves them to.
METRICS_PORTS = {
    "worker": (29464, "SGB_METRICS_TOKEN"),
    "consumer-csc": (29465, "METRICS_CSC_TOKEN"),
    "consumer-police": (29466, "METRICS_POLICE_TOKEN"),
}
# How often the gateway signs a checkpoint: docker-compose.yml keeps the product's default.
CHECKPOINT_SECONDS = float(BrokerSettings.model_fields["checkpoint_seconds"].default)


def _wait(check: Callable[[], bool], what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(1)
    raise StackError(f"waited {timeout:.0f}s for {what}")


class Sender:
    """The school's agency system calling the gateway, as the test's only client of its HTTP API."""

    def __init__(self, partnership: Path, ca: Path) -> None:
        self.agency = str(cases()[0][1]["sender"]["agency_id"])
        self._keys = load_agency_keys(partnership / "agencies" / self.agency)
        self._ca = str(ca)

    def _headers(self) -> dict[str, str]:
        # Tokens are single use, so every call carries a fresh one.
        return {"Authorization": f"Bearer {issue_token(self._keys, role='agency_system', audience=AUDIENCE)}"}

    def post(self, notification: dict[str, Any]) -> dict[str, Any]:
        headers = {**self._headers(), "Idempotency-Key": notification["notification_id"]}
        response = httpx.post(
            f"{GATEWAY}/v1/notifications", json=notification, verify=self._ca, timeout=30, headers=headers
        )
        if response.status_code != 202:
            raise StackError(f"POST /v1/notifications answered {response.status_code}: {response.text[:500]}")
        body: dict[str, Any] = response.json()
        return body

    def statuses(self, notification_id: str) -> dict[str, str]:
        response = httpx.get(
            f"{GATEWAY}/v1/notifications/{notification_id}", headers=self._headers(), verify=self._ca, timeout=10
        )
        response.raise_for_status()
        return {item["agency_id"]: str(item["status"]) for item in response.json()["recipients"]}


def _shares(answer: dict[str, Any]) -> dict[str, str]:
    """Delivery id by agency, for our two consumers; each must have been sent a share."""
    recipients = {r["agency_id"]: r for r in answer["recipients"]}
    ours = {
        a: recipients[a]["delivery_id"]
        for a in CONSUMERS
        if recipients.get(a, {}).get("outcome", "").startswith("share")
    }
    if set(ours) != set(CONSUMERS):
        raise StackError(f"expected shares to {sorted(CONSUMERS)}, got {recipients}")
    return ours


def deliver_and_acknowledge(compose: Compose, sender: Sender) -> int:
    """Post as the school, see both consumers deliver, acknowledge; the size of the checkpoint it carried."""
    title, notification = cases()[0]
    answer = sender.post(notification)
    ours = _shares(answer)
    console.print(f"  posted {title!r} to {', '.join(ours)}; checkpoint carried: size {_checkpoint_size(answer)}")
    notification_id = notification["notification_id"]
    _wait(lambda: all(sender.statuses(notification_id)[a] in {"delivered", "acknowledged"} for a in ours), "deliveries")
    console.print("  delivered to " + ", ".join(ours) + " (the sender's status view)")
    for agency, delivery_id in ours.items():
        ack = ["python", "-m", "consumers", "ack", "--agency", agency, "--delivery-id", delivery_id]
        ack += ["--notification-id", notification_id, "--by", f"{agency}-duty-worker"]
        run(["podman", "exec", compose.container(CONSUMERS[agency]), *ack], capture=True)
    _wait(lambda: all(sender.statuses(notification_id)[a] == "acknowledged" for a in ours), "acknowledgements")
    console.print("  acknowledged by " + ", ".join(ours))
    return _checkpoint_size(answer)


def _checkpoint_size(answer: dict[str, Any]) -> int:
    # The answer carries the checkpoint the gateway held while sealing: what the records carry.
    note = answer.get("checkpoint")
    return audit.Checkpoint.parse(note, verify_with=None).size if note else 0


def _cosigned(env: dict[str, str]) -> dict[str, int]:
    """The largest tree each witness (by name: the agency id) has a stored cosignature on."""
    engine = create_engine(DATABASE.format(password=env["POSTGRES_PASSWORD"]))
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT witness_name, max(tree_size) FROM audit_checkpoint_cosignature GROUP BY witness_name")
            )
            return {str(name): int(size) for name, size in rows}
    finally:
        engine.dispose()


def witness_checkpoints(sender: Sender, env: dict[str, str], carried: int) -> None:
    """Each consumer cosigns a checkpoint of size > 0 and the gateway stores it.

    A record carries the checkpoint the gateway signed before sealing it (one every
    SGB_CHECKPOINT_SECONDS), and the empty tree's vouches for nothing: the witness keeps it and posts
    nothing. A notification sent within that time of the gateway's start carries only that one, and
    a consumer sees no other checkpoint until its next record; so send another, once the gateway
    has had time to sign a larger tree.
    """
    for _ in range(3):
        if carried > 0:
            break
        time.sleep(CHECKPOINT_SECONDS + 1)
        answer = sender.post(cases()[0][1])
        _shares(answer)
        carried = _checkpoint_size(answer)
        console.print(f"  posted another notification: its records carry the checkpoint of size {carried}")
    if carried == 0:
        raise StackError("the gateway handed out no checkpoint of size > 0")
    _wait(lambda: all(_cosigned(env).get(a, 0) > 0 for a in CONSUMERS), "both consumers' cosignatures", timeout=120)
    console.print("  cosigned by " + ", ".join(f"{a} (size {s})" for a, s in sorted(_cosigned(env).items())))


# Run in the gateway's container with its own SGB_DATABASE_URL: what its credentials may do to the log.
PRIVILEGE_PROBE = """
import os, sys
import sqlalchemy as sa
engine = sa.create_engine(os.environ["SGB_DATABASE_URL"])
with engine.connect() as c:
    print("connected as", c.execute(sa.text("SELECT current_user")).scalar_one())
allowed = []
for sql in sys.argv[1:]:
    try:
        with engine.begin() as c:
            c.execute(sa.text(sql))
    except sa.exc.DBAPIError as exc:
        print(f"{sql}: {exc.orig.sqlstate} {exc.orig.diag.message_primary}")
        allowed += [sql] if exc.orig.sqlstate != "42501" else []
    else:
        print(f"{sql}: ALLOWED")
        allowed.append(sql)
sys.exit(1 if allowed else 0)
"""
TAMPERING = (
    "UPDATE audit_entry SET seq = seq",
    "DELETE FROM audit_entry",
    "TRUNCATE audit_entry",
    "DELETE FROM audit_checkpoint",
    "UPDATE audit_checkpoint_cosignature SET line = line",
)


def check_app_role_refused(compose: Compose) -> None:
    """The gateway's database role may add to the log but not change it: privileges refuse (42501)."""
    probe = run(
        ["podman", "exec", compose.container("gateway"), "python", "-c", PRIVILEGE_PROBE, *TAMPERING],
        capture=True,
        check=False,
    )
    console.print("  " + (probe.stdout + probe.stderr).strip().replace("\n", "\n  "))
    if probe.returncode != 0 or f"connected as {APP_ROLE}" not in probe.stdout:
        raise StackError(f"the gateway's role was not refused every change to the log (exit {probe.returncode})")


def verify_log(compose: Compose, env: dict[str, str], run_dir: Path) -> None:
    """`audit verify` as an auditor trusting the broker's key, then one trusting the two agencies instead,
    then one holding the checkpoint each agency's consumer kept (`python -m consumers checkpoint`)."""
    partnership = volume("partnership")
    signing = serialization.load_pem_private_key((partnership / "broker-keys" / SIGNING_FILE).read_bytes(), None)
    public_pem = run_dir / "broker-public-key.pem"
    public_pem.write_bytes(
        signing.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    database = DATABASE.format(password=env["POSTGRES_PASSWORD"])
    _verify(["--db", database, "--public-key", str(public_pem)], "the broker's public key")
    registry = load_registry(partnership / "registry.json")
    witnesses = []
    for agency in CONSUMERS:
        key = registry.agencies[agency].current_witness_key
        if key is None:
            raise StackError(f"{agency} has no witness key in the registry")
        pem = run_dir / f"witness-{agency}.pem"
        pem.write_bytes(
            key.witness().key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        witnesses += ["--witness-key", f"{agency}={pem}"]
    _verify(["--db", database, *witnesses, "--min-witnesses", str(len(CONSUMERS))], "the two agencies as witnesses")
    kept = []
    for agency, container in CONSUMERS.items():
        note = run(
            [
                "podman",
                "exec",
                compose.container(container),
                "python",
                "-m",
                "consumers",
                "checkpoint",
                "--agency",
                agency,
            ],
            capture=True,
        ).stdout
        (run_dir / f"kept-{agency}.txt").write_text(note, encoding="utf-8")
        kept += ["--checkpoint", str(run_dir / f"kept-{agency}.txt")]
    _verify(["--db", database, "--public-key", str(public_pem), *kept], "the checkpoints the two agencies kept")


def check_anchor_file() -> None:
    """The gateway, running as `nobody`, filed a checkpoint of the log on its anchor volume.

    A volume it cannot write leaves the gateway running with the anchor in memory only (each round's
    failure counted, not fatal), so only this check shows that the compose file keeps it.
    """
    signing = serialization.load_pem_private_key(
        (volume("partnership") / "broker-keys" / SIGNING_FILE).read_bytes(), None
    )
    path = volume("gateway-anchor") / "log-anchor"
    filed: list[audit.Checkpoint] = []

    def grown() -> bool:
        if path.exists():
            filed[:] = [audit.Checkpoint.open(path.read_text(), signing.public_key())]  # type: ignore[arg-type]
        return bool(filed) and filed[0].size > 0

    _wait(grown, f"the gateway to file a checkpoint of its log in {path.name}", timeout=3 * CHECKPOINT_SECONDS)
    console.print(f"  anchor file: a checkpoint of {filed[0].size} entries, signed by the broker's key")


def _verify(args: list[str], anchor: str) -> None:
    verify = run([sys.executable, "-m", "audit", "verify", *args], capture=True, check=False)
    console.print(f"  audit verify, trusting {anchor}:\n    " + verify.stdout.strip().replace("\n", "\n    "))
    if verify.returncode != 0:
        raise StackError(f"audit verify exited {verify.returncode}: {verify.stderr[-2000:]}")


def _families(text: str) -> set[str]:
    return {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}


def check_metrics(env: dict[str, str], ca: Path) -> None:
    """What alerts.yml reads is served: the gateway's /metrics to the scrape token, the worker's own
    series (never the gateway's), and each consumer's; and /readyz leaves Kafka to the worker."""
    headers = {"Authorization": f"Bearer {env['SGB_METRICS_TOKEN']}"}
    gateway = httpx.get(f"{GATEWAY}/metrics", headers=headers, verify=str(ca), timeout=10)
    if gateway.status_code != 200 or "sgb_log_verification_ok" not in _families(gateway.text):
        raise StackError(f"the gateway's /metrics answered {gateway.status_code}: {gateway.text[:300]}")
    served = {service: _scrape_with_its_token(env, port, token) for service, (port, token) in METRICS_PORTS.items()}
    if "sgb_published_total" not in served["worker"] or "sgb_log_verification_ok" in served["worker"]:
        raise StackError(f"the worker's metrics are not its own: {sorted(served['worker'])}")
    for service in CONSUMERS.values():
        if not any(name.startswith("sgb_consumer_") for name in served[service]):
            raise StackError(f"{service} serves no consumer metrics")
    console.print("  metrics served, each only to its token: gateway, worker, " + ", ".join(CONSUMERS.values()))
    # The relay runs in the worker: the gateway says Kafka is not its to report, not "disconnected".
    ready = httpx.get(f"{GATEWAY}/readyz", verify=str(ca), timeout=10).json()
    if ready.get("kafka") != "not_used":
        raise StackError(f"/readyz says {ready}")


def _scrape_with_its_token(env: dict[str, str], port: int, token: str) -> set[str]:
    """The families served to `token`'s bearer; every other token (another agency's) and none are refused."""
    url = f"http://127.0.0.1:{port}/metrics"
    others = [env[name] for _, name in METRICS_PORTS.values() if name != token]
    for given in [None, *others]:
        headers = {} if given is None else {"Authorization": f"Bearer {given}"}
        if (status := httpx.get(url, headers=headers, timeout=10).status_code) != 401:
            raise StackError(f"{url} answered {status} to a scrape without its token ({token})")
    served = httpx.get(url, headers={"Authorization": f"Bearer {env[token]}"}, timeout=10)
    if served.status_code != 200:
        raise StackError(f"{url} answered {served.status_code} to {token}: {served.text[:300]}")
    return _families(served.text)


def exercise(compose: Compose, secrets_dir: Path, env: dict[str, str], run_dir: Path) -> None:
    """Deliver and acknowledge, see both consumers witness the log, probe the gateway's role, verify, and
    find the log's anchor filed."""
    sender = Sender(volume("partnership"), secrets_dir / "kafka-ca.pem")
    carried = deliver_and_acknowledge(compose, sender)
    witness_checkpoints(sender, env, carried)
    check_app_role_refused(compose)
    verify_log(compose, env, run_dir)
    check_anchor_file()
    check_metrics(env, secrets_dir / "kafka-ca.pem")
