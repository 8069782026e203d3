"""The outside tester's view: `python -m audit verify` and `verify-pack` on a tampered, witnessed log.

Exit codes: 0 OK, 1 TAMPERED/FAILED, 2 refused or bad input, 3 no log.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from sqlalchemy import Engine, text
from sqlmodel import Session
from typer.testing import CliRunner

from audit import Signer, export_pack
from audit.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_NO_LOG, EXIT_OK, PINNED_KEY_ENV, app
from tests.audit.tampering import (
    WitnessedLog,
    build_witnessed_log,
    drop_triggers,
    fork,
    resign_latest,
    rewrite_entries,
    truncate,
    witness_keys,
)

runner = CliRunner()
W1, W2 = (w.name for w in witness_keys())


def _pem(path: Path, key: Ed25519PublicKey) -> Path:
    path.write_bytes(key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    return path


@pytest.fixture
def witnessed(engine: Engine, signer: Signer, make_draft: Any, clock: Any) -> WitnessedLog:
    log = build_witnessed_log(engine, signer, make_draft, clock)
    drop_triggers(engine)
    return log


@pytest.fixture
def files(tmp_path: Path, witnessed: WitnessedLog) -> dict[str, Path]:
    """What the agency holds on disk: the broker's public key, witness keys, kept cosigned notes."""
    held = {"broker": _pem(tmp_path / "broker.pub.pem", witnessed.signer.public_key)}
    for witness in witness_keys():
        held[witness.name] = _pem(tmp_path / f"{witness.name}.pem", witness.key)
    for size, note in witnessed.kept.items():
        held[f"kept{size}"] = tmp_path / f"checkpoint-{size}.note"
        held[f"kept{size}"].write_text(note, encoding="utf-8")
    return held


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _witness_args(files: dict[str, Path], minimum: int = 2) -> list[str]:
    args = []
    for witness in witness_keys():
        args += ["--witness-key", f"{witness.name}={files[witness.name]}"]
    return [*args, "--min-witnesses", str(minimum)]


def _verify(engine: Engine, *args: str) -> Any:
    return runner.invoke(app, ["verify", "--db", _url(engine), *args], env={PINNED_KEY_ENV: None})


def test_no_anchor_is_refused_with_a_clear_message(witnessed: WitnessedLog) -> None:
    result = _verify(witnessed.engine)
    assert result.exit_code == EXIT_BAD_INPUT
    assert "REFUSED" in result.output and "--public-key" in result.output and "Traceback" not in result.output


def test_pinned_key_file_is_an_anchor(witnessed: WitnessedLog, files: dict[str, Path]) -> None:
    result = runner.invoke(app, ["verify", "--db", _url(witnessed.engine)], env={PINNED_KEY_ENV: str(files["broker"])})
    assert result.exit_code == EXIT_OK, result.output
    assert "signatures checked" in result.output and "no --checkpoint given" in result.output


def test_clean_log_verifies_against_the_kept_witnessed_checkpoint(
    witnessed: WitnessedLog, files: dict[str, Path]
) -> None:
    result = _verify(
        witnessed.engine,
        "--public-key",
        str(files["broker"]),
        "--checkpoint",
        str(files["kept5"]),
        *_witness_args(files),
    )
    assert result.exit_code == EXIT_OK, result.output
    assert f"cosigned by {W1}, {W2}" in result.output and "7 entries" in result.output


def _rewrite(log: WitnessedLog, **_: Any) -> None:
    rewrite_entries(log.engine, {4: {"outcome": "no_share"}}, keep_checkpoints_upto=4)


def _replace_checkpoints(log: WitnessedLog, other: Signer, clock: Any, **_: Any) -> None:
    _rewrite(log)
    resign_latest(log.engine, other, clock)


def _truncate(log: WitnessedLog, **_: Any) -> None:
    truncate(log.engine, 4)


