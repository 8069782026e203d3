"""The benchmark suite: its durations and rates, and the `Suite` that runs each measurement in turn."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import breakdown, harness
from bench.durations import FULL, QUICK
from bench.meter import CpuMeter, family, kafka_pid, pid_listening, profiler
from bench.provenance import git_revision, load_average, machine, workload
from bench.stage_survey import StageSurvey
from bench.summary import summarise
from bench.trial import check_logged, non_accepted, run_load
from bench.workload import PARTNERSHIP_ID, bench_namespace, provision_partnership

RESULTS = Path(__file__).resolve().parent / "results"
OFFERED_RATES = (50, 200, 500)
# Real load: well under 10/s nationally (issue #17), so one partnership's gateway is nearly idle.
REALISTIC_RATES = (2, 10)
SCALE_WORKERS = (1, 2, 4)


class Suite:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.d = QUICK if args.quick else FULL
        self.stack = harness.load_stack_env()
        self.work = Path(tempfile.mkdtemp(prefix="sgb-bench-"))
        self.root = self.work / "partnership"
        provision_partnership(self.root)
        self.namespace = bench_namespace()
        self.results: dict[str, Any] = {
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "label": args.label,
            "mode": "quick" if args.quick else "full",
            "machine": machine(),
            "load_average_before": load_average(),
            "git": git_revision(),
            "workload": workload(),
        }
        self.kafka_pid = kafka_pid()

    def meter(self, gateway: harness.Gateway, opa_pid: int, database: str) -> CpuMeter:
        parts: dict[str, list[int] | str] = {"opa": [opa_pid], "kafka": [self.kafka_pid] if self.kafka_pid else []}
        parts["gateway"] = [gateway.process.pid]
        if gateway.worker is not None:
            parts["worker"] = [gateway.worker.pid]
        if database == "postgresql":
            parts["postgresql"] = "postgres"
        return CpuMeter(parts)

    def run(self) -> dict[str, Any]:
        started = time.monotonic()
        harness.grant_relay(self.stack, self.namespace)
        try:
            with harness.private_opa(self.stack["SGB_OPA_BIN"], self.work) as opa_url:
                self.opa_url = opa_url
                self.opa_pid = pid_listening(opa_url)
                self.results["stages"] = self.measure_stages()
                self.results["end_to_end"] = {}
                self.backend("sqlite", f"sqlite:///{self.work / 'gateway.db'}", scaling=True)
                if not self.args.no_postgres:
                    with harness.scratch_postgres(self.stack["SGB_PG_URL"]) as pg_url:
                        self.backend("postgresql", pg_url, scaling=False)
                    self.results["scale_curve"] = self.scale_curve()
        finally:
            asyncio.run(harness.delete_namespace_topics(self.stack, self.namespace))
            self.results["load_average_after"] = load_average()
            self.results["wall_seconds"] = round(time.monotonic() - started, 1)
        self.results["summary"] = summarise(self.results)
        return self.results

    # stages ---------------------------------------------------------------------------------------

    def measure_stages(self) -> dict[str, Any]:
        """Each stage alone (`bench.stage_survey`), with this suite's OPA, partnership and namespace."""
        survey = StageSurvey(
            d=self.d,
            stack=self.stack,
            opa_url=self.opa_url,
            root=self.root,
            work=self.work,
            namespace=self.namespace,
            no_postgres=self.args.no_postgres,
            spec=self.spec,
        )
        return survey.measure_stages()

    def gateway_env(self, database_url: str) -> dict[str, str]:
        return harness.gateway_env(
            partnership_root=self.root,
            database_url=database_url,
            opa_url=self.opa_url,
            stack=self.stack,
            partnership_id=PARTNERSHIP_ID,
            namespace=self.namespace,
        )

    def scale_curve(self) -> dict[str, Any]:
        """Throughput and p99 with 1, 2 and 4 gateway processes on one PostgreSQL (uvicorn workers)."""
        out: dict[str, Any] = {}
        print("scale curve (PostgreSQL):", flush=True)
        for workers in SCALE_WORKERS:
            with harness.scratch_postgres(self.stack["SGB_PG_URL"]) as pg_url:
                out[str(workers)] = self._scale_point(pg_url, workers)
            point = out[str(workers)]
            print(
                f"  {workers} gateway process(es): {point['accepted_per_s']:,.0f}/s at saturation, p99 "
                f"{point['p99_at_half_ms']} ms at {point['half_rate']}/s, gateway "
                f"{point['gateway_cores']} cores, OPA {point['opa_cores']}, PostgreSQL {point['postgresql_cores']}",
                flush=True,
            )
        return out

    def _scale_point(self, pg_url: str, workers: int) -> dict[str, Any]:
        env = self.gateway_env(pg_url)
        gateway = harness.start_gateway(f"gateway-pg-{workers}w", env, pg_url, self.work, workers=workers)
        try:
            parts: dict[str, list[int] | str] = {
                "gateway": family(gateway.process.pid),
                "worker": [gateway.worker.pid] if gateway.worker else [],
                "opa": [self.opa_pid],
                "postgresql": "postgres",
            }
            meter = CpuMeter(parts)
            sat = run_load(self.spec(gateway.url, mode="closed", duration=self.d.scaling), self.work, meter, gateway)
            half = max(1, int(sat["accepted_per_s"] / 2))
            fixed = run_load(
                self.spec(gateway.url, mode="open", rate=half, duration=self.d.scaling), self.work, meter, gateway
            )
        finally:
            gateway.stop()
        cpu = sat.get("cpu_cores", {})
        return {
            "accepted_per_s": sat["accepted_per_s"],
            "p99_saturation_ms": sat["latency_ms"]["p99"],
            "half_rate": half,
            "p99_at_half_ms": fixed["latency_ms"]["p99"],
            "gateway_cores": cpu.get("gateway"),
            "worker_cores": cpu.get("worker"),
            "opa_cores": cpu.get("opa"),
            "postgresql_cores": cpu.get("postgresql"),
            "machine_busy_cores": cpu.get("machine_busy_cores"),
        }

    def spec(
        self,
        url: str,
        *,
        mode: str,
        duration: float,
        concurrency: int = 64,
        rate: int | None = None,
        recipients: int = 3,
        payload_bytes: int = 4096,
        return_ids: bool = False,
    ) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "url": url,
            "partnership_root": str(self.root),
            "recipients": recipients,
            "payload_bytes": payload_bytes,
            "mode": mode,
            "warmup": self.d.warmup,
            "duration": duration,
            "concurrency": concurrency,
            "max_rate": self.args.max_rate,
            "return_ids": return_ids,
            "timeout": 20,
        }
        if rate is not None:
            spec.update(rate=rate, max_in_flight=512)
        return spec

    # end to end -------------------------------------------------------------------------------------

    def backend(self, name: str, database_url: str, *, scaling: bool) -> None:
        d = self.d
        env = self.gateway_env(database_url)
        gateway = harness.start_gateway(f"gateway-{name}", env, database_url, self.work, workers=self.args.workers)
        result: dict[str, Any] = {"workers": self.args.workers}
        self.results["end_to_end"][name] = result
        accepted_ids: list[str] = []
        try:
            meter = self.meter(gateway, self.opa_pid, name)
            print(f"end to end ({name}):", flush=True)
            seconds = int(d.warmup + d.saturation + 2)
            profile = (
                profiler(gateway.process.pid, base=RESULTS / f"profile-{name}", seconds=seconds)
                if self.args.profile
                else contextlib.nullcontext()
            )
            with profile:
                sat = run_load(
                    self.spec(gateway.url, mode="closed", duration=d.saturation, return_ids=True),
                    self.work,
                    meter,
                    gateway,
                )
            accepted_ids += sat.pop("accepted_ids")
            result["saturation"] = sat
            print(
                f"  saturation: {sat['accepted_per_s']:,.0f} accepted/s, p99 {sat['latency_ms']['p99']} ms, "
                f"gateway {sat.get('gateway_cpu_ms_per_notification')} ms CPU each; worker published "
                f"{sat.get('published_per_s')}/s at {sat.get('worker_cpu_ms_per_notification')} ms CPU each, "
                f"drained {sat['relay']['backlog_at_end']} rows left in {sat['relay']['drain_seconds']} s",
                flush=True,
            )
            half = max(1, int(sat["accepted_per_s"] / 2))
            token = gateway.env["SGB_METRICS_TOKEN"]
            before = breakdown.scrape(gateway.url, token)
            result["half_saturation"] = run_load(
                self.spec(gateway.url, mode="open", rate=half, duration=d.fixed, return_ids=True),
                self.work,
                meter,
                gateway,
            )
            result["half_saturation"]["breakdown"] = breakdown.between(before, breakdown.scrape(gateway.url, token))
            accepted_ids += result["half_saturation"].pop("accepted_ids")
            result["half_saturation"]["rate"] = half
            print(
                f"  half of saturation ({half}/s): p99 {result['half_saturation']['latency_ms']['p99']} ms", flush=True
            )
            result["fixed"] = self.open_loops(gateway, meter, OFFERED_RATES, d.fixed, "offered", accepted_ids)
            result["realistic"] = self.open_loops(
                gateway, meter, REALISTIC_RATES, d.realistic, "real load", accepted_ids
            )
            result["log_check"] = check_logged(database_url, accepted_ids, recipients=3)
            print(
                f"  every accepted notification logged: {result['log_check']['all_logged']} "
                f"({result['log_check']['accepted_checked']} checked)",
                flush=True,
            )
            if scaling:
                result["scaling"] = self.scaling(gateway, meter)
        finally:
            gateway.stop()

    def open_loops(
        self,
        gateway: harness.Gateway,
        meter: CpuMeter,
        rates: tuple[int, ...],
        duration: float,
        label: str,
        accepted_ids: list[str],
    ) -> dict[str, Any]:
        """One open-loop run per offered rate; their accepted ids join `accepted_ids` (checked in the log)."""
        out: dict[str, Any] = {}
        for rate in rates:
            run = run_load(
                self.spec(gateway.url, mode="open", rate=rate, duration=duration, return_ids=True),
                self.work,
                meter,
                gateway,
            )
            accepted_ids += run.pop("accepted_ids")
            out[str(rate)] = run
            lat = run["latency_ms"]
            print(
                f"  {rate}/s {label}: {run['accepted_per_s']:,.0f}/s accepted, p50 {lat['p50']} p95 {lat['p95']} "
                f"p99 {lat['p99']} ms, gateway {run.get('gateway_cpu_ms_per_notification')} ms CPU each, "
                f"non-202 {non_accepted(run)}",
                flush=True,
            )
        return out

    def scaling(self, gateway: harness.Gateway, meter: CpuMeter) -> dict[str, Any]:
        out: dict[str, Any] = {"recipients": {}, "payload_kib": {}}
        print("  cost growth (saturation):", flush=True)
        for kind, values in (("recipients", (1, 3, 10)), ("payload_kib", (1, 4, 32))):
            for value in values:
                recipients = value if kind == "recipients" else 3
                payload = 4096 if kind == "recipients" else value * 1024
                run = run_load(
                    self.spec(
                        gateway.url,
                        mode="closed",
                        duration=self.d.scaling,
                        recipients=recipients,
                        payload_bytes=payload,
                    ),
                    self.work,
                    meter,
                    gateway,
                )
                out[kind][str(value)] = run
                print(
                    f"    {kind}={value}: {run['accepted_per_s']:,.0f}/s, "
                    f"{run.get('gateway_cpu_ms_per_notification')} ms gateway CPU each, "
                    f"{run.get('worker_cpu_ms_per_notification')} ms worker CPU each, "
                    f"p50 {run['service_latency_ms']['p50']} ms",
                    flush=True,
                )
        return out
