"""The end-to-end tables of a benchmark run: headline, issue #17's acceptance, CPU per notification,
the loads a partnership sees, the scale curve, and `table`, which puts every table of a run together."""

from __future__ import annotations

from typing import Any

from bench import breakdown, stage_tables
from bench.cells import BACKENDS, fmt, markdown


def machine_line(results: dict[str, Any]) -> str:
    m = results["machine"]
    before, after = results.get("load_average_before", []), results.get("load_average_after", [])
    return (
        f"{m['nproc']} cores (`nproc`), {m['cpu_model']} ({', '.join(m['cpu_flags_of_note'])}), "
        f"{m['memory_gib']} GiB, Linux {m['kernel']}, Python {m['python']}; "
        f"load average before {before[0] if before else '?'} / after {after[0] if after else '?'} "
        f"(1 min); {results['mode']} run of {results['wall_seconds']} s at `{results['git']}`"
        f" on {results['started_at']}"
    )


def headline_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    summary = results["summary"]
    for backend in BACKENDS:
        s = summary["backends"].get(backend)
        e2e = results["end_to_end"].get(backend)
        if not s or not e2e:
            continue
        sat = e2e["saturation"]
        lat = s["latency_ms"]
        rows.append(
            [
                backend,
                fmt(s["accepted_per_s"]),
                fmt(sat.get("gateway_cpu_ms_per_notification"), 2),
                fmt(sat.get("worker_cpu_ms_per_notification"), 2),
                _relayed(sat),
                *[
                    f"{fmt(lat.get(r, {}).get('p50'), 1)} / {fmt(lat.get(r, {}).get('p95'), 1)} / "
                    f"{fmt(lat.get(r, {}).get('p99'), 1)}"
                    for r in ("50", "200", "500")
                ],
                f"{s['slowest_stage']} {fmt(s['slowest_stage_per_s'])}/s",
                fmt(s["ratio_to_slowest_stage"], 2),
                "yes" if s["all_logged"] else "NO",
            ]
        )
    return rows


def _relayed(run: dict[str, Any]) -> str:
    """What the worker published to Kafka during the window, and what was still waiting at its end."""
    published, relay = run.get("published_per_s"), run.get("relay", {})
    if published is None:
        return "-"
    return f"{fmt(published)} ({fmt(relay.get('backlog_at_end'))} rows left)"


def _achieved(results: dict[str, Any], backend: str) -> str:
    e2e = results["end_to_end"].get(backend, {})
    parts = []
    for rate, run in e2e.get("fixed", {}).items():
        refused = sum(n for status, n in run["statuses"].items() if status != "202") + run.get("dropped", 0)
        parts.append(
            f"{rate}/s -> {run['accepted_per_s']:,.0f}/s accepted"
            + (f" ({refused} not: over 512 in flight, or no answer in 20 s)" if refused else "")
        )
    return "; ".join(parts)


HEADLINE = [
    "database",
    "accepted/s at saturation",
    "gateway CPU ms/notification (request path)",
    "worker CPU ms/notification (relay)",
    "published to Kafka/s (outbox left at the end)",
    "p50/p95/p99 ms @50/s",
    "@200/s",
    "@500/s",
    "slowest stage (notifications/s)",
    "end-to-end ÷ slowest stage",
    "every 202 logged",
]


def acceptance_table(results: dict[str, Any]) -> str:
    """Issue #17's acceptance, as this run measured it (ratios from one run; never asserted by a test)."""
    rows = []
    opa = results["stages"].get("opa_policy_vs_baseline", {})
    for backend in BACKENDS:
        s = results["summary"]["backends"].get(backend)
        if not s:
            continue
        rows.append(
            [
                backend,
                f"{fmt(opa.get('ratio_ms'), 3)} (≤ 0.10)",
                f"{fmt(s['ratio_to_slowest_stage'], 2)} (≥ 0.5)",
                f"{fmt(s.get('gateway_cpu_vs_noop'), 1)} (≤ 15)",
                f"{fmt(s.get('p99_at_half_saturation_ms'), 1)} (≤ 25)",
            ]
        )
    header = [
        "database",
        "OPA ÷ baseline",
        "end-to-end ÷ slowest stage",
        "gateway CPU ÷ no-op",
        "p99 ms at half saturation",
    ]
    return markdown(header, rows)


PARTS = ("gateway", "worker", "opa", "kafka", "postgresql", "loadgen")


def cpu_ms(saturation: dict[str, Any], part: str) -> float | None:
    """One process's CPU per accepted notification in a saturation run: its cores ÷ accepted/s."""
    cores, accepted = saturation.get("cpu_cores", {}).get(part), saturation.get("accepted_per_s")
    return cores / accepted * 1000 if cores is not None and accepted else None


