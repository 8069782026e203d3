"""Gateway and relay settings, read from `SGB_` environment variables when the app is built."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, FilePath, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

from audit import DEFAULT_ORIGIN
from broker.delivery.calendar import DateRange, load_school_holidays
from broker.errors import SettingsInvalid
from schemas.topics import DEFAULT_NAMESPACE, NAMESPACE_PATTERN

log = logging.getLogger("broker.settings")

# The same list the consumers refuse (consumers/settings.py): values copied from an example file.
PLACEHOLDER_SECRETS = frozenset({"", "changethis", "changeme", "password"})


def _state() -> Path:
    return Path.home() / ".local" / "state" / "sgbroker" / "partnership"


class BrokerSettings(BaseSettings):
    """Everything the gateway and relay need; constructed in `create_app()`/`main()`, never at import."""

    model_config = SettingsConfigDict(env_prefix="SGB_", extra="ignore")

    # Production refuses placeholder secrets; development (the local stack, tests) only warns. The
    # default stays development so existing local runs keep working; deployments set production.
    environment: Literal["development", "production"] = "development"

    database_url: str = Field(default_factory=lambda: f"sqlite:///{_state() / 'sgbroker.db'}")
    # The database's owner, who runs the migrations; unset, `database_url` migrates too. On PostgreSQL
    # with another user here, `database_url`'s user is granted only what the gateway needs: it may add
    # to the decision log but never change or remove it (broker/db/privileges.py).
    migration_database_url: str | None = None
    partnership_id: str = "demo-partnership"
    audience: str = "safeguarding-broker"
    # Key material and the registry live outside any checkout by default, never in the repository.
    registry_file: Path = Field(default_factory=lambda: _state() / "registry.json")
    keys_dir: Path = Field(default_factory=lambda: _state() / "broker-keys")

    opa_url: str = "http://127.0.0.1:18181"
    # A decision must come back fast or not at all: a slow OPA means no share, not a queue.
    opa_timeout_seconds: float = 2.0
    opa_entrypoint: str = "safeguarding/decision/decision"
    # The bearer token OPA's own API authorisation admits (deploy/opa/authz.rego): whoever reaches an
    # OPA without one can rewrite the policy. Unset: no header (the local stack's loopback-only OPA).
    opa_token: SecretStr | None = None
    # How often the content hash of the policy OPA serves is read again, though its revision is
    # unchanged: a module replaced in place is logged under its own hash within this long. One read
    # fetches every module (~0.8 MB, ~25 ms), so not per decision; 0: only when the revision changes.
    policy_digest_seconds: float = Field(default=30.0, ge=0)
    # Policy replay (/ui/replay): a directory whose subdirectories are each a candidate policy directory
    # an IG lead may replay the log under (unset: only the policy OPA serves now), and the OPA binary
    # that re-decides locally (`opa eval`); devstack writes SGB_OPA_BIN for the one it installs.
    replay_policies: Path | None = None
    opa_bin: str = "opa"

    kafka_bootstrap: str = "127.0.0.1:19092"
    kafka_user: str = "relay"
    kafka_password: SecretStr = SecretStr("")
    # SASL always (the cluster admits no anonymous client); SASL_SSL in production, where anything less
    # is warned about. A free string let PLAINTEXT or a typo through to the first connection.
    kafka_security_protocol: Literal["SASL_PLAINTEXT", "SASL_SSL"] = "SASL_PLAINTEXT"
    # The CA that signed the brokers' certificates, for SASL_SSL (production); None: the system CAs.
    kafka_ca_file: Path | None = None
    # Topics the relay and receipt reader create: one broker in development; in production three
    # brokers, replication 3 and min.insync.replicas 2, so acks=all survives losing one broker.
    kafka_partitions: int = Field(default=3, ge=1)
    kafka_replication_factor: int = Field(default=1, ge=1)
    kafka_min_insync_replicas: int = Field(default=1, ge=1)
    # `retention.ms` of every topic the broker creates (inboxes, dead letters, receipts), never the
    # cluster's default: a shredded case's sealed record stays on an agency's inbox until it ends.
    # 168 is Kafka's own default, so a deployment that sets nothing keeps what it had; the most is
    # what a Java long of milliseconds holds (transport.kafka.MAX_RETENTION_HOURS).
    kafka_topic_retention_hours: int = Field(default=168, gt=0, le=(2**63 - 1) // 3_600_000)
    # The first part of every topic and group name (schemas/topics.py). Tests and benchmarks use
    # their own, so they never reach a running deployment's inboxes or receipts; consumers must use
    # the same value (CONSUMER_TOPIC_NAMESPACE).
    topic_namespace: str = Field(default=DEFAULT_NAMESPACE, pattern=NAMESPACE_PATTERN)
    run_relay_in_gateway: bool = True
    relay_batch_size: int = Field(default=200, ge=1)
    # In-process relays are woken at once by the gateway; polling catches rows from other workers.
    relay_poll_seconds: float = Field(default=0.25, gt=0)
    # On PostgreSQL each waiting outbox row wakes every relay (LISTEN/NOTIFY, migration b0005); while
    # that connection is up the relay polls only this often, as a fallback. Off where LISTEN cannot
    # work (a transaction-pooling PgBouncer): the relay then polls every relay_poll_seconds.
    relay_listens: bool = True
    relay_idle_poll_seconds: float = Field(default=5.0, gt=0)
    # After a look that published, the next is at least this much later, so deliveries committed close
    # together go out in one batch (each batch is a log transaction); one reaching an idle relay leaves at once.
    relay_gather_seconds: float = Field(default=0.25, ge=0)

    max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    # Notifications one gateway process decides at once (broker.admission.capacity); more get a 503 at
    # once. 64 keeps a saturated 2-core gateway busy while its p99 stays under a second.
    max_in_flight: int = Field(default=64, ge=1)
    max_token_lifetime_seconds: int = 600
    hold_expiry_hours: int = Field(default=72, ge=1)  # 0 would destroy every held share at once
    retry_after_seconds: int = 30
    checkpoint_seconds: float = 10.0
    # Between checkpoints, the entries committed are checked this often, outside the chain-head lock,
    # so a signature replays only the last few (broker.db.log.carry_ahead); 0: all at the signature.
    checkpoint_carry_seconds: float = Field(default=1.0, ge=0)
    # SQLite: copy the WAL into the database file this often, beside the requests; 0 leaves it to
    # SQLite, inside whichever commit takes the WAL past 1,000 pages (there, the group commit's, with
    # every request of the next batches waiting behind it). Nothing to do on PostgreSQL.
    wal_checkpoint_seconds: float = Field(default=0.5, ge=0)
    # Retention (broker.delivery.retention): delivered envelopes kept for re-publishing, resolved held
    # rows (keys already destroyed), Idempotency-Key answers; the purge runs every `purge_seconds`.
    retention_delivered_days: float = Field(default=30.0, gt=0)
    retention_resolved_days: float = Field(default=30.0, gt=0)
    retention_idempotency_days: float = Field(default=7.0, gt=0)
    purge_seconds: float = Field(default=3600.0, ge=0)
    # How often the registry file is checked for a change (broker.partnership.watch); 0 turns it off.
    registry_poll_seconds: float = Field(default=2.0, ge=0)
    # A registry file lacking access changes the log recorded (an older copy would undo revocations)
    # is refused at start, unless this names its revision: going back on purpose, and logged as such.
    registry_accept_revision: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    clock_check_seconds: float = Field(default=30.0, gt=0)
    # How often the gateway re-verifies the whole decision log for `sgb_log_verification_ok` (O(n)
    # reads each time, so hourly by default); 0: never (another process or the auditor does it).
    log_verify_seconds: float = Field(default=3600.0, ge=0)
    # A file keeping the largest checkpoint a gateway signed across restarts (broker/db/anchor.py), on
    # storage the database's administrators cannot reach: a start on a log that no longer extends it
    # (cut or rewritten while no gateway ran) is refused. Unset: the anchor is forgotten at each restart.
    anchor_file: Path | None = None
    # The bearer token a Prometheus scrape of the gateway's /metrics must carry. Decisions by outcome and
    # message type, and the review routes' counts, are partnership activity, served on the port agencies
    # reach: unset (or empty), /metrics answers 404.
    metrics_token: SecretStr | None = None
    # `python -m broker.worker` only (the gateway serves /metrics itself): where the worker's relay
    # and clock counters are served for Prometheus, to scrapes carrying SGB_METRICS_TOKEN as the
    # gateway's are (the same Prometheus scrapes both); unset, they are not served.
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    worker_metrics_host: str = "127.0.0.1"
    log_origin: str = DEFAULT_ORIGIN
    # "within N days" where the source does not say working days (timers T11-T12: DDSCP-RiskToOthers,
    # 4. Children's Social Care Response): calendar days as the source is written, or working days.
    unclear_days_unit: Literal["days", "working_days"] = "days"
    # The partnership's school holidays, which school-day clocks skip (M35): a JSON list of
    # {"first", "last"} dates (broker/delivery/calendar.py), read here so a bad file refuses the start.
    school_holidays_file: FilePath | None = None
    # Review web UI: a session lasts while used, but never beyond the working-day limit.
    ui_session_idle_minutes: int = Field(default=30, ge=1)
    ui_session_max_hours: int = Field(default=8, ge=1)
    # Off only for plain-HTTP development; browsers then drop the __Host- prefix too.
    ui_cookie_secure: bool = True

    @field_validator("school_holidays_file")
    @classmethod
    def _school_holidays_read(cls, path: Path | None) -> Path | None:
        if path is not None:
            load_school_holidays(path)
        return path

    def school_holidays(self) -> tuple[DateRange, ...]:
        """The holidays the file names (none unset), for the working calendar."""
        return load_school_holidays(self.school_holidays_file) if self.school_holidays_file else ()

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Self:
        checked = {"SGB_KAFKA_PASSWORD": self.kafka_password.get_secret_value()}
        if self.opa_token is not None:
            checked["SGB_OPA_TOKEN"] = self.opa_token.get_secret_value()
        if self.metrics_token is not None and self.metrics_token.get_secret_value():
            # Empty turns /metrics off; an example value copied unchanged would serve it to anyone.
            checked["SGB_METRICS_TOKEN"] = self.metrics_token.get_secret_value()
        for name, url in (
            ("SGB_DATABASE_URL", self.database_url),
            ("SGB_MIGRATION_DATABASE_URL", self.migration_database_url),
        ):
            # SQLite has no password; a server URL without one relies on peer or certificate auth.
            parts = urlsplit(url or "")
            if parts.password is not None:
                checked[f"the password in {name}"] = parts.password
        for name, value in checked.items():
            if value.lower() in PLACEHOLDER_SECRETS:
                message = f"{name} is empty or a placeholder"
                if self.environment != "development":
                    raise ValueError(message)
                # A log line, not a Python warning: an operator reads one line, JSON where logs are.
                log.warning("%s: allowed while SGB_ENVIRONMENT is development, refused in production", message)
        return self

    @model_validator(mode="after")
    def _worker_metrics_need_a_token(self) -> Self:
        if self.worker_metrics_port is not None and not (self.metrics_token and self.metrics_token.get_secret_value()):
            # Closed by default: the port is on the network the agencies' consumers share.
            raise ValueError(
                "SGB_WORKER_METRICS_PORT is set without SGB_METRICS_TOKEN: the worker serves its metrics only "
                "to scrapes carrying it"
            )
        return self

    @model_validator(mode="after")
    def _refuse_clear_text_in_production(self) -> Self:
        if self.kafka_ca_file is not None and self.kafka_security_protocol != "SASL_SSL":
            # Someone believes the connection is TLS-protected: say so now (as consumers/settings.py does).
            raise ValueError("SGB_KAFKA_CA_FILE needs SGB_KAFKA_SECURITY_PROTOCOL=SASL_SSL")
        if self.environment == "development":
            return self
        if not self.ui_cookie_secure:
            # A review session cookie sent over plain HTTP hands a DSL's or IG lead's session to the network.
            raise ValueError("SGB_UI_COOKIE_SECURE=false is for plain-HTTP development only")
        if self.kafka_security_protocol != "SASL_SSL":
            # Records are sealed, but their headers, pseudonymous keys and the SCRAM exchange are not.
            raise ValueError("production Kafka traffic must be TLS-protected: SGB_KAFKA_SECURITY_PROTOCOL=SASL_SSL")
        return self


def read_settings() -> BrokerSettings:
    """The settings a command line starts with; `SettingsInvalid` names each `SGB_` variable at fault,
    in one line an operator reads, not at the foot of a traceback."""
    try:
        return BrokerSettings()
    except ValidationError as exc:
        raise SettingsInvalid("; ".join(map(_problem, exc.errors()))) from exc


def _problem(error: ErrorDetails) -> str:
    where = f"SGB_{str(error['loc'][0]).upper()}: " if error["loc"] else ""
    return where + error["msg"].removeprefix("Value error, ")
