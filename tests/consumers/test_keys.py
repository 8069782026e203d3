"""The consumer reads the key files the broker's key tools write, and refuses unsafe ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from broker.partnership.keys import BrokerKeys, generate_agency_keys, rotate_broker_signing_key
from consumers.errors import ConfigurationError
from consumers.keys import load_agency_keyring, load_broker_public_keys
from tests.consumers.conftest import NOW, make_agency_keys


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_loads_current_token_key_and_every_decryption_key(tmp_path: Path, alg: str) -> None:
    first = generate_agency_keys(tmp_path, agency_id="csc-fictional", now=NOW, alg=alg)  # type: ignore[arg-type]
    rotated = generate_agency_keys(tmp_path, agency_id="csc-fictional", now=NOW, alg=alg)  # type: ignore[arg-type]
    keyring = load_agency_keyring(tmp_path, agency_id="csc-fictional")
    assert keyring.jwt_key.kid == rotated.current_jwt_key.kid != first.current_jwt_key.kid
    assert keyring.jwt_key.alg == alg
    # The pre-rotation key stays, so envelopes sealed to it still open.
    assert set(keyring.decryption_keys) == {k.kid for k in rotated.encryption_keys}
    assert len(keyring.decryption_keys) == 2


def test_refuses_a_private_key_others_can_read(tmp_path: Path) -> None:
    keys = make_agency_keys(tmp_path, "csc-fictional")
    (tmp_path / f"enc-{keys.current_encryption_key.kid}.pem").chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_agency_keyring(tmp_path, agency_id="csc-fictional")


def test_refuses_a_symlinked_private_key(tmp_path: Path) -> None:
    keys = make_agency_keys(tmp_path, "csc-fictional")
    target = tmp_path / f"jwt-{keys.current_jwt_key.kid}.pem"
    moved = target.rename(tmp_path / "elsewhere.pem")
    target.symlink_to(moved)
    with pytest.raises(ConfigurationError, match="symlink"):
        load_agency_keyring(tmp_path, agency_id="csc-fictional")


def test_refuses_keys_of_another_agency(tmp_path: Path) -> None:
    make_agency_keys(tmp_path, "police-fictional")
    with pytest.raises(ConfigurationError, match="police-fictional"):
        load_agency_keyring(tmp_path, agency_id="csc-fictional")


def test_refuses_a_key_file_swapped_under_another_kid(tmp_path: Path) -> None:
    keys = make_agency_keys(tmp_path, "csc-fictional")
    other = make_agency_keys(tmp_path / "other", "csc-fictional")
    current = tmp_path / f"enc-{keys.current_encryption_key.kid}.pem"
    current.write_bytes((tmp_path / "other" / f"enc-{other.current_encryption_key.kid}.pem").read_bytes())
    with pytest.raises(ConfigurationError, match="different key"):
        load_agency_keyring(tmp_path, agency_id="csc-fictional")


def test_broker_keys_from_history_directory_and_pem(tmp_path: Path, broker_keys: BrokerKeys) -> None:
    directory = tmp_path / "broker-keys"
    rotated = rotate_broker_signing_key(directory, now=NOW)
    expected = {kid for kid, _ in rotated.verify_keys}
    assert len(expected) == 2
    assert set(load_broker_public_keys(directory / "signing-history.json")) == expected
    assert set(load_broker_public_keys(directory)) == expected
    pem = b"".join(
        key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        for _, key in rotated.verify_keys
    )
    (tmp_path / "broker.pem").write_bytes(pem)
    assert set(load_broker_public_keys(tmp_path / "broker.pem")) == expected


def test_refuses_a_history_whose_kid_is_not_its_key(tmp_path: Path, broker_history: Path) -> None:
    entries = json.loads(broker_history.read_text())
    entries[0]["kid"] = "0123456789abcdef"
    broker_history.write_text(json.dumps(entries))
    with pytest.raises(ConfigurationError, match="kid"):
        load_broker_public_keys(broker_history)


def test_refuses_a_pem_file_without_keys(tmp_path: Path) -> None:
    (tmp_path / "empty.pem").write_text("no keys here\n")
    with pytest.raises(ConfigurationError, match="no broker public key"):
        load_broker_public_keys(tmp_path / "empty.pem")
