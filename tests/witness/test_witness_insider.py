"""An insider who hides a rewritten log behind a stored checkpoint the witness cannot check.

The agency's witness asks the gateway for a consistency proof and for the stored checkpoint the proof
ends at. An insider with the database can change that stored row, so that the witness either cannot
verify it or is handed no proof at all. Neither may pass as "the gateway is unavailable": that would
leave a rewritten log with a warning for ever. A stored checkpoint signed by a key the agency no
longer trusts (a retired broker key) but stating the very tree the agency verified is not tampering,
and the witness goes on to check the proof against its own copy.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import update
from sqlmodel import Session, col

import audit
from audit.note import NoteSignature, sign_note, split_note
from consumers.errors import CHECKPOINT_INVALID, INCONSISTENT, WitnessAlarm
from consumers.ledger import Ledger
from consumers.witness import CheckpointWitness
from tests.audit.tampering import drop_triggers, recompute_hashes, rewrite_entries
from tests.witness.conftest import LoneGateway
from tests.witness.test_witness_checks import ORIGIN, SOURCE, _size, _witness

pytestmark = pytest.mark.stack


async def _watching(lone: LoneGateway, ledger: Ledger) -> tuple[CheckpointWitness, str]:
    """A witness that has kept the checkpoint after one referral (the agency's view before the insider acts)."""
    kept = await lone.checkpoint_after_a_referral()
    witness = _witness(lone, ledger)
    await witness.observe(kept, source=SOURCE)
    return witness, kept


def _replace_stored_note(lone: LoneGateway, size: int, note: str) -> None:
    """The insider's UPDATE of the stored checkpoint row (triggers already dropped)."""
    with Session(lone.gateway.engine) as session, session.begin():
        session.execute(
            update(audit.CheckpointRecord).where(col(audit.CheckpointRecord.tree_size) == size).values(note=note)
        )


def _resigned(note: str, key: Ed25519PrivateKey) -> str:
    body, _ = split_note(note)
    return sign_note(body, ORIGIN, key)


async def test_a_rewritten_log_behind_an_unverifiable_stored_checkpoint_is_an_alarm(
    lone_gateway: LoneGateway, ledger: Ledger
) -> None:
    witness, kept = await _watching(lone_gateway, ledger)
    engine = lone_gateway.gateway.engine
    drop_triggers(engine)
    rewrite_entries(engine, {1: {"outcome": "no_share"}}, keep_checkpoints_upto=0)
    rewritten = await lone_gateway.insider_checkpoint_after_a_referral()  # signed with the broker's real key
    # The stored copy of that checkpoint now carries a signature the agency cannot check.
    _replace_stored_note(lone_gateway, _size(rewritten), _resigned(rewritten, Ed25519PrivateKey.generate()))
    with pytest.raises(WitnessAlarm) as alarm:
        await witness.observe(rewritten, source=SOURCE)
    assert alarm.value.reason == INCONSISTENT and "no proof" in str(alarm.value), str(alarm.value)
    kept_now = ledger.kept_checkpoint(ORIGIN)
    assert kept_now is not None and kept_now.note == kept


async def test_a_stored_checkpoint_whose_broker_signature_was_forged_is_an_alarm(
    lone_gateway: LoneGateway, ledger: Ledger
) -> None:
    witness, _ = await _watching(lone_gateway, ledger)
    newer = await lone_gateway.checkpoint_after_a_referral()
    drop_triggers(lone_gateway.gateway.engine)
    # The broker key's own signature line (same name, same key id), its signature bytes changed.
    body, (line,) = split_note(newer)
    forged = line.blob[:-1] + bytes([line.blob[-1] ^ 1])
    _replace_stored_note(lone_gateway, _size(newer), body + "\n" + NoteSignature(line.name, line.key_id, forged).line)
    with pytest.raises(WitnessAlarm) as alarm:
        await witness.observe(newer, source=SOURCE)
    assert alarm.value.reason == CHECKPOINT_INVALID, str(alarm.value)


async def test_entries_rewritten_under_a_stored_checkpoint_are_an_alarm(
    lone_gateway: LoneGateway, ledger: Ledger
) -> None:
    witness, kept = await _watching(lone_gateway, ledger)
    newer = await lone_gateway.checkpoint_after_a_referral()
    drop_triggers(lone_gateway.gateway.engine)
    # The entries are rewritten but the stored checkpoint is left as the broker signed it: the
    # gateway can no longer build a proof that ends at the root it signed.
    with Session(lone_gateway.gateway.engine) as session, session.begin():
        session.execute(update(audit.Entry).where(col(audit.Entry.seq) == _size(kept)).values(outcome="no_share"))
        recompute_hashes(session)
    with pytest.raises(WitnessAlarm) as alarm:
        await witness.observe(newer, source=SOURCE)
    assert alarm.value.reason == INCONSISTENT, str(alarm.value)


async def test_the_kept_checkpoint_signed_by_a_retired_broker_key_is_no_alarm(
    lone_gateway: LoneGateway, ledger: Ledger
) -> None:
    first = await lone_gateway.checkpoint_after_a_referral()
    second = await lone_gateway.checkpoint_after_a_referral()
    witness = _witness(lone_gateway, ledger)
    await witness.observe(second, source=SOURCE)
    # After a broker key rotation this agency's trust set holds only the new key, while the checkpoint
    # it kept (and the gateway's stored copy of it) carry only the retired key's signature. The
    # record standing for "a late record" is the older tree signed by the new key.
    new_key = Ed25519PrivateKey.generate()
    rotated = _witness(lone_gateway, ledger, broker_keys={"new": new_key.public_key()})
    await rotated.observe(_resigned(first, new_key), source=SOURCE)
    # The gateway's stored checkpoint of the kept size carries only the retired key's signature, and
    # states the very tree this agency kept: nothing contradicts it, the proof checks out.
    assert rotated.kept is not None and rotated.kept.note == second
