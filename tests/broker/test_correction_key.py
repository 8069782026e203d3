"""A correction's Idempotency-Key is bound to the notification it corrects from its first decision on.

A correction is two commits: the replacement decided, then the first notification withdrawn. One cut
short between them answers 503 `correction_incomplete`, and its key then holds the replacement's
receipt alone. Sent again with the same key and body to the same path, it finishes the correction;
sent to another notification's correction path, it must withdraw nothing there (409), as a finished
correction's key does.

Real gateway on PostgreSQL, the stack's OPA. The cut is a real fault of the database: a trigger makes
the recall's insert fail as a deadlock does (SQLSTATE 40P01), so the replacement's commit stands and
the recall's fails; dropping the trigger clears the fault for the retry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy import Engine, text

from tests.broker.conftest import Gateway, GatewayFactory
from tests.broker.people import Person
from tests.broker.test_withdrawal import _entries

pytestmark = pytest.mark.stack
SCHOOL = "school-oakfield-primary"

_FAULT = (
    "CREATE FUNCTION test_recall_fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "RAISE EXCEPTION 'deadlock detected' USING ERRCODE = 'deadlock_detected'; END $$",
    "CREATE TRIGGER test_recall_fault BEFORE INSERT ON audit_entry FOR EACH ROW "
    "WHEN (NEW.kind = 'corrected') EXECUTE FUNCTION test_recall_fault()",
)


def _break_recalls(engine: Engine) -> None:
    with engine.begin() as connection:
        for statement in _FAULT:
            connection.execute(text(statement))


def _mend_recalls(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP TRIGGER test_recall_fault ON audit_entry"))


@pytest.fixture
async def gateway(postgres_url: str, gateway_factory: GatewayFactory) -> Gateway:
    # The database first, so it is dropped after the gateway stops.
    started: Gateway = await gateway_factory(database_url=postgres_url)
    return started


def _poster(sender: Person, key: str) -> Callable[[str, object], Awaitable[httpx.Response]]:
    async def post(url: str, body: object) -> httpx.Response:
        # A fresh token each time (a jti is used once); the same key every time.
        headers = {**sender.headers(), "Idempotency-Key": key}
        return await sender.gateway.client.post(url, json=body, headers=headers)

    return post


def _correction(notification_id: str) -> str:
    return f"/v1/notifications/{notification_id}/correction"


async def test_a_correction_cut_short_corrects_no_other_notification_and_its_retry_finishes_it(
    gateway: Gateway,
) -> None:
    sender = Person(gateway, SCHOOL, "dsl", "dsl-oak-71")
    first, other = await sender.send("share"), await sender.send("share")
    fresh = sender.notification("share")
    post = _poster(sender, "correction-71")

    _break_recalls(gateway.engine)
    cut = await post(_correction(first["notification_id"]), fresh)
    assert cut.status_code == 503, cut.text
    assert cut.json()["error"] == "correction_incomplete", cut.text
    assert fresh["notification_id"] in cut.json()["detail"] and "same Idempotency-Key" in cut.json()["detail"]
    assert _entries(gateway, fresh["notification_id"], "decided"), "the replacement went"
    _mend_recalls(gateway.engine)
    as_notification = await post("/v1/notifications", fresh)
    assert as_notification.status_code == 409, "a key belongs to one route: never half of its first answer"
    assert "to correct another notification" not in as_notification.json()["detail"]
    assert "was already used to correct a notification" in as_notification.json()["detail"], as_notification.text

    elsewhere = await post(_correction(other["notification_id"]), fresh)
    assert elsewhere.status_code == 409, elsewhere.text
    assert elsewhere.json()["error"] == "idempotency_conflict", elsewhere.text
    assert "correct another notification" in elsewhere.json()["detail"], elsewhere.text
    assert _entries(gateway, other["notification_id"], "corrected") == [], "the other one still stands"
    assert _entries(gateway, first["notification_id"], "corrected") == [], "nothing finished yet"

    finished = await post(_correction(first["notification_id"]), fresh)
    assert finished.status_code == 202, finished.text
    assert finished.json()["corrected"]["notification_id"] == first["notification_id"]
    assert finished.json()["corrected"]["superseded_by"] == fresh["notification_id"]
    assert len(_entries(gateway, first["notification_id"], "corrected")) == 1
    assert len(_entries(gateway, fresh["notification_id"], "decided")) == 1, "decided once"
    assert finished.json()["replacement"]["notification_id"] == fresh["notification_id"]

    again = await post(_correction(first["notification_id"]), fresh)
    assert (again.status_code, again.content) == (200, finished.content), "the whole first answer"
    still = await post(_correction(other["notification_id"]), fresh)
    assert still.status_code == 409, still.text
    assert _entries(gateway, other["notification_id"], "corrected") == []


async def test_one_key_sent_to_two_notifications_correction_paths_at_once_corrects_one(gateway: Gateway) -> None:
    """Neither request finds the key's record before both decide: the one whose decision commits second
    finds it then, bound to the other notification, and records nothing of its own."""
    sender = Person(gateway, SCHOOL, "dsl", "dsl-oak-72")
    first, other = await sender.send("share"), await sender.send("share")
    fresh = sender.notification("share")
    post = _poster(sender, "correction-72")
    answers = await asyncio.gather(*(post(_correction(n["notification_id"]), fresh) for n in (first, other)))
    assert sorted(a.status_code for a in answers) == [202, 409], [a.text for a in answers]
    (refused,) = [a for a in answers if a.status_code == 409]
    assert "correct another notification" in refused.json()["detail"], refused.text
    corrected = [n for n in (first, other) if _entries(gateway, n["notification_id"], "corrected")]
    assert len(corrected) == 1, "one withdrawn, the other still stands"
    assert len(_entries(gateway, fresh["notification_id"], "decided")) == 1, "decided once"
