"""Pure verification of RFC 9162 inclusion (§2.1.3.2) and consistency (§2.1.4.2) proofs.

These functions need nothing but hashes: an auditor can run them without the server.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from audit.errors import ProofInvalid
from audit.merkle import node_hash


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes:
    """Return the root that ``path`` proves ``leaf`` (at ``index``) is included under."""
    if not 0 <= index < size:
        raise ProofInvalid(f"leaf index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofInvalid("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofInvalid("inclusion proof is too short")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes) -> None:
    """Raise :class:`ProofInvalid` unless ``path`` proves ``leaf`` at ``index`` under ``root``."""
    if not hmac.compare_digest(root_from_inclusion(index, size, leaf, path), root):
        raise ProofInvalid(f"inclusion proof for leaf {index} does not lead to the root of size {size}")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]) -> None:
    """Raise :class:`ProofInvalid` unless ``path`` proves tree ``old_size`` is a prefix of ``new_size``."""
    if not 0 <= old_size <= new_size:
        raise ProofInvalid(f"size {old_size} cannot precede size {new_size}")
    if old_size == new_size or old_size == 0:
        if path:
            raise ProofInvalid("consistency proof must be empty for equal or empty trees")
        if old_size == new_size and not hmac.compare_digest(old_root, new_root):
            raise ProofInvalid("trees of equal size have different roots")
        return
    if not path:
        raise ProofInvalid("consistency proof is empty")
    fr, sr = _consistency_roots(old_size, new_size, old_root, path)
    if not (hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root)):
        raise ProofInvalid(f"consistency proof from size {old_size} to {new_size} does not match the roots")


def _consistency_roots(old_size: int, new_size: int, old_root: bytes, path: Sequence[bytes]) -> tuple[bytes, bytes]:
    """Run RFC 9162 §2.1.4.2 steps 2-6 and return the recomputed (old, new) roots."""
    nodes = list(path)
    if old_size & (old_size - 1) == 0:
        nodes.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            raise ProofInvalid("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofInvalid("consistency proof is too short")
    return fr, sr
