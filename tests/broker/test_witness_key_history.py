"""`python -m broker.partnership.cli witness-keys` after an agency rotated its keys, and the auditor's check.

A rotation gives the agency a new witness key; the checkpoint its consumer kept before was cosigned by
the old one. `witness-keys` writes every witness key the registry holds (the current one under the
name instructions already use, `<agency>.pem`, each earlier one as `<agency>.<kid>.pem`) and prints
one `--witness-key` per key, so `python -m audit verify --checkpoint` passes that kept checkpoint,
where the current key alone says it was not cosigned (exit 1, "tampered").
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Engine
from sqlmodel import Session
from typer.testing import CliRunner

import audit
from audit.cli import EXIT_FAILED, EXIT_OK, PINNED_KEY_ENV
from audit.cli import app as audit_cli
from broker.partnership.cli import app
from broker.partnership.keys import load_agency_keys, load_broker_keys
from transport.keyfiles import AgencyWitnessKey

POLICE, CSC = "police-brackenford", "csc-brackenford"
ORIGIN = "test.broker.invalid/decision-log"
runner = CliRunner()


class Partnership:
    """A registry and key directories made with the operator's commands, as the README gives them."""

    def __init__(self, root: Path) -> None:
        self.root, self.registry = root, root / "registry.json"
        self.signed = ("--by", "ops-admin-01", "--broker-keys", str(root / "broker-keys"))
        self.run("init-broker-keys", "--out", str(root / "broker-keys"))

    def run(self, *args: str) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result.stdout

    def witness_key(self, agency: str) -> AgencyWitnessKey:
        key = load_agency_keys(self.root / agency).current_witness_key
        assert key is not None, "generate-keys makes a witness key"
        return key

    def register(self, agency: str, agency_type: str) -> None:
        keys = str(self.root / agency)
        self.run("generate-keys", "--agency", agency, "--out", keys)
        first = () if self.registry.exists() else ("--partnership", "brackenford-lscp")
        named = ["--agency", agency, "--name", f"{agency} (fictional)", "--type", agency_type, "--keys", keys]
        self.run("register", "--registry", str(self.registry), *named, *first, *self.signed)

    def rotate(self, agency: str) -> None:
        keys = str(self.root / agency)
        self.run("rotate", "--registry", str(self.registry), "--agency", agency, "--keys", keys, *self.signed)


@pytest.fixture
def partnership(tmp_path: Path) -> Partnership:
    made = Partnership(tmp_path / "partnership")
    made.register(POLICE, "police")
    made.register(CSC, "csc_front_door")
    return made


def _pem(key: AgencyWitnessKey) -> bytes:
    return key.private_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def test_witness_keys_writes_the_old_and_the_new_key_after_a_rotation(partnership: Partnership, tmp_path: Path) -> None:
    old = partnership.witness_key(POLICE)
    partnership.rotate(POLICE)
    new = partnership.witness_key(POLICE)
    assert new.kid != old.kid, "a rotation gives the agency a new witness key"
    out = tmp_path / "witnesses"

    printed = partnership.run("witness-keys", "--registry", str(partnership.registry), "--out", str(out))

    files = {CSC: [out / f"{CSC}.pem"], POLICE: [out / f"{POLICE}.pem", out / f"{POLICE}.{old.kid}.pem"]}
    assert printed.splitlines() == [
        f"--witness-key {agency}={path}" for agency in (CSC, POLICE) for path in files[agency]
    ], "one option per key, the current one first, under the agency's name"
    assert sorted(out.iterdir()) == sorted(path for paths in files.values() for path in paths)
    assert files[POLICE][0].read_bytes() == _pem(new), "the current key keeps the name instructions use"
    assert files[POLICE][1].read_bytes() == _pem(old)
    assert files[CSC][0].read_bytes() == _pem(partnership.witness_key(CSC))
    for path in files[POLICE]:
        assert b"PRIVATE" not in path.read_bytes() and path.stat().st_mode & 0o777 == 0o644


@pytest.fixture
def log(tmp_path: Path) -> Iterator[Engine]:
    engine = audit.create_engine_for(f"sqlite:///{tmp_path / 'broker.db'}")
    audit.upgrade(engine)
    yield engine
    engine.dispose()


def _decided(engine: Engine, signer: audit.Signer, n: int) -> audit.Checkpoint:
    """Log a decision and sign a checkpoint covering it, as the gateway does."""
    ticks = count()
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC) + timedelta(minutes=n)
    draft = audit.EntryDraft(
        notification_id=f"ntf-{n:04d}",
        delivery_id=f"ntf-{n:04d}.{POLICE}",
        kind="decided",
        outcome="share",
        sender_agency=CSC,
        sender_role="dsl",
        recipient_agency=POLICE,
        message_type="SAFEGUARDING_REFERRAL",
    )
    with Session(engine) as session, session.begin():
        audit.append(session, [draft], clock=lambda: at + timedelta(seconds=next(ticks)))
        return audit.write_checkpoint(session, signer, clock=lambda: at + timedelta(seconds=next(ticks)))


def test_the_auditor_passes_a_checkpoint_the_agency_kept_before_its_rotation(
    partnership: Partnership, log: Engine, tmp_path: Path
) -> None:
    signer = audit.Signer(ORIGIN, load_broker_keys(partnership.root / "broker-keys", environ={}).signing_key)
    old = partnership.witness_key(POLICE)
    before = _decided(log, signer, 1)
    kept = tmp_path / "kept.checkpoint"  # what `consumers checkpoint --out` writes: the note, its cosignature
    kept.write_text(
        audit.with_cosignatures(before.note, [audit.cosign(before.note, POLICE, old.private_key, datetime.now(UTC))])
    )
    partnership.rotate(POLICE)
    after = _decided(log, signer, 2)
    new = partnership.witness_key(POLICE)
    with Session(log) as session, session.begin():  # the consumer goes on witnessing, with its new key
        line = audit.cosign(after.note, POLICE, new.private_key, datetime.now(UTC))
        audit.store_cosignature(session, after.size, line, audit.WitnessKey(POLICE, new.private_key.public_key()))

    broker = partnership.run(
        "broker-public-keys", "--dir", str(partnership.root / "broker-keys"), "--out", str(tmp_path / "pinned")
    )
    pinned = [word for line in broker.splitlines() if line.startswith("--public-key ") for word in line.split()]
    printed = partnership.run(
        "witness-keys", "--registry", str(partnership.registry), "--out", str(tmp_path / "witnesses")
    )
    witnesses = [word for line in printed.splitlines() if f" {POLICE}=" in line for word in line.split(" ", 1)]
    verify = ["verify", "--db", f"sqlite:///{tmp_path / 'broker.db'}", *pinned, "--checkpoint", str(kept)]

    passed = runner.invoke(audit_cli, [*verify, *witnesses], env={PINNED_KEY_ENV: None})
    assert passed.exit_code == EXIT_OK, passed.output
    assert (
        f"cosigned by {POLICE}\n" in passed.output and "extends every kept checkpoint given (size 1)" in passed.output
    )
    current_only = [*verify, "--witness-key", f"{POLICE}={tmp_path / 'witnesses' / f'{POLICE}.pem'}"]
    failed = runner.invoke(audit_cli, current_only, env={PINNED_KEY_ENV: None})
    assert failed.exit_code == EXIT_FAILED and "0 of 1 required" in failed.output, "the reviewer's finding"
