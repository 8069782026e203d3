"""Signing and reading checkpoints of the log's state."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import desc, select
from sqlmodel import Session, col

from audit.auditor import Checkpoint
from audit.canonical import format_time
from audit.errors import EntryNotFound
from audit.log import Clock, lock_head, utc_now
from audit.models import CheckpointRecord
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
