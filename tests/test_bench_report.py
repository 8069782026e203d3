"""bench.report's cost table: each process's CPU per accepted notification, and the ceiling it sets."""

from __future__ import annotations

from bench.report import cost_table


def test_cost_per_notification_is_each_process_cores_over_the_accepted_rate() -> None:
    saturation = {
        "accepted_per_s": 50.0,
        "cpu_cores": {"gateway": 0.5, "worker": 0.05, "opa": 0.4, "kafka": 0.02, "loadgen": 0.03},
    }
    results = {"machine": {"nproc": 2}, "end_to_end": {"sqlite": {"saturation": saturation}}}
    row = cost_table(results).splitlines()[2]
    # 0.5 cores ÷ 50/s = 10 ms; the total, 20 ms, allows 2 cores ÷ 20 ms = 100 notifications/s.
    assert row == "| sqlite | 10.00 | 1.00 | 8.00 | 0.40 | - | 0.60 | 20.00 | 100/s |"
