"""Signing and reading checkpoints of the log's state, and keeping witnesses' cosignatures on them."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import desc, func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from audit.auditor import BrokerKey, Checkpoint, open_checkpoint
from audit.canonical import format_time
from audit.cosignature import Cosignature, WitnessKey, cosigners, verify_cosignature, with_cosignatures
from audit.errors import (
    AuditError,
    CheckpointInvalid,
    CosignatureForged,
    CosignatureInvalid,
    EntryNotFound,
    ForeignSigner,
)
from audit.log import Clock, HeadState, lock_head, utc_now
from audit.models import ChainHead, CheckpointRecord, CosignatureRecord
from audit.note import key_hash, open_note, sign_note, split_note

# The log's name in its checkpoints unless a deployment names it (the gateway's SGB_LOG_ORIGIN, the
# consumers' CONSUMER_LOG_ORIGIN): one default, so a checkpoint `python -m audit checkpoint` signs is
# one the witnesses recognise as this log's.
DEFAULT_ORIGIN = "sgb.decision-log"


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


def write_checkpoint(session: Session, signer: Signer, *, clock: Clock = utc_now, keys: BrokerKey = None) -> Checkpoint:
    """Sign and store a checkpoint of the log as it stands (or return the one stored at its size).

    Joins the caller's transaction and takes the chain-head lock, so the size, root and chain head
    it signs belong together. Costs O(log n): the root comes from the stored compact range, taken as
    found; a signer that must not vouch for a chain-head row an insider rewrote holds it to the
    entries first (:func:`audit.sign_trusted`). ``keys``: see :func:`sign_head`.
    """
    return sign_head(session, signer, lock_head(session), keys=keys, clock=clock)


def sign_head(
    session: Session, signer: Signer, state: HeadState, *, keys: BrokerKey = None, clock: Clock = utc_now
) -> Checkpoint:
    """Sign and store a checkpoint of ``state``, or return the one already stored at its size.

    A stored one is returned only if it is a checkpoint of this very tree and log, signed by one of
    ``keys`` (any well-formed note without them). Anything else at that size was not written by the
    broker, and holds the size against it (one row per size): :class:`CheckpointInvalid`, nothing
    is signed, and the caller has a row to report.
    """
    stored = session.execute(
        select(col(CheckpointRecord.note)).where(col(CheckpointRecord.tree_size) == state.size)
    ).scalar_one_or_none()
    if stored is not None:
        return _stored_as(stored, state, signer.origin, keys)
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


def _stored_as(note: str, state: HeadState, origin: str, keys: BrokerKey) -> Checkpoint:
    try:
        stored = open_checkpoint(note, keys)
    except CheckpointInvalid as exc:
        raise CheckpointInvalid(
            f"the row stored at this size is no broker checkpoint: {exc}", tree_size=state.size
        ) from exc
    if (stored.origin, stored.root, stored.chain_head) != (origin, state.compact.root(), state.head):
        raise CheckpointInvalid("the row stored at this size states another log or tree", tree_size=state.size)
    return stored


_PAGE = 16  # rows read at a time while looking for the newest real checkpoint


def latest_checkpoint(session: Session, keys: BrokerKey = None) -> Checkpoint | None:
    """Return the newest stored checkpoint (the one the gateway puts in receipts), if any.

    Only rows that are checkpoints count: well-formed notes, signed by one of ``keys`` when given, of
    a size the log has reached (the broker signs no other). A row an insider inserted is passed over,
    so it is neither handed out nor able, at some vast size, to hide the real ones; verification
    (:func:`audit.verify_log`) reports it.
    """
    head = session.execute(select(col(ChainHead.size)).where(col(ChainHead.id) == 1)).scalar_one_or_none()
    below = head or 0
    while True:
        # A page at a time, newest first: the newest row is nearly always the one.
        notes = session.execute(
            select(col(CheckpointRecord.tree_size), col(CheckpointRecord.note))
            .where(col(CheckpointRecord.tree_size) <= below)
            .order_by(desc(col(CheckpointRecord.tree_size)))
            .limit(_PAGE)
        ).all()
        for size, note in notes:
            with contextlib.suppress(CheckpointInvalid):
                return open_checkpoint(note, keys)
            below = size - 1
        if len(notes) < _PAGE:
            return None


def foreign_checkpoints(session: Session, after: int | None, keys: BrokerKey) -> tuple[int, list[int]]:
    """Check the checkpoint rows stored after row id ``after``: return the last row id, and the sizes of
    the rows none of ``keys`` signed.

    Cheap when called each time a checkpoint is signed (a row or two since the last call); with
    ``after`` None it only finds where to start. Rows are not always committed in id order, so one
    may be missed: this is an early alarm, and the full verification the backstop.
    """
    if after is None:
        newest = session.execute(select(func.max(col(CheckpointRecord.id)))).scalar_one_or_none()
        return int(newest or 0), []
    rows = session.execute(
        select(col(CheckpointRecord.id), col(CheckpointRecord.tree_size), col(CheckpointRecord.note))
        .where(col(CheckpointRecord.id) > after)
        .order_by(col(CheckpointRecord.id))
    ).all()
    foreign = []
    for _, size, note in rows:
        try:
            open_checkpoint(note, keys)
        except CheckpointInvalid:
            foreign.append(size)
    return (rows[-1][0] if rows else after), foreign


def checkpoint_at(session: Session, size: int, keys: BrokerKey = None) -> Checkpoint:
    """Return the stored checkpoint for tree size ``size``; :class:`CheckpointInvalid` unless one of ``keys``
    signed it (when given)."""
    note = session.execute(
        select(col(CheckpointRecord.note)).where(col(CheckpointRecord.tree_size) == size)
    ).scalar_one_or_none()
    if note is None:
        raise EntryNotFound(f"no checkpoint at tree size {size}")
    try:
        return open_checkpoint(note, keys)
    except CheckpointInvalid as exc:
        raise CheckpointInvalid(str(exc), tree_size=size) from exc


def store_cosignature(session: Session, tree_size: int, line: str, witness: WitnessKey) -> Cosignature:
    """Verify ``witness``'s cosignature ``line`` on the stored checkpoint at ``tree_size`` and keep it.

    Joins the caller's transaction. Raises :class:`EntryNotFound` if no checkpoint has that size and
    :class:`CosignatureInvalid` if the line is not ``witness``'s valid cosignature on it, so only
    evidence that verifies is stored. Idempotent per checkpoint and witness key: a repeat (or a
    concurrent first) cosignature leaves the stored one in place and returns it, once it is shown
    to be that witness's valid cosignature too. A stored line that is not holds the witness's place
    (one row per checkpoint and key, append-only): :class:`CosignatureForged`, never a success.
    """
    note = checkpoint_at(session, tree_size).note
    cosignature = verify_cosignature(note, line, witness)
    stored = _stored_line(session, tree_size, witness)
    if stored is not None:
        return _kept(note, stored, witness, tree_size)
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
        return _kept(note, stored, witness, tree_size)
    return cosignature


def _kept(note: str, stored: str, witness: WitnessKey, tree_size: int) -> Cosignature:
    """The stored line, if it is ``witness``'s valid cosignature on ``note`` (an earlier one of its own)."""
    try:
        return verify_cosignature(note, stored, witness)
    except CosignatureInvalid as exc:
        raise CosignatureForged(witness=witness.name, tree_size=tree_size) from exc


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


