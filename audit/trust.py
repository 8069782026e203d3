"""A verdict on the log against trust anchors held outside the database.

Hashes, the chain head and stored checkpoints all live in the database an insider controls: with
the triggers dropped they can be recomputed after any rewrite, so on their own they prove only that
the log agrees with itself. :func:`verify_trusted` refuses to give a verdict without something the
insider cannot recompute (:class:`TrustPolicy`):

* the broker's public key: every stored checkpoint must carry its signature (after a rotation of
  the broker's key, give each key it signed with: a checkpoint passes with any one of them);
* kept checkpoints (signed notes an agency kept, perhaps with cosignature lines): the log's first
  ``size`` entries must still give each one's root and chain head;
* witnesses: with ``min_witnesses = K`` a kept checkpoint counts only with valid cosignatures by K
  witnesses (in its own lines or stored ones), and every stored checkpoint that K witnesses cosigned
  becomes an anchor too, so a rewrite is located between the last anchor that matches and the first
  that does not. A witness may be given with each key of its history (several keys under one name:
  a checkpoint kept before it rotated carries its old key's cosignature), and counts once however
  many of them cosigned: K is a number of witnesses, never of keys.

The verifier holds every leaf, so rather than check a consistency proof it recomputes the tree of
each anchor's size from the entries themselves; a proof is what parties without the leaves need
(:func:`audit.advance_witness`). Without a kept checkpoint, an insider who rewrote an entry and
deleted every later checkpoint and cosignature leaves a log that still checks out: only a copy held
elsewhere can show it once existed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, inspect, make_url, select
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import Session, col

from audit.auditor import BrokerKey, broker_keys, open_checkpoint
from audit.cosignature import WitnessKey, cosigners, require_cosignatures
from audit.engine import create_engine_for
from audit.errors import AuditError, CheckpointInvalid, LogStateError, NoTrustAnchor, WitnessQuorumMissing
from audit.models import ChainHead, CheckpointRecord, CosignatureRecord, Entry
from audit.verify import Anchor, LogReport, verify_log

LOG_TABLES = tuple(str(model.__tablename__) for model in (Entry, ChainHead, CheckpointRecord, CosignatureRecord))
"""Every table a verdict reads; a missing one is a :class:`LogStateError`, not a traceback."""


@dataclass(frozen=True)
class TrustPolicy:
    """What an auditor trusts, all of it held outside the log's database.

    ``public_key``: the broker's key, or every key in its signing history (current and retired).
    """

    public_key: BrokerKey = field(default=None, repr=False)
    kept: tuple[str, ...] = ()
    witnesses: tuple[WitnessKey, ...] = ()
    min_witnesses: int = 0

    def __post_init__(self) -> None:
        if self.public_key is not None and not isinstance(self.public_key, Ed25519PublicKey):
            # Frozen means frozen: keep our own copy, not the caller's list of keys.
            object.__setattr__(self, "public_key", tuple(self.public_key))
        given: set[str] = set()
        for witness in self.witnesses:
            # The same key twice is a slip in the auditor's list, not a second key of that witness.
            if witness.vkey() in given:
                raise AuditError(f"witness key {witness.name}+{witness.key_id.hex()} is given twice")
            given.add(witness.vkey())
        named = len(self.witness_names)
        if not 0 <= self.min_witnesses <= named:
            raise AuditError(
                f"cannot require {self.min_witnesses} of {named} witnesses (each counts once, however many keys)"
            )

    @property
    def witness_names(self) -> frozenset[str]:
        """Return the distinct witnesses given: a quorum counts these, not their keys."""
        return frozenset(w.name for w in self.witnesses)

    @property
    def public_keys(self) -> tuple[Ed25519PublicKey, ...]:
        """Return each broker key given (none, one, or the signing history)."""
        return broker_keys(self.public_key)

    @property
    def anchored(self) -> bool:
        """Return whether anything here is outside an insider's reach."""
        return bool(self.public_keys) or bool(self.kept) or self.min_witnesses > 0


