"""The access log narrowed to what an IG lead looks for, over HTTP on the real gateway: refused actions
apart from the registry's signed changes (many at set-up), and one agency's, in the page and the API."""

from __future__ import annotations

import html
import re

import pytest

from tests.broker.conftest import Gateway, gateway, gateway_factory  # noqa: F401 - fixtures
from tests.broker.people import Person

pytestmark = pytest.mark.stack

SCHOOL, CSC, GP = "school-oakfield-primary", "csc-fenmere-mash", "gp-willow-lane"


def _what(page: str) -> list[str]:
    """The What column of the log's rows."""
    rows = re.findall(r"<tr><td>#\d+</td>.*?</tr>", page, re.S)
    return [html.unescape(re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[2]) for row in rows]


async def test_the_access_log_shows_refusals_apart_from_registry_changes(gateway: Gateway) -> None:  # noqa: F811
    dsl, ig = Person(gateway, SCHOOL, "dsl", "dsl-access-01"), Person(gateway, CSC, "ig_lead", "ig-access-01")
    try:
        await dsl.sign_in()
        assert (await dsl.page("GET", "/ui/audit")).status_code == 403  # refused, and logged
        await ig.sign_in()  # the partnership's IG lead
        everything = _what((await ig.page("GET", "/ui/access")).text)
        refusals = (await ig.page("GET", "/ui/access?subject=access")).text
        changes = _what((await ig.page("GET", "/ui/access?subject=registry")).text)
        of_school = _what((await ig.page("GET", f"/ui/access?subject=access&agency={SCHOOL}")).text)
        of_gp = (await ig.page("GET", f"/ui/access?subject=access&agency={GP}")).text
    finally:
        await dsl.close()
        await ig.close()
    assert "access refused" in everything and "role granted" in everything, everything
    assert _what(refusals) == ["access refused"], "the one refusal, without the grants around it"
    assert '<option value="access" selected>Refused actions only</option>' in refusals, "the filter says what it shows"
    assert changes and "access refused" not in changes and "role granted" in changes, changes
    assert [w for w in everything if w != "access refused"] == changes[: len(everything) - 1], "the same changes"
    assert of_school == ["access refused"]
    assert _what(of_gp) == [] and "Nothing matches these filters." in of_gp


async def test_the_access_events_api_takes_the_same_filter(gateway: Gateway) -> None:  # noqa: F811
    dsl, ig = Person(gateway, SCHOOL, "dsl", "dsl-access-02"), Person(gateway, CSC, "ig_lead", "ig-access-02")
    assert (await dsl.api("GET", "/v1/access-events")).status_code == 403  # refused, and logged
    refused = (await ig.api("GET", "/v1/access-events", params={"subject": "access"})).json()
    assert refused and {e["subject"] for e in refused} == {"access"}, refused
    changes = (await ig.api("GET", "/v1/access-events", params={"subject": "registry"})).json()
    assert changes and {e["subject"] for e in changes} == {"registry"}, changes
    wrong = await ig.api("GET", "/v1/access-events", params={"subject": "grants"})
    assert wrong.status_code == 422 and "subject" in wrong.text, wrong.text
