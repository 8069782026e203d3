"""Every API route's real 2xx answer, on data that fills its lists, matches its documented model.

The fuzzer checks what random input reaches; this walks one notification's life through every
route (receipt, status, decisions, queues, answer, urgent review, overdue) and checks each answer
against the OpenAPI schema the gateway serves and with the `schemas.api` model clients use.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, TypeAdapter
from sqlmodel import Session

from broker.delivery.clocks import mark_overdue
from schemas import api
from schemas.review_queues import ReviewAnswer, ReviewQueues
from tests.broker.conftest import Gateway
from tests.broker.kafka_reader import wait_published
from tests.factories import school_referral

pytestmark = pytest.mark.stack
jsonschema_rs = pytest.importorskip("jsonschema_rs")  # with the `attack` extra (schemathesis brings it)

SENDER = "school-oakfield-primary"
URGENT_RISK = {
    "immediate_significant_harm": True,
    "likely_significant_harm": True,
    "serious_harm_to_adult": False,
    "risk_to_others": False,
    "crime_suspected": True,
}


def _auth(gateway: Gateway, agency: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {gateway.token(agency, role=role, subject=f'{role}-reviewer')}"}


def _documented(gateway: Gateway, response: httpx.Response, method: str, path: str, model: Any) -> Any:
    """The answer's JSON, after checking it against the served OpenAPI and the shared model."""
    assert 200 <= response.status_code < 300, response.text
    document = gateway.app.openapi()
    content = document["paths"][path][method]["responses"][str(response.status_code)]["content"]
    schema = content["application/json"]["schema"]
    validator = jsonschema_rs.Draft202012Validator({**schema, "components": document["components"]})
    body = response.json()
    errors = [str(error) for error in validator.iter_errors(body)]
    assert not errors, f"{method.upper()} {path}: {errors}"
    TypeAdapter(model).validate_python(body)
    return body


async def _post(gateway: Gateway, **overrides: Any) -> dict[str, Any]:
    response = await gateway.post(school_referral(**overrides))
    body: dict[str, Any] = _documented(gateway, response, "post", "/v1/notifications", api.NotificationReceipt)
    return body


async def test_sender_routes_answer_what_their_models_say(gateway: Gateway) -> None:
    shared = await _post(gateway)
    await wait_published(gateway.outbox)
    with Session(gateway.engine) as session:  # what the worker's clock check does, ten days on
        mark_overdue(session, datetime.now(UTC) + timedelta(days=10))
        session.commit()
    client = gateway.client

    def own() -> dict[str, str]:  # tokens are single-use: a fresh one per request
        return _auth(gateway, SENDER, "agency_system")

    status = await client.get(f"/v1/notifications/{shared['notification_id']}", headers=own())
    _documented(gateway, status, "get", "/v1/notifications/{notification_id}", api.NotificationStatus)
    page = _documented(
        gateway, await client.get("/v1/decisions", headers=own()), "get", "/v1/decisions", api.DecisionPage
    )
    assert page["items"]
    detail = await client.get(f"/v1/decisions/{page['items'][-1]['seq']}", headers=own())
    _documented(gateway, detail, "get", "/v1/decisions/{seq}", api.DecisionDetail)
    overdue = _documented(
        gateway, await client.get("/v1/overdue", headers=own()), "get", "/v1/overdue", list[api.OverdueEvent]
    )
    assert overdue, "the referral's clocks ran out"


async def test_review_routes_answer_what_their_models_say(gateway: Gateway) -> None:
    held = await _post(gateway, sender_in_doubt=True)
    urgent_share = await _post(gateway, risk=URGENT_RISK)
    assert "needs_advice" in {r["outcome"] for r in held["recipients"]}
    assert "share_urgent_review_after" in {r["outcome"] for r in urgent_share["recipients"]}
    client = gateway.client

    def dsl() -> dict[str, str]:  # tokens are single-use: a fresh one per request
        return _auth(gateway, SENDER, "dsl")

    queues = _documented(gateway, await client.get("/v1/queues", headers=dsl()), "get", "/v1/queues", ReviewQueues)
    advice, urgent = queues["needs_advice"], queues["urgent_review"]
    assert advice and urgent, "both referrals wait for the sending DSL"
    answer = await client.post(
        f"/v1/queues/{advice[0]['delivery_id']}",
        headers=dsl(),
        json={"decision": "release", "reason": "Advice: share with the front door."},
    )
    _documented(gateway, answer, "post", "/v1/queues/{delivery_id}", ReviewAnswer)
    review = await client.post(
        f"/v1/urgent/{urgent[0]['decided_seq']}",
        headers=dsl(),
        json={"reason": "The urgent share was proportionate.", "finding": "upheld"},
    )
    _documented(gateway, review, "post", "/v1/urgent/{seq}", ReviewAnswer)


async def test_operations_routes_answer_what_their_models_say(gateway: Gateway) -> None:
    for path, model in (("/livez", api.Liveness), ("/readyz", api.Readiness)):
        response = await gateway.client.get(path)
        body = _documented(gateway, response, "get", path, model)
        assert isinstance(TypeAdapter(model).validate_python(body), BaseModel)
