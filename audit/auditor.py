"""What an auditor needs without the server: checkpoints and proofs, checked against the broker key.

Everything here is pure: it takes text and hashes, never a database session.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.canonical import canonical_bytes, parse_time
from audit.chain import leaf_hash
from audit.errors import AuditError, CheckpointInvalid, ProofInvalid
from audit.note import open_note
from audit.proof import verify_consistency, verify_inclusion

_TIME = re.compile(r"^time (\S+)$")
_CHAIN = re.compile(r"^chain (\S+)$")


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement of the log's state: origin, tree size, Merkle root, time and chain head.

    The note body (transparency-dev checkpoint format plus two extension lines) is::

        <origin>\\n<size>\\n<base64 root>\\ntime <RFC 3339>\\nchain <base64 chain head>\\n
    """

    origin: str
    size: int
    root: bytes
    time: str
    chain_head: bytes
    note: str

    @staticmethod
    def body(origin: str, size: int, root: bytes, time: str, chain_head: bytes) -> str:
        """Return the note body for these values."""
        root64, chain64 = base64.b64encode(root).decode(), base64.b64encode(chain_head).decode()
        return f"{origin}\n{size}\n{root64}\ntime {time}\nchain {chain64}\n"

    @classmethod
    def open(cls, note: str, public_key: Ed25519PublicKey, *, key_name: str | None = None) -> Checkpoint:
        """Verify ``note``'s signature by the broker key and return the checkpoint it states."""
        return cls.parse(note, verify_with=public_key, key_name=key_name)

    @classmethod
    def parse(cls, note: str, *, verify_with: Ed25519PublicKey | None, key_name: str | None = None) -> Checkpoint:
        """Parse ``note``; check its signature first unless ``verify_with`` is None."""
        origin = note.split("\n", 1)[0]
        body = note.partition("\n\n")[0] + "\n"
        if verify_with is not None:
            body = open_note(note, key_name or origin, verify_with)
        lines = body.split("\n")[:-1]
        if len(lines) != 5:
            raise CheckpointInvalid("checkpoint body must have exactly five lines")
        time, chain = _TIME.match(lines[3]), _CHAIN.match(lines[4])
        if not lines[1].isdigit() or time is None or chain is None:
            raise CheckpointInvalid("malformed checkpoint body")
        try:
            parse_time(time.group(1))
            root, head = _b64_hash(lines[2]), _b64_hash(chain.group(1))
        except (AuditError, binascii.Error, ValueError) as exc:
            raise CheckpointInvalid(f"malformed checkpoint body: {exc}") from exc
        checkpoint = cls(origin, int(lines[1]), root, time.group(1), head, note)
        if cls.body(origin, checkpoint.size, root, checkpoint.time, head) != body:
            raise CheckpointInvalid("checkpoint body is not in canonical form")
        return checkpoint


def _b64_hash(text: str) -> bytes:
    raw = base64.b64decode(text, validate=True)
    if len(raw) != 32:
        raise ValueError("hash must be 32 bytes")
    return raw


def _hashes(items: Any) -> tuple[bytes, ...]:
    return tuple(bytes.fromhex(item) for item in items)


@dataclass(frozen=True)
class InclusionProof:
    """Proof that entry ``seq`` is in the tree that ``checkpoint`` (a signed note) commits to."""

    seq: int
    tree_size: int
    path: tuple[bytes, ...]
    checkpoint: str

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready form (hashes as hex)."""
        return {
            "seq": self.seq,
            "tree_size": self.tree_size,
            "path": [p.hex() for p in self.path],
            "checkpoint": self.checkpoint,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InclusionProof:
        """Rebuild a proof from :meth:`to_json` output."""
        return cls(int(data["seq"]), int(data["tree_size"]), _hashes(data["path"]), str(data["checkpoint"]))


@dataclass(frozen=True)
class ConsistencyProof:
    """Proof that the tree of ``old_checkpoint`` is a prefix of the tree of ``new_checkpoint``."""

    old_checkpoint: str
    new_checkpoint: str
    path: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready form (hashes as hex)."""
        return {
            "old_checkpoint": self.old_checkpoint,
            "new_checkpoint": self.new_checkpoint,
            "path": [p.hex() for p in self.path],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ConsistencyProof:
        """Rebuild a proof from :meth:`to_json` output."""
        return cls(str(data["old_checkpoint"]), str(data["new_checkpoint"]), _hashes(data["path"]))


def entry_leaf_hash(document: Mapping[str, Any]) -> bytes:
    """Return the leaf hash of a canonical entry document (as :meth:`Entry.document` gives)."""
    return leaf_hash(canonical_bytes(document))


BrokerKey = Ed25519PublicKey | Sequence[Ed25519PublicKey] | None
"""The broker key(s) checkpoints are checked against: one key, or each key in the broker's signing
history (the current one and every retired one), since a log that spans a rotation carries both."""


def broker_keys(keys: BrokerKey) -> tuple[Ed25519PublicKey, ...]:
    """Return ``keys`` as a tuple: empty for None, one element for a single key."""
    if keys is None:
        return ()
    if isinstance(keys, Ed25519PublicKey):
        return (keys,)
    return tuple(keys)


def open_checkpoint(note: str, keys: BrokerKey) -> Checkpoint:
    """Return the checkpoint ``note`` states if one of ``keys`` signed it (parse only, without keys).

    Each key goes through :meth:`Checkpoint.parse`, so the note format and signature rules are the
    usual ones; a key that did not sign the note fails on its key hash before any signature check.
    """
    candidates = broker_keys(keys)
    if not candidates:
        return Checkpoint.parse(note, verify_with=None)
    failures: list[CheckpointInvalid] = []
    for key in candidates:
        try:
            return Checkpoint.parse(note, verify_with=key)
        except CheckpointInvalid as exc:
            failures.append(exc)
    if len(failures) == 1:
        raise failures[0]  # one key: the same report as before several could be given
    raise CheckpointInvalid(f"signed by none of the {len(failures)} broker keys: " + "; ".join(map(str, failures)))


def verify_inclusion_proof(
    proof: InclusionProof, entry: Mapping[str, Any] | bytes, public_key: BrokerKey
) -> Checkpoint:
    """Check the checkpoint's signature (by the key, or one of the keys, given), then that ``entry``
    (document or leaf hash) is included."""
    if not broker_keys(public_key):
        raise CheckpointInvalid("no broker key to check the checkpoint with")
    checkpoint = open_checkpoint(proof.checkpoint, public_key)
    if proof.tree_size != checkpoint.size:
        raise ProofInvalid(f"proof is for size {proof.tree_size}, checkpoint for {checkpoint.size}")
    if isinstance(entry, bytes):
        leaf = entry
    else:
        if entry.get("seq") != proof.seq:
            raise ProofInvalid(f"entry {entry.get('seq')} is not the entry {proof.seq} the proof is for")
        leaf = entry_leaf_hash(entry)
    verify_inclusion(proof.seq, proof.tree_size, leaf, proof.path, checkpoint.root)
    return checkpoint


def verify_consistency_proof(proof: ConsistencyProof, public_key: Ed25519PublicKey) -> tuple[Checkpoint, Checkpoint]:
    """Check both checkpoints' signatures, then that the older tree is a prefix of the newer."""
    old = Checkpoint.open(proof.old_checkpoint, public_key)
    new = Checkpoint.open(proof.new_checkpoint, public_key)
    if old.origin != new.origin:
        raise ProofInvalid(f"checkpoints come from different logs: {old.origin!r}, {new.origin!r}")
    verify_consistency(old.size, new.size, old.root, new.root, proof.path)
    return old, new
