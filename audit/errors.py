"""Errors raised by the decision-log core.

One hierarchy for the package; verification failures carry their evidence::

    AuditError
    ├── CanonicalError          a value cannot be canonically encoded (float, naive datetime, ...)
    ├── LogStateError           the log cannot be read: database unreachable, a table missing or dropped,
    │                           not migrated, head row missing (``audit verify`` exit 3, not a verdict)
    ├── NoTrustAnchor           a verdict was asked for with nothing trusted to check against
    ├── ForeignSigner           a key (or origin) to sign with that did not sign the log's newest checkpoint
    ├── BatcherClosed           a draft was submitted to a stopped group-commit writer
    ├── Pushback                the group-commit writer is overloaded (retriable: 503)
    ├── EntryNotFound           a sequence number or checkpoint that the log does not hold
    │   └── NotWitnessed        no checkpoint carries the cosignatures of K witnesses yet
    └── VerificationError       evidence does not check out
        ├── TamperDetected      stored entries disagree with their hashes or anchors (carries ``seq``)
        │   ├── ChainBroken     a recomputed hash differs from the stored one (expected, actual)
        │   ├── SequenceGap     an entry is missing or out of place
        │   │   └── LogTruncated      the log ends before a trusted checkpoint's size (first missing seq)
        │   ├── EntryMalformed  a stored column is not in canonical form
        │   └── HistoryRewritten      the entries no longer give a trusted checkpoint's root: an entry in
        │                             ``seq..last`` was rewritten or the log forked (anchor, witnesses)
        ├── HeadMismatch        the chain-head row disagrees with the last entry
        ├── CheckpointInvalid   a checkpoint's signature, text or root is wrong
        │   ├── CosignatureInvalid    a witness cosignature line is malformed or does not verify
        │   └── WitnessQuorumMissing  fewer than K trusted witnesses cosigned (size, found, required)
        ├── CosignatureForged   a stored line under a witness's key does not verify, and holds its place
        ├── InconsistentCheckpoint    a new checkpoint is not proven to extend the kept one (sizes, roots)
        │   └── ForkDetected          two signed checkpoints of one size with different trees
        ├── ProofInvalid        an inclusion or consistency proof does not verify
        └── PackInvalid         an exported evidence pack does not verify
"""

from __future__ import annotations

from typing import ClassVar


class AuditError(Exception):
    """Base class for every error the audit package raises."""

    retriable: ClassVar[bool] = False


class CanonicalError(AuditError):
    """A value cannot be canonically encoded."""


class LogStateError(AuditError):
    """The log's stored state is unusable (for example, migrations have not run)."""


class NoTrustAnchor(AuditError):
    """A verdict was asked for with no trust anchor: no broker key, kept checkpoint or witness quorum.

    Without one, a log rewritten with recomputed hashes and checkpoints checks out against itself,
    so saying "OK" would vouch for whatever the database holds.
    """


class ForeignSigner(AuditError):
    """The key (or the origin) given to sign with did not sign the log's newest checkpoint.

    What it signed (a pack, a checkpoint) would be no evidence of this log: a pack would ship a key
    no auditor holds as the broker's, over a checkpoint that key never signed, and a checkpoint it
    wrote would be a row no broker key signed. ``origin`` is True when the log's name differs (the
    key was not checked); ``expected`` names what the newest checkpoint carries (``name+keyhash``).
    """

    def __init__(self, message: str, *, given: str, expected: str, tree_size: int, origin: bool = False) -> None:
        super().__init__(message)
        self.given = given
        self.expected = expected
        self.tree_size = tree_size
        self.origin = origin


class BatcherClosed(AuditError):
    """The group-commit writer is not running; the caller should answer 503 and retry later."""

    retriable = True


class EntryNotFound(AuditError):
    """The log holds no entry or checkpoint with that number."""


class NotWitnessed(EntryNotFound):
    """No checkpoint carries the cosignatures of ``required`` distinct witnesses (that verify, when the
    witnesses' keys are known) yet: nothing can be proven under one."""

    def __init__(self, message: str, *, required: int) -> None:
        super().__init__(message)
        self.required = required


class VerificationError(AuditError):
    """Evidence (log, checkpoint, proof or pack) does not verify."""


class TamperDetected(VerificationError):
    """The stored log was changed; ``seq`` is the first entry found bad."""

    def __init__(self, seq: int, message: str) -> None:
        super().__init__(f"entry {seq}: {message}")
        self.seq = seq


class ChainBroken(TamperDetected):
    """A hash recomputed from an entry's content differs from the stored one."""

    def __init__(self, seq: int, expected: str, actual: str, *, column: str = "leaf_hash") -> None:
        super().__init__(seq, f"{column} mismatch: expected {expected}, stored {actual}")
        self.expected = expected
        self.actual = actual
        self.column = column


class SequenceGap(TamperDetected):
    """An entry is missing, duplicated or out of place."""

    def __init__(self, seq: int, found: int | None) -> None:
        found_text = "end of log" if found is None else f"entry {found}"
        super().__init__(seq, f"expected entry {seq}, found {found_text}")
        self.found = found


