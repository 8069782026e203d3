"""RFC 6962 / 9162 tree, proof generation and pure verification, against reference vectors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from audit.errors import ProofInvalid
from audit.merkle import EMPTY_ROOT, CompactRange, MerkleTree, leaf_hash, node_hash, root_of
from audit.proof import verify_consistency, verify_inclusion

GOLDEN = json.loads((Path(__file__).parent / "golden" / "rfc6962.json").read_text())
LEAVES = [leaf_hash(bytes.fromhex(x)) for x in GOLDEN["leaves"]]
TREE = MerkleTree(LEAVES)


def _reference_root(leaves: list[bytes]) -> bytes:
    """MTH straight from RFC 6962 §2.1: split at the largest power of two below n."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(_reference_root(leaves[:k]), _reference_root(leaves[k:]))


def _hexes(path: list[bytes]) -> list[str]:
    return [p.hex() for p in path]


def test_empty_tree_root() -> None:
    assert root_of([]).hex() == GOLDEN["empty_root"] == EMPTY_ROOT.hex()


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_rfc6962_vectors(size: int) -> None:
    expected = GOLDEN["roots"][size - 1]
    assert root_of(LEAVES[:size]).hex() == expected
    assert TREE.root(size).hex() == expected
    assert MerkleTree(LEAVES[:size]).root().hex() == expected


@pytest.mark.parametrize("case", GOLDEN["inclusion"], ids=lambda c: f"{c['index']}of{c['size']}")
def test_inclusion_paths_match_vectors(case: dict[str, Any]) -> None:
    path = TREE.inclusion_path(case["index"], case["size"])
    assert _hexes(path) == case["path"]
    verify_inclusion(case["index"], case["size"], LEAVES[case["index"]], path, TREE.root(case["size"]))


@pytest.mark.parametrize("case", GOLDEN["consistency"], ids=lambda c: f"{c['old']}to{c['new']}")
def test_consistency_paths_match_vectors(case: dict[str, Any]) -> None:
    path = TREE.consistency_path(case["old"], case["new"])
    assert _hexes(path) == case["path"]
    verify_consistency(case["old"], case["new"], TREE.root(case["old"]), TREE.root(case["new"]), path)


def test_every_proof_in_small_trees_round_trips() -> None:
    leaves = [leaf_hash(i.to_bytes(2, "big")) for i in range(33)]
    tree = MerkleTree(leaves)
    for size in range(1, len(leaves) + 1):
        root = tree.root(size)
        assert root == _reference_root(leaves[:size])
        for index in range(size):
            verify_inclusion(index, size, leaves[index], tree.inclusion_path(index, size), root)
        for old in range(size + 1):
            verify_consistency(old, size, tree.root(old), root, tree.consistency_path(old, size))


def test_compact_range_tracks_the_root_and_round_trips() -> None:
    compact = CompactRange()
    for i, leaf in enumerate(LEAVES):
        compact.append(leaf)
        assert compact.root().hex() == GOLDEN["roots"][i]
        assert CompactRange.decode(compact.size, compact.encode()).root() == compact.root()


@pytest.mark.parametrize(
    ("index", "size", "mutate"),
    [
        (5, 8, lambda p: [p[0][:-1] + b"\x00", *p[1:]]),
        (5, 8, lambda p: p[:-1]),
        (5, 8, lambda p: [*p, p[0]]),
        (5, 8, lambda p: list(reversed(p))),
    ],
    ids=["flipped-byte", "too-short", "too-long", "reordered"],
)
def test_inclusion_rejects_tampered_paths(index: int, size: int, mutate: Any) -> None:
    path = mutate(TREE.inclusion_path(index, size))
    with pytest.raises(ProofInvalid):
        verify_inclusion(index, size, LEAVES[index], path, TREE.root(size))


def test_inclusion_rejects_wrong_leaf_index_and_size() -> None:
    path = TREE.inclusion_path(5)
    cases = [
        (4, 8, LEAVES[5], 8),
        (5, 8, LEAVES[4], 8),
        (5, 7, LEAVES[5], 7),
        (8, 8, LEAVES[5], 8),
        (5, 6, LEAVES[5], 8),
    ]
    for index, size, leaf, root_size in cases:
        with pytest.raises(ProofInvalid):
            verify_inclusion(index, size, leaf, path, TREE.root(root_size))


def test_consistency_rejects_tampered_or_mismatched_proofs() -> None:
    path = TREE.consistency_path(6, 8)
    bad = [path[0][:-1] + bytes([path[0][-1] ^ 1]), *path[1:]]
    cases = [
        (6, 8, TREE.root(6), TREE.root(8), bad),
        (6, 8, TREE.root(5), TREE.root(8), path),
        (6, 8, TREE.root(6), TREE.root(7), path),
        (5, 8, TREE.root(5), TREE.root(8), path),
        (6, 8, TREE.root(6), TREE.root(8), []),
        (8, 8, TREE.root(7), TREE.root(8), []),
        (8, 6, TREE.root(8), TREE.root(6), path),
    ]
    for old, new, old_root, new_root, proof in cases:
        with pytest.raises(ProofInvalid):
            verify_consistency(old, new, old_root, new_root, proof)
