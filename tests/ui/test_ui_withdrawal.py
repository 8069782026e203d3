"""Withdrawing a notification from its decision's page: the sender's DSL chooses a reason and confirms,
and the notification is recalled from every agency as `POST /v1/notifications/{id}/withdrawal` recalls
it. A mistake is named by its field and recalls nothing; a second withdrawal is told it was already
withdrawn; a reader without the `withdraw` grant is not offered the form and is refused it. On the real
gateway and OPA."""

from __future__ import annotations

import html
import re

import pytest
from httpx import Response
from sqlmodel import Session, col, select

import audit
from broker.ui.words import WITHDRAWAL_REASONS
from schemas.notice import WithdrawalReason
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.broker.test_case_review import CSC, _refer
from tests.factories import school_referral

pytestmark = pytest.mark.stack

SCHOOL = "school-oakfield-primary"


def _words(response: Response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text)))


def _entries(gateway: Gateway, notification_id: str, kind: audit.EventKind) -> list[audit.Entry]:
    with Session(gateway.engine) as session:
        query = select(audit.Entry).where(
            col(audit.Entry.notification_id) == notification_id, col(audit.Entry.kind) == kind
        )
        return list(session.exec(query))


def test_every_reason_but_a_corrections_is_offered_in_words() -> None:
    assert set(WITHDRAWAL_REASONS) == {r.value for r in WithdrawalReason} - {WithdrawalReason.SUPERSEDED.value}


