"""The decision log as the gateway holds it: reads, appends through one group-commit writer, checkpoints.

`audit` owns the log's rows, hashes and proofs; this is the gateway's handle on one database:
a writer engine, a reader that never queues behind the writer (SQLite WAL: BEGIN DEFERRED), the
batcher every append goes through, and the latest signed checkpoint handed out with each answer.

On PostgreSQL the schema is migrated as the database's owner (`migration_url`) and the gateway
then works as an application role that may only add to the log (`broker.db.privileges`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, func, make_url, select
from sqlmodel import Session, col

import audit
from broker.db.anchor import BEHIND, AnchorFile, departure
from broker.db.provisioning import migrate

log = logging.getLogger("broker.db.log")

# A stable code for the JSON log's `status` field: the signer found the log tampered with.
TAMPERED: str = "log_tampered"


class DecisionLog:
    """One database's log: open it with `DecisionLog.opened(...)`, which migrates first."""

    def __init__(
        self,
        *,
        engine: Engine,
        reader: Engine | None,
        batcher: audit.AppendBatcher,
        signer: audit.Signer,
        verify_keys: Sequence[Ed25519PublicKey] = (),
        anchor_file: Path | None = None,
        on_alarm: Callable[[], object] | None = None,
    ) -> None:
        self.engine = engine
        self._on_alarm = on_alarm
        self._reader = reader
        self.lookups = audit.single_statements(reader or engine)
        """Reads of one statement that must not wait for the log's write lock (`audit.single_statements`)."""
        self._batcher = batcher
        self._signer = signer
        # The signer's key first, even if the history given was stale, since that key signs from now on.
        current = signer.public_key.public_bytes_raw()
        self._verify_keys = (signer.public_key, *(k for k in verify_keys if k.public_bytes_raw() != current))
        self.checkpoint_note: str | None = None
        self._anchor: audit.Checkpoint | None = None
        self._anchor_file = None if anchor_file is None else AnchorFile(anchor_file, verify_keys=self._verify_keys)
        self._filed = 0  # the size the anchor file is known to hold
        # What this process vouches for (`audit.sign_trusted`): set at the first checkpoint, then each one.
        self._trusted: audit.HeadState | None = None
        # Entries checked since, outside the chain-head lock, between signatures (`carry_ahead`).
        self._ahead: audit.HeadState | None = None
        self._rows_seen: int | None = None  # the last checkpoint row id checked for a foreign signature
        self._alarm: str | None = None
        # The periodic round and a reviewer's page may both refresh: the anchor must move one way only.
        self._anchor_lock = threading.Lock()

    @classmethod
    @contextlib.asynccontextmanager
    async def opened(
        cls,
        url: str,
        *,
        signer: audit.Signer,
        migration_url: str | None = None,
        wal_checkpoints: bool = False,
        prepare: audit.Prepare | None = None,
        verify_keys: Sequence[Ed25519PublicKey] = (),
        anchor_file: Path | None = None,
        on_alarm: Callable[[], object] | None = None,
    ) -> AsyncIterator[DecisionLog]:
        """Migrate (as `migration_url`'s owner, when given), then open the log as `url`'s role.

        `verify_keys`: every public key the broker has signed with (`BrokerKeys.verify_keys`), so
        checkpoints signed before a key rotation still verify.
        `wal_checkpoints`: on SQLite, this log's commits leave the WAL to `keep_wal_checkpointed`.
        `prepare`: what a group commit reads once for all its requests (`audit.Prepare`).
        `anchor_file`: where the anchor outlives the process (`broker.db.anchor`); the log must
        extend the checkpoint found there, or this raises `AnchorRefused` before anything is signed.
        `on_alarm`: called each time the log is found tampered with (`report_tampering`), so the
        verification gauge drops at once, not at the next full verification.
        """
        engine = audit.create_engine_for(url, wal_autocheckpoint=not wal_checkpoints)
        reader = _read_engine(url)
        try:
            await asyncio.to_thread(migrate, url, migration_url=migration_url, engine=engine)
            async with audit.AppendBatcher(engine, prepare=prepare) as batcher:
                decision_log = cls(
                    engine=engine,
                    reader=reader,
                    batcher=batcher,
                    signer=signer,
                    verify_keys=verify_keys,
                    anchor_file=anchor_file,
                    on_alarm=on_alarm,
                )
                await asyncio.to_thread(decision_log.restore_anchor)  # before anything is signed
                await asyncio.to_thread(decision_log.refresh_checkpoint)
                yield decision_log
        finally:
            engine.dispose()
            if reader is not None:
                reader.dispose()

    @property
    def reader(self) -> Engine:
        """Reads that must not wait for the log's write lock; the writer where there is no second engine."""
        return self._reader or self.engine

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self._signer.public_key

    @property
    def verify_keys(self) -> tuple[Ed25519PublicKey, ...]:
        """Every key a stored checkpoint may be signed with: the current signer's, then the older ones.

        After a rotation the log holds checkpoints signed with retired keys; checking them against
        the current key alone would fail verification for ever (a false alarm).
        """
        return self._verify_keys

    @property
    def signer(self) -> audit.Signer:
        return self._signer

    @property
    def anchor(self) -> audit.Checkpoint | None:
        """The largest checkpoint this process has seen verify under its key, held outside the database.

        Stored checkpoints are rows an insider can delete along with the entries they cover; this
        copy is not, so the periodic verification holds the log to it (`broker.db.verification`).
        It lasts as long as the process, unless an anchor file keeps it (`restore_anchor`); then it
        may be a checkpoint another gateway process of the same log filed, under any broker key.
        """
        return self._anchor

    @property
    def integrity_alarm(self) -> str | None:
        """What the signer found wrong with the log, if anything: the kind of the first problem.

        Set when a checkpoint was refused (the chain-head row or an entry since the last checkpoint
        does not match, or a row the broker did not sign holds its size) or a stored checkpoint is
        signed by no broker key. It lasts as long as the process, so every verification fails
        (`broker.db.verification`) even if the evidence is taken away again.
        """
        return self._alarm

    def restore_anchor(self) -> None:
        """Start from the anchor file's checkpoint, if there is one, once the log is shown to extend it.

        `AnchorRefused` otherwise: a log cut or rewritten while no gateway ran must not become the
        new bar, and a file that cannot be trusted is no anchor at all.
        """
        if self._anchor_file is None:
            return
        kept = self._anchor_file.restore(self.reader)
        with self._anchor_lock:
            if kept is not None and (self._anchor is None or kept.size > self._anchor.size):
                self._anchor, self._filed = kept, kept.size

    async def append(
        self, drafts: Sequence[audit.EntryDraft], extra_rows: audit.ExtraRows | None = None, *, hint: object = None
    ) -> list[audit.Entry]:
        """Append entries (and the caller's rows) in one transaction shared with concurrent callers;
        `hint` is what those rows will read, for the log's `prepare` to read with the others'."""
        return await self._batcher.submit(drafts, extra_rows, hint=hint)

    def refresh_checkpoint(self) -> bool:
        """Sign a checkpoint of the log as it is now (cheap when nothing was appended); False if the log
        was found tampered with (logged critically, kept as `integrity_alarm`).

        Only what this process can vouch for is signed: the chain-head row must say what the entries
        appended since its last checkpoint (or the anchor it started from) give, each recomputed from
        its stored columns (`audit.sign_trusted`). Signing a row an insider rewrote would launder a
        forged history into the broker's signature and the anchor; refused, the checkpoint handed out
        stays the last one signed.
        """
        try:
            trusted = self._carried_ahead()
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                checkpoint, carried = audit.sign_trusted(session, self._signer, trusted, keys=self._verify_keys)
                self._rows_seen, foreign = audit.foreign_checkpoints(session, self._rows_seen, self._verify_keys)
        except audit.VerificationError as exc:
            self.report_tampering(f"checkpoint refused: {type(exc).__name__}", getattr(exc, "tree_size", None))
            return False
        with self._anchor_lock:
            if self._trusted is None or carried.size >= self._trusted.size:
                self._trusted = carried
        self.checkpoint_note = checkpoint.note
        for size in foreign:
            self.report_tampering("a stored checkpoint is signed by no broker key", size)
        self._keep_anchor(checkpoint)
        return not foreign

    def carry_ahead(self) -> bool:
        """Check the entries committed since the last round, without the chain-head lock, and remember
        where that got to; False if one of them does not check out (a signing round then decides it).

        Between signatures this spreads the work of checking them: at 60 notifications a second, ten
        seconds of entries took about 50 ms of the interpreter at once, and every request in that
        window waited (issue #17). What is carried is only what the entries said when read: a later
        signature covers those hashes, so an entry changed after it no longer verifies.
        """
        with Session(self.reader) as session:
            start = self._start(session)
            try:
                ahead = audit.replay_entries(session, start, _next_seq(session, start))
            except audit.VerificationError:
                with self._anchor_lock:
                    self._ahead = None
                return False
        with self._anchor_lock:
            if self._ahead is None or ahead.size > self._ahead.size:
                self._ahead = ahead
        return True

    def _carried_ahead(self) -> audit.HeadState:
        """What this process vouches for, carried over the entries committed so far without the chain-head
        lock: appends then wait only while the few committed since are checked, under it (`sign_trusted`)."""
        self.carry_ahead()  # an entry that fails is decided again under the lock, where it counts
        with Session(self.reader) as session:
            return self._start(session)

    def _start(self, session: Session) -> audit.HeadState:
        """Where carrying starts: the last state signed, or the entries carried past it since."""
        trusted = self._trusted
        if trusted is None:
            # Where trust starts: the anchor, else the newest checkpoint a broker key signed (O(size), once).
            base = self._anchor or audit.latest_checkpoint(session, self._verify_keys)
            trusted = audit.trusted_state(session, base)
            with self._anchor_lock:
                self._trusted = self._trusted or trusted
        with self._anchor_lock:
            ahead = self._ahead
        return ahead if ahead is not None and ahead.size > trusted.size else trusted

    def report_tampering(self, what: str, size: int | None) -> None:
        """Say critically that the log's store was written past the broker, and keep it as `integrity_alarm`.

        `what` is the kind only, with sizes: an error's message may quote a value an insider stored.
        """
        with self._anchor_lock:
            self._alarm = self._alarm or what
            self._ahead = None
        at = "" if size is None else f" at tree size {size}"
        log.critical(
            "the decision log was tampered with: %s%s; this gateway signs nothing it cannot vouch for",
            what,
            at,
            extra={"status": TAMPERED},
        )
        if self._on_alarm is not None:
            self._on_alarm()

    def _keep_anchor(self, checkpoint: audit.Checkpoint) -> None:
        try:
            # A stored row may be another broker key's (a retired one): only this key's signature moves the anchor.
            signed = audit.Checkpoint.open(checkpoint.note, self._signer.public_key)
        except audit.CheckpointInvalid:
            return
        with self._anchor_lock:
            self._raise_anchor(signed)
            if self._anchor_file is not None and self._anchor is not None and self._anchor.size > self._filed:
                # A failed write (full disk, a damaged file) is tried again next round, and counted.
                self._filed = self._anchor_file.keep(self._anchor).size

    def _raise_anchor(self, signed: audit.Checkpoint) -> None:
        """Take `signed` as the anchor only if it is larger and the log still extends the current one."""
        current = self._anchor
        if current is not None and signed.size <= current.size:
            return  # never smaller (a log cut short), never another history of the same size
        if current is not None:
            with Session(self.reader) as session:
                departed = departure(session, current)
            if departed is not None:
                # A fork signed past the anchor would move the bar onto it; keep it, and the verification fails.
                log.error(
                    "the decision log no longer extends its anchor of %d entries (it %s): the anchor stays",
                    current.size,
                    departed.what,
                    extra={"status": BEHIND, "count": departed.log_size},
                )
                return
        self._anchor = signed

    async def keep_checkpoints(
        self,
        stop: asyncio.Event,
        *,
        every: float,
        carry_every: float = 0,
        on_failure: Callable[[], object] | None = None,
    ) -> None:
        """Sign a fresh checkpoint every `every` seconds until `stop`; `on_failure` counts failed rounds,
        and rounds that found the log tampered with. With `carry_every` (shorter than `every`), the
        entries are checked that often in between (`carry_ahead`), so a signature waits on few."""
        tick = min(carry_every, every) if carry_every > 0 else every
        rounds = max(1, round(every / tick))
        ticks = itertools.count(1)

        def checkpoint_round() -> None:
            if next(ticks) % rounds and self.carry_ahead():
                return  # carried: the signature is at the round's end, or at once if an entry failed
            # Looked up each round, not bound once: what signs may be replaced while the loop runs.
            if not self.refresh_checkpoint() and on_failure is not None:
                on_failure()  # already logged, critically

        await _every(tick, stop, checkpoint_round, failed="checkpoint failed", on_failure=on_failure)

    async def keep_wal_checkpointed(self, stop: asyncio.Event, *, every: float) -> None:
        """On SQLite, copy the WAL into the database file every `every` seconds until `stop`, beside
        the requests instead of inside one of their commits (`audit.checkpoint_wal`); on PostgreSQL
        there is nothing to do and this returns at once."""
        if audit.has_wal(self.engine):
            job = functools.partial(audit.checkpoint_wal, self.engine)
            # A missed round only leaves the next one more to copy: no commit waits on it.
            await _every(every, stop, job, failed="WAL checkpoint failed", level=logging.WARNING)


async def _every(
    every: float,
    stop: asyncio.Event,
    job: Callable[[], object],
    *,
    failed: str,
    level: int = logging.ERROR,
    on_failure: Callable[[], object] | None = None,
) -> None:
    """Run the blocking `job` in a thread every `every` seconds until `stop`. A failed round is logged
    (and counted by `on_failure`) and the next one tries again: this never blocks a decision."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
        try:
            await asyncio.to_thread(job)
        except Exception:
            log.log(level, failed, exc_info=True)
            if on_failure is not None:
                on_failure()


def _next_seq(session: Session, start: audit.HeadState) -> int:
    """The size the log has reached as committed now (never below `start`'s)."""
    last = session.execute(select(func.max(col(audit.Entry.seq)))).scalar_one_or_none()
    return max(start.size, -1 if last is None else last + 1)


def _read_engine(url: str) -> Engine | None:
    """A second engine for lock-free reads; none for in-memory SQLite (it would be another database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        return None
    return audit.create_engine_for(url, read_only=True)
