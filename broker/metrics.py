"""Prometheus metrics for operators: traffic, decisions, OPA health, the outbox, held items, clocks
and the decision log's integrity.

Labels never carry personal data: only outcomes, message types, methods, route templates and
status codes. Gauges of stored state (outbox, held, overdue) are read from the database when
Prometheus scrapes (`broker.metrics_state`), so every gateway and worker reports the same truth.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Steps of 5 ms or less up to 30 ms, where a notification's answer lives (issue #17's target for the p99
# is 25 ms), so an interpolated quantile there is that fine; coarser above, up to the OPA timeout and beyond.
LATENCY_BUCKETS = (
    *(0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1),
    *(0.25, 0.5, 1.0, 2.0, 5.0, 10.0),
)


class Metrics:
    """One set of collectors per app, on its own registry so tests can build many apps.

    `gateway=False` (`python -m broker.worker`): the series only a gateway moves (requests, decisions,
    OPA, the decision log's integrity) exist but are not served. A worker serving the verification
    gauge at its "never checked" -1 beside a tampered gateway's 0 hid the alarm from `min()`, and its
    series kept "no gateway scraped" silent.
    """

    def __init__(self, *, gateway: bool = True) -> None:
        self.registry = CollectorRegistry()
        served = self.registry if gateway else None
        self.requests = Counter(
            "sgb_http_requests_total",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=served,
        )
        self.decisions = Counter(
            "sgb_decisions_total",
            "Per-recipient decisions by outcome and message type",
            ["outcome", "message_type"],
            registry=served,
        )
        self.opa_latency = Histogram(
            "sgb_opa_decision_seconds",
            "Time for one OPA decision call (all recipients)",
            buckets=(0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=served,
        )
        # Where a notification's answer time goes, for the operator: the whole request, and of it
        # the decision log's commit (OPA's share is `opa_latency`).
        self.request_latency = Histogram(
            "sgb_http_request_seconds",
            "Time to answer an HTTP request, by method and route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=served,
        )
        self.log_commit_latency = Histogram(
            "sgb_log_commit_seconds",
            "Time a notification's decisions waited for the decision log's commit (group commit included)",
            buckets=LATENCY_BUCKETS,
            registry=served,
        )
        self.opa_failures = Counter(
            "sgb_opa_failures_total", "OPA calls that failed closed (no share)", registry=served
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
        self.overdue_clocks = Gauge(
            "sgb_overdue_clocks", "Statutory clocks overdue now and still unanswered", registry=self.registry
        )
        self.held = Gauge(
            "sgb_held_deliveries", "Deliveries waiting for authorisation or advice", registry=self.registry
        )
        self._log_integrity(served)

    def _log_integrity(self, served: CollectorRegistry | None) -> None:
        # -1 until the first check: "not verified yet" must not read as "verified" or "broken".
        self.log_verified = Gauge(
            "sgb_log_verification_ok",
            "1 if the last full decision-log verification passed, 0 if it failed, -1 before the first",
            registry=served,
        )
        self.log_verified.set(-1)
        self.log_verified_at = Gauge(
            "sgb_log_verification_timestamp_seconds",
            "Unix time the decision log was last verified (passed or failed)",
            registry=served,
        )
        self.checkpoint_failures = Counter(
            "sgb_checkpoint_failures_total", "Rounds in which signing a log checkpoint failed", registry=served
        )
        # Set by each verification round (broker.db.witnessing): how far each agency's witness has
        # cosigned the log, against the newest checkpoint, and any stored cosignature that does not verify.
        self.checkpoint_size = Gauge(
            "sgb_log_checkpoint_tree_size",
            "Entries covered by the newest checkpoint the broker signed (-1 before the first)",
            registry=served,
        )
        self.checkpoint_size.set(-1)
        self.witnessed_size = Gauge(
            "sgb_witness_cosigned_tree_size",
            "Entries covered by the newest checkpoint the agency's witness cosigned that verifies (-1: none)",
            ["agency"],
            registry=served,
        )
        self.witness_forged = Gauge(
            "sgb_witness_cosignature_invalid",
            "1 if a stored cosignature under the agency's witness keys does not verify (written past the gateway)",
            ["agency"],
            registry=served,
        )

    def record_verification(self, ok: bool) -> None:
        """Note the outcome of one full verification of the decision log."""
        self.log_verified.set(1 if ok else 0)
        self.log_verified_at.set(time.time())
