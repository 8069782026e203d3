"""`python -m broker.partnership.cli broker-public-keys`: the files an auditor pins for `audit verify`,
one PEM per key the broker has signed with (current first, then each retired one), and nothing private."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from typer.testing import CliRunner

from audit.inputs import load_public_key
from broker.partnership.cli import app
from broker.partnership.keys import load_broker_keys

runner = CliRunner()


def _pem_of(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def test_each_signing_key_is_written_as_the_pem_audit_verify_reads(tmp_path: Path) -> None:
    keys_dir, out = tmp_path / "broker-keys", tmp_path / "for-the-auditor"
    assert runner.invoke(app, ["init-broker-keys", "--out", str(keys_dir)]).exit_code == 0
    first = load_broker_keys(keys_dir, environ={})
    assert runner.invoke(app, ["rotate-broker-keys", "--dir", str(keys_dir)]).exit_code == 0
    now = load_broker_keys(keys_dir, environ={})

    result = runner.invoke(app, ["broker-public-keys", "--dir", str(keys_dir), "--out", str(out)])

    assert result.exit_code == 0, result.output
    paths = [out / f"broker-{now.signing_key_id}.pem", out / f"broker-{first.signing_key_id}.pem"]
    assert result.stdout.splitlines() == [
        *(f"--public-key {path}" for path in paths),
        f"SGB_AUDIT_PUBLIC_KEY={paths[0]}:{paths[1]}",
    ]
    assert sorted(out.iterdir()) == sorted(paths), "one file per key, nothing else"
    signers = (now.signing_key, first.signing_key)
    for path, signer in zip(paths, signers, strict=True):
        assert path.read_bytes() == _pem_of(signer.public_key())
        assert _pem_of(load_public_key(path)) == path.read_bytes(), "audit verify reads it as it is"
        assert b"PRIVATE" not in path.read_bytes() and path.stat().st_mode & 0o777 == 0o644


def test_a_directory_with_no_keys_is_one_line_saying_how_to_make_them(tmp_path: Path) -> None:
    missing = tmp_path / "no-keys-here"
    result = runner.invoke(app, ["broker-public-keys", "--dir", str(missing), "--out", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert f"no broker key directory at {missing}: make one with" in str(result.exception)
    assert not (tmp_path / "out").exists()
