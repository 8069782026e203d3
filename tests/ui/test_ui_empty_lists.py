"""The Decisions list before there is anything in it, as each reader meets it on a real gateway: what
is empty is said for what they may see (nothing sent or answered yet, nothing of their agency's yet),
not as filters that match nothing; and a person whose list holds only their own agency's sends is not
offered filters by the agency that sent them."""

from __future__ import annotations

import html
import re

import pytest

from tests.broker.conftest import Gateway, gateway, gateway_factory  # noqa: F401 - fixtures
from tests.broker.people import Person

pytestmark = pytest.mark.stack

SCHOOL, HV = "school-oakfield-primary", "health-visiting-fenmere"


def _empty_row(page: str) -> str:
    found = re.search(r'<tr><td colspan="9">(.*?)</td></tr>', page, re.S)
    assert found, page
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())


def _filters(page: str) -> list[str]:
    return re.findall(r'<select id="f-([a-z_]+)"', page)


async def test_an_empty_list_says_what_is_empty_for_its_reader(gateway: Gateway) -> None:  # noqa: F811
    practitioner = Person(gateway, HV, "practitioner", "prac-empty-01")
    dsl = Person(gateway, SCHOOL, "dsl", "dsl-empty-01")
    try:
        await practitioner.sign_in()
        await dsl.sign_in()
        own = (await practitioner.page("GET", "/ui/decisions")).text
        own_filtered = (await practitioner.page("GET", "/ui/decisions?outcome=no_share")).text
        own_cleared = (await practitioner.page("GET", "/ui/decisions?outcome=&message_type=")).text
        agency = (await dsl.page("GET", "/ui/decisions")).text
        await practitioner.send("share")
        sent = (await practitioner.page("GET", "/ui/decisions")).text
    finally:
        await practitioner.close()
        await dsl.close()
    assert _empty_row(own) == "You have not sent or answered a notification yet. Send a notification"
    assert '<a href="/ui/submit">Send a notification</a>' in own
    assert _empty_row(own_filtered) == "No decisions match these filters."
    assert _empty_row(own_cleared) == _empty_row(own), "filters set to Any filter nothing"
    assert _empty_row(agency) == "Your agency has not sent or received a notification yet."
    assert "/ui/decisions/" in sent and 'colspan="9"' not in sent, "the practitioner's own send is listed"
    # Everything a person sent or answered was sent by their agency: only the recipient narrows it.
    assert _filters(own) == ["recipient", "outcome", "type", "ended", "consent"]
    assert _filters(agency) == ["agency", "sender", "recipient", "outcome", "type", "ended", "consent"]
    assert "through your agency's system in your name) or answered." in own
