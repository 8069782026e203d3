"""The Kafka the fault suite runs on: the shared stack's broker, or a private one it may kill."""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack import kafka as stack_kafka
from devstack.settings import StackSettings
from faults.process import free_port, wait_for
from schemas.topics import dead_letter_topic, inbox_topic, receipts_topic
from transport.kafka import TopicSettings


@dataclass
class KafkaTarget:
    """How the suite reaches a Kafka cluster: bootstrap, its super-user, the relay's password."""

    bootstrap: str
    admin: dict[str, Any]
    admin_properties: str
    relay_password: str
    libs: Path
    topics: TopicSettings = field(default_factory=TopicSettings)


def shared_kafka() -> KafkaTarget:
    """The shared stack's broker (never killed by this suite)."""
    settings = StackSettings()
    return KafkaTarget(
        bootstrap=f"{settings.host}:{settings.kafka_port}",
        admin=stack_kafka.admin_config(settings),
        admin_properties=stack_kafka.admin_properties(settings),
        relay_password=stack_kafka.relay_password(settings),
        libs=settings.kafka_libs,
    )


class PrivateKafka:
    """A single KRaft broker of the suite's own (the stack's recipe on other ports and a private state dir)."""

    def __init__(self, root: Path) -> None:
        self.settings = StackSettings(
            state_dir=root,
            kafka_port=free_port(),
            kafka_controller_port=free_port(),
            kafka_heap="384m",
        )

    def start(self) -> None:
        stack_kafka.start(self.settings)

    @property
    def pid_file(self) -> Path:
        return self.settings.kafka_state / "broker.pid"

    def kill9(self) -> None:
        pid = int(self.pid_file.read_text())
        os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)  # started by this process: reap it, or it lingers as a zombie
        wait_for(lambda: not Path(f"/proc/{pid}").exists(), what="Kafka to die", timeout=10)

    def stop(self) -> None:
        stack_kafka.stop(self.settings)

    def target(self) -> KafkaTarget:
        s = self.settings
        return KafkaTarget(
            bootstrap=f"{s.host}:{s.kafka_port}",
            admin=stack_kafka.admin_config(s),
            admin_properties=stack_kafka.admin_properties(s),
            relay_password=stack_kafka.relay_password(s),
            libs=s.kafka_libs,
        )


def topic_names(agencies: list[str], namespace: str) -> list[str]:
    """What the operator creates: the receipts topic, and each agency's inbox and dead-letter topic."""
    return [
        receipts_topic(namespace=namespace),
        *(inbox_topic(a, namespace=namespace) for a in agencies),
        *(dead_letter_topic(a, namespace=namespace) for a in agencies),
    ]
