"""Out-of-range numbers and odd dates are 422s (found by the schemathesis run: they were 500s or 200s)."""

from __future__ import annotations

import pytest

from tests.broker.conftest import Gateway

# Needs the running stack: the gateway fixture runs against the stack's Kafka and OPA.
pytestmark = pytest.mark.stack

HUGE = str(2**64)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/v1/decisions/{HUGE}"),
        ("GET", f"/v1/decisions?offset={HUGE}"),
        ("GET", f"/v1/overdue?offset={HUGE}"),
        ("GET", "/v1/decisions?since=12345"),
        ("GET", "/v1/overdue?until=-2.5e-10"),
        ("POST", f"/v1/urgent/{HUGE}"),
        ("GET", "/v1/decisions?until=0001-01-01T00:00:00%2B00:09"),
        ("GET", "/v1/overdue?since=9999-12-31T23:59:59-01:00"),
        # A time with no offset from UTC (an integrator's review: these were 500s).
        ("GET", "/v1/decisions?since=2026-12-06"),
        ("GET", "/v1/decisions?until=2026-12-06T00:00:00"),
        ("GET", "/v1/overdue?since=2026-12-06T00:00:00.5"),
        # A parameter given twice (found by schemathesis: the last value was silently taken).
        ("GET", "/v1/decisions?agency=k&agency=school-oakfield-primary"),
        ("GET", "/v1/overdue?limit=5&limit=6"),
    ],
)
async def test_out_of_range_is_422(gateway: Gateway, method: str, path: str) -> None:
    headers = {"Authorization": f"Bearer {gateway.token('csc-fenmere-mash', role='ig_lead')}"}
    response = await gateway.client.request(method, path, headers=headers, json={"reason": "checked"})
    assert response.status_code == 422, response.text


async def test_iso_dates_still_filter(gateway: Gateway) -> None:
    headers = {"Authorization": f"Bearer {gateway.token('csc-fenmere-mash', role='ig_lead')}"}
    response = await gateway.client.get("/v1/decisions?since=2026-01-01T00:00:00Z", headers=headers)
    assert response.status_code == 200, response.text


async def test_a_time_without_an_offset_is_refused_saying_what_to_give(gateway: Gateway) -> None:
    headers = {"Authorization": f"Bearer {gateway.token('csc-fenmere-mash', role='ig_lead')}"}
    response = await gateway.client.get("/v1/decisions?since=2026-12-06", headers=headers)
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", "since"]
    assert "offset from UTC, e.g. 2026-01-31T09:00:00Z" in error["msg"]


async def test_a_query_parameter_the_route_does_not_take_is_refused_by_name(gateway: Gateway) -> None:
    # A misspelt filter would otherwise answer with every decision, as if it had filtered.
    headers = {"Authorization": f"Bearer {gateway.token('csc-fenmere-mash', role='ig_lead')}"}
    response = await gateway.client.get("/v1/decisions?notification_id=x&agency=police-fenmere", headers=headers)
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert (error["loc"], error["type"]) == (["query", "notification_id"], "unknown_parameter")
    assert error["msg"].startswith("this route takes no such parameter; it takes: agency, consent_state, ended, limit,")
    headers = {"Authorization": f"Bearer {gateway.token('csc-fenmere-mash', role='ig_lead')}"}
    bare = await gateway.client.get("/v1/queues?x=1", headers=headers)
    assert bare.status_code == 422 and bare.json()["detail"][0]["msg"] == "this route takes none", bare.text
    headers = {"Authorization": f"Bearer {gateway.token('csc-fenmere-mash', role='ig_lead')}"}
    assert (await gateway.client.get("/v1/decisions?agency=police-fenmere", headers=headers)).status_code == 200
