"""What a witness checks before it cosigns: the new checkpoint extends the one it kept.

An agency consumer acting as a witness keeps the last checkpoint it cosigned. For each new one the
broker sends it the checkpoint and an RFC 9162 consistency proof from the kept size, in the body
format of C2SP ``tlog-witness`` ``add-checkpoint`` (pinned by ``tests/audit/golden/cosignature.json``)::

    old <kept size>\\n
    <base64 proof hash>\\n      (zero to 63 lines; none when the kept size is 0)
    \\n
    <checkpoint note>

:func:`advance_witness` accepts the new checkpoint (and returns the one to keep) or raises
:class:`InconsistentCheckpoint` / :class:`ForkDetected` with both sizes and roots: the evidence the
agency should raise with the broker's operators instead of cosigning. Pure: no database, no clock.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit.auditor import Checkpoint
from audit.errors import ForkDetected, InconsistentCheckpoint, ProofInvalid
from audit.merkle import EMPTY_ROOT, HASH_SIZE
from audit.proof import verify_consistency

MAX_PROOF_LINES = 63
"""tlog-witness caps a consistency proof at 63 hashes (enough for any 64-bit tree size)."""


@dataclass(frozen=True)
class WitnessRequest:
    """A checkpoint to cosign with its consistency proof from the witness's kept size."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint_note: str

    def encode(self) -> str:
        """Return the ``add-checkpoint`` request body."""
        lines = [f"old {self.old_size}\n", *(base64.b64encode(h).decode() + "\n" for h in self.proof)]
        return "".join(lines) + "\n" + self.checkpoint_note

    @classmethod
    def parse(cls, text: str) -> WitnessRequest:
        """Parse an ``add-checkpoint`` request body; raise :class:`ProofInvalid` if malformed."""
        head, sep, note = text.partition("\n\n")
        lines = head.split("\n")
        if not sep or not lines[0].startswith("old ") or len(lines) - 1 > MAX_PROOF_LINES:
            raise ProofInvalid("malformed witness request: want 'old N', proof lines, a blank line, a note")
        size = lines[0][4:]
        if not size.isdigit() or (size != "0" and size.startswith("0")):
            raise ProofInvalid(f"malformed witness request: old size {size!r}")
        try:
            proof = tuple(base64.b64decode(line, validate=True) for line in lines[1:])
        except binascii.Error as exc:
            raise ProofInvalid("malformed witness request: a proof line is not base64") from exc
        if any(len(h) != HASH_SIZE for h in proof):
            raise ProofInvalid("malformed witness request: a proof hash is not 32 bytes")
        return cls(int(size), proof, note)


def advance_witness(
    kept: Checkpoint | None,
    new_note: str,
    proof: Sequence[bytes],
    log_key: Ed25519PublicKey,
    *,
    old_size: int | None = None,
) -> Checkpoint:
    """Check ``new_note`` against the checkpoint the witness ``kept``; return the one to keep next.

    ``new_note`` must be signed by ``log_key`` (the broker's key, under its origin) and ``proof``
    must prove ``kept``'s tree a prefix of the new one (RFC 9162 §2.1.4). ``old_size``, when given
    (from a :class:`WitnessRequest`), must equal the kept size. An older but consistent checkpoint
    (``proof`` then runs from it to ``kept``) is accepted and ``kept`` returned: cosign only when the
    returned checkpoint is the new one, so a witness never vouches for a tree smaller than it saw.
    With nothing kept yet the first checkpoint is trusted on first use.
    """
    new = Checkpoint.open(new_note, log_key)
    if kept is None:
        if old_size not in (None, 0) or proof:
            raise _inconsistent("nothing is kept yet: the proof must start from size 0", None, new)
        return new
    if old_size is not None and old_size != kept.size:
        raise _inconsistent(f"the proof starts at size {old_size}, not at the kept size", kept, new)
    if new.origin != kept.origin:
        raise _inconsistent(f"checkpoint is for log {new.origin!r}, not {kept.origin!r}", kept, new)
    if new.size == kept.size:
        if new.root != kept.root or new.chain_head != kept.chain_head:
            raise ForkDetected(
                "the log signed two different trees of the same size",
                old_size=kept.size,
                old_root=kept.root.hex(),
                new_size=new.size,
                new_root=new.root.hex(),
            )
        return new if new.time >= kept.time else kept
    older, newer = (kept, new) if kept.size < new.size else (new, kept)
    try:
        verify_consistency(older.size, newer.size, older.root, newer.root, proof)
    except ProofInvalid as exc:
        message = f"no proof that size {older.size} is a prefix of size {newer.size}: {exc}"
        raise _inconsistent(message, kept, new) from exc
    return newer


def _inconsistent(message: str, kept: Checkpoint | None, new: Checkpoint) -> InconsistentCheckpoint:
    return InconsistentCheckpoint(
        message,
        old_size=0 if kept is None else kept.size,
        old_root=(EMPTY_ROOT if kept is None else kept.root).hex(),
        new_size=new.size,
        new_root=new.root.hex(),
    )
