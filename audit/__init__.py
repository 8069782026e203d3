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
  A long-running signer holds the chain-head row to the entries before it signs
  (:func:`sign_trusted`), so a row an insider rewrote never gets the broker's signature.
* **Proofs** - :func:`inclusion_proof` and :func:`consistency_proof` build them;
  :func:`verify_inclusion_proof` and :func:`verify_consistency_proof` check them with only the
  broker's public key.
* **Witnesses** - agencies that keep the last checkpoint they saw and, once
  :func:`advance_witness` has shown a new one extends it (a :class:`WitnessRequest` carries the
  consistency proof, built by :func:`witness_request`), :func:`cosign` it: a C2SP
  ``tlog-cosignature/v1`` line appended to the note (format in :mod:`audit.cosignature`).
  :func:`store_cosignature` keeps verified lines beside the checkpoint; :func:`witnessed_note`
  returns the note with them.
* **Trust anchors** - what the database cannot forge: the broker's key, a checkpoint an agency
  kept, a witness quorum (:class:`TrustPolicy`). :func:`verify_trusted` refuses a verdict without
  one and reports a rewrite, truncation or fork after an anchor with the entry (or bracket of
  entries) and the witnesses who cosigned it; see :mod:`audit.trust`.

The error tree (every verification error carries its evidence) is drawn in :mod:`audit.errors`.
"""

from audit.auditor import (
    Checkpoint,
    ConsistencyProof,
    InclusionProof,
    entry_leaf_hash,
    verify_consistency_proof,
    verify_inclusion_proof,
)
from audit.batcher import AppendBatcher, ExtraRows, Prepare
from audit.canonical import canonical_bytes, format_time
from audit.checkpoint import (
    DEFAULT_ORIGIN,
    Signer,
    WitnessMark,
    check_signer,
    checkpoint_at,
    cosignatures_for,
    foreign_checkpoints,
    last_cosigned_size,
    latest_checkpoint,
    latest_witnessed,
    sign_head,
    store_cosignature,
    witness_marks,
    witnessed_note,
    write_checkpoint,
)
from audit.commit import one_commit
from audit.cosignature import (
    Cosignature,
    WitnessKey,
    cosign,
    cosigners,
    require_cosignatures,
    verify_cosignature,
    with_cosignatures,
)
from audit.engine import WalCheckpoint, checkpoint_wal, create_engine_for, has_wal, pipelined, single_statements
from audit.errors import (
    AuditError,
    BatcherClosed,
    CanonicalError,
    ChainBroken,
    CheckpointInvalid,
    CosignatureForged,
    CosignatureInvalid,
    EntryMalformed,
    EntryNotFound,
    ForeignSigner,
    ForkDetected,
    HeadMismatch,
    HistoryRewritten,
    InconsistentCheckpoint,
    LogStateError,
    LogTruncated,
    NoTrustAnchor,
    NotWitnessed,
    PackInvalid,
    ProofInvalid,
    Pushback,
    SequenceGap,
    TamperDetected,
    VerificationError,
    WitnessQuorumMissing,
)
from audit.evidence import consistency_proof, inclusion_proof, load_tree, witness_request
from audit.export import PackSummary, export_pack, verify_pack
from audit.later import flush_later, insert_later, insert_now
from audit.log import HeadState, append
from audit.migration import VERSION_TABLE, migrate, upgrade
from audit.models import ChainHead, CheckpointRecord, CosignatureRecord, Entry, EntryDraft, EventKind, Reason
from audit.pseudonym import pseudonymise
from audit.query import get_entry, query, record_view, select_entries
from audit.trust import TrustPolicy, verify_trusted
from audit.trusted import sign_trusted, trusted_state
from audit.verify import Anchor, LogReport, replay_entries, verify_log
from audit.witness import WitnessRequest, advance_witness

__all__ = [
    "DEFAULT_ORIGIN",
    "VERSION_TABLE",
    "Anchor",
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
    "Cosignature",
    "CosignatureForged",
    "CosignatureInvalid",
    "CosignatureRecord",
    "Entry",
    "EntryDraft",
    "EntryMalformed",
    "EntryNotFound",
    "EventKind",
    "ExtraRows",
    "ForeignSigner",
    "ForkDetected",
    "HeadMismatch",
    "HeadState",
    "HistoryRewritten",
    "InclusionProof",
    "InconsistentCheckpoint",
    "LogReport",
    "LogStateError",
    "LogTruncated",
    "NoTrustAnchor",
    "NotWitnessed",
    "PackInvalid",
    "PackSummary",
    "Prepare",
    "ProofInvalid",
    "Pushback",
    "Reason",
    "SequenceGap",
    "Signer",
    "TamperDetected",
    "TrustPolicy",
    "VerificationError",
    "WalCheckpoint",
    "WitnessKey",
    "WitnessMark",
    "WitnessQuorumMissing",
    "WitnessRequest",
    "advance_witness",
    "append",
    "canonical_bytes",
    "check_signer",
    "checkpoint_at",
    "checkpoint_wal",
    "consistency_proof",
    "cosign",
    "cosignatures_for",
    "cosigners",
    "create_engine_for",
    "entry_leaf_hash",
    "export_pack",
    "flush_later",
    "foreign_checkpoints",
    "format_time",
    "get_entry",
    "has_wal",
    "inclusion_proof",
    "insert_later",
    "insert_now",
    "last_cosigned_size",
    "latest_checkpoint",
    "latest_witnessed",
    "load_tree",
    "migrate",
    "one_commit",
    "pipelined",
    "pseudonymise",
    "query",
    "record_view",
    "replay_entries",
    "require_cosignatures",
    "select_entries",
    "sign_head",
    "sign_trusted",
    "single_statements",
    "store_cosignature",
    "trusted_state",
    "upgrade",
    "verify_consistency_proof",
    "verify_cosignature",
    "verify_inclusion_proof",
    "verify_log",
    "verify_pack",
    "verify_trusted",
    "with_cosignatures",
    "witness_marks",
    "witness_request",
    "witnessed_note",
    "write_checkpoint",
]
