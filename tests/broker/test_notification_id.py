"""A notification id names one notification: a second body under an id already decided is refused
(409, naming the field) and nothing of it is recorded or sent, since a withdrawal, a correction and
every review are keyed by that id. A retry with the same Idempotency-Key still gets the first answer.
Real gateway (SQLite and PostgreSQL), the stack's OPA."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

import audit
from audit.replay import INPUT_TABLE
from broker.db.tables import OutboxRow
from tests.broker.conftest import Gateway, GatewayFactory
from tests.factories import school_referral

TO_CSC = {"agency_id": "csc-fenmere-mash", "role": "mash_intake", "need_to_know": "assess_and_decide"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.stack)])
async def gateway_on(request: pytest.FixtureRequest, gateway_factory: GatewayFactory) -> Gateway:
    if request.param == "sqlite":
        first: Gateway = await gateway_factory()
        return first
    started: Gateway = await gateway_factory(database_url=request.getfixturevalue("postgres_url"))
    return started


def _recorded(gateway: Gateway, notification_id: str) -> tuple[int, int]:
    with Session(gateway.engine) as session:
        entries = session.exec(
            select(func.count()).where(
                col(audit.Entry.notification_id) == notification_id, col(audit.Entry.kind) == audit.EventKind.DECIDED
            )
        ).one()
        rows = session.exec(select(func.count()).where(col(OutboxRow.notification_id) == notification_id)).one()
    return entries, rows


async def test_a_second_notification_under_a_decided_id_is_refused(gateway_on: Gateway) -> None:
    first = school_referral(recipients=[TO_CSC])
    answer = await gateway_on.post(first, headers={"Idempotency-Key": "first-1"})
    assert answer.status_code == 202, answer.text
    again = await gateway_on.post(first, headers={"Idempotency-Key": "first-1"})
    assert (again.status_code, again.json()) == (200, answer.json())  # a retry: the first answer

    second = school_referral(recipients=[TO_CSC])
    second["notification_id"] = first["notification_id"]
    for key in ({"Idempotency-Key": "second-1"}, {}):
        refused = await gateway_on.post(second, headers=key)
        assert refused.status_code == 409, refused.text
        body = refused.json()
        assert body["error"] == "notification_exists", body
        assert "notification_id" in body["detail"], body
    assert _recorded(gateway_on, first["notification_id"]) == (1, 1)


async def test_two_notifications_under_one_id_at_once_record_one(gateway_on: Gateway) -> None:
    bodies = [school_referral(recipients=[TO_CSC]) for _ in range(2)]
    bodies[1]["notification_id"] = bodies[0]["notification_id"]
    answers = await asyncio.gather(*(gateway_on.post(body) for body in bodies))
    assert sorted(a.status_code for a in answers) == [202, 409], [a.text for a in answers]
    assert _recorded(gateway_on, bodies[0]["notification_id"]) == (1, 1)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.stack)])
@pytest.mark.parametrize("twins", [False, True])
def test_the_unique_index_comes_to_a_log_that_had_none_unless_it_holds_twins(
    backend: str, twins: bool, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "postgres_url")
    engine = audit.create_engine_for(url)
    row = {"seqs": "[0]", "digest": "0" * 64, "document": "{}"}
    try:
        audit.upgrade(engine, "audit0004")
        with engine.begin() as connection:
            for seq, nid in enumerate(["n-once", "n-twice", "n-twice"] if twins else ["n-once", "n-twice"]):
                connection.execute(INPUT_TABLE.insert(), {**row, "first_seq": seq, "notification_id": nid})
        if twins:
            with pytest.raises(RuntimeError, match="n-twice"):  # named, for the IG lead to look at
                audit.upgrade(engine)
            assert not _unique(engine)
            return
        audit.upgrade(engine)
        assert _unique(engine)
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(INPUT_TABLE.insert(), {**row, "first_seq": 9, "notification_id": "n-once"})
    finally:
        engine.dispose()


def _unique(engine: Engine) -> bool:
    (index,) = [
        i for i in inspect(engine).get_indexes("audit_policy_input") if i["column_names"] == ["notification_id"]
    ]
    return bool(index["unique"])
