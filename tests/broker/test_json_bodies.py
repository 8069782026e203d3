"""A request body is JSON declared as JSON, read one way only, and a refusal names the field at fault.

Pinned defects: a body with no Content-Type (or any other) was decided as if it were JSON; an object
that gave a key twice was read as its last copy (another parser takes the first); the checks that
look at two fields at once named the notification, not the field; and a field's path began with the
union's tag in some refusals and not in others. On the real gateway (SQLite, the stack's OPA).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlmodel import Session, select

import audit
from broker.api.json_body import JsonRoute
from broker.app import API_ROUTERS
from broker.errors import InvalidNotification
from broker.sharing.parse import parse
from tests.broker.conftest import Gateway
from tests.broker.people import Person
from tests.factories import school_referral
from tests.policy.bases import patched

pytestmark = pytest.mark.stack
SCHOOL, CSC = "school-oakfield-primary", "csc-fenmere-mash"
JSON = {"Content-Type": "application/json"}


def _logged(gateway: Gateway) -> list[audit.Entry]:
    with Session(gateway.engine) as session:
        return list(session.exec(select(audit.Entry).where(audit.Entry.kind == "decision")))


async def _post_bytes(gateway: Gateway, body: bytes, headers: dict[str, str]) -> Any:
    auth = {"Authorization": f"Bearer {gateway.token(SCHOOL)}"}
    return await gateway.client.post("/v1/notifications", content=body, headers={**auth, **headers})


def _doubled(body: dict[str, Any], marker: str, key: str, value: Any) -> bytes:
    """The body's JSON with `"key": value` given again just before `marker` (a key of the same object)."""
    text = json.dumps(body)
    assert text.count(marker) == 1, marker
    return text.replace(marker, f'"{key}": {json.dumps(value)}, {marker}').encode()


async def test_a_key_given_twice_is_refused_naming_its_path_and_nothing_is_decided(gateway: Gateway) -> None:
    body = school_referral()
    police = body["recipients"][1]["agency_id"]
    # The second recipient names the police twice: Python would keep the second copy, another parser the first.
    doubled = _doubled(body, f'"agency_id": "{police}"', "agency_id", "csc-fenmere-mash")
    response = await _post_bytes(gateway, doubled, JSON)
    assert response.status_code == 422, response.text
    assert response.json()["errors"] == [
        {
            "loc": ["recipients", 1, "agency_id"],
            "msg": "a key is given twice in one object: give each key once",
            "type": "duplicate_key",
        }
    ]
    assert _logged(gateway) == []


def test_a_repeated_key_that_is_no_field_is_not_quoted_back() -> None:
    """Under a key the schema does not know (a typo, a name), the path stops at the last field it names."""
    body = school_referral()
    body["payload"]["Alpha Fictional-Person"] = {"note": 1}
    doubled = _doubled(body, '"note": 1', "note", 2)
    with pytest.raises(InvalidNotification) as refused:
        parse(doubled)
    assert refused.value.errors[0]["loc"] == ["payload"]
    assert "Alpha" not in json.dumps(refused.value.errors)


@pytest.mark.parametrize(
    ("headers", "said"),
    [
        ({}, "give the body's Content-Type: application/json"),
        ({"Content-Type": "text/plain"}, "the body must be JSON, declared as Content-Type: application/json"),
        ({"Content-Type": "application/x-www-form-urlencoded"}, "declared as Content-Type: application/json"),
        ({"Content-Type": "application/json; charset=latin-1"}, "JSON is UTF-8"),
    ],
)
async def test_a_body_not_declared_as_json_is_415_and_nothing_is_decided(
    gateway: Gateway, headers: dict[str, str], said: str
) -> None:
    response = await _post_bytes(gateway, json.dumps(school_referral()).encode(), headers)
    assert response.status_code == 415, response.text
    assert response.json()["error"] == "unsupported_media_type"
    assert said in response.json()["detail"]
    assert _logged(gateway) == []


async def test_json_declared_with_its_charset_is_taken(gateway: Gateway) -> None:
    body = json.dumps(school_referral()).encode()
    response = await _post_bytes(gateway, body, {"Content-Type": "Application/JSON; charset=UTF-8"})
    assert response.status_code == 202, response.text


async def test_a_typed_body_elsewhere_gets_the_same_checks(gateway: Gateway) -> None:
    """A withdrawal's body is read by FastAPI: before, it took any Content-Type and a key's last copy."""
    sender = Person(gateway, SCHOOL, "dsl", "dsl-oak-01")
    sent = await sender.send("share")
    url = f"/v1/notifications/{sent['notification_id']}/withdrawal"
    doubled = b'{"reason": "malicious", "reason": "sent_in_error"}'
    answer = await gateway.client.post(url, content=doubled, headers={**sender.headers(), **JSON})
    assert answer.status_code == 422, answer.text
    assert [e["loc"] for e in answer.json()["detail"]] == [["reason"]]
    plain = await gateway.client.post(
        url, content=b'{"reason": "sent_in_error"}', headers={**sender.headers(), "Content-Type": "text/plain"}
    )
    assert plain.status_code == 415, plain.text
    garbled = await gateway.client.post(url, content=b'{"reason": ', headers={**sender.headers(), **JSON})
    assert garbled.status_code == 422, garbled.text
    assert garbled.json()["detail"][0]["msg"] == "the body is not valid JSON"
    kept = await sender.api("POST", url, json={"reason": "sent_in_error"})
    assert kept.status_code == 200, kept.text


def test_every_api_route_with_a_body_reads_it_strictly() -> None:
    routes = [r for router in API_ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    assert any(r.body_field is not None for r in routes), "some route takes a typed body"
    assert [r.path for r in routes if not isinstance(r, JsonRoute)] == []


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        # The same agency and role twice: the second is at fault.
        (school_referral(recipients=[*school_referral()["recipients"], school_referral()["recipients"][0]]), None),
        (patched("advice", {"recipients": [{"agency_id": CSC, "role": "mash_intake", "need_to_know": None}]}), None),
        (patched("transition", {"payload": {"eighteenth_birthday": "2026-06-01"}}), ["payload", "late_reason"]),
        (patched("advice", {"payload": {"given_name": "Fictional"}}), ["payload", "given_name"]),
    ],
    ids=["repeated-recipient", "advice-to-no-adviser", "late-transition", "advice-naming-a-person"],
)
def test_a_check_of_two_fields_names_the_field_at_fault(body: dict[str, Any], loc: list[Any] | None) -> None:
    if loc is None:
        loc = (
            ["recipients", len(body["recipients"]) - 1]
            if body["message_type"] == "safeguarding_referral"
            else ["recipients", 0, "role"]
        )
    with pytest.raises(InvalidNotification) as refused:
        parse(json.dumps(body).encode())
    assert [e["loc"] for e in refused.value.errors] == [loc]


def test_a_field_has_one_path_whichever_check_refuses_it() -> None:
    """The schema's own refusals no longer start with the union's tag, as the sender checks never did."""
    body = school_referral()
    body["sender"]["agency_id"] = 7
    with pytest.raises(InvalidNotification) as refused:
        parse(json.dumps(body).encode())
    assert [e["loc"] for e in refused.value.errors] == [["sender", "agency_id"]]
