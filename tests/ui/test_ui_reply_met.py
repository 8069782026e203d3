"""A deadline met by a reply names the reply (`met_by`, b0009), and the reply names what it met: on the
referral's decision (API and page) and on the reply's own decision (API and page). On the real gateway
and OPA; the page after sending a reply from the form is `tests/ui/test_form_reply.py`'s."""

from __future__ import annotations

import html
import re

import pytest
from sqlmodel import Session, col, select

import audit
from broker.ui import words as say
from broker.ui.words import local_time
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.broker.test_clock_gateway import acknowledged_referral, post_outcome
from tests.broker.test_clocks import _outcome_reply
from tests.factories import school_referral

pytestmark = pytest.mark.stack

SCHOOL, CSC = "school-oakfield-primary", "csc-fenmere-mash"


def _decision(gateway: Gateway, notification_id: str, recipient: str) -> int:
    with Session(gateway.engine) as session:
        (seq,) = session.exec(
            select(audit.Entry.seq).where(
                col(audit.Entry.notification_id) == notification_id,
                col(audit.Entry.recipient_agency) == recipient,
                col(audit.Entry.kind) == audit.EventKind.DECIDED,
            )
        ).all()
    return int(seq)


def _words(page: str) -> str:
    """A page's words, each tag a space (cells apart)."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _flat(page: str) -> str:
    """A page's words as read, a link within a sentence not set apart."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page)).split())


async def test_a_deadline_names_the_reply_that_met_it_and_the_reply_names_the_deadline(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    referral, _ = await acknowledged_referral(gateway)  # that deadline met by a receipt, by no reply
    reply = _outcome_reply(referral)
    answered = await post_outcome(gateway, reply, authorised=True)
    assert [r["outcome"] for r in answered.json()["recipients"]] == ["share"], answered.text
    referral_seq = _decision(gateway, str(referral["notification_id"]), CSC)
    reply_seq = _decision(gateway, str(reply["notification_id"]), SCHOOL)

    school = Person(gateway, SCHOOL, "dsl", "dsl-met-by-01")
    detail = (await school.api("GET", f"/v1/decisions/{referral_seq}")).json()
    met = [d for d in detail["deadlines"] if d["met_by"] is not None]
    assert [d["met_by"] for d in met] == [reply["notification_id"]], detail["deadlines"]
    assert [d["state"] for d in detail["deadlines"]] == ["met", "met"], "the receipt met the other"
    assert detail["deadlines_met"] == [], "the referral replies to nothing"
    replied = (await school.api("GET", f"/v1/decisions/{reply_seq}")).json()
    assert replied["deadlines_met"] == met, "the reply's decision lists the very clock it met"
    front_door = (await Person(gateway, CSC, "dsl", "csc-met-by-01").api("GET", f"/v1/decisions/{reply_seq}")).json()
    assert front_door["deadlines_met"] == met, "the replying side reads it too"

    await school.sign_in()
    try:
        referral_page = (await school.page("GET", f"/ui/decisions/{referral_seq}")).text
        reply_page = await school.page("GET", f"/ui/decisions/{reply_seq}")
    finally:
        await school.close()
    kind = say.message_type("referral_outcome")
    cell = _flat(referral_page)
    assert f"Met on {local_time(met[0]['since'])}, by reply #{reply_seq}: {kind}" in cell, cell[:900]
    assert f'reply <a href="/ui/decisions/{reply_seq}">#{reply_seq}</a>' in referral_page, "linked to the reply"
    section = _words(reply_page.text).split(" Deadlines this reply met ", 1)[1]
    lead = _flat(reply_page.text)
    duty = str(met[0]["description"]).split(" [")[0]
    school_name = "Oakfield Primary School (fictional)"
    assert f"Sharing this reply with {school_name} met this deadline of the notification it answers." in lead, lead
    assert f"{duty}. " in section and f"Met on {local_time(met[0]['since'])}" in section, section[:900]


async def test_a_held_replys_card_says_which_deadlines_its_release_would_meet(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    """An authoriser with several held shares sees what hangs on each (a reader of the demo could not tell
    a held referral outcome, due today, from any other held share)."""
    gateway = await gateway_factory()
    referral = school_referral()
    assert (await gateway.post(referral)).status_code == 202
    held = await post_outcome(gateway, _outcome_reply(referral), authorised=False)
    assert [r["outcome"] for r in held.json()["recipients"]] == ["hold_for_authorisation"], held.text
    # An outcome sent as a reply to nothing, held too: it answers no deadline, so nothing hangs on it.
    stray = await post_outcome(gateway, {**_outcome_reply(referral), "in_reply_to": None}, authorised=False)
    assert [r["outcome"] for r in stray.json()["recipients"]] == ["hold_for_authorisation"], stray.text
    manager = Person(gateway, CSC, "line_manager", "csc-lm-met-01")
    items = {i["delivery_id"]: i for i in (await manager.api("GET", "/v1/queues")).json()["hold_for_authorisation"]}
    item = items[held.json()["recipients"][0]["delivery_id"]]
    referral_seq = _decision(gateway, str(referral["notification_id"]), CSC)
    owed = (await Person(gateway, SCHOOL, "dsl", "dsl-met-by-02").api("GET", f"/v1/decisions/{referral_seq}")).json()
    assert item["meets_on_release"] == owed["deadlines"] and len(owed["deadlines"]) == 2, item
    assert items[stray.json()["recipients"][0]["delivery_id"]]["meets_on_release"] == [], "it answers nothing"
    # What it answers, by number where the reader may read it: the line manager reads only what they sent or
    # answered, so the kind alone; a named professional reads their agency's, so the number too.
    assert (item["replies_to_type"], item["replies_to_seq"]) == ("safeguarding_referral", None), item
    as_np = (await Person(gateway, CSC, "named_professional", "csc-np-met-01").api("GET", "/v1/queues")).json()
    (theirs,) = [i for i in as_np["hold_for_authorisation"] if i["delivery_id"] == item["delivery_id"]]
    assert (theirs["replies_to_type"], theirs["replies_to_seq"]) == ("safeguarding_referral", referral_seq), theirs
    await manager.sign_in()
    try:
        card = (await manager.page("GET", "/ui/queues")).text.split(f'id="q-{item["delivery_id"]}"', 1)[1]
    finally:
        await manager.close()
    said = _words(card.split("</section>", 1)[0])
    duty = str(item["meets_on_release"][0]["description"]).split(" [")[0]
    assert "Released, it meets these deadlines of the notification it answers:" in said, said[:900]
    assert f"Replies to {say.message_type('safeguarding_referral')} " in said, said[:1500]
    assert f"{duty}. " in said and f"Due {local_time(item['meets_on_release'][0]['due_at'])}" in said, said[:900]
