"""The agency registry: round trip, revision, OPA data, registration, rotation and sealing to it."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from typer.testing import CliRunner

from broker.admission.tokens import verify_token
from broker.errors import RegistryError, RoleNotGranted
from broker.partnership.cli import app, public_parts
from broker.partnership.jwk import public_jwk, public_key_from_jwk
from broker.partnership.keys import AgencyKeys, BrokerKeys, generate_agency_keys, generate_broker_keys, key_id
from broker.partnership.registry import (
    Registry,
    jwt_verification_key_from_pem,
    load_registry,
    register_agency,
    rotate_agency_keys,
    save_registry,
)
from schemas.envelope import EnvelopeHeader, SealedEnvelope
from transport.sealing import UnknownRecipientKey, open_envelope, seal

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CSC = "brackenford-csc"


def _register(registry: Registry, agency_id: str, keys: AgencyKeys, agency_type: str = "education_school") -> Registry:
    jwt_key, enc_key = public_parts(keys, NOW)
    return register_agency(
        registry,
        agency_id=agency_id,
        name=f"{agency_id} (fictional)",
        agency_type=agency_type,
        jwt_key=jwt_key,
        encryption_key=enc_key,
        now=NOW,
    )


@pytest.fixture
def csc_keys(tmp_path: Path) -> AgencyKeys:
    return generate_agency_keys(tmp_path / "csc", agency_id=CSC, now=NOW)


@pytest.fixture
def registry(tmp_path: Path, csc_keys: AgencyKeys) -> Registry:
    school = generate_agency_keys(tmp_path / "school", agency_id="brackenford-primary", now=NOW, alg="ES256")
    reg = _register(Registry(partnership_id="brackenford-lscp"), CSC, csc_keys, "csc_front_door")
    return _register(reg, "brackenford-primary", school)


def test_round_trip_through_file_keeps_content_and_revision(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "registry.json"
    save_registry(registry, path)
    loaded = load_registry(path)
    assert loaded == registry
    assert loaded.revision == registry.revision
    assert not list(tmp_path.glob(".registry.json.*"))  # the atomic write left no temp file


def test_revision_is_sha256_of_canonical_json_and_tracks_content(registry: Registry) -> None:
    canonical = json.dumps(
        registry.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    assert registry.revision == hashlib.sha256(canonical).hexdigest()
    renamed = registry.with_agency(registry.agencies[CSC].model_copy(update={"name": "Renamed"}))
    assert renamed.revision != registry.revision


def test_opa_data_has_types_and_names_but_no_keys(registry: Registry) -> None:
    assert registry.to_opa_data() == {
        "revision": registry.revision,
        "partnership_id": "brackenford-lscp",
        "agencies": {
            CSC: {"type": "csc_front_door", "name": f"{CSC} (fictional)"},
            "brackenford-primary": {"type": "education_school", "name": "brackenford-primary (fictional)"},
        },
    }


def test_registry_file_holds_no_private_key(tmp_path: Path, registry: Registry, csc_keys: AgencyKeys) -> None:
    save_registry(registry, tmp_path / "r.json")
    text = (tmp_path / "r.json").read_text()
    private_pem = csc_keys.current_jwt_key.private_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    assert '"d"' not in text
    assert private_pem.hex() not in text


def test_duplicate_registration_is_refused(registry: Registry, csc_keys: AgencyKeys) -> None:
    with pytest.raises(RegistryError, match="already registered"):
        _register(registry, CSC, csc_keys)


@pytest.mark.parametrize(("agency_id", "agency_type"), [("Bad Id", "education_school"), ("ok-id", "school")])
def test_invalid_agency_is_refused(registry: Registry, csc_keys: AgencyKeys, agency_id: str, agency_type: str) -> None:
    with pytest.raises(RegistryError, match="invalid agency"):
        _register(registry, agency_id, csc_keys, agency_type)


def test_load_refuses_invalid_files(tmp_path: Path, registry: Registry) -> None:
    with pytest.raises(RegistryError, match="does not exist"):
        load_registry(tmp_path / "absent.json")
    data = registry.model_dump(mode="json")
    data["agencies"][CSC]["jwt_keys"][0]["kid"] = "0000000000000000"  # kid must be the key's hash
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(RegistryError, match="kid is not the key id"):
        load_registry(tmp_path / "bad.json")
    data = registry.model_dump(mode="json")
    data["agencies"][CSC]["jwt_keys"][0]["alg"] = "ES256"
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(RegistryError, match="does not match"):
        load_registry(tmp_path / "bad.json")


def test_rotation_keeps_old_keys_and_retires_old_token_key(
    tmp_path: Path, registry: Registry, csc_keys: AgencyKeys
) -> None:
    new_keys = generate_agency_keys(tmp_path / "csc", agency_id=CSC, now=NOW)
    jwt_key, enc_key = public_parts(new_keys, NOW)
    later = NOW + timedelta(days=1)
    rotated = rotate_agency_keys(
        registry, agency_id=CSC, jwt_key=jwt_key, encryption_key=enc_key, now=later, grace=timedelta(minutes=5)
    )
    agency = rotated.agencies[CSC]
    assert [k.kid for k in agency.jwt_keys] == [jwt_key.kid, csc_keys.current_jwt_key.kid]
    assert agency.current_encryption_key.kid == new_keys.current_encryption_key.kid
    assert agency.encryption_keys[1].kid == csc_keys.current_encryption_key.kid
    assert agency.rotated_at == later
    assert agency.jwt_keys[0].not_after is None
    assert agency.jwt_keys[1].not_after == later + timedelta(minutes=5)
    assert not agency.jwt_keys[1].usable_at(later + timedelta(minutes=6))
    with pytest.raises(RegistryError, match="already has one of these key ids"):
        rotate_agency_keys(rotated, agency_id=CSC, jwt_key=jwt_key, encryption_key=enc_key, now=later)
    with pytest.raises(RegistryError, match="not registered"):
        rotate_agency_keys(rotated, agency_id="nobody-here", jwt_key=jwt_key, encryption_key=enc_key, now=later)


def _seal_to_current(registry: Registry, broker: BrokerKeys, delivery_id: str) -> tuple[str, SealedEnvelope]:
    current = registry.agencies[CSC].current_encryption_key
    header = EnvelopeHeader(
        delivery_id=delivery_id,
        notification_id="ntf-1",
        sender_agency="brackenford-primary",
        recipient_agency=CSC,
        message_type="safeguarding_concern",
        schema_version="1.0",
        recipient_key_id=current.kid,
    )
    envelope = seal(
        {"summary": "fictional"},
        header=header,
        recipient_public_key=current.x25519(),
        signing_key=broker.signing_key,
        signing_key_id=broker.signing_key_id,
        sealed_at=NOW,
    )
    return current.kid, envelope


def test_envelope_sealed_to_old_key_still_opens_after_rotation(
    tmp_path: Path, registry: Registry, csc_keys: AgencyKeys
) -> None:
    broker = generate_broker_keys(tmp_path / "broker", now=NOW)
    old_kid, old_envelope = _seal_to_current(registry, broker, "dlv-old")
    new_keys = generate_agency_keys(tmp_path / "csc", agency_id=CSC, now=NOW)
    jwt_key, enc_key = public_parts(new_keys, NOW)
    rotated = rotate_agency_keys(registry, agency_id=CSC, jwt_key=jwt_key, encryption_key=enc_key, now=NOW)
    new_kid, new_envelope = _seal_to_current(rotated, broker, "dlv-new")
    assert old_kid == csc_keys.current_encryption_key.kid
    assert new_kid == new_keys.current_encryption_key.kid != old_kid
    for envelope in (old_envelope, new_envelope):
        opened = open_envelope(
            envelope,
            recipient_agency=CSC,
            broker_keys=broker.verify_key_map(),
            recipient_keys=new_keys.decryption_keys(),
        )
        assert opened.payload == {"summary": "fictional"}
    # Without the old private key, the old envelope cannot be opened.
    with pytest.raises(UnknownRecipientKey):
        open_envelope(
            old_envelope,
            recipient_agency=CSC,
            broker_keys=broker.verify_key_map(),
            recipient_keys={new_kid: new_keys.current_encryption_key.private_key},
        )


@pytest.mark.parametrize(
    "key",
    [
        ed25519.Ed25519PrivateKey.generate().public_key(),
        ec.generate_private_key(ec.SECP256R1()).public_key(),
    ],
    ids=["Ed25519", "P-256"],
)
def test_jwk_and_pem_conversions_round_trip(
    key: ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey,
) -> None:
    assert key_id(public_key_from_jwk(public_jwk(key))) == key_id(key)
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    entry = jwt_verification_key_from_pem(pem, created_at=NOW)
    assert entry.kid == key_id(key)
    assert entry.alg == ("EdDSA" if isinstance(key, ed25519.Ed25519PublicKey) else "ES256")


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
        {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"},
        {"kty": "OKP", "crv": "Ed25519", "x": "AA", "d": "AA"},
        {"kty": "OKP", "crv": "Ed25519"},
    ],
    ids=["rsa", "p384", "private-part", "no-x"],
)
def test_disallowed_jwks_are_refused(jwk: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        public_key_from_jwk(jwk)


def test_p384_pem_is_refused() -> None:
    pem = (
        ec.generate_private_key(ec.SECP384R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(RegistryError, match="P-256"):
        jwt_verification_key_from_pem(pem, created_at=NOW)


def test_cli_register_rotate_list_and_issue_token(tmp_path: Path) -> None:
    runner = CliRunner()
    reg, keys = str(tmp_path / "registry.json"), str(tmp_path / "keys")
    broker = ("--by", "ops-admin-01", "--broker-keys", str(tmp_path / "broker-keys"))

    def run(*args: str) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result.stdout

    run("init-broker-keys", "--out", broker[3])
    run("generate-keys", "--agency", CSC, "--out", keys)
    run(
        "register",
        "--registry",
        reg,
        "--agency",
        CSC,
        "--name",
        "Brackenford CSC (fictional)",
        "--type",
        "csc_front_door",
        "--keys",
        keys,
        "--partnership",
        "brackenford-lscp",
        *broker,
    )
    before = load_registry(Path(reg)).agencies[CSC]
    run("rotate", "--registry", reg, "--agency", CSC, "--keys", keys, "--grace-minutes", "0", *broker)
    after = load_registry(Path(reg)).agencies[CSC]
    assert after.encryption_keys[1:] == before.encryption_keys
    assert "brackenford-lscp" in run("list", "--registry", reg)
    every = run("list", "--registry", reg, "--all-keys")
    assert all(k.kid in every for k in after.jwt_keys) and len(after.jwt_keys) == 2, "the retired key too"
    token = run(
        "issue-token",
        "--keys",
        keys,
        "--agency",
        CSC,
        "--role",
        "dsl",
        "--subject",
        "dsl-0001",
        "--audience",
        "safeguarding-broker",
    ).strip()
    with pytest.raises(RoleNotGranted):  # registered is not granted: the agency's tokens act only as its system
        verify_token(token, registry=load_registry(Path(reg)), audience="safeguarding-broker")
    run("grant", "--registry", reg, "--agency", CSC, "--role", "dsl", *broker)
    assert "granted dsl" in run("access", "--registry", reg)
    token = run(
        "issue-token",
        "--keys",
        keys,
        "--agency",
        CSC,
        "--role",
        "dsl",
        "--subject",
        "dsl-0001",
        "--audience",
        "safeguarding-broker",
    ).strip()
    caller = verify_token(token, registry=load_registry(Path(reg)), audience="safeguarding-broker")
    assert (caller.key_id, caller.subject) == (after.jwt_keys[0].kid, "dsl-0001")
    assert "SGB_SIGNING_KEY=" in run("rotate-broker-keys", "--dir", broker[3], "--print-env")
