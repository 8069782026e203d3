"""The decision log core: an append-only, hash-chained, Merkle-checkpointed record of every sharing
decision and what happened to it afterwards. It knows nothing of HTTP or Kafka.

Concepts:

* **Entry** - one event on one delivery (a recipient decision): decided, advice given,
  authorisation granted/refused, published, delivered, acknowledged, overdue, viewed. Callers
  build an :class:`EntryDraft`; :func:`append` (or an :class:`AppendBatcher`) gives it a sequence
  number, time, leaf hash and chain hash inside the caller's transaction.
* **Chain** - each entry's ``chain_hash`` commits to every earlier entry; :func:`verify_log` names
  the first entry whose stored bytes no longer match.
* **Checkpoint** - a signed note (transparency-dev format) of tree size, RFC 6962 Merkle root, time
  and chain head; :func:`write_checkpoint` makes one, :func:`latest_checkpoint` reads the newest.
* **Proofs** - :func:`inclusion_proof` and :func:`consistency_proof` build them;
  :func:`verify_inclusion_proof` and :func:`verify_consistency_proof` check them with only the
  broker's public key.
"""

from audit.auditor import (
    Checkpoint,
    ConsistencyProof,
    InclusionProof,
    entry_leaf_hash,
    verify_consistency_proof,
    verify_inclusion_proof,
)
from audit.batcher import AppendBatcher, ExtraRows
from audit.canonical import canonical_bytes, format_time
from audit.checkpoint import Signer, checkpoint_at, latest_checkpoint, write_checkpoint
from audit.engine import create_engine_for
from audit.errors import (
    AuditError,
    BatcherClosed,
    CanonicalError,
    ChainBroken,
    CheckpointInvalid,
    EntryMalformed,
    EntryNotFound,
    HeadMismatch,
    LogStateError,
    PackInvalid,
    ProofInvalid,
    Pushback,
    SequenceGap,
    TamperDetected,
    VerificationError,
)
from audit.evidence import consistency_proof, inclusion_proof, load_tree
from audit.export import PackSummary, export_pack, verify_pack
from audit.log import append
from audit.migration import VERSION_TABLE, migrate, upgrade
from audit.models import ChainHead, CheckpointRecord, Entry, EntryDraft, EventKind, Reason
from audit.pseudonym import pseudonymise
from audit.query import get_entry, query, record_view, select_entries
from audit.verify import LogReport, verify_log

__all__ = [
    "VERSION_TABLE",
    "AppendBatcher",
    "AuditError",
    "BatcherClosed",
    "CanonicalError",
    "ChainBroken",
    "ChainHead",
    "Checkpoint",
    "CheckpointInvalid",
    "CheckpointRecord",
    "ConsistencyProof",
    "Entry",
    "EntryDraft",
    "EntryMalformed",
    "EntryNotFound",
    "EventKind",
    "ExtraRows",
    "HeadMismatch",
    "InclusionProof",
    "LogReport",
    "LogStateError",
    "PackInvalid",
    "PackSummary",
    "ProofInvalid",
    "Pushback",
    "Reason",
    "SequenceGap",
    "Signer",
    "TamperDetected",
    "VerificationError",
    "append",
    "canonical_bytes",
    "checkpoint_at",
    "consistency_proof",
    "create_engine_for",
    "entry_leaf_hash",
    "export_pack",
    "format_time",
    "get_entry",
    "inclusion_proof",
    "latest_checkpoint",
    "load_tree",
    "migrate",
    "pseudonymise",
    "query",
    "record_view",
    "select_entries",
    "upgrade",
    "verify_consistency_proof",
    "verify_inclusion_proof",
    "verify_log",
    "verify_pack",
    "write_checkpoint",
]
