"""Correcting a notification from its decision's page: the sender's DSL opens the guided form started
from the first notification's kind, role and recipients, fills in the details again, and sending it
decides the correction afresh and withdraws the first from every agency, as
`POST /v1/notifications/{id}/correction` does. A second press sends nothing more; the front door,
which may withdraw what it received, is neither offered a correction nor allowed one. On the real
gateway and OPA."""

from __future__ import annotations

import html
import re

import pytest
from httpx import Response
from sqlmodel import Session, col, select

import audit
from broker.ui.form_types import find, sendable
from broker.ui.forms import NEED_TO_KNOW
from broker.ui.policy_pack import PolicyPack
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.broker.test_case_review import CSC, _refer
from tests.factories import school_referral
from tests.ui.form_walk import walk

pytestmark = pytest.mark.stack

SCHOOL = "school-oakfield-primary"


def _words(response: Response | str) -> str:
    text = response if isinstance(response, str) else response.text
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)))


def _entries(gateway: Gateway, notification_id: str, kind: audit.EventKind) -> list[audit.Entry]:
    with Session(gateway.engine) as session:
        query = select(audit.Entry).where(
            col(audit.Entry.notification_id) == notification_id, col(audit.Entry.kind) == kind
        )
        return list(session.exec(query))


def _hidden(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))


