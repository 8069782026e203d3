"""A log that spans a rotation of the broker's signing key still verifies, with every key it was signed by.

Early checkpoints carry the retired key's signature and later ones the current key's. Holding each
key (the broker's signing history) must verify the whole log; holding only the current key must not,
or a checkpoint signed by nobody we trust would pass. Checked at the audit API, through
`python -m audit verify`, and in the gateway's own periodic verification (`broker.db.verification`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Engine, text
from sqlmodel import Session
from typer.testing import CliRunner

from audit import (
    CheckpointInvalid,
    PackInvalid,
    Signer,
    TamperDetected,
    TrustPolicy,
    append,
    checkpoint_at,
    export_pack,
    verify_log,
    verify_pack,
    verify_trusted,
    write_checkpoint,
)
from audit.cli import EXIT_FAILED, EXIT_OK, PINNED_KEY_ENV, app
from broker.db import verification
from broker.db.log import DecisionLog
from broker.metrics import Metrics
from tests.audit.conftest import ORIGIN, DraftFactory
from tests.audit.tampering import drop_triggers

# The first two checkpoints were signed before the rotation (key A), the last two after it (key B).
PLAN = ((2, "A"), (5, "A"), (6, "B"), (8, "B"))
SIZE = 8
STRANGER_SEED = bytes(range(2, 34))
runner = CliRunner()


@pytest.fixture
def rotated(
    engine: Engine, signer: Signer, other_signer: Signer, make_draft: DraftFactory, clock: Callable[[], datetime]
) -> Engine:
    """Eight entries; checkpoints at 2 and 5 signed with key A (`signer`), at 6 and 8 with key B."""
    by = {"A": signer, "B": other_signer}
    done = 0
    with Session(engine) as session, session.begin():
        for size, key in PLAN:
            append(session, [make_draft(delivery_id=f"ntf-0001.d{i}") for i in range(done, size)], clock=clock)
            write_checkpoint(session, by[key], clock=clock)
            done = size
    return engine


def _set_outcome(engine: Engine, seq: int, outcome: str) -> None:
    """Change one stored entry in place, as an insider with the database (triggers dropped) could."""
    drop_triggers(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_entry SET outcome = :o WHERE seq = :s"), {"o": outcome, "s": seq})


def test_a_log_signed_across_a_rotation_verifies_with_every_key(
    rotated: Engine, signer: Signer, other_signer: Signer
) -> None:
    old, new = signer.public_key, other_signer.public_key
    for keys in ([old, new], (new, old)):  # any order: the signing history lists the newest first
        with Session(rotated) as session:
            report = verify_log(session, keys)
        assert (report.size, report.checkpoints, report.signatures_checked) == (SIZE, len(PLAN), True)


def test_the_current_key_alone_refuses_the_retired_keys_checkpoints(rotated: Engine, other_signer: Signer) -> None:
    for key in (other_signer.public_key, [other_signer.public_key]):
        with Session(rotated) as session, pytest.raises(CheckpointInvalid) as caught:
            verify_log(session, key)
        assert caught.value.tree_size == PLAN[0][0]


def test_a_checkpoint_signed_by_neither_key_is_refused(
    rotated: Engine, signer: Signer, other_signer: Signer, make_draft: DraftFactory, clock: Callable[[], datetime]
) -> None:
    stranger = Signer(ORIGIN, Ed25519PrivateKey.from_private_bytes(STRANGER_SEED))
    with Session(rotated) as session, session.begin():
        append(session, [make_draft(delivery_id="ntf-0001.d-late")], clock=clock)
        write_checkpoint(session, stranger, clock=clock)
    with Session(rotated) as session, pytest.raises(CheckpointInvalid) as caught:
        verify_log(session, [signer.public_key, other_signer.public_key])
    assert caught.value.tree_size == SIZE + 1


def test_a_changed_entry_still_fails_with_every_key(rotated: Engine, signer: Signer, other_signer: Signer) -> None:
    _set_outcome(rotated, 3, "no_share")
    with Session(rotated) as session, pytest.raises(TamperDetected) as caught:
        verify_log(session, [other_signer.public_key, signer.public_key])
    assert caught.value.seq == 3


def test_a_trust_policy_holds_the_key_history(rotated: Engine, signer: Signer, other_signer: Signer) -> None:
    history = (other_signer.public_key, signer.public_key)
    with Session(rotated) as session:
        kept = checkpoint_at(session, 5).note  # an agency kept it before the rotation: signed with key A
        report = verify_trusted(session, TrustPolicy(public_key=history, kept=(kept,)))
    assert report.signatures_checked and report.size == SIZE
    assert report.anchor is not None and (report.anchor.source, report.anchor.size) == ("signed checkpoint", SIZE)
    with Session(rotated) as session, pytest.raises(CheckpointInvalid, match="kept checkpoint"):
        verify_trusted(session, TrustPolicy(public_key=other_signer.public_key, kept=(kept,)))
    with Session(rotated) as session, pytest.raises(CheckpointInvalid):
        verify_trusted(session, TrustPolicy(public_key=other_signer.public_key))


def _pem(path: Path, key: Ed25519PublicKey) -> Path:
    path.write_bytes(key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    return path


def _verify(engine: Engine, *args: str, env: dict[str, str | None] | None = None) -> Any:
    url = engine.url.render_as_string(hide_password=False)
    return runner.invoke(app, ["verify", "--db", url, *args], env=env or {PINNED_KEY_ENV: None})


def test_the_cli_verifies_a_rotated_log_given_each_key(
    rotated: Engine, signer: Signer, other_signer: Signer, tmp_path: Path
) -> None:
    old = _pem(tmp_path / "broker-retired.pub.pem", signer.public_key)
    new = _pem(tmp_path / "broker.pub.pem", other_signer.public_key)
    both = _verify(rotated, "--public-key", str(new), "--public-key", str(old))
    assert both.exit_code == EXIT_OK, both.output
    assert f"OK {SIZE} entries" in both.output and "signatures checked" in both.output
    pinned = _verify(rotated, env={PINNED_KEY_ENV: f"{new}{os.pathsep}{old}"})  # the pinned files, as a path list
    assert pinned.exit_code == EXIT_OK, pinned.output
    current_only = _verify(rotated, "--public-key", str(new))
    assert current_only.exit_code == EXIT_FAILED, current_only.output
    assert "CheckpointInvalid" in current_only.output


def test_a_pack_checks_against_the_pinned_key_history(
    rotated: Engine, signer: Signer, other_signer: Signer, tmp_path: Path
) -> None:
    pack = tmp_path / "pack.jsonl"
    with Session(rotated) as session, session.begin(), pack.open("w", encoding="utf-8") as handle:
        export_pack(session, handle, other_signer)  # exported after the rotation: ships key B
    text = pack.read_text(encoding="utf-8")
    assert verify_pack(text, [signer.public_key, other_signer.public_key]).entries == SIZE
    with pytest.raises(PackInvalid, match="ships another key"):
        verify_pack(text, signer.public_key)
    old = _pem(tmp_path / "broker-retired.pub.pem", signer.public_key)
    new = _pem(tmp_path / "broker.pub.pem", other_signer.public_key)
    both = runner.invoke(app, ["verify-pack", str(pack), "--public-key", str(old), "--public-key", str(new)])
    assert both.exit_code == EXIT_OK, both.output
    pinned = runner.invoke(app, ["verify-pack", str(pack)], env={PINNED_KEY_ENV: f"{new}{os.pathsep}{old}"})
    assert pinned.exit_code == EXIT_OK, pinned.output


def test_the_cli_documents_the_repeatable_key() -> None:
    command = typer.main.get_command(app)
    assert isinstance(command, typer.core.TyperGroup)
    option = next(p for p in command.commands["verify"].params if p.name == "public_key")
    assert option.multiple
    assert "the broker's current key and each retired one" in (getattr(option, "help", None) or "")


async def _append(decision_log: DecisionLog, make_draft: DraftFactory, *names: str) -> None:
    for name in names:
        await decision_log.append([make_draft(delivery_id=f"ntf-0001.{name}")])
    decision_log.refresh_checkpoint()


async def test_the_gateway_verifies_its_log_across_a_rotation(
    sqlite_url: str, signer: Signer, other_signer: Signer, make_draft: DraftFactory
) -> None:
    async with DecisionLog.opened(sqlite_url, signer=signer) as before:  # the gateway before the rotation
        await _append(before, make_draft, "d0", "d1", "d2")
    history = (other_signer.public_key, signer.public_key)  # newest first, as `BrokerKeys.verify_keys`
    async with DecisionLog.opened(sqlite_url, signer=other_signer, verify_keys=history) as after:
        await _append(after, make_draft, "d3", "d4")
        metrics = Metrics()
        assert verification.verify(after, metrics, anchor=after.anchor), "a rotation made the log fail verification"
        assert metrics.registry.get_sample_value("sgb_log_verification_ok") == 1
        _set_outcome(after.engine, 1, "no_share")  # an entry signed for under the retired key
        assert not verification.verify(after, metrics, anchor=after.anchor), "a changed entry verified"
        assert metrics.registry.get_sample_value("sgb_log_verification_ok") == 0


def test_a_pack_exported_before_anything_new_is_logged_checks_against_the_key_history(
    engine: Engine, signer: Signer, other_signer: Signer, make_draft: DraftFactory, tmp_path: Path
) -> None:
    """Rotated, nothing logged since: the newest checkpoint is the retired key's, the pack the new one's."""
    with Session(engine) as session, session.begin():
        append(session, [make_draft(delivery_id=f"ntf-0002.d{i}") for i in range(3)])
        write_checkpoint(session, signer)
    with Session(engine) as session, session.begin(), (tmp_path / "pack.jsonl").open("w") as handle:
        export_pack(session, handle, other_signer)
    text = (tmp_path / "pack.jsonl").read_text()
    assert verify_pack(text, [other_signer.public_key, signer.public_key]).entries == 3
    with pytest.raises(PackInvalid, match="checkpoint"):  # the retired key is not pinned: not trusted
        verify_pack(text, other_signer.public_key)
