"""No Docker engine runs here, so docker-compose.yml is kept consistent with the local stack by tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from devstack.settings import KAFKA_VERSION, OPA_VERSION

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_versions_match_the_local_stack(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["kafka"]["image"] == f"apache/kafka:{KAFKA_VERSION}"
    assert services["opa"]["image"].split(":")[1].removesuffix("-debug") == OPA_VERSION.removeprefix("v")


def test_dependencies_wait_for_health(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            assert rule == {"condition": "service_healthy"}
            assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck"


def test_published_ports_are_loopback_only(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_no_secret_is_written_in_the_file() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert "PASSWORD: ${" in text
    for line in text.splitlines():
        if "PASSWORD:" in line:
            assert "${" in line, f"literal secret in compose: {line.strip()}"


def test_kafka_start_script_formats_with_the_admin_user() -> None:
    script = (ROOT / "deploy" / "kafka" / "start.sh").read_text()
    assert "--add-scram" in script
    assert "allow.everyone.if.no.acl.found=false" in script


def test_clients_reach_kafka_over_sasl_ssl(compose: dict[str, Any]) -> None:
    script = (ROOT / "deploy" / "kafka" / "start.sh").read_text()
    assert "CLIENT:SASL_SSL" in script
    for name in ("gateway", "consumer-csc"):
        env = compose["services"][name]["environment"]
        protocol = env.get("SGB_KAFKA_SECURITY_PROTOCOL") or env.get("CONSUMER_KAFKA_SECURITY_PROTOCOL")
        assert protocol == "SASL_SSL", name
        assert "kafka-ca.pem" in compose["services"][name]["secrets"]
    assert set(compose["secrets"]) >= {"kafka-server.pem", "kafka-ca.pem", "tls.crt", "tls.key"}
