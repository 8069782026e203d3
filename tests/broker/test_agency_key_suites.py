"""Agency keys for both sealing suites and for witnessing: made, stored, registered, rotated, used.

An agency moves from X25519 to the post-quantum hybrid by rotating its keys: the registry then seals
to the hybrid key, and the agency's older X25519 key stays in its directory so older envelopes open.
Every key set also holds a witness key, registered under the agency's own name.
"""

from __future__ import annotations

import base64
import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from pydantic import ValidationError
from typer.testing import CliRunner

import audit
from broker.errors import KeyFileError, RegistryError
from broker.partnership.cli import app, public_parts, witness_part
from broker.partnership.keys import AgencyKeys, generate_agency_keys, load_agency_keys
from broker.partnership.registry import (
    EncryptionPublicKey,
    Registry,
    load_registry,
    register_agency,
    rotate_agency_keys,
    save_registry,
)
from broker.partnership.witnesses import witness_public_key
from consumers.keys import load_agency_keyring
from schemas.envelope import HYBRID_SUITE_NAME, SUITE_NAME, EnvelopeHeader, SealedEnvelope
from transport import keyfiles
from transport.kem import HybridPrivateKey, HybridPublicKey
from transport.sealing import open_envelope, seal

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
POLICE = "brackenford-police"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _registered(keys: AgencyKeys) -> Registry:
    jwt_key, enc_key = public_parts(keys, NOW)
    return register_agency(
        Registry(partnership_id="brackenford-lscp"),
        agency_id=keys.agency_id,
        name="Brackenford Police (fictional)",
        agency_type="police",
        jwt_key=jwt_key,
        encryption_key=enc_key,
        now=NOW,
        witness_key=witness_part(keys, NOW),
    )


def _seal_to(registry: Registry, agency_id: str, n: int) -> tuple[SealedEnvelope, dict[str, str]]:
    agency = registry.agencies[agency_id]
    key = agency.current_encryption_key
    header = EnvelopeHeader(
        delivery_id=f"dlv-{n}",
        notification_id="ntf-1",
        sender_agency="brackenford-primary",
        recipient_agency=agency_id,
        message_type="safeguarding_referral",
        schema_version="1.0",
        recipient_key_id=key.kid,
    )
    signing = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32))
    payload = {"concern_summary": f"Fictional concern {n}"}
    return seal(
        payload,
        header=header,
        recipient_public_key=key.recipient_key(),
        signing_key=signing,
        signing_key_id="brk-1",
        sealed_at=NOW,
    ), payload


def test_a_hybrid_key_set_is_stored_owner_only_and_loads(tmp_path: Path) -> None:
    keys = generate_agency_keys(tmp_path / "police", agency_id=POLICE, now=NOW, suite=HYBRID_SUITE_NAME)
    current = keys.current_encryption_key
    assert isinstance(current.private_key, HybridPrivateKey)
    pem = tmp_path / "police" / keyfiles.encryption_key_file(current.kid)
    assert _mode(pem) == 0o600 and pem.read_bytes().count(b"BEGIN PRIVATE KEY") == 2
    manifest = json.loads((tmp_path / "police" / keyfiles.AGENCY_MANIFEST).read_text())
    assert manifest["encryption_keys"][0] == {
        "kid": current.kid,
        "created_at": NOW.isoformat(),
        "suite": HYBRID_SUITE_NAME,
    }
    witness = keys.current_witness_key
    assert witness is not None and witness.name == POLICE
    assert _mode(tmp_path / "police" / keyfiles.witness_key_file(witness.kid)) == 0o600
    loaded = load_agency_keys(tmp_path / "police")
    assert isinstance(loaded.current_encryption_key.private_key, HybridPrivateKey)
    assert loaded.current_encryption_key.private_key.public_key().raw() == current.private_key.public_key().raw()


