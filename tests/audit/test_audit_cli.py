"""The CLI: verify, export, verify-pack; and that no entry or pack carries a subject's identity."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from sqlalchemy import Engine, text
from sqlmodel import Session
from typer.testing import CliRunner

from audit import PackInvalid, Signer, append, pseudonymise, verify_pack
from audit.cli import app
from tests.audit.conftest import DraftFactory

# Clearly fictional subjects: the log must never hold any of these values.
FICTIONAL_CHILD = {"ref": "FICT-CHILD-0001", "name": "Zebedee Quillfeather", "dob": "2013-02-29"}
FICTIONAL_PARENT = {"ref": "FICT-ADULT-0002", "name": "Marigold Quillfeather", "dob": "1984-11-31"}
SECRET = b"another-test-only-pseudonym-secret-xyz"

runner = CliRunner()


@pytest.fixture
def keys(tmp_path: Path, signer: Signer) -> tuple[Path, Path]:
    private, public = tmp_path / "broker.pem", tmp_path / "broker.pub.pem"
    private.write_bytes(signer.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    public.write_bytes(signer.public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    return private, public


@pytest.fixture
def populated(engine: Engine, make_draft: DraftFactory, clock: Callable[[], datetime]) -> Engine:
    subjects = [pseudonymise(SECRET, FICTIONAL_CHILD["ref"]), pseudonymise(SECRET, FICTIONAL_PARENT["ref"])]
    with Session(engine) as session, session.begin():
        append(
            session,
            [make_draft(subjects=subjects, recipient_agency=f"agency-{i % 3}") for i in range(9)],
            clock=clock,
        )
    return engine


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_verify_export_and_verify_pack(populated: Engine, keys: tuple[Path, Path], tmp_path: Path) -> None:
    private, public = keys
    pack = tmp_path / "pack.jsonl"
    exported = runner.invoke(
        app,
        [
            "export",
            "--db",
            _url(populated),
            "--from",
            "2025-03-04",
            "--to",
            "2025-03-04",
            "--agency",
            "agency-1",
            "--out",
            str(pack),
            "--signing-key",
            str(private),
        ],
    )
    assert exported.exit_code == 0, exported.output
    assert "3 entries" in exported.output
    checked = runner.invoke(app, ["verify-pack", str(pack), "--public-key", str(public)])
    assert checked.exit_code == 0, checked.output
    verified = runner.invoke(app, ["verify", "--db", _url(populated), "--public-key", str(public)])
    assert verified.exit_code == 0, verified.output
    assert "9 entries" in verified.output and "1 checkpoints" in verified.output


def test_verify_pack_rejects_any_changed_byte(populated: Engine, signer: Signer, tmp_path: Path) -> None:
    from audit import export_pack

    pack = tmp_path / "pack.jsonl"
    with Session(populated) as session, session.begin(), pack.open("w") as handle:
        export_pack(session, handle, signer)
    original = pack.read_text()
    assert verify_pack(original, signer.public_key).entries == 9
    for position in range(0, len(original), max(1, len(original) // 40)):
        flipped = original[:position] + ("x" if original[position] != "x" else "y") + original[position + 1 :]
        with pytest.raises(PackInvalid):
            verify_pack(flipped, signer.public_key)


def test_verify_reports_the_tampered_seq(populated: Engine, keys: tuple[Path, Path]) -> None:
    with populated.begin() as connection:
        if populated.dialect.name == "postgresql":
            connection.execute(text("DROP TRIGGER audit_entry_append_only ON audit_entry"))
        else:
            connection.execute(text("DROP TRIGGER audit_entry_no_update"))
        connection.execute(text("UPDATE audit_entry SET outcome = 'share' WHERE seq = 4"))
    result = runner.invoke(app, ["verify", "--db", _url(populated), "--public-key", str(keys[1])])
    assert result.exit_code == 1
    assert "seq 4" in result.output and "expected" in result.output


def test_no_entry_or_pack_contains_identity_or_payload(populated: Engine, signer: Signer, tmp_path: Path) -> None:
    from audit import export_pack

    pack = tmp_path / "pack.jsonl"
    with Session(populated) as session, session.begin(), pack.open("w") as handle:
        export_pack(session, handle, signer)
    with populated.connect() as connection:
        dump = "\n".join(
            str(tuple(row))
            for table in ("audit_entry", "audit_checkpoint", "audit_chain_head")
            for row in connection.execute(text(f"SELECT * FROM {table}"))  # noqa: S608
        )
    for person in (FICTIONAL_CHILD, FICTIONAL_PARENT):
        for value in person.values():
            for haystack in (dump, pack.read_text()):
                assert value not in haystack
                assert value.lower() not in haystack.lower()
    assert pseudonymise(SECRET, FICTIONAL_CHILD["ref"]) in dump
