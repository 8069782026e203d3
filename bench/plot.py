"""The plot of one benchmark run (`bench/results.png`): issue #17's measures against their targets.

The series are plain functions of the stored results, so a test reads what each panel shows without
drawing; `draw` only lays them out (matplotlib is the `bench` extra, imported when drawing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.cells import BACKENDS
from bench.tables import PARTS, cpu_by_part

# Issue #17's acceptance, as the panels draw it.
END_TO_END_SHARE = 0.5  # end to end >= half the slowest stage alone
P99_TARGET_MS = 25.0  # at half of the measured saturation


def stage_bars(results: dict[str, Any]) -> list[tuple[str, float, bool]]:
    """(name, notifications/s, is end to end): each stage alone, then each database's log appends
    and its end-to-end rate, in the order the panel draws them from the bottom."""
    summary = results["summary"]["backends"]
    bars: list[tuple[str, float, bool]] = []
    first = next(iter(summary.values()), None)
    if first:
        bars += [(n, v, False) for n, v in first["stage_notifications_per_s"].items() if not n.startswith("log append")]
    for backend in BACKENDS:
        s = summary.get(backend)
        if not s:
            continue
        bars += [(n, v, False) for n, v in s["stage_notifications_per_s"].items() if n.startswith("log append")]
        bars.append((f"END TO END ({backend})", s["accepted_per_s"], True))
    return bars


def end_to_end_targets(results: dict[str, Any]) -> dict[str, float]:
    """The end-to-end rate each database needs to meet its target: half its slowest stage alone."""
    return {
        backend: END_TO_END_SHARE * s["slowest_stage_per_s"]
        for backend, s in results["summary"]["backends"].items()
        if s.get("slowest_stage_per_s")
    }


HALF_SATURATION = "half of saturation"


def latency_points(results: dict[str, Any], backend: str) -> dict[str, tuple[float, float, float]]:
    """label -> (offered/s, p50 ms, p99 ms), below saturation only: the loads a partnership sees, the
    fixed loads under the measured saturation, and half of it (the target's load, `HALF_SATURATION`)."""
    e2e = results["end_to_end"].get(backend)
    if not e2e:
        return {}
    saturation = e2e["saturation"]["accepted_per_s"]
    runs = [*e2e.get("realistic", {}).items(), *e2e.get("fixed", {}).items()]
    points = {f"{rate}/s": (float(rate), run["latency_ms"]["p50"], run["latency_ms"]["p99"]) for rate, run in runs}
    points = {label: point for label, point in points.items() if point[0] < saturation}
    half = e2e.get("half_saturation")
    if half:
        points[HALF_SATURATION] = (float(half["rate"]), half["latency_ms"]["p50"], half["latency_ms"]["p99"])
    return points


def latency_categories(results: dict[str, Any]) -> list[str]:
    """The latency panel's x axis: every fixed load any database ran below its saturation, by rate,
    then half of saturation (whose rate differs by database)."""
    fixed: dict[str, float] = {}
    for backend in BACKENDS:
        for label, (rate, _, _) in latency_points(results, backend).items():
            if label != HALF_SATURATION:
                fixed[label] = rate
    half = any(HALF_SATURATION in latency_points(results, b) for b in BACKENDS)
    return sorted(fixed, key=lambda label: fixed[label]) + ([HALF_SATURATION] if half else [])


def scale_points(results: dict[str, Any]) -> list[tuple[int, float, float, int]]:
    """(gateway processes, accepted/s at saturation, p99 ms at half of it, that half rate)."""
    curve = results.get("scale_curve") or {}
    return [
        (int(workers), p["accepted_per_s"], p["p99_at_half_ms"], p["half_rate"])
        for workers, p in sorted(curve.items(), key=lambda item: int(item[0]))
    ]


def draw(results: dict[str, Any], path: Path) -> Path | None:
    """Six panels to `path` (PNG); None, with a message, when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install -e '.[bench]'): no PNG")
        return None
    fig, axes = plt.subplots(2, 3, figsize=(19, 10))
    _stages_panel(axes[0][0], results)
    _latency_panel(axes[0][1], results)
    _cpu_panel(axes[0][2], results)
    _scale_panel(axes[1][0], results)
    for ax, kind, label in (
        (axes[1][1], "recipients", "recipients per notification (4 KiB)"),
        (axes[1][2], "payload_kib", "payload KiB (3 recipients)"),
    ):
        _growth_panel(ax, results, kind, label)
    m = results["machine"]
    fig.suptitle(
        f"sgbroker gateway benchmark {results['started_at']} ({results['git']}, {results['mode']}) — "
        f"{m['nproc']} x {m['cpu_model']}, {m['memory_gib']} GiB, shared with Kafka, OPA, PostgreSQL",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def _stages_panel(ax: Any, results: dict[str, Any]) -> None:
    bars = stage_bars(results)
    ax.barh([n for n, _, _ in bars], [v for _, v, _ in bars], color=["tab:red" if e else "tab:gray" for *_, e in bars])
    names = [n for n, _, _ in bars]
    for backend, target in end_to_end_targets(results).items():
        row = names.index(f"END TO END ({backend})")
        ax.plot([target, target], [row - 0.4, row + 0.4], color="tab:green", linewidth=3)
        ax.annotate(
            f"{bars[row][1]:,.0f}/s; target ≥ {target:,.0f}/s",
            (target, row),
            xytext=(6, -3),
            textcoords="offset points",
            fontsize=8,
        )
    ax.plot([], [], color="tab:green", linewidth=3, label=f"target: {END_TO_END_SHARE} x slowest stage alone")
    ax.set_xscale("log")
    ax.set_xlabel("notifications/s (log scale)")
    ax.set_title("Each stage alone vs end to end (3 recipients, 4 KiB)")
    ax.legend(loc="lower right", fontsize=8)


def _latency_panel(ax: Any, results: dict[str, Any]) -> None:
    categories, width = latency_categories(results), 0.2
    backends = [b for b in BACKENDS if b in results["end_to_end"]]
    halves = []
    for i, backend in enumerate(backends):
        points = latency_points(results, backend)
        if HALF_SATURATION in points:
            halves.append(f"{backend} {points[HALF_SATURATION][0]:.0f}/s")
        for j, q in enumerate(("p50", "p99")):
            xs = [k + (i * 2 + j - 1.5) * width for k, label in enumerate(categories) if label in points]
            values = [points[label][1 + j] for label in categories if label in points]
            ax.bar(xs, values, width, label=f"{backend} {q}")
    labels = [f"{HALF_SATURATION}\n({', '.join(halves)})" if c == HALF_SATURATION else c for c in categories]
    ax.set_xticks(range(len(categories)), labels, fontsize=8)
    ax.axhline(
        P99_TARGET_MS,
        color="tab:green",
        linestyle="--",
        label=f"target: p99 ≤ {P99_TARGET_MS:g} ms at half of saturation",
    )
    _plain_log_scale(ax)
    top = max((p[2] for b in backends for p in latency_points(results, b).values()), default=P99_TARGET_MS)
    ax.set_ylim(top=top * 3)  # room for the legend above the bars
    ax.set_ylabel("latency ms (from scheduled send; log scale)")
    ax.set_title("Latency below saturation, offered load (open loop)")
    ax.legend(fontsize=7, ncol=2, loc="upper left")


def _cpu_panel(ax: Any, results: dict[str, Any]) -> None:
    by_part = cpu_by_part(results)
    backends = list(by_part)
    bottoms = [0.0] * len(backends)
    for part in PARTS:
        values = [by_part[b].get(part, 0.0) for b in backends]
        ax.bar(backends, values, bottom=bottoms, label=part)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    ax.set_ylabel("CPU ms per accepted notification")
    ax.set_ylim(top=max(bottoms, default=1) * 1.35)  # room for the legend above the bars
    ax.set_title(f"Where a notification's CPU goes at saturation ({results['machine']['nproc']} cores shared)")
    ax.legend(fontsize=8, ncol=3, loc="upper center")


def _scale_panel(ax: Any, results: dict[str, Any]) -> None:
    points = scale_points(results)
    if not points:
        ax.set_visible(False)
        return
    xs = [str(w) for w, *_ in points]
    ax.bar(xs, [p[1] for p in points], color="tab:blue")
    ax.set_xlabel("gateway processes (uvicorn workers, PostgreSQL)")
    ax.set_ylabel("accepted/s at saturation", color="tab:blue")
    twin = ax.twinx()
    twin.plot(xs, [p[2] for p in points], color="tab:orange", marker="o")
    twin.axhline(P99_TARGET_MS, color="tab:green", linestyle="--", label=f"target: p99 ≤ {P99_TARGET_MS:g} ms")
    twin.legend(fontsize=8, loc="upper right")
    _plain_log_scale(twin)
    p99s = [p[2] for p in points]
    twin.set_ylim(min([*p99s, P99_TARGET_MS]) * 0.8, max(p99s) * 1.5)  # the target and every point in view
    twin.set_ylabel("p99 ms at half of that rate (log scale)", color="tab:orange")
    ax.set_title("Scale curve")


def _growth_panel(ax: Any, results: dict[str, Any], kind: str, label: str) -> None:
    scaling = results["end_to_end"].get("sqlite", {}).get("scaling")
    if not scaling:
        ax.set_visible(False)
        return
    xs = list(scaling[kind])
    ax.bar(xs, [scaling[kind][x]["accepted_per_s"] for x in xs], color="tab:blue")
    ax.set_xlabel(label)
    ax.set_ylabel("accepted/s at saturation (SQLite)", color="tab:blue")
    twin = ax.twinx()
    twin.plot(
        xs, [scaling[kind][x].get("gateway_cpu_ms_per_notification") or 0 for x in xs], color="tab:orange", marker="o"
    )
    twin.set_ylabel("gateway CPU ms per notification", color="tab:orange")
    twin.set_ylim(bottom=0)
    ax.set_title(f"Cost growth: {label}")


def _plain_log_scale(ax: Any) -> None:
    """A log-scale y axis labelled in plain milliseconds (20, 50, 100), not powers of ten."""
    from matplotlib.ticker import ScalarFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.yaxis.set_minor_formatter(ScalarFormatter())
    ax.tick_params(axis="y", which="minor", labelsize=7)