async def test_the_sender_corrects_a_referral_from_its_decision_page(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory()
    sender = Person(gateway, SCHOOL, "dsl", "dsl-correct-01")
    first = await _refer(gateway, sender, "pupil-6101", None)
    (decided,) = _entries(gateway, first, audit.EventKind.DECIDED)
    start = f"/ui/notifications/{first}/correction"
    await sender.sign_in()
    try:
        shown = await sender.page("GET", f"/ui/decisions/{decided.seq}")
        assert "Correct this notification" in shown.text and f'href="{start}"' in shown.text, shown.text

        opened = await sender.page("GET", start)
        assert opened.status_code == 200, opened.text
        assert f"This corrects notification {first}" in _words(opened), _words(opened)
        assert f'href="/ui/notifications/{first}" target="_blank"' in opened.text, "read it, keeping the draft"
        carried = _hidden(opened.text)
        assert carried["corrects"] == first and carried["notification_id"] != first
        assert carried[f"to:{CSC}"] == "mash_intake", "the first one's recipient, addressed as the form offers it"
        assert 'value="safeguarding_referral" checked' in opened.text, "its kind is chosen"

        assert sender.ui is not None
        types = sendable(await PolicyPack(opa_url, timeout=5).types(), gateway.registry, SCHOOL)
        form = find(types, "safeguarding_referral")
        assert form is not None
        given = {k: v for k, v in carried.items() if k not in ("csrf_token", "step", "notification_id")}
        given[f"ntk:{CSC}"] = NEED_TO_KNOW[0][0]  # the log keeps no need to know: it is asked again
        # The first named the child by the school's reference: the correction names them again.
        named = {"subject_ref": "pupil-6101"}
        check, answers = await walk(sender.ui, sender.csrf, types, form, "school", given=given, on_details=named)
        assert f'action="{start}"' in check and "Send the correction" in check, _words(check)

        send = {**answers, **_hidden(check), "csrf_token": sender.csrf, "go": "send"}
        done = await sender.ui.post(start, data=send)
        assert done.status_code == 200, done.text
        said = _words(done)
        assert f"It corrects notification {first} , which is now withdrawn from every agency it reached" in said
        assert "sent a signed notice to delete what it received" in said, said

        replacement = answers["notification_id"]
        decided_once = _entries(gateway, replacement, audit.EventKind.DECIDED)
        assert decided_once and all(e.recipient_agency for e in decided_once)
        for e in decided_once:  # each recipient's row leads to that recipient's decision
            assert f'href="/ui/decisions/{e.seq}">Decision #{e.seq}</a>' in done.text, done.text
        again = await sender.ui.post(start, data=send)
        assert again.status_code == 200 and "Already sent" in again.text, again.text
        assert "which was already withdrawn; its decision page says when and by whom" in _words(again)

        # The first decision's page says it was corrected, and leads to the correction's decision.
        corrected_page = await sender.page("GET", f"/ui/decisions/{decided.seq}")
        link = f'href="/ui/notifications/{replacement}?recipient={decided.recipient_agency}"'
        assert link in corrected_page.text and "Read the correction's decision" in corrected_page.text
        followed = await sender.page("GET", f"/ui/notifications/{replacement}")
        first_of_replacement = min(e.seq for e in decided_once)
        assert (followed.status_code, followed.headers["location"]) == (303, f"/ui/decisions/{first_of_replacement}")
        # And the correction's decision leads back to the notification it replaced.
        replacing = await sender.page("GET", f"/ui/decisions/{first_of_replacement}")
        back = f'This notification corrects <a href="/ui/notifications/{first}?recipient='
        assert back in replacing.text, replacing.text[:3000]
        # It says "replaced", as the corrected notification's own page does, not "withdrawn" (a reader, session 61).
        assert ", which this one replaced: when it was sent, each agency" in replacing.text, replacing.text[:3000]
        assert "which was withdrawn from every agency" not in replacing.text
    finally:
        await sender.close()
    assert _entries(gateway, replacement, audit.EventKind.DECIDED) == decided_once, "nothing more decided"
    (corrected,) = _entries(gateway, first, audit.EventKind.CORRECTED)
    assert (corrected.actor, corrected.follows) == ("dsl-correct-01", [decided.seq])


async def test_the_front_door_may_withdraw_what_it_received_but_not_correct_it(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    first = await _refer(gateway, Person(gateway, SCHOOL, "dsl", "dsl-correct-02"), "pupil-6102", None)
    (decided,) = _entries(gateway, first, audit.EventKind.DECIDED)
    front_door = Person(gateway, CSC, "dsl", "csc-dsl-correct-01")
    await front_door.sign_in()
    try:
        shown = await front_door.page("GET", f"/ui/decisions/{decided.seq}")
        assert "Withdraw this notification" in shown.text and "Correct this notification" not in shown.text
        refused = await front_door.page("GET", f"/ui/notifications/{first}/correction")
        assert refused.status_code == 403, refused.text
        posted = await front_door.page("POST", f"/ui/notifications/{first}/correction", data={"go": "send"})
        assert posted.status_code in (403, 422), posted.text
        received = await front_door.page("GET", f"/ui/notifications/{first}")
        assert (received.status_code, received.headers.get("location")) == (303, f"/ui/decisions/{decided.seq}")
    finally:
        await front_door.close()
    assert not _entries(gateway, first, audit.EventKind.CORRECTED)
    outsider = Person(gateway, "police-fenmere", "dsl", "police-dsl-correct-01")  # neither sent nor received it
    await outsider.sign_in()
    try:
        unseen = await outsider.page("GET", f"/ui/notifications/{first}")
        assert unseen.status_code == 404, unseen.text
    finally:
        await outsider.close()


async def test_a_notifications_link_leads_to_the_named_recipients_decision(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    response = await gateway.post(school_referral())
    assert response.status_code == 202, response.text
    notification = response.json()["notification_id"]
    seqs = {e.recipient_agency: e.seq for e in _entries(gateway, notification, audit.EventKind.DECIDED)}
    assert len(seqs) > 1, "a notification with several recipients"
    outsider = next(a for a in sorted(gateway.registry.agencies) if a not in seqs)
    office = Person(gateway, CSC, "ig_lead", "ig-follow-01")  # the partnership's IG lead reads each
    await office.sign_in()
    try:
        led = {
            agency: (await office.page("GET", f"/ui/notifications/{notification}?recipient={agency}")).headers[
                "location"
            ]
            for agency in [*seqs, outsider]
        }
        plain = await office.page("GET", f"/ui/notifications/{notification}")
    finally:
        await office.close()
    assert {a: led[a] for a in seqs} == {a: f"/ui/decisions/{seq}" for a, seq in seqs.items()}
    first = f"/ui/decisions/{min(seqs.values())}"
    assert led[outsider] == first == plain.headers["location"], "no decision of theirs: the first"
