"""Decision-log benchmark (not a test): appends/s, verification of 1,000,000 entries, proof sizes.

Run: ``.venv/bin/python bench/audit_bench.py [--pg URL] [--entries N] [--verify-entries N]``.
PostgreSQL is measured when ``--pg`` or ``SGB_PG_URL`` gives an admin URL (a scratch database is
created and dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text
from sqlmodel import Session

from audit import (
    AppendBatcher,
    EntryDraft,
    Signer,
    append,
    create_engine_for,
    pseudonymise,
    upgrade,
    verify_log,
)
from audit.auditor import Checkpoint, ConsistencyProof, InclusionProof
from audit.canonical import canonical_bytes, format_time
from audit.chain import GENESIS, leaf_hash, link_hash
from audit.log import _values
from audit.merkle import MerkleTree
from audit.models import entry_document
from audit.note import sign_note
from audit.verify import verify_rows

SECRET = b"bench-only-pseudonym-secret-0123456789"
SIGNER = Signer("bench.invalid/decision-log", Ed25519PrivateKey.generate())


def draft(i: int) -> EntryDraft:
    return EntryDraft(
        notification_id=f"ntf-{i // 3}",
        delivery_id=f"ntf-{i // 3}.r{i % 3}",
        kind="decided",
        outcome="share_minimised",
        sender_agency="school-bench",
        sender_role="dsl",
        recipient_agency=f"agency-{i % 3}",
        message_type="SAFEGUARDING_REFERRAL",
        reasons=[{"rule": "GR6", "message": "Necessary and proportionate."}],
        lawful_basis="children_act_1989_s47",
        consent_state="not_sought_risk_of_harm",
        fields_released=["concern.category", "concern.summary"],
        projection_digest="ab" * 32,
        policy_revision="rev-1",
        decision_id=f"opa-{i}",
        subjects=[pseudonymise(SECRET, f"bench-subject-{i // 3}")],
    )


async def batched_appends(engine: Any, n: int, concurrency: int, per_request: int) -> tuple[float, int]:
    """Submit n entries from `concurrency` concurrent tasks, `per_request` entries per submit."""
    drafts = [draft(i) for i in range(n)]
    async with AppendBatcher(engine) as batcher:
        queue = iter(range(0, n, per_request))

        async def worker() -> None:
            for start in queue:
                await batcher.submit(drafts[start : start + per_request])

        started = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(concurrency)])
        elapsed = time.perf_counter() - started
        return n / elapsed, batcher.batches


def direct_appends(engine: Any, n: int, per_commit: int) -> float:
    drafts = [draft(i) for i in range(n)]
    started = time.perf_counter()
    for start in range(0, n, per_commit):
        with Session(engine) as session, session.begin():
            append(session, drafts[start : start + per_commit])
    return n / (time.perf_counter() - started)


def measure_backend(name: str, url: str, n: int, results: dict[str, Any]) -> None:
    # Annotated so mypy types the lambdas (a bare list of them joins to an untyped callable).
    runs: list[tuple[str, Callable[[Any], tuple[float, int | None]]]] = [
        ("batcher_c64_1per", lambda e: asyncio.run(batched_appends(e, n, 64, 1))),
        ("batcher_c64_3per", lambda e: asyncio.run(batched_appends(e, n, 64, 3))),
        ("batcher_c1_1per", lambda e: asyncio.run(batched_appends(e, n // 10, 1, 1))),
        ("direct_100_per_commit", lambda e: (direct_appends(e, n, 100), None)),
    ]
    for label, run in runs:
        engine = fresh_engine(name, url)
        rate, batches = run(engine)
        results[f"{name}.{label}.appends_per_s"] = round(rate)
        if batches is not None:
            results[f"{name}.{label}.commits"] = batches
        if label == "batcher_c64_1per":
            started = time.perf_counter()
            with Session(engine) as session:
                size = verify_log(session).size
            results[f"{name}.verify_db_{size}_entries_s"] = round(time.perf_counter() - started, 2)
        engine.dispose()
        print(f"  {name} {label}: {rate:,.0f} appends/s", flush=True)


def fresh_engine(name: str, url: str) -> Any:
    if name == "sqlite":
        path = Path(tempfile.mkdtemp()) / "bench.db"
        engine = create_engine_for(f"sqlite:///{path}")
    else:
        db = f"bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{db}"'))
        admin.dispose()
        engine = create_engine_for(url.rsplit("/", 1)[0] + f"/{db}")
    upgrade(engine)
    return engine


def synthetic_rows(n: int, timer: list[float]) -> Iterator[dict[str, Any]]:
    """Yield n raw rows as the database would return them, timing the generation separately."""
    base = _values(draft(0), 0, format_time(SIGNER_TIME))
    head = GENESIS
    for seq in range(n):
        started = time.perf_counter()
        values = dict(base, seq=seq, delivery_id=f"d.{seq}")
        leaf = leaf_hash(canonical_bytes(entry_document(values)))
        head = link_hash(head, leaf)
        row = {k: (_text(v) if isinstance(v, list) else v) for k, v in values.items()}
        row.update(leaf_hash=leaf.hex(), chain_hash=head.hex())
        timer[0] += time.perf_counter() - started
        yield row


def _text(value: Any) -> str:
    return canonical_bytes(value).decode()


SIGNER_TIME = datetime(2025, 1, 1, tzinfo=UTC)


def verify_million(n: int, results: dict[str, Any]) -> None:
    timer = [0.0]
    started = time.perf_counter()
    progress = verify_rows(synthetic_rows(n, timer), [], SIGNER.public_key)
    total = time.perf_counter() - started
    results[f"verify_in_memory_{n}_entries_s"] = round(total - timer[0], 2)
    results[f"generate_{n}_entries_s"] = round(timer[0], 2)
    print(f"  verify {n:,} entries: {total - timer[0]:.1f} s (generation {timer[0]:.1f} s)", flush=True)
    assert progress.size == n


def proof_sizes(n: int, results: dict[str, Any]) -> None:
    leaves = [leaf_hash(i.to_bytes(8, "big")) for i in range(n)]
    started = time.perf_counter()
    tree = MerkleTree(leaves)
    results[f"merkle_tree_build_{n}_s"] = round(time.perf_counter() - started, 2)
    note = sign_note(
        Checkpoint.body(SIGNER.origin, n, tree.root(), format_time(SIGNER_TIME), GENESIS),
        SIGNER.origin,
        SIGNER.key,
    )
    old_note = sign_note(
        Checkpoint.body(SIGNER.origin, n // 2 + 1, tree.root(n // 2 + 1), format_time(SIGNER_TIME), GENESIS),
        SIGNER.origin,
        SIGNER.key,
    )
    started = time.perf_counter()
    inclusion = InclusionProof(n // 3, n, tuple(tree.inclusion_path(n // 3)), note)
    consistency = ConsistencyProof(old_note, note, tuple(tree.consistency_path(n // 2 + 1)))
    results["proof_generation_ms"] = round((time.perf_counter() - started) * 1000, 2)
    results[f"inclusion_proof_{n}.hashes"] = len(inclusion.path)
    results[f"inclusion_proof_{n}.json_bytes_with_checkpoint"] = len(json.dumps(inclusion.to_json()))
    results[f"consistency_proof_{n // 2 + 1}_to_{n}.hashes"] = len(consistency.path)
    results[f"consistency_proof_{n // 2 + 1}_to_{n}.json_bytes_with_checkpoints"] = len(
        json.dumps(consistency.to_json())
    )
    results["checkpoint_note_bytes"] = len(note)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg", default=os.environ.get("SGB_PG_URL"), help="PostgreSQL URL (default $SGB_PG_URL)")
    parser.add_argument("--entries", type=int, default=20_000, help="entries to append")
    parser.add_argument("--verify-entries", type=int, default=1_000_000, help="entries in the log to verify")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    measure_backend("sqlite", "", args.entries, results)
    if args.pg:
        measure_backend("postgresql", args.pg, args.entries, results)
    verify_million(args.verify_entries, results)
    proof_sizes(args.verify_entries, results)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
