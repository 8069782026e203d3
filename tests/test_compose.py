"""docker-compose.yml stays consistent with itself, the local stack and its test override.

`make compose-test` (devstack/compose.py) runs the file for real with podman; these checks are the
quick part that runs in `make test`: everything the file uses is declared, every secret it needs is
in .env.example, and the override the real run uses keeps off the local stack's ports.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from broker.partnership import kafka_access
from broker.settings import BrokerSettings
from consumers.settings import PLACEHOLDER_SECRETS
from demo.cases import AGENCIES, PARTNERSHIP_ID
from devstack.postgres import APP_ROLE
from devstack.settings import KAFKA_VERSION, OPA_GOGC, OPA_VERSION, StackSettings

ROOT = Path(__file__).resolve().parents[1]
OVERRIDE = ROOT / "deploy" / "compose-test" / "compose.test.yml"
ONE_SHOT = "service_completed_successfully"


class _Loader(yaml.SafeLoader):
    """Reads compose's `!reset` and `!override` tags (the override uses both) as their values."""


def _tagged(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None


_Loader.add_constructor("!reset", _tagged)
_Loader.add_constructor("!override", _tagged)


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(path.read_text(), Loader=_Loader)  # noqa: S506 - SafeLoader subclass
    return loaded


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return _load(ROOT / "docker-compose.yml")


@pytest.fixture(scope="module")
def override() -> dict[str, Any]:
    return _load(OVERRIDE)


def test_versions_match_the_local_stack(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["kafka"]["image"] == f"apache/kafka:{KAFKA_VERSION}"
    assert services["kafka-access"]["image"] == services["kafka"]["image"]
    assert services["opa"]["image"].split(":")[1].removesuffix("-debug") == OPA_VERSION.removeprefix("v")
    assert services["opa"]["environment"]["GOGC"] == OPA_GOGC  # the collector setting the benchmark measured


def test_dependencies_wait_for_health_or_completion(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            if rule == {"condition": ONE_SHOT}:
                # A one-shot job must not be restarted after it has done its work.
                assert services[dependency].get("restart") == "no", dependency
            else:
                assert rule == {"condition": "service_healthy"}
                assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck"


def test_init_jobs_run_before_the_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["kafka-access"]["depends_on"]["provision"] == {"condition": ONE_SHOT}
    for name in ("gateway", "consumer-csc", "consumer-police"):
        assert services[name]["depends_on"]["kafka-access"] == {"condition": ONE_SHOT}, name
    for name in ("gateway", "worker"):
        assert services[name]["depends_on"]["migrate"] == {"condition": ONE_SHOT}, name
    assert services["migrate"]["depends_on"]["postgres"] == {"condition": "service_healthy"}


def _database_user(url: str) -> str:
    # user:VARIABLE of a compose URL like postgresql+psycopg://sgb_app:${POSTGRES_APP_PASSWORD:?...}@host:port/sgb
    match = re.fullmatch(r"postgresql\+psycopg://(\w+):\$\{(\w+)(?::\?[^}]*)?\}@[\w.]+:\d+/sgb", url)
    assert match, url
    return f"{match[1]}:{match[2]}"


def test_services_connect_as_the_application_role_and_only_migrate_as_the_owner(
    compose: dict[str, Any], override: dict[str, Any]
) -> None:
    for file in (compose, override):
        services = file["services"]
        for name in ("gateway", "worker"):
            env = services[name]["environment"]
            assert _database_user(env["SGB_DATABASE_URL"]) == f"{APP_ROLE}:POSTGRES_APP_PASSWORD", name
            assert "SGB_MIGRATION_DATABASE_URL" not in env, f"{name} must not hold the owner's password"
        migrate = services["migrate"]["environment"]
        # The application role's URL too: migrate grants that URL's user its privileges.
        assert _database_user(migrate["SGB_DATABASE_URL"]) == f"{APP_ROLE}:POSTGRES_APP_PASSWORD"
        assert _database_user(migrate["SGB_MIGRATION_DATABASE_URL"]) == "sgb:POSTGRES_PASSWORD"
    for name, service in compose["services"].items():
        if name not in ("migrate", "postgres"):
            assert not re.search(r"\$\{POSTGRES_PASSWORD\b", json.dumps(service)), f"{name} holds the owner's password"
    migrate = compose["services"]["migrate"]
    assert migrate["command"] == ["python", "-m", "broker.db", "migrate"]
    assert migrate["restart"] == "no"


def test_postgres_creates_the_application_role_on_first_start(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert "./deploy/postgres:/docker-entrypoint-initdb.d:ro" in postgres["volumes"]
    assert postgres["environment"]["POSTGRES_USER"] == "sgb"
    assert "${POSTGRES_APP_PASSWORD:?" in postgres["environment"]["POSTGRES_APP_PASSWORD"]
    scripts = sorted((ROOT / "deploy" / "postgres").glob("*.sh"))
    assert scripts and all(script.stat().st_mode & 0o111 for script in scripts), "executed, not sourced"
    text = " ".join(script.read_text() for script in scripts)
    assert f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD :'app_password'" in text
    assert "NOSUPERUSER NOCREATEDB NOCREATEROLE" in text
    assert all(placeholder in text for placeholder in PLACEHOLDER_SECRETS if placeholder), "placeholders refused"
    # The compose-test stand-in for postgres:15 runs the same scripts.
    assert "/docker-entrypoint-initdb.d/" in (ROOT / "deploy" / "compose-test" / "postgres-entrypoint.sh").read_text()


def test_consumers_witness_through_the_gateway(compose: dict[str, Any], override: dict[str, Any]) -> None:
    for name in ("consumer-csc", "consumer-police"):
        service = compose["services"][name]
        env = service["environment"]
        assert env["CONSUMER_GATEWAY_URL"] == "https://gateway:8443", name
        assert env["CONSUMER_GATEWAY_CA_FILE"] == "/run/secrets/gateway-ca.pem", name
        assert "gateway-ca.pem" in service["secrets"], name
        # Deliveries must not wait for the gateway: the witness asks again with the next record.
        assert "gateway" not in service["depends_on"], name
        assert override["services"][name]["environment"]["CONSUMER_GATEWAY_URL"] == "https://127.0.0.1:28443"
    for file in (compose, override):
        # devstack/compose_checks.py waits for a checkpoint of size > 0 by the product's default interval.
        assert "SGB_CHECKPOINT_SECONDS" not in json.dumps(file["services"]["gateway"])


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


def test_every_secret_used_is_declared_and_mounted(compose: dict[str, Any]) -> None:
    declared = set(compose["secrets"])
    for name, service in compose["services"].items():
        mounted = set(service.get("secrets", []))
        assert mounted <= declared, name
        text = json.dumps(service)
        used = set(re.findall(r"/run/secrets/([\w.-]+)", text))
        assert used <= mounted, f"{name} uses undeclared secrets {used - mounted}"


def test_every_volume_is_declared_and_consumers_write_to_theirs(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        for spec in service.get("volumes", []):
            source = spec.split(":")[0]
            assert source.startswith("./") or source in declared, f"{name} uses undeclared volume {source}"
    for name in ("consumer-csc", "consumer-police"):
        service = compose["services"][name]
        mounts = {spec.split(":")[1]: spec for spec in service["volumes"]}
        assert "/var/lib/consumer" in mounts and not mounts["/var/lib/consumer"].endswith(":ro"), name
        env = service["environment"]
        for key in ("CONSUMER_SINK", "CONSUMER_LEDGER_PATH", "CONSUMER_KEY_DIR", "CONSUMER_BROKER_PUBLIC_KEYS"):
            assert "/var/lib/consumer/" in env[key], (name, key)
    provision = compose["services"]["provision"]
    for name in ("consumer-csc", "consumer-police"):
        volume = compose["services"][name]["volumes"][0].split(":")[0]
        assert any(spec.startswith(f"{volume}:") for spec in provision["volumes"]), f"provision never fills {volume}"


def test_the_gateway_never_mounts_agency_keys(compose: dict[str, Any]) -> None:
    for name in ("gateway", "worker", "consumer-csc", "consumer-police"):
        assert not any(spec.startswith("partnership:") for spec in compose["services"][name].get("volumes", [])), name


def test_env_example_names_every_required_variable() -> None:
    required = set(re.findall(r"\$\{(\w+):\?", (ROOT / "docker-compose.yml").read_text()))
    example = {
        line.split("=", 1)[0]: line.split("=", 1)[1]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert required <= set(example), f"missing from .env.example: {required - set(example)}"
    for name, value in example.items():
        if "PASSWORD" in name or "TOKEN" in name:
            # Copying the example unchanged must fail loudly, not run with a known password.
            assert value in PLACEHOLDER_SECRETS, name


def test_the_gateway_refuses_placeholder_secrets_in_production(caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(ValidationError, match="SGB_KAFKA_PASSWORD"):
        BrokerSettings(environment="production", kafka_security_protocol="SASL_SSL", kafka_password="changeme")
    with pytest.raises(ValidationError, match="SGB_DATABASE_URL"):
        BrokerSettings(
            environment="production",
            kafka_security_protocol="SASL_SSL",
            kafka_password="a-real-one-7Qx",
            database_url="postgresql+psycopg://sgb:changeme@postgres:5432/sgb",
        )
    settings = BrokerSettings(
        environment="production",
        kafka_security_protocol="SASL_SSL",
        kafka_password="a-real-one-7Qx",
        database_url="postgresql+psycopg://sgb:n0t-a-placeholder@postgres:5432/sgb",
    )
    assert settings.environment == "production"
    with caplog.at_level(logging.WARNING, logger="broker.settings"):
        BrokerSettings(environment="development", kafka_password="")
    assert [r.getMessage() for r in caplog.records] == [
        "SGB_KAFKA_PASSWORD is empty or a placeholder: allowed while SGB_ENVIRONMENT is development, "
        "refused in production"
    ]


def test_the_gateway_refuses_a_placeholder_opa_token_in_production() -> None:
    production: dict[str, Any] = {
        "environment": "production",
        "kafka_security_protocol": "SASL_SSL",
        "kafka_password": "a-real-one-7Qx",
    }
    for placeholder in ("", "changeme"):
        with pytest.raises(ValidationError, match="SGB_OPA_TOKEN"):
            BrokerSettings(**production, opa_token=placeholder)
    assert BrokerSettings(**production, opa_token="a-real-token-of-some-length").opa_token is not None


def test_only_the_broker_reaches_opa_and_postgresql(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert "ports" not in services["opa"], "OPA's API is on no host port"
    assert services["opa"]["environment"]["OPA_GATEWAY_TOKEN"] == "${SGB_OPA_TOKEN:?set SGB_OPA_TOKEN}"
    assert "/deploy/opa/authz.rego" in services["opa"]["command"]
    on_backend = {name for name, service in services.items() if "backend" in service["networks"]}
    assert on_backend == {"opa", "postgres", "gateway", "worker", "migrate"}
    holders = {name for name, service in services.items() if "SGB_OPA_TOKEN" in (service.get("environment") or {})}
    assert holders == {"gateway"}
    assert services["gateway"]["environment"]["SGB_OPA_TOKEN"] == "${SGB_OPA_TOKEN:?set SGB_OPA_TOKEN}"


def test_compose_runs_the_gateway_in_production(compose: dict[str, Any]) -> None:
    for name in ("gateway", "worker", "provision", "migrate"):
        assert compose["services"][name]["environment"]["SGB_ENVIRONMENT"] == "production", name
    for name in ("consumer-csc", "consumer-police"):
        assert compose["services"][name]["environment"]["CONSUMER_ENVIRONMENT"] == "production", name


def test_provisioned_agencies_are_the_demo_partnership() -> None:
    spec = json.loads((ROOT / "deploy" / "init" / "agencies.json").read_text())
    assert spec["partnership_id"] == PARTNERSHIP_ID
    assert [(a["agency_id"], a["agency_type"], a["name"]) for a in spec["agencies"]] == [
        (a.agency_id, a.agency_type, a.name) for a in AGENCIES
    ]


def test_kafka_access_creates_a_principal_for_every_client(compose: dict[str, Any]) -> None:
    services = compose["services"]
    access = services["kafka-access"]["environment"]
    users = dict(entry.split(":") for entry in access["KAFKA_USERS"].split())
    assert users.pop(kafka_access.RELAY_PRINCIPAL) == "KAFKA_RELAY_PASSWORD"
    for name in ("consumer-csc", "consumer-police"):
        agency = services[name]["command"][-1]
        password = services[name]["environment"]["CONSUMER_KAFKA_PASSWORD"]
        assert f"${{{users.pop(agency)}:?" in password, name
        assert f"{agency}=" in " ".join(services["provision"]["command"]), f"provision grants nothing to {agency}"
    assert not users


def test_grant_lines_are_what_access_sh_reads() -> None:
    script = (ROOT / "deploy" / "kafka" / "access.sh").read_text()
    assert "while read -r kind principal type pattern name operation" in script
    for grant in kafka_access.agency_grants("csc-fenmere-mash") + kafka_access.relay_grants():
        kind, principal, resource, pattern, _name, _operation = grant.line().split(" ")
        assert (kind, principal.startswith("User:")) == ("acl", True)
        assert resource in {"topic", "group"} and pattern in {"literal", "prefixed"}


def test_kafka_start_script_formats_with_the_admin_user() -> None:
    script = (ROOT / "deploy" / "kafka" / "start.sh").read_text()
    assert "--add-scram" in script
    assert "allow.everyone.if.no.acl.found=false" in script
    assert "auto.create.topics.enable=false" in script


def test_clients_reach_kafka_over_sasl_ssl(compose: dict[str, Any]) -> None:
    script = (ROOT / "deploy" / "kafka" / "start.sh").read_text()
    assert "CLIENT:SASL_SSL" in script
    for name in ("gateway", "worker", "provision", "consumer-csc", "consumer-police"):
        env = compose["services"][name]["environment"]
        protocol = env.get("SGB_KAFKA_SECURITY_PROTOCOL") or env.get("CONSUMER_KAFKA_SECURITY_PROTOCOL")
        assert protocol == "SASL_SSL", name
        assert "kafka-ca.pem" in compose["services"][name]["secrets"]
    assert set(compose["secrets"]) >= {"kafka-server.pem", "kafka-ca.pem", "tls.crt", "tls.key", "gateway-ca.pem"}


def test_the_test_override_stays_on_loopback_and_off_the_local_stack(
    compose: dict[str, Any], override: dict[str, Any]
) -> None:
    assert set(override["services"]) == set(compose["services"])
    stack = StackSettings()
    taken = {str(port) for port in (stack.kafka_port, stack.kafka_controller_port, stack.opa_port, stack.pg_port)}
    text = OVERRIDE.read_text()
    for name, service in override["services"].items():
        assert service["network_mode"] == "host", name
        assert service["networks"] == [], f"{name}: compose networks cannot go with the host's"
        assert service["image"].startswith("localhost/sgb-compose-test/"), name
        if compose["services"][name].get("ports"):
            assert service["ports"] == [], f"{name} would publish ports on the host network"
    ports = set(re.findall(r"(?<![\d.])(2\d{4})(?!\d)", text))
    assert ports == {"29092", "29093", "28181", "25432", "28443", "29464", "29465", "29466"}
    assert not ports & taken
    for line in text.splitlines():
        for host in re.findall(r"(?:addr=|host\", \"|HOST: |@|//)([\d.]+)", line):
            assert host == "127.0.0.1", line


def _run_refused(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SGB_", "KAFKA_"))}
    return subprocess.run(command, env={**clean, **env}, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("placeholder", ["KAFKA_ADMIN_PASSWORD", "KAFKA_CONTROLLER_PASSWORD"])
def test_kafka_refuses_a_placeholder_admin_or_controller_password(placeholder: str) -> None:
    env = {"KAFKA_ADMIN_PASSWORD": "a-real-one-7Qx", "KAFKA_CONTROLLER_PASSWORD": "another-real-one-9Zk"}
    env |= {placeholder: "ChangeMe", "KAFKA_CLUSTER_ID": "x"}
    started = _run_refused(["bash", str(ROOT / "deploy" / "kafka" / "start.sh")], env)
    assert started.returncode == 1
    assert f"{placeholder} is empty or a placeholder" in started.stderr


def test_kafka_access_refuses_placeholder_passwords() -> None:
    script = ["bash", str(ROOT / "deploy" / "kafka" / "access.sh")]
    admin = _run_refused(script, {"KAFKA_ADMIN_PASSWORD": "changeme", "KAFKA_USERS": "relay:RELAY"})
    assert admin.returncode == 1 and "KAFKA_ADMIN_PASSWORD is empty or a placeholder" in admin.stderr
    user = _run_refused(
        script, {"KAFKA_ADMIN_PASSWORD": "a-real-one-7Qx", "KAFKA_USERS": "relay:RELAY", "RELAY": "password"}
    )
    assert user.returncode == 1 and "RELAY is empty or a placeholder" in user.stderr


def test_provision_refuses_a_placeholder_admin_password(tmp_path: Path) -> None:
    provision = [sys.executable, str(ROOT / "deploy" / "init" / "provision.py"), "--partnership", str(tmp_path / "p")]
    refused = _run_refused(provision, {"KAFKA_ADMIN_PASSWORD": "changeme"})
    assert refused.returncode == 1
    assert "KAFKA_ADMIN_PASSWORD is empty or a placeholder" in refused.stderr
    assert not (tmp_path / "p").exists(), "nothing is made before the refusal"


# Inside a container, loopback is the container's own: Prometheus reaches only all interfaces.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104


def test_compose_serves_the_metrics_the_alerts_read(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["gateway"]["environment"]["SGB_METRICS_TOKEN"] == "${SGB_METRICS_TOKEN:?set SGB_METRICS_TOKEN}"
    worker = services["worker"]["environment"]
    assert worker["SGB_WORKER_METRICS_PORT"] and worker["SGB_WORKER_METRICS_HOST"] == ALL_INTERFACES
    for name in ("consumer-csc", "consumer-police"):
        env = services[name]["environment"]
        assert env["CONSUMER_METRICS_PORT"] and env["CONSUMER_METRICS_HOST"] == ALL_INTERFACES, name
    # Reachable in the compose network only.
    assert not any("9464" in port for service in services.values() for port in service.get("ports", []))


def test_the_gateway_refuses_a_placeholder_metrics_token_in_production() -> None:
    production: dict[str, Any] = {
        "environment": "production",
        "kafka_security_protocol": "SASL_SSL",
        "kafka_password": "a-real-one-7Qx",
    }
    with pytest.raises(ValidationError, match="SGB_METRICS_TOKEN"):
        BrokerSettings(**production, metrics_token="changeme")
    # Empty still means "serve no /metrics".
    assert BrokerSettings(**production, metrics_token="").environment == "production"
