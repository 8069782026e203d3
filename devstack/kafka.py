"""A real single-node Apache Kafka broker (KRaft) assembled from Maven Central jars.

Clients authenticate with SASL/SCRAM-SHA-512 and the StandardAuthorizer denies whatever no ACL
allows, so the local stack enforces the same access rules as production. The controller listener
uses SASL/PLAIN with its own secret, so no unauthenticated principal needs super-user rights.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from broker.partnership import kafka_access
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
from devstack.settings import DEPENDENCY_PLUGIN, KAFKA_VERSION, LOG4J_VERSION, StackSettings

MARKER = "kafka.Kafka"
ADMIN_USER = "sgb-admin"

POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.sgbroker</groupId><artifactId>kafka-broker-libs</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId>
      <version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId>
      <version>{log4j}</version></dependency>
  </dependencies>
</project>
"""

LOG4J2 = """status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.oak.name = org.apache.kafka
logger.oak.level = WARN
"""


def assemble(settings: StackSettings) -> None:
    """Resolve the broker's jars once into the cache, with Maven's repository inside it too."""
    libs = settings.kafka_libs
    if (libs / f"kafka_2.13-{KAFKA_VERSION}.jar").exists():
        return
    if shutil.which("mvn") is None:
        raise StackError("Maven (mvn) is needed to fetch Kafka's jars: apt-get install maven")
    build = libs.parent
    build.mkdir(parents=True, exist_ok=True)
    (build / "pom.xml").write_text(POM.format(kafka=KAFKA_VERSION, log4j=LOG4J_VERSION))
    partial = build / "libs.partial"
    shutil.rmtree(partial, ignore_errors=True)
    run_with_progress(
        [
            "mvn",
            "-B",
            "-f",
            str(build / "pom.xml"),
            f"-Dmaven.repo.local={settings.cache_dir / 'm2'}",
            DEPENDENCY_PLUGIN,
            f"-DoutputDirectory={partial}",
            "-DincludeScope=runtime",
        ],
        title=f"fetching Apache Kafka {KAFKA_VERSION} jars from Maven Central",
    )
    # Rename last so an interrupted download is never mistaken for a complete one.
    partial.rename(libs)


SECRET_NAMES = ("admin_password", "controller_password", "relay_password")


def _secrets(settings: StackSettings) -> dict[str, str]:
    """The stack's generated Kafka secrets (mode 0600), adding any a newer version needs."""
    path = settings.kafka_state / "secrets.json"
    values: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    if all(name in values for name in SECRET_NAMES):
        return values
    values = {name: values.get(name) or secrets.token_urlsafe(24) for name in SECRET_NAMES}
    settings.kafka_state.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(values, handle)
    partial.replace(path)
    return values


def server_properties(
    *,
    node_id: int,
    host: str,
    port: int,
    controller_ports: Sequence[int],
    data_dir: Path,
    creds: Mapping[str, str],
    min_insync: int = 1,
) -> str:
    """One combined broker+controller node of a KRaft cluster whose controllers listen on
    `controller_ports` (node i+1 on the i-th); every topic is replicated to every node.

    The stack runs one node; the fault suite (faults/cluster.py) runs three with min.insync 2.
    """
    size = len(controller_ports)
    voters = ",".join(f"{i + 1}@{host}:{p}" for i, p in enumerate(controller_ports))
    ctl, admin = creds["controller_password"], creds["admin_password"]
    lines = [
        "process.roles=broker,controller",
        f"node.id={node_id}",
        f"controller.quorum.voters={voters}",
        f"listeners=CLIENT://{host}:{port},CONTROLLER://{host}:{controller_ports[node_id - 1]}",
        f"advertised.listeners=CLIENT://{host}:{port}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=CLIENT",
        "listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT",
        "sasl.mechanism.controller.protocol=PLAIN",
        "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512",
        "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
        "listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule"
        f' required username="controller" password="{ctl}" user_controller="{ctl}";',
        "listener.name.client.sasl.enabled.mechanisms=SCRAM-SHA-512",
        "listener.name.client.scram-sha-512.sasl.jaas.config="
        "org.apache.kafka.common.security.scram.ScramLoginModule required"
        f' username="{ADMIN_USER}" password="{admin}";',
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        f"super.users=User:{ADMIN_USER};User:controller",
        "allow.everyone.if.no.acl.found=false",
        f"log.dirs={data_dir}",
        "num.partitions=3",
        "auto.create.topics.enable=false",
        f"default.replication.factor={size}",
        f"min.insync.replicas={min_insync}",
        f"offsets.topic.replication.factor={size}",
        f"transaction.state.log.replication.factor={size}",
        f"transaction.state.log.min.isr={min_insync}",
        f"share.coordinator.state.topic.replication.factor={size}",
        f"share.coordinator.state.topic.min.isr={min_insync}",
        "group.initial.rebalance.delay.ms=0",
        "unclean.leader.election.enable=false",
    ]
    return "\n".join(lines) + "\n"


def java(libs: Path, log_config: Path, *args: str) -> list[str]:
    return ["java", f"-Dlog4j2.configurationFile={log_config}", "-cp", f"{libs}/*", *args]


def format_command(libs: Path, log_config: Path, props: Path, *, cluster_id: str, admin_password: str) -> list[str]:
    """`kafka-storage format` for one node, with the super-user's SCRAM credential."""
    scram = f"SCRAM-SHA-512=[name={ADMIN_USER},password={admin_password}]"
    return java(
        libs, log_config, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(props), "--add-scram", scram
    )


