"""Prometheus metrics of one agency's consumer: deliveries, recalled deliveries read again (not
handed over, no receipt), dead letters (those the agency's system refused for good also counted on
their own) and the witness alarm.

The consumer already counts what it delivers and parks; these are read from it when Prometheus
scrapes, so the delivery code needs no metrics calls. Served only when CONSUMER_METRICS_PORT is set,
on loopback unless CONSUMER_METRICS_HOST says otherwise, and only to scrapes carrying
CONSUMER_METRICS_TOKEN as their bearer token. Labels carry the agency id, never case data.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import SecretStr

from consumers.errors import ConfigurationError
from transport.metrics_http import serve_metrics

TOKEN_SETTING = "CONSUMER_METRICS_TOKEN"  # noqa: S105 - the setting's name, not a token


class Counted(Protocol):
    """What the collector reads of a running consumer (`consumers.runner.AgencyConsumer`)."""

    agency_id: str
    delivered: int
    recalled_not_delivered: int
    dead_lettered: int
    sink_refused: int

    @property
    def healthy(self) -> bool: ...


class ConsumerCollector(Collector):
    def __init__(self, consumer: Counted) -> None:
        self._consumer = consumer

    def describe(self) -> Iterable[Metric]:
        return declarations()

    def collect(self) -> Iterable[Metric]:
        return self._families(self._consumer)

    @staticmethod
    def _families(consumer: Counted | None) -> list[Metric]:
        labels = ["agency"]
        delivered = CounterMetricFamily(
            "sgb_consumer_delivered", "Deliveries handed to this agency's sink", labels=labels
        )
        recalled = CounterMetricFamily(
            "sgb_consumer_recalled_not_delivered",
            "Withdrawn, corrected or erased deliveries read again: not handed over, no receipt sent",
            labels=labels,
        )
        dead = CounterMetricFamily(
            "sgb_consumer_dead_letters", "Records parked on this agency's dead-letter topic", labels=labels
        )
        refused = CounterMetricFamily(
            "sgb_consumer_sink_refused",
            "Deliveries this agency's system refused for good: dead-lettered, no receipt sent",
            labels=labels,
        )
        alarm = GaugeMetricFamily(
            "sgb_consumer_witness_alarm", "1 once the decision log contradicted this agency's checkpoint", labels=labels
        )
        if consumer is not None:
            agency = [consumer.agency_id]
            delivered.add_metric(agency, consumer.delivered)
            recalled.add_metric(agency, consumer.recalled_not_delivered)
            dead.add_metric(agency, consumer.dead_lettered)
            refused.add_metric(agency, consumer.sink_refused)
            alarm.add_metric(agency, 0 if consumer.healthy else 1)
        return [delivered, recalled, dead, refused, alarm]


def declarations() -> list[Metric]:
    """The consumer's metric families without values: their names, before any consumer has run."""
    return ConsumerCollector._families(None)


def registry_for(consumer: Counted) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(ConsumerCollector(consumer))
    return registry


def serve(consumer: Counted, *, host: str, port: int, token: SecretStr | None) -> WSGIServer:
    """Serve /metrics for `consumer` on a daemon thread to scrapes carrying `token`; `shutdown()` the
    server returned to stop it."""
    secret = token.get_secret_value() if token is not None else ""
    if not secret:
        # The settings refuse this too; a caller that bypassed them gets no open port either.
        raise ConfigurationError(f"metrics are served only with {TOKEN_SETTING} set")
    try:
        return serve_metrics(registry_for(consumer), host=host, port=port, token=secret, setting=TOKEN_SETTING)
    except OSError as exc:  # port taken or host not local: refuse to start, as for any bad setting
        raise ConfigurationError(f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}") from exc
