"""A delivery receipt is signed like the agency system's API token, and must not work as one.

A receipt carries the agency's issuer, the broker's audience and the `agency_system` role, and the
receipt recorder never burns its id. Anyone who can read the receipts topic (the relay's principal,
a Kafka administrator, a copy of its disk) would otherwise hold the agency system's API rights for
the receipt's five minutes: read its decisions, send as it, withdraw its referrals.
"""

from __future__ import annotations

import pytest

from consumers.keys import load_agency_keyring
from consumers.receipt import ReceiptKind, ReceiptSigner
from tests.broker.conftest import AUDIENCE, Gateway

pytestmark = pytest.mark.stack

CSC = "csc-fenmere-mash"


def _signer(gateway: Gateway) -> ReceiptSigner:
    keyring = load_agency_keyring(gateway.partnership.agency_keys_dir(CSC), agency_id=CSC)
    return ReceiptSigner(agency_id=CSC, audience=AUDIENCE, key=keyring.jwt_key)


@pytest.mark.parametrize("kind", [ReceiptKind.DELIVERED, ReceiptKind.ACKNOWLEDGED])
async def test_a_receipt_is_refused_as_a_bearer_token(gateway: Gateway, kind: ReceiptKind) -> None:
    receipt = _signer(gateway).sign(kind=kind, delivery_id="dlv-fictional-1", notification_id="ntf-fictional-1")
    answer = await gateway.client.get("/v1/decisions", headers={"Authorization": f"Bearer {receipt}"})
    assert answer.status_code == 401, answer.text
    assert "delivery receipt" in answer.text


async def test_the_agency_systems_own_api_token_from_the_same_key_still_signs_in(gateway: Gateway) -> None:
    token = _signer(gateway).api_token()
    answer = await gateway.client.get("/v1/decisions", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
