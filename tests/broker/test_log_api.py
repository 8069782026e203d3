"""`GET /v1/log/proof` and `POST /v1/log/cosignatures` on the real gateway (OPA decides, SQLite logs).

A witness checks the proof with the broker's public key alone; the gateway keeps only cosignatures that
verify under the caller agency's registered witness key; `python -m audit verify` then counts them.
"""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlmodel import Session
from typer.testing import CliRunner

import audit
from audit.cli import EXIT_OK, PINNED_KEY_ENV
from audit.cli import app as audit_cli
from broker.partnership.cli import app as partnership_cli
from schemas.witness import ConsistencyAnswer, CosignatureStored
from tests.broker.conftest import Gateway
from tests.witness.conftest import post_accepted

pytestmark = pytest.mark.stack
CSC, POLICE = "csc-fenmere-mash", "police-fenmere"
runner = CliRunner()


async def _checkpoint_after_a_referral(gateway: Gateway) -> audit.Checkpoint:
    await post_accepted(gateway)
    await asyncio.to_thread(gateway.decision_log.refresh_checkpoint)
    note = gateway.decision_log.checkpoint_note
    assert note is not None
    return audit.Checkpoint.parse(note, verify_with=None)


def _auth(gateway: Gateway, agency: str = CSC, role: str = "agency_system", **claims: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {gateway.token(agency, role, **claims)}"}


def _cosignature(gateway: Gateway, checkpoint: audit.Checkpoint, agency: str = CSC) -> str:
    key = gateway.partnership.agency_keys(agency).current_witness_key
    assert key is not None, "provisioning gives every agency a witness key"
    return audit.cosign(checkpoint.note, key.name, key.private_key, datetime.now(UTC))


async def test_a_witness_checks_the_proof_with_the_broker_key_alone(gateway: Gateway) -> None:
    first = await _checkpoint_after_a_referral(gateway)
    second = await _checkpoint_after_a_referral(gateway)
    assert second.size > first.size
    response = await gateway.client.get(f"/v1/log/proof?from={first.size}&to={second.size}", headers=_auth(gateway))
    assert response.status_code == 200, response.text
    answer = ConsistencyAnswer.model_validate(response.json())
    assert answer.checkpoint == second.note
    proof = [base64.b64decode(h) for h in answer.proof]
    kept = audit.advance_witness(first, second.note, proof, gateway.keys.signing_key.public_key(), old_size=first.size)
    assert kept.size == second.size
    # The same proof cannot carry the witness to a tree the broker did not sign.
    with pytest.raises(audit.InconsistentCheckpoint):
        audit.advance_witness(
            first, second.note, proof[::-1] or [bytes(32)], gateway.keys.signing_key.public_key(), old_size=first.size
        )


async def test_proof_requests_that_cannot_be_answered(gateway: Gateway) -> None:
    checkpoint = await _checkpoint_after_a_referral(gateway)
    backwards = await gateway.client.get(f"/v1/log/proof?from={checkpoint.size}&to=1", headers=_auth(gateway))
    assert backwards.status_code == 422
    assert backwards.json()["detail"][0]["loc"] == ["query", "from"]
    missing = await gateway.client.get(f"/v1/log/proof?from=0&to={checkpoint.size + 1000}", headers=_auth(gateway))
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    anonymous = await gateway.client.get(f"/v1/log/proof?from=0&to={checkpoint.size}")
    assert anonymous.status_code == 401


async def test_the_gateway_keeps_a_registered_witness_cosignature_once(gateway: Gateway) -> None:
    checkpoint = await _checkpoint_after_a_referral(gateway)
    line = _cosignature(gateway, checkpoint)
    body = {"tree_size": checkpoint.size, "cosignature": line}
    first = await gateway.client.post("/v1/log/cosignatures", json=body, headers=_auth(gateway))
    assert first.status_code == 201, first.text
    stored = CosignatureStored.model_validate(first.json())
    assert (stored.tree_size, stored.witness) == (checkpoint.size, CSC)
    again = await gateway.client.post("/v1/log/cosignatures", json=body, headers=_auth(gateway))
    assert again.status_code == 201 and again.json() == first.json()
    with Session(gateway.engine) as session:
        assert [c.line for c in audit.cosignatures_for(session, checkpoint.size)] == [line]


async def test_cosignatures_that_are_not_the_callers_are_refused(gateway: Gateway) -> None:
    checkpoint = await _checkpoint_after_a_referral(gateway)
    police_line = _cosignature(gateway, checkpoint, POLICE)
    post = gateway.client.post
    # Another agency's witness key, posted with this agency's token.
    other = await post(
        "/v1/log/cosignatures",
        json={"tree_size": checkpoint.size, "cosignature": police_line},
        headers=_auth(gateway, CSC),
    )
    assert other.status_code == 403
    # A person at the agency: witnessing is the agency system's.
    person = await post(
        "/v1/log/cosignatures",
        json={"tree_size": checkpoint.size, "cosignature": _cosignature(gateway, checkpoint)},
        headers=_auth(gateway, CSC, "dsl", subject="dsl-0001"),
    )
    assert person.status_code == 403
    # A genuine line, but for another tree size: it does not verify over that checkpoint.
    earlier = await _checkpoint_after_a_referral(gateway)
    wrong_tree = await post(
        "/v1/log/cosignatures",
        json={"tree_size": earlier.size, "cosignature": _cosignature(gateway, checkpoint)},
        headers=_auth(gateway),
    )
    assert wrong_tree.status_code == 422
    unknown = await post(
        "/v1/log/cosignatures",
        json={"tree_size": earlier.size + 1000, "cosignature": _cosignature(gateway, earlier)},
        headers=_auth(gateway),
    )
    assert unknown.status_code == 404
    with Session(gateway.engine) as session:
        assert audit.cosignatures_for(session, checkpoint.size) == []


async def test_audit_verify_counts_the_stored_cosignatures(gateway: Gateway, tmp_path: Path) -> None:
    checkpoint = await _checkpoint_after_a_referral(gateway)
    for agency in (CSC, POLICE):
        response = await gateway.client.post(
            "/v1/log/cosignatures",
            json={"tree_size": checkpoint.size, "cosignature": _cosignature(gateway, checkpoint, agency)},
            headers=_auth(gateway, agency),
        )
        assert response.status_code == 201, response.text
    exported = runner.invoke(
        partnership_cli,
        ["witness-keys", "--registry", str(gateway.partnership.registry_file), "--out", str(tmp_path / "witnesses")],
    )
    assert exported.exit_code == 0, exported.output
    options = [arg for line in exported.output.split("\n") if line for arg in line.split(" ", 1)]
    broker_pem = tmp_path / "broker.pem"
    broker_pem.write_bytes(
        gateway.keys.signing_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    url = gateway.engine.url.render_as_string(hide_password=False)
    result = runner.invoke(
        audit_cli,
        ["verify", "--db", url, "--public-key", str(broker_pem), *options, "--min-witnesses", "2"],
        env={PINNED_KEY_ENV: None},
    )
    assert result.exit_code == EXIT_OK, result.output
