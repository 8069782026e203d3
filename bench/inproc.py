"""The gateway's CPU per notification, in process: a quick loop for profile-driven work.

``python -m bench.inproc [--count N] [--concurrency C] [--relay]`` posts N notifications of the
benchmark's workload (`bench.workload`) through `httpx.ASGITransport` to `create_app(...)` on a
scratch SQLite database and a private OPA, then the same number of requests to the FastAPI no-op
(`bench.noop_app`) the same way, and prints the process CPU (`time.process_time()`, every thread)
per request for each and their ratio. Tokens are signed before the clock starts, as the load
generator does. OPA runs in its own process, so its CPU is not counted: what is measured is the
gateway's own work plus the in-process client, which the no-op pays too. No Kafka: the relay is
off unless ``--relay`` (then it needs the local stack's Kafka). ``--postgres`` runs on a scratch database
of the stack's PostgreSQL instead of SQLite; ``--statements`` also prints what the database was asked per
notification (`bench.statements`: statements by kind and table, commits, rollbacks), e.g. with
``--concurrency 1`` so no group commit shares its statements.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from bench import harness
from bench.statements import StatementCount
from bench.workload import SENDER, bench_namespace, notification, provision_partnership

AUDIENCE = "safeguarding-broker"


def _requests(root: Path, count: int, recipients: int) -> list[tuple[dict[str, str], bytes]]:
    from broker.partnership.cli import issue_token
    from devstack.partnership import LocalPartnership

    keys = LocalPartnership(root, "").agency_keys(SENDER)
    template = notification(recipients, 4096)
    out = []
    for _ in range(count):
        nid = str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json",
            "Authorization": "Bearer " + issue_token(keys, role="agency_system", audience=AUDIENCE),
            "Idempotency-Key": f"bench-{nid}",
        }
        out.append((headers, json.dumps({**template, "notification_id": nid}).encode()))
    return out


async def _drive(
    app: FastAPI, requests: list[tuple[dict[str, str], bytes]], concurrency: int
) -> tuple[float, float, dict[int, int]]:
    """Post every request, `concurrency` at a time; return (CPU seconds, wall seconds, statuses)."""
    statuses: dict[int, int] = {}
    pending = iter(requests)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:

        async def worker() -> None:
            for headers, body in pending:
                answer = await client.post("/v1/notifications", content=body, headers=headers)
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.process_time() - cpu, time.perf_counter() - wall, statuses


async def _with_lifespan(app: FastAPI, run: Callable[[], Awaitable[Any]]) -> Any:
    async with app.router.lifespan_context(app):
        return await run()


def _noop_cpu_ms(requests: list[tuple[dict[str, str], bytes]], warmup: int, concurrency: int) -> float:
    from bench.noop_app import app as noop

    asyncio.run(_drive(noop, requests[:warmup], concurrency))
    cpu, _, _ = asyncio.run(_drive(noop, requests, concurrency))
    return cpu / len(requests) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=600, help="notifications to time")
    parser.add_argument("--warmup", type=int, default=60, help="notifications before the clock starts")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--recipients", type=int, default=3, help="recipients per notification")
    parser.add_argument("--relay", action="store_true", help="run the relay in the gateway (needs Kafka)")
    parser.add_argument("--no-noop", action="store_true", help="skip the no-op (e.g. under a profiler)")
    parser.add_argument("--postgres", action="store_true", help="a scratch database on the stack's PostgreSQL")
    parser.add_argument("--statements", action="store_true", help="count the database statements per notification")
    args = parser.parse_args()
    count = StatementCount()
    if args.statements:
        count.install()

    from broker.app import create_app
    from broker.settings import BrokerSettings

    stack = harness.load_stack_env()
    with (
        tempfile.TemporaryDirectory(prefix="sgb-inproc-") as tmp,
        harness.private_opa(stack["SGB_OPA_BIN"], Path(tmp)) as opa_url,
        harness.scratch_postgres(stack["SGB_PG_URL"])
        if args.postgres
        else contextlib.nullcontext(f"sqlite:///{tmp}/gateway.db") as database_url,
    ):
        root = Path(tmp) / "partnership"
        provision_partnership(root)
        namespace = bench_namespace()
        if args.relay:
            harness.grant_relay(stack, namespace)
        env = harness.gateway_env(
            partnership_root=root,
            database_url=database_url,
            opa_url=opa_url,
            stack=stack,
            partnership_id="bench_scp",
            namespace=namespace,
        )
        fields: dict[str, object] = {k.removeprefix("SGB_").lower(): v for k, v in env.items()}
        settings = BrokerSettings.model_validate(
            {**fields, "run_relay_in_gateway": args.relay, "log_verify_seconds": 0}
        )
        app = create_app(settings)
        warm = _requests(root, args.warmup, args.recipients)
        measured = _requests(root, args.count, args.recipients)

        async def run() -> tuple[float, float, dict[int, int]]:
            await _drive(app, warm, args.concurrency)
            count.counting = True
            try:
                return await _drive(app, measured, args.concurrency)
            finally:
                count.counting = False

        try:
            cpu, wall, statuses = asyncio.run(_with_lifespan(app, run))
        finally:
            if args.relay:
                asyncio.run(harness.delete_namespace_topics(stack, namespace))
    accepted = statuses.get(202, 0)
    per = cpu / max(accepted, 1) * 1000
    noop_per = float("nan") if args.no_noop else _noop_cpu_ms(measured, args.warmup, args.concurrency)
    print(
        json.dumps(
            {
                "statuses": statuses,
                "cpu_ms_per_notification": round(per, 3),
                "per_s_wall": round(accepted / wall, 1),
                "noop_cpu_ms_per_request": round(noop_per, 3),
                "ratio_to_noop": round(per / noop_per, 1),
                **({"database": count.per_request(len(measured))} if args.statements else {}),
            }
        )
    )


if __name__ == "__main__":
    main()
