"""A share the partnership's procedure holds for authorisation, as the line manager who answers it and the
sender who waits for it read it, over HTTP on the real gateway and OPA.

- the line manager's queue names each held share's notification (the reference its sender was given),
  the role it was sent as and when, and groups one notification's shares, one card per recipient; still
  no payload value, subject pseudonym or person;
- the sender's answer page, the decision's page and the queue's card say alike what would end the wait:
  who may release it here (the access table's authorisers, in the pages' words for them), and which of
  the procedure's authorisers, the finding lists them, that is.
"""

from __future__ import annotations

import html
import re
import uuid
from typing import Any

import pytest
from sqlmodel import Session, select

import audit
from broker.review.access import PRINCIPALS, TABLE, Action, Scope
from broker.ui.form_types import sendable
from broker.ui.policy_pack import PolicyPack
from broker.ui.words import ROLES, local_time
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import POLICE, Person
from tests.policy.bases import not_sought, patched
from tests.ui.form_walk import sign_in, walk
from tests.ui.test_ui_review_fixes import _hidden

pytestmark = pytest.mark.stack

CSC = "csc-fenmere-mash"
HEALTH_VISITING = {"agency_id": "health-visiting-fenmere", "role": "health_visitor", "need_to_know": "protect_child"}
NAMES = {
    "police-fenmere": "Fenmere Constabulary (fictional)",
    "health-visiting-fenmere": "Fenmere Health Visiting Service (fictional)",
}
# The procedure's authorisers for a strategy discussion without consent (policies/safeguarding/config/data.json).
PROCEDURE = "line manager, children's social care manager or senior manager"
_RESOLVES = re.compile(r"What would resolve it:</strong>(.+?)</p>", re.S)


def _strategy(*recipients: dict[str, str]) -> dict[str, Any]:
    """A strategy discussion request, consent not sought for a recorded reason: the procedure holds it for
    authorisation and nothing else holds it, so a line manager may release it."""
    body = patched(
        "strategy",
        {
            "consent": not_sought("risk_significant_harm"),
            "parental_position": {"parents_informed": True, "parent_withheld_permission": False},
            "authorisation": None,
        },
    )
    body["notification_id"] = str(uuid.uuid4())
    body["recipients"] = list(recipients)
    return body


async def _held(gateway: Gateway, body: dict[str, Any]) -> dict[str, Any]:
    answer = await gateway.post(body)
    assert answer.status_code == 202, answer.text
    assert {r["outcome"] for r in answer.json()["recipients"]} == {"hold_for_authorisation"}, answer.text
    return dict(answer.json())


def _text(page: str) -> str:
    """A page's words as read: tags dropped, spaces joined."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))).strip()


def _groups(page: str) -> dict[str, str]:
    """Each notification's section of the authorisation queue, by the notification it names."""
    held = page.split('id="h-answered"', 1)[0]
    found = {}
    for section in held.split('<section class="notification"')[1:]:
        named = re.search(r'<dt>Notification</dt><dd class="reference">([^<]+)</dd>', section)
        assert named is not None, section[:800]
        found[named.group(1)] = section.split(">", 1)[1]  # from the section's heading on
    return found


def _entries(gateway: Gateway, notification_id: str) -> list[audit.Entry]:
    with Session(gateway.engine) as session:
        found = select(audit.Entry).where(audit.Entry.notification_id == notification_id, audit.Entry.kind == "decided")
        return list(session.exec(found))


