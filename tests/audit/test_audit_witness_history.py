"""A witness's key history: an agency that rotated its keys cosigned older checkpoints with its old key.

An auditor gives every key of a witness under its one name (`--witness-key NAME=PEM`, repeated), as
`broker.partnership.cli witness-keys` prints them; the checkpoint the agency kept before its rotation
then verifies, the witness still counts once towards a quorum however many of its keys cosigned, and
the very same key given twice is refused as the slip it is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from audit import (
    AuditError,
    Signer,
    TrustPolicy,
    WitnessKey,
    WitnessQuorumMissing,
    checkpoint_at,
    cosign,
    require_cosignatures,
    verify_trusted,
    with_cosignatures,
)
from audit.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, PINNED_KEY_ENV, app
from tests.audit.tampering import SIZE, WitnessedLog, build_witnessed_log, witness_keys, witness_private_keys

runner = CliRunner()
W1 = witness_keys()[0].name
# The log was cosigned with the seeds in tests/audit/tampering.py: after W1's rotation that key is its old one.
OLD = witness_keys()[0]
NEW_PRIVATE = Ed25519PrivateKey.from_private_bytes(bytes(range(128, 160)))
NEW = WitnessKey(W1, NEW_PRIVATE.public_key())
STRANGER = WitnessKey(
    "w3.housing-fictional.invalid", Ed25519PrivateKey.from_private_bytes(bytes(range(160, 192))).public_key()
)


@pytest.fixture
def witnessed(engine: Engine, signer: Signer, make_draft: Any, clock: Callable[[], datetime]) -> WitnessedLog:
    return build_witnessed_log(engine, signer, make_draft, clock)


def _verify(log: WitnessedLog, *kept: str, witnesses: tuple[WitnessKey, ...], minimum: int) -> Any:
    policy = TrustPolicy(public_key=log.signer.public_key, kept=kept, witnesses=witnesses, min_witnesses=minimum)
    with Session(log.engine) as session:
        return verify_trusted(session, policy)


def _cosigned_by_both_keys(log: WitnessedLog, size: int, clock: Callable[[], datetime]) -> str:
    """A checkpoint W1 cosigned before its rotation and again after, each time with the key it then held."""
    with Session(log.engine) as session:
        note = checkpoint_at(session, size).note
    old_line = cosign(note, W1, witness_private_keys()[W1], clock())
    return with_cosignatures(note, [old_line, cosign(note, W1, NEW_PRIVATE, clock())])


def test_a_checkpoint_kept_before_the_rotation_verifies_with_the_witness_key_history(witnessed: WitnessedLog) -> None:
    with pytest.raises(WitnessQuorumMissing):
        _verify(witnessed, witnessed.kept[5], witnesses=(NEW,), minimum=1)  # the current key alone
    report = _verify(witnessed, witnessed.kept[5], witnesses=(NEW, OLD), minimum=1)
    assert report.size == SIZE and report.anchor is not None
    assert report.anchor.witnesses == (W1,)


def test_one_witness_with_two_keys_is_not_a_quorum_of_two(
    witnessed: WitnessedLog, clock: Callable[[], datetime]
) -> None:
    note = _cosigned_by_both_keys(witnessed, 5, clock)
    assert require_cosignatures(note, (OLD, NEW), 1) == (W1,)
    with pytest.raises(WitnessQuorumMissing) as caught:
        require_cosignatures(note, (OLD, NEW, STRANGER), 2)
    assert caught.value.found == (W1,)
    with pytest.raises(WitnessQuorumMissing):
        _verify(witnessed, note, witnesses=(OLD, NEW, STRANGER), minimum=2)
    with pytest.raises(AuditError, match="cannot require 2 of 1 witnesses"):
        TrustPolicy(witnesses=(OLD, NEW), min_witnesses=2)


def test_the_same_witness_key_given_twice_is_refused() -> None:
    again = WitnessKey(W1, witness_private_keys()[W1].public_key())
    with pytest.raises(AuditError, match=f"witness key {W1}\\+{OLD.key_id.hex()} is given twice"):
        TrustPolicy(witnesses=(OLD, NEW, again), min_witnesses=1)
    assert TrustPolicy(witnesses=(OLD, NEW), min_witnesses=1).witness_names == {W1}


def _pem(path: Path, key: Ed25519PublicKey) -> str:
    path.write_bytes(key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    return str(path)


def test_audit_verify_takes_each_key_of_a_witness_under_its_name(witnessed: WitnessedLog, tmp_path: Path) -> None:
    kept = tmp_path / "kept.checkpoint"
    kept.write_text(witnessed.kept[5], encoding="utf-8")
    old, new = _pem(tmp_path / "old.pem", OLD.key), _pem(tmp_path / "new.pem", NEW.key)
    url = witnessed.engine.url.render_as_string(hide_password=False)
    base = ["verify", "--db", url, "--public-key", _pem(tmp_path / "broker.pem", witnessed.signer.public_key)]

    def verify(*witnesses: str) -> Any:
        arguments = [*base, "--checkpoint", str(kept), *(a for w in witnesses for a in ("--witness-key", w))]
        return runner.invoke(app, arguments, env={PINNED_KEY_ENV: None})

    current_only = verify(f"{W1}={new}")
    assert current_only.exit_code == EXIT_FAILED and "0 of 1 required" in current_only.output
    history = verify(f"{W1}={new}", f"{W1}={old}")
    assert history.exit_code == EXIT_OK, history.output
    assert f"cosigned by {W1}\n" in history.output
    twice = verify(f"{W1}={old}", f"{W1}={old}")
    assert twice.exit_code == EXIT_BAD_INPUT
    assert twice.output.strip().splitlines() == [
        f"FAILED AuditError: witness key {W1}+{OLD.key_id.hex()} is given twice"
    ]
