"""SQL and template injection strings in every text field, header and query parameter.

Each must be either accepted as plain data (202) or refused (4xx) — never a 5xx, never evaluated,
never echoed back — and afterwards the log still verifies and holds exactly the expected decisions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from sqlmodel import Session, select

import audit
from tests.broker.conftest import Gateway
from tests.factories import school_referral

pytestmark = pytest.mark.stack

SQL = [
    "' OR '1'='1",
    "'; DROP TABLE decision_log; --",
    '" OR ""="',
    "1; DELETE FROM outbox WHERE 1=1",
    "' UNION SELECT leaf_hash, chain_hash FROM decision_log --",
    "Robert'); DROP TABLE students;--",
]
TEMPLATE = [
    "{{7*7}}",
    "${7*7}",
    "{% for x in ().__class__.__base__.__subclasses__() %}{{x}}{% endfor %}",
    "<%= 7*7 %>",
    "#{7*7}",
    "{{config.items()}}",
    "<script>alert(1)</script>",
    "$(id)",
]
PAYLOADS = SQL + TEMPLATE
# Query parameters that reach the log's SQL filters.
QUERY_PARAMS = ("agency", "outcome", "message_type", "rule_id", "consent_state", "since", "until")


def text_fields(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from text_fields(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from text_fields(item, (*path, index))
    elif isinstance(value, str):
        yield path


def with_value(notification: dict[str, Any], path: tuple[Any, ...], value: str) -> dict[str, Any]:
    target: Any = notification
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return notification


async def test_injection_in_every_text_field_is_data_or_refused(gateway: Gateway) -> None:
    fields = [p for p in text_fields(school_referral()) if p[0] != "notification_id"]
    expected_entries, tried, accepted = 0, 0, 0
    sender = school_referral()["sender"]["agency_id"]
    for path in fields:
        for payload in PAYLOADS:
            notification = with_value(school_referral(), path, payload)
            response = await gateway.post(notification, agency_id=sender)
            tried += 1
            assert response.status_code in (202, 403, 422), (path, payload, response.status_code, response.text)
            assert payload not in response.text, f"{path} echoed back"
            if response.status_code == 202:
                accepted += 1
                expected_entries += len(response.json()["recipients"])
    with Session(gateway.engine) as session:
        entries = [e for e in session.exec(select(audit.Entry)) if e.kind == audit.EventKind.DECIDED]
        report = audit.verify_log(session)
    assert len(entries) == expected_entries
    assert report.size >= expected_entries
    assert tried == len(fields) * len(PAYLOADS) and accepted > 0
    print(
        f"injection: {tried} bodies over {len(fields)} text fields, {accepted} accepted as data, "
        f"{tried - accepted} refused; log verified ({report.size} entries)"
    )


async def test_injection_in_headers_paths_and_queries_is_refused_cleanly(gateway: Gateway) -> None:
    def auth() -> dict[str, str]:
        return {"Authorization": f"Bearer {gateway.token('csc-fenmere-mash', role='ig_lead')}"}

    tried = 0
    for payload in PAYLOADS:
        for name in QUERY_PARAMS:
            response = await gateway.client.get(f"/v1/decisions?{name}={quote(payload)}", headers=auth())
            tried += 1
            assert response.status_code == 422, (name, payload, response.text)
        for path in (f"/v1/notifications/{quote(payload, safe='')}", f"/v1/decisions/{quote(payload, safe='')}"):
            response = await gateway.client.get(path, headers=auth())
            tried += 1
            assert response.status_code in (404, 422), (path, response.text)
        response = await gateway.post(school_referral(), headers={"Idempotency-Key": payload})
        tried += 1
        assert response.status_code in (202, 409), response.text
        response = await gateway.client.post(
            "/v1/notifications", json=school_referral(), headers={"Authorization": f"Bearer {payload}"}
        )
        tried += 1
        assert response.status_code == 401 and payload not in response.text
    print(f"injection: {tried} header/path/query attempts refused or treated as data")
