"""Checkpoints and proofs built from the database, verified with only the public key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from audit import (
    Checkpoint,
    CheckpointInvalid,
    ConsistencyProof,
    EntryNotFound,
    InclusionProof,
    ProofInvalid,
    Signer,
    append,
    checkpoint_at,
    consistency_proof,
    get_entry,
    inclusion_proof,
    latest_checkpoint,
    verify_consistency_proof,
    verify_inclusion_proof,
    write_checkpoint,
)
from tests.audit.conftest import DraftFactory


@pytest.fixture
def logged(engine: Engine, make_draft: DraftFactory, signer: Signer, clock: Callable[[], datetime]) -> Engine:
    with Session(engine) as session, session.begin():
        append(session, [make_draft(delivery_id=f"d.{i}") for i in range(3)], clock=clock)
        write_checkpoint(session, signer, clock=clock)
        append(session, [make_draft(delivery_id=f"d.{i}") for i in range(3, 7)], clock=clock)
        write_checkpoint(session, signer, clock=clock)
    return engine


def test_checkpoint_is_a_signed_note_of_the_tree(logged: Engine, signer: Signer) -> None:
    with Session(logged) as session:
        latest = latest_checkpoint(session)
    assert latest is not None
    assert Checkpoint.open(latest.note, signer.public_key) == latest
    assert latest.size == 7 and latest.origin == signer.origin
    lines = latest.note.split("\n")
    assert lines[:2] == [signer.origin, "7"] and lines[5] == "" and lines[6].startswith("\u2014 " + signer.origin)


def test_write_checkpoint_is_idempotent_without_new_entries(logged: Engine, signer: Signer) -> None:
    with Session(logged) as session, session.begin():
        again = write_checkpoint(session, signer)
    with Session(logged) as session:
        assert again == checkpoint_at(session, 7)


def test_every_entry_has_a_verifying_inclusion_proof(logged: Engine, signer: Signer) -> None:
    with Session(logged) as session:
        for seq in range(7):
            proof = inclusion_proof(session, seq)
            document = get_entry(session, seq).document()
            restored = InclusionProof.from_json(proof.to_json())
            assert verify_inclusion_proof(restored, document, signer.public_key).size == 7
        early = inclusion_proof(session, 1, checkpoint_at(session, 3))
        assert verify_inclusion_proof(early, get_entry(session, 1).document(), signer.public_key).size == 3


def test_inclusion_proof_refuses_other_entries_keys_and_uncovered_seqs(
    logged: Engine, signer: Signer, other_signer: Signer
) -> None:
    with Session(logged) as session:
        proof = inclusion_proof(session, 4)
        other = get_entry(session, 5).document()
        with pytest.raises(ProofInvalid):
            verify_inclusion_proof(proof, other, signer.public_key)
        with pytest.raises(ProofInvalid):
            verify_inclusion_proof(proof, {**get_entry(session, 4).document(), "outcome": "share"}, signer.public_key)
        with pytest.raises(CheckpointInvalid):
            verify_inclusion_proof(proof, get_entry(session, 4).document(), other_signer.public_key)
        with pytest.raises(EntryNotFound):
            inclusion_proof(session, 5, checkpoint_at(session, 3))


def test_consistency_between_checkpoints(logged: Engine, signer: Signer, other_signer: Signer) -> None:
    with Session(logged) as session:
        proof = consistency_proof(session, checkpoint_at(session, 3), checkpoint_at(session, 7))
    old, new = verify_consistency_proof(ConsistencyProof.from_json(proof.to_json()), signer.public_key)
    assert (old.size, new.size) == (3, 7)
    with pytest.raises(CheckpointInvalid):
        verify_consistency_proof(proof, other_signer.public_key)
    bent = ConsistencyProof(proof.old_checkpoint, proof.new_checkpoint, (proof.path[0][::-1], *proof.path[1:]))
    with pytest.raises(ProofInvalid):
        verify_consistency_proof(bent, signer.public_key)


def test_a_forged_checkpoint_is_refused(logged: Engine, signer: Signer) -> None:
    with Session(logged) as session:
        note = checkpoint_at(session, 7).note
    with pytest.raises(CheckpointInvalid):
        Checkpoint.open(note.replace("\n7\n", "\n8\n", 1), signer.public_key)
