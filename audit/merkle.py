"""RFC 6962 / RFC 9162 Merkle tree over leaf hashes: roots and proof *generation*.

Verification lives apart, in :mod:`audit.proof`, so that an auditor's code path shares nothing
with the writer's but the two hash functions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 6962 leaf hash ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 interior node hash ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(size: int) -> int:
    """Return the largest power of two strictly less than ``size`` (``size`` >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


class CompactRange:
    """The roots of the perfect subtrees covering a tree's leaves: enough to append and to root.

    Holds at most log2(size)+1 hashes, so the log can keep it beside its chain head and sign a
    checkpoint without reading every leaf again.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != bin(size).count("1"):
            raise ValueError("compact range hash count does not match its size")
        self.size = size
        self.hashes = list(hashes)

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash on the right."""
        self.hashes.append(leaf)
        size = self.size
        while size & 1:
            right = self.hashes.pop()
            self.hashes[-1] = node_hash(self.hashes[-1], right)
            size >>= 1
        self.size += 1

    def root(self) -> bytes:
        """Return the Merkle tree hash of the leaves appended so far."""
        if not self.hashes:
            return EMPTY_ROOT
        root = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            root = node_hash(left, root)
        return root

    def encode(self) -> str:
        """Return the hashes as one string of concatenated lowercase hex."""
        return b"".join(self.hashes).hex()

    @classmethod
    def decode(cls, size: int, text: str) -> CompactRange:
        """Rebuild a compact range from :meth:`encode` output."""
        raw = bytes.fromhex(text)
        return cls(size, [raw[i : i + HASH_SIZE] for i in range(0, len(raw), HASH_SIZE)])


def root_of(leaves: Iterable[bytes]) -> bytes:
    """Return the Merkle tree hash of a sequence of leaf hashes."""
    compact = CompactRange()
    for leaf in leaves:
        compact.append(leaf)
    return compact.root()


class MerkleTree:
    """All levels of a tree built once from leaf hashes; proofs then cost O(log² n) hashes."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.size = len(leaves)
        self._levels: list[list[bytes]] = [list(leaves)]
        while len(self._levels[-1]) > 1:
            below = self._levels[-1]
            self._levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])

    def subtree_root(self, lo: int, hi: int) -> bytes:
        """Return MTH(D[lo:hi]) for ``0 <= lo < hi <= size``."""
        width = hi - lo
        if width & (width - 1) == 0 and lo % width == 0:
            return self._levels[width.bit_length() - 1][lo // width]
        k = split_point(width)
        return node_hash(self.subtree_root(lo, lo + k), self.subtree_root(lo + k, hi))

    def root(self, size: int | None = None) -> bytes:
        """Return the root of the first ``size`` leaves (default: all)."""
        size = self.size if size is None else size
        self._check_size(size)
        return EMPTY_ROOT if size == 0 else self.subtree_root(0, size)

    def inclusion_path(self, index: int, size: int | None = None) -> list[bytes]:
        """Return PATH(index, D[0:size]) from RFC 9162 §2.1.3.1."""
        size = self.size if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of size {size}")
        return self._path(index, 0, size)

    def _path(self, index: int, lo: int, hi: int) -> list[bytes]:
        if hi - lo == 1:
            return []
        k = split_point(hi - lo)
        if index < lo + k:
            return [*self._path(index, lo, lo + k), self.subtree_root(lo + k, hi)]
        return [*self._path(index, lo + k, hi), self.subtree_root(lo, lo + k)]

    def consistency_path(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Return PROOF(old_size, D[0:new_size]) from RFC 9162 §2.1.4.1."""
        new_size = self.size if new_size is None else new_size
        self._check_size(new_size)
        if not 0 <= old_size <= new_size:
            raise ValueError(f"cannot prove size {old_size} consistent with size {new_size}")
        if old_size in (0, new_size):
            return []
        return self._subproof(old_size, 0, new_size, True)

    def _subproof(self, m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
        if m == hi - lo:
            return [] if complete else [self.subtree_root(lo, hi)]
        k = split_point(hi - lo)
        if m <= k:
            return [*self._subproof(m, lo, lo + k, complete), self.subtree_root(lo + k, hi)]
        return [*self._subproof(m - k, lo + k, hi, False), self.subtree_root(lo, lo + k)]

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ValueError(f"tree has {self.size} leaves, not {size}")
