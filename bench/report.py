"""Turn a benchmark result into a Markdown table, a PNG plot and `bench/RESULTS.md`.

``python -m bench.report RESULT.json [--before BEFORE.json] [--write]`` prints (or writes) the
summary again from stored results, e.g. to put a before/after comparison in RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
SUMMARY = BENCH / "RESULTS.md"
BACKENDS = ("sqlite", "postgresql")


def _fmt(value: Any, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float | int):
        return f"{value:,.{digits}f}"
    return str(value)


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
                _fmt(s["accepted_per_s"]),
                _fmt(sat.get("gateway_cpu_ms_per_notification"), 2),
                _fmt(sat.get("worker_cpu_ms_per_notification"), 2),
                _relayed(sat),
                *[
                    f"{_fmt(lat.get(r, {}).get('p50'), 1)} / {_fmt(lat.get(r, {}).get('p95'), 1)} / "
                    f"{_fmt(lat.get(r, {}).get('p99'), 1)}"
                    for r in ("50", "200", "500")
                ],
                f"{s['slowest_stage']} {_fmt(s['slowest_stage_per_s'])}/s",
                _fmt(s["ratio_to_slowest_stage"], 2),
                "yes" if s["all_logged"] else "NO",
            ]
        )
    return rows


def _relayed(run: dict[str, Any]) -> str:
    """What the worker published to Kafka during the window, and what was still waiting at its end."""
    published, relay = run.get("published_per_s"), run.get("relay", {})
    if published is None:
        return "-"
    return f"{_fmt(published)} ({_fmt(relay.get('backlog_at_end'))} rows left)"


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


def _md(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


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
                f"{_fmt(opa.get('ratio_ms'), 3)} (≤ 0.10)",
                f"{_fmt(s['ratio_to_slowest_stage'], 2)} (≥ 0.5)",
                f"{_fmt(s.get('gateway_cpu_vs_noop'), 1)} (≤ 15)",
                f"{_fmt(s.get('p99_at_half_saturation_ms'), 1)} (≤ 25)",
            ]
        )
    header = [
        "database",
        "OPA ÷ baseline",
        "end-to-end ÷ slowest stage",
        "gateway CPU ÷ no-op",
        "p99 ms at half saturation",
    ]
    return _md(header, rows)


_PARTS = ("gateway", "worker", "opa", "kafka", "postgresql", "loadgen")


def _cpu_ms(saturation: dict[str, Any], part: str) -> float | None:
    """One process's CPU per accepted notification in a saturation run: its cores ÷ accepted/s."""
    cores, accepted = saturation.get("cpu_cores", {}).get(part), saturation.get("accepted_per_s")
    return cores / accepted * 1000 if cores is not None and accepted else None


def cost_table(results: dict[str, Any]) -> str:
    """Where one accepted notification's CPU goes at saturation, by process, and what that allows.

    Each part's cores during the saturation window ÷ accepted/s. Their sum divided into the
    machine's cores is the most any gateway could accept on it while these parts cost what they do.
    """
    cores = results["machine"]["nproc"]
    rows = []
    for backend in BACKENDS:
        sat = results["end_to_end"].get(backend, {}).get("saturation")
        if not sat or not sat.get("accepted_per_s"):
            continue
        ms = {part: v for part in _PARTS if (v := _cpu_ms(sat, part)) is not None}
        total = sum(ms.values())
        rows.append(
            [
                backend,
                *[_fmt(ms.get(part), 2) for part in _PARTS],
                _fmt(total, 2),
                f"{_fmt(cores * 1000 / total)}/s" if total else "-",
            ]
        )
    header = ["database", *[f"{p} ms" for p in _PARTS], "total ms", f"ceiling on {cores} cores"]
    return _md(header, rows)


