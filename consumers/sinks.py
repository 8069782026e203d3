"""Where a verified, decrypted notification goes: the agency's own system.

Three sinks, chosen by configuration: a local SQLite inbox and a directory of JSON files (both here),
and a webhook (`consumers/webhook.py`). Each is idempotent on the delivery id, so a redelivery after a
crash never duplicates a case record.
Each leads with `decided_by`, the finding(s) that decided this agency should receive it (rule id,
plain-English message, effect), so whoever picks the delivery up reads why before what.

On the broker's signed notice (withdrawal, correction, erasure) each sink removes the delivery and
leaves a tombstone that says when, why, and (for a correction) what replaces it, so the agency's
system can tell a withdrawn referral from one that never came. The SQLite inbox deletes with
`secure_delete`, so the removed payload is overwritten in the file rather than left in free pages.

The tombstone outlives the delivery: read again (a lost ledger, a topic re-read from the start), a
recalled delivery is refused with `DeliveryWithdrawn`, never answered as a harmless redelivery, so the
consumer does not receipt it as delivered. The SQLite inbox and the directory keep their tombstones
themselves; the webhook's case system keeps the one its DELETE carried (`consumers/webhook.py`).

The SQLite inbox and the directory's files are readable by their owner alone (0600): they hold
decrypted case data. An inbox others can read is refused at start (`_owner_only`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from consumers.errors import ConfigurationError, DeliveryWithdrawn, SinkError
from schemas.envelope import DecidingFinding
from schemas.notice import Notice, NoticeKind


@dataclass(frozen=True)
class Delivery:
    """One opened delivery: why it came, who sent what to whom, and the fields this agency may see."""

    # The finding(s) that set the outcome, from the signed header; empty for an envelope sealed
    # before headers carried them.
    decided_by: tuple[DecidingFinding, ...]
    delivery_id: str
    notification_id: str
    message_type: str
    sender_agency: str
    recipient_agency: str
    payload: dict[str, Any]
    schema_version: str
    # `sha256:<hex>` of the sealed envelope: names exactly what arrived without revealing content.
    envelope_digest: str
    sealed_at: str

    def deciding(self) -> list[dict[str, str]]:
        return [finding.model_dump(mode="json") for finding in self.decided_by]

    def as_json(self) -> dict[str, Any]:
        # First key on purpose: JSON readers and people scanning a file meet the reason first.
        return {
            "decided_by": self.deciding(),
            "delivery_id": self.delivery_id,
            "notification_id": self.notification_id,
            "message_type": self.message_type,
            "schema_version": self.schema_version,
            "sender_agency": self.sender_agency,
            "recipient_agency": self.recipient_agency,
            "sealed_at": self.sealed_at,
            "envelope_digest": self.envelope_digest,
            "payload": self.payload,
        }


class Sink(Protocol):
    async def deliver(self, delivery: Delivery) -> bool:
        """Hand over one delivery; False if it was already there (a redelivery).

        Raises `DeliveryWithdrawn` if the sink keeps a tombstone for it: it is not taken back.
        """
        ...

    async def withdraw(self, notice: Notice) -> bool:
        """Remove the delivery `notice` names and keep a tombstone; False if it was not there."""
        ...


def tombstone(notice: Notice) -> dict[str, Any]:
    """What a sink keeps of a removed delivery: ids, what happened and why, never its content."""
    return {
        "delivery_id": notice.delivery_id,
        "notification_id": notice.notification_id,
        "kind": notice.kind,
        "reason": notice.reason,
        "superseded_by": notice.superseded_by,
        "notice_id": notice.notice_id,
        "issued_at": notice.issued_at,
    }


CREATE_INBOX = """
CREATE TABLE IF NOT EXISTS inbox (
    delivery_id TEXT PRIMARY KEY,
    decided_by TEXT NOT NULL DEFAULT '[]',
    notification_id TEXT NOT NULL,
    message_type TEXT NOT NULL,
    schema_version TEXT NOT NULL,
    sender_agency TEXT NOT NULL,
    envelope_digest TEXT NOT NULL,
    sealed_at TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)"""
# A tombstone outlives the row: a withdrawn delivery read again (a lost ledger, a topic re-read from
# the start) must not go back in, least of all after an erasure.
INSERT_INBOX = """
INSERT OR IGNORE INTO inbox (
    delivery_id, notification_id, message_type, schema_version, sender_agency, envelope_digest,
    sealed_at, body, decided_by
) SELECT :delivery_id, :notification_id, :message_type, :schema_version, :sender_agency, :envelope_digest,
         :sealed_at, :body, :decided_by
