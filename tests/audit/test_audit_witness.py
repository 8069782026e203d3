"""The witness's check before cosigning, the request it receives, and the stored cosignatures."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from audit import (
    Checkpoint,
    CheckpointInvalid,
    CosignatureInvalid,
    EntryNotFound,
    ForkDetected,
    InconsistentCheckpoint,
    ProofInvalid,
    Signer,
    WitnessKey,
    WitnessRequest,
    advance_witness,
    append,
    checkpoint_at,
    cosign,
    cosignatures_for,
    last_cosigned_size,
    latest_witnessed,
    store_cosignature,
    witness_marks,
    witness_request,
    witnessed_note,
    write_checkpoint,
)
from audit.merkle import MerkleTree, leaf_hash
from audit.note import sign_note

GOLDEN = json.loads((Path(__file__).parent / "golden" / "cosignature.json").read_text(encoding="utf-8"))
ORIGIN = "test.broker.invalid/decision-log"
LEAVES = [leaf_hash(bytes([i])) for i in range(9)]
TREE = MerkleTree(LEAVES)
WITNESS_PRIVATE = Ed25519PrivateKey.from_private_bytes(bytes(range(64, 96)))
WITNESS = WitnessKey("w1.csc-fictional.invalid", WITNESS_PRIVATE.public_key())


def _checkpoint(
    signer: Signer, size: int, *, root: bytes | None = None, time: str = "2025-03-04T05:06:09.000000Z"
) -> str:
    body = Checkpoint.body(signer.origin, size, root or TREE.root(size), time, bytes(32))
    return sign_note(body, signer.origin, signer.key)


def _open(signer: Signer, size: int, **kwargs: Any) -> Checkpoint:
    return Checkpoint.open(_checkpoint(signer, size, **kwargs), signer.public_key)


def test_golden_witness_request_round_trips() -> None:
    case = GOLDEN["witness_request"]
    request = WitnessRequest(
        case["old_size"], tuple(bytes.fromhex(h) for h in case["proof"]), GOLDEN["checkpoint_note"]
    )
    assert request.encode() == case["body"]
    assert WitnessRequest.parse(case["body"]) == request


@pytest.mark.parametrize(
    "body",
    ["old 1\n", "new 1\n\nnote", "old 01\n\nnote", "old x\n\nnote", "old 1\n!!\n\nnote", "old 1\nAAAA\n\nnote"],
    ids=["no-note", "not-old", "leading-zero", "not-a-number", "not-base64", "short-hash"],
)
def test_malformed_requests_are_refused(body: str) -> None:
    with pytest.raises(ProofInvalid):
        WitnessRequest.parse(body)


def test_first_checkpoint_is_trusted_on_first_use(signer: Signer) -> None:
    assert advance_witness(None, _checkpoint(signer, 3), (), signer.public_key).size == 3
    with pytest.raises(InconsistentCheckpoint):
        advance_witness(None, _checkpoint(signer, 3), (), signer.public_key, old_size=2)


def test_a_proven_extension_is_accepted(signer: Signer) -> None:
    kept = _open(signer, 3)
    newest = advance_witness(kept, _checkpoint(signer, 7), TREE.consistency_path(3, 7), signer.public_key, old_size=3)
    assert newest.size == 7


def test_an_older_consistent_checkpoint_keeps_the_newer(signer: Signer) -> None:
    kept = _open(signer, 7)
    assert advance_witness(kept, _checkpoint(signer, 3), TREE.consistency_path(3, 7), signer.public_key) == kept


def test_same_tree_again_is_accepted_and_the_later_note_kept(signer: Signer) -> None:
    kept = _open(signer, 5)
    later = advance_witness(kept, _checkpoint(signer, 5, time="2025-03-04T06:00:00.000000Z"), (), signer.public_key)
    assert later.time > kept.time


def test_two_trees_of_one_size_are_a_fork(signer: Signer) -> None:
    kept = _open(signer, 5)
    other_root = MerkleTree([*LEAVES[:4], leaf_hash(b"rewritten")]).root()
    with pytest.raises(ForkDetected) as caught:
        advance_witness(kept, _checkpoint(signer, 5, root=other_root), (), signer.public_key)
    error = caught.value
    assert (error.old_size, error.old_root, error.new_size, error.new_root) == (
        5,
        TREE.root(5).hex(),
        5,
        other_root.hex(),
    )


def test_a_rewritten_prefix_has_no_consistency_proof(signer: Signer) -> None:
    kept = _open(signer, 5)
    forged = MerkleTree([*LEAVES[:4], leaf_hash(b"rewritten"), *LEAVES[5:]])
    with pytest.raises(InconsistentCheckpoint) as caught:
        advance_witness(
            kept, _checkpoint(signer, 8, root=forged.root()), forged.consistency_path(5, 8), signer.public_key
        )
    assert (caught.value.old_size, caught.value.new_size, caught.value.new_root) == (5, 8, forged.root().hex())


def test_a_request_from_another_size_or_log_is_refused(signer: Signer, other_signer: Signer) -> None:
    kept = _open(signer, 3)
    with pytest.raises(InconsistentCheckpoint, match="kept size") as caught:
        advance_witness(kept, _checkpoint(signer, 7), TREE.consistency_path(4, 7), signer.public_key, old_size=4)
    assert caught.value.old_size == 3
    elsewhere = Signer("other.log.invalid/decision-log", signer.key)
    with pytest.raises(InconsistentCheckpoint, match="not"):
        advance_witness(kept, _checkpoint(elsewhere, 7), TREE.consistency_path(3, 7), signer.public_key)
    with pytest.raises(CheckpointInvalid):
        advance_witness(kept, _checkpoint(other_signer, 7), TREE.consistency_path(3, 7), signer.public_key)


@pytest.fixture
def checkpointed(engine: Engine, make_draft: Any, signer: Signer, clock: Callable[[], datetime]) -> Engine:
    with Session(engine) as session, session.begin():
        append(session, [make_draft(delivery_id=f"d.{i}") for i in range(3)], clock=clock)
        write_checkpoint(session, signer, clock=clock)
        append(session, [make_draft(delivery_id=f"d.{i}") for i in range(3, 6)], clock=clock)
        write_checkpoint(session, signer, clock=clock)
    return engine


def test_witness_flow_against_the_database(checkpointed: Engine, signer: Signer, clock: Any) -> None:
    with Session(checkpointed) as session:
        first = WitnessRequest.parse(witness_request(session, 0, checkpoint_at(session, 3)).encode())
        second = witness_request(session, 3)
    kept = advance_witness(None, first.checkpoint_note, first.proof, signer.public_key, old_size=first.old_size)
    newest = advance_witness(kept, second.checkpoint_note, second.proof, signer.public_key, old_size=3)
    line = cosign(newest.note, WITNESS.name, WITNESS_PRIVATE, clock())
    with Session(checkpointed) as session, session.begin():
        stored = store_cosignature(session, 6, line, WITNESS)
        again = store_cosignature(session, 6, cosign(newest.note, WITNESS.name, WITNESS_PRIVATE, clock()), WITNESS)
    assert again == stored  # the first cosignature per witness is kept
    with Session(checkpointed) as session:
        assert last_cosigned_size(session, WITNESS) == 6
        assert last_cosigned_size(session, WitnessKey("w2.invalid", WITNESS.key)) == 0
        assert [c.line for c in cosignatures_for(session, 6)] == [line]
        assert cosignatures_for(session, 3) == []
        assert witnessed_note(session, 6) == newest.note + line
        witnessed = latest_witnessed(session, 1)
        assert witnessed is not None and witnessed.size == 6 and witnessed.note.endswith(line)
        assert latest_witnessed(session, 2) is None


def test_store_refuses_what_does_not_verify(checkpointed: Engine, clock: Any) -> None:
    with Session(checkpointed) as session:
        note3 = checkpoint_at(session, 3).note
    line_for_3 = cosign(note3, WITNESS.name, WITNESS_PRIVATE, clock())
    with Session(checkpointed) as session, session.begin():
        with pytest.raises(CosignatureInvalid):
            store_cosignature(session, 6, line_for_3, WITNESS)
        with pytest.raises(EntryNotFound):
            store_cosignature(session, 4, line_for_3, WITNESS)
        assert cosignatures_for(session, 6) == []


def test_stored_cosignatures_are_append_only(checkpointed: Engine, clock: Any) -> None:
    with Session(checkpointed) as session, session.begin():
        store_cosignature(
            session, 3, cosign(checkpoint_at(session, 3).note, WITNESS.name, WITNESS_PRIVATE, clock()), WITNESS
        )
    for statement in (
        "UPDATE audit_checkpoint_cosignature SET timestamp = 0",
        "DELETE FROM audit_checkpoint_cosignature",
    ):
        with checkpointed.connect() as connection, pytest.raises(DBAPIError, match="audit"):
            connection.execute(text(statement))


def test_witness_marks_count_only_cosignatures_that_verify(
    checkpointed: Engine, signer: Signer, other_signer: Signer, clock: Any
) -> None:
    at = clock()
    with Session(checkpointed) as session, session.begin():
        store_cosignature(
            session, 3, cosign(checkpoint_at(session, 3).note, WITNESS.name, WITNESS_PRIVATE, at), WITNESS
        )
    silent = WitnessKey("w2.invalid", Ed25519PrivateKey.from_private_bytes(bytes(range(32))).public_key())
    with Session(checkpointed) as session:
        (mark,) = witness_marks(session, [WITNESS, silent], signer.public_key)
        # The same row, read as if another broker key signed the log: not a checkpoint the broker made.
        (foreign,) = witness_marks(session, [WITNESS], other_signer.public_key)
    assert (mark.name, mark.key_id, mark.size, mark.verified) == (WITNESS.name, WITNESS.key_id.hex(), 3, True)
    assert mark.timestamp == int(at.timestamp()) and not foreign.verified
    # An insider copies the witness's line on to the larger checkpoint, where it does not verify.
    with checkpointed.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_checkpoint_cosignature (tree_size, witness_name, key_id, timestamp, line) "
                "SELECT 6, witness_name, key_id, timestamp, line FROM audit_checkpoint_cosignature"
            )
        )
    with Session(checkpointed) as session:
        (moved,) = witness_marks(session, [WITNESS], signer.public_key)
    assert (moved.size, moved.verified) == (6, False)