def test_rotating_to_hybrid_seals_to_it_and_older_envelopes_still_open(tmp_path: Path) -> None:
    directory = tmp_path / "police"
    classic = generate_agency_keys(directory, agency_id=POLICE, now=NOW)
    registry = _registered(classic)
    old_envelope, old_payload = _seal_to(registry, POLICE, 1)
    rotated = generate_agency_keys(directory, agency_id=POLICE, now=NOW, suite=HYBRID_SUITE_NAME)
    jwt_key, enc_key = public_parts(rotated, NOW)
    registry = rotate_agency_keys(
        registry,
        agency_id=POLICE,
        jwt_key=jwt_key,
        encryption_key=enc_key,
        now=NOW,
        witness_key=witness_part(rotated, NOW),
    )
    agency = registry.agencies[POLICE]
    assert [k.suite for k in agency.encryption_keys] == [HYBRID_SUITE_NAME, SUITE_NAME]
    assert isinstance(agency.current_encryption_key.recipient_key(), HybridPublicKey)
    with pytest.raises(RegistryError, match="not X25519"):
        agency.current_encryption_key.x25519()
    assert [k.kid for k in agency.witness_keys] == [k.kid for k in rotated.witness_keys]
    new_envelope, new_payload = _seal_to(registry, POLICE, 2)
    assert new_envelope.suite == HYBRID_SUITE_NAME
    keyring = load_agency_keyring(directory, agency_id=POLICE)
    broker = {"brk-1": ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32)).public_key()}
    for envelope, payload in ((old_envelope, old_payload), (new_envelope, new_payload)):
        opened = open_envelope(
            envelope, recipient_agency=POLICE, broker_keys=broker, recipient_keys=keyring.decryption_keys
        )
        assert opened.payload == payload
    assert keyring.witness_key is not None and keyring.witness_key.kid == agency.witness_keys[0].kid


def test_a_directory_made_before_witnessing_loads_and_gains_a_witness_key_on_rotation(tmp_path: Path) -> None:
    directory = tmp_path / "csc"
    keys = generate_agency_keys(directory, agency_id="brackenford-csc", now=NOW)
    manifest_path = directory / keyfiles.AGENCY_MANIFEST
    manifest = json.loads(manifest_path.read_text())
    witness_kid = manifest.pop("witness_keys")[0]["kid"]
    (directory / keyfiles.witness_key_file(witness_kid)).unlink()
    manifest_path.write_text(json.dumps(manifest))
    older = load_agency_keys(directory)
    assert older.witness_keys == () and older.current_witness_key is None
    assert witness_part(older, NOW) is None
    assert load_agency_keyring(directory, agency_id="brackenford-csc").witness_key is None
    rotated = generate_agency_keys(directory, agency_id="brackenford-csc", now=NOW)
    assert len(rotated.witness_keys) == 1 and rotated.encryption_keys[1].kid == keys.current_encryption_key.kid


def test_a_hybrid_file_under_an_x25519_entry_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "police"
    generate_agency_keys(directory, agency_id=POLICE, now=NOW, suite=HYBRID_SUITE_NAME)
    manifest_path = directory / keyfiles.AGENCY_MANIFEST
    manifest = json.loads(manifest_path.read_text())
    del manifest["encryption_keys"][0]["suite"]
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(KeyFileError, match="X25519"):
        load_agency_keys(directory)


def test_the_registry_keeps_older_registries_bytes_and_round_trips_new_keys(tmp_path: Path) -> None:
    keys = generate_agency_keys(tmp_path / "police", agency_id=POLICE, now=NOW, suite=HYBRID_SUITE_NAME)
    registry = _registered(keys)
    save_registry(registry, tmp_path / "registry.json")
    assert load_registry(tmp_path / "registry.json") == registry
    dumped = registry.model_dump(mode="json")["agencies"][POLICE]
    assert dumped["encryption_keys"][0]["suite"] == HYBRID_SUITE_NAME
    assert audit.WitnessKey.from_vkey(dumped["witness_keys"][0]["vkey"]).name == POLICE
    # An X25519 agency without a witness key dumps exactly as before the new fields existed.
    plain = registry.agencies[POLICE].model_copy(
        update={
            "encryption_keys": (public_parts(generate_agency_keys(tmp_path / "x", agency_id=POLICE, now=NOW), NOW)[1],),
            "witness_keys": (),
        }
    )
    assert set(plain.model_dump(mode="json")) == {
        "id",
        "name",
        "type",
        "jwt_keys",
        "encryption_keys",
        "created_at",
        "rotated_at",
    }
    assert "suite" not in plain.model_dump(mode="json")["encryption_keys"][0]