WHERE NOT EXISTS (SELECT 1 FROM inbox_withdrawn WHERE delivery_id = :delivery_id)"""
# An inbox made before deliveries carried their deciding findings gains the column in place.
ADD_DECIDED_BY = "ALTER TABLE inbox ADD COLUMN decided_by TEXT NOT NULL DEFAULT '[]'"
CREATE_WITHDRAWN = """
CREATE TABLE IF NOT EXISTS inbox_withdrawn (
    delivery_id TEXT PRIMARY KEY,
    notification_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    superseded_by TEXT,
    notice_id TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    removed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
)"""
# The tombstone says the strongest recall: an erasure after a withdrawal is what the agency must act on.
INSERT_WITHDRAWN = """
INSERT INTO inbox_withdrawn (
    delivery_id, notification_id, kind, reason, superseded_by, notice_id, issued_at
) VALUES (:delivery_id, :notification_id, :kind, :reason, :superseded_by, :notice_id, :issued_at)
ON CONFLICT (delivery_id) DO UPDATE SET
    kind = excluded.kind, reason = excluded.reason, notice_id = excluded.notice_id, issued_at = excluded.issued_at
WHERE excluded.kind = 'erasure' AND inbox_withdrawn.kind != 'erasure'"""
SELECT_INBOX = """
SELECT decided_by, delivery_id, notification_id, message_type, schema_version, sender_agency, sealed_at,
       received_at, body
