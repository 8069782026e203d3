"""A refusal page is no dead end: a 403 (the reader's role may not open the page) or a 404 (the item is
beyond their reach) never links back to the address that refused them, nor to a page that would refuse
them the same way; it offers a page of their own menu instead (their home, Decisions). A 422, the
reader's own form with a mistake, still leads back to the form. Through the UI as a browser asks, on
the real gateway and its OPA."""

from __future__ import annotations

import re

import pytest
from httpx import Response

from tests.broker.conftest import Gateway, gateway, gateway_factory  # noqa: F401 - fixtures
from tests.broker.people import Person

pytestmark = pytest.mark.stack

OAKFIELD, HOLLINS, HV = "school-oakfield-primary", "school-hollins-academy", "health-visiting-fenmere"
_HREF = re.compile(r'<a [^>]*href="([^"]+)"')


def _main(response: Response) -> str:
    """The page's own content, without the header and menu every page shares."""
    return response.text.split("<main", 1)[-1].split("</main>", 1)[0]


def _links(response: Response) -> list[str]:
    return _HREF.findall(_main(response))


async def _seq(sender: Person, notification_id: str) -> str:
    """The number of the decision about a notification, as the sender's decisions list says it."""
    items = (await sender.api("GET", "/v1/decisions")).json()["items"]
    (seq,) = [str(item["seq"]) for item in items if item["notification_id"] == notification_id]
    return seq


async def test_a_page_the_role_may_not_open_leads_elsewhere(gateway: Gateway) -> None:  # noqa: F811
    dsl = Person(gateway, OAKFIELD, "dsl", "oak-refused-dsl")
    guardian = Person(gateway, HV, "caldicott_guardian", "hv-refused-cg")  # reviews; never sends
    teacher = Person(gateway, OAKFIELD, "practitioner", "oak-refused-teacher")  # the school's DSL sends
    try:
        for person in (dsl, guardian, teacher):
            await person.sign_in()
        refused = {path: await dsl.page("GET", path) for path in ("/ui/access", "/ui/audit", "/ui/case-review")}
        refused["/ui/submit"] = await guardian.page("GET", "/ui/submit")
        told = await teacher.page("GET", "/ui/submit")
        home = await dsl.page("GET", "/ui/decisions")
    finally:
        for person in (dsl, guardian, teacher):
            await person.close()
    assert home.status_code == 200
    for path, answer in [*refused.items(), ("/ui/submit", told)]:
        assert answer.status_code == 403, (path, answer.text[:300])
        links = _links(answer)
        assert path not in links, f"the refusal of {path} links back to it: {links}"
        assert '<a href="/ui/decisions">Back to Decisions</a>' in answer.text, (path, links)


async def test_a_decision_beyond_reach_is_not_offered_back(gateway: Gateway) -> None:  # noqa: F811
    sender = Person(gateway, OAKFIELD, "dsl", "oak-reach-dsl")
    sent = await sender.send("share")
    seq = await _seq(sender, sent["notification_id"])
    elsewhere = Person(gateway, HOLLINS, "dsl", "hollins-reach-dsl")  # another school: not theirs to see
    try:
        await elsewhere.sign_in()
        opened = await elsewhere.page("GET", f"/ui/decisions/{seq}")
        withdrawn = await elsewhere.page(
            "POST",
            f"/ui/notifications/{sent['notification_id']}/withdrawal",
            {"reason": "sent_in_error", "confirm": "yes", "seq": seq},
        )
    finally:
        await elsewhere.close()
    for answer in (opened, withdrawn):
        assert answer.status_code == 404, answer.text[:300]
        links = _links(answer)
        assert f"/ui/decisions/{seq}" not in links, f"a 404 links to the decision that is a 404: {links}"
        assert '<a href="/ui/decisions">Back to Decisions</a>' in answer.text, links


async def test_a_mistake_in_a_form_still_leads_back_to_it(gateway: Gateway) -> None:  # noqa: F811
    sender = Person(gateway, OAKFIELD, "dsl", "oak-mistake-dsl")
    sent = await sender.send("share")
    ig = Person(gateway, "csc-fenmere-mash", "ig_lead", "csc-mistake-ig")  # the partnership's IG lead
    try:
        for person in (sender, ig):
            await person.sign_in()
        seq = await _seq(sender, sent["notification_id"])
        unconfirmed = await sender.page(
            "POST", f"/ui/notifications/{sent['notification_id']}/withdrawal", {"reason": "wrong_person", "seq": seq}
        )
        backwards = await ig.page("POST", "/ui/audit/export", {"since": "2026-12-31", "until": "2026-12-01"})
    finally:
        for person in (sender, ig):
            await person.close()
    assert unconfirmed.status_code == 422, unconfirmed.text[:300]
    assert f"/ui/decisions/{seq}" in _links(unconfirmed), "a withdrawal with a mistake goes back to its decision"
    assert backwards.status_code == 422, backwards.text[:300]
    assert '<a href="/ui/audit">Back to Audit</a>' in backwards.text
