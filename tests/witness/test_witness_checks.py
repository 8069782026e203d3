"""An agency's witness against the real gateway's proofs: growth, older checkpoints, outages, and an insider.

The insider has the gateway's database and its broker key (the worst case the witnesses exist for):
they drop the triggers, rewrite or cut history, recompute every hash and have the gateway sign a fresh
checkpoint. The agency's kept checkpoint is what they cannot reach.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlmodel import Session

import audit
from audit.note import sign_note
from consumers.errors import INCONSISTENT, UnknownBrokerKey, WitnessAlarm
from consumers.gateway import GatewayClient
from consumers.keys import load_agency_keyring, load_broker_public_keys
from consumers.ledger import Ledger
from consumers.receipt import ReceiptSigner
from consumers.witness import CheckpointWitness
from tests.audit.tampering import drop_triggers, rewrite_entries, truncate
from tests.broker.conftest import AUDIENCE
from tests.witness.conftest import CSC, LoneGateway

pytestmark = pytest.mark.stack
ORIGIN = "sgb.decision-log"
SOURCE = {"topic": "test", "partition": 0, "offset": 0}


def _closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def _witness(
    lone: LoneGateway,
    ledger: Ledger,
    url: str | None = None,
    broker_keys: dict[str, Ed25519PublicKey] | None = None,
) -> CheckpointWitness:
    """CSC's witness as `consumers.service.build_witness` assembles it, against `url` (default: the
    gateway), trusting `broker_keys` (default: the broker's signing history)."""
    partnership = lone.gateway.partnership
    keyring = load_agency_keyring(partnership.agency_keys_dir(CSC), agency_id=CSC)
    assert keyring.witness_key is not None
    signer = ReceiptSigner(agency_id=CSC, audience=AUDIENCE, key=keyring.jwt_key)
    return CheckpointWitness(
        key=keyring.witness_key,
        broker_keys=broker_keys if broker_keys is not None else load_broker_public_keys(partnership.broker_keys_dir),
        origin=ORIGIN,
        ledger=ledger,
        post_retry_seconds=0,
        gateway=GatewayClient(base_url=url or lone.url, token=signer.api_token),
    )


def _stored(lone: LoneGateway, size: int) -> list[str]:
    with Session(lone.gateway.engine) as session:
        return [c.name for c in audit.cosignatures_for(session, size)]


def _size(note: str) -> int:
    return audit.Checkpoint.parse(note, verify_with=None).size


async def test_the_witness_follows_a_growing_log_and_ignores_older_checkpoints(
    lone_gateway: LoneGateway, ledger: Ledger
) -> None:
    first, second = await lone_gateway.checkpoint_after_a_referral(), await lone_gateway.checkpoint_after_a_referral()
    witness = _witness(lone_gateway, ledger)
    await witness.observe(first, source=SOURCE)  # nothing kept yet: trusted on first use
    assert witness.kept is not None and (witness.kept.tree_size, witness.kept.posted) == (_size(first), True)
    await witness.observe(second, source=SOURCE)  # proven to extend the first, by the gateway's proof
    assert witness.kept is not None and witness.kept.tree_size == _size(second) and witness.kept.posted
    await witness.observe(first, source=SOURCE)  # an older record's checkpoint: a prefix, nothing changes
    assert witness.kept.tree_size == _size(second)
    assert _stored(lone_gateway, _size(first)) == _stored(lone_gateway, _size(second)) == [CSC]
    # A restarted consumer starts from what it kept, cosignature and all.
    again = ledger.kept_checkpoint(ORIGIN)
    assert again is not None and again.note == second and again.posted
    assert (
        audit.verify_cosignature(
            second, again.cosignature, lone_gateway.gateway.registry.agencies[CSC].witness_keys[0].witness()
        ).name
        == CSC
    )


async def test_an_unreachable_gateway_neither_advances_nor_alarms(lone_gateway: LoneGateway, ledger: Ledger) -> None:
    first = await lone_gateway.checkpoint_after_a_referral()
    offline = _witness(lone_gateway, ledger, url=_closed_port())
    await offline.observe(first, source=SOURCE)
    assert offline.kept is not None and not offline.kept.posted  # kept, cosigned, not yet sent
    second = await lone_gateway.checkpoint_after_a_referral()
    await offline.observe(second, source=SOURCE)  # no proof to be had: keep what we have
    assert offline.kept.tree_size == _size(first)
    online = _witness(lone_gateway, ledger)
    await online.observe(second, source=SOURCE)
    assert online.kept is not None and online.kept.tree_size == _size(second) and online.kept.posted
    assert _stored(lone_gateway, _size(second)) == [CSC]


async def test_history_rewritten_after_the_agency_kept_a_checkpoint_is_caught(
    lone_gateway: LoneGateway, ledger: Ledger
) -> None:
    kept = await lone_gateway.checkpoint_after_a_referral()
    witness = _witness(lone_gateway, ledger)
    await witness.observe(kept, source=SOURCE)
    engine = lone_gateway.gateway.engine
    drop_triggers(engine)
    rewrite_entries(engine, {1: {"outcome": "no_share"}}, keep_checkpoints_upto=0)
    rewritten = await lone_gateway.insider_checkpoint_after_a_referral()  # signed with the broker's real key
    assert _size(rewritten) > _size(kept)
    with pytest.raises(WitnessAlarm) as alarm:
        await witness.observe(rewritten, source=SOURCE)
    # The gateway's proof is built from the rewritten leaves: it cannot reach the root the agency kept.
    assert alarm.value.reason == INCONSISTENT and "no proof" in str(alarm.value)
    assert alarm.value.evidence["kept_size"] == _size(kept) and alarm.value.evidence["new_size"] == _size(rewritten)
    kept_now = ledger.kept_checkpoint(ORIGIN)
    assert kept_now is not None and kept_now.note == kept


async def test_a_truncated_log_is_caught_because_the_kept_checkpoint_is_gone(
    lone_gateway: LoneGateway, ledger: Ledger
) -> None:
    await lone_gateway.checkpoint_after_a_referral()
    kept = await lone_gateway.checkpoint_after_a_referral()
    witness = _witness(lone_gateway, ledger)
    await witness.observe(kept, source=SOURCE)
    drop_triggers(lone_gateway.gateway.engine)
    truncate(lone_gateway.gateway.engine, keep=2)
    with Session(lone_gateway.gateway.engine) as session, session.begin():  # the insider holds the broker key
        shorter = audit.write_checkpoint(session, lone_gateway.gateway.decision_log.signer).note
    assert shorter is not None and _size(shorter) == 2
    with pytest.raises(WitnessAlarm, match="no longer holds the checkpoint") as alarm:
        await witness.observe(shorter, source=SOURCE)
    assert alarm.value.reason == INCONSISTENT


async def test_a_checkpoint_no_broker_key_this_agency_holds_signs_is_refused_as_configuration(
    lone_gateway: LoneGateway, ledger: Ledger
) -> None:
    """A key the agency lacks is a rotation not installed (exit status 2, the key named), not a fork (3);
    a forged signature under a key it holds stays an alarm (tests/consumers/test_unknown_broker_key_checkpoint.py)."""
    body = audit.Checkpoint.body(ORIGIN, 5, bytes(32), datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), bytes(32))
    with pytest.raises(UnknownBrokerKey) as refused:
        await _witness(lone_gateway, ledger).observe(
            sign_note(body, ORIGIN, Ed25519PrivateKey.generate()), source=SOURCE
        )
    assert not isinstance(refused.value, WitnessAlarm) and refused.value.key_id.startswith(f"{ORIGIN}+")
    assert ledger.kept_checkpoint(ORIGIN) is None
