"""Wiring: build one agency's consumer (keys, opener, sink, ledger, receipts) from its settings."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

from consumers.keys import AgencyKeyring, load_agency_keyring, load_broker_public_keys
from consumers.ledger import Ledger
from consumers.opener import EnvelopeOpener
from consumers.receipt import ReceiptSigner
from consumers.runner import AgencyConsumer
from consumers.settings import ConsumerSettings
from consumers.sinks import DirectorySink, Sink, SqliteInboxSink, WebhookSink
from consumers.validation import Validator, default_validator
from schemas.topics import consumer_group


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


def receipt_signer(settings: ConsumerSettings, keyring: AgencyKeyring) -> ReceiptSigner:
    return ReceiptSigner(agency_id=settings.agency_id, audience=settings.broker_audience, key=keyring.jwt_key)


def build_consumer(
    settings: ConsumerSettings, *, ledger: Ledger, validate: Validator | None = None, sink: Sink | None = None
) -> AgencyConsumer:
    """Load keys and assemble the consumer; raises `ConfigurationError` on unsafe or missing keys.

    `validate` and `sink` replace the configured ones (a stricter schema check, a wrapped sink).
    """
    keyring = load_keyring(settings)
    opener = EnvelopeOpener(
        agency_id=settings.agency_id,
        broker_keys=load_broker_public_keys(settings.broker_public_keys),
        decryption_keys=keyring.decryption_keys,
        validate=validate or default_validator(),
    )
    return AgencyConsumer(
        agency_id=settings.agency_id,
        group_id=consumer_group(settings.agency_id, namespace=settings.topic_namespace),
        kafka_config=settings.kafka_config(),
        namespace=settings.topic_namespace,
        opener=opener,
        sink=sink or make_sink(settings),
        ledger=ledger,
        sign_receipt=receipt_signer(settings, keyring).for_delivery,
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
