"""Every refusal of an attempt is in the access log, and nothing else is: a withdrawal of another
agency's notification from the browser was refused and never logged, where the API's was; and a school
practitioner's sign-in landed on the form's refusal, logged as an attempt they never made (readers of
the demo, session 58). Over HTTP on the real gateway, its OPA and database."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

import audit
from tests.broker.conftest import Gateway, gateway, gateway_factory  # noqa: F401 - fixtures
from tests.broker.people import Person
from tests.ui.test_ui_refusal_links import _seq

pytestmark = pytest.mark.stack

OAKFIELD, GP, POLICE = "school-oakfield-primary", "gp-willow-lane", "police-fenmere"


def _refusals(served: Gateway) -> list[tuple[str | None, str]]:
    """(who, what) of each access refusal the log holds."""
    with Session(served.engine) as session:
        found = session.exec(
            select(audit.Entry)
            .where(col(audit.Entry.kind) == audit.EventKind.ACCESS_REFUSED)
            .order_by(col(audit.Entry.seq))
        ).all()
    return [(e.actor, str(e.reasons[0]["message"])) for e in found]


async def test_a_withdrawal_of_what_is_not_yours_is_refused_and_logged(gateway: Gateway) -> None:  # noqa: F811
    sender = Person(gateway, OAKFIELD, "dsl", "oak-logged-dsl")
    sent = await sender.send("share")
    seq = await _seq(sender, sent["notification_id"])
    prober = Person(gateway, GP, "dsl", "gp-logged-dsl")
    await prober.sign_in()
    try:
        where = f"/ui/notifications/{sent['notification_id']}/withdrawal"
        tried = await prober.page("POST", where, {"reason": "wrong_person", "confirm": "yes", "seq": seq})
        correcting = await prober.page("GET", f"/ui/notifications/{sent['notification_id']}/correction")
        # With a mistake in it, the form was shown back (422) to someone who may not withdraw it at all.
        mistaken = await prober.page("POST", where, {"reason": "wrong_person", "seq": seq})
        invented = await prober.page("GET", "/ui/decisions/999999")
    finally:
        await prober.close()
    assert invented.status_code == 404 and "exists" not in invented.text
    assert tried.status_code == 404 and "There is no such notification that you may withdraw." in tried.text
    assert correcting.status_code == 404 and "No such notification that you may correct." in correcting.text
    assert mistaken.status_code == 404 and 'name="confirm"' not in mistaken.text, mistaken.text[-1500:]
    tried_at = [(who, said.split(":", 1)[0]) for who, said in _refusals(gateway)]
    assert tried_at.count(("gp-logged-dsl", f"POST {where}")) == 2, tried_at
    # The IG lead reads what the prober was not told: the notification was real, the number was not.
    ig_lead = Person(gateway, GP, "ig_lead", "gp-logged-ig-lead")
    await ig_lead.sign_in()
    try:
        read = (await ig_lead.page("GET", "/ui/access")).text
    finally:
        await ig_lead.close()
    assert (
        read.count(
            f"No such notification that you may withdraw (it exists, beyond their reach); asked for POST {where}"
        )
        == 2
    )
    invented_logged = "No decision by that number that you may read (none exists); asked for GET /ui/decisions/999999"
    assert invented_logged in read, read[-3000:]
    with Session(gateway.engine) as session:
        kinds = session.exec(
            select(audit.Entry.kind).where(col(audit.Entry.notification_id) == sent["notification_id"])
        ).all()
    assert audit.EventKind.WITHDRAWN not in kinds, "nothing was withdrawn"


async def test_a_practitioner_lands_where_their_role_works(gateway: Gateway) -> None:  # noqa: F811
    landed = {}
    for agency in (OAKFIELD, POLICE):
        person = Person(gateway, agency, "practitioner", f"{agency}-landing")
        try:
            signed = await person.try_sign_in()
        finally:
            await person.close()
        assert signed.status_code == 303, signed.text
        landed[agency] = signed.headers["location"]
    # A school's staff go through their DSL (Keeping Children Safe in Education); a constable sends.
    assert landed == {OAKFIELD: "/ui/decisions", POLICE: "/ui/submit"}
    assert _refusals(gateway) == [], "signing in is no attempt to refuse"
