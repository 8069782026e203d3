"""Opening a record: verified, ours, decrypted and valid, or rejected with a reason code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from broker.partnership.keys import AgencyKeys, BrokerKeys, generate_broker_keys
from consumers.errors import RejectedMessage
from consumers.keys import load_agency_keyring, load_broker_public_keys
from consumers.opener import EnvelopeOpener
from consumers.validation import default_validator
from tests.consumers.conftest import NOW, fictional_payload, make_agency_keys, seal_for

AGENCY = "csc-fictional"


def test_opens_a_good_envelope(opener: EnvelopeOpener, agency_keys: AgencyKeys, broker_keys: BrokerKeys) -> None:
    envelope = seal_for(agency_keys, broker_keys, fictional_payload(1), delivery_id="dlv-1")
    delivery = opener(envelope.to_bytes())
    assert delivery.delivery_id == "dlv-1"
    assert delivery.notification_id == envelope.header.notification_id
    assert delivery.recipient_agency == AGENCY
    assert delivery.payload == fictional_payload(1)
    assert delivery.envelope_digest == envelope.digest()
    assert (delivery.schema_version, delivery.sealed_at) == ("1.0", "2026-01-05T09:00:00Z")


def test_opens_an_envelope_sealed_before_a_key_rotation(
    tmp_path: Path, agency_keys: AgencyKeys, broker_keys: BrokerKeys, broker_history: Path
) -> None:
    old = seal_for(agency_keys, broker_keys, fictional_payload(2))
    make_agency_keys(tmp_path / "agency", AGENCY)  # rotate
    keyring = load_agency_keyring(tmp_path / "agency", agency_id=AGENCY)
    opener = EnvelopeOpener(
        agency_id=AGENCY,
        broker_keys=load_broker_public_keys(broker_history),
        decryption_keys=keyring.decryption_keys,
        validate=default_validator(),
    )
    assert opener(old.to_bytes()).payload == fictional_payload(2)


def _tampered(envelope: Any) -> bytes:
    return bytes(envelope.model_copy(update={"sealed_at": "2020-01-01T00:00:00Z"}).to_bytes())


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda ctx: _tampered(ctx["good"]), "bad_signature"),
        (lambda ctx: ctx["other"].to_bytes(), "not_for_this_agency"),
        (lambda ctx: ctx["foreign_broker"].to_bytes(), "unknown_signing_key"),
        (lambda ctx: ctx["invalid"].to_bytes(), "schema_invalid"),
        (lambda ctx: b"not an envelope", "malformed"),
        (lambda ctx: b"", "malformed"),
    ],
    ids=["tampered", "other-agency", "unknown-broker-key", "schema-invalid", "garbage", "empty"],
)
def test_rejects_with_a_reason(
    tmp_path: Path,
    opener: EnvelopeOpener,
    agency_keys: AgencyKeys,
    broker_keys: BrokerKeys,
    make: Any,
    reason: str,
) -> None:
    other_agency = make_agency_keys(tmp_path / "other", "police-fictional")
    ctx = {
        "good": seal_for(agency_keys, broker_keys, fictional_payload(3)),
        "other": seal_for(other_agency, broker_keys, fictional_payload(4)),
        "foreign_broker": seal_for(agency_keys, generate_broker_keys(tmp_path / "b2", now=NOW), fictional_payload(5)),
        "invalid": seal_for(agency_keys, broker_keys, {"Name Of Test Child Alpha": "secret value"}),
    }
    with pytest.raises(RejectedMessage) as caught:
        opener(make(ctx))
    assert caught.value.reason == reason
    assert "secret value" not in str(caught.value) and "Test Child Alpha" not in str(caught.value)


def test_wrong_decryption_key_cannot_decrypt(
    tmp_path: Path, agency_keys: AgencyKeys, broker_keys: BrokerKeys, broker_history: Path
) -> None:
    envelope = seal_for(agency_keys, broker_keys, fictional_payload(6))
    impostor = make_agency_keys(tmp_path / "impostor", AGENCY).current_encryption_key.private_key
    opener = EnvelopeOpener(
        agency_id=AGENCY,
        broker_keys=load_broker_public_keys(broker_history),
        decryption_keys={envelope.header.recipient_key_id: impostor},
        validate=default_validator(),
    )
    with pytest.raises(RejectedMessage) as caught:
        opener(envelope.to_bytes())
    assert caught.value.reason == "cannot_decrypt"


def test_hook_errors_of_any_type_are_schema_invalid(
    tmp_path: Path, agency_keys: AgencyKeys, broker_keys: BrokerKeys, broker_history: Path
) -> None:
    def strict(message_type: str, schema_version: str, payload: Any) -> None:
        raise KeyError("concern_summary=Test Child Alpha")

    keyring = load_agency_keyring(tmp_path / "agency", agency_id=AGENCY)
    opener = EnvelopeOpener(
        agency_id=AGENCY,
        broker_keys=load_broker_public_keys(broker_history),
        decryption_keys=keyring.decryption_keys,
        validate=strict,
    )
    with pytest.raises(RejectedMessage) as caught:
        opener(seal_for(agency_keys, broker_keys, fictional_payload(7)).to_bytes())
    assert caught.value.reason == "schema_invalid"
    assert "Alpha" not in str(caught.value)
