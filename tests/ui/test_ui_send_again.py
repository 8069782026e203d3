"""A notification that reached nobody is offered to be sent again with what was missing: a housing
officer's concern, held because the officer was unsure of the lawful basis, could only be refused, and
the page offered "Correct this notification", which read as for a mistake, not for adding the basis its
adviser named. Its page now offers "Send it again, with what was missing", through the same correction
form; one that reached an agency is offered a correction as before. On the real gateway and OPA."""

from __future__ import annotations

import html

import pytest
from sqlmodel import Session, col, select

import audit
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.ui.test_form_reply import _decision_for
from tests.ui.test_ui_fields_fate import MASH, SCHOOL, _answer, _held

pytestmark = pytest.mark.stack

AGAIN = "Send it again, with what was missing"


def _notification_of(gateway: Gateway, delivery_id: str) -> str:
    with Session(gateway.engine) as session:
        query = select(audit.Entry.notification_id).where(col(audit.Entry.delivery_id) == delivery_id)
        return str(session.exec(query).first())


async def test_a_refused_share_is_offered_to_be_sent_again_and_a_shared_one_a_correction(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    refused = await _held(gateway, "pupil-again-1")
    await _answer(gateway, refused, "refuse")
    shared = await _held(gateway, "pupil-again-2")
    await _answer(gateway, shared, "release")
    first, second = (_notification_of(gateway, d["delivery_id"]) for d in (refused, shared))

    dsl = Person(gateway, SCHOOL, "dsl", "dsl-again-01")
    await dsl.sign_in()
    try:
        page = html.unescape((await dsl.page("GET", f"/ui/decisions/{_decision_for(gateway, first, MASH)}")).text)
        assert AGAIN in page and "This notification reached nobody: its answer refused it." in page, page[-3000:]
        assert "Correct this notification" not in page
        assert 'id="h-withdraw"' not in page, "nothing reached anyone, so there is nothing to withdraw"
        assert f'href="/ui/notifications/{first}/correction">Send it again</a>' in page
        assert (await dsl.page("GET", f"/ui/notifications/{first}/correction")).status_code == 200

        # Sent again, through the correction's own flow: decided afresh, though nothing was there to withdraw.
        again = dsl.notification("share")
        resent = await dsl.api("POST", f"/v1/notifications/{first}/correction", json=again)
        assert resent.status_code == 202, resent.text[:1500]

        released = html.unescape((await dsl.page("GET", f"/ui/decisions/{_decision_for(gateway, second, MASH)}")).text)
        assert AGAIN not in released and "Correct this notification" in released, "it reached the MASH"
        assert 'id="h-withdraw"' in released
    finally:
        await dsl.close()
