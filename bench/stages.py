"""Each stage of a notification's path measured alone, with the gateway's own code and settings.

- OPA: `broker.sharing.policy.PolicyEngine.decide` (the gateway's aiohttp client) against the benchmark's
  OPA serving this checkout's `policies/`, with the registry loaded and the same policy input.
- OPA policy vs baseline: `opa bench` (in-process evaluation, no HTTP) of this checkout's `policies/` and
  of the frozen `bench/baseline_policy/` (the policy before issue #17), one after the other in the same
  run on the same 3-recipient input: ms and allocations per decision and their ratio, after checking
  with `opa eval` that both decide identically (apart from `policy_revision`).
- Log appends: `audit.AppendBatcher` (group commit), 64 concurrent submitters of 3 drafts each.
- Seals: `transport.sealing.seal` (HPKE to the recipient's X25519 key + Ed25519 signature) of the
  real projection OPA allows for each shared recipient.
- Seal suites: the same real projection sealed (and opened) with each HPKE suite, X25519 and the
  post-quantum hybrid MLKEM768-X25519: microseconds per seal and per open, and envelope bytes.
- Kafka produce: an idempotent `acks=all` aiokafka producer as the relay configures it, the relay's
  SCRAM principal, records of the real sealed size with CloudEvents headers, sent in batches of
  200 and gathered (as the relay does).
- FastAPI no-op: `bench.noop_app` under uvicorn (1 worker), driven by the same load generator.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

import audit
from bench.audit_bench import batched_appends
from bench.workload import PARTNERSHIP_ID, notification
from broker.delivery.relay import PRODUCER_OPTIONS
from broker.partnership.keys import key_id, load_broker_keys
from broker.partnership.registry import load_registry
from broker.sharing.decide import Decision, read_answer, read_decision
from broker.sharing.policy import PolicyEngine, RawDecision
from schemas.envelope import SUITE_NAME, EnvelopeHeader
from schemas.notifications import Notification, parse_notification
from schemas.policy_input import build_policy_input, project
from schemas.topics import inbox_topic
from schemas.vocab import HELD_OUTCOMES, SHARED_OUTCOMES
from transport.kafka import TopicSettings, ensure_topics
from transport.kem import HybridPrivateKey, RecipientPrivateKey
from transport.sealing import open_envelope, seal

REPO = Path(__file__).resolve().parents[1]
POLICY_DIR = REPO / "policies"
BASELINE_POLICY_DIR = REPO / "bench" / "baseline_policy"
DECISION_QUERY = "data.safeguarding.decision.decision"


async def opa_decisions(
    opa_url: str,
    partnership_root: Path,
    *,
    duration: float,
    concurrency: int = 16,
    recipients: int = 3,
    payload_bytes: int = 4096,
) -> dict[str, Any]:
    registry = load_registry(partnership_root / "registry.json")
    parsed = parse_notification(notification(recipients, payload_bytes))
    policy_input = build_policy_input(parsed, PARTNERSHIP_ID).model_dump(mode="json")
    async with PolicyEngine(opa_url, timeout=5.0, entrypoint="safeguarding/decision/decision") as engine:
        await engine.push_registry(registry.to_opa_data())
        first = await engine.decide(policy_input)
        decision = _decided(first, parsed)
        count, latencies = 0, []
        deadline = time.perf_counter() + duration
        started = time.perf_counter()

        async def worker() -> None:
            nonlocal count
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                await engine.decide(policy_input)
                latencies.append(time.perf_counter() - t0)
                count += 1

        await asyncio.gather(*[worker() for _ in range(concurrency)])
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "per_s": round(count / elapsed, 1),
        "count": count,
        "concurrency": concurrency,
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 3),
        "outcomes": [r.outcome for r in decision.recipients],
    }


async def opa_eval_metrics(
    opa_url: str, partnership_root: Path, *, recipients: int = 3, payload_bytes: int = 4096, samples: int = 30
) -> dict[str, Any]:
    """OPA's own timers for one decision (`?metrics=true`), sequentially: median over `samples`."""
    import aiohttp

    parsed = parse_notification(notification(recipients, payload_bytes))
    body = {"input": build_policy_input(parsed, PARTNERSHIP_ID).model_dump(mode="json")}
    url = f"{opa_url}/v1/data/safeguarding/decision/decision?metrics=true"
    timers: dict[str, list[int]] = {}
    async with aiohttp.ClientSession() as session:
        for _ in range(samples):
            async with session.post(url, json=body) as response:
                metrics = (await response.json())["metrics"]
            for name, value in metrics.items():
                if name.startswith("timer_") and isinstance(value, int):
                    timers.setdefault(name, []).append(value)
    return {name: round(sorted(v)[len(v) // 2] / 1e6, 3) for name, v in timers.items()} | {"unit": "ms"}


def _policy_args(policy: Path, data_file: Path, input_file: Path) -> list[str]:
    return ["-d", str(policy), "-d", str(data_file), "-i", str(input_file), DECISION_QUERY]


def _opa_decision(opa_bin: str, policy: Path, data_file: Path, input_file: Path) -> dict[str, Any]:
    done = subprocess.run(
        [opa_bin, "eval", "--format", "json", *_policy_args(policy, data_file, input_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    decision: dict[str, Any] = json.loads(done.stdout)["result"][0]["expressions"][0]["value"]
    decision.pop("policy_revision", None)
    return decision


def _opa_bench(opa_bin: str, policy: Path, data_file: Path, input_file: Path) -> dict[str, Any]:
    """One `opa bench` run of the decision (Go's benchmark loop, about a second)."""
    done = subprocess.run(
        [opa_bin, "bench", "--format", "json", "--count", "1", *_policy_args(policy, data_file, input_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    run = json.loads(done.stdout)
    return {
        "ms_per_op": run["T"] / run["N"] / 1e6,
        "allocs_per_op": run["MemAllocs"] / run["N"],
        "bytes_per_op": run["MemBytes"] / run["N"],
        "ops": run["N"],
    }


def opa_policy_vs_baseline(
    opa_bin: str,
    partnership_root: Path,
    work: Path,
    *,
    recipients: int = 3,
    payload_bytes: int = 4096,
    count: int = 3,
) -> dict[str, Any]:
    """This checkout's policy against the frozen baseline: same input, same run, alternating runs."""
    registry = load_registry(partnership_root / "registry.json")
    parsed = parse_notification(notification(recipients, payload_bytes))
    input_file = work / "opa-bench-input.json"
    data_file = work / "opa-bench-data.json"
    input_file.write_text(json.dumps(build_policy_input(parsed, PARTNERSHIP_ID).model_dump(mode="json")))
    data_file.write_text(json.dumps({"registry": registry.to_opa_data()}))
    decisions = {
        name: _opa_decision(opa_bin, policy, data_file, input_file)
        for name, policy in (("baseline", BASELINE_POLICY_DIR), ("policy", POLICY_DIR))
    }
    if decisions["baseline"] != decisions["policy"]:
        raise AssertionError("the policy and its baseline decide this input differently")
    # Alternate single runs so both see the same machine load.
    per_run: dict[str, list[dict[str, Any]]] = {"baseline": [], "policy": []}
    for _ in range(count):
        for name, policy in (("baseline", BASELINE_POLICY_DIR), ("policy", POLICY_DIR)):
            per_run[name].append(_opa_bench(opa_bin, policy, data_file, input_file))
    out: dict[str, Any] = {"recipients": recipients, "same_decision": True}
    for name, runs in per_run.items():
        ms = sorted(r["ms_per_op"] for r in runs)
        out[name] = {
            "ms_per_op": round(statistics.median(ms), 3),
            "ms_per_op_min": round(ms[0], 3),
            "allocs_per_op": round(statistics.median(r["allocs_per_op"] for r in runs)),
            "bytes_per_op": round(statistics.median(r["bytes_per_op"] for r in runs)),
            "runs": len(runs),
            "ops": sum(r["ops"] for r in runs),
        }
    base, new = out["baseline"], out["policy"]
    out["ratio_ms"] = round(new["ms_per_op"] / base["ms_per_op"], 3)
    out["ratio_allocs"] = round(new["allocs_per_op"] / base["allocs_per_op"], 3)
    out["outcomes"] = [r["outcome"] for r in decisions["policy"]["recipients"]]
    return out


async def allowed_projections(
    opa_url: str, partnership_root: Path, recipients: int, payload_bytes: int
) -> tuple[Notification, Decision]:
    registry = load_registry(partnership_root / "registry.json")
    parsed = parse_notification(notification(recipients, payload_bytes))
    async with PolicyEngine(opa_url, timeout=5.0, entrypoint="safeguarding/decision/decision") as engine:
        await engine.push_registry(registry.to_opa_data())
        raw = await engine.decide(build_policy_input(parsed, PARTNERSHIP_ID).model_dump(mode="json"))
    return parsed, _decided(raw, parsed)


def _decided(raw: RawDecision, parsed: Notification) -> Decision:
    """The gateway's reading of OPA's answer for the benchmark's notification (which OPA always decides)."""
    answer = read_answer(raw)
    if answer.result is None:
        raise RuntimeError("OPA returned no decision for the benchmark's notification")
    return read_decision(answer.result, answer.decision_id, parsed)


def sealed_envelopes(
    parsed: Notification, decision: Decision, partnership_root: Path
) -> list[tuple[dict[str, Any], Any]]:
    """(seal keyword arguments, envelope) for every recipient the gateway would seal for."""
    registry = load_registry(partnership_root / "registry.json")
    keys = load_broker_keys(partnership_root / "broker-keys")
    out = []
    for recipient in decision.recipients:
        if recipient.outcome not in SHARED_OUTCOMES | HELD_OUTCOMES:
            continue
        agency = registry.agency(recipient.agency_id)
        assert agency is not None
        key = agency.current_encryption_key
        header = EnvelopeHeader(
            delivery_id=str(uuid.uuid4()),
            notification_id=str(parsed.notification_id),
            sender_agency=parsed.sender.agency_id,
            recipient_agency=agency.id,
            message_type=parsed.message_type.value,
            schema_version=parsed.schema_version,
            recipient_key_id=key.kid,
        )
        kwargs: dict[str, Any] = {
            "payload": project(parsed, recipient.allowed_fields),
            "header": header,
            "recipient_public_key": key.recipient_key(),
            "signing_key": keys.signing_key,
            "signing_key_id": keys.signing_key_id,
            "sealed_at": datetime.now(UTC),
        }
        out.append((kwargs, seal(**kwargs)))
    return out


def seals(prepared: list[tuple[dict[str, Any], Any]], *, duration: float) -> dict[str, Any]:
    """Seal the shared recipients' projections round-robin on one core for `duration` seconds."""
    count = 0
    deadline = time.perf_counter() + duration
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        for kwargs, _ in prepared:
            seal(**kwargs)
            count += 1
    elapsed = time.perf_counter() - started
    return {
        "per_s": round(count / elapsed, 1),
        "count": count,
        "us_per_seal": round(elapsed / count * 1e6, 1),
        "envelope_bytes": [len(env.to_bytes()) for _, env in prepared],
    }


def suite_seals(prepared: list[tuple[dict[str, Any], Any]], *, duration: float, batch: int = 50) -> dict[str, Any]:
    """Seal (and open) the first shared projection with each suite, in alternating batches for `duration`.

    Batches alternate so both suites see the same machine load; the median batch is reported (the
    development machines are shared, so a mean over one stretch says more about the neighbours).
    """
    kwargs = prepared[0][0]
    signing = {kwargs["signing_key_id"]: kwargs["signing_key"].public_key()}
    keys: list[RecipientPrivateKey] = [X25519PrivateKey.generate(), HybridPrivateKey.generate()]
    runs: list[tuple[RecipientPrivateKey, dict[str, Any], list[float], list[float]]] = []
    for private in keys:
        header = kwargs["header"].model_copy(update={"recipient_key_id": key_id(private.public_key())})
        runs.append((private, {**kwargs, "header": header, "recipient_public_key": private.public_key()}, [], []))
    deadline = time.perf_counter() + duration
    while time.perf_counter() < deadline:
        for private, sealing, seal_us, open_us in runs:
            started = time.perf_counter()
            envelopes = [seal(**sealing) for _ in range(batch)]
            seal_us.append((time.perf_counter() - started) / batch * 1e6)
            started = time.perf_counter()
            for envelope in envelopes:
                open_envelope(
                    envelope,
                    recipient_agency=envelope.header.recipient_agency,
                    broker_keys=signing,
                    recipient_keys={envelope.header.recipient_key_id: private},
                )
            open_us.append((time.perf_counter() - started) / batch * 1e6)
    out: dict[str, Any] = {}
    for _, sealing, seal_us, open_us in runs:
        envelope = seal(**sealing)
        out["x25519" if envelope.suite == SUITE_NAME else "mlkem768_x25519"] = {
            "suite": envelope.suite,
            "us_per_seal": round(statistics.median(seal_us), 1),
            "us_per_seal_min": round(min(seal_us), 1),
            "us_per_open": round(statistics.median(open_us), 1),
            "envelope_bytes": len(envelope.to_bytes()),
            "seals": batch * len(seal_us),
        }
    return out


def log_appends(database_url: str, *, entries: int) -> dict[str, Any]:
    engine = audit.create_engine_for(database_url)
    audit.upgrade(engine)
    try:
        rate, batches = asyncio.run(batched_appends(engine, entries, 64, 3))
    finally:
        engine.dispose()
    return {"per_s": round(rate, 1), "entries": entries, "commits": batches, "concurrency": 64, "entries_per_submit": 3}


async def kafka_produce(
    kafka_config: dict[str, Any], envelopes: list[bytes], *, namespace: str, duration: float, batch: int = 200
) -> dict[str, Any]:
    topic = inbox_topic("bench-stage", namespace=namespace)
    await ensure_topics(kafka_config, [topic], settings=TopicSettings())
    producer = AIOKafkaProducer(**PRODUCER_OPTIONS, **kafka_config)
    await producer.start()
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"x" * 36),
        ("ce_source", b"/sgb/bench_scp"),
        ("ce_type", b"uk.safeguarding.safeguarding_referral.v1.0"),
        ("ce_time", b"2026-01-01T00:00:00.000000Z"),
        ("content-type", b"application/vnd.sgb.envelope+json"),
        ("sgb_notification_id", b"y" * 36),
    ]
    count = 0
    try:
        # one warm-up batch (metadata, producer id) outside the clock
        await asyncio.gather(*[await producer.send(topic, value=envelopes[0], key=b"warm", headers=headers)])
        deadline = time.perf_counter() + duration
        started = time.perf_counter()
        while time.perf_counter() < deadline:
            futures = [
                await producer.send(topic, value=envelopes[i % len(envelopes)], key=f"k{i}".encode(), headers=headers)
                for i in range(batch)
            ]
            await asyncio.gather(*futures)
            count += batch
        elapsed = time.perf_counter() - started
    finally:
        await producer.stop()
    return {
        "per_s": round(count / elapsed, 1),
        "count": count,
        "batch": batch,
        "record_bytes": sum(len(e) for e in envelopes) // len(envelopes),
    }
