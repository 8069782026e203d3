"""The agency-facing contract as an integrating system sees it (review "apicontract", D1-D5).

Pinned defects: the routes with a typed body read the whole body, with no limit, before the token
was looked at (one unauthenticated 400 MB request held 1.4 GB); a correction's Idempotency-Key was
not tied to the notification it corrects, and the receiving front door could correct what another
agency sent; wrong JSON types were coerced (`true` became a child aged 1); and the OpenAPI declared
answers never given and left out ones given. On the real gateway (SQLite, the stack's OPA and Kafka).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlmodel import Session, col, select

import audit
from broker.app import API_ROUTERS
from broker.errors import InvalidNotification
from broker.review import access
from broker.sharing.parse import parse
from schemas.notifications import parse_notification
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


def _recalls(gateway: Gateway, notification_id: str) -> list[tuple[str, str | None]]:
    # The relay may log `published` meanwhile: what matters is that nothing was withdrawn or corrected.
    return [(kind, actor) for kind, actor in _entries(gateway, notification_id) if kind in ("withdrawn", "corrected")]


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
    assert _recalls(gateway, other["notification_id"]) == []
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
    assert _recalls(gateway, notification) == []
    school = Person(gateway, SCHOOL, "dsl", "dsl-oak-23")
    corrected = school.notification("share")
    done = await school.api("POST", f"/v1/notifications/{notification}/correction", json=corrected)
    assert done.status_code == 202, done.text
    assert {actor for kind, actor in _entries(gateway, notification) if kind == "corrected"} == {SCHOOL}
    # The correction's decision leads back to what it replaced, as the first's leads on to it.
    decisions = (await school.api("GET", "/v1/decisions")).json()["items"]
    (seq,) = [d["seq"] for d in decisions if d["notification_id"] == corrected["notification_id"]]
    detail = (await school.api("GET", f"/v1/decisions/{seq}")).json()
    assert detail["corrects"] == notification, detail
    (first,) = [d["seq"] for d in decisions if d["notification_id"] == notification][:1]
    assert (await school.api("GET", f"/v1/decisions/{first}")).json()["corrects"] is None


async def test_the_front_door_still_withdraws_what_it_received(gateway: Gateway) -> None:
    sent = await gateway.post(school_referral())
    assert sent.status_code == 202, sent.text
    notification = sent.json()["notification_id"]
    front_door = Person(gateway, CSC, "dsl", "dsl-csc-22")
    answer = await front_door.api("POST", f"/v1/notifications/{notification}/withdrawal", json={"reason": "malicious"})
    assert answer.status_code == 200, answer.text
    assert {actor for kind, actor in _entries(gateway, notification) if kind == "withdrawn"} == {CSC}


def _set(path: str, value: Any) -> dict[str, Any]:
    body = school_referral(restrictions={"onward_disclosure_prohibited": False})
    *parents, last = path.split(".")
    place: Any = body
    for step in parents:
        place = place[int(step)] if step.isdigit() else place[step]
    place[last] = value
    return body


WRONG_TYPES = [
    ("risk.immediate_significant_harm", "no"),
    ("risk.immediate_significant_harm", 0),
    ("risk.likely_significant_harm", "off"),
    ("sender.is_professional", "yes"),
    ("subjects.0.age_years", "9"),
    ("subjects.0.age_years", 9.0),
    ("subjects.0.age_years", True),
    ("created_at", 1700000000),
    ("payload.child.date_of_birth", 1489449600),
    ("parental_position.parents_informed", "t"),
    ("recipients.0.conveys_to_family", "false"),
    ("restrictions.onward_disclosure_prohibited", "1"),
    ("sender_in_doubt", "n"),
]


@pytest.mark.parametrize(("path", "value"), WRONG_TYPES, ids=[f"{p}={v!r}" for p, v in WRONG_TYPES])
def test_a_wrong_json_type_is_refused_naming_the_field(path: str, value: Any) -> None:
    """Before, each was coerced: `true` a child aged 1, `"no"` a risk flag, a number a timestamp."""
    with pytest.raises(InvalidNotification) as refused:
        parse(json.dumps(_set(path, value)).encode())
    loc = [int(step) if step.isdigit() else step for step in path.split(".")]
    assert [e["loc"] for e in refused.value.errors] == [loc]


def test_json_strings_still_read_as_the_dates_ids_and_codes_the_schema_publishes() -> None:
    body = school_referral()
    notification = parse(json.dumps(body).encode())
    assert str(notification.notification_id) == body["notification_id"]
    assert notification.created_at == datetime.fromisoformat(body["created_at"])
    assert notification.purpose is not None and notification.purpose.value == body["purpose"]
    # Code that builds a notification as Python data (the UI's form, tests) is read as before.
    assert parse_notification(body) == notification


async def test_a_wrongly_typed_body_is_422_and_nothing_is_decided(gateway: Gateway) -> None:
    body = _set("subjects.0.age_years", True)
    body["risk"]["immediate_significant_harm"] = "no"
    body["created_at"] = 1700000000
    response = await gateway.post(body)
    assert response.status_code == 422, response.text
    assert sorted(e["loc"] for e in response.json()["errors"]) == [
        ["created_at"],
        ["risk", "immediate_significant_harm"],
        ["subjects", 0, "age_years"],
    ]
    assert _entries(gateway, body["notification_id"]) == []


@pytest.mark.parametrize("path", _typed_body_routes())
async def test_a_body_that_is_no_json_is_the_declared_422_never_400(gateway: Gateway, path: str) -> None:
    response = await gateway.client.post(path, content=b'{"reason": ', headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["type"] == "json_invalid"
    assert not any("400" in op["responses"] for ops in gateway.app.openapi()["paths"].values() for op in ops.values())


KEYS = ["k", "k" * 200, "retry 1/é", "", "k" * 201, "tab\there", "nbsp\xa0", "soft\xadhyphen", "del\x7f"]


@pytest.mark.parametrize("key", KEYS, ids=[repr(k)[:24] for k in KEYS])
async def test_the_published_idempotency_key_rule_is_the_one_the_gateway_applies(gateway: Gateway, key: str) -> None:
    operation = gateway.app.openapi()["paths"]["/v1/notifications"]["post"]
    (schema,) = [p["schema"] for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    published = (
        schema["minLength"] <= len(key) <= schema["maxLength"] and re.fullmatch(schema["pattern"], key) is not None
    )
    # A header is Latin-1 on the wire (httpx would encode a str as ASCII).
    headers = {b"Authorization": f"Bearer {gateway.token(SCHOOL)}".encode(), b"Idempotency-Key": key.encode("latin-1")}
    response = await gateway.client.post("/v1/notifications", json=school_referral(), headers=headers)
    assert response.status_code == (202 if published else 422), response.text
    if not published:
        assert [e["loc"] for e in response.json()["errors"]] == [["header", "Idempotency-Key"]]


def _id_routes() -> list[tuple[str, str, str]]:
    """(method, path, parameter) of every route that looks a notification or delivery up by its id."""
    routes = [r for router in API_ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    return [
        (method, r.path, name)
        for r in routes
        for name in re.findall(r"\{(notification_id|delivery_id)\}", r.path)
        for method in sorted(r.methods or ())
    ]


@pytest.mark.parametrize(("method", "path", "name"), _id_routes())
async def test_an_id_in_another_spelling_is_422_naming_it_not_404(
    gateway: Gateway, method: str, path: str, name: str
) -> None:
    """Before, an upper-case id found nothing and was answered 404, as if no such notification existed."""
    sender = Person(gateway, SCHOOL, "dsl", "dsl-oak-24")
    sent = await sender.send("share")
    spelled = str(sent["notification_id"]).upper()
    # Someone the route admits (republishing is the agency system's), so the spelling is what is judged.
    allowed = next(
        r
        for r in ("dsl", "agency_system")
        if any(access.TABLE[r][a] != access.Scope.NONE for a in access.ROUTES[method, path])
    )
    caller = Person(gateway, SCHOOL, allowed, None if allowed == "agency_system" else "dsl-oak-24")
    response = await caller.api(method, path.replace("{" + name + "}", spelled), json={"reason": "spelling"})
    assert response.status_code == 422, response.text
    refused = [e for e in response.json()["detail"] if e["loc"] == ["path", name]]
    assert [e["type"] for e in refused] == ["uuid_not_canonical"], response.text
    parameters = gateway.app.openapi()["paths"][path][method.lower()]["parameters"]
    (published,) = [p["schema"]["pattern"] for p in parameters if p["name"] == name]
    assert re.fullmatch(published, spelled) is None and re.fullmatch(published, sent["notification_id"])


async def test_an_unknown_id_in_its_one_spelling_is_still_404(gateway: Gateway) -> None:
    sender = Person(gateway, SCHOOL, "dsl", "dsl-oak-25")
    response = await sender.api("GET", f"/v1/notifications/{uuid.uuid4()}")
    assert response.status_code == 404, response.text
