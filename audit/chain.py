"""The per-entry hash chain: each entry's head commits to every entry before it.

``head[i] = SHA-256(0x01 || head[i-1] || leaf[i])`` with ``head[-1] = GENESIS`` (32 zero bytes), and
``leaf[i] = SHA-256(0x00 || canonical_bytes(entry i))`` (the RFC 6962 leaf hash, shared with the
Merkle tree). The chain lets a verifier name the first bad entry; the Merkle tree gives proofs.
"""

from __future__ import annotations

from audit.merkle import HASH_SIZE, leaf_hash, node_hash

GENESIS = bytes(HASH_SIZE)

__all__ = ["GENESIS", "leaf_hash", "link_hash"]


def link_hash(previous_head: bytes, leaf: bytes) -> bytes:
    """Return the chain head after appending ``leaf`` to a chain whose head is ``previous_head``."""
    return node_hash(previous_head, leaf)
