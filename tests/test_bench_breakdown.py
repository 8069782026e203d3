"""`bench.breakdown`: what a trial added to the gateway's own histograms, read from the exposition text
the product's collectors write, with quantiles as Prometheus' `histogram_quantile` interpolates them."""

from __future__ import annotations

from prometheus_client import generate_latest

from bench import breakdown
from broker.metrics import Metrics


def _exposed(metrics: Metrics) -> dict[str, breakdown.Histogram]:
    return breakdown.parse(generate_latest(metrics.registry).decode())


def test_a_trial_is_what_it_added_between_two_scrapes() -> None:
    metrics = Metrics()
    notifications = metrics.request_latency.labels("POST", "/v1/notifications")
    notifications.observe(0.004)  # before the trial: left out
    before = _exposed(metrics)
    for seconds in (0.012, 0.012, 0.018, 0.030):
        notifications.observe(seconds)
    metrics.request_latency.labels("GET", "/v1/decisions").observe(3.0)  # another route: not the answer
    metrics.opa_latency.observe(0.006)
    added = breakdown.between(before, _exposed(metrics))
    assert added["answer"]["count"] == 4
    assert added["answer"]["mean_ms"] == 18.0  # (12 + 12 + 18 + 30) / 4, exact from the sums
    # Rank 2 of 4 falls in (10, 15] ms, which holds 2 of them: 10 + 5 * 2/2 = 15 ms.
    assert added["answer"]["p50_ms"] == 15.0
    # Rank 3.96 falls in (25, 30] ms, which holds the 4th alone: 25 + 5 * 0.96 = 29.8 ms.
    assert added["answer"]["p99_ms"] == 29.8
    assert added["opa"]["count"] == 1 and added["log_commit"] == {
        "count": 0,
        "mean_ms": None,
        "p50_ms": None,
        "p99_ms": None,
    }


def test_a_rank_beyond_the_last_bound_answers_that_bound() -> None:
    histogram = breakdown.Histogram(((0.01, 1.0), (0.1, 1.0), (float("inf"), 2.0)), total=30.0, count=2.0)
    assert histogram.quantile(0.99) == 0.1
    assert histogram.quantile(0.5) == 0.01


def test_the_table_sets_each_part_beside_the_clients_view() -> None:
    part = {"count": 10, "mean_ms": 4.25, "p50_ms": 3.5, "p99_ms": 12.0}
    half = {
        "rate": 80,
        "latency_ms": {"p50": 15.0, "p99": 45.6},
        "breakdown": {"answer": {**part, "mean_ms": 12.0}, "opa": part, "log_commit": part},
    }
    table = breakdown.table({"end_to_end": {"sqlite": {"half_saturation": half}}})
    assert table is not None
    assert table.splitlines()[-1] == (
        "| sqlite @ 80/s | 15.0 / 45.6 | 12.0 / 3.5 / 12.0 | 4.2 / 3.5 / 12.0 | 4.2 / 3.5 / 12.0 |"
    )
    assert breakdown.table({"end_to_end": {"sqlite": {"saturation": {}}}}) is None
