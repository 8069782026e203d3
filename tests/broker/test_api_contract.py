"""The agency-facing contract as an integrating system sees it (review "apicontract", D1-D5).

Pinned defects: the routes with a typed body read the whole body, with no limit, before the token
was looked at (one unauthenticated 400 MB request held 1.4 GB); a correction's Idempotency-Key was
not tied to the notification it corrects, and the receiving front door could correct what another
agency sent; wrong JSON types were coerced (`true` became a child aged 1); and the OpenAPI declared
answers never given and left out ones given. On the real gateway (SQLite, the stack's OPA and Kafka).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlmodel import Session, col, select

import audit
from broker.app import API_ROUTERS
from tests.broker.conftest import Gateway
from tests.broker.people import Person
from tests.factories import school_referral

pytestmark = pytest.mark.stack
CHUNK = 64 * 1024
SCHOOL, CSC = "school-oakfield-primary", "csc-fenmere-mash"


def _typed_body_routes() -> list[str]:
    routes = [r for router in API_ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    return [
        re.sub(r"\{[^}]+\}", "x", r.path) for r in routes if r.body_field is not None and "POST" in (r.methods or ())
    ]


class _Endless:
    """A JSON body streamed without a Content-Length, counting what the gateway took of it."""

    def __init__(self, size: int) -> None:
        self.size, self.sent = size, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"reason": "'
        while self.sent < self.size:
            self.sent += CHUNK
            yield b"a" * CHUNK
        yield b'"}'


@pytest.mark.parametrize("path", _typed_body_routes())
async def test_an_oversized_typed_body_is_413_having_read_no_more_than_the_limit(gateway: Gateway, path: str) -> None:
    limit = gateway.settings.max_body_bytes
    body = _Endless(100 * limit)
    # No token: the size is refused before anything else, and the body is never buffered whole.
    response = await gateway.client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "payload_too_large"
    assert body.sent <= limit + CHUNK


@pytest.mark.parametrize("path", _typed_body_routes())
async def test_a_declared_length_over_the_limit_is_413_before_reading(gateway: Gateway, path: str) -> None:
    body = b'{"reason": "' + b"a" * gateway.settings.max_body_bytes + b'"}'
    response = await gateway.client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413, response.text


def test_every_typed_body_route_declares_413(gateway: Gateway) -> None:
    paths = gateway.app.openapi()["paths"]
    for route in (r for router in API_ROUTERS for r in router.routes if isinstance(r, APIRoute)):
        if route.body_field is not None:
            assert "413" in paths[route.path]["post"]["responses"], route.path


def _entries(gateway: Gateway, notification_id: str) -> list[tuple[str, str | None]]:
    with Session(gateway.engine) as session:
        query = select(audit.Entry).where(col(audit.Entry.notification_id) == notification_id)
        return sorted((e.kind, e.actor_agency) for e in session.exec(query))


async def test_a_correction_key_reused_for_another_notification_is_a_conflict(gateway: Gateway) -> None:
    sender = Person(gateway, SCHOOL, "dsl", "dsl-oak-21")
    first, other = await sender.send("share"), await sender.send("share")
    corrected, key = sender.notification("share"), f"corr-{uuid.uuid4()}"

    async def correct(notification_id: str) -> httpx.Response:
        url = f"/v1/notifications/{notification_id}/correction"
        return await gateway.client.post(url, json=corrected, headers={**sender.headers(), "Idempotency-Key": key})

    done = await correct(first["notification_id"])
    assert done.status_code == 202, done.text
    # The same key and body on another notification's path: another request, not a retry of the first.
    reused = await correct(other["notification_id"])
    assert reused.status_code == 409, reused.text
    assert reused.json()["error"] == "idempotency_conflict"
    assert {kind for kind, _ in _entries(gateway, other["notification_id"])} == {"decided"}
    again = await correct(first["notification_id"])
    assert (again.status_code, again.content) == (200, done.content)


async def test_the_front_door_may_withdraw_what_it_received_but_not_correct_it(gateway: Gateway) -> None:
    sent = await gateway.post(school_referral())
    assert sent.status_code == 202, sent.text
    notification = sent.json()["notification_id"]
    front_door = Person(gateway, CSC, "dsl", "dsl-csc-21")
    own = front_door.notification("share")
    correction = await front_door.api("POST", f"/v1/notifications/{notification}/correction", json=own)
    assert correction.status_code == 403, correction.text
    # Nothing of the front door's was decided, and the school's referral stands, the school's to correct.
    assert _entries(gateway, own["notification_id"]) == []
    assert {kind for kind, _ in _entries(gateway, notification)} == {"decided"}
    school = Person(gateway, SCHOOL, "dsl", "dsl-oak-23")
    corrected = school.notification("share")
    done = await school.api("POST", f"/v1/notifications/{notification}/correction", json=corrected)
    assert done.status_code == 202, done.text
    assert {actor for kind, actor in _entries(gateway, notification) if kind == "corrected"} == {SCHOOL}


async def test_the_front_door_still_withdraws_what_it_received(gateway: Gateway) -> None:
    sent = await gateway.post(school_referral())
    assert sent.status_code == 202, sent.text
    notification = sent.json()["notification_id"]
    front_door = Person(gateway, CSC, "dsl", "dsl-csc-22")
    answer = await front_door.api("POST", f"/v1/notifications/{notification}/withdrawal", json={"reason": "malicious"})
    assert answer.status_code == 200, answer.text
    assert {actor for kind, actor in _entries(gateway, notification) if kind == "withdrawn"} == {CSC}
