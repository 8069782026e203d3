"""A notification's token id commits with its decisions: two gateway workers on one database.

Each worker remembers only the tokens it saw itself, so what the second worker refuses here was
refused by the database: the jti committed with the first worker's decisions, or on its own when
the first request ended without any.
"""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import jwt
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

import audit
from broker.admission.replay import SeenToken
from tests.broker.conftest import Gateway, GatewayFactory
from tests.factories import school_referral

pytestmark = pytest.mark.stack

SENDER = "school-oakfield-primary"


@pytest.fixture(params=["sqlite", "postgresql"])
async def workers(request: pytest.FixtureRequest, gateway_factory: GatewayFactory) -> tuple[Gateway, Gateway]:
    url: str = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    return await gateway_factory(database_url=url), await gateway_factory(database_url=url)


def _decided(gateway: Gateway, notification_id: str | None = None) -> int:
    statement = select(func.count()).select_from(audit.Entry).where(audit.Entry.kind == audit.EventKind.DECIDED)
    if notification_id is not None:
        statement = statement.where(audit.Entry.notification_id == notification_id)
    with Session(gateway.engine) as session:
        return int(session.exec(statement).one())


def _burned(gateway: Gateway) -> int:
    with Session(gateway.engine) as session:
        return int(session.exec(select(func.count()).select_from(SeenToken)).one())


async def _post(gateway: Gateway, token: str, body: object, **headers: str) -> httpx.Response:
    return await gateway.client.post(
        "/v1/notifications", json=body, headers={"Authorization": f"Bearer {token}", **headers}
    )


def _refused_as_replay(response: httpx.Response) -> bool:
    return response.status_code == 401 and response.json()["reason"] == "replayed"


def _jti(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["jti"])


def _replays_logged(gateway: Gateway) -> list[str]:
    """The access log's refusals of a replayed token: whoever sent it again held a copy of it."""
    statement = select(audit.Entry).where(audit.Entry.kind == audit.EventKind.ACCESS_REFUSED)
    with Session(gateway.engine) as session:
        said = [f"{e.actor_agency} {e.actor}: {e.reasons[0]['message']}" for e in session.exec(statement)]
    return [line for line in said if ": replayed: " in line]


async def test_a_token_that_shared_in_one_worker_is_refused_in_another(workers: tuple[Gateway, Gateway]) -> None:
    first, second = workers
    token = first.token(SENDER)
    assert (await _post(first, token, school_referral())).status_code == 202
    decided, burned = _decided(first), _burned(first)

    again = await _post(second, token, school_referral())

    assert _refused_as_replay(again), again.text
    assert (_decided(first), _burned(first)) == (decided, burned)
    assert _replays_logged(first) == [
        f"{SENDER} agency_system@{SENDER}: POST /v1/notifications: unauthenticated: replayed: "
        f"token id (jti) {_jti(token)!r} was already used: a token is good for one request"
    ]


async def test_a_token_whose_body_was_refused_is_used_up(workers: tuple[Gateway, Gateway]) -> None:
    first, second = workers
    token = first.token(SENDER)
    assert (await _post(first, token, {"not": "valid"})).status_code == 422

    again = await _post(second, token, school_referral())

    assert _refused_as_replay(again), again.text
    assert _decided(first) == 0


async def test_a_replayed_token_is_not_given_the_earlier_receipt(workers: tuple[Gateway, Gateway]) -> None:
    first, second = workers
    token, key, body = first.token(SENDER), str(uuid.uuid4()), school_referral()
    assert (await _post(first, token, body, **{"Idempotency-Key": key})).status_code == 202
    # The same key with a fresh token is a retry and gets the first answer.
    retried = await _post(second, second.token(SENDER), body, **{"Idempotency-Key": key})
    assert retried.status_code == 200, retried.text

    again = await _post(second, token, body, **{"Idempotency-Key": key})

    assert _refused_as_replay(again), again.text


async def test_a_replay_in_a_group_commit_is_refused_alone(workers: tuple[Gateway, Gateway]) -> None:
    first, second = workers
    used = first.token(SENDER)
    assert (await _post(first, used, school_referral())).status_code == 202
    bodies = [school_referral() for _ in range(7)]
    replayed = school_referral()

    # Sent together, so the second worker commits them in as few transactions as it can.
    answers = await asyncio.gather(
        *(_post(second, second.token(SENDER), body) for body in bodies[:4]),
        _post(second, used, replayed),
        *(_post(second, second.token(SENDER), body) for body in bodies[4:]),
    )

    assert [a.status_code for a in answers] == [202] * 4 + [401] + [202] * 3
    assert _refused_as_replay(answers[4])
    assert _decided(second, str(replayed["notification_id"])) == 0
    assert all(_decided(second, str(body["notification_id"])) > 0 for body in bodies)
    assert len(_replays_logged(second)) == 1


async def test_a_token_read_with_twice_is_refused_and_the_second_use_logged(gateway: Gateway) -> None:
    token = gateway.token(SENDER, role="dsl", subject="dsl-replay-01")
    assert (await gateway.client.get("/v1/decisions", headers={"Authorization": f"Bearer {token}"})).status_code == 200

    again = await gateway.client.get("/v1/decisions", headers={"Authorization": f"Bearer {token}"})

    assert _refused_as_replay(again), again.text
    [logged] = _replays_logged(gateway)
    first_words = f"{SENDER} dsl-replay-01: GET /v1/decisions: unauthenticated: replayed: token id (jti) "
    assert logged.startswith(first_words), logged


async def test_the_same_token_twice_at_once_in_one_worker_shares_once(gateway: Gateway) -> None:
    token = gateway.token(SENDER)
    bodies = [school_referral(), school_referral()]

    answers = await asyncio.gather(*(_post(gateway, token, body) for body in bodies))

    assert sorted(a.status_code for a in answers) == [202, 401]
    assert sum(_decided(gateway, str(body["notification_id"])) > 0 for body in bodies) == 1
    assert len(_replays_logged(gateway)) == 1


async def test_a_sign_in_link_opened_twice_is_refused_and_the_second_use_logged(gateway: Gateway) -> None:
    token = gateway.token(SENDER, role="dsl", subject="dsl-replay-02")
    for attempt in ("first", "again"):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=gateway.app), base_url="https://gateway"
        ) as browser:
            form = await browser.get("/ui/signin")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert csrf is not None
            signed = await browser.post("/ui/signin", data={"csrf_token": csrf.group(1), "token": token})
        assert signed.status_code == (303 if attempt == "first" else 401), signed.text
    [logged] = _replays_logged(gateway)
    assert logged.startswith(f"{SENDER} dsl-replay-02: POST /ui/signin: unauthenticated: replayed: token id"), logged