def engines_table(results: dict[str, Any]) -> str:
    """Our stages beside the same work through the engines' own clients (bench/engines.py)."""
    st, eng = results["stages"], results["stages"].get("engines")
    if not eng:
        return ""
    pairs = [
        ("log appends, sqlite", st.get("log_appends_sqlite"), eng.get("sqlite_inserts"), "rows, 192 per commit"),
        (
            "log appends, postgresql",
            st.get("log_appends_postgresql"),
            eng.get("postgresql_inserts"),
            "rows, 192 per commit",
        ),
        ("Kafka produce", st.get("kafka_produce"), eng.get("kafka_plain_produce"), "plain producer, linger 5 ms"),
    ]
    rows = [
        [name, _fmt(ours["per_s"]), _fmt(alone["per_s"]), how, _fmt(alone["per_s"] / ours["per_s"], 1)]
        for name, ours, alone, how in pairs
        if ours and alone and ours["per_s"]
    ]
    return _md(["stage", "ours /s", "engine alone /s", "engine alone: how", "factor"], rows)


def scale_table(results: dict[str, Any]) -> str:
    curve = results.get("scale_curve")
    if not curve:
        return ""
    rows = [
        [
            workers,
            _fmt(p["accepted_per_s"]),
            f"{_fmt(p['p99_at_half_ms'], 1)} @ {p['half_rate']}/s",
            _fmt(p["gateway_cores"], 2),
            _fmt(p.get("worker_cores"), 2),
            _fmt(p["opa_cores"], 2),
            _fmt(p["postgresql_cores"], 2),
            _fmt(p["machine_busy_cores"], 2),
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
    return _md(header, rows)


def table(results: dict[str, Any]) -> str:
    out = [_md(HEADLINE, headline_rows(results))]
    out.append("\nIssue #17's acceptance in this run (the target in brackets):\n\n" + acceptance_table(results))
    out.append(
        "\nCPU per accepted notification at saturation, by process (its cores ÷ accepted/s), and the"
        " throughput that total allows on this machine:\n\n" + cost_table(results)
    )
    for extra in (realistic_table(results), engines_table(results), scale_table(results)):
        if extra:
            out.append("\n" + extra)
    for backend in BACKENDS:
        if backend in results["end_to_end"]:
            out.append(f"\nOffered vs accepted ({backend}): {_achieved(results, backend)}")
    st = results["stages"]
    per = results["summary"]["per_notification"]
    stage_rows = [
        [
            "OPA REST decisions (the gateway's client, 16 in flight)",
            _fmt(st["opa_decisions"]["per_s"]),
            "1 per notification",
            _fmt(st["opa_decisions"]["per_s"]),
        ],
        [
            "seals (HPKE X25519/AES-256-GCM + Ed25519), 1 core",
            _fmt(st["seals"]["per_s"]),
            f"{per['seals']} per notification",
            _fmt(st["seals"]["per_s"] / per["seals"]),
        ],
    ]
    for backend in BACKENDS:
        a = st.get(f"log_appends_{backend}")
        if a:
            stage_rows.append(
                [
                    f"log appends, {backend} (group commit, 64 x 3 entries)",
                    _fmt(a["per_s"]),
                    f"{per['log_appends']} per notification",
                    _fmt(a["per_s"] / per["log_appends"]),
                ]
            )
    stage_rows += [
        [
            "Kafka produce (idempotent, acks=all, SCRAM, ~6 KB records)",
            _fmt(st["kafka_produce"]["per_s"]),
            f"{per['kafka_records']} per notification",
            _fmt(st["kafka_produce"]["per_s"] / per["kafka_records"]),
        ],
        [
            "FastAPI no-op POST (uvicorn, 1 worker, same body)",
            _fmt(st["fastapi_noop"]["accepted_per_s"]),
            "1 per notification",
            _fmt(st["fastapi_noop"]["accepted_per_s"]),
        ],
    ]
    out.append("\n" + _md(["stage alone", "ops/s", "per notification", "notifications/s"], stage_rows))
    by = st.get("opa_by_recipients")
    if by:
        rows = [
            [
                n,
                _fmt(v["per_s"]),
                _fmt(v["opa_metrics_ms"].get("timer_rego_query_eval_ns"), 2),
                _fmt(v["opa_metrics_ms"].get("timer_server_handler_ns"), 2),
            ]
            for n, v in by.items()
        ]
        out.append(
            "\n"
            + _md(
                [
                    "OPA, recipients per decision",
                    "decisions/s (16 in flight)",
                    "OPA eval ms (its own timer, one at a time)",
                    "OPA handler ms",
                ],
                rows,
            )
        )
    comparison = st.get("opa_policy_vs_baseline")
    if comparison:
        out.append("\n" + opa_policy_table(comparison))
    scaling = results["end_to_end"].get("sqlite", {}).get("scaling")
    if scaling:
        rows = []
        for kind, label in (("recipients", "recipients (4 KiB)"), ("payload_kib", "payload KiB (3 recipients)")):
            for value, run in scaling[kind].items():
                rows.append(
                    [
                        f"{label} = {value}",
                        _fmt(run["accepted_per_s"]),
                        _fmt(run.get("gateway_cpu_ms_per_notification"), 2),
                        _fmt(run.get("worker_cpu_ms_per_notification"), 2),
                        _fmt(run["service_latency_ms"]["p50"], 1),
                    ]
                )
        header = ["SQLite, saturation", "accepted/s", "gateway CPU ms/notification", "worker CPU ms/notification"]
        out.append("\n" + _md([*header, "p50 ms"], rows))
    return "\n".join(out)


def opa_policy_table(comparison: dict[str, Any]) -> str:
    """This checkout's policy against the frozen baseline (issue #17): `opa bench`, same input and run."""
    base, new = comparison["baseline"], comparison["policy"]
    rows = [
        [
            name,
            _fmt(v["ms_per_op"], 3),
            _fmt(v["ms_per_op_min"], 3),
            _fmt(v["allocs_per_op"]),
            _fmt(v["bytes_per_op"]),
            _fmt(v["ops"]),
        ]
        for name, v in (("baseline (bench/baseline_policy)", base), ("policy (policies/)", new))
    ]
    rows.append(["policy / baseline", _fmt(comparison["ratio_ms"], 3), "", _fmt(comparison["ratio_allocs"], 3), "", ""])
    header = [
        f"OPA eval, {comparison['recipients']} recipients, same decision",
        "ms/decision (median of runs)",
        "fastest run ms",
        "allocs/decision",
        "bytes/decision",
        "decisions",
    ]
    return _md(header, rows)


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
                    f"{_fmt(lat['p50'], 1)} / {_fmt(lat['p95'], 1)} / {_fmt(lat['p99'], 1)}",
                    _fmt(each["gateway"], 2),
                    _fmt(run.get("worker_cpu_ms_per_notification"), 2),
                    _fmt(each["opa"], 2),
                    _fmt(cpu.get("machine_busy_cores"), 2),
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
        " finds the processes' caches cold, so its CPU is above the saturated figures:\n\n" + _md(header, rows)
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
                        _fmt(cpu.get(k), 2)
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
    return _md([*header, "other", "machine"], rows)


# The before/after rows read from each backend's saturation run, then from its summary: (label, key, digits).
_SATURATION_ROWS = (
    ("gateway CPU ms/notification", "gateway_cpu_ms_per_notification", 2),
    ("worker CPU ms/notification", "worker_cpu_ms_per_notification", 2),
)
_SUMMARY_ROWS = (
    ("end-to-end ÷ slowest stage (≥ 0.5)", "ratio_to_slowest_stage", 2),
    ("gateway CPU ÷ no-op (≤ 15)", "gateway_cpu_vs_noop", 1),
    ("p99 ms at half saturation (≤ 25)", "p99_at_half_saturation_ms", 1),
)


def comparison(before: dict[str, Any], after: dict[str, Any]) -> str:
    rows = []
    for backend in BACKENDS:
        b, a = before["summary"]["backends"].get(backend), after["summary"]["backends"].get(backend)
        if not b or not a:
            continue
        bs, as_ = before["end_to_end"][backend]["saturation"], after["end_to_end"][backend]["saturation"]
        rows.append([f"{backend}: accepted/s at saturation", _fmt(b["accepted_per_s"]), _fmt(a["accepted_per_s"])])
        rows += [[f"{backend}: {what}", _fmt(bs.get(k), n), _fmt(as_.get(k), n)] for what, k, n in _SATURATION_ROWS]
        rows.append([f"{backend}: OPA CPU ms/notification", _fmt(_cpu_ms(bs, "opa"), 2), _fmt(_cpu_ms(as_, "opa"), 2)])
        for rate in ("50", "200", "500"):
            bl, al = b["latency_ms"].get(rate, {}), a["latency_ms"].get(rate, {})
            rows.append(
                [
                    f"{backend}: p50 / p99 ms at {rate}/s offered",
                    f"{_fmt(bl.get('p50'), 1)} / {_fmt(bl.get('p99'), 1)}",
                    f"{_fmt(al.get('p50'), 1)} / {_fmt(al.get('p99'), 1)}",
                ]
            )
        rows += [[f"{backend}: {what}", _fmt(b.get(k), n), _fmt(a.get(k), n)] for what, k, n in _SUMMARY_ROWS]
    rows.extend(_stage_rows(before, after))
    return _md(["", f"before ({before['git']})", f"after ({after['git']})"], rows)


def _stage_rows(before: dict[str, Any], after: dict[str, Any]) -> list[list[str]]:
    """The stages issue #17 names, before and after: the policy against its baseline, and produce."""
    b_opa, a_opa = before["stages"].get("opa_policy_vs_baseline", {}), after["stages"].get("opa_policy_vs_baseline", {})
    b_kafka, a_kafka = before["stages"].get("kafka_produce", {}), after["stages"].get("kafka_produce", {})
    return [
        ["OPA eval ÷ baseline, 3 recipients (≤ 0.10)", _fmt(b_opa.get("ratio_ms"), 3), _fmt(a_opa.get("ratio_ms"), 3)],
        ["Kafka produce stage, records/s", _fmt(b_kafka.get("per_s")), _fmt(a_kafka.get("per_s"))],
    ]


def plot(results: dict[str, Any], path: Path) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install -e '.[bench]'): no PNG")
        return None
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    summary = results["summary"]["backends"]
    # 1. stages vs end to end, notifications/s
    ax = axes[0][0]
    names, values, colours = [], [], []
    first = next(iter(summary.values()), None)
    if first:
        for name, value in first["stage_notifications_per_s"].items():
            if not name.startswith("log append"):
                names.append(name)
                values.append(value)
                colours.append("tab:gray")
    for backend, s in summary.items():
        for name, value in s["stage_notifications_per_s"].items():
            if name.startswith("log append"):
                names.append(name)
                values.append(value)
                colours.append("tab:gray")
        names.append(f"END TO END ({backend})")
        values.append(s["accepted_per_s"])
        colours.append("tab:red")
    ax.barh(names, values, color=colours)
    ax.set_xscale("log")
    ax.axvline(1000, color="tab:green", linestyle="--", label="goal 1,000/s")
    ax.set_xlabel("notifications/s (log scale)")
    ax.set_title("Each stage alone vs end to end (3 recipients, 4 KiB)")
    ax.legend(loc="lower right", fontsize=8)
    # 2. latency at fixed offered loads
    ax = axes[0][1]
    width = 0.13
    for i, backend in enumerate(s for s in ("sqlite", "postgresql") if s in summary):
        lat = summary[backend]["latency_ms"]
        rates = sorted(lat, key=int)
        for j, q in enumerate(("p50", "p95", "p99")):
            xs = [k + (i * 3 + j - 2.5) * width for k in range(len(rates))]
            ax.bar(xs, [lat[r].get(q) or 0 for r in rates], width, label=f"{backend} {q}")
        ax.set_xticks(range(len(rates)), [f"{r}/s offered" for r in rates])
    ax.axhline(25, color="tab:green", linestyle="--", label="goal p99 25 ms @200/s")
    ax.set_yscale("log")
    top = max([run.get(q) or 1 for s in summary.values() for run in s["latency_ms"].values() for q in ("p99",)] or [1])
    ax.set_ylim(top=top * 40)  # room for the legend above the bars
    ax.set_ylabel("latency ms (from scheduled send; log scale)")
    ax.set_title("Latency at fixed offered loads (open loop)")
    ax.legend(fontsize=7, ncol=2)
    # 3 and 4. cost growth
    scaling = results["end_to_end"].get("sqlite", {}).get("scaling")
    for ax, kind, label in (
        (axes[1][0], "recipients", "recipients per notification (4 KiB)"),
        (axes[1][1], "payload_kib", "payload KiB (3 recipients)"),
    ):
        if not scaling:
            ax.set_visible(False)
            continue
        xs = list(scaling[kind])
        ax.bar(xs, [scaling[kind][x]["accepted_per_s"] for x in xs], color="tab:blue")
        ax.set_xlabel(label)
        ax.set_ylabel("accepted/s at saturation (SQLite)", color="tab:blue")
        twin = ax.twinx()
        twin.plot(
            xs,
            [scaling[kind][x].get("gateway_cpu_ms_per_notification") or 0 for x in xs],
            color="tab:orange",
            marker="o",
        )
        twin.set_ylabel("gateway CPU ms per notification", color="tab:orange")
        twin.set_ylim(bottom=0)
        ax.set_title(f"Cost growth: {label}")
    m = results["machine"]
    fig.suptitle(
        f"sgbroker gateway benchmark {results['started_at']} ({results['git']}, {results['mode']}) — "
        f"{m['nproc']} x {m['cpu_model']}, {m['memory_gib']} GiB, shared with Kafka, OPA, PostgreSQL",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def before_after(before: dict[str, Any], results: dict[str, Any], note: str | None = None) -> str:
    """The summary's comparison with an earlier run, led by what changed between them (`note`): the
    machine's speed varies between runs, so a change in the table is not by itself the code's."""
    lead = [note, ""] if note else []
    return "\n".join(["## Before and after", "", *lead, comparison(before, results)])


def write_summary(
    results: dict[str, Any], png: Path | None, before: dict[str, Any] | None = None, note: str | None = None
) -> None:
    parts = [
        "# Benchmark results (latest)",
        "",
        "Generated by `make bench` (`python -m bench.run --write-summary`); see `bench/run.py` for what each",
        "number means. Each run writes its full JSON and plot to `bench/results/` (not committed); the plot",
        "of this run is `bench/results.png`. Stored runs for comparison, and what each measured and tried:",
        "`bench/history/` (`python -m bench.report AFTER.json --before BEFORE.json --note TEXT --write`).",
        "",
        f"Machine: {machine_line(results)}.",
        "",
        "Workload: M01 school referral, 3 recipients (2 shared, 1 no share), 4 KiB payload, a fresh single-use",
        "EdDSA JWT and an Idempotency-Key per request; gateway = `python -m broker.gateway` (1 uvicorn worker,",
        "`SGB_RUN_RELAY_IN_GATEWAY=false`) and one `python -m broker.worker`, which relays the outbox to Kafka,",
        "as docker-compose.yml runs them, on 127.0.0.1; load generator = `bench/loadgen.py` (aiohttp, separate",
        "process). The relay runs in the worker, so the gateway's CPU per notification is the request path",
        "alone; the worker's is its CPU from a run's start until the outbox is empty ÷ notifications published.",
        "Latency is measured from each request's scheduled send time (open loop), so stalls are not hidden.",
        "",
        table(results),
        "",
        "CPU used during each measured window (cores; 2 available). PostgreSQL counts every postgres",
        'process of the stack\'s cluster, which other test runs may share; "other" is whatever else ran on',
        "the machine (e.g. other engineers' suites), so a large value means the figures above are low.",
        "",
        cpu_table(results),
    ]
    if png is not None:
        target = BENCH / "results.png"
        if png.resolve() != target.resolve():
            target.write_bytes(png.read_bytes())
        parts += ["", "![benchmark plot](results.png)"]
    if before is not None:
        parts += ["", before_after(before, results, note)]
    SUMMARY.write_text("\n".join(parts) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("result", type=Path)
    parser.add_argument("--before", type=Path)
    parser.add_argument("--write", action="store_true", help="rewrite bench/RESULTS.md")
    parser.add_argument("--png", type=Path, help="also draw the plot to this file")
    parser.add_argument("--note", help="what changed between --before and this run, above their table")
    args = parser.parse_args()
    results = json.loads(args.result.read_text())
    before = json.loads(args.before.read_text()) if args.before else None
    png = plot(results, args.png) if args.png else None
    if args.write:
        write_summary(results, png, before, args.note)
    print(table(results))
    if before is not None:
        print(comparison(before, results))


if __name__ == "__main__":
    main()