def latest_witnessed(
    session: Session,
    min_witnesses: int = 1,
    *,
    witnesses: Sequence[WitnessKey] | None = None,
    keys: BrokerKey = None,
) -> Checkpoint | None:
    """Return the newest checkpoint that ``min_witnesses`` distinct witnesses cosigned (note with lines).

    Without ``witnesses`` it counts the stored rows by witness name, as found. With them (the keys a
    reader trusts, as the gateway's registry holds them) only cosignatures that verify now under one
    of them count, on a checkpoint signed by one of ``keys`` (when given), and the note carries those
    lines alone: a row an insider wrote is never counted nor shipped.
    """
    sizes = session.execute(
        select(col(CosignatureRecord.tree_size))
        .group_by(col(CosignatureRecord.tree_size))
        .having(func.count(func.distinct(col(CosignatureRecord.witness_name))) >= min_witnesses)
        .order_by(desc(col(CosignatureRecord.tree_size)))
    ).scalars()
    for size in sizes:
        if witnesses is None:
            return Checkpoint.parse(witnessed_note(session, size), verify_with=None)
        try:
            note = checkpoint_at(session, size, keys).note
        except CheckpointInvalid:
            continue
        lines = [c.line for c in cosignatures_for(session, size)]
        valid = [line for line in lines if cosigners(note, witnesses, [line])]
        if len({Cosignature.parse(line).name for line in valid}) >= min_witnesses:
            return Checkpoint.parse(with_cosignatures(note, valid), verify_with=None)
    return None


