"""Where the local stack keeps its downloads, state and ports, and which versions it pins."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Kafka 4.3.1 is the newest 4.x whose kafka-tools artifact (AclCommand, needed to manage ACLs
# without a Python ACL API) is served alongside kafka_2.13; log4j must match the core's log4j-core.
KAFKA_VERSION = "4.3.1"
LOG4J_VERSION = "2.25.4"
OPA_VERSION = "v1.22.2"
# Go's collector at its default (GOGC=100) took a quarter to a third of the OPA server's CPU per decision
# (GC runs beside the evaluation, so `opa bench`'s time per decision does not show it). At 400 a
# 3-recipient decision cost 5.1-6.5 ms of CPU instead of 7.8-8.5 ms, for about 105 MiB resident instead of
# about 65 MiB. The local stack, the benchmark's OPA and docker-compose.yml all run OPA with it.
OPA_GOGC = "400"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies"


class StackSettings(BaseSettings):
    """Local stack layout; every field can be overridden with an `SGB_STACK_` variable."""

    model_config = SettingsConfigDict(env_prefix="SGB_STACK_", extra="ignore")

    # Downloads and builds live outside any clone so fresh clones and CI reuse them.
    cache_dir: Path = Field(default_factory=lambda: Path.home() / ".cache" / "sgbroker")
    # Running state is shared by every clone on the machine: one stack, many checkouts.
    state_dir: Path = Field(default_factory=lambda: Path.home() / ".local" / "state" / "sgbroker")
    kafka_port: int = 19092
    kafka_controller_port: int = 19093
    kafka_heap: str = "512m"
    opa_port: int = 18181
    pg_port: int = 15432
    pg_cluster: str = "sgbroker"
    host: str = "127.0.0.1"

    @property
    def kafka_libs(self) -> Path:
        return self.cache_dir / f"kafka-{KAFKA_VERSION}" / "libs"

    @property
    def kafka_state(self) -> Path:
        return self.state_dir / "kafka"

    @property
    def opa_binary(self) -> Path:
        return self.cache_dir / "opa" / OPA_VERSION / "opa"

    @property
    def opa_state(self) -> Path:
        return self.state_dir / "opa"

    @property
    def env_file(self) -> Path:
        return self.state_dir / "stack.env"
