"""A three-broker Kafka 4.3.1 KRaft cluster on loopback, started and stopped by the fault suite.

The stack's recipe (jars from the cache, `kafka.tools.StorageTool format`, SASL/SCRAM for clients,
SASL/PLAIN for the controllers, StandardAuthorizer denying what no ACL allows) on three combined
broker+controller nodes, with replication 3 and min.insync.replicas 2 for every topic.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from broker.partnership import kafka_access
from devstack.kafka import ADMIN_USER, LOG4J2, MARKER, new_cluster_id
from devstack.settings import StackSettings
from faults.harness import HOST, Child, KafkaTarget, clean_env, free_port, wait_for
from transport.kafka import TopicSettings


class KafkaCluster:
    def __init__(self, root: Path, size: int = 3, heap: str = "384m") -> None:
        self.root = root
        self.size = size
        self.heap = heap
        self.libs = StackSettings().kafka_libs
        self.ports = [free_port() for _ in range(size)]
        self.controller_ports = [free_port() for _ in range(size)]
        self.admin_password = secrets.token_urlsafe(18)
        self.controller_password = secrets.token_urlsafe(18)
        self.relay_password = secrets.token_urlsafe(18)
        self.nodes: list[Child] = []

    @property
    def bootstrap(self) -> str:
        return ",".join(f"{HOST}:{p}" for p in self.ports)

    def _java(self, *args: str) -> list[str]:
        return ["java", f"-Dlog4j2.configurationFile={self.root / 'log4j2.properties'}", "-cp", f"{self.libs}/*", *args]

    def _properties(self, node: int) -> str:
        port, cport = self.ports[node - 1], self.controller_ports[node - 1]
        voters = ",".join(f"{i + 1}@{HOST}:{p}" for i, p in enumerate(self.controller_ports))
        ctl, admin = self.controller_password, self.admin_password
        lines = [
            "process.roles=broker,controller",
            f"node.id={node}",
            f"controller.quorum.voters={voters}",
            f"listeners=CLIENT://{HOST}:{port},CONTROLLER://{HOST}:{cport}",
            f"advertised.listeners=CLIENT://{HOST}:{port}",
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
            f'org.apache.kafka.common.security.scram.ScramLoginModule required username="{ADMIN_USER}"'
            f' password="{admin}";',
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            f"super.users=User:{ADMIN_USER};User:controller",
            "allow.everyone.if.no.acl.found=false",
            f"log.dirs={self.root / f'node-{node}' / 'data'}",
            "num.partitions=3",
            "auto.create.topics.enable=false",
            f"default.replication.factor={self.size}",
            "min.insync.replicas=2",
            f"offsets.topic.replication.factor={self.size}",
            f"transaction.state.log.replication.factor={self.size}",
            "transaction.state.log.min.isr=2",
            f"share.coordinator.state.topic.replication.factor={self.size}",
            "share.coordinator.state.topic.min.isr=2",
            "group.initial.rebalance.delay.ms=0",
            "unclean.leader.election.enable=false",
        ]
        return "\n".join(lines) + "\n"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "log4j2.properties").write_text(LOG4J2)
        cluster_id = new_cluster_id()
        scram = f"SCRAM-SHA-512=[name={ADMIN_USER},password={self.admin_password}]"
        for node in range(1, self.size + 1):
            props = self.root / f"node-{node}.properties"
            fd = os.open(props, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(self._properties(node))
            subprocess.run(
                self._java(
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    cluster_id,
                    "-c",
                    str(props),
                    "--add-scram",
                    scram,
                ),
                check=True,
                capture_output=True,
            )
            self.nodes.append(
                Child(
                    f"kafka-{node}",
                    self._java(
                        f"-Xms{self.heap}",
                        f"-Xmx{self.heap}",
                        "-XX:+UseG1GC",
                        "-Djava.awt.headless=true",
                        f"-Dkafka.logs.dir={self.root / f'node-{node}' / 'logs'}",
                        MARKER,
                        str(props),
                    ),
                    clean_env(),
                    self.root / f"node-{node}.log",
                )
            )
        for child in self.nodes:
            child.start()
        wait_for(lambda: self.brokers() == self.size, what="three Kafka brokers", timeout=120, log=self.nodes[0].log)
        kafka_access.apply(
            kafka_libs=self.libs,
            admin_properties=self.admin_properties(),
            users={kafka_access.RELAY_PRINCIPAL: self.relay_password},
            grants=kafka_access.relay_grants(),
        )

    def admin(self) -> dict[str, str]:
        return {
            "bootstrap_servers": self.bootstrap,
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": ADMIN_USER,
            "sasl_plain_password": self.admin_password,
        }

    def admin_properties(self) -> str:
        return kafka_access.admin_properties(bootstrap=self.bootstrap, user=ADMIN_USER, password=self.admin_password)

    def brokers(self) -> int:
        async def count() -> int:
            admin = AIOKafkaAdminClient(request_timeout_ms=3000, **self.admin())
            await admin.start()
            try:
                return len((await admin.describe_cluster())["brokers"])
            finally:
                await admin.close()

        return asyncio.run(count())

    def target(self) -> KafkaTarget:
        return KafkaTarget(
            bootstrap=self.bootstrap,
            admin=self.admin(),
            admin_properties=self.admin_properties(),
            relay_password=self.relay_password,
            libs=self.libs,
            topics=TopicSettings(replication_factor=self.size, min_insync_replicas=2),
        )

    def kill9(self, node: int) -> None:
        child = self.nodes[node - 1]
        assert child.proc is not None
        os.kill(child.proc.pid, signal.SIGKILL)
        child.proc.wait(timeout=10)

    def restart(self, node: int) -> None:
        self.nodes[node - 1].start()
        wait_for(
            lambda: self.brokers() == self.size, what="the restarted broker", timeout=120, log=self.nodes[node - 1].log
        )

    def stop(self) -> None:
        for child in reversed(self.nodes):
            child.stop(grace=20)
