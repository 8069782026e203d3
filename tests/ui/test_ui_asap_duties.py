"""A duty the policy sets with no due time ("as soon as possible") starts no clock, and the recipient's page
said nothing of it: a MASH sent a probation officer's notice of an adult who poses a risk to children was
not told to assess it, though the sender's page said it would be. The decision's page lists it with the
deadlines while the share stands. On the real gateway, OPA and database; the people are fictional."""

from __future__ import annotations

import html
import uuid
from datetime import UTC, datetime

import pytest

from tests.broker.conftest import Gateway, gateway, gateway_factory  # noqa: F401 - fixtures
from tests.broker.people import Person
from tests.policy.bases import patched
from tests.ui.test_form_reply import _decision_for

pytestmark = pytest.mark.stack

MASH, PROBATION = "csc-fenmere-mash", "probation-fenmere"
DUTY = "Assess the information about the adult and act to protect the children in contact with them"


async def test_the_recipient_reads_a_duty_with_no_due_time_while_the_share_stands(gateway: Gateway) -> None:  # noqa: F811
    notice = patched("adult_risk", {"notification_id": str(uuid.uuid4()), "created_at": datetime.now(UTC).isoformat()})
    sent = await gateway.post(notice)
    assert sent.status_code == 202, sent.text
    (decided,) = sent.json()["recipients"]
    assert decided["outcome"] in ("share", "share_minimised"), decided
    assert any(o["due_at"] is None and DUTY in o["description"] for o in decided["obligations"]), decided
    seq = _decision_for(gateway, str(notice["notification_id"]), MASH)

    page = html.unescape(await Person(gateway, MASH, "dsl", "mash-dsl-asap").opened(f"/ui/decisions/{seq}"))
    deadlines = page.split('id="h-deadlines"', 1)[1].split("</table>", 1)[0]
    assert DUTY in deadlines and "As soon as possible" in deadlines, deadlines

    officer = Person(gateway, PROBATION, "dsl", "probation-dsl-asap")  # sent by its agency's system
    withdrawn = await officer.api(
        "POST", f"/v1/notifications/{notice['notification_id']}/withdrawal", json={"reason": "sent_in_error"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    after = html.unescape(await Person(gateway, MASH, "dsl", "mash-dsl-asap-2").opened(f"/ui/decisions/{seq}"))
    assert DUTY not in after, "withdrawn, it owes nothing"
