"""Defects found reviewing the partnership's registry, grants, keys and CLI, each pinned by a test.

No stack needed: the registry watch is driven directly on files in a temporary directory.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from broker.errors import KeyFileError, RegistryError
from broker.partnership import kafka_access
from broker.partnership.changes import ChangeAction, RegistrationAction, sign_registration, verify_access_changes
from broker.partnership.cli import app, broker_keys_environment, public_parts
from broker.partnership.grants import change_access
from broker.partnership.keys import (
    AGENCY_MANIFEST,
    KAFKA_SECRET_FILE,
    LOG_SECRET_FILE,
    SIGNING_FILE,
    BrokerKeys,
    generate_agency_keys,
    generate_broker_keys,
    load_agency_keys,
    rotate_broker_signing_key,
    write_public_file,
)
from broker.partnership.registry import Registry, load_registry, register_agency, rotate_agency_keys, save_registry
from broker.partnership.watch import RegistryWatch
from broker.settings import BrokerSettings

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CSC, SCHOOL = "brackenford-csc", "brackenford-primary"


@pytest.fixture
def broker(tmp_path: Path) -> BrokerKeys:
    return generate_broker_keys(tmp_path / "broker-keys", now=NOW)


@pytest.fixture
def registry(tmp_path: Path, broker: BrokerKeys) -> Registry:
    reg = Registry(partnership_id="brackenford-lscp")
    for agency_id, agency_type in ((CSC, "csc_front_door"), (SCHOOL, "education_school")):
        keys = generate_agency_keys(tmp_path / agency_id, agency_id=agency_id, now=NOW)
        jwt_key, enc_key = public_parts(keys, NOW)
        reg = register_agency(
            reg,
            agency_id=agency_id,
            name=agency_id,
            agency_type=agency_type,
            jwt_key=jwt_key,
            encryption_key=enc_key,
            now=NOW,
        )
        reg = _registered(reg, agency_id, broker)
    return reg


def _registered(
    registry: Registry, agency_id: str, broker: BrokerKeys, action: RegistrationAction = "register"
) -> Registry:
    return sign_registration(
        registry,
        action=action,
        agency_id=agency_id,
        by="ops-admin-01",
        signing_key=broker.signing_key,
        key_id=broker.signing_key_id,
        now=NOW,
    )


def _change(registry: Registry, broker: BrokerKeys, action: ChangeAction, role: str) -> Registry:
    return change_access(
        registry,
        action=action,
        agency_id=SCHOOL,
        role=role,
        by="ops-admin-01",
        signing_key=broker.signing_key,
        key_id=broker.signing_key_id,
        now=NOW,
    )


class _Refusals:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


# --- the registry watch never goes back ----------------------------------------------------------


async def test_a_registry_rolled_back_to_before_a_revocation_is_refused_by_the_watch(
    tmp_path: Path, registry: Registry, broker: BrokerKeys
) -> None:
    granted = _change(registry, broker, "grant", "dsl")
    revoked = _change(granted, broker, "revoke", "dsl")
    path = tmp_path / "registry.json"
    save_registry(revoked, path)
    refused = _Refusals()
    watch = RegistryWatch(path=path, current=revoked, verify_keys=broker.verify_keys, on_refused=refused)
    # An insider restores yesterday's file: every change in it is genuinely signed and chained, but
    # the chain stops before the revocation, so the DSL grant would be honoured again.
    save_registry(granted, path)
    assert await watch.check() is False
    assert watch.current.revision == revoked.revision
    assert "dsl" not in watch.current.granted_roles(SCHOOL)
    assert refused.count == 1


async def test_a_registry_extending_the_chain_is_taken_into_use(
    tmp_path: Path, registry: Registry, broker: BrokerKeys
) -> None:
    granted = _change(registry, broker, "grant", "dsl")
    path = tmp_path / "registry.json"
    save_registry(granted, path)
    watch = RegistryWatch(path=path, current=granted, verify_keys=broker.verify_keys)
    revoked = _change(granted, broker, "revoke", "dsl")
    save_registry(revoked, path)
    assert await watch.check() is True
    assert watch.current.revision == revoked.revision


def _signed_by(registry: Registry, keys: BrokerKeys, action: ChangeAction) -> Registry:
    return change_access(
        registry,
        action=action,
        agency_id=SCHOOL,
        role="dsl",
        by="ops-admin-01",
        signing_key=keys.signing_key,
        key_id=keys.signing_key_id,
        now=NOW,
    )


def test_a_change_signed_with_a_key_retired_before_an_earlier_change_breaks_the_chain(
    tmp_path: Path, registry: Registry, broker: BrokerKeys
) -> None:
    rotated = rotate_broker_signing_key(tmp_path / "broker-keys", now=NOW)
    granted = _signed_by(registry, rotated, "grant")
    late = _signed_by(granted, broker, "revoke")  # whoever kept the old key signs after the new one did
    verify_access_changes(granted, rotated.verify_keys)
    n = len(registry.access_changes)  # the registrations
    with pytest.raises(RegistryError, match=rf"change #{n + 2} is signed with .* retired before change #{n + 1}"):
        verify_access_changes(late, rotated.verify_keys)


async def test_the_watch_takes_no_new_change_signed_with_a_retired_broker_key(
    tmp_path: Path, registry: Registry, broker: BrokerKeys
) -> None:
    granted = _change(registry, broker, "grant", "dsl")  # signed before the rotation: still in force
    rotated = rotate_broker_signing_key(tmp_path / "broker-keys", now=NOW)
    path = tmp_path / "registry.json"
    save_registry(granted, path)
    refused = _Refusals()
    watch = RegistryWatch(path=path, current=granted, verify_keys=rotated.verify_keys, on_refused=refused)
    save_registry(_signed_by(granted, broker, "revoke"), path)  # a new change, with the retired key
    assert await watch.check() is False and refused.count == 1
    assert watch.current.revision == granted.revision
    save_registry(_signed_by(granted, rotated, "revoke"), path)
    assert await watch.check() is True


async def test_a_token_key_retired_in_the_running_registry_is_not_revived_by_a_reload(
    tmp_path: Path, registry: Registry, broker: BrokerKeys, caplog: pytest.LogCaptureFixture
) -> None:
    new = generate_agency_keys(tmp_path / CSC, agency_id=CSC, now=NOW)
    jwt_key, enc_key = public_parts(new, NOW)
    # Rotated with no grace: the old key may be compromised.
    unsigned = rotate_agency_keys(
        registry, agency_id=CSC, jwt_key=jwt_key, encryption_key=enc_key, now=NOW, grace=timedelta(0)
    )
    rotated = _registered(unsigned, CSC, broker, "rotate")
    verify_access_changes(rotated, broker.verify_keys)
    path = tmp_path / "registry.json"
    save_registry(rotated, path)
    refused = _Refusals()
    watch = RegistryWatch(path=path, current=rotated, verify_keys=broker.verify_keys, on_refused=refused)
    save_registry(registry, path)  # the file from before the rotation, copied back by mistake
    with caplog.at_level(logging.ERROR, logger="broker.registry"):
        assert await watch.check() is False
    assert "do not continue the" in caplog.text, "refused as going back"
    old_kid = registry.agencies[CSC].jwt_keys[0].kid
    old_key = watch.current.agencies[CSC].jwt_key(old_kid)
    assert old_key is not None
    assert not old_key.usable_at(NOW + timedelta(minutes=1))
    assert refused.count == 1


async def test_a_signed_change_that_brings_back_a_retired_token_key_is_refused_by_the_watch(
    tmp_path: Path, registry: Registry, broker: BrokerKeys, caplog: pytest.LogCaptureFixture
) -> None:
    """Signatures and a chain that continues are not enough: a retired key must stay retired."""
    new = generate_agency_keys(tmp_path / "csc-new", agency_id=CSC, now=NOW)
    jwt_key, enc_key = public_parts(new, NOW)
    unsigned = rotate_agency_keys(
        registry, agency_id=CSC, jwt_key=jwt_key, encryption_key=enc_key, now=NOW, grace=timedelta(0)
    )
    rotated = _registered(unsigned, CSC, broker, "rotate")
    revived = rotated.model_dump(mode="json")
    (retired,) = [k for k in revived["agencies"][CSC]["jwt_keys"] if k.get("not_after")]
    del retired["not_after"]
    candidate = _change(Registry.model_validate(revived), broker, "grant", "dsl")  # signed over the revival
    verify_access_changes(candidate, broker.verify_keys)
    path = tmp_path / "registry.json"
    save_registry(rotated, path)
    watch = RegistryWatch(path=path, current=rotated, verify_keys=broker.verify_keys, on_refused=_Refusals())
    save_registry(candidate, path)
    with caplog.at_level(logging.ERROR, logger="broker.registry"):
        assert await watch.check() is False
    assert "the file makes it usable again" in caplog.text
    assert watch.current.revision == rotated.revision


async def test_an_unreadable_registry_is_a_counted_refusal_and_the_running_one_stays(
    tmp_path: Path, registry: Registry, broker: BrokerKeys
) -> None:
    path = tmp_path / "registry.json"
    save_registry(registry, path)
    refused = _Refusals()
    watch = RegistryWatch(path=path, current=registry, verify_keys=broker.verify_keys, on_refused=refused)
    path.unlink()
    path.mkdir()  # replaced by something that is not a file: reading it fails with an OSError
    assert await watch.check() is False
    assert watch.current.revision == registry.revision
    assert refused.count == 1


# --- key files -------------------------------------------------------------------------------------


def test_init_broker_keys_never_overwrites_the_secrets_of_an_existing_key_set(tmp_path: Path) -> None:
    directory = tmp_path / "broker-keys"
    generate_broker_keys(directory, now=NOW)
    secrets = {name: (directory / name).read_bytes() for name in (LOG_SECRET_FILE, KAFKA_SECRET_FILE)}
    # signing.pem moved away (or the key kept in SGB_SIGNING_KEY): a new key set would give every
    # child a new pseudonym in the log and every record a new Kafka key.
    (directory / SIGNING_FILE).unlink()
    with pytest.raises(KeyFileError, match="exists"):
        generate_broker_keys(directory, now=NOW)
    assert {name: (directory / name).read_bytes() for name in secrets} == secrets


_SHORT_WRITE = """
import resource, signal, sys
from pathlib import Path
from broker.partnership.keys import write_public_file
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    write_public_file(Path(sys.argv[1]), b"x" * 10000)
except OSError as exc:
    print("refused", exc)
    sys.exit(3)