def _fork(log: WitnessedLog, make_draft: Any, clock: Any, **_: Any) -> None:
    fork(log.engine, 4, [make_draft(delivery_id=f"fork.{i}", outcome="no_share") for i in range(4)], clock)


ATTACKS: dict[str, tuple[Callable[..., None], str]] = {
    "rewrite-recompute-delete-checkpoints": (_rewrite, "rewritten: entry 4"),
    "checkpoints-replaced-under-another-key": (_replace_checkpoints, "rewritten: entry 4"),
    "truncate-and-rewind-head": (_truncate, "entries from seq 4 are gone"),
    "fork-after-truncation": (_fork, "rewritten: entry 4"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_each_attack_is_reported_against_the_kept_checkpoint(
    witnessed: WitnessedLog,
    files: dict[str, Path],
    other_signer: Signer,
    make_draft: Any,
    clock: Any,
    attack: str,
) -> None:
    tamper, verdict = ATTACKS[attack]
    tamper(witnessed, other=other_signer, make_draft=make_draft, clock=clock)
    unanchored = _verify(witnessed.engine)
    assert unanchored.exit_code == EXIT_BAD_INPUT, unanchored.output
    result = _verify(witnessed.engine, "--checkpoint", str(files["kept5"]), *_witness_args(files))
    assert result.exit_code == EXIT_FAILED, result.output
    assert "TAMPERED" in result.output and verdict in result.output
    assert f"kept checkpoint at size 5, cosigned by {W1}, {W2}" in result.output


def test_a_dropped_log_table_is_no_log_not_a_traceback(witnessed: WitnessedLog, files: dict[str, Path]) -> None:
    with witnessed.engine.begin() as connection:
        connection.execute(text("DROP TABLE audit_entry"))
    result = _verify(witnessed.engine, "--checkpoint", str(files["kept7"]), *_witness_args(files))
    assert result.exit_code == EXIT_NO_LOG, result.output
    assert "NO LOG" in result.output and "audit_entry" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_missing_database_file_is_no_log(tmp_path: Path, signer: Signer) -> None:
    key = _pem(tmp_path / "broker.pub.pem", signer.public_key)
    missing = tmp_path / "nowhere.db"
    result = runner.invoke(app, ["verify", "--db", f"sqlite:///{missing}", "--public-key", str(key)])
    assert result.exit_code == EXIT_NO_LOG and "NO LOG" in result.output
    assert not missing.exists()


def test_unreachable_postgres_is_no_log(tmp_path: Path, signer: Signer) -> None:
    key = _pem(tmp_path / "broker.pub.pem", signer.public_key)
    url = "postgresql+psycopg://nobody:wrong@127.0.0.1:1/none?connect_timeout=2"
    result = runner.invoke(app, ["verify", "--db", url, "--public-key", str(key)])
    assert result.exit_code == EXIT_NO_LOG and "NO LOG" in result.output
    assert "wrong" not in result.output


def test_bad_witness_option_is_bad_input(witnessed: WitnessedLog, files: dict[str, Path]) -> None:
    result = _verify(witnessed.engine, "--public-key", str(files["broker"]), "--witness-key", "no-equals-sign")
    assert result.exit_code == EXIT_BAD_INPUT and "NAME=PEMFILE" in result.output
    too_many = _verify(witnessed.engine, "--checkpoint", str(files["kept5"]), *_witness_args(files, minimum=3))
    assert too_many.exit_code == EXIT_BAD_INPUT and "cannot require 3 of 2" in too_many.output


def test_evidence_pack_ships_key_and_cosignatures(
    witnessed: WitnessedLog, files: dict[str, Path], other_signer: Signer, tmp_path: Path
) -> None:
    pack = tmp_path / "pack.jsonl"
    with Session(witnessed.engine) as session, session.begin(), pack.open("w") as handle:
        summary = export_pack(session, handle, witnessed.signer, min_witnesses=2)
    assert summary.checkpoint.size == 7 and summary.entries == 7
    offline = runner.invoke(app, ["verify-pack", str(pack), *_witness_args(files)], env={PINNED_KEY_ENV: None})
    assert offline.exit_code == EXIT_OK, offline.output
    assert f"cosigned by {W1}, {W2}" in offline.output
    assert "none in its period was left out is shown only with --public-key" in " ".join(offline.output.split())
    pinned = runner.invoke(app, ["verify-pack", str(pack), "--public-key", str(files["broker"])])
    assert pinned.exit_code == EXIT_OK, pinned.output
    assert "left out" not in pinned.output, "the pinned key shows the selection is the broker's"
    stranger = _pem(tmp_path / "stranger.pem", other_signer.public_key)
    wrong = runner.invoke(app, ["verify-pack", str(pack), "--public-key", str(stranger)])
    assert wrong.exit_code == EXIT_FAILED and "ships another key" in wrong.output
    refused = runner.invoke(app, ["verify-pack", str(pack)], env={PINNED_KEY_ENV: None})
    assert refused.exit_code == EXIT_BAD_INPUT and "REFUSED" in refused.output


def test_verify_pack_requires_the_witness_quorum(
    witnessed: WitnessedLog, files: dict[str, Path], tmp_path: Path
) -> None:
    pack = tmp_path / "pack.jsonl"
    with Session(witnessed.engine) as session, session.begin(), pack.open("w") as handle:
        write = export_pack(session, handle, witnessed.signer)  # latest checkpoint: already witnessed
    assert write.checkpoint.size == 7
    w1 = witness_keys()[0]
    other = tmp_path / "other.pem"
    other.write_bytes(files[W2].read_bytes())
    args = ["--witness-key", f"{w1.name}={files[w1.name]}", "--witness-key", f"unknown.witness={other}"]
    result = runner.invoke(app, ["verify-pack", str(pack), *args, "--min-witnesses", "2"], env={PINNED_KEY_ENV: None})
    assert result.exit_code == EXIT_FAILED, result.output
    assert "WitnessQuorumMissing" in result.output and "1 of 2" in result.output


def test_export_with_min_witnesses_leaves_out_unwitnessed_entries(
    witnessed: WitnessedLog, make_draft: Any, clock: Any, tmp_path: Path
) -> None:
    from audit import append, write_checkpoint

    with Session(witnessed.engine) as session, session.begin():
        append(session, [make_draft(delivery_id="late")], clock=clock)
        write_checkpoint(session, witnessed.signer, clock=clock)
    private = tmp_path / "broker.pem"
    private.write_bytes(witnessed.signer.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    out = tmp_path / "pack.jsonl"
    args = ["--from", "2025-03-04", "--to", "2025-03-04", "--out", str(out), "--signing-key", str(private)]
    args += ["--origin", witnessed.signer.origin, "--min-witnesses", "2"]
    result = runner.invoke(app, ["export", "--db", _url(witnessed.engine), *args])
    assert result.exit_code == EXIT_OK, result.output
    assert "7 entries under checkpoint 7" in result.output and "1 later entries" in result.output


def test_a_file_that_cannot_be_read_is_named_once(
    witnessed: WitnessedLog, files: dict[str, Path], tmp_path: Path
) -> None:
    # The sentence names the file; the OS error's own words follow, not its repr naming the file again.
    for option, label in (("--public-key", "a public key from"), ("--checkpoint", "the kept checkpoint")):
        missing = tmp_path / f"absent{option}"
        anchor = [] if option == "--public-key" else ["--public-key", str(files["broker"])]
        result = _verify(witnessed.engine, *anchor, option, str(missing))
        said = " ".join(result.output.split())
        assert result.exit_code == EXIT_BAD_INPUT, result.output
        assert f"cannot read {label} {missing}: no such file or directory" in said, said
        assert said.count(str(missing)) == 1, said
