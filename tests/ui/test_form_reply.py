"""Replying from a received notification's page: the guided form carries `in_reply_to`, so the reply
answers the deadline it is for (sent without it, the same message answered nothing). On the real
gateway and OPA."""

from __future__ import annotations

import html
import re

import pytest
from sqlmodel import Session, col, select

import audit
from broker.db.tables import HeldDelivery, OutboxRow
from broker.review import access
from broker.ui.form_types import find, sendable
from broker.ui.forms import NEED_TO_KNOW, steps_for
from broker.ui.policy_pack import PolicyPack
from tests.broker.conftest import Gateway, gateway, gateway_factory  # noqa: F401 - fixtures
from tests.broker.people import Person
from tests.factories import school_referral
from tests.ui.form_walk import fill, walk
from tests.ui.test_ui_review_fixes import _hidden

pytestmark = pytest.mark.stack

SCHOOL, CSC = "school-oakfield-primary", "csc-fenmere-mash"
TO_CSC = [{"agency_id": CSC, "role": "mash_intake", "need_to_know": "assess_and_decide"}]


def _decision_for(served: Gateway, notification_id: str, agency: str) -> int:
    with Session(served.engine) as session:
        (seq,) = session.exec(
            select(audit.Entry.seq).where(
                col(audit.Entry.notification_id) == notification_id,
                col(audit.Entry.kind) == audit.EventKind.DECIDED,
                col(audit.Entry.recipient_agency) == agency,
            )
        ).all()
    return int(seq)


def _replies_to(served: Gateway, notification_id: str) -> set[object]:
    with Session(served.engine) as session:
        rows = [*session.exec(select(OutboxRow).where(col(OutboxRow.notification_id) == notification_id))]
        held = [*session.exec(select(HeldDelivery).where(col(HeldDelivery.notification_id) == notification_id))]
    return {row.log_context.get("in_reply_to") for row in [*rows, *held]}


async def test_a_reply_that_meets_no_deadline_is_told_so(gateway: Gateway) -> None:  # noqa: F811
    police = {"agency_id": "police-fenmere", "role": "police_public_protection", "need_to_know": "investigate_crime"}
    referral = school_referral(recipients=[*TO_CSC, police])
    assert (await gateway.post(referral)).status_code == 202
    referral_id = str(referral["notification_id"])
    opened = await Person(gateway, "police-fenmere", "dsl", "pol-dsl-reply-01").opened(
        f"/ui/notifications/{referral_id}/reply"
    )
    said = " ".join(html.unescape(re.sub(r"<[^>]+>", "", opened)).split())
    assert "No deadline of it is waiting for a reply from your agency: whatever you send answers none." in said
    assert "Choose the kind its deadline names" not in said, "no deadline to name a kind"
    assert "Referral outcome." not in said.split("This replies to", 1)[1].split("Step 1", 1)[0]


async def test_the_front_door_replies_from_the_referrals_page(gateway: Gateway, opa_url: str) -> None:  # noqa: F811
    referral = school_referral(recipients=TO_CSC)
    assert (await gateway.post(referral)).status_code == 202
    referral_id = str(referral["notification_id"])
    seq = _decision_for(gateway, referral_id, CSC)
    front_door = Person(gateway, CSC, "dsl", "csc-dsl-reply-01")
    sender = Person(gateway, SCHOOL, "dsl", "dsl-reply-01")
    await front_door.sign_in()
    await sender.sign_in()
    try:
        shown = await front_door.page("GET", f"/ui/decisions/{seq}")
        start = f"/ui/notifications/{referral_id}/reply"
        assert "Reply to this notification" in shown.text and f'href="{start}"' in shown.text, shown.text
        opened = await front_door.page("GET", start)
        assert opened.status_code == 200 and f">#{seq}</a>: Safeguarding referral (M01)." in opened.text, opened.text
        # What the front door owes the school, and the kind of reply that meets each, in the form's words.
        owed = " ".join(html.unescape(re.sub(r"<[^>]+>", "", opened.text.split("This replies to", 1)[1])).split())
        assert "acknowledges the referral within 1 working day. Due " in owed
        assert ": Referral acknowledgement or Referral outcome." in owed, "the outcome acknowledges it too"
        assert "decides the response within 1 working day and tells the referrer. Due " in owed
        assert ": Referral outcome." in owed, owed
        chosen = re.findall(r'name="message_type" value="([^"]+)" checked', opened.text)
        assert chosen == [], "two kinds meet the front door's deadlines: neither is chosen for it"
        carried = _hidden(opened.text)
        assert carried["in_reply_to"] == referral_id
        # The sender is no recipient of its own referral: nothing to reply to from its page.
        assert "Reply to this notification" not in (await sender.page("GET", f"/ui/decisions/{seq}")).text

        registry = gateway.registry
        agency = registry.agency(CSC)
        assert agency is not None and front_door.ui is not None
        types = sendable(await PolicyPack(opa_url, timeout=5).types(), registry, CSC)
        form = find(types, "referral_outcome")
        assert form is not None
        given = {"in_reply_to": referral_id, f"to:{SCHOOL}": "dsl", f"ntk:{SCHOOL}": NEED_TO_KNOW[0][0]}
        check, answers = await walk(front_door.ui, front_door.csrf, types, form, agency.type, given=given)
        sent = await front_door.ui.post("/ui/submit/send", data={**answers, **_hidden(check), "go": "send"})
        assert sent.status_code == 200, sent.text[-2000:]
        # Held for the manager's sign-off: the page after sending says it has met no deadline yet, and why.
        met = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", sent.text.split('id="h-met"', 1)[1])).split())
        held = "None yet: a reply meets a deadline when it is shared with the agency waiting for it, so a held share"
        assert held in met and "Met on " not in met, met[:600]
        # And what its release would meet, by when: read alone, the date the held share is destroyed looked
        # like the deadline (a reader, session 61).
        assert "Released, it meets these deadlines of the notification it answers:" in met, met[:800]
        assert "acknowledges the referral within 1 working day. Due " in met, "the outcome acknowledges it too"
        assert "decides the response within 1 working day and tells the referrer. Due " in met, met[:800]
    finally:
        await front_door.close()
        await sender.close()
    assert _replies_to(gateway, answers["notification_id"]) == {referral_id}, "the reply says what it answers"


