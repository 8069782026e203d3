"""The engines alone, through their own clients and none of our code: yardsticks for two stages.

Issue #17 asks that log appends and Kafka produce come within a factor of what the engine itself does
on this machine. These measure the same shape of work with nothing of ours in the way:

- rows of the size of a log entry inserted in commits of the group commit's size, with the same
  durability (SQLite: WAL and `synchronous=NORMAL`, as `audit.engine` sets; PostgreSQL: the stack's
  server, a plain table, `executemany` in one transaction per commit);
- records of an envelope's size sent by a plain producer with the relay's durability (idempotent,
  `acks=all`) but the client's own batching (`linger_ms`, no await per batch).

The factor between a stage and its yardstick is what our code costs on top of the engine.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from aiokafka import AIOKafkaProducer

from schemas.topics import inbox_topic
from transport.kafka import TopicSettings, ensure_topics

# A decided entry as the log stores it is about this size (its canonical JSON plus hashes).
ENTRY_BYTES = 1100
# The group commit takes up to 64 submitters of 3 entries each in one transaction.
ROWS_PER_COMMIT = 192


def _rows(count: int, size: int) -> list[tuple[int, bytes]]:
    return [(i, os.urandom(size)) for i in range(count)]


def sqlite_inserts(
    directory: Path, *, rows: int, size: int = ENTRY_BYTES, per_commit: int = ROWS_PER_COMMIT
) -> dict[str, Any]:
    """Inserts/s into a fresh WAL-mode SQLite file, one commit per `per_commit` rows."""
    path = directory / f"engine-{uuid.uuid4().hex[:8]}.db"
    data = _rows(rows, size)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE entry (seq INTEGER PRIMARY KEY, body BLOB NOT NULL)")
        started = time.perf_counter()
        for start in range(0, rows, per_commit):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO entry (seq, body) VALUES (?, ?)", data[start : start + per_commit])
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return {"per_s": round(rows / elapsed, 1), "rows": rows, "row_bytes": size, "rows_per_commit": per_commit}


def postgres_inserts(
    url: str, *, rows: int, size: int = ENTRY_BYTES, per_commit: int = ROWS_PER_COMMIT
) -> dict[str, Any]:
    """Inserts/s into a scratch table of the given database, one transaction per `per_commit` rows."""
    table = f"engine_bench_{uuid.uuid4().hex[:8]}"
    data = _rows(rows, size)
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute(f"CREATE TABLE {table} (seq bigint PRIMARY KEY, body bytea NOT NULL)")
        conn.commit()
        try:
            started = time.perf_counter()
            for start in range(0, rows, per_commit):
                with conn.cursor() as cursor:
                    cursor.executemany(
                        f"INSERT INTO {table} (seq, body) VALUES (%s, %s)",  # noqa: S608 - our own random name
                        data[start : start + per_commit],
                    )
                conn.commit()
            elapsed = time.perf_counter() - started
        finally:
            conn.execute(f"DROP TABLE {table}")
            conn.commit()
    return {"per_s": round(rows / elapsed, 1), "rows": rows, "row_bytes": size, "rows_per_commit": per_commit}


async def kafka_plain_produce(
    kafka_config: dict[str, Any], *, namespace: str, records: int, size: int, linger_ms: int = 5
) -> dict[str, Any]:
    """Records/s from a plain idempotent acks=all producer that lets the client batch (no await per batch)."""
    topic = inbox_topic("bench-engine", namespace=namespace)
    await ensure_topics(kafka_config, [topic], settings=TopicSettings())
    producer = AIOKafkaProducer(
        enable_idempotence=True, acks="all", linger_ms=linger_ms, max_batch_size=1 << 20, **kafka_config
    )
    await producer.start()
    value = os.urandom(size)
    try:
        await (await producer.send(topic, value=value, key=b"warm"))
        started = time.perf_counter()
        futures = [await producer.send(topic, value=value, key=f"k{i % 64}".encode()) for i in range(records)]
        await asyncio.gather(*futures)
        elapsed = time.perf_counter() - started
    finally:
        await producer.stop()
    return {"per_s": round(records / elapsed, 1), "records": records, "record_bytes": size, "linger_ms": linger_ms}
