"""An agency hands the checkpoint its witness kept to an auditor, who checks the broker's log against it.

`python -m consumers checkpoint` prints the note from the consumer's ledger with the agency's own
cosignature; `python -m audit verify --checkpoint` takes that file as it is, passes the log that
extends it, and fails a log an insider rewrote below it (real gateway: OPA decides, SQLite logs).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import audit
from audit.cli import EXIT_FAILED, EXIT_OK, PINNED_KEY_ENV
from audit.cli import app as audit_cli
from broker.partnership.cli import app as partnership_cli
from consumers.__main__ import app as consumers_cli
from consumers.ledger import Ledger
from tests.audit.tampering import drop_triggers, rewrite_entries
from tests.broker.conftest import Gateway
from tests.broker.cosigning import cosign, signed_checkpoint

pytestmark = pytest.mark.stack
CSC = "csc-fenmere-mash"
runner = CliRunner()


def _kept(ledger: Path, origin: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(
        consumers_cli,
        ["checkpoint", "--agency", CSC, "--ledger", str(ledger), *args],
        env={"CONSUMER_LOG_ORIGIN": origin},
    )
    return result.exit_code, result.stdout, result.stderr


async def test_an_agency_hands_its_kept_checkpoint_to_an_auditor(gateway: Gateway, tmp_path: Path) -> None:
    checkpoint = await signed_checkpoint(gateway)
    line = cosign(gateway, checkpoint, CSC)
    ledger = tmp_path / "ledger.db"
    store = Ledger(ledger)
    store.keep_checkpoint(checkpoint.origin, tree_size=checkpoint.size, note=checkpoint.note, cosignature=line)
    store.close()

    code, printed, _ = _kept(ledger, checkpoint.origin)
    assert (code, printed) == (0, audit.with_cosignatures(checkpoint.note, [line]))
    note = tmp_path / "kept-checkpoint.txt"
    code, _, said = _kept(ledger, checkpoint.origin, "--out", str(note))
    assert code == 0 and note.read_text() == printed and f"{checkpoint.size} entries" in said, said

    # The broker's public key as its operator hands it over (`broker-public-keys`), options and all.
    pinned = runner.invoke(
        partnership_cli,
        ["broker-public-keys", "--dir", str(gateway.partnership.broker_keys_dir), "--out", str(tmp_path / "pinned")],
    )
    assert pinned.exit_code == 0, pinned.output
    public_keys = [
        arg for line in pinned.stdout.splitlines() if line.startswith("--public-key ") for arg in line.split()
    ]
    assert public_keys == ["--public-key", str(tmp_path / "pinned" / f"broker-{gateway.keys.signing_key_id}.pem")]
    url = gateway.engine.url.render_as_string(hide_password=False)
    arguments = ["verify", "--db", url, *public_keys, "--checkpoint", str(note)]
    passed = runner.invoke(audit_cli, arguments, env={PINNED_KEY_ENV: None})
    assert passed.exit_code == EXIT_OK, passed.output
    # An insider rewrites an entry the agency's checkpoint covers, recomputes every hash and forgets the
    # checkpoints that would show it: only the copy outside the database still does.
    drop_triggers(gateway.engine)
    rewrite_entries(gateway.engine, {1: {"outcome": "no_share"}}, keep_checkpoints_upto=0)
    failed = runner.invoke(audit_cli, arguments, env={PINNED_KEY_ENV: None})
    assert failed.exit_code == EXIT_FAILED, failed.output


def test_an_agency_with_nothing_kept_is_told_why(tmp_path: Path) -> None:
    code, _, said = _kept(tmp_path / "nowhere.db", "sgb.decision-log")
    assert code == 2 and "no ledger at" in said, said
    Ledger(tmp_path / "ledger.db").close()
    code, printed, said = _kept(tmp_path / "ledger.db", "sgb.decision-log")
    assert (code, printed) == (2, "") and "kept no checkpoint of sgb.decision-log" in said, said
