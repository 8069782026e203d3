"""The consumer's own record of what it has handed to its sink, so a redelivery never goes twice."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS processed (
    delivery_id TEXT PRIMARY KEY,
    notification_id TEXT NOT NULL,
    processed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)"""


class Ledger:
    """A small SQLite table keyed by delivery id (one per notification and recipient)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(SCHEMA)
        self._conn.commit()

    def seen(self, delivery_id: str) -> bool:
        row = self._conn.execute("SELECT 1 FROM processed WHERE delivery_id = ?", (delivery_id,)).fetchone()
        return row is not None

    def remember(self, delivery_id: str, notification_id: str) -> None:
        self._conn.execute(
            "INSERT OR IGNORE INTO processed (delivery_id, notification_id) VALUES (?, ?)",
            (delivery_id, notification_id),
        )
        self._conn.commit()

    def close(self) -> None:
        self._conn.close()
