"""Signing and reading checkpoints of the log's state, and keeping witnesses' cosignatures on them."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import desc, func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from audit.auditor import Checkpoint
from audit.canonical import format_time
from audit.cosignature import Cosignature, WitnessKey, verify_cosignature, with_cosignatures
from audit.errors import EntryNotFound
from audit.log import Clock, lock_head, utc_now
from audit.models import CheckpointRecord, CosignatureRecord
from audit.note import sign_note


@dataclass(frozen=True)
class Signer:
    """The broker's checkpoint signing identity: log origin line and Ed25519 key.

    ``origin`` names the log (e.g. ``sgb.example.org/decision-log``); it is also the note's key
    name, so it must contain no spaces or ``+``.
    """

    origin: str
    key: Ed25519PrivateKey = field(repr=False)

    @property
    def public_key(self) -> Ed25519PublicKey:
        """Return the key auditors verify checkpoints with."""
        return self.key.public_key()


def write_checkpoint(session: Session, signer: Signer, *, clock: Clock = utc_now) -> Checkpoint:
    """Sign and store a checkpoint of the log as it stands (or return the latest if nothing changed).

    Joins the caller's transaction and takes the chain-head lock, so the size, root and chain head
    it signs belong together. Costs O(log n): the root comes from the stored compact range.
    """
    state = lock_head(session)
    latest = latest_checkpoint(session)
    if latest is not None and latest.size == state.size and latest.origin == signer.origin:
        return latest
    time = format_time(clock())
    body = Checkpoint.body(signer.origin, state.size, state.compact.root(), time, state.head)
    checkpoint = Checkpoint.parse(sign_note(body, signer.origin, signer.key), verify_with=signer.public_key)
    session.add(
        CheckpointRecord(
            tree_size=checkpoint.size,
            root_hash=checkpoint.root.hex(),
            chain_head=checkpoint.chain_head.hex(),
            created_at=time,
            origin=checkpoint.origin,
            note=checkpoint.note,
        )
    )
    session.flush()
    return checkpoint


def latest_checkpoint(session: Session) -> Checkpoint | None:
    """Return the newest stored checkpoint (the one the gateway puts in receipts), if any."""
    note = session.execute(
        select(col(CheckpointRecord.note)).order_by(desc(col(CheckpointRecord.tree_size))).limit(1)
    ).scalar_one_or_none()
    return None if note is None else Checkpoint.parse(note, verify_with=None)


def checkpoint_at(session: Session, size: int) -> Checkpoint:
    """Return the stored checkpoint for tree size ``size``."""
    note = session.execute(
        select(col(CheckpointRecord.note)).where(col(CheckpointRecord.tree_size) == size)
    ).scalar_one_or_none()
    if note is None:
        raise EntryNotFound(f"no checkpoint at tree size {size}")
    return Checkpoint.parse(note, verify_with=None)


def store_cosignature(session: Session, tree_size: int, line: str, witness: WitnessKey) -> Cosignature:
    """Verify ``witness``'s cosignature ``line`` on the stored checkpoint at ``tree_size`` and keep it.

    Joins the caller's transaction. Raises :class:`EntryNotFound` if no checkpoint has that size and
    :class:`CosignatureInvalid` if the line is not ``witness``'s valid cosignature on it, so only
    evidence that verifies is stored. Idempotent per checkpoint and witness key: a repeat (or a
    concurrent first) cosignature leaves the stored one in place and returns it.
    """
    cosignature = verify_cosignature(checkpoint_at(session, tree_size).note, line, witness)
    stored = _stored_line(session, tree_size, witness)
    if stored is not None:
        return Cosignature.parse(stored)
    record = CosignatureRecord(
        tree_size=tree_size,
        witness_name=witness.name,
        key_id=witness.key_id.hex(),
        timestamp=cosignature.timestamp,
        line=cosignature.line,
    )
    try:
        # A savepoint, so that losing a race to another writer does not spoil the caller's transaction.
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        stored = _stored_line(session, tree_size, witness)
        if stored is None:
            raise
        return Cosignature.parse(stored)
    return cosignature


def _stored_line(session: Session, tree_size: int, witness: WitnessKey) -> str | None:
    return session.execute(
        select(col(CosignatureRecord.line)).where(
            col(CosignatureRecord.tree_size) == tree_size,
            col(CosignatureRecord.witness_name) == witness.name,
            col(CosignatureRecord.key_id) == witness.key_id.hex(),
        )
    ).scalar_one_or_none()


def cosignatures_for(session: Session, size: int) -> list[Cosignature]:
    """Return the stored cosignatures on the checkpoint at tree size ``size``, oldest first."""
    lines = session.execute(
        select(col(CosignatureRecord.line))
        .where(col(CosignatureRecord.tree_size) == size)
        .order_by(col(CosignatureRecord.id))
    ).scalars()
    return [Cosignature.parse(line) for line in lines]


def last_cosigned_size(session: Session, witness: WitnessKey) -> int:
    """Return the largest tree size ``witness`` cosigned (0 if none): the ``old`` of its next request.

    A witness persists each checkpoint before answering, so this is its kept size unless an answer
    was lost; then it refuses the request with its real kept size, and the broker retries from that.
    """
    size = session.execute(
        select(func.max(col(CosignatureRecord.tree_size))).where(
            col(CosignatureRecord.witness_name) == witness.name,
            col(CosignatureRecord.key_id) == witness.key_id.hex(),
        )
    ).scalar_one_or_none()
    return int(size or 0)


def witnessed_note(session: Session, size: int) -> str:
    """Return the checkpoint note at ``size`` with every stored cosignature line appended."""
    return with_cosignatures(checkpoint_at(session, size).note, [c.line for c in cosignatures_for(session, size)])


def latest_witnessed(session: Session, min_witnesses: int = 1) -> Checkpoint | None:
    """Return the newest checkpoint that ``min_witnesses`` distinct witnesses cosigned (note with lines)."""
    size = session.execute(
        select(col(CosignatureRecord.tree_size))
        .group_by(col(CosignatureRecord.tree_size))
        .having(func.count(func.distinct(col(CosignatureRecord.witness_name))) >= min_witnesses)
        .order_by(desc(col(CosignatureRecord.tree_size)))
        .limit(1)
    ).scalar_one_or_none()
    return None if size is None else Checkpoint.parse(witnessed_note(session, size), verify_with=None)