"""


def test_a_write_that_stops_short_never_replaces_the_file_or_leaves_a_temporary(tmp_path: Path) -> None:
    target = tmp_path / "registry.json"
    write_public_file(target, b'{"good": true}\n')
    # The file-size limit makes the write stop after 4096 bytes, as a full disk would.
    run = subprocess.run([sys.executable, "-c", _SHORT_WRITE, str(target)], capture_output=True, text=True, check=False)
    assert run.returncode == 3, run.stdout + run.stderr
    assert target.read_bytes() == b'{"good": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["registry.json"]


# --- Kafka principals ------------------------------------------------------------------------------


@pytest.mark.parametrize("agency_id", [kafka_access.RELAY_PRINCIPAL, "sgb-admin", "controller"])
def test_an_agency_cannot_take_a_principal_that_is_not_an_agencys(agency_id: str) -> None:
    with pytest.raises(kafka_access.KafkaAccessError, match="reserved"):
        kafka_access.agency_grants(agency_id)


@pytest.mark.parametrize("name", sorted(kafka_access.SUPER_USERS))
def test_apply_never_sets_a_super_users_password(tmp_path: Path, name: str) -> None:
    with pytest.raises(kafka_access.KafkaAccessError, match="reserved"):
        kafka_access.apply(kafka_libs=tmp_path, admin_properties="", users={name: "pw-7Qx"}, grants=[])


# --- settings --------------------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("SGB_"):
            monkeypatch.delenv(name)
    return monkeypatch


_PRODUCTION = {"environment": "production", "kafka_password": "a-real-one-7Qx"}


def test_a_kafka_protocol_without_sasl_is_refused(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("SGB_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    with pytest.raises(ValidationError, match="kafka_security_protocol"):
        BrokerSettings()


def test_a_kafka_ca_file_without_tls_is_refused(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="SASL_SSL"):
        BrokerSettings(kafka_ca_file=tmp_path / "ca.pem", kafka_password="a-real-one-7Qx")


def test_production_refuses_kafka_without_tls(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="SASL_SSL"):
        BrokerSettings(**_PRODUCTION, kafka_security_protocol="SASL_PLAINTEXT")  # type: ignore[arg-type]
    assert BrokerSettings(**_PRODUCTION, kafka_security_protocol="SASL_SSL").environment == "production"  # type: ignore[arg-type]


def test_production_refuses_a_session_cookie_sent_over_plain_http(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="SGB_UI_COOKIE_SECURE"):
        BrokerSettings(**_PRODUCTION, kafka_security_protocol="SASL_SSL", ui_cookie_secure=False)  # type: ignore[arg-type]


def test_the_broker_keys_named_on_the_command_line_sign_even_where_the_environment_has_others(
    tmp_path: Path, registry: Registry, broker: BrokerKeys
) -> None:
    """Before, SGB_SIGNING_KEY silently won over `--broker-keys`; omitted, the environment's key signs."""
    path = tmp_path / "registry.json"
    save_registry(registry, path)
    other = generate_broker_keys(tmp_path / "other-broker-keys", now=NOW)
    runner = CliRunner(env=broker_keys_environment(other))
    grant = ["grant", "--registry", str(path), "--agency", SCHOOL, "--role", "dsl", "--by", "ops-admin-01"]
    named = runner.invoke(app, [*grant, "--broker-keys", str(tmp_path / "broker-keys")])
    assert named.exit_code == 0, named.output
    assert load_registry(path).access_changes[-1].key_id == broker.signing_key_id
    # The same registry, signed by the environment's key: the grant is signed only on top of a chain it verifies.
    save_registry(_registered(registry.model_copy(update={"access_changes": ()}), SCHOOL, other), path)
    from_env = runner.invoke(app, grant)
    assert from_env.exit_code == 0, from_env.output
    assert load_registry(path).access_changes[-1].key_id == other.signing_key_id


