"""The decision log's trust anchor kept in a file, so that it outlives the gateway process.

`DecisionLog.anchor` is the largest checkpoint this gateway signed, held outside the database so
that verification catches an insider who deletes the log's tail together with the checkpoints that
would betray it. Held in memory only, a restart forgot it: truncate, restart (or wait for one), and
the new process anchored itself to the shorter log. With `SGB_ANCHOR_FILE` the anchor is also kept
in a file on storage the database's administrators cannot reach, read back before the first
checkpoint of a new process, and a log that no longer extends it stops the gateway from starting.

Several gateway processes may share the file. Each write holds an exclusive `flock` on a lock file
beside it, re-reads the file inside the lock and replaces it (temporary file in the same directory,
fsync, rename, fsync of the directory) only with a larger checkpoint, so the file never goes back
and a crash leaves the old checkpoint or the new one, never a part.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

import audit
from audit.auditor import open_checkpoint
from audit.merkle import CompactRange
from broker.errors import AnchorFileInvalid, LogBehindAnchor

log = logging.getLogger("broker.db.anchor")

# Stable codes for the JSON log's `status` field, for an alert to match on.
BEHIND: str = "log_behind_anchor"
INVALID: str = "anchor_file_invalid"
# A checkpoint note is a few hundred bytes; anything much larger is not one of ours.
_MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class Departure:
    """How the log fails to extend an anchor: its size, and what differs."""

    log_size: int
    what: str


class AnchorFile:
    """One anchor file: `read` it, `restore` a process's anchor from it, `keep` a larger checkpoint in it."""

    def __init__(self, path: Path, *, verify_keys: Sequence[Ed25519PublicKey]) -> None:
        self.path = path
        # Every key of the broker's signing history: a checkpoint filed before a rotation is still its own.
        self._verify_keys = tuple(verify_keys)
        self._lock_path = path.with_name(path.name + ".lock")

    def read(self) -> audit.Checkpoint | None:
        """The checkpoint the file holds, opened with the broker's keys; None while there is no file.

        AnchorFileInvalid for a file that cannot be read or that no broker key signed: gateways
        write it whole or not at all, so that is damage or tampering, and it fails closed.
        """
        try:
            with self.path.open("rb") as handle:
                raw = handle.read(_MAX_BYTES + 1)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._invalid(f"cannot be read ({type(exc).__name__}: {exc.strerror or exc})") from exc
        if len(raw) > _MAX_BYTES:
            raise self._invalid(f"is over {_MAX_BYTES} bytes, far larger than a checkpoint")
        try:
            return open_checkpoint(raw.decode("utf-8"), self._verify_keys)
        except (UnicodeDecodeError, audit.CheckpointInvalid) as exc:
            raise self._invalid(f"holds no checkpoint signed by any of the broker's keys ({exc})") from exc

    def restore(self, engine: Engine) -> audit.Checkpoint | None:
        """The file's checkpoint, once the log is shown to extend it; None while there is no file.

        Cheap (a few indexed reads, `departure`), so it runs before every start; the full O(n)
        verification (`broker.db.verification`) then holds every entry to the same anchor.
        LogBehindAnchor for a log that does not extend it, AnchorFileInvalid for an unusable file.
        """
        try:
            kept = self.read()
        except AnchorFileInvalid as exc:
            log.error("start refused: %s", exc, extra={"status": INVALID})
            raise
        if kept is None:
            return None
        with Session(engine) as session:
            departed = departure(session, kept)
        if departed is not None:
            refused = LogBehindAnchor(
                f"the decision log does not extend the checkpoint in the anchor file {self.path}: the anchor "
                f"is of {kept.size} entries and the log {departed.what} (the log's size: {departed.log_size}). "
                "Entries or checkpoints were removed or rewritten after a gateway signed them, or this is "
                "another database (a restored backup?). Put back a database that holds the anchor's entries; "
                "to start on this log on purpose, move the anchor file aside (keep it: it is the evidence) "
                "and start again",
                path=str(self.path),
                anchor_size=kept.size,
                log_size=departed.log_size,
            )
            log.error("start refused: %s", refused, extra={"status": BEHIND, "count": departed.log_size})
            raise refused
        return kept

    def keep(self, checkpoint: audit.Checkpoint) -> audit.Checkpoint:
        """File `checkpoint` unless the file already holds one at least as large; return what it holds now.

        AnchorFileInvalid (logged) if the file holds something unusable: it is left as it is, evidence.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _exclusive(self._lock_path):
            try:
                held = self.read()  # inside the lock: another gateway may have filed a larger one
            except AnchorFileInvalid as exc:
                log.error("anchor not filed: %s", exc, extra={"status": INVALID})
                raise
            if held is not None and held.size >= checkpoint.size:
                return held
            _replace(self.path, checkpoint.note.encode("utf-8"))
            return checkpoint

    def _invalid(self, why: str) -> AnchorFileInvalid:
        return AnchorFileInvalid(
            f"the anchor file {self.path} {why}. Gateways write it whole or not at all, so it was damaged "
            "or replaced: put back a copy a broker key signed, or, to start without the anchor on purpose, "
            "move it aside (keep it) and start again",
            path=str(self.path),
        )


def departure(session: Session, anchor: audit.Checkpoint) -> Departure | None:
    """How the stored log fails to extend `anchor`, or None if it does, in a few indexed reads.

    The log is as long as both its entries and its chain head say; the entry at the anchor's last
    position must carry its chain head (the chain commits to every entry before it), and the tree of
    the anchor's size its root: from the chain head row at that size, else from the stored checkpoint
    of that size, else (no such row: it was deleted) recomputed from the leaves. These are stored
    values an insider could forge to match; the full verification recomputes them from the entries.
    """
    head = session.get(audit.ChainHead, 1)
    last = session.execute(select(func.max(col(audit.Entry.seq)))).scalar_one_or_none()
    size = min(0 if last is None else last + 1, 0 if head is None else head.size)
    if size < anchor.size:
        return Departure(size, "is shorter")
    if anchor.size == 0:
        return None
    chain = session.execute(
        select(col(audit.Entry.chain_hash)).where(col(audit.Entry.seq) == anchor.size - 1)
    ).scalar_one_or_none()
    if chain != anchor.chain_head.hex():
        return Departure(size, f"has another chain head at size {anchor.size}")
    if _root_at(session, anchor.size, head) != anchor.root:
        return Departure(size, f"has another Merkle root at size {anchor.size}")
    return None


def _root_at(session: Session, size: int, head: audit.ChainHead | None) -> bytes:
    if head is not None and head.size == size:
        return CompactRange.decode(head.size, head.compact_range).root()
    stored = session.execute(
        select(col(audit.CheckpointRecord.root_hash)).where(col(audit.CheckpointRecord.tree_size) == size)
    ).scalar_one_or_none()
    if stored is not None:
        return bytes.fromhex(stored)
    # No checkpoint row at that size, though every anchor was one: rare and suspect, so pay O(size) here.
    leaves = session.execute(
        select(col(audit.Entry.leaf_hash))
        .where(col(audit.Entry.seq) < size)
        .order_by(col(audit.Entry.seq))
        .execution_options(yield_per=5_000)
    ).scalars()
    compact = CompactRange()
    for leaf in leaves:
        compact.append(bytes.fromhex(leaf))
    return compact.root() if compact.size == size else b""  # a gap: no root of that size at all


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive flock on `lock_path`: one writer at a time across processes and threads."""
    # A lock file of its own: the anchor file is replaced by rename, so a lock on it would be on a stale inode.
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _replace(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically and durably: the old file or the new one survives a crash."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    # The rename itself is durable only once the directory is.
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
