"""A sign-in at a browser ends the session it held, accepted or refused: a refused sign-in left the
last person signed in for whoever pressed Sign in next (a shared ward or office computer), and an
accepted one left the last session valid on the server until it expired.

Over HTTP on the real gateway, as a browser posts.
"""

from __future__ import annotations

import httpx
import pytest

from tests.broker.conftest import GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.ui.test_ui_review_wording import _client, _sign_in

pytestmark = pytest.mark.stack

SCHOOL = "school-oakfield-primary"


async def _signed_in_as(client: httpx.AsyncClient) -> str | None:
    page = await client.get("/ui/decisions")
    return None if page.status_code != 200 else page.text


async def test_a_refused_sign_in_signs_the_last_person_out(gateway_factory: GatewayFactory) -> None:  # noqa: F811
    gateway = await gateway_factory()
    async with await _client(gateway) as browser:
        assert (await _sign_in(browser, gateway.token(SCHOOL, role="dsl", subject="dsl-first-01"))).status_code == 303
        assert await _signed_in_as(browser) is not None
        # The next person's role is one the partnership never granted the school: refused.
        refused = await _sign_in(browser, gateway.token(SCHOOL, role="ig_lead", subject="ig-next-01"))
        assert refused.status_code == 401, refused.text[-800:]
        assert await _signed_in_as(browser) is None, "the first person's session outlived a refused sign-in"


async def test_an_accepted_sign_in_ends_the_session_before_it(gateway_factory: GatewayFactory) -> None:  # noqa: F811
    gateway = await gateway_factory()
    async with await _client(gateway) as browser, await _client(gateway) as kept:
        assert (await _sign_in(browser, gateway.token(SCHOOL, role="dsl", subject="dsl-first-02"))).status_code == 303
        kept.cookies.update(browser.cookies)  # a copy of the first session's cookie, kept elsewhere
        assert await _signed_in_as(kept) is not None
        assert (await _sign_in(browser, gateway.token(SCHOOL, role="dsl", subject="dsl-next-02"))).status_code == 303
        assert await _signed_in_as(browser) is not None
        assert await _signed_in_as(kept) is None, "the first session still answers after the next sign-in"


async def test_a_refused_sign_in_link_signs_the_last_person_out(gateway_factory: GatewayFactory) -> None:  # noqa: F811
    # The link is how people arrive: refused on opening, its page looked signed out while the DSL's session
    # still answered (a reader of the demo, session 55).
    gateway = await gateway_factory()
    async with await _client(gateway) as browser:
        assert (await _sign_in(browser, gateway.token(SCHOOL, role="dsl", subject="dsl-first-03"))).status_code == 303
        link = await browser.get("/ui/signin", params={"token": gateway.token(SCHOOL, role="ig_lead", subject="x-03")})
        assert link.status_code == 401, link.text[-800:]
        assert await _signed_in_as(browser) is None, "the first person's session outlived a refused link"
