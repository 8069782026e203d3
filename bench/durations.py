"""How long each of the benchmark's measurements runs: a full run (`make bench`) or a quick one."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Durations:
    warmup: float
    saturation: float
    fixed: float
    realistic: float  # seconds at each real load (2/s for 30 s: 60 requests)
    scaling: float
    stage: float
    append_entries: int
    opa_bench_runs: int  # `opa bench` runs (about a second each) of the policy and of its baseline


FULL = Durations(
    warmup=3, saturation=20, fixed=15, realistic=30, scaling=8, stage=6, append_entries=15_000, opa_bench_runs=5
)
QUICK = Durations(
    warmup=1.5, saturation=6, fixed=5, realistic=5, scaling=3, stage=2, append_entries=3_000, opa_bench_runs=3
)
