"""A witnessed log, and the insider who rewrites it with the triggers dropped and every hash recomputed.

The log is built the way the gateway and the agencies will run it: after each entry the broker
signs a checkpoint, each witness receives a tlog-witness request, checks it with
`advance_witness`, cosigns, and the broker stores the cosignature. An agency keeps the cosigned
notes. The attacker then has the database and nothing else: not the witnesses' keys, not the kept
notes, and (except where a test says so) not the broker's key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, select, text, update
from sqlmodel import Session, col

from audit import (
    ChainHead,
    Checkpoint,
    CheckpointRecord,
    CosignatureRecord,
    Entry,
    EntryDraft,
    Signer,
    WitnessKey,
    advance_witness,
    append,
    cosign,
    entry_leaf_hash,
    last_cosigned_size,
    store_cosignature,
    witness_request,
    witnessed_note,
    write_checkpoint,
)
from audit.chain import GENESIS, link_hash
from audit.merkle import CompactRange

WITNESS_SEEDS = {"w1.csc-fictional.invalid": bytes(range(64, 96)), "w2.police-fictional.invalid": bytes(range(96, 128))}
SIZE = 7

SQLITE_TRIGGERS = [
    "audit_entry_no_update",
    "audit_entry_no_delete",
    "audit_checkpoint_no_update",
    "audit_checkpoint_no_delete",
    "audit_chain_head_forward",
    "audit_checkpoint_cosignature_no_update",
    "audit_checkpoint_cosignature_no_delete",
]
POSTGRES_TRIGGERS = [
    ("audit_entry_append_only", "audit_entry"),
    ("audit_checkpoint_append_only", "audit_checkpoint"),
    ("audit_chain_head_forward", "audit_chain_head"),
    ("audit_checkpoint_cosignature_append_only", "audit_checkpoint_cosignature"),
]


def witness_private_keys() -> dict[str, Ed25519PrivateKey]:
    return {name: Ed25519PrivateKey.from_private_bytes(seed) for name, seed in WITNESS_SEEDS.items()}


def witness_keys() -> list[WitnessKey]:
    return [WitnessKey(name, key.public_key()) for name, key in witness_private_keys().items()]


@dataclass
class WitnessedLog:
    """What the honest parties hold after the log was built: kept notes by tree size."""

    engine: Engine
    signer: Signer
    kept: dict[int, str] = field(default_factory=dict)


def build_witnessed_log(
    engine: Engine, signer: Signer, make_draft: Callable[..., EntryDraft], clock: Callable[[], datetime]
) -> WitnessedLog:
    """Append SIZE entries one at a time; checkpoint, witness and keep each one."""
    log = WitnessedLog(engine, signer)
    state: dict[str, Checkpoint | None] = dict.fromkeys(WITNESS_SEEDS)
    for i in range(SIZE):
        with Session(engine) as session, session.begin():
            append(session, [make_draft(delivery_id=f"ntf-0001.d{i}", outcome="share")], clock=clock)
            checkpoint = write_checkpoint(session, signer, clock=clock)
        for name, key in witness_private_keys().items():
            kept, witness = state[name], WitnessKey(name, key.public_key())
            with Session(engine) as session:
                # The broker's side: the witness's kept size is the largest size it cosigned.
                request = witness_request(session, last_cosigned_size(session, witness), checkpoint)
            assert request.old_size == (0 if kept is None else kept.size)
            newest = advance_witness(
                kept, request.checkpoint_note, request.proof, signer.public_key, old_size=request.old_size
            )
            assert newest.size == checkpoint.size
            line = cosign(newest.note, name, key, clock())
            with Session(engine) as session, session.begin():
                store_cosignature(session, checkpoint.size, line, witness)
            state[name] = newest
        with Session(engine) as session:
            log.kept[checkpoint.size] = witnessed_note(session, checkpoint.size)
    return log


def drop_triggers(engine: Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            for trigger, table in POSTGRES_TRIGGERS:
                connection.execute(text(f"DROP TRIGGER {trigger} ON {table}"))
        else:
            for trigger in SQLITE_TRIGGERS:
                connection.execute(text(f"DROP TRIGGER {trigger}"))


def forget_checkpoints_above(session: Session, size: int) -> None:
    """Delete every checkpoint (and its cosignatures) past ``size``, as if they never were."""
    session.execute(CosignatureRecord.__table__.delete().where(col(CosignatureRecord.tree_size) > size))  # type: ignore[attr-defined]
    session.execute(CheckpointRecord.__table__.delete().where(col(CheckpointRecord.tree_size) > size))  # type: ignore[attr-defined]


def recompute_hashes(session: Session) -> None:
    """Recompute every leaf and chain hash and the chain-head row from the entries as they now stand."""
    head, compact = GENESIS, CompactRange()
    for entry in session.execute(select(Entry).order_by(col(Entry.seq))).scalars():
        leaf = entry_leaf_hash(entry.document())
        head = link_hash(head, leaf)
        compact.append(leaf)
        session.execute(
            update(Entry).where(col(Entry.seq) == entry.seq).values(leaf_hash=leaf.hex(), chain_hash=head.hex())
        )
    session.execute(
        update(ChainHead)
        .where(col(ChainHead.id) == 1)
        .values(size=compact.size, head=head.hex(), compact_range=compact.encode())
    )


def rewrite_entries(engine: Engine, changes: dict[int, dict[str, str]], *, keep_checkpoints_upto: int) -> None:
    """Change entries, recompute every hash and the head, forget the checkpoints that would betray it."""
    with Session(engine) as session, session.begin():
        for seq, values in changes.items():
            session.execute(update(Entry).where(col(Entry.seq) == seq).values(**values))
        recompute_hashes(session)
        forget_checkpoints_above(session, keep_checkpoints_upto)


def truncate(engine: Engine, keep: int) -> None:
    """Delete entries from ``keep`` on, rewind the head, forget later checkpoints."""
    with Session(engine) as session, session.begin():
        session.execute(Entry.__table__.delete().where(col(Entry.seq) >= keep))  # type: ignore[attr-defined]
        recompute_hashes(session)
        forget_checkpoints_above(session, keep)


def fork(engine: Engine, keep: int, drafts: Sequence[EntryDraft], clock: Callable[[], datetime]) -> None:
    """Truncate to ``keep`` entries and append a different history after them."""
    truncate(engine, keep)
    with Session(engine) as session, session.begin():
        append(session, list(drafts), clock=clock)


def resign_latest(engine: Engine, signer: Signer, clock: Callable[[], datetime]) -> None:
    """Sign a checkpoint of the rewritten log (with whatever key the attacker has)."""
    with Session(engine) as session, session.begin():
        write_checkpoint(session, signer, clock=clock)
