"""Each stage of the gateway alone, converted later to notifications/s (step 1 of `bench.run`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import engines, harness, stages
from bench.durations import Durations
from bench.meter import CpuMeter
from bench.trial import run_load


@dataclass(frozen=True, kw_only=True)
class StageSurvey:
    """The stages, measured with the suite's durations, private OPA, partnership and namespace.

    `spec` builds a load-generator spec (the suite's `Suite.spec`), for the FastAPI no-op.
    """

    d: Durations
    stack: dict[str, str]
    opa_url: str
    root: Path
    work: Path
    namespace: str
    no_postgres: bool
    spec: Callable[..., dict[str, Any]]

    def measure_stages(self) -> dict[str, Any]:
        d, out = self.d, {}
        print("stages:", flush=True)
        out["opa_decisions"] = asyncio.run(stages.opa_decisions(self.opa_url, self.root, duration=d.stage))
        print(f"  OPA REST decisions     {out['opa_decisions']['per_s']:>9,.0f}/s", flush=True)
        out["opa_by_recipients"] = {}
        for recipients in (1, 3, 10):
            metrics = asyncio.run(stages.opa_eval_metrics(self.opa_url, self.root, recipients=recipients))
            run = (
                out["opa_decisions"]
                if recipients == 3
                else asyncio.run(
                    stages.opa_decisions(self.opa_url, self.root, duration=d.stage / 2, recipients=recipients)
                )
            )
            out["opa_by_recipients"][str(recipients)] = {"per_s": run["per_s"], "opa_metrics_ms": metrics}
            print(
                f"    {recipients} recipient(s): {run['per_s']:,.0f} decisions/s, OPA evaluates one in "
                f"{metrics.get('timer_rego_query_eval_ns')} ms",
                flush=True,
            )
        out["opa_policy_vs_baseline"] = self.opa_policy()
        parsed, decision = asyncio.run(stages.allowed_projections(self.opa_url, self.root, 3, 4096))
        prepared = stages.sealed_envelopes(parsed, decision, self.root)
        out["seals"] = stages.seals(prepared, duration=d.stage)
        print(f"  seals                  {out['seals']['per_s']:>9,.0f}/s", flush=True)
        out["seal_suites"] = stages.suite_seals(prepared, duration=d.stage / 2)
        for name, suite in out["seal_suites"].items():
            print(
                f"    {name:<16} {suite['us_per_seal']:>7,.0f} µs/seal, {suite['envelope_bytes']:,} bytes", flush=True
            )
        out["log_appends_sqlite"] = stages.log_appends(
            f"sqlite:///{self.work / 'appends.db'}", entries=d.append_entries
        )
        print(f"  log appends (SQLite)   {out['log_appends_sqlite']['per_s']:>9,.0f}/s", flush=True)
        if not self.no_postgres:
            with harness.scratch_postgres(self.stack["SGB_PG_URL"]) as pg_url:
                out["log_appends_postgresql"] = stages.log_appends(pg_url, entries=d.append_entries)
            print(f"  log appends (Postgres) {out['log_appends_postgresql']['per_s']:>9,.0f}/s", flush=True)
        out["kafka_produce"] = asyncio.run(
            stages.kafka_produce(
                harness.relay_config(self.stack),
                [env.to_bytes() for _, env in prepared],
                namespace=self.namespace,
                duration=d.stage,
            )
        )
        print(f"  Kafka produce          {out['kafka_produce']['per_s']:>9,.0f}/s", flush=True)
        out["engines"] = self.engines(len(prepared[0][1].to_bytes()))
        url, process = harness.start_noop(self.work)
        try:
            meter = CpuMeter({"noop": [process.pid]})
            spec = self.spec(url, mode="closed", duration=d.stage, concurrency=64)
            # ~6k/s: sign one token and reuse it (the no-op never reads it) so preparing stays quick.
            spec.update(max_rate=12_000, reuse_token=True)
            out["fastapi_noop"] = run_load(spec, self.work, meter)
        finally:
            process.stop()
        print(f"  FastAPI no-op          {out['fastapi_noop']['accepted_per_s']:>9,.0f}/s", flush=True)
        return out

    def engines(self, record_bytes: int) -> dict[str, Any]:
        """The same work through the engines' own clients: what our log appends and produce cost on top."""
        rows = self.d.append_entries
        out: dict[str, Any] = {"sqlite_inserts": engines.sqlite_inserts(self.work, rows=rows)}
        if not self.no_postgres:
            with harness.scratch_postgres(self.stack["SGB_PG_URL"]) as pg_url:
                out["postgresql_inserts"] = engines.postgres_inserts(pg_url, rows=rows)
        out["kafka_plain_produce"] = asyncio.run(
            engines.kafka_plain_produce(
                harness.relay_config(self.stack), namespace=self.namespace, records=rows, size=record_bytes
            )
        )
        for name, run in out.items():
            print(f"    engine alone: {name:<20} {run['per_s']:>9,.0f}/s", flush=True)
        return out

    def opa_policy(self) -> dict[str, Any]:
        """`opa bench` of this checkout's policy and the frozen baseline (issue #17), same input and run."""
        out = stages.opa_policy_vs_baseline(
            self.stack["SGB_OPA_BIN"], self.root, self.work, count=self.d.opa_bench_runs
        )
        base, new = out["baseline"], out["policy"]
        print(
            f"  OPA policy vs baseline ({out['recipients']} recipients, opa bench): "
            f"{new['ms_per_op']:.3f} vs {base['ms_per_op']:.3f} ms/decision (x{out['ratio_ms']}), "
            f"{new['allocs_per_op']:,} vs {base['allocs_per_op']:,} allocs (x{out['ratio_allocs']})",
            flush=True,
        )
        return out
