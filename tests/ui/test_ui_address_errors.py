"""A mistyped or edited /ui/ address gets a page for a person, not the API's field errors in JSON; the
API's own routes keep their JSON 422 (tests/broker/test_api_contract.py)."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture

pytestmark = pytest.mark.stack

SCHOOL = "school-oakfield-primary"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _sign_in(gateway: Gateway, client: httpx.AsyncClient) -> None:
    token = gateway.token(SCHOOL, role="dsl", subject="dsl-test-07")
    link = await client.get("/ui/signin", params={"token": token})
    found = _CSRF.search(link.text)
    assert found, link.text[:600]
    signed = await client.post("/ui/signin", data={"csrf_token": found.group(1), "token": token})
    assert signed.status_code == 303, signed.text[:600]


@pytest.mark.parametrize(
    ("address", "status", "title"),
    [
        ("/ui/decisions/abc", 404, "Not found"),
        ("/ui/queues?done=x", 400, "That page address is not valid"),
    ],
)
async def test_a_bad_ui_address_is_a_page(
    gateway_factory: GatewayFactory,  # noqa: F811
    address: str,
    status: int,
    title: str,
) -> None:
    gateway = await gateway_factory()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.app), base_url="https://gateway") as client:
        await _sign_in(gateway, client)
        answer = await client.get(address)
    assert answer.status_code == status, answer.text[:600]
    assert answer.headers["content-type"].startswith("text/html"), answer.headers["content-type"]
    body = html.unescape(answer.text)
    assert f"<h1>{title}</h1>" in body or title in body.split('<main id="main">', 1)[-1], body[:1200]
    assert "Check the address" in body and '"loc"' not in body, body[:1200]


@pytest.mark.parametrize(
    ("method", "address", "status", "title", "says"),
    [
        ("GET", "/ui/no-such-page", 404, "Not found", "There is no such page or route; check the address"),
        ("PUT", "/ui/decisions", 405, "Not allowed at this address", "This address does not take that kind of"),
    ],
)
async def test_an_address_with_no_page_is_a_page_too(
    gateway_factory: GatewayFactory,  # noqa: F811
    method: str,
    address: str,
    status: int,
    title: str,
    says: str,
) -> None:
    # The router's own refusals, before any route runs: not Starlette's `{"detail": "Not Found"}`.
    gateway = await gateway_factory()
    answer = await gateway.client.request(method, address)
    assert answer.status_code == status, answer.text[:600]
    assert answer.headers["content-type"].startswith("text/html"), answer.headers["content-type"]
    body = html.unescape(answer.text)
    assert '<html lang="en-GB">' in body and f"<title>{title}" in body, body[:600]
    assert f"<h1>{title}</h1>" in body and says in " ".join(body.split()), body[:1200]
    if status == 405:
        assert answer.headers["allow"] == "GET", answer.headers


@pytest.mark.parametrize(
    ("method", "address", "status", "code"),
    [("GET", "/v1/no-such-route", 404, "not_found"), ("DELETE", "/v1/decisions/1", 405, "method_not_allowed")],
)
async def test_the_api_refuses_an_unknown_route_in_its_own_shape(
    gateway_factory: GatewayFactory,  # noqa: F811
    method: str,
    address: str,
    status: int,
    code: str,
) -> None:
    gateway = await gateway_factory()
    answer = await gateway.client.request(method, address)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["error"] == code and answer.json()["detail"], answer.text
    if status == 405:
        assert answer.headers["allow"] == "GET", answer.headers
