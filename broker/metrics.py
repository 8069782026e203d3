"""Prometheus metrics for operators: traffic, decisions by outcome, OPA latency and outbox depth.

Labels never carry personal data: only outcomes, message types, agency ids and status codes.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """One set of collectors per app, on its own registry so tests can build many apps."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "sgb_http_requests_total",
            "HTTP requests by route and status",
            ["route", "status"],
            registry=self.registry,
        )
        self.decisions = Counter(
            "sgb_decisions_total",
            "Per-recipient decisions by outcome and message type",
            ["outcome", "message_type"],
            registry=self.registry,
        )
        self.opa_latency = Histogram(
            "sgb_opa_decision_seconds",
            "Time for one OPA decision call (all recipients)",
            buckets=(0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.opa_failures = Counter(
            "sgb_opa_failures_total", "OPA calls that failed closed (no share)", registry=self.registry
        )
        self.outbox_depth = Gauge(
            "sgb_outbox_depth", "Outbox rows committed but not yet published", registry=self.registry
        )
        self.published = Counter(
            "sgb_published_total", "Sealed deliveries published to agency inboxes", registry=self.registry
        )
        self.overdue = Counter(
            "sgb_overdue_total", "Statutory clocks that ran out without an answer", registry=self.registry
        )
        self.held = Gauge(
            "sgb_held_deliveries", "Deliveries waiting for authorisation or advice", registry=self.registry
        )
