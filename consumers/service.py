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
from datetime import timedelta
from pathlib import Path

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


def build_witness(
    settings: ConsumerSettings, keys: KeyringHolder, *, ledger: Ledger, broker_keys: BrokerKeyring
) -> CheckpointWitness | None:
    """The agency's witness of the decision log, or None (with a warning) when no gateway is configured."""
    if settings.gateway_url is None:
        log.warning("CONSUMER_GATEWAY_URL is not set: %s does not witness the decision log", settings.agency_id)
        return None
    if keys.newest.witness_key is None:
        raise ConfigurationError(
            f"{settings.key_dir} holds no witness key: rotate the agency's keys "
            "(python -m broker.partnership.cli rotate) to make and register one"
        )
    context = ssl.create_default_context(cafile=settings.gateway_ca_file) if settings.gateway_ca_file else None
    gateway = GatewayClient(
        base_url=settings.gateway_url, token=receipt_signer(settings, keys).api_token, ssl_context=context
    )
    return CheckpointWitness(
        key=keys.witness_key, broker_keys=broker_keys, origin=settings.log_origin, ledger=ledger, gateway=gateway
    )


def build_consumer(
    settings: ConsumerSettings,
    *,
    ledger: Ledger,
    validate: Validator | None = None,
    sink: Sink | None = None,
    keys: KeyringHolder | None = None,
) -> AgencyConsumer:
    """Load keys and assemble the consumer; raises `ConfigurationError` on unsafe or missing keys.

    `validate`, `sink` and `keys` replace the configured ones (a stricter schema check, a wrapped sink,
    a keyring holder on another clock).
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
    return AgencyConsumer(
        agency_id=settings.agency_id,
        group_id=consumer_group(
            settings.agency_id, namespace=settings.topic_namespace, partnership_id=settings.partnership_id
        ),
        kafka_config=settings.kafka_config(),
        namespace=settings.topic_namespace,
        opener=opener,
        sink=sink or make_sink(settings),
        ledger=ledger,
        sign_receipt=signer.for_delivery,
        read_notice=NoticeReader(agency_id=settings.agency_id, broker_keys=broker_keys),
        sign_notice_receipt=signer.for_notice,
        witness=build_witness(settings, keys, ledger=ledger, broker_keys=broker_keys),
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
