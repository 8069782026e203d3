"""Building inclusion and consistency proofs from the stored log (verification: :mod:`audit.auditor`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session, col

from audit.auditor import Checkpoint, ConsistencyProof, InclusionProof
from audit.checkpoint import latest_checkpoint
from audit.errors import EntryNotFound, ProofInvalid
from audit.merkle import MerkleTree
from audit.models import Entry
from audit.witness import WitnessRequest


def load_tree(session: Session, size: int) -> MerkleTree:
    """Read the first ``size`` leaf hashes and build their tree (O(n); shared by many proofs)."""
    leaves = [
        bytes.fromhex(h)
        for h in session.execute(
            select(col(Entry.leaf_hash)).where(col(Entry.seq) < size).order_by(col(Entry.seq))
        ).scalars()
    ]
    if len(leaves) != size:
        raise EntryNotFound(f"log holds {len(leaves)} of the {size} entries asked for")
    return MerkleTree(leaves)


def inclusion_proof(
    session: Session, seq: int, checkpoint: Checkpoint | None = None, *, tree: MerkleTree | None = None
) -> InclusionProof:
    """Prove entry ``seq`` is in ``checkpoint``'s tree (default: the latest checkpoint)."""
    checkpoint = checkpoint or latest_checkpoint(session)
    if checkpoint is None or not 0 <= seq < checkpoint.size:
        raise EntryNotFound(f"no checkpoint covers entry {seq} yet")
    tree = tree if tree is not None and tree.size == checkpoint.size else load_tree(session, checkpoint.size)
    _check_root(tree, checkpoint)
    return InclusionProof(seq, checkpoint.size, tuple(tree.inclusion_path(seq)), checkpoint.note)


def consistency_proof(session: Session, old: Checkpoint, new: Checkpoint) -> ConsistencyProof:
    """Prove ``old``'s tree is a prefix of ``new``'s."""
    if old.size > new.size:
        old, new = new, old
    tree = load_tree(session, new.size)
    _check_root(tree, new)
    return ConsistencyProof(old.note, new.note, tuple(tree.consistency_path(old.size)))


def witness_request(
    session: Session, old_size: int, checkpoint: Checkpoint | None = None, *, tree: MerkleTree | None = None
) -> WitnessRequest:
    """Build the request asking a witness that kept size ``old_size`` to cosign ``checkpoint``.

    ``checkpoint`` defaults to the latest; pass one ``tree`` (:func:`load_tree`) for many witnesses.
    A witness that kept another size raises :class:`InconsistentCheckpoint` carrying it as
    ``old_size``: rebuild the request from that.
    """
    checkpoint = checkpoint or latest_checkpoint(session)
    if checkpoint is None or not 0 <= old_size <= checkpoint.size:
        raise EntryNotFound(f"no checkpoint at or above size {old_size} to send to a witness")
    tree = tree if tree is not None and tree.size == checkpoint.size else load_tree(session, checkpoint.size)
    _check_root(tree, checkpoint)
    return WitnessRequest(old_size, tuple(tree.consistency_path(old_size)), checkpoint.note)


def _check_root(tree: MerkleTree, checkpoint: Checkpoint) -> None:
    # Never hand out a proof against a checkpoint the stored leaves no longer match.
    if tree.root(checkpoint.size) != checkpoint.root:
        raise ProofInvalid(f"stored leaves do not match the checkpoint at size {checkpoint.size}")
