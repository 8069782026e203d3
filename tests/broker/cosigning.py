"""Agencies' witnesses cosigning a real gateway's checkpoints, and an insider forging one, for tests."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlmodel import Session

import audit
from tests.broker.conftest import Gateway
from tests.factories import school_referral

AT = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)  # the witness's own time on its lines


async def signed_checkpoint(gateway: Gateway) -> audit.Checkpoint:
    """A referral decided, then a checkpoint signed that covers it."""
    assert (await gateway.post(school_referral())).status_code == 202
    await asyncio.to_thread(gateway.decision_log.refresh_checkpoint)
    note = gateway.decision_log.checkpoint_note
    assert note is not None
    return audit.Checkpoint.parse(note, verify_with=None)


def cosign(gateway: Gateway, checkpoint: audit.Checkpoint, agency: str) -> str:
    key = gateway.partnership.agency_keys(agency).current_witness_key
    assert key is not None, "provisioning gives every agency a witness key"
    return audit.cosign(checkpoint.note, key.name, key.private_key, AT)


async def post_cosignature(gateway: Gateway, checkpoint: audit.Checkpoint, agency: str) -> None:
    """What the agency's consumer does: post its cosignature, which the gateway verifies and keeps."""
    stored = await gateway.client.post(
        "/v1/log/cosignatures",
        json={"tree_size": checkpoint.size, "cosignature": cosign(gateway, checkpoint, agency)},
        headers={"Authorization": f"Bearer {gateway.token(agency)}"},
    )
    assert stored.status_code == 201, stored.text


def forge_cosignature(gateway: Gateway, checkpoint: audit.Checkpoint, agency: str) -> None:
    """An insider writes the agency's "cosignature" straight into the table: well formed, naming the
    agency's key, but made over another tree, so it does not verify over this checkpoint."""
    other = audit.Checkpoint.parse(checkpoint.note.replace(f"\n{checkpoint.size}\n", "\n999\n"), verify_with=None)
    forged = audit.Cosignature.parse(cosign(gateway, other, agency))
    with Session(gateway.engine) as db:
        db.add(
            audit.CosignatureRecord(
                tree_size=checkpoint.size,
                witness_name=forged.name,
                key_id=forged.key_id.hex(),
                timestamp=forged.timestamp,
                line=forged.line,
            )
        )
        db.commit()