def check_signer(session: Session, signer: Signer) -> Checkpoint | None:
    """Refuse ``signer`` unless its key, under its origin, signed the log's newest checkpoint.

    Returns that checkpoint (None: the log has none yet, and nothing to hold the key to). Run it
    before signing anything offline with a key someone handed over (`python -m audit export`): a key
    that is not the one the log's checkpoints carry would sign a pack no auditor can check against
    the broker's key, and a checkpoint row no broker key signed. :class:`ForeignSigner` names the
    key the newest checkpoint carries (``name+keyhash``), and the one given.
    """
    newest = latest_checkpoint(session)
    if newest is None:
        return None
    carried = [f"{sig.name}+{sig.key_id.hex()}" for sig in split_note(newest.note)[1] if len(sig.blob) == 64]
    expected = ", ".join(carried) or "no key"
    given = f"{signer.origin}+{key_hash(signer.origin, signer.public_key).hex()}"
    if newest.origin != signer.origin:
        raise ForeignSigner(
            f"the log's checkpoints name the log {newest.origin}, not {signer.origin}",
            given=signer.origin,
            expected=newest.origin,
            tree_size=newest.size,
            origin=True,
        )
    try:
        open_note(newest.note, signer.origin, signer.public_key)
    except CheckpointInvalid:
        raise ForeignSigner(
            f"key {given} did not sign the log's newest checkpoint (size {newest.size}), which carries {expected}: "
            "give the broker's signing key (just after a rotation, wait until the gateway has signed a checkpoint "
            "with the new one)",
            given=given,
            expected=expected,
            tree_size=newest.size,
        ) from None
    return newest


@dataclass(frozen=True)
class WitnessMark:
    """The newest checkpoint a witness key cosigned, as stored, and whether that line still stands.

    ``verified`` is False when the stored line is not the key's valid cosignature on a checkpoint the
    broker signed: rows an insider wrote into the table, which the gateway itself never stores.
    """

    name: str
    key_id: str
    size: int
    timestamp: int  # the witness's own time on the line, POSIX seconds
    verified: bool


def witness_marks(session: Session, witnesses: Sequence[WitnessKey], keys: BrokerKey = None) -> list[WitnessMark]:
    """Return, for each of ``witnesses`` that cosigned anything, its stored cosignature on the largest tree.

    Each line is checked again against the key and the checkpoint note, signed by one of ``keys``
    when given, so a page built on these marks never counts a cosignature that does not verify.
    """
    marks = []
    for witness in witnesses:
        row = session.execute(
            select(col(CosignatureRecord.tree_size), col(CosignatureRecord.timestamp), col(CosignatureRecord.line))
            .where(
                col(CosignatureRecord.witness_name) == witness.name,
                col(CosignatureRecord.key_id) == witness.key_id.hex(),
            )
            .order_by(desc(col(CosignatureRecord.tree_size)))
            .limit(1)
        ).one_or_none()
        if row is not None:
            size, timestamp, line = row
            marks.append(
                WitnessMark(
                    witness.name, witness.key_id.hex(), size, timestamp, _stands(session, size, line, witness, keys)
                )
            )
    return marks


def _stands(session: Session, size: int, line: str, witness: WitnessKey, keys: BrokerKey) -> bool:
    try:
        verify_cosignature(checkpoint_at(session, size, keys).note, line, witness)
    except AuditError:
        return False
    return True