_ROTATE_SHORT = """
import resource, signal, sys
from broker.partnership.cli import app
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
app(sys.argv[2:])
"""


def test_a_rotation_whose_registry_update_fails_leaves_the_agency_on_its_old_keys(
    tmp_path: Path, registry: Registry
) -> None:
    """The disk fills as the registry is written: before, the agency's new key was already current in
    its own directory, so its tokens named a key the gateway did not know and it was locked out."""
    path = tmp_path / "registry.json"
    save_registry(registry, path)
    keys_dir = tmp_path / SCHOOL
    manifest = (keys_dir / AGENCY_MANIFEST).read_bytes()
    # Key files and the manifest are smaller than the registry, which only grows: they are written.
    limit = len(path.read_bytes())
    args = ["rotate", "--registry", str(path), "--agency", SCHOOL, "--keys", str(keys_dir), "--by", "ops-admin-01"]
    args += ["--broker-keys", str(tmp_path / "broker-keys")]
    run = subprocess.run(
        [sys.executable, "-c", _ROTATE_SHORT, str(limit), *args], capture_output=True, text=True, check=False
    )
    assert run.returncode == 1, run.stdout + run.stderr  # the write failed (2 would be a usage error)
    assert "File too large" in run.stderr, run.stderr
    assert load_registry(path).revision == registry.revision, "the registry is as it was"
    assert (keys_dir / AGENCY_MANIFEST).read_bytes() == manifest, "the agency still signs with its old key"
    assert load_agency_keys(keys_dir).current_jwt_key.kid == registry.agencies[SCHOOL].jwt_keys[0].kid
