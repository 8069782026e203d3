"""`python -m consumers set-aside`: after a witness alarm the partnership settled by accepting the log as
it now is, the agency's operator moves the kept checkpoint aside, so the consumer stops freezing its
inbox on the same record at every start. The evidence is written first and kept in the ledger too."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

import audit
from audit.note import sign_note
from consumers.__main__ import app
from consumers.ledger import Ledger

ORIGIN = "sgb.decision-log"
AGENCY = "gp-test"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in ("CONSUMER_LEDGER_PATH", "CONSUMER_AGENCY_ID", "CONSUMER_LOG_ORIGIN"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


@pytest.fixture
def kept(tmp_path: Path) -> tuple[Path, str]:
    """A ledger holding a checkpoint of 7 entries the broker signed and this agency cosigned."""
    body = audit.Checkpoint.body(ORIGIN, 7, bytes(32), "2026-12-06T04:00:00.000000Z", bytes(32))
    note = sign_note(body, ORIGIN, Ed25519PrivateKey.generate())
    line = audit.cosign(note, AGENCY, Ed25519PrivateKey.generate(), datetime.now(UTC))
    path = tmp_path / "ledger.db"
    ledger = Ledger(path)
    assert ledger.keep_checkpoint(ORIGIN, tree_size=7, note=note, cosignature=line)
    ledger.close()
    return path, audit.with_cosignatures(note, [line])


def _set_aside(runner: CliRunner, ledger: Path, out: Path, reference: str = "INC-2026-07") -> tuple[int, str]:
    args = ["set-aside", "--agency", AGENCY, "--ledger", str(ledger), "--reference", reference, "--out", str(out)]
    result = runner.invoke(app, args)
    return result.exit_code, result.output


def test_the_kept_checkpoint_is_written_out_then_set_aside(
    runner: CliRunner, kept: tuple[Path, str], tmp_path: Path
) -> None:
    ledger, note = kept
    evidence = tmp_path / "evidence.checkpoint"
    code, said = _set_aside(runner, ledger, evidence)
    assert code == 0, said
    assert "the checkpoint of 7 entries this agency kept is in" in said and "set aside under INC-2026-07" in said
    assert evidence.read_text("utf-8") == note
    store = Ledger(ledger)
    try:
        assert store.kept_checkpoint(ORIGIN) is None, "the next checkpoint a record brings is kept afresh"
    finally:
        store.close()
    with sqlite3.connect(ledger) as db:
        rows = db.execute("SELECT tree_size, reference FROM set_aside_checkpoint").fetchall()
    assert rows == [(7, "INC-2026-07")], "the ledger keeps what was set aside, and why"

    again, said = _set_aside(runner, ledger, tmp_path / "again.checkpoint")
    assert again == 2 and "has kept no checkpoint" in said, said


@pytest.mark.parametrize("reference", ["", "a name, in words"])
def test_a_reference_that_is_not_one_is_refused(
    runner: CliRunner, kept: tuple[Path, str], tmp_path: Path, reference: str
) -> None:
    ledger, _ = kept
    code, said = _set_aside(runner, ledger, tmp_path / "evidence.checkpoint", reference)
    assert code == 2 and "--reference" in said, said
    assert Ledger(ledger).kept_checkpoint(ORIGIN) is not None


def test_existing_evidence_is_never_overwritten(runner: CliRunner, kept: tuple[Path, str], tmp_path: Path) -> None:
    ledger, _ = kept
    earlier = tmp_path / "evidence.checkpoint"
    earlier.write_text("an earlier incident's evidence", encoding="utf-8")
    code, said = _set_aside(runner, ledger, earlier)
    assert code == 2 and "exists already" in said, said
    assert earlier.read_text("utf-8") == "an earlier incident's evidence"
    assert Ledger(ledger).kept_checkpoint(ORIGIN) is not None, "nothing set aside"
