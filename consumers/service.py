"""Wiring: build one agency's consumer (keys, opener, sink, ledger, receipts) from its settings.

The opener, the receipt signer and the witness share one `KeyringHolder`, so a rotation of the
agency's keys reaches all three without a restart (`consumers.keys`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import ssl
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from consumers.broker_keys import BrokerKeyring
from consumers.errors import ConfigurationError
from consumers.gateway import GatewayClient
from consumers.keys import AgencyKeyring, KeyringHolder, load_agency_keyring, load_broker_public_keys
from consumers.ledger import Ledger
from consumers.opener import EnvelopeOpener, NoticeReader
from consumers.receipt import ReceiptSigner
from consumers.runner import AgencyConsumer
from consumers.settings import ConsumerSettings
from consumers.sinks import DirectorySink, Sink, SqliteInboxSink
from consumers.validation import Validator, default_validator
from consumers.webhook import WebhookSink
from consumers.witness import CheckpointWitness
from schemas.topics import consumer_group

log = logging.getLogger("consumers")


def make_sink(settings: ConsumerSettings) -> Sink:
    """Build the sink named by `sqlite:<path>`, `webhook:<url>` or `dir:<path>`."""
    kind, target = settings.sink_kind, settings.sink_target
    if kind == "sqlite":
        return SqliteInboxSink(Path(target))
    if kind == "dir":
        return DirectorySink(Path(target))
    token = settings.webhook_token.get_secret_value() if settings.webhook_token else None
    return WebhookSink(target, token=token)


def load_keyring(settings: ConsumerSettings) -> AgencyKeyring:
    return load_agency_keyring(settings.key_dir, agency_id=settings.agency_id)


def load_broker_keys(settings: ConsumerSettings) -> BrokerKeyring:
    """The broker's public keys, refusing a retired key's late signatures as the settings say."""
    return load_broker_public_keys(
        settings.broker_public_keys,
        allowance=timedelta(hours=settings.retired_key_allowance_hours),
        window=timedelta(days=settings.retired_key_window_days),
    )


def receipt_signer(settings: ConsumerSettings, keys: AgencyKeyring | KeyringHolder) -> ReceiptSigner:
    """A signer with the keyring's token key, or with the holder's current one at each signature."""
    key = keys.jwt_key
    return ReceiptSigner(agency_id=settings.agency_id, audience=settings.broker_audience, key=key)


def gateway_client(settings: ConsumerSettings, keys: KeyringHolder) -> GatewayClient | None:
    """The client the witness calls the gateway with, or None (with a warning) when no gateway is configured.

    Raises `ConfigurationError` without a witness key or with a CA file it cannot read.
    """
    if settings.gateway_url is None:
        log.warning("CONSUMER_GATEWAY_URL is not set: %s does not witness the decision log", settings.agency_id)
        return None
    if keys.newest.witness_key is None:
        raise ConfigurationError(
            f"{settings.key_dir} holds no witness key: rotate the agency's keys "
            "(python -m broker.partnership.cli rotate) to make and register one"
        )
    try:
        context = ssl.create_default_context(cafile=settings.gateway_ca_file) if settings.gateway_ca_file else None
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"cannot use CONSUMER_GATEWAY_CA_FILE {settings.gateway_ca_file}: {exc}") from exc
    return GatewayClient(
        base_url=settings.gateway_url, token=receipt_signer(settings, keys).api_token, ssl_context=context
    )


def build_witness(
    settings: ConsumerSettings,
    keys: KeyringHolder,
    *,
    ledger: Ledger,
    broker_keys: BrokerKeyring,
    gateway: GatewayClient | None,
) -> CheckpointWitness | None:
    """The agency's witness of the decision log, calling the gateway through `gateway_client`'s client;
    None without one."""
    if gateway is None:
        return None
    return CheckpointWitness(
        key=keys.witness_key, broker_keys=broker_keys, origin=settings.log_origin, ledger=ledger, gateway=gateway
    )


def kafka_config(settings: ConsumerSettings) -> dict[str, Any]:
    """The agency's aiokafka settings; raises `ConfigurationError` for a Kafka CA file it cannot use."""
    try:
        return settings.kafka_config()
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(f"cannot use CONSUMER_KAFKA_CA_FILE {settings.kafka_ca_file}: {exc}") from exc


def build_consumer(
    settings: ConsumerSettings,
    *,
    ledger: Ledger | Callable[[], Ledger],
    validate: Validator | None = None,
    sink: Sink | None = None,
    keys: KeyringHolder | None = None,
) -> AgencyConsumer:
    """Load keys and assemble the consumer; raises `ConfigurationError` on unsafe or missing keys.

    `ledger` is the ledger, or what opens it: then it is opened only once everything else that can
    refuse the start (keys, broker keys, Kafka's CA, the sink, the witness) has passed, so a refused
    start leaves no empty ledger behind. `validate`, `sink` and `keys` replace the configured ones
    (a stricter schema check, a wrapped sink, a keyring holder on another clock).
    """
    keys = keys or KeyringHolder(settings.key_dir, agency_id=settings.agency_id)
    broker_keys = load_broker_keys(settings)
    opener = EnvelopeOpener(
        agency_id=settings.agency_id,
        broker_keys=broker_keys,
        decryption_keys=keys.decryption_keys(),
        validate=validate or default_validator(),
        reload_keys=keys.reload,
    )
    signer = receipt_signer(settings, keys)
    kafka = kafka_config(settings)
    gateway = gateway_client(settings, keys)
    sink = sink or make_sink(settings)  # last of the checks: it creates an inbox that is not there
    store = ledger if isinstance(ledger, Ledger) else ledger()
    return AgencyConsumer(
        agency_id=settings.agency_id,
        group_id=consumer_group(
            settings.agency_id, namespace=settings.topic_namespace, partnership_id=settings.partnership_id
        ),
        kafka_config=kafka,
        namespace=settings.topic_namespace,
        opener=opener,
        sink=sink,
        ledger=store,
        sign_receipt=signer.for_delivery,
        read_notice=NoticeReader(agency_id=settings.agency_id, broker_keys=broker_keys),
        sign_notice_receipt=signer.for_notice,
        witness=build_witness(settings, keys, ledger=store, broker_keys=broker_keys, gateway=gateway),
    )


async def run_until_signalled(consumer: AgencyConsumer) -> None:
    """Run until SIGTERM or SIGINT, then let the current record finish and stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await consumer.run(stop)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(ValueError, RuntimeError):
                loop.remove_signal_handler(signum)
