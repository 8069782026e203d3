"""`make bench`: the gateway end to end on the real stack, each stage alone, and how cost grows.

Run: ``.venv/bin/python -m bench.run [--quick] [--no-postgres] [--profile] [--label TEXT]``; ``--opa-only``
runs only the OPA policy vs baseline stage (`opa bench`, a few seconds).

One run, on one machine, measures:

1. each stage alone (OPA REST decisions, log appends on SQLite and PostgreSQL, seals, Kafka
   produce, a FastAPI no-op), converted to notifications/s with the per-notification counts of
   the workload (3 appends, one seal and one Kafka record per shared recipient);
2. per database (SQLite, then PostgreSQL): a fresh gateway (`python -m broker.gateway`, one
   uvicorn worker, `SGB_RUN_RELAY_IN_GATEWAY=false`) and one `python -m broker.worker` relaying its
   outbox to Kafka, as docker-compose.yml runs them, on a new database; accepted notifications/s at
   saturation (closed loop, 64 connections), then p50/p95/p99 latency at fixed offered loads (50,
   200, 500/s, open loop) and at the loads a partnership really sees (2 and 10/s: England's referrals
   to children's social care are about 1,700 a day), waiting for the worker to empty the outbox
   after each run; afterwards
   every accepted notification is checked to have its decisions in the log (a 202 is only sent
   after that commit);
3. on SQLite, saturation again with 1, 3 and 10 recipients (4 KiB) and 1, 4 and 32 KiB payloads
   (3 recipients), with the gateway's CPU per notification.

"Gateway CPU per notification" is the request path alone (the gateway process during the measured
window ÷ accepted); the relay's cost is the worker's own figure: its CPU from the start of a run
until the outbox is empty again ÷ the notifications it published in that time. "Published/s" is
what reached Kafka during the measured window, so a worker falling behind the 202s shows there
(and in the backlog left at the end of the run), not hidden in the end-to-end rate.

The load generator (`bench.loadgen`) is a separate process on the same 2 cores, as are Kafka, OPA
and PostgreSQL. Results: `bench/results/<time>.json` and `.png` (and `latest.*`); `--write-summary`
also rewrites `bench/RESULTS.md`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench import harness, plot, report, stage_tables, stages, tables
from bench.durations import FULL, QUICK, Durations
from bench.suite import RESULTS, Suite
from bench.workload import provision_partnership


def opa_only(d: Durations) -> None:
    """The OPA policy vs baseline stage alone: the opa binary and a throw-away partnership, nothing else."""
    work = Path(tempfile.mkdtemp(prefix="sgb-bench-opa-"))
    try:
        provision_partnership(work / "partnership")
        out = stages.opa_policy_vs_baseline(
            harness.load_stack_env()["SGB_OPA_BIN"], work / "partnership", work, count=d.opa_bench_runs
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(stage_tables.opa_policy_table(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs (about 2 minutes)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--profile", action="store_true", help="py-spy the gateway during saturation")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers for the gateway")
    parser.add_argument(
        "--max-rate",
        type=int,
        default=2500,
        help="closed loop: prepare enough requests for this rate (tokens are signed up front)",
    )
    parser.add_argument("--label", default="", help="a note stored with the results (e.g. 'before')")
    parser.add_argument("--write-summary", action="store_true", help="rewrite bench/RESULTS.md from this run")
    parser.add_argument(
        "--opa-only",
        action="store_true",
        help="only the OPA policy vs baseline stage (`opa bench`, no stack services); prints, stores nothing",
    )
    args = parser.parse_args()
    if args.opa_only:
        opa_only(QUICK if args.quick else FULL)
        return
    results = Suite(args).run()
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"{stamp}.json"
    out.write_text(json.dumps(results, indent=2))
    shutil.copyfile(out, RESULTS / "latest.json")
    png = plot.draw(results, RESULTS / f"{stamp}.png")
    if png is not None:
        shutil.copyfile(png, RESULTS / "latest.png")
    print(tables.table(results))
    print(f"results: {out}" + (f" and {png}" if png else ""))
    if args.write_summary:
        report.write_summary(results, png)


if __name__ == "__main__":
    main()
