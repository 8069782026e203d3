"""A cosignature row squatting a witness's place, seen from the witness: POST /v1/log/cosignatures fails.

The insider INSERTs a line under the agency's witness name and key id that does not verify; the row is
append-only and one per checkpoint and key, so the agency's real cosignature can never be stored. The
gateway must not answer 201 with the insider's line as if it were the agency's: the witness keeps its
cosignature unposted and tries again, and the gateway's log says why.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

import audit
from consumers.errors import GatewayUnavailable
from consumers.gateway import GatewayClient
from consumers.keys import load_agency_keyring
from consumers.receipt import ReceiptSigner
from tests.broker.conftest import AUDIENCE
from tests.witness.conftest import CSC, LoneGateway, lone_gateway  # noqa: F401  (the fixture)

pytestmark = pytest.mark.stack


async def test_a_squatted_cosignature_is_not_stored_as_the_witnesses(lone_gateway: LoneGateway) -> None:  # noqa: F811
    note = await lone_gateway.checkpoint_after_a_referral()
    size = audit.Checkpoint.parse(note, verify_with=None).size
    keyring = load_agency_keyring(lone_gateway.gateway.partnership.agency_keys_dir(CSC), agency_id=CSC)
    assert keyring.witness_key is not None
    witness = audit.WitnessKey(keyring.witness_key.name, keyring.witness_key.private_key.public_key())
    bogus = audit.Cosignature(witness.name, witness.key_id, 1, bytes(64)).line
    with lone_gateway.gateway.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_checkpoint_cosignature (tree_size, witness_name, key_id, timestamp, line) "
                "VALUES (:size, :name, :key_id, 1, :line)"
            ),
            {"size": size, "name": witness.name, "key_id": witness.key_id.hex(), "line": bogus},
        )
    line = audit.cosign(note, witness.name, keyring.witness_key.private_key, datetime.now(UTC))
    signer = ReceiptSigner(agency_id=CSC, audience=AUDIENCE, key=keyring.jwt_key)
    client = GatewayClient(base_url=lone_gateway.url, token=signer.api_token)
    with pytest.raises(GatewayUnavailable) as refused:
        await client.cosign(size, line)
    assert refused.value.status is not None and refused.value.status >= 500, str(refused.value)
    assert refused.value.status == 503, "the log's store was written past the broker: not the witness's fault"
    alarm = lone_gateway.gateway.decision_log.integrity_alarm
    assert alarm is not None and CSC in alarm, "the gateway keeps the alarm, so its verification fails from now"
