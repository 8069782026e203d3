"""Agency consumer settings, read from `CONSUMER_` environment variables when `main()` runs."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.policy_input import PARTNERSHIP_ID_PATTERN
from schemas.topics import DEFAULT_NAMESPACE, DEFAULT_PARTNERSHIP, NAMESPACE_PATTERN
from transport.kafka import client_config

AGENCY_ID = r"^[a-z0-9][a-z0-9-]{1,62}$"
SINK_KINDS = ("sqlite", "webhook", "dir")
PLACEHOLDER_SECRETS = frozenset({"", "changethis", "changeme", "password"})


class InboxSettings(BaseSettings):
    """The agency and its sink: enough to read the local inbox without any Kafka secret."""

    model_config = SettingsConfigDict(env_prefix="CONSUMER_", extra="ignore", env_ignore_empty=True)

    environment: Literal["development", "production"] = "production"
    agency_id: str = Field(pattern=AGENCY_ID)
    sink: str = "sqlite:inbox.db"
    # Local state, read by `list`-like commands without any Kafka secret: what was delivered and
    # recalled, and the log checkpoint this agency's witness kept.
    ledger_path: Path = Path("consumer-ledger.db")
    # The log's name in its checkpoints: the gateway's SGB_LOG_ORIGIN.
    log_origin: str = Field(default="sgb.decision-log", min_length=1, max_length=200, pattern=r"^[^\s+]+$")

    @field_validator("sink")
    @classmethod
    def _sink_spec(cls, value: str) -> str:
        kind, sep, target = value.partition(":")
        if not sep or kind not in SINK_KINDS or not target:
            raise ValueError("sink must be sqlite:<path>, webhook:<url> or dir:<path>")
        if kind == "webhook" and not target.startswith(("https://", "http://")):
            raise ValueError("a webhook sink needs an http(s) URL")
        return value

    @property
    def sink_kind(self) -> str:
        return self.sink.partition(":")[0]

    @property
    def sink_target(self) -> str:
        return self.sink.partition(":")[2]


class ConsumerSettings(InboxSettings):
    """Everything one agency's consumer needs; constructed in `main()`, never at import."""

    kafka_bootstrap: str = "127.0.0.1:19092"
    # The Kafka principal must be the agency id: the broker's ACLs are granted to that name.
    kafka_user: str | None = None
    kafka_password: SecretStr = SecretStr("")
    kafka_security_protocol: Literal["SASL_PLAINTEXT", "SASL_SSL"] = "SASL_PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256"] = "SCRAM-SHA-512"
    kafka_ca_file: Path | None = None
    # The first part of every topic and group name; the gateway must use the same (SGB_TOPIC_NAMESPACE).
    topic_namespace: str = Field(default=DEFAULT_NAMESPACE, pattern=NAMESPACE_PATTERN)
    # The partnership this agency belongs to: part of the consumer group's name (and of its ACL), so
    # it must equal the gateway's SGB_PARTNERSHIP_ID.
    partnership_id: str = Field(default=DEFAULT_PARTNERSHIP, pattern=PARTNERSHIP_ID_PATTERN)

    key_dir: Path = Path("agency-keys")
    # signing-history.json, a PEM file of broker public keys, or the broker key directory.
    broker_public_keys: Path = Path("broker-public-keys.pem")
    # A retired broker key (the history lists a newer one; retired when that one was made) may be in
    # other hands: its signature is refused (dead-lettered as retired_signing_key; a checkpoint's is a witness
    # alarm) on a record signed, by its own signed time, more than this after the retirement. A consumer
    # must hold a new key before the gateway signs with it, so a rotation runs: `rotate-broker-keys`,
    # give every agency the new history, then restart the gateway and worker; until that restart the
    # old key rightly signs, so this covers the roll-out (three days), not only clock skew. The window
    # below, not this, is what bounds a thief who backdates. Not enforced with a PEM file: no dates.
    retired_key_allowance_hours: float = Field(default=72.0, ge=0)
    # ... and on any record once the key was retired longer ago than this: a record cannot legitimately
    # still be unread after the inbox's retention. The gateway re-publishes a delivered envelope, with
    # its original signature, for SGB_RETENTION_DELIVERED_DAYS (30) after publication (Kafka keeps an
    # inbox for less), so never set this below that.
    retired_key_window_days: float = Field(default=30.0, gt=0)
    webhook_token: SecretStr | None = None
    broker_audience: str = "safeguarding-broker"
    # The gateway this agency witnesses the decision log through (proofs in, cosignatures out):
    # unset, the consumer delivers without checking the checkpoints records carry, and says so.
    gateway_url: str | None = None
    # The CA that signed the gateway's certificate; None: the system's CAs.
    gateway_ca_file: Path | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Prometheus /metrics (consumers/metrics.py); unset, none is served. Loopback unless the
    # operator's scraper runs elsewhere: the counts say how much one agency receives.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    # The bearer token a scrape of metrics_port must carry; a port without one is refused. Each
    # agency's own: its consumer shares a network with the others', whose code must not read its counts.
    metrics_token: SecretStr | None = None

    @model_validator(mode="after")
    def _principal_and_secrets(self) -> Self:
        if self.kafka_user is None:
            self.kafka_user = self.agency_id
        if self.kafka_password.get_secret_value().lower() in PLACEHOLDER_SECRETS:
            message = "CONSUMER_KAFKA_PASSWORD is empty or a placeholder"
            if self.environment != "development":
                raise ValueError(message)
            warnings.warn(message, stacklevel=1)
        if self.kafka_ca_file is not None and self.kafka_security_protocol != "SASL_SSL":
            # Someone believes the connection is TLS-protected: say so now, not at first connection.
            raise ValueError("a Kafka CA file needs the SASL_SSL security protocol")
        if self.sink.startswith("webhook:http://") and self.environment != "development":
            # Decrypted safeguarding data must not cross a network in clear text.
            raise ValueError("a webhook sink must use https outside development")
        self._check_gateway()
        if self.kafka_security_protocol != "SASL_SSL" and self.environment != "development":
            # As the gateway refuses: records are sealed, but their headers (the deciding rules' words),
            # the receipts and the SCRAM exchange are not.
            raise ValueError(
                "production Kafka traffic must be TLS-protected: CONSUMER_KAFKA_SECURITY_PROTOCOL=SASL_SSL"
            )
        return self

    @model_validator(mode="after")
    def _metrics_need_a_token(self) -> Self:
        token = self.metrics_token.get_secret_value() if self.metrics_token is not None else ""
        if self.metrics_port is not None and not token:
            # Closed by default, as the gateway's /metrics is without SGB_METRICS_TOKEN.
            raise ValueError(
                "CONSUMER_METRICS_PORT is set without CONSUMER_METRICS_TOKEN: metrics are served only to "
                "scrapes carrying it"
            )
        if token and token.lower() in PLACEHOLDER_SECRETS:
            message = "CONSUMER_METRICS_TOKEN is a placeholder"
            if self.environment != "development":
                raise ValueError(message)
            warnings.warn(message, stacklevel=1)
        return self

    def _check_gateway(self) -> None:
        url = self.gateway_url
        if url is not None and not url.startswith(("https://", "http://")):
            raise ValueError("the gateway URL must be http(s)://host[:port]")
        if url is not None and url.startswith("http://") and self.environment != "development":
            # The agency's tokens are single use, but the answers it trusts must not be changed on the way.
            raise ValueError("the gateway URL must use https outside development")
        if self.gateway_ca_file is not None and not (url or "").startswith("https://"):
            raise ValueError("a gateway CA file needs an https gateway URL")

    def kafka_config(self) -> dict[str, Any]:
        """Return aiokafka keyword arguments for this agency's own principal."""
        return client_config(
            bootstrap=self.kafka_bootstrap,
            security_protocol=self.kafka_security_protocol,
            user=self.kafka_user or self.agency_id,
            password=self.kafka_password.get_secret_value(),
            ca_file=self.kafka_ca_file,
            sasl_mechanism=self.kafka_sasl_mechanism,
        )
