"""Every step of a reply's form says what the reply answers, by its decision's number and kind, and the
deadlines a reply from the reader's agency meets: only the first step had, and the rest named it by a
notification id (a MASH officer replying to a school's referral in the demo). A form posted naming a
notification the reader may not read says no more of it than the id they sent. On the real gateway and OPA."""

from __future__ import annotations

import html
import re

import pytest

from broker.ui.form_types import find, sendable
from broker.ui.forms import steps_for
from broker.ui.policy_pack import PolicyPack
from tests.broker.conftest import Gateway, gateway, gateway_factory  # noqa: F401 - fixtures
from tests.broker.people import Person
from tests.factories import school_referral
from tests.ui.form_walk import fill
from tests.ui.test_form_reply import _decision_for
from tests.ui.test_ui_review_fixes import _hidden

pytestmark = pytest.mark.stack

SCHOOL, CSC = "school-oakfield-primary", "csc-fenmere-mash"
TO_CSC = [{"agency_id": CSC, "role": "mash_intake", "need_to_know": "assess_and_decide"}]
DUTY = "decides the response within 1 working day and tells the referrer. Due "


def _notice(page: str) -> str:
    """The note at the head of the form, in words."""
    found = re.search(r'<div class="notice" role="note">(.*?)</div>', page, re.S)
    assert found is not None, page[-1500:]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())


async def test_every_step_of_a_reply_names_what_it_answers_and_its_deadlines(
    gateway: Gateway,  # noqa: F811
    opa_url: str,
) -> None:
    referral = school_referral(recipients=TO_CSC)
    assert (await gateway.post(referral)).status_code == 202
    seq = _decision_for(gateway, str(referral["notification_id"]), CSC)
    front_door = Person(gateway, CSC, "dsl", "csc-dsl-reply-steps-01")
    await front_door.sign_in()
    try:
        assert front_door.ui is not None and front_door.csrf
        page = await front_door.page("GET", f"/ui/notifications/{referral['notification_id']}/reply")
        answers = {**_hidden(page.text), "message_type": "referral_outcome"}
        agency = gateway.registry.agency(CSC)
        assert agency is not None
        types = sendable(await PolicyPack(opa_url, timeout=5).types(), gateway.registry, CSC)
        form = find(types, "referral_outcome")
        assert form is not None
        text, titles = page.text, []
        for index in range(4):  # the kind, the purpose, the recipients, consent: each page after it says it
            said = _notice(text)
            assert f"This replies to #{seq}: Safeguarding referral (M01)." in said, (index, said)
            assert DUTY in said and ": Referral outcome." in said, (index, said)
            assert f'href="/ui/decisions/{seq}"' in text
            assert "<h1>Reply to a safeguarding notification</h1>" in text
            # The kind is chosen on the first step: the steps after it do not ask for it again.
            assert ("Choose the kind its deadline names" in said) is (index == 0), (index, said)
            fill(steps_for(types, form, answers, agency.type)[index], answers, text)
            data = {**answers, "csrf_token": front_door.csrf, "step": str(index)}
            posted = await front_door.ui.post("/ui/submit", data=data)
            assert posted.status_code == 200, posted.text[-1500:]
            text = posted.text
            titles.append(re.search(r"<h2>Step (\d+) of", text).group(1))  # type: ignore[union-attr]
        assert titles == ["2", "3", "4", "5"], "each post moved the form on a step"
        said = _notice(text)
        assert f"This replies to #{seq}: Safeguarding referral (M01)." in said and DUTY in said, said
    finally:
        await front_door.close()


async def test_a_form_naming_a_notification_beyond_reach_says_only_its_id(gateway: Gateway) -> None:  # noqa: F811
    referral = school_referral(recipients=TO_CSC)
    assert (await gateway.post(referral)).status_code == 202
    referral_id = str(referral["notification_id"])
    police = Person(gateway, "police-fenmere", "dsl", "pol-dsl-reply-steps-02")
    await police.sign_in()
    try:
        assert police.ui is not None and police.csrf
        data = {"notification_id": "0b0e8a8e-1c7e-4b53-9d36-4b7f3a3f7a01", "in_reply_to": referral_id}
        posted = await police.ui.post("/ui/submit", data={**data, "csrf_token": police.csrf, "step": "0", "go": "stay"})
        assert posted.status_code == 200, posted.text[-1500:]
        said = _notice(posted.text)
        assert f"This replies to notification {referral_id}." in said, said
        assert "Due " not in said and "Safeguarding referral" not in said, said
        assert "/ui/decisions/" not in posted.text.split('role="note"', 1)[1].split("</div>", 1)[0]
    finally:
        await police.close()
