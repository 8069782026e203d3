"""What `python -m audit verify` and `verify-pack` tell an operator, beyond the verdict: which entry, as
what it is; what a clean verdict does not cover; and only the options the command takes (readers of the
demo, session 58: a deleted tail verified OK without a word, and verify-pack suggested `--checkpoint`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import Session
from typer.testing import CliRunner

from audit import export_pack
from audit.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, PINNED_KEY_ENV, app
from tests.audit.tampering import WitnessedLog, witness_keys
from tests.audit.test_audit_cli_trust import _verify, _witness_args, files, witnessed  # noqa: F401 - fixtures

runner = CliRunner()


def _said(result: Any) -> str:
    return " ".join(result.output.split())


def test_a_clean_verdict_names_the_entries_no_kept_checkpoint_covers(
    witnessed: WitnessedLog,  # noqa: F811
    files: dict[str, Path],  # noqa: F811
) -> None:
    result = _verify(witnessed.engine, "--checkpoint", str(files["kept5"]))  # the checkpoint an agency kept alone
    assert result.exit_code == EXIT_OK, result.output
    noted = "note: entries 5..6 came after it: nothing an agency kept or cosigned covers them"
    assert noted in _said(result), result.output
    newest = _verify(witnessed.engine, "--public-key", str(files["broker"]), "--checkpoint", str(files["kept7"]))
    assert newest.exit_code == EXIT_OK and "came after it" not in newest.output, newest.output


TAMPERINGS = {
    "changed": (
        "UPDATE audit_entry SET outcome = 'no_share' WHERE seq = 4",
        ["entry 4 (as it reads now): decided no_share, ", "first bad entry: seq 4", "recomputed: ", "stored: "],
    ),
    "deleted": (
        "DELETE FROM audit_entry WHERE seq = 3",
        ["TAMPERED entry 3 is missing: the next row holds entry 4", "entry 2 (the last one before it): decided "],
    ),
}


@pytest.mark.parametrize("tampering", list(TAMPERINGS))
def test_a_bad_row_is_named_by_what_it_is(
    witnessed: WitnessedLog,  # noqa: F811
    files: dict[str, Path],  # noqa: F811
    tampering: str,
) -> None:
    statement, told = TAMPERINGS[tampering]
    with witnessed.engine.begin() as connection:
        connection.execute(text(statement))
    result = _verify(witnessed.engine, "--public-key", str(files["broker"]))
    said = _said(result)
    assert result.exit_code == EXIT_FAILED, result.output
    assert [words for words in told if words not in said] == [], said
    assert "actual:" not in said, "one hash, one name: recomputed and stored"


def test_verify_pack_says_what_it_takes_and_what_failed(
    witnessed: WitnessedLog,  # noqa: F811
    files: dict[str, Path],  # noqa: F811
    tmp_path: Path,
) -> None:
    pack = tmp_path / "pack.jsonl"
    with Session(witnessed.engine) as session, session.begin(), pack.open("w") as handle:
        export_pack(session, handle, witnessed.signer)
    refused = runner.invoke(app, ["verify-pack", str(pack)], env={PINNED_KEY_ENV: None})
    assert refused.exit_code == EXIT_BAD_INPUT and "REFUSED" in refused.output
    assert "--public-key" in refused.output and "--checkpoint" not in refused.output, "verify's option, not this one's"
    changed = tmp_path / "changed.jsonl"
    changed.write_text(pack.read_text().replace('"outcome":"share"', '"outcome":"no_share"', 1))
    assert changed.read_text() != pack.read_text()
    witnessed_only = runner.invoke(
        app, ["verify-pack", str(changed), *_witness_args(files)], env={PINNED_KEY_ENV: None}
    )
    assert witnessed_only.exit_code == EXIT_FAILED, witnessed_only.output
    assert "the pack was changed after it was signed" in _said(witnessed_only), witnessed_only.output
    w1, w2 = witness_keys()[:2]
    other = tmp_path / "other.pem"  # a witness that cosigned nothing of this log
    other.write_bytes(files[w2.name].read_bytes())
    args = ["--witness-key", f"{w1.name}={files[w1.name]}", "--witness-key", f"unknown.witness={other}"]
    short = runner.invoke(app, ["verify-pack", str(pack), *args, "--min-witnesses", "2"], env={PINNED_KEY_ENV: None})
    assert short.exit_code == EXIT_FAILED, short.output
    assert "NOT WITNESSED 1 of the 2 witnesses required cosigned the checkpoint" in _said(short), short.output
