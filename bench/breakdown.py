"""Where a notification's answer time goes, from the gateway's own histograms (issue #17).

The load generator times each request from its scheduled send; the gateway times, inside itself, the
whole answer (`sgb_http_request_seconds` for POST /v1/notifications), OPA's decision
(`sgb_opa_decision_seconds`) and the decision log's commit (`sgb_log_commit_seconds`). Scraped before
and after a trial, the difference says which part grew under load, as an operator's dashboard
would. Quantiles are interpolated within buckets, as Prometheus' `histogram_quantile` does, so they
are only as fine as the buckets; the means are exact.
"""

from __future__ import annotations

import math
import urllib.request
from dataclasses import dataclass
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from bench.cells import BACKENDS, fmt, markdown

# Part name -> (histogram family, the labels its samples must carry).
PARTS: dict[str, tuple[str, dict[str, str]]] = {
    "answer": ("sgb_http_request_seconds", {"method": "POST", "route": "/v1/notifications"}),
    "opa": ("sgb_opa_decision_seconds", {}),
    "log_commit": ("sgb_log_commit_seconds", {}),
}


@dataclass(frozen=True)
class Histogram:
    """One histogram's cumulative state: (upper bound, count at or below it) ascending, sum, count."""

    buckets: tuple[tuple[float, float], ...]
    total: float
    count: float

    def minus(self, earlier: Histogram) -> Histogram:
        before = dict(earlier.buckets)
        buckets = tuple((bound, n - before.get(bound, 0.0)) for bound, n in self.buckets)
        return Histogram(buckets, self.total - earlier.total, self.count - earlier.count)

    def quantile(self, q: float) -> float | None:
        """`histogram_quantile(q, ...)`: linear within the bucket the rank falls in; None if empty."""
        if self.count <= 0:
            return None
        rank, lower, below = q * self.count, 0.0, 0.0
        for bound, cumulative in self.buckets:
            if cumulative >= rank:
                if math.isinf(bound):
                    return lower  # beyond the last finite bound: Prometheus answers that bound too
                inside = cumulative - below
                return lower + (bound - lower) * ((rank - below) / inside if inside else 1.0)
            lower, below = bound, cumulative
        return lower


def parse(text: str) -> dict[str, Histogram]:
    """Each part of `PARTS` as the exposition text shows it (an empty histogram if it is absent)."""
    found: dict[str, Histogram] = {}
    families = {family.name: family for family in text_string_to_metric_families(text)}
    for part, (name, labels) in PARTS.items():
        buckets: dict[float, float] = {}
        total = count = 0.0
        family = families.get(name)
        for sample in family.samples if family is not None else []:
            if any(sample.labels.get(k) != v for k, v in labels.items()):
                continue
            if sample.name.endswith("_bucket"):
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
            elif sample.name.endswith("_sum"):
                total += sample.value
            elif sample.name.endswith("_count"):
                count += sample.value
        found[part] = Histogram(tuple(sorted(buckets.items())), total, count)
    return found


def scrape(url: str, token: str) -> dict[str, Histogram]:
    """The gateway's histograms now (its /metrics, with the scrape token it was started with)."""
    headers = {"Authorization": f"Bearer {token}"}
    request = urllib.request.Request(f"{url}/metrics", headers=headers)  # noqa: S310 - loopback only
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
        return parse(response.read().decode())


def between(before: dict[str, Histogram], after: dict[str, Histogram]) -> dict[str, dict[str, Any]]:
    """Per part, what the trial between two scrapes added: count, and mean, p50 and p99 in ms."""
    out: dict[str, dict[str, Any]] = {}
    for part in PARTS:
        added = after[part].minus(before[part])
        p50, p99 = added.quantile(0.5), added.quantile(0.99)
        out[part] = {
            "count": int(added.count),
            "mean_ms": round(added.total / added.count * 1000, 2) if added.count else None,
            "p50_ms": round(p50 * 1000, 1) if p50 is not None else None,
            "p99_ms": round(p99 * 1000, 1) if p99 is not None else None,
        }
    return out


def table(results: dict[str, Any]) -> str | None:
    """Mean / p50 / p99 ms of each part at half saturation, per database (runs without it: None)."""
    rows = []
    for backend in BACKENDS:
        half = results["end_to_end"].get(backend, {}).get("half_saturation", {})
        parts = half.get("breakdown")
        if not parts:
            continue
        client = half["latency_ms"]
        rows.append(
            [
                f"{backend} @ {half['rate']}/s",
                f"{fmt(client.get('p50'), 1)} / {fmt(client.get('p99'), 1)}",
                *(_cell(parts[part]) for part in PARTS),
            ]
        )
    if not rows:
        return None
    header = [
        "half saturation",
        "client p50 / p99 ms",
        "gateway answer: mean / p50 / p99 ms",
        "of it OPA",
        "of it the log's commit",
    ]
    return (
        "Where the answer time goes at half saturation, from the gateway's own histograms (`sgb_http_request_seconds`,"
        " `sgb_opa_decision_seconds`, `sgb_log_commit_seconds`, as an operator's dashboard reads them; warm-up"
        " included; quantiles interpolated within buckets). The client's times also hold the wait before the"
        " gateway reads a request:\n\n" + markdown(header, rows)
    )


def _cell(part: dict[str, Any]) -> str:
    return " / ".join(fmt(part[key], 1) for key in ("mean_ms", "p50_ms", "p99_ms"))
