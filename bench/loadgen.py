"""The load generator: a separate process that POSTs notifications to a gateway on 127.0.0.1.

Run by `bench.trial.run_load` as ``python -m bench.loadgen SPEC.json OUT.json``. Every request is prepared
before the clock starts (a fresh notification id, a fresh single-use agency JWT, an
Idempotency-Key), so signing tokens costs the measurement nothing. Two modes:

- ``closed``: `concurrency` connections each send the next request as soon as the last answered,
  for `duration` seconds after `warmup` seconds: throughput at saturation.
- ``open``: requests are *scheduled* at a fixed `rate` whether or not earlier ones answered, and
  latency is measured from the scheduled time, so a stall counts against every request it
  delays (no coordinated omission). At most `max_in_flight` requests are outstanding; a request
  that cannot be sent because of that limit is counted as `dropped`.

The loops are bounded: each stops at its deadline or when its prepared requests run out.
"""

from __future__ import annotations

import asyncio
import gc
import json
import resource
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.workload import SENDER, notification

AUDIENCE = "safeguarding-broker"


@dataclass(frozen=True)
class Prepared:
    headers: dict[str, str]
    body: bytes
    notification_id: str


def prepare(spec: dict[str, Any], count: int) -> list[Prepared]:
    from broker.partnership.cli import issue_token
    from devstack.partnership import LocalPartnership

    keys = LocalPartnership(Path(spec["partnership_root"]), "").agency_keys(SENDER)
    template = notification(spec["recipients"], spec["payload_bytes"])
    out = []
    for _ in range(count):
        nid = str(uuid.uuid4())
        body = json.dumps({**template, "notification_id": nid}).encode()
        headers = {"Content-Type": "application/json"}
        headers["Authorization"] = "Bearer " + issue_token(keys, role="agency_system", audience=AUDIENCE)
        if spec.get("idempotency", True):
            headers["Idempotency-Key"] = f"bench-{nid}"
        out.append(Prepared(headers, body, nid))
        if spec.get("reuse_token"):  # the no-op stage: one request, sent again and again
            return out * count
    return out


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)

    return {
        "p50": at(0.50),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(ordered[-1] * 1000, 3),
        "mean": round(sum(ordered) / len(ordered) * 1000, 3),
    }


class Recorder:
    def __init__(self, window_start: float, window_end: float) -> None:
        self.window = (window_start, window_end)
        self.statuses: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.service_latencies: list[float] = []
        self.accepted_ids: list[str] = []
        self.all_accepted_ids: list[str] = []
        self.errors: Counter[str] = Counter()

    def record(self, started: float, scheduled: float, status: str, nid: str) -> None:
        ended = time.perf_counter()
        if status == "202":
            self.all_accepted_ids.append(nid)
        if not self.window[0] <= started < self.window[1]:
            return
        self.statuses[status] += 1
        if status == "202":
            self.accepted_ids.append(nid)
            self.latencies.append(ended - scheduled)
            self.service_latencies.append(ended - started)


async def _send(
    session: aiohttp.ClientSession, url: str, request: Prepared, recorder: Recorder, scheduled: float
) -> None:
    started = time.perf_counter()
    try:
        async with session.post(url, data=request.body, headers=request.headers) as response:
            await response.read()
            status = str(response.status)
    except (aiohttp.ClientError, TimeoutError) as exc:
        status = "error"
        recorder.errors[type(exc).__name__] += 1
    recorder.record(started, scheduled, status, request.notification_id)


async def closed_loop(spec: dict[str, Any], requests: list[Prepared]) -> tuple[Recorder, float]:
    url = spec["url"] + spec.get("path", "/v1/notifications")
    concurrency = spec["concurrency"]
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=spec.get("timeout", 30))
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        begin = time.perf_counter()
        window_start, deadline = begin + spec["warmup"], begin + spec["warmup"] + spec["duration"]
        recorder = Recorder(window_start, deadline)
        feed = iter(requests)

        async def worker() -> None:
            for request in feed:
                now = time.perf_counter()
                if now >= deadline:
                    return
                await _send(session, url, request, recorder, now)

        await asyncio.gather(*[worker() for _ in range(concurrency)])
        measured = min(time.perf_counter(), deadline) - window_start
    return recorder, measured


async def open_loop(spec: dict[str, Any], requests: list[Prepared]) -> tuple[Recorder, float, int]:
    url = spec["url"] + spec.get("path", "/v1/notifications")
    rate, max_in_flight = spec["rate"], spec.get("max_in_flight", 1000)
    connector = aiohttp.TCPConnector(limit=max_in_flight)
    timeout = aiohttp.ClientTimeout(total=spec.get("timeout", 30))
    dropped = 0
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        begin = time.perf_counter()
        window_start, deadline = begin + spec["warmup"], begin + spec["warmup"] + spec["duration"]
        recorder = Recorder(window_start, deadline)
        in_flight: set[asyncio.Task[None]] = set()
        for i, request in enumerate(requests):
            scheduled = begin + i / rate
            if scheduled >= deadline:
                break
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if len(in_flight) >= max_in_flight:
                dropped += 1
                continue
            task = asyncio.create_task(_send(session, url, request, recorder, scheduled))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        if in_flight:
            await asyncio.wait(in_flight, timeout=spec.get("timeout", 30))
    return recorder, spec["duration"], dropped


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    if spec["mode"] == "closed":
        count = int(spec["max_rate"] * (spec["duration"] + spec["warmup"]))
    else:
        count = int(spec["rate"] * (spec["duration"] + spec["warmup"])) + 1
    prepared_at = time.perf_counter()
    requests = prepare(spec, count)
    prepare_seconds = time.perf_counter() - prepared_at
    # Latency runs from each request's scheduled time, so this process's own pauses count against the
    # gateway: a full collection over the prepared requests stalled it 70-80 ms, every request then
    # due arriving late (seen at 64/s as a p99 of 35 ms against 27). The run is bounded; memory is not.
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        pass
    # Tell the orchestrator the clock starts now (it meters CPU over the measured window).
    Path(sys.argv[2] + ".ready").write_text(str(time.time()))
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    dropped = 0
    if spec["mode"] == "closed":
        recorder, measured = asyncio.run(closed_loop(spec, requests))
    else:
        recorder, measured, dropped = asyncio.run(open_loop(spec, requests))
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    accepted = recorder.statuses.get("202", 0)
    out = {
        "mode": spec["mode"],
        "offered_rate": spec.get("rate"),
        "concurrency": spec.get("concurrency"),
        "measured_seconds": round(measured, 3),
        "accepted": accepted,
        "accepted_per_s": round(accepted / measured, 1) if measured > 0 else 0.0,
        "statuses": dict(recorder.statuses),
        "errors": dict(recorder.errors),
        "dropped": dropped,
        "ran_out_of_requests": spec["mode"] == "closed" and len(recorder.all_accepted_ids) >= count,
        "latency_ms": percentiles(recorder.latencies),
        "service_latency_ms": percentiles(recorder.service_latencies),
        "client_cpu_seconds": round(
            (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime), 2
        ),
        "prepare_seconds": round(prepare_seconds, 2),
        "accepted_ids": recorder.all_accepted_ids if spec.get("return_ids") else [],
    }
    Path(sys.argv[2]).write_text(json.dumps(out))


if __name__ == "__main__":
    main()
