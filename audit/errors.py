"""Errors raised by the decision-log core.

One hierarchy for the package; verification failures carry their evidence::

    AuditError
    ├── CanonicalError          a value cannot be canonically encoded (float, naive datetime, ...)
    ├── LogStateError           the log's stored state cannot be used (not migrated, head row missing)
    ├── BatcherClosed           a draft was submitted to a stopped group-commit writer
    ├── Pushback                the group-commit writer is overloaded (retriable: 503)
    ├── EntryNotFound           a sequence number or checkpoint that the log does not hold
    └── VerificationError       evidence does not check out
        ├── TamperDetected      stored entries disagree with their hashes (carries ``seq``)
        │   ├── ChainBroken     a recomputed hash differs from the stored one (expected, actual)
        │   ├── SequenceGap     an entry is missing or out of place
        │   └── EntryMalformed  a stored column is not in canonical form
        ├── HeadMismatch        the chain-head row disagrees with the last entry
        ├── CheckpointInvalid   a checkpoint's signature, text or root is wrong
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


class BatcherClosed(AuditError):
    """The group-commit writer is not running; the caller should answer 503 and retry later."""

    retriable = True


class EntryNotFound(AuditError):
    """The log holds no entry or checkpoint with that number."""


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


class ProofInvalid(VerificationError):
    """An inclusion or consistency proof does not verify."""


class PackInvalid(VerificationError):
    """An exported evidence pack does not verify."""


class Pushback(AuditError):
    """The group-commit writer's queue is full: answer 503 with Retry-After and let the caller retry."""

    retriable = True