def test_witness_keys_are_named_after_their_agency(tmp_path: Path) -> None:
    keys = generate_agency_keys(tmp_path / "police", agency_id=POLICE, now=NOW)
    jwt_key, enc_key = public_parts(keys, NOW)
    impostor = witness_public_key(
        ed25519.Ed25519PrivateKey.generate().public_key(), name="brackenford-csc", created_at=NOW
    )
    with pytest.raises(RegistryError, match="not after agency"):
        register_agency(
            Registry(partnership_id="p"),
            agency_id=POLICE,
            name="Police (fictional)",
            agency_type="police",
            jwt_key=jwt_key,
            encryption_key=enc_key,
            now=NOW,
            witness_key=impostor,
        )
    registry = _registered(keys)
    new_jwt, new_enc = public_parts(generate_agency_keys(tmp_path / "police", agency_id=POLICE, now=NOW), NOW)
    with pytest.raises(RegistryError, match="not after agency"):
        rotate_agency_keys(
            registry, agency_id=POLICE, jwt_key=new_jwt, encryption_key=new_enc, now=NOW, witness_key=impostor
        )


@pytest.mark.parametrize("length", [32, 1215, 1217])
def test_a_hybrid_registry_key_of_the_wrong_length_is_refused(length: int) -> None:
    raw = base64.urlsafe_b64encode(bytes(length)).rstrip(b"=").decode()
    with pytest.raises(ValidationError):
        EncryptionPublicKey(kid="0" * 16, public_key=raw, created_at=NOW, suite=HYBRID_SUITE_NAME)


def test_cli_generates_and_rotates_to_hybrid_and_exports_witness_keys(tmp_path: Path) -> None:
    runner = CliRunner()
    reg, keys = str(tmp_path / "registry.json"), str(tmp_path / "keys")
    broker = ("--by", "ops-admin-01", "--broker-keys", str(tmp_path / "broker-keys"))

    def run(*args: str) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result.stdout

    run("init-broker-keys", "--out", broker[3])
    run("generate-keys", "--agency", POLICE, "--out", keys)
    run(
        "register",
        "--registry",
        reg,
        "--agency",
        POLICE,
        "--name",
        "Brackenford Police (fictional)",
        "--type",
        "police",
        "--keys",
        keys,
        "--partnership",
        "brackenford-lscp",
        *broker,
    )
    run("rotate", "--registry", reg, "--agency", POLICE, "--keys", keys, "--suite", "hybrid", *broker)
    agency = load_registry(Path(reg)).agencies[POLICE]
    assert [k.suite for k in agency.encryption_keys] == [HYBRID_SUITE_NAME, SUITE_NAME]
    assert len(agency.witness_keys) == 2
    out = run("witness-keys", "--registry", reg, "--out", str(tmp_path / "witnesses"))
    # Both: a checkpoint kept before the rotation carries the old key's cosignature.
    pems = [f"{POLICE}.pem", f"{POLICE}.{agency.witness_keys[1].kid}.pem"]
    assert out.splitlines() == [f"--witness-key {POLICE}={tmp_path / 'witnesses' / pem}" for pem in pems]
    refused = runner.invoke(app, ["generate-keys", "--agency", POLICE, "--out", keys, "--suite", "kyber"])
    assert refused.exit_code == 2 and "x25519 or hybrid" in refused.output
    assert isinstance(load_agency_keys(Path(keys)).encryption_keys[1].private_key, x25519.X25519PrivateKey)
