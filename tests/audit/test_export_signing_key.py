"""`python -m audit export` signs only with the key the log's checkpoints carry.

An auditor exported with a key made by `python -m audit keygen`: the command said OK and wrote a pack
that `verify-pack` could check with neither the broker's public key (the pack ships another key) nor
the new key's (the checkpoint in it is the broker's), and had the log grown since the last checkpoint
it would have stored a checkpoint no broker key signed. A pack is the broker's statement (its header
names the broker's verifier key; `verify-pack` holds it to the pinned broker keys), not one an auditor
re-signs: so the export refuses such a key before it writes anything, in one line naming the key the
log's newest checkpoint carries, exit status 2, as the other command lines refuse a bad option.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col
from typer.testing import CliRunner, Result

from audit import CheckpointRecord, Signer, append, write_checkpoint
from audit.cli import EXIT_BAD_INPUT, EXIT_OK, PINNED_KEY_ENV, app
from audit.note import key_hash
from tests.audit.conftest import ORIGIN, DraftFactory

runner = CliRunner()


@pytest.fixture
def grown(engine: Engine, signer: Signer, make_draft: DraftFactory, clock: Callable[[], datetime]) -> Engine:
    """Five entries, the broker's checkpoint over the first three: an export would sign one over all five."""
    with Session(engine) as session, session.begin():
        append(session, [make_draft(delivery_id=f"ntf-0003.d{i}") for i in range(3)], clock=clock)
        write_checkpoint(session, signer, clock=clock)
        append(session, [make_draft(delivery_id=f"ntf-0003.d{i}") for i in range(3, 5)], clock=clock)
    return engine


def _private_pem(path: Path, signer: Signer) -> Path:
    path.write_bytes(signer.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return path


def _export(engine: Engine, key: Path, out: Path, *extra: str) -> Result:
    url = engine.url.render_as_string(hide_password=False)
    args = ["export", "--db", url, "--from", "2025-03-04", "--to", "2025-03-04", "--out", str(out)]
    return runner.invoke(app, [*args, "--signing-key", str(key), *extra])


def _checkpoints(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count(col(CheckpointRecord.id)))).scalar_one())


def test_a_key_that_signed_none_of_the_checkpoints_is_refused_before_anything_is_written(
    grown: Engine, signer: Signer, tmp_path: Path
) -> None:
    made = runner.invoke(app, ["keygen", str(tmp_path / "auditor.pem")])  # as the auditor made theirs
    assert made.exit_code == EXIT_OK, made.output
    out = tmp_path / "pack.jsonl"
    result = _export(grown, tmp_path / "auditor.pem", out, "--origin", ORIGIN)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    expected = f"{ORIGIN}+{key_hash(ORIGIN, signer.public_key).hex()}"
    assert lines[0].startswith(f"error: --signing-key: {tmp_path / 'auditor.pem'}: key {ORIGIN}+"), lines[0]
    assert f"newest checkpoint (size 3), which carries {expected}" in lines[0], lines[0]
    assert "OK" not in result.stdout and "Traceback" not in result.output
    assert not out.exists(), "a refused export wrote a pack"
    assert _checkpoints(grown) == 1, "a refused export signed a checkpoint with the stranger's key"


def test_a_refused_export_leaves_a_file_already_there_as_it_was(
    grown: Engine, other_signer: Signer, tmp_path: Path
) -> None:
    out = tmp_path / "pack.jsonl"
    out.write_text("an earlier pack\n", encoding="utf-8")
    result = _export(grown, _private_pem(tmp_path / "other.pem", other_signer), out, "--origin", ORIGIN)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert out.read_text(encoding="utf-8") == "an earlier pack\n"


def test_the_logs_own_name_is_asked_for_under_origin(grown: Engine, signer: Signer, tmp_path: Path) -> None:
    # The broker's key under another log name (the default origin, not this log's) would sign another log's
    # checkpoint: refused too, naming the origin the checkpoints carry.
    result = _export(grown, _private_pem(tmp_path / "broker.pem", signer), tmp_path / "pack.jsonl")
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert result.stderr.strip().startswith(f"error: --origin: the log's checkpoints name the log {ORIGIN}, not ")
    assert _checkpoints(grown) == 1


def test_the_brokers_key_exports_a_pack_its_public_key_checks(grown: Engine, signer: Signer, tmp_path: Path) -> None:
    out = tmp_path / "pack.jsonl"
    result = _export(grown, _private_pem(tmp_path / "broker.pem", signer), out, "--origin", ORIGIN)
    assert result.exit_code == EXIT_OK, result.output
    assert "5 entries under checkpoint 5" in result.output
    public = tmp_path / "broker.pub.pem"
    public.write_bytes(signer.public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    checked = runner.invoke(app, ["verify-pack", str(out), "--public-key", str(public)], env={PINNED_KEY_ENV: None})
    assert checked.exit_code == EXIT_OK, checked.output


def test_a_retired_key_is_refused_once_the_new_one_signed(
    grown: Engine, signer: Signer, other_signer: Signer, make_draft: DraftFactory, tmp_path: Path
) -> None:
    with Session(grown) as session, session.begin():  # rotated: the new key signs the next checkpoint
        write_checkpoint(session, other_signer)
        append(session, [make_draft(delivery_id="ntf-0003.d5")])
    result = _export(grown, _private_pem(tmp_path / "retired.pem", signer), tmp_path / "pack.jsonl", "--origin", ORIGIN)
    assert result.exit_code == EXIT_BAD_INPUT, result.output
    assert f"which carries {ORIGIN}+{key_hash(ORIGIN, other_signer.public_key).hex()}" in result.stderr
    assert _checkpoints(grown) == 2