@pytest.mark.parametrize("role", ["ig_lead", "caldicott_guardian", "named_professional"])
async def test_a_reply_is_offered_only_to_whoever_may_send_one(gateway: Gateway, role: str) -> None:  # noqa: F811
    # A reader of the received referral who sends as none of the agency's roles was offered Reply, and
    # then refused by the form it opened (a LADO's DSL, whose agency sends as its LADO officers).
    referral = school_referral(recipients=TO_CSC)
    assert (await gateway.post(referral)).status_code == 202
    seq = _decision_for(gateway, str(referral["notification_id"]), CSC)
    reader = Person(gateway, CSC, role, f"csc-{role}-reply-02")
    await reader.sign_in()
    shown = await reader.page("GET", f"/ui/decisions/{seq}")
    assert shown.status_code == 200, shown.text[-800:]
    granted = gateway.registry.granted_roles(CSC)
    may_send = bool(access.sender_roles(role, granted, agency_type="csc_front_door"))
    assert ("Reply to this notification" in shown.text) is may_send, (role, may_send)
    if not may_send:
        opened = await reader.page("GET", f"/ui/notifications/{referral['notification_id']}/reply")
        assert opened.status_code == 403, opened.text[-800:]


async def test_a_reply_starts_addressed_to_the_agency_that_sent_what_it_answers(
    gateway: Gateway,  # noqa: F811
    opa_url: str,
) -> None:
    # A MASH reader replying to a GP's referral found every agency unticked, the GP among them (readers of the
    # demo, session 55): the sender is chosen until the recipients step is answered.
    referral = school_referral(recipients=TO_CSC)
    assert (await gateway.post(referral)).status_code == 202
    front_door = Person(gateway, CSC, "dsl", "csc-dsl-reply-03")
    await front_door.sign_in()
    try:
        assert front_door.ui is not None and front_door.csrf
        opened = await front_door.page("GET", f"/ui/notifications/{referral['notification_id']}/reply")
        answers = {**_hidden(opened.text), "message_type": "referral_outcome"}
        assert answers["reply_to_agency"] == SCHOOL, answers
        agency = gateway.registry.agency(CSC)
        assert agency is not None
        types = sendable(await PolicyPack(opa_url, timeout=5).types(), gateway.registry, CSC)
        form = find(types, "referral_outcome")
        assert form is not None
        page = opened.text
        for index in (0, 1):  # the kind, then the purpose: the recipients step comes next
            fill(steps_for(types, form, answers, agency.type)[index], answers, page)
            data = {**answers, "csrf_token": front_door.csrf, "step": str(index)}
            page = (await front_door.ui.post("/ui/submit", data=data)).text
            if index == 0:  # a required question with one answer offered has it chosen (the same reader)
                purpose = re.search(r'<select id="f-purpose".*?</select>', page, re.S)
                assert purpose is not None
                offered = re.findall(r'<option value="([a-z_]+)"', purpose.group(0))
                assert len(offered) == 1, offered
                assert re.findall(r'<option value="([a-z_]+)" selected>', purpose.group(0)) == offered
    finally:
        await front_door.close()
    boxes = dict(re.findall(r'<input type="checkbox" id="to-([^"]+)" name="to:[^"]+" value="[^"]*" ?(checked)?>', page))
    assert boxes.get(SCHOOL) == "checked", boxes
    assert [agency for agency, checked in boxes.items() if checked] == [SCHOOL], boxes