async def test_the_sender_withdraws_a_notification_from_its_decision_page(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    sender = Person(gateway, SCHOOL, "dsl", "dsl-withdraw-01")
    sent = await sender.send("share")
    (decided,) = _entries(gateway, sent["notification_id"], audit.EventKind.DECIDED)
    url = f"/ui/notifications/{sent['notification_id']}/withdrawal"
    asked = {"reason": "wrong_person", "seq": str(decided.seq)}
    await sender.sign_in()
    try:
        shown = await sender.page("GET", f"/ui/decisions/{decided.seq}")
        assert "Withdraw this notification" in shown.text and f'action="{url}"' in shown.text, shown.text

        unconfirmed = await sender.page("POST", url, data=asked)
        assert unconfirmed.status_code == 422, unconfirmed.text
        said = _words(unconfirmed)
        assert (
            "Nothing was withdrawn." in said and "Confirmation: Confirm that each agency it is withdrawn from" in said
        )
        assert 'value="wrong_person" selected' in unconfirmed.text, "the choice is kept"
        unexplained = await sender.page("POST", url, data={**asked, "reason": "", "confirm": "yes"})
        assert unexplained.status_code == 422 and "Why it is withdrawn: Choose why" in _words(unexplained)
        assert sender.ui is not None
        forged = await sender.ui.post(url, data={**asked, "confirm": "yes", "csrf_token": "from-another-site"})
        assert forged.status_code == 403, forged.text  # a form posted from elsewhere
        assert not _entries(gateway, sent["notification_id"], audit.EventKind.WITHDRAWN), "nor does either recall"

        done = await sender.page("POST", url, data={**asked, "confirm": "yes"})
        assert (done.status_code, done.headers["location"]) == (303, f"/ui/decisions/{decided.seq}"), done.text
        after = await sender.page("GET", f"/ui/decisions/{decided.seq}")
        said = _words(after)
        assert "Now: withdrawn; the agency it reached was told to delete it" in said and "Withdrawn on" in said, said
        assert "Withdraw this notification" not in after.text

        again = await sender.page("POST", url, data={**asked, "confirm": "yes"})
        assert again.status_code == 409 and "It was already withdrawn" in _words(again)
    finally:
        await sender.close()
    (withdrawn,) = _entries(gateway, sent["notification_id"], audit.EventKind.WITHDRAWN)
    assert (withdrawn.actor, withdrawn.follows) == ("dsl-withdraw-01", [decided.seq])

    lead = Person(gateway, "police-fenmere", "ig_lead", "ig-withdraw-01")  # reads what it received; no withdrawal
    await lead.sign_in()
    try:
        second = await sender.send("share")
        (other,) = _entries(gateway, second["notification_id"], audit.EventKind.DECIDED)
        read = await lead.page("GET", f"/ui/decisions/{other.seq}")
        assert read.status_code == 200 and "Withdraw this notification" not in read.text
        refused = await lead.page(
            "POST",
            f"/ui/notifications/{second['notification_id']}/withdrawal",
            data={"reason": "sent_in_error", "confirm": "yes", "seq": str(other.seq)},
        )
        assert refused.status_code == 403, refused.text
    finally:
        await lead.close()
    assert not _entries(gateway, second["notification_id"], audit.EventKind.WITHDRAWN)


async def test_the_front_door_is_offered_the_withdrawal_of_a_referral_it_received(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    notification_id = await _refer(gateway, Person(gateway, SCHOOL, "dsl", "dsl-withdraw-02"), "pupil-5101", None)
    (decided,) = _entries(gateway, notification_id, audit.EventKind.DECIDED)
    front_door = Person(gateway, CSC, "dsl", "csc-dsl-withdraw-01")
    await front_door.sign_in()
    try:
        shown = await front_door.page("GET", f"/ui/decisions/{decided.seq}")
        assert "Withdraw this notification" in shown.text, "the front door may withdraw what it received"
        # From its own inbox: the page does not say every agency it was sent to loses it.
        said = _words(shown)
        assert "Withdraw it from your agency" in said and "keeps its own copy" in said, said
        assert "from every agency it was sent to" not in said, said
        done = await front_door.page(
            "POST",
            f"/ui/notifications/{notification_id}/withdrawal",
            data={"reason": "malicious", "confirm": "yes", "seq": str(decided.seq)},
        )
        assert done.status_code == 303, done.text
    finally:
        await front_door.close()
    (withdrawn,) = _entries(gateway, notification_id, audit.EventKind.WITHDRAWN)
    assert withdrawn.actor == "csc-dsl-withdraw-01"
    # Its sender reads that the recipient withdrew it, not as if it had itself (a reader, session 55).
    sender = Person(gateway, SCHOOL, "dsl", "dsl-withdraw-02")
    await sender.sign_in()
    try:
        said = _words(await sender.page("GET", f"/ui/decisions/{decided.seq}"))
    finally:
        await sender.close()
    assert "Now: withdrawn by the agency that received it, from its own inbox" in said, said


async def test_the_sender_may_withdraw_it_from_this_decisions_recipient_alone(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    sender = Person(gateway, SCHOOL, "dsl", "dsl-withdraw-03")
    # The sender's own body, to the MASH, the police and the GP as a school's referral goes.
    body = {**sender.notification("share"), "recipients": school_referral()["recipients"]}
    sent = await sender.api("POST", "/v1/notifications", json=body)
    assert sent.status_code == 202, sent.text
    notification_id = str(sent.json()["notification_id"])
    decided = _entries(gateway, notification_id, audit.EventKind.DECIDED)
    assert len(decided) > 1
    (to_csc,) = [e for e in decided if e.recipient_agency == CSC]
    front_door = Person(gateway, CSC, "dsl", "csc-dsl-withdraw-03")
    await sender.sign_in()
    await front_door.sign_in()
    try:
        shown = await sender.page("GET", f"/ui/decisions/{to_csc.seq}")
        said = _words(shown)
        assert "Withdraw it from Every agency it was sent to" in said, said
        assert f'name="only" value="{CSC}"' in shown.text, "this decision's recipient, offered alone"
        # The front door withdraws its own copy either way: it is not asked.
        assert 'name="only"' not in (await front_door.page("GET", f"/ui/decisions/{to_csc.seq}")).text
        url = f"/ui/notifications/{notification_id}/withdrawal"
        asked = {"reason": "sent_in_error", "confirm": "yes", "seq": str(to_csc.seq), "scope_of": CSC}
        # Neither is chosen for them: the wider cannot be undone for more agencies (a reader, session 55).
        assert 'name="only" value="every" checked' not in shown.text
        unchosen = await sender.page("POST", url, data=asked)
        assert unchosen.status_code == 422, unchosen.text
        assert "Withdraw it from: Choose whether it is withdrawn from every agency" in _words(unchosen)
        assert f'name="only" value="{CSC}"' in unchosen.text, "the choice is offered again"
        done = await sender.page("POST", url, data={**asked, "only": CSC})
        assert done.status_code == 303, done.text
    finally:
        await sender.close()
        await front_door.close()
    withdrawn = _entries(gateway, notification_id, audit.EventKind.WITHDRAWN)
    assert [e.recipient_agency for e in withdrawn] == [CSC], "the others keep theirs"