def verify_trusted(session: Session, policy: TrustPolicy, *, batch: int = 5_000) -> LogReport:
    """Verify the whole log against ``policy``'s anchors; raise the first problem found.

    Raises :class:`NoTrustAnchor` for an empty policy, :class:`LogStateError` if the log cannot be
    read (a table missing, the database unreachable), and a :class:`VerificationError` for evidence
    that does not check out: the report then names the entry, anchor and witnesses.
    """
    if not policy.anchored:
        raise NoTrustAnchor(
            "no trust anchor: give the broker's public key, a checkpoint you kept, or witness keys "
            "with a minimum; without one a rewritten log would check out against itself"
        )
    try:
        require_tables(session)
        anchors = kept_anchors(session, policy) + stored_anchors(session, policy)
        if policy.min_witnesses and not anchors:
            raise WitnessQuorumMissing(tree_size=None, found=(), required=policy.min_witnesses)
        return verify_log(session, policy.public_keys, anchors=anchors, batch=batch)
    except SQLAlchemyError as exc:
        raise LogStateError(f"the log cannot be read: {_reason(exc)}") from exc


def require_tables(session: Session) -> None:
    """Raise :class:`LogStateError` naming any log table the database lacks."""
    inspector = inspect(session.connection())
    missing = [name for name in LOG_TABLES if not inspector.has_table(name)]
    if missing:
        raise LogStateError(f"table {', '.join(missing)} missing: the log was dropped, or the database never migrated")


def kept_anchors(session: Session, policy: TrustPolicy) -> list[Anchor]:
    """Turn each kept note into an anchor after checking its broker signature and witness quorum."""
    stored = _stored_lines(session) if policy.witnesses else {}
    anchors = []
    for note in policy.kept:
        try:
            # A note kept before a rotation carries the retired key's signature: any key given counts.
            checkpoint = open_checkpoint(note, policy.public_keys)
        except CheckpointInvalid as exc:
            raise CheckpointInvalid(f"kept checkpoint: {exc}") from exc
        # Cosignatures stored in the log count too: they are checked against the kept body, not the log's.
        lines = stored.get(checkpoint.size, [])
        if policy.min_witnesses:
            names = require_cosignatures(note, policy.witnesses, policy.min_witnesses, lines)
        else:
            names = cosigners(note, policy.witnesses, lines)
        anchors.append(Anchor(checkpoint, "kept checkpoint", names))
    return anchors


def stored_anchors(session: Session, policy: TrustPolicy) -> list[Anchor]:
    """Return the stored checkpoints that ``policy`` trusts: K-witnessed, or else broker-signed.

    A stored checkpoint that fails here is skipped, not reported: :func:`verify_log` checks every
    stored checkpoint against the entries and reports it there.
    """
    if not policy.min_witnesses and not policy.public_keys:
        return []
    lines = _stored_lines(session) if policy.min_witnesses else {}
    anchors = []
    for note in session.execute(select(col(CheckpointRecord.note)).order_by(col(CheckpointRecord.tree_size))).scalars():
        try:
            checkpoint = open_checkpoint(note, policy.public_keys)
            names = cosigners(note, policy.witnesses, lines.get(checkpoint.size, ()))
        except CheckpointInvalid:
            continue
        if not policy.min_witnesses:
            anchors.append(Anchor(checkpoint, "signed checkpoint", names))
        elif len(names) >= policy.min_witnesses:
            anchors.append(Anchor(checkpoint, "witnessed checkpoint", names))
    return anchors


def _stored_lines(session: Session) -> dict[int, list[str]]:
    """Return every stored cosignature line by tree size, unparsed: a bad one is skipped when counted."""
    lines: defaultdict[int, list[str]] = defaultdict(list)
    statement = select(col(CosignatureRecord.tree_size), col(CosignatureRecord.line)).order_by(
        col(CosignatureRecord.id)
    )
    for size, line in session.execute(statement):
        lines[size].append(line)
    return lines


def open_for_verify(url: str) -> Engine:
    """Return a read-only engine for ``url``, refusing a SQLite file that does not exist.

    SQLite would otherwise create an empty database and report its tables missing, leaving a stray
    file where the log should have been.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise AuditError(f"not a database URL: {exc}") from exc
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:") and not Path(database).exists():
        raise LogStateError(f"no database file at {database}")
    return create_engine_for(url, read_only=True)


def _reason(exc: SQLAlchemyError) -> str:
    detail = str(getattr(exc, "orig", None) or exc).strip()
    return detail.splitlines()[0] if detail else type(exc).__name__
