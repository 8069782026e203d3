"""Consumer settings come from CONSUMER_ variables and refuse unsafe values."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from consumers.settings import ConsumerSettings, InboxSettings


def test_reads_prefixed_environment_and_defaults_principal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSUMER_AGENCY_ID", "csc-fictional")
    monkeypatch.setenv("CONSUMER_KAFKA_PASSWORD", "a-long-fictional-password")
    monkeypatch.setenv("CONSUMER_SINK", "dir:/tmp/inbox")
    monkeypatch.setenv("CONSUMER_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    settings = ConsumerSettings()
    assert settings.kafka_user == "csc-fictional"
    assert (settings.sink_kind, settings.sink_target) == ("dir", "/tmp/inbox")
    config = settings.kafka_config()
    assert config["sasl_plain_username"] == "csc-fictional"
    assert config["sasl_plain_password"] == "a-long-fictional-password"
    assert "a-long-fictional-password" not in repr(settings)


@pytest.mark.parametrize("password", ["", "changethis"], ids=["empty", "placeholder"])
def test_refuses_placeholder_password_in_production(password: str) -> None:
    with pytest.raises(ValidationError, match="placeholder"):
        ConsumerSettings(agency_id="csc-fictional", kafka_password=password)


def test_allows_placeholder_password_in_development_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="placeholder"):
        ConsumerSettings(agency_id="csc-fictional", environment="development")


@pytest.mark.parametrize(
    "sink", ["inbox.db", "ftp:/x", "sqlite:", "webhook:/relative"], ids=["bare", "kind", "empty", "url"]
)
def test_refuses_bad_sink_specs(sink: str) -> None:
    with pytest.raises(ValidationError, match=r"sink|webhook"):
        InboxSettings(agency_id="csc-fictional", sink=sink)


def test_refuses_clear_text_webhook_outside_development() -> None:
    with pytest.raises(ValidationError, match="https"):
        ConsumerSettings(agency_id="csc-fictional", kafka_password="fictional-secret-1", sink="webhook:http://x/y")


def test_topic_namespace_defaults_to_the_products_and_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert InboxSettings(agency_id="csc-fictional").model_dump().get("topic_namespace") is None
    monkeypatch.setenv("CONSUMER_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    assert ConsumerSettings(agency_id="csc-fictional", kafka_password="fictional-secret-1").topic_namespace == "sgb"
    monkeypatch.setenv("CONSUMER_TOPIC_NAMESPACE", "sgbtest-fictional")
    assert ConsumerSettings(agency_id="csc-fictional", kafka_password="fictional-secret-1").topic_namespace == (
        "sgbtest-fictional"
    )


@pytest.mark.parametrize("namespace", ["", "sgb.inbox", "SGB"], ids=["empty", "dotted", "upper"])
def test_refuses_a_namespace_that_is_not_a_topic_component(namespace: str) -> None:
    with pytest.raises(ValidationError, match="topic_namespace"):
        ConsumerSettings(agency_id="csc-fictional", kafka_password="fictional-secret-1", topic_namespace=namespace)


def test_a_ca_file_without_tls_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="CA file"):
        ConsumerSettings(
            agency_id="csc-fictional", kafka_password="fictional-secret-1", kafka_ca_file=tmp_path / "ca.pem"
        )


def test_clear_text_kafka_is_refused_in_production_as_the_gateway_refuses_it() -> None:
    with pytest.raises(ValidationError, match="CONSUMER_KAFKA_SECURITY_PROTOCOL=SASL_SSL"):
        ConsumerSettings(agency_id="csc-fictional", kafka_password="fictional-secret-1")
    tls = ConsumerSettings(
        agency_id="csc-fictional", kafka_password="fictional-secret-1", kafka_security_protocol="SASL_SSL"
    )
    assert tls.kafka_config()["security_protocol"] == "SASL_SSL"
    loopback = ConsumerSettings(
        agency_id="csc-fictional", kafka_password="fictional-secret-1", environment="development"
    )
    assert loopback.kafka_config()["security_protocol"] == "SASL_PLAINTEXT"
