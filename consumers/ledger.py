"""The consumer's own state: what it has handed to its sink, so a redelivery never goes twice; what it
removed on the broker's notice, so a delivery that arrives after its withdrawal is never handed over;
and the last checkpoint of the broker's log it accepted as a witness (with its cosignature on it)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS processed (
    delivery_id TEXT PRIMARY KEY,
    notification_id TEXT NOT NULL,
    processed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)"""
WITHDRAWN_SCHEMA = """
CREATE TABLE IF NOT EXISTS withdrawn (
    delivery_id TEXT PRIMARY KEY,
    notice_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    withdrawn_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)"""
# One row per notice done: a second notice about one delivery (an erasure after its withdrawal) is
# still applied; `withdrawn` alone, one row per delivery, would skip it and yet confirm it.
NOTICES_SCHEMA = """
CREATE TABLE IF NOT EXISTS notices_done (
    notice_id TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    done_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)"""
# The strongest recall wins the delivery's row: an erasure after a withdrawal is what it now is.
WITHDRAW = """
INSERT INTO withdrawn (delivery_id, notice_id, kind, reason) VALUES (?, ?, ?, ?)
ON CONFLICT (delivery_id) DO UPDATE SET notice_id = excluded.notice_id, kind = excluded.kind, reason = excluded.reason
WHERE excluded.kind = 'erasure'"""
WITNESS_SCHEMA = """
CREATE TABLE IF NOT EXISTS kept_checkpoint (
    origin TEXT PRIMARY KEY,
    tree_size INTEGER NOT NULL,
    note TEXT NOT NULL,
    cosignature TEXT NOT NULL,
    posted INTEGER NOT NULL DEFAULT 0,
    kept_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)"""
# A kept checkpoint an operator set aside after a witness alarm the partnership resolved: kept for good,
# with the incident's reference, as the evidence of where trust ended.
SET_ASIDE_SCHEMA = """
CREATE TABLE IF NOT EXISTS set_aside_checkpoint (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    origin TEXT NOT NULL,
    tree_size INTEGER NOT NULL,
    note TEXT NOT NULL,
    cosignature TEXT NOT NULL,
    reference TEXT NOT NULL,
    set_aside_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)"""
# One statement, so the swap is atomic; the WHERE makes it a compare-and-set that never moves back.
KEEP = """
INSERT INTO kept_checkpoint (origin, tree_size, note, cosignature) VALUES (?, ?, ?, ?)
ON CONFLICT (origin) DO UPDATE SET
    tree_size = excluded.tree_size, note = excluded.note, cosignature = excluded.cosignature, posted = 0,
    kept_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
WHERE excluded.tree_size >= kept_checkpoint.tree_size"""


@dataclass(frozen=True)
class KeptCheckpoint:
    """The broker-signed checkpoint note this agency last accepted, its cosignature, and whether the gateway has it."""

    tree_size: int
    note: str
    cosignature: str
    posted: bool


class Ledger:
    """A small SQLite table keyed by delivery id (one per notification and recipient)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(SCHEMA)
        self._conn.execute(WITNESS_SCHEMA)
        self._conn.execute(WITHDRAWN_SCHEMA)
        self._conn.execute(NOTICES_SCHEMA)
        self._conn.execute(SET_ASIDE_SCHEMA)
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

    def withdrawn(self, delivery_id: str) -> bool:
        return self.recall_of(delivery_id) is not None

    def notification_of(self, delivery_id: str) -> str | None:
        """The notification of a delivery handed to the sink, or None if none was."""
        row = self._conn.execute(
            "SELECT notification_id FROM processed WHERE delivery_id = ?", (delivery_id,)
        ).fetchone()
        return None if row is None else str(row[0])

    def recall_of(self, delivery_id: str) -> str | None:
        """The kind of the strongest notice that recalled the delivery (withdrawal, correction, erasure), if any."""
        row = self._conn.execute("SELECT kind FROM withdrawn WHERE delivery_id = ?", (delivery_id,)).fetchone()
        return None if row is None else str(row[0])

    def notice_done(self, notice_id: str) -> bool:
        row = self._conn.execute("SELECT 1 FROM notices_done WHERE notice_id = ?", (notice_id,)).fetchone()
        return row is not None

    def remember_withdrawal(self, *, delivery_id: str, notice_id: str, kind: str, reason: str) -> None:
        """The delivery is recalled (never handed over again) and this notice done, in one commit."""
        with self._conn:
            self._conn.execute(WITHDRAW, (delivery_id, notice_id, kind, reason))
            self._conn.execute(
                "INSERT OR IGNORE INTO notices_done (notice_id, delivery_id, kind) VALUES (?, ?, ?)",
                (notice_id, delivery_id, kind),
            )

    def kept_checkpoint(self, origin: str) -> KeptCheckpoint | None:
        row = self._conn.execute(
            "SELECT tree_size, note, cosignature, posted FROM kept_checkpoint WHERE origin = ?", (origin,)
        ).fetchone()
        return None if row is None else KeptCheckpoint(int(row[0]), row[1], row[2], bool(row[3]))

    def keep_checkpoint(self, origin: str, *, tree_size: int, note: str, cosignature: str) -> bool:
        """Keep `note` and this agency's `cosignature` on it, unless a larger tree is kept already."""
        cursor = self._conn.execute(KEEP, (origin, tree_size, note, cosignature))
        self._conn.commit()
        return cursor.rowcount == 1

    def set_aside(self, origin: str, *, reference: str) -> KeptCheckpoint | None:
        """Move the kept checkpoint of `origin` aside, in one commit; the next one a record brings is kept
        afresh. None, and nothing changed, if none was kept."""
        with self._conn:
            kept = self.kept_checkpoint(origin)
            if kept is None:
                return None
            self._conn.execute(
                "INSERT INTO set_aside_checkpoint (origin, tree_size, note, cosignature, reference)"
                " VALUES (?, ?, ?, ?, ?)",
                (origin, kept.tree_size, kept.note, kept.cosignature, reference),
            )
            self._conn.execute("DELETE FROM kept_checkpoint WHERE origin = ?", (origin,))
        return kept

    def mark_posted(self, origin: str, tree_size: int) -> None:
        """Record that the gateway stored this agency's cosignature on the kept checkpoint."""
        self._conn.execute(
            "UPDATE kept_checkpoint SET posted = 1 WHERE origin = ? AND tree_size = ?", (origin, tree_size)
        )
        self._conn.commit()

    def close(self) -> None:
        self._conn.close()
