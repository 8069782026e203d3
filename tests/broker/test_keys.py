"""Broker and agency key material: permissions, environment loading, rotation, key ids."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, x25519

from broker.errors import KeyFileError
from broker.partnership.cli import broker_keys_environment
from broker.partnership.keys import (
    HISTORY_FILE,
    KAFKA_SECRET_FILE,
    LOG_SECRET_FILE,
    SIGNING_FILE,
    generate_agency_keys,
    generate_broker_keys,
    key_id,
    load_agency_keys,
    load_broker_keys,
    rotate_broker_signing_key,
    write_private_file,
)
from transport import keyfiles

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generated_broker_keys_are_owner_only(tmp_path: Path) -> None:
    keys = generate_broker_keys(tmp_path / "bk", now=NOW)
    assert _mode(tmp_path / "bk") == 0o700
    for name in (SIGNING_FILE, LOG_SECRET_FILE, KAFKA_SECRET_FILE):
        assert _mode(tmp_path / "bk" / name) == 0o600
    assert keys.signing_key_id == key_id(keys.signing_key.public_key())
    assert [kid for kid, _ in keys.verify_keys] == [keys.signing_key_id]
    assert len(keys.log_pseudonym_secret) == 32
    assert keys.log_pseudonym_secret != keys.kafka_key_secret


def test_loaded_keys_equal_generated_and_hide_secrets_in_repr(tmp_path: Path) -> None:
    made = generate_broker_keys(tmp_path, now=NOW)
    loaded = load_broker_keys(tmp_path, environ={})
    assert loaded.signing_key_id == made.signing_key_id
    assert loaded.kafka_key_secret == made.kafka_key_secret
    text = repr(loaded)
    assert base64.b64encode(made.kafka_key_secret).decode() not in text
    assert "secret=" not in text


def test_generate_refuses_to_overwrite(tmp_path: Path) -> None:
    generate_broker_keys(tmp_path, now=NOW)
    with pytest.raises(KeyFileError, match="exists"):
        generate_broker_keys(tmp_path, now=NOW)


@pytest.mark.parametrize("name", [SIGNING_FILE, LOG_SECRET_FILE, KAFKA_SECRET_FILE])
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_readable_by_others_is_refused_with_a_fix(tmp_path: Path, name: str, mode: int) -> None:
    generate_broker_keys(tmp_path, now=NOW)
    os.chmod(tmp_path / name, mode)
    with pytest.raises(KeyFileError, match=rf"mode {mode:04o}; run `chmod 600 "):
        load_broker_keys(tmp_path, environ={})


def test_read_only_owner_file_is_accepted(tmp_path: Path) -> None:
    generate_broker_keys(tmp_path, now=NOW)
    os.chmod(tmp_path / SIGNING_FILE, 0o400)
    load_broker_keys(tmp_path, environ={})


def test_symlinked_key_file_is_refused(tmp_path: Path) -> None:
    generate_broker_keys(tmp_path / "real", now=NOW)
    (tmp_path / "link").mkdir()
    for name in (SIGNING_FILE, LOG_SECRET_FILE, KAFKA_SECRET_FILE):
        (tmp_path / "link" / name).symlink_to(tmp_path / "real" / name)
    with pytest.raises(keyfiles.KeyFileError, match="symlinks"):
        keyfiles.read_private_file(tmp_path / "link" / LOG_SECRET_FILE)
    with pytest.raises(KeyFileError, match="symlinks"):  # the broker's own error, from its loader
        load_broker_keys(tmp_path / "link", environ={})


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="does not exist"):
        load_broker_keys(tmp_path, environ={})


def test_write_private_file_ignores_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        write_private_file(tmp_path / "s", b"x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "s") == 0o600


def test_short_secret_is_refused(tmp_path: Path) -> None:
    generate_broker_keys(tmp_path, now=NOW)
    write_private_file(tmp_path / LOG_SECRET_FILE, base64.b64encode(b"short"))
    with pytest.raises(KeyFileError, match="at least 32 bytes"):
        load_broker_keys(tmp_path, environ={})


def test_environment_round_trip_takes_precedence_over_directory(tmp_path: Path) -> None:
    made = generate_broker_keys(tmp_path, now=NOW)
    rotated = rotate_broker_signing_key(tmp_path, now=NOW)
    env = broker_keys_environment(rotated)
    from_env = load_broker_keys(None, environ=env)
    assert from_env.signing_key_id == rotated.signing_key_id
    assert [k for k, _ in from_env.verify_keys] == [rotated.signing_key_id, made.signing_key_id]
    assert from_env.log_pseudonym_secret == made.log_pseudonym_secret
    assert load_broker_keys(tmp_path / "absent", environ=env).signing_key_id == rotated.signing_key_id


def test_environment_must_be_complete() -> None:
    seed = base64.b64encode(bytes(32)).decode()
    with pytest.raises(KeyFileError, match="SGB_LOG_PSEUDONYM_SECRET"):
        load_broker_keys(None, environ={"SGB_SIGNING_KEY": seed})
    with pytest.raises(KeyFileError, match="no broker key directory"):
        load_broker_keys(None, environ={})
    with pytest.raises(KeyFileError, match="base64"):
        load_broker_keys(
            None,
            environ={
                "SGB_SIGNING_KEY": "not*base64",
                "SGB_LOG_PSEUDONYM_SECRET": "x",
                "SGB_KAFKA_KEY_SECRET": "y",
            },
        )


def test_rotation_keeps_old_public_keys_newest_first(tmp_path: Path) -> None:
    first = generate_broker_keys(tmp_path, now=NOW)
    second = rotate_broker_signing_key(tmp_path, now=NOW)
    third = rotate_broker_signing_key(tmp_path, now=NOW)
    assert len({first.signing_key_id, second.signing_key_id, third.signing_key_id}) == 3
    assert [k for k, _ in third.verify_keys] == [
        third.signing_key_id,
        second.signing_key_id,
        first.signing_key_id,
    ]
    assert third.kafka_key_secret == first.kafka_key_secret  # pseudonyms must stay linkable
    history = json.loads((tmp_path / HISTORY_FILE).read_text())
    assert [e["kid"] for e in history] == [k for k, _ in third.verify_keys]
    signature = first.signing_key.sign(b"old checkpoint")
    third.verify_key_map()[first.signing_key_id].verify(signature, b"old checkpoint")


def test_key_id_is_short_hash_of_spki_and_differs_by_algorithm() -> None:
    seed = bytes(range(32))
    ed = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key()
    xk = x25519.X25519PrivateKey.from_private_bytes(seed).public_key()
    spki = bytes.fromhex("302a300506032b6570032100") + ed.public_bytes_raw()  # RFC 8410 Ed25519 SPKI
    assert key_id(ed) == hashlib.sha256(spki).hexdigest()[:16] == "a050837d85070582"
    assert key_id(ed) != key_id(xk)


# --- agency key directories ----------------------------------------------------------------------


def test_agency_keys_generate_load_and_rotate(tmp_path: Path) -> None:
    first = generate_agency_keys(tmp_path, agency_id="brackenford-csc", now=NOW)
    assert isinstance(first.current_jwt_key.private_key, ed25519.Ed25519PrivateKey)
    assert first.current_jwt_key.alg == "EdDSA"
    for pem in tmp_path.glob("*.pem"):
        assert _mode(pem) == 0o600
    second = generate_agency_keys(tmp_path, agency_id="brackenford-csc", now=NOW, alg="ES256")
    assert isinstance(second.current_jwt_key.private_key, ec.EllipticCurvePrivateKey)
    assert [k.kid for k in second.encryption_keys] == [
        second.current_encryption_key.kid,
        first.current_encryption_key.kid,
    ]
    assert set(second.decryption_keys()) == {k.kid for k in second.encryption_keys}
    loaded = load_agency_keys(tmp_path)
    assert [k.kid for k in loaded.jwt_keys] == [k.kid for k in second.jwt_keys]
    assert [k.kid for k in loaded.encryption_keys] == [k.kid for k in second.encryption_keys]


def test_agency_directory_belongs_to_one_agency(tmp_path: Path) -> None:
    generate_agency_keys(tmp_path, agency_id="brackenford-csc", now=NOW)
    with pytest.raises(KeyFileError, match="holds keys of agency"):
        generate_agency_keys(tmp_path, agency_id="fernhill-police", now=NOW)


def test_agency_key_file_swapped_for_another_key_is_refused(tmp_path: Path) -> None:
    keys = generate_agency_keys(tmp_path, agency_id="brackenford-csc", now=NOW)
    other = generate_agency_keys(tmp_path / "o", agency_id="brackenford-csc", now=NOW)
    victim = tmp_path / f"enc-{keys.current_encryption_key.kid}.pem"
    write_private_file(victim, (tmp_path / "o" / f"enc-{other.current_encryption_key.kid}.pem").read_bytes())
    with pytest.raises(KeyFileError, match="different key"):
        load_agency_keys(tmp_path)


def test_agency_private_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    keys = generate_agency_keys(tmp_path, agency_id="brackenford-csc", now=NOW)
    os.chmod(tmp_path / f"jwt-{keys.current_jwt_key.kid}.pem", 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_agency_keys(tmp_path)


def test_missing_agency_manifest(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="generate-keys"):
        load_agency_keys(tmp_path)