async def test_the_authorisation_queue_names_and_groups_each_notification_without_widening_what_it_shows(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    both = await _held(gateway, _strategy(POLICE, HEALTH_VISITING))
    alone = await _held(gateway, _strategy(POLICE))
    manager = Person(gateway, CSC, "line_manager", "lm-held-01")
    try:
        await manager.sign_in()
        queue = (await manager.page("GET", "/ui/queues")).text
        api = await manager.api("GET", "/v1/queues")
    finally:
        await manager.close()
    groups = _groups(queue)
    first, second = str(both["notification_id"]), str(alone["notification_id"])
    assert list(groups) == [first, second], "one section per notification, in the order they wait"
    for notification_id, recipients in (
        (first, ["police-fenmere", "health-visiting-fenmere"]),
        (second, ["police-fenmere"]),
    ):
        section, (entry, *_) = groups[notification_id], _entries(gateway, notification_id)
        read = _text(section)
        assert read.startswith(f"Strategy discussion request (M06), sent {local_time(entry.recorded_at)}"), read[:300]
        assert "Sent by Team manager, Fenmere Children's Social Care MASH (fictional)" in read, read[:600]
        held_for = "; ".join(NAMES[r] for r in recipients)
        if len(recipients) > 1:
            held_for += f" ({len(recipients)} recipients: a decision on each)"
        assert f"Held for {held_for} " in read, read[:600]
        # One card, and one form, per recipient, each inside its notification's section.
        cards = re.findall(r'<section class="card"[^>]*>\s*<h4[^>]*>([^<]+)</h4>', section)
        assert [html.unescape(c) for c in cards] == [
            f"Strategy discussion request (M06) to {NAMES[r]}" for r in recipients
        ]
        legends = [_text(x) for x in re.findall(r"<legend>(.*?)</legend>", section)]
        assert legends == [f"Your decision on the share to {NAMES[r]}" for r in recipients], legends
        # What identifies it is the notification's reference: never a subject pseudonym or the sender's person.
        for logged in _entries(gateway, notification_id):
            assert not [s for s in logged.subjects if s in queue], "no subject pseudonym on the card"
            assert logged.actor is None or logged.actor not in queue, "no person named"
    # The API's items name the same notification and the role it was sent as (tests/broker/test_queue_item_names.py).
    assert api.status_code == 200, api.text
    items = api.json()["hold_for_authorisation"]
    role = _entries(gateway, first)[0].sender_role
    assert sorted((i["notification_id"], i["sender_role"]) for i in items) == sorted(
        [(first, role), (first, role), (second, role)]
    ), items


async def _sent_page(gateway: Gateway, opa_url: str) -> str:
    """The Sent page of a strategy discussion request a CSC practitioner sends through the guided form."""
    token = gateway.token(CSC, role="practitioner", subject="sw-held-01")
    csrf = await sign_in(gateway.client, token)
    agency = gateway.registry.agency(CSC)
    assert agency is not None
    types = sendable(await PolicyPack(opa_url, timeout=5).types(), gateway.registry, CSC)
    form = next(t for t in types if t.message_type == "strategy_discussion_request")
    preview, _ = await walk(gateway.client, csrf, types, form, agency.type)
    sent = await gateway.client.post("/ui/submit/send", data={**_hidden(preview), "go": "send"})
    assert sent.status_code == 200, sent.text[-1500:]
    return sent.text


async def test_the_sender_the_decision_and_the_card_say_alike_who_may_release_a_held_share(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    sent = await _sent_page(gateway, opa_url)
    assert 'class="badge o-hold_for_authorisation"' in sent, _text(sent)[:2000]
    assert f"Waiting for authorisation by one of: {PROCEDURE}." in html.unescape(sent), "the procedure's finding"
    (told,) = {_text(x) for x in _RESOLVES.findall(sent)}
    # Who may release it here: the access table's authorisers the procedure names too, each in the words the
    # pages give the role (a named professional may release other held shares, not this one).
    authorisers = [ROLES[r] for r in PRINCIPALS if TABLE[r][Action.AUTHORISE] is not Scope.NONE]
    assert authorisers == ["line manager", "named professional"], authorisers
    assert told == (
        "A release from the authorisation queue by a line manager of the sender's agency, "
        f"other than the sender. The partnership's procedure (GR4) asks for authorisation by one of: {PROCEDURE}; "
        "of these, only a line manager can release it here."
    ), told
    seq = int(re.findall(r'href="/ui/decisions/(\d+)"', sent)[0])
    reader = Person(gateway, CSC, "caldicott_guardian", "cg-held-01")
    manager = Person(gateway, CSC, "line_manager", "lm-held-02")
    try:
        await reader.sign_in()
        await manager.sign_in()
        decision = (await reader.page("GET", f"/ui/decisions/{seq}")).text
        queue = (await manager.page("GET", "/ui/queues")).text
    finally:
        await reader.close()
        await manager.close()
    assert [_text(x) for x in _RESOLVES.findall(decision)] == [told], "the decision's page says it word for word"
    assert {_text(x) for x in _RESOLVES.findall(queue)} == {told}, "and so does the line manager's card"
