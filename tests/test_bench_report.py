"""The benchmark's report: each process's CPU per accepted notification and the ceiling it sets, the loads
a partnership sees, a comparison with an earlier run led by what changed between them, and what the plot
draws against issue #17's targets."""

from __future__ import annotations

from typing import Any

from bench import plot
from bench.report import before_after
from bench.tables import cost_table, realistic_table


def test_cost_per_notification_is_each_process_cores_over_the_accepted_rate() -> None:
    saturation = {
        "accepted_per_s": 50.0,
        "cpu_cores": {"gateway": 0.5, "worker": 0.05, "opa": 0.4, "kafka": 0.02, "loadgen": 0.03},
    }
    results = {"machine": {"nproc": 2}, "end_to_end": {"sqlite": {"saturation": saturation}}}
    row = cost_table(results).splitlines()[2]
    # 0.5 cores ÷ 50/s = 10 ms; the total, 20 ms, allows 2 cores ÷ 20 ms = 100 notifications/s.
    assert row == "| sqlite | 10.00 | 1.00 | 8.00 | 0.40 | - | 0.60 | 20.00 | 100/s |"


def test_real_load_rows_give_latency_and_each_process_cpu_per_notification() -> None:
    run = {
        "accepted": 60,
        "accepted_per_s": 2.0,
        "latency_ms": {"p50": 31.25, "p95": 40.0, "p99": 52.5},
        "cpu_cores": {"gateway": 0.04, "opa": 0.025, "machine_busy_cores": 0.11},
        "worker_cpu_ms_per_notification": 12.5,
    }
    results = {"end_to_end": {"postgresql": {"realistic": {"2": run}}}}
    table = realistic_table(results)
    assert table is not None
    # 0.04 cores ÷ 2/s = 20 ms of gateway CPU per notification; OPA 0.025 ÷ 2 = 12.5 ms.
    assert (
        table.splitlines()[-1]
        == "| postgresql | 2/s (60 accepted) | 31.2 / 40.0 / 52.5 | 20.00 | 12.50 | 12.50 | 0.11 |"
    )


def test_runs_without_real_load_rows_have_no_such_table() -> None:
    saturation = {"accepted_per_s": 50.0, "cpu_cores": {}}
    assert realistic_table({"end_to_end": {"sqlite": {"saturation": saturation}}}) is None


def _run(git: str, accepted: float) -> dict[str, Any]:
    return {
        "git": git,
        "summary": {"backends": {"sqlite": {"accepted_per_s": accepted, "latency_ms": {}}}},
        "end_to_end": {"sqlite": {"saturation": {"cpu_cores": {}}}},
        "stages": {},
    }


def test_a_comparison_says_first_what_changed_between_the_runs() -> None:
    text = before_after(_run("aaaa111", 50), _run("bbbb222", 64), "Only the machine changed.")
    lines = text.splitlines()
    assert lines[:3] == ["## Before and after", "", "Only the machine changed."]
    assert lines[4] == "|  | before (aaaa111) | after (bbbb222) |"
    assert "| sqlite: accepted/s at saturation | 50 | 64 |" in lines
    assert before_after(_run("a", 1), _run("b", 2)).splitlines()[2].startswith("|  | before (a)")


def _latency(p50: float, p99: float) -> dict[str, Any]:
    return {"latency_ms": {"p50": p50, "p99": p99}}


def test_the_latency_panel_shows_loads_below_saturation_and_half_of_it_last() -> None:
    e2e = {
        "saturation": {"accepted_per_s": 120.0},
        "realistic": {"2": _latency(20, 30), "10": _latency(21, 35)},
        "fixed": {"50": _latency(25, 50), "200": _latency(900, 1500), "500": _latency(950, 1600)},
        "half_saturation": {"rate": 60, **_latency(40, 90)},
    }
    slow = {"saturation": {"accepted_per_s": 40.0}, "fixed": {"50": _latency(800, 1200)}}
    results = {"end_to_end": {"sqlite": e2e, "postgresql": slow}}
    # 200/s and 500/s are over saturation (the tables show them); 50/s is over PostgreSQL's 40/s here.
    assert plot.latency_points(results, "sqlite") == {
        "2/s": (2.0, 20, 30),
        "10/s": (10.0, 21, 35),
        "50/s": (50.0, 25, 50),
        "half of saturation": (60.0, 40, 90),
    }
    assert plot.latency_points(results, "postgresql") == {}
    assert plot.latency_categories(results) == ["2/s", "10/s", "50/s", "half of saturation"]


def test_the_stage_panel_marks_half_of_each_databases_slowest_stage() -> None:
    backends = {
        "sqlite": {"slowest_stage_per_s": 392.0, "accepted_per_s": 150.0},
        "postgresql": {"slowest_stage_per_s": 300.0, "accepted_per_s": 142.0},
    }
    assert plot.end_to_end_targets({"summary": {"backends": backends}}) == {"sqlite": 196.0, "postgresql": 150.0}


def test_the_scale_curve_is_in_order_of_gateway_processes() -> None:
    curve = {
        str(n): {"accepted_per_s": rate, "p99_at_half_ms": p99, "half_rate": int(rate / 2)}
        for n, rate, p99 in ((4, 104.6, 641.2), (1, 124.6, 160.0), (2, 114.2, 1274.8))
    }
    assert plot.scale_points({"scale_curve": curve}) == [
        (1, 124.6, 160.0, 62),
        (2, 114.2, 1274.8, 57),
        (4, 104.6, 641.2, 52),
    ]