def cpu_by_part(results: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Each database's CPU ms per accepted notification at saturation, by process (its cores ÷ accepted/s)."""
    out: dict[str, dict[str, float]] = {}
    for backend in BACKENDS:
        sat = results["end_to_end"].get(backend, {}).get("saturation")
        if sat and sat.get("accepted_per_s"):
            out[backend] = {part: ms for part in PARTS if (ms := cpu_ms(sat, part)) is not None}
    return out


def cost_table(results: dict[str, Any]) -> str:
    """Where one accepted notification's CPU goes at saturation, by process, and what that allows.

    Each part's cores during the saturation window ÷ accepted/s. Their sum divided into the
    machine's cores is the most any gateway could accept on it while these parts cost what they do.
    """
    cores = results["machine"]["nproc"]
    rows = []
    for backend, ms in cpu_by_part(results).items():
        total = sum(ms.values())
        rows.append(
            [
                backend,
                *[fmt(ms.get(part), 2) for part in PARTS],
                fmt(total, 2),
                f"{fmt(cores * 1000 / total)}/s" if total else "-",
            ]
        )
    header = ["database", *[f"{p} ms" for p in PARTS], "total ms", f"ceiling on {cores} cores"]
    return markdown(header, rows)


def scale_table(results: dict[str, Any]) -> str:
    curve = results.get("scale_curve")
    if not curve:
        return ""
    rows = [
        [
            workers,
            fmt(p["accepted_per_s"]),
            f"{fmt(p['p99_at_half_ms'], 1)} @ {p['half_rate']}/s",
            fmt(p["gateway_cores"], 2),
            fmt(p.get("worker_cores"), 2),
            fmt(p["opa_cores"], 2),
            fmt(p["postgresql_cores"], 2),
            fmt(p["machine_busy_cores"], 2),
        ]
        for workers, p in curve.items()
    ]
    header = [
        "gateway processes (PostgreSQL)",
        "accepted/s",
        "p99 ms at half of it",
        "gateway cores",
        "worker cores",
        "OPA cores",
        "PostgreSQL cores",
        "machine cores busy",
    ]
    return markdown(header, rows)


def table(results: dict[str, Any]) -> str:
    """Every table of one run, as `make bench` prints it and RESULTS.md shows it."""
    out = [markdown(HEADLINE, headline_rows(results))]
    out.append("\nIssue #17's acceptance in this run (the target in brackets):\n\n" + acceptance_table(results))
    out.append(
        "\nCPU per accepted notification at saturation, by process (its cores ÷ accepted/s), and the"
        " throughput that total allows on this machine:\n\n" + cost_table(results)
    )
    for extra in (
        breakdown.table(results),
        realistic_table(results),
        stage_tables.engines_table(results),
        scale_table(results),
    ):
        if extra:
            out.append("\n" + extra)
    for backend in BACKENDS:
        if backend in results["end_to_end"]:
            out.append(f"\nOffered vs accepted ({backend}): {_achieved(results, backend)}")
    out.append("\n" + stage_tables.stages_table(results))
    for extra in (
        stage_tables.opa_recipients_table(results),
        stage_tables.opa_policy_vs_baseline_table(results),
        stage_tables.growth_table(results),
    ):
        if extra:
            out.append("\n" + extra)
    return "\n".join(out)


def realistic_table(results: dict[str, Any]) -> str | None:
    """Latency and CPU per notification at the loads a partnership really sees (runs without them: None)."""
    rows = []
    for backend in BACKENDS:
        for rate, run in results["end_to_end"].get(backend, {}).get("realistic", {}).items():
            accepted, cpu = run["accepted_per_s"], run["cpu_cores"]
            each = {k: cpu[k] / accepted * 1000 if accepted and k in cpu else None for k in ("gateway", "opa")}
            lat = run["latency_ms"]
            rows.append(
                [
                    backend,
                    f"{rate}/s ({run['accepted']} accepted)",
                    f"{fmt(lat['p50'], 1)} / {fmt(lat['p95'], 1)} / {fmt(lat['p99'], 1)}",
                    fmt(each["gateway"], 2),
                    fmt(run.get("worker_cpu_ms_per_notification"), 2),
                    fmt(each["opa"], 2),
                    fmt(cpu.get("machine_busy_cores"), 2),
                ]
            )
    if not rows:
        return None
    header = [
        "database",
        "offered (open loop)",
        "p50 / p95 / p99 ms",
        "gateway CPU ms/notification",
        "worker CPU ms/notification",
        "OPA CPU ms/notification",
        "machine cores busy",
    ]
    return (
        "At the loads a partnership really sees (England: about 1,700 referrals to children's social care"
        " a day, so even ten times that across every message type is well under 10/s nationally). With"
        " few requests the p99 is close to their maximum. Each notification then commits alone and"
        " finds the processes' caches cold, so its CPU is above the saturated figures:\n\n" + markdown(header, rows)
    )


def cpu_table(results: dict[str, Any]) -> str:
    rows = []
    for backend in BACKENDS:
        e2e = results["end_to_end"].get(backend)
        if not e2e:
            continue
        runs = [("saturation", e2e["saturation"])] + [(f"{r}/s", run) for r, run in e2e["fixed"].items()]
        for name, run in runs:
            cpu = run["cpu_cores"]
            rows.append(
                [
                    backend,
                    name,
                    *[
                        fmt(cpu.get(k), 2)
                        for k in (
                            "gateway",
                            "worker",
                            "opa",
                            "kafka",
                            "postgresql",
                            "loadgen",
                            "elsewhere_cores",
                            "machine_busy_cores",
                        )
                    ],
                ]
            )
    header = ["database", "run", "gateway", "worker (relay)", "OPA", "Kafka", "PostgreSQL", "load generator"]
    return markdown([*header, "other", "machine"], rows)


# The before/after rows read from each backend's saturation run, then from its summary: (label, key, digits).
