"""Review finding 1, end to end: a strategy discussion with a typed-in authorisation is held, not a 500.

The README's case: an `authorisation` block in the body, no `Authorisation-Token` header, no explicit
consent. The policy holds the share until the authoriser answers (GR4). Its finding used to be 537
characters, which the receipt refuses (500 at most), and the request failed with a 500. On a real
gateway deciding with an OPA of its own that serves this checkout's policies (the stack's OPA may
serve another copy), the stack's Kafka and a SQLite log.
"""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import Session, select

import audit
from tests.broker.conftest import Gateway, GatewayFactory
from tests.policy.bases import patched

pytestmark = pytest.mark.stack

TYPED_IN = {
    "authoriser_role": "line_manager",
    "authoriser_ref": "mash-manager-03",
    "authorised_at": "2026-11-30T09:00:00Z",
    "reason": "Fictional: discussing with the police before telling the parents protects the child.",
}


async def test_a_typed_in_authorisation_of_a_strategy_discussion_is_held(
    gateway_factory: GatewayFactory, private_opa: str
) -> None:
    gateway: Gateway = await gateway_factory(opa_url=private_opa)
    body = patched("strategy", {"notification_id": str(uuid.uuid4()), "consent": [], "authorisation": TYPED_IN})

    response = await gateway.post(body)

    assert response.status_code == 202, response.text
    (police,) = response.json()["recipients"]
    assert police["outcome"] == "hold_for_authorisation", police
    (held,) = [r for r in police["decided_by"] if "typed into the notification is not evidence" in r["message"]]
    assert held["rule"] == "GR4"
    assert "children's social care manager" in held["message"]
    assert all(1 <= len(r["message"]) <= 500 for r in police["reasons"])
    with Session(gateway.engine) as session:
        (decided,) = session.exec(select(audit.Entry).where(audit.Entry.kind == audit.EventKind.DECIDED))
    assert decided.outcome == "hold_for_authorisation"
    assert held["message"] in [r["message"] for r in decided.reasons]
