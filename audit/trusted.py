"""Signing only what the signer can vouch for: the chain-head row held to the entries first.

:func:`audit.write_checkpoint` signs the size, head and compact range stored in the chain-head row,
a row the application may UPDATE (forward only). An insider who rewrote it alone to describe a forged
history would get the broker's signature on that history the next time it signed; its anchor would
then move onto it, and once the entries were made to match, every verification would pass.

A signer that keeps running (the gateway) therefore keeps the state it already vouches for: that
of the last checkpoint it signed, or of the checkpoint it started from (:func:`trusted_state`). Each
time it signs it carries that state over the entries appended since, every leaf recomputed from its
stored columns as verification recomputes it, and signs only if the chain-head row says the same
(:func:`sign_trusted`). That costs O(entries since), not O(log).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from audit.auditor import BrokerKey, Checkpoint
from audit.chain import GENESIS
from audit.checkpoint import Signer, sign_head
from audit.errors import EntryMalformed, HeadMismatch, HistoryRewritten, LogTruncated
from audit.log import Clock, HeadState, lock_head, utc_now
from audit.merkle import CompactRange
from audit.models import Entry
from audit.verify import replay_entries

_SOURCE = "checkpoint the signer trusts"


def trusted_state(session: Session, base: Checkpoint | None, *, batch: int = 5_000) -> HeadState:
    """The state that ``base``, a checkpoint the caller verified under a broker key, vouches for.

    None gives the empty log. The compact range is rebuilt from the first ``base.size`` stored leaf
    hashes (O(size), once per signer) and held to ``base``'s root, which the database cannot forge:
    :class:`HistoryRewritten` if the leaves no longer give it, :class:`LogTruncated` if they are missing.
    """
    if base is None:
        return HeadState(0, GENESIS, CompactRange())
    compact = CompactRange()
    leaves = session.execute(
        select(col(Entry.seq), col(Entry.leaf_hash))
        .where(col(Entry.seq) < base.size)
        .order_by(col(Entry.seq))
        .execution_options(yield_per=batch)
    )
    for seq, leaf in leaves:
        if seq != compact.size:
            break  # a gap: the size check below names it
        try:
            compact.append(bytes.fromhex(leaf))
        except ValueError as exc:
            raise EntryMalformed(seq, "leaf_hash", "not a hex hash") from exc
    if compact.size != base.size:
        raise LogTruncated(compact.size, anchor_size=base.size, source=_SOURCE)
    if compact.root() != base.root:
        raise HistoryRewritten(
            0,
            base.size - 1,
            anchor_size=base.size,
            expected=base.root.hex(),
            found=compact.root().hex(),
            source=_SOURCE,
        )
    return HeadState(base.size, base.chain_head, compact)


def sign_trusted(
    session: Session, signer: Signer, trusted: HeadState, *, keys: BrokerKey = None, clock: Clock = utc_now
) -> tuple[Checkpoint, HeadState]:
    """Sign (or find stored) a checkpoint of the log, once the chain-head row is shown to extend ``trusted``.

    Joins the caller's transaction and takes the chain-head lock. Returns the checkpoint and the state
    it vouches for, the caller's next ``trusted``; ``trusted`` itself is left as it was. Refuses, and
    signs nothing, with :class:`HeadMismatch` if the row is behind ``trusted`` or states another head
    or tree than the entries appended since give; with the errors of :func:`audit.verify.replay_entries`
    if one of those entries is missing or does not match its hashes; with
    :class:`~audit.errors.CheckpointInvalid` if a row the broker did not sign holds the size
    (:func:`audit.checkpoint.sign_head`; ``keys`` are the broker's).
    """
    state = lock_head(session)
    if state.size < trusted.size:
        raise HeadMismatch(
            f"the chain-head row says {state.size} entries, fewer than the {trusted.size} the signer vouched for"
        )
    carried = replay_entries(session, trusted, state.size)
    if state.head != carried.head or state.compact.encode() != carried.compact.encode():
        raise HeadMismatch(
            f"the chain-head row at size {state.size} is not what the entries give: carried over from the "
            f"{trusted.size} entries the signer vouched for, they give another chain head or tree"
        )
    return sign_head(session, signer, carried, keys=keys, clock=clock), carried
