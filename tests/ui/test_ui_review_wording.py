"""Second UI review's small wording items, over HTTP on the real gateway: a sign-in refused says why in
words (and an already-used link says so before the click), the header names an office in words, the
audit charts name agencies as the tables under them do, and the replay page does not hand a Caldicott
Guardian an operator's setting."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx
import pytest

from broker.ui.plain import SIGNIN_REFUSALS, signin_refusal
from broker.ui.words import ROLES
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.factories import school_referral

pytestmark = pytest.mark.stack

SCHOOL, CSC = "school-oakfield-primary", "csc-fenmere-mash"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _main(page: str) -> str:
    return html.unescape(page.split('<main id="main">', 1)[1])


def _header(page: str) -> str:
    return html.unescape(page.split("<header", 1)[1].split("</header>", 1)[0])


async def _client(gateway: Gateway) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.app), base_url="https://gateway")


async def _sign_in(client: httpx.AsyncClient, token: str) -> httpx.Response:
    link = await client.get("/ui/signin", params={"token": token})
    found = _CSRF.search(link.text)
    assert found, link.text[:600]
    return await client.post("/ui/signin", data={"csrf_token": found.group(1), "token": token})


async def test_a_refused_sign_in_says_why_in_words(gateway_factory: GatewayFactory) -> None:  # noqa: F811
    gateway = await gateway_factory()
    token = gateway.token(SCHOOL, role="dsl", subject="dsl-test-01")
    async with await _client(gateway) as first, await _client(gateway) as later:
        assert (await _sign_in(first, token)).status_code == 303
        again = await later.get("/ui/signin", params={"token": token})  # the same link, opened again
        garbled = await _sign_in(later, token[:40])
        not_granted = await later.get(
            "/ui/signin", params={"token": gateway.token(SCHOOL, role="ig_lead", subject="x-01")}
        )
        lasting = gateway.token(SCHOOL, role="dsl", subject="dsl-test-02", ttl=timedelta(minutes=20))
        too_long = await later.get("/ui/signin", params={"token": lasting})
    used = _main(again.text)
    assert again.status_code == 401 and "already been used" in used, used[:800]
    assert "This link signs you in" not in used, "offered a Sign in button that can only fail"
    assert "not a sign-in link or token your agency issued" in _main(garbled.text)
    refused = _main(not_granted.text)
    school = gateway.registry.agencies[SCHOOL].name
    assert f"has not granted the role {ROLES['ig_lead']} to {school}" in refused, refused[:800]
    # Made to last longer than the broker accepts: issued by the agency all the same, so not "not issued".
    # It names the broker's limit (the default, 600 s), for whoever issues the next link.
    limit = "made to last longer than the 10 minutes this broker accepts"
    assert limit in _main(too_long.text), _main(too_long.text)[:800]
    for page in (used, _main(garbled.text), refused, _main(too_long.text)):
        sentence = re.search(r'<div class="error" role="alert"[^>]*><p>(.*?)</p>', page, re.S)
        assert sentence and "_" not in sentence.group(1) and "(replayed)" not in sentence.group(1), page[:800]


async def test_the_header_audit_and_replay_pages_speak_to_an_office_holder(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    assert (await gateway.post(school_referral())).status_code == 202
    cg, ig = Person(gateway, CSC, "caldicott_guardian", "cg-test-01"), Person(gateway, CSC, "ig_lead", "ig-test-01")
    try:
        await ig.sign_in()
        audit = (await ig.page("GET", "/ui/audit")).text
        await cg.sign_in()
        replay = (await cg.page("GET", "/ui/replay")).text
    finally:
        await ig.close()
        await cg.close()
    header = _header(audit)
    assert f"{ROLES['ig_lead']} for the partnership" in header and "partnership ig lead" not in header, header
    (chart,) = re.findall(r'<svg[^>]*aria-label="Decisions by sending agency".*?</svg>', audit, re.S)
    labels = " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", chart))
    short = gateway.registry.agencies[SCHOOL].name.split(" (")[0]  # a long name is cut at a word, with "…"
    assert short in html.unescape(labels) and SCHOOL not in labels, labels
    assert "SGB_REPLAY_POLICIES" not in _main(replay) and "ask the broker's operator" in _main(replay)


async def test_a_list_filtered_by_a_date_that_is_not_valid_says_it_ignored_it(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    assert (await gateway.post(school_referral())).status_code == 202
    dsl = Person(gateway, SCHOOL, "dsl", "dsl-test-01")
    try:
        await dsl.sign_in()
        listed = _main((await dsl.page("GET", "/ui/decisions?since=2026-13-01")).text)
    finally:
        await dsl.close()
    assert "Use a date like 2026-01-31" in listed
    (status,) = re.findall(r'<p role="status">(.*?)</p>', listed)
    assert re.match(r"\d+ decisions? match, without the date that is not valid", status), status


def test_a_link_made_to_last_too_long_names_the_limit_in_the_units_it_was_set_in() -> None:
    said = {s: signin_refusal("lifetime_too_long", {}, limit=timedelta(seconds=s)) for s in (60, 90, 1800)}
    assert [w.split(" this broker")[0].split("than the ")[1] for w in said.values()] == [
        "1 minute",
        "90 seconds",
        "30 minutes",
    ]
    assert signin_refusal("lifetime_too_long", {}) == SIGNIN_REFUSALS["lifetime_too_long"], "no limit given: none named"