class LogTruncated(SequenceGap):
    """The log holds fewer entries than a trusted checkpoint commits to; ``seq`` is the first missing one."""

    def __init__(self, seq: int, *, anchor_size: int, source: str, witnesses: tuple[str, ...] = ()) -> None:
        # Skip SequenceGap's message: this one names the anchor that proves the entries existed.
        TamperDetected.__init__(
            self,
            seq,
            f"the log ends here, but the {source} at size {anchor_size}{_by(witnesses)} "
            f"commits to {anchor_size} entries",
        )
        self.found = None
        self.anchor_size = anchor_size
        self.source = source
        self.witnesses = witnesses


class HistoryRewritten(TamperDetected):
    """The first ``anchor_size`` entries no longer give the root a trusted checkpoint signed for them.

    Some entry in ``seq..last`` changed (or the log forked there): every trusted checkpoint up to
    ``seq`` still matches, the one at ``anchor_size = last + 1`` does not. ``seq == last`` locates
    the entry exactly; the bracket narrows as anchors (kept or witnessed checkpoints) get denser.
    """

    def __init__(
        self,
        seq: int,
        last: int,
        *,
        anchor_size: int,
        expected: str,
        found: str,
        source: str,
        witnesses: tuple[str, ...] = (),
        what: str = "root",
    ) -> None:
        where = f"entry {seq}" if seq == last else f"an entry in {seq}..{last}"
        # Not TamperDetected's "entry N:" prefix: with a bracket there is no single entry to name.
        VerificationError.__init__(
            self,
            f"{where} was rewritten: the {source} at size {anchor_size}{_by(witnesses)} has {what} "
            f"{expected}, the entries give {found}",
        )
        self.seq = seq
        self.last = last
        self.anchor_size = anchor_size
        self.expected = expected
        self.found = found
        self.source = source
        self.witnesses = witnesses
        self.what = what


def _by(witnesses: tuple[str, ...]) -> str:
    return f" (cosigned by {', '.join(witnesses)})" if witnesses else ""


class EntryMalformed(TamperDetected):
    """A stored column is not what the writer would have stored."""

    def __init__(self, seq: int, column: str, reason: str) -> None:
        super().__init__(seq, f"column {column} malformed: {reason}")
        self.column = column


class HeadMismatch(VerificationError):
    """The chain-head row disagrees with the entries."""


class CheckpointInvalid(VerificationError):
    """A checkpoint's signature, text or Merkle root is wrong."""

    def __init__(self, message: str, *, tree_size: int | None = None) -> None:
        super().__init__(message if tree_size is None else f"checkpoint at size {tree_size}: {message}")
        self.tree_size = tree_size


class CosignatureInvalid(CheckpointInvalid):
    """A witness cosignature line is malformed, names another key, or does not verify."""

    def __init__(self, message: str, *, witness: str | None = None, tree_size: int | None = None) -> None:
        super().__init__(message if witness is None else f"cosignature by {witness}: {message}", tree_size=tree_size)
        self.witness = witness


class WitnessQuorumMissing(CheckpointInvalid):
    """Fewer than ``required`` of the trusted witnesses have a valid cosignature on the checkpoint."""

    def __init__(self, *, tree_size: int | None, found: tuple[str, ...], required: int) -> None:
        named = ", ".join(found) if found else "none"
        super().__init__(f"{len(found)} of {required} required witness cosignatures ({named})", tree_size=tree_size)
        self.found = found
        self.required = required


class CosignatureForged(VerificationError):
    """The cosignature row kept for (``tree_size``, ``witness``, its key) does not verify.

    The broker stores only lines that verify, so the row was written past it; being first, it holds the
    place of the witness's real cosignature, which cannot be stored. Not the caller's fault (not a
    :class:`CosignatureInvalid`): an integrity alarm, and the witness's cosignature was not kept.
    """

    def __init__(self, *, witness: str, tree_size: int) -> None:
        super().__init__(
            f"the cosignature stored for {witness} on the checkpoint at size {tree_size} does not verify: "
            "it was written past the broker, and the witness's own cannot be kept"
        )
        self.witness = witness
        self.tree_size = tree_size


class InconsistentCheckpoint(VerificationError):
    """A new checkpoint is not proven to extend the one a witness kept; it must not be cosigned."""

    def __init__(self, message: str, *, old_size: int, old_root: str, new_size: int, new_root: str) -> None:
        super().__init__(f"{message} (kept size {old_size} root {old_root}; new size {new_size} root {new_root})")
        self.old_size = old_size
        self.old_root = old_root
        self.new_size = new_size
        self.new_root = new_root


class ForkDetected(InconsistentCheckpoint):
    """Two checkpoints signed by the log for one tree size state different trees: proof of a split view."""


class ProofInvalid(VerificationError):
    """An inclusion or consistency proof does not verify."""


class PackInvalid(VerificationError):
    """An exported evidence pack does not verify."""


class Pushback(AuditError):
    """The group-commit writer's queue is full: answer 503 with Retry-After and let the caller retry."""

    retriable = True
