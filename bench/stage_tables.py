"""The tables of each stage alone: the stages in notifications/s, OPA by recipients, the policy
against its frozen baseline, our stages beside the engines' own clients, and cost growth."""

from __future__ import annotations

from typing import Any

from bench.cells import BACKENDS, fmt, markdown


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
        [name, fmt(ours["per_s"]), fmt(alone["per_s"]), how, fmt(alone["per_s"] / ours["per_s"], 1)]
        for name, ours, alone, how in pairs
        if ours and alone and ours["per_s"]
    ]
    return markdown(["stage", "ours /s", "engine alone /s", "engine alone: how", "factor"], rows)


def opa_policy_table(comparison: dict[str, Any]) -> str:
    """This checkout's policy against the frozen baseline (issue #17): `opa bench`, same input and run."""
    base, new = comparison["baseline"], comparison["policy"]
    rows = [
        [
            name,
            fmt(v["ms_per_op"], 3),
            fmt(v["ms_per_op_min"], 3),
            fmt(v["allocs_per_op"]),
            fmt(v["bytes_per_op"]),
            fmt(v["ops"]),
        ]
        for name, v in (("baseline (bench/baseline_policy)", base), ("policy (policies/)", new))
    ]
    rows.append(["policy / baseline", fmt(comparison["ratio_ms"], 3), "", fmt(comparison["ratio_allocs"], 3), "", ""])
    header = [
        f"OPA eval, {comparison['recipients']} recipients, same decision",
        "ms/decision (median of runs)",
        "fastest run ms",
        "allocs/decision",
        "bytes/decision",
        "decisions",
    ]
    return markdown(header, rows)


def stages_table(results: dict[str, Any]) -> str:
    """Each stage alone, and what it comes to in notifications/s with this workload's counts."""
    st = results["stages"]
    per = results["summary"]["per_notification"]
    stage_rows = [
        [
            "OPA REST decisions (the gateway's client, 16 in flight)",
            fmt(st["opa_decisions"]["per_s"]),
            "1 per notification",
            fmt(st["opa_decisions"]["per_s"]),
        ],
        [
            "seals (HPKE X25519/AES-256-GCM + Ed25519), 1 core",
            fmt(st["seals"]["per_s"]),
            f"{per['seals']} per notification",
            fmt(st["seals"]["per_s"] / per["seals"]),
        ],
    ]
    for backend in BACKENDS:
        a = st.get(f"log_appends_{backend}")
        if a:
            stage_rows.append(
                [
                    f"log appends, {backend} (group commit, 64 x 3 entries)",
                    fmt(a["per_s"]),
                    f"{per['log_appends']} per notification",
                    fmt(a["per_s"] / per["log_appends"]),
                ]
            )
    stage_rows += [
        [
            "Kafka produce (idempotent, acks=all, SCRAM, ~6 KB records)",
            fmt(st["kafka_produce"]["per_s"]),
            f"{per['kafka_records']} per notification",
            fmt(st["kafka_produce"]["per_s"] / per["kafka_records"]),
        ],
        [
            "FastAPI no-op POST (uvicorn, 1 worker, same body)",
            fmt(st["fastapi_noop"]["accepted_per_s"]),
            "1 per notification",
            fmt(st["fastapi_noop"]["accepted_per_s"]),
        ],
    ]
    return markdown(["stage alone", "ops/s", "per notification", "notifications/s"], stage_rows)


def opa_recipients_table(results: dict[str, Any]) -> str | None:
    """OPA's decisions/s and its own timers by the number of recipients in a decision."""
    by = results["stages"].get("opa_by_recipients")
    if not by:
        return None
    rows = [
        [
            n,
            fmt(v["per_s"]),
            fmt(v["opa_metrics_ms"].get("timer_rego_query_eval_ns"), 2),
            fmt(v["opa_metrics_ms"].get("timer_server_handler_ns"), 2),
        ]
        for n, v in by.items()
    ]
    header = [
        "OPA, recipients per decision",
        "decisions/s (16 in flight)",
        "OPA eval ms (its own timer, one at a time)",
        "OPA handler ms",
    ]
    return markdown(header, rows)


def opa_policy_vs_baseline_table(results: dict[str, Any]) -> str | None:
    comparison = results["stages"].get("opa_policy_vs_baseline")
    return opa_policy_table(comparison) if comparison else None


def growth_table(results: dict[str, Any]) -> str | None:
    """How the gateway's cost grows with recipients and payload (SQLite, saturation)."""
    scaling = results["end_to_end"].get("sqlite", {}).get("scaling")
    if not scaling:
        return None
    rows = []
    for kind, label in (("recipients", "recipients (4 KiB)"), ("payload_kib", "payload KiB (3 recipients)")):
        for value, run in scaling[kind].items():
            rows.append(
                [
                    f"{label} = {value}",
                    fmt(run["accepted_per_s"]),
                    fmt(run.get("gateway_cpu_ms_per_notification"), 2),
                    fmt(run.get("worker_cpu_ms_per_notification"), 2),
                    fmt(run["service_latency_ms"]["p50"], 1),
                ]
            )
    header = ["SQLite, saturation", "accepted/s", "gateway CPU ms/notification", "worker CPU ms/notification"]
    return markdown([*header, "p50 ms"], rows)