FROM inbox ORDER BY rowid"""


class SqliteInboxSink:
    """A local inbox table; the insert is the de-duplication, so delivery is exactly once."""

    def __init__(self, path: Path, *, busy_seconds: float = 30.0) -> None:
        self._path = path
        # How long a statement, or the checkpoint that clears a withdrawal from the WAL, waits for others.
        self._busy_seconds = busy_seconds
        _owner_only(path)
        with self._connect() as conn:
            conn.execute(CREATE_INBOX)
            conn.execute(CREATE_WITHDRAWN)
            columns = {row[1] for row in conn.execute("PRAGMA table_info(inbox)")}
            if "decided_by" not in columns:
                with contextlib.suppress(sqlite3.OperationalError):  # another process added it first
                    conn.execute(ADD_DECIDED_BY)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._path, timeout=self._busy_seconds)
        conn.execute("PRAGMA journal_mode=WAL")
        # A withdrawn or erased payload is overwritten on delete, not left readable in a free page.
        conn.execute("PRAGMA secure_delete=ON")
        return conn

    async def deliver(self, delivery: Delivery) -> bool:
        inserted, recalled = await asyncio.to_thread(self._insert, delivery)
        if recalled is not None:
            raise DeliveryWithdrawn(delivery.delivery_id, recalled)
        return inserted

    def _insert(self, delivery: Delivery) -> tuple[bool, str | None]:
        """Whether the row went in, and else the kind of the tombstone that kept it out, if one did."""
        try:
            with self._connect() as conn:
                cursor = conn.execute(
                    INSERT_INBOX,
                    {
                        "delivery_id": delivery.delivery_id,
                        "notification_id": delivery.notification_id,
                        "message_type": delivery.message_type,
                        "schema_version": delivery.schema_version,
                        "sender_agency": delivery.sender_agency,
                        "envelope_digest": delivery.envelope_digest,
                        "sealed_at": delivery.sealed_at,
                        "body": json.dumps(delivery.payload, sort_keys=True),
                        "decided_by": json.dumps(delivery.deciding()),
                    },
                )
                if cursor.rowcount == 1:
                    return True, None
                # Same transaction as the insert: the tombstone that kept the row out, not a later one.
                kept = conn.execute(
                    "SELECT kind FROM inbox_withdrawn WHERE delivery_id = ?", (delivery.delivery_id,)
                ).fetchone()
                return False, None if kept is None else str(kept[0])
        except sqlite3.Error as exc:
            raise SinkError(f"inbox write failed: {exc}") from exc

    async def withdraw(self, notice: Notice) -> bool:
        return await asyncio.to_thread(self._remove, notice)

    def _remove(self, notice: Notice) -> bool:
        kept = tombstone(notice)
        try:
            with self._connect() as conn:
                removed = conn.execute("DELETE FROM inbox WHERE delivery_id = ?", (notice.delivery_id,)).rowcount
                conn.execute(INSERT_WITHDRAWN, kept)
            # The WAL still holds the deleted page until a checkpoint copies it back and truncates.
            with contextlib.closing(self._connect()) as conn:
                busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.Error as exc:
            raise SinkError(f"inbox withdrawal failed: {exc}") from exc
        if busy:
            # A reader of an older snapshot keeps the WAL, payload frames and all: the removal is not
            # done until they are gone, so no receipt may say so yet. The consumer tries again.
            raise SinkError("inbox withdrawal not complete: a reader still holds the removed payload in the WAL")
        return bool(removed)

    def withdrawn(self) -> list[dict[str, Any]]:
        """Every tombstone, oldest first."""
        with self._connect() as conn:
            conn.row_factory = sqlite3.Row
            return [dict(row) for row in conn.execute("SELECT * FROM inbox_withdrawn ORDER BY rowid")]

    def delivery_ids(self) -> list[str]:
        with self._connect() as conn:
            return [row[0] for row in conn.execute("SELECT delivery_id FROM inbox ORDER BY rowid")]

    def rows(self) -> list[dict[str, Any]]:
        """Return every inbox row, oldest first, with the payload decoded."""
        with self._connect() as conn:
            conn.row_factory = sqlite3.Row
            found = [dict(row) for row in conn.execute(SELECT_INBOX)]
        for row in found:
            row["decided_by"] = json.loads(row["decided_by"])
            row["payload"] = json.loads(row.pop("body"))
        return found


def _owner_only(path: Path) -> None:
    """Create the inbox readable by its owner alone, or refuse one that others can read.

    The inbox holds decrypted case data: it is created 0600 before SQLite opens it, since SQLite would
    make it 0666 less the umask (0644, readable by every local user), and SQLite gives its -wal and
    -shm files, which hold the same data, the database file's mode. An inbox, WAL or shared-memory
    file already readable by others (made by an earlier version, or chmod-ed) is refused with the
    command that fixes it, as a key file is, rather than tightened quietly: the operator learns that
    case data was exposed.
    """
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigurationError(f"cannot create the inbox {path}: {exc.strerror} (--sink or CONSUMER_SINK)") from exc
    exposed: dict[str, str] = {}
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            mode = stat.S_IMODE(file.stat().st_mode)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise ConfigurationError(f"cannot read the inbox file {file}: {exc.strerror}") from exc
        if mode & 0o077:
            exposed[str(file)] = f"{mode:04o}"
    if exposed:
        modes = ", ".join(f"{file} has mode {mode}" for file, mode in exposed.items())
        raise ConfigurationError(
            f"other users can read the case data in the inbox ({modes}); run `chmod 600 {' '.join(exposed)}`"
        )


class DirectorySink:
    """One JSON file per delivery, written atomically; an existing file means already delivered, a
    tombstone beside it (`<delivery_id>.withdrawn.json`) that it was recalled."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot create the directory {directory}: {exc.strerror} (--sink or CONSUMER_SINK)"
            ) from exc

    def _paths(self, delivery_id: str) -> tuple[Path, Path]:
        """The delivery's file and its tombstone."""
        return self._dir / f"{delivery_id}.json", self._dir / f"{delivery_id}.withdrawn.json"

    def _sync_dir(self) -> None:
        # A rename or unlink is only on disk once its directory is: without this a crash could undo a
        # delivery or an erasure that the ledger, the receipt and the committed offset already report.
        fd = os.open(self._dir, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    async def deliver(self, delivery: Delivery) -> bool:
        return await asyncio.to_thread(self._write, delivery)

    def _write(self, delivery: Delivery) -> bool:
        target, marker = self._paths(delivery.delivery_id)
        partial = target.with_suffix(".partial")
        try:
            if marker.exists():
                raise DeliveryWithdrawn(delivery.delivery_id, _marker_kind(marker))
            if target.exists():
                # Also a retry after a failed directory sync: the entry must be durable before a receipt.
                self._sync_dir()
                return False
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                # Unsorted: `as_json` already puts `decided_by` (rule, message, effect) first.
                json.dump(delivery.as_json(), handle, indent=2)
                handle.flush()
                os.fsync(handle.fileno())
            partial.replace(target)
            self._sync_dir()
        except OSError as exc:
            raise SinkError(f"directory write failed: {exc}") from exc
        return True

    async def withdraw(self, notice: Notice) -> bool:
        return await asyncio.to_thread(self._unlink, notice)

    def _unlink(self, notice: Notice) -> bool:
        target, marker = self._paths(notice.delivery_id)
        try:
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(tombstone(notice), handle, indent=2)
                handle.flush()
                # On disk before the delivery goes: a crash never loses both the file and its tombstone.
                os.fsync(handle.fileno())
            marker.chmod(0o600)  # O_CREAT's mode does not narrow a marker that already exists
            present = target.exists()
            target.unlink(missing_ok=True)
            self._sync_dir()
        except OSError as exc:
            raise SinkError(f"directory withdrawal failed: {exc}") from exc
        return present


def known_kind(value: object) -> str | None:
    # The kind reaches the consumer's log: only the notice kinds, never whatever text a body held.
    return value if isinstance(value, str) and value in {kind.value for kind in NoticeKind} else None


def _marker_kind(marker: Path) -> str | None:
    try:
        return known_kind(json.loads(marker.read_text()).get("kind"))
    except (ValueError, AttributeError):  # unreadable or not an object: recalled all the same
        return None