def broker_command(libs: Path, log_config: Path, props: Path, *, heap: str, logs_dir: Path) -> list[str]:
    return java(
        libs,
        log_config,
        f"-Xms{heap}",
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dkafka.logs.dir={logs_dir}",
        MARKER,
        str(props),
    )


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner may read (it holds passwords)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def configure(settings: StackSettings) -> Path:
    """Write the broker's files and format its storage once per Kafka version."""
    state = settings.kafka_state
    state.mkdir(parents=True, exist_ok=True)
    creds = _secrets(settings)
    props = state / "server.properties"
    write_private(
        props,
        server_properties(
            node_id=1,
            host=settings.host,
            port=settings.kafka_port,
            controller_ports=[settings.kafka_controller_port],
            data_dir=state / "data",
            creds=creds,
        ),
    )
    (state / "log4j2.properties").write_text(LOG4J2)
    marker = state / "formatted-version"
    if marker.exists() and marker.read_text() == KAFKA_VERSION and (state / "data").exists():
        return props
    shutil.rmtree(state / "data", ignore_errors=True)
    (state / "relay-provisioned").unlink(missing_ok=True)
    run_with_progress(
        format_command(
            settings.kafka_libs,
            state / "log4j2.properties",
            props,
            cluster_id=new_cluster_id(),
            admin_password=creds["admin_password"],
        ),
        title="formatting Kafka KRaft storage",
    )
    marker.write_text(KAFKA_VERSION)
    return props


def admin_config(settings: StackSettings) -> dict[str, str]:
    """aiokafka keyword arguments for the stack's own super-user (set-up and tests only)."""
    return {
        "bootstrap_servers": f"{settings.host}:{settings.kafka_port}",
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": ADMIN_USER,
        "sasl_plain_password": _secrets(settings)["admin_password"],
    }


async def describe(settings: StackSettings) -> str:
    """The live cluster's id (proof the broker answering is the one this stack formatted)."""
    admin = AIOKafkaAdminClient(request_timeout_ms=3000, **admin_config(settings))
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        return str(cluster.get("cluster_id"))
    finally:
        await admin.close()


def healthy(settings: StackSettings) -> bool:
    """Authenticated round trip: the broker is up, SASL works and metadata answers."""
    if not port_open(settings.host, settings.kafka_port):
        return False
    try:
        asyncio.run(describe(settings))
    except Exception:  # any failure just means "not yet"; the caller times out with the log
        return False
    return True


def start(settings: StackSettings) -> None:
    assemble(settings)
    state = settings.kafka_state
    pid_file = state / "broker.pid"
    if running_pid(pid_file, MARKER) is not None and healthy(settings):
        console.print("[green]✓[/green] Kafka already running")
        provision_relay(settings)
        return
    if port_open(settings.host, settings.kafka_port):
        raise StackError(f"port {settings.kafka_port} is taken by a process this stack did not start")
    props = configure(settings)
    log_config = state / "log4j2.properties"
    args = broker_command(settings.kafka_libs, log_config, props, heap=settings.kafka_heap, logs_dir=state / "logs")
    start_daemon(args, log_file=state / "broker.log", pid_file=pid_file)
    wait_until(lambda: healthy(settings), what="Kafka broker", timeout=90, log_file=state / "broker.log")
    provision_relay(settings)
    console.print(f"[green]✓[/green] Kafka {KAFKA_VERSION} (KRaft) on {settings.host}:{settings.kafka_port}")


def admin_properties(settings: StackSettings) -> str:
    return kafka_access.admin_properties(
        bootstrap=f"{settings.host}:{settings.kafka_port}",
        user=ADMIN_USER,
        password=_secrets(settings)["admin_password"],
    )


def provision_relay(settings: StackSettings) -> None:
    """Give the gateway's relay its own least-privilege principal, once per formatted cluster."""
    marker = settings.kafka_state / "relay-provisioned"
    if marker.exists() and marker.read_text() == KAFKA_VERSION:
        return
    try:
        kafka_access.apply(
            kafka_libs=settings.kafka_libs,
            admin_properties=admin_properties(settings),
            users={kafka_access.RELAY_PRINCIPAL: _secrets(settings)["relay_password"]},
            grants=kafka_access.relay_grants(),
        )
    except kafka_access.KafkaAccessError as exc:
        raise StackError(str(exc)) from exc
    marker.write_text(KAFKA_VERSION)
    console.print("[green]✓[/green] Kafka principal for the relay with its ACLs")


def relay_password(settings: StackSettings) -> str:
    return _secrets(settings)["relay_password"]


def stop(settings: StackSettings) -> None:
    stop_pid(settings.kafka_state / "broker.pid", MARKER, name="Kafka")


def status(settings: StackSettings) -> str:
    if running_pid(settings.kafka_state / "broker.pid", MARKER) is None:
        return "stopped"
    return "healthy" if healthy(settings) else "starting or unhealthy"


def new_cluster_id() -> str:
    """A random KRaft cluster id (22 base64url characters) that never starts with "-".

    `kafka-storage format -t <id>` would read a leading "-" as an option (one random id in 64);
    Kafka's own `Uuid.randomUuid()` redraws such ids for the same reason.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id
