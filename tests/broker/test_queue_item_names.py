"""`GET /v1/queues` names each held share's notification and the role it was sent as, as the queue page does.

An authoriser with several held shares tells them apart, and one notification's shares from another's, by
the notification's id (the reference its sender's answer gave) and the sender's role: the page groups and
names them so, and an API client reads the same. An advice request names neither, on the page or here: it
is answered without what identifies its case (GR3). Over HTTP on the real gateway and OPA; the people are
fictional.
"""

from __future__ import annotations

import pytest

from tests.broker.conftest import GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import HELD, POLICE, Person
from tests.factories import school_referral

pytestmark = pytest.mark.stack

SCHOOL, CSC = "school-oakfield-primary", "csc-fenmere-mash"


async def test_a_held_shares_queue_item_names_its_notification_and_the_senders_role(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    body = school_referral(lawful_basis=None)
    sent = await gateway.post(body)
    assert sent.status_code == 202, sent.text
    held = {r["agency_id"]: r for r in sent.json()["recipients"]}[CSC]
    assert held["outcome"] == "hold_for_authorisation", held
    advice = await gateway.post(school_referral(recipients=[POLICE], **HELD["needs_advice"]))
    assert advice.status_code == 202, advice.text

    manager = await Person(gateway, SCHOOL, "line_manager", "lm-items-01").api("GET", "/v1/queues")
    adviser = await Person(gateway, SCHOOL, "dsl", "dsl-items-01").api("GET", "/v1/queues")

    assert manager.status_code == 200, manager.text
    (item,) = [i for i in manager.json()["hold_for_authorisation"] if i["delivery_id"] == held["delivery_id"]]
    assert item["notification_id"] == body["notification_id"] == sent.json()["notification_id"], item
    assert item["sender_role"] == body["sender"]["role"] == "dsl", item
    assert adviser.status_code == 200, adviser.text
    (asked,) = adviser.json()["needs_advice"]
    assert asked["notification_id"] is None and asked["sender_role"] is None, asked
