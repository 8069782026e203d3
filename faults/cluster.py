"""A three-broker Kafka 4.3.1 KRaft cluster on loopback, started and stopped by the fault suite.

The stack's recipe, from devstack/kafka.py (jars from the cache, `kafka.tools.StorageTool format`,
SASL/SCRAM for clients, SASL/PLAIN for the controllers, StandardAuthorizer denying what no ACL
allows) on three combined broker+controller nodes, with replication 3 and min.insync.replicas 2.
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
from devstack import kafka as stack_kafka
from devstack.kafka import ADMIN_USER
from devstack.settings import StackSettings
from faults.kafka import KafkaTarget
from faults.process import HOST, Child, clean_env, free_port, wait_for
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

    @property
    def log_config(self) -> Path:
        return self.root / "log4j2.properties"

    def _properties(self, node: int) -> str:
        return stack_kafka.server_properties(
            node_id=node,
            host=HOST,
            port=self.ports[node - 1],
            controller_ports=self.controller_ports,
            data_dir=self.root / f"node-{node}" / "data",
            creds={"controller_password": self.controller_password, "admin_password": self.admin_password},
            min_insync=2,
        )

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.log_config.write_text(stack_kafka.LOG4J2)
        cluster_id = stack_kafka.new_cluster_id()
        for node in range(1, self.size + 1):
            props = self.root / f"node-{node}.properties"
            stack_kafka.write_private(props, self._properties(node))
            subprocess.run(
                stack_kafka.format_command(
                    self.libs, self.log_config, props, cluster_id=cluster_id, admin_password=self.admin_password
                ),
                check=True,
                capture_output=True,
            )
            logs = self.root / f"node-{node}" / "logs"
            command = stack_kafka.broker_command(self.libs, self.log_config, props, heap=self.heap, logs_dir=logs)
            self.nodes.append(Child(f"kafka-{node}", command, clean_env(), self.root / f"node-{node}.log"))
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
