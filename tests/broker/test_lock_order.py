"""One lock order for every transaction that both locks rows and appends to the log: the chain head
first, as the group commit takes it. The relay marking what it published, the retention purge, a
republish request, a receipt, and the scheduler's overdue clocks and held-share expiry took their rows
first, so on PostgreSQL each could deadlock with a withdrawal, a shredding or a queue answer (which lock
the head, then the same rows) and be aborted. Real gateway on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event

from broker.delivery import redelivery, scheduler
from broker.delivery.background import build_relay
from broker.delivery.receipts import record_receipt
from broker.delivery.retention import Retention, purge_and_log
from broker.metrics import Metrics
from broker.partnership.cli import issue_token
from tests.broker.conftest import AUDIENCE, GatewayFactory
from tests.broker.people import Person
from tests.factories import school_referral

pytestmark = pytest.mark.stack
SCHOOL = "school-oakfield-primary"
TO_CSC = {"agency_id": "csc-fenmere-mash", "role": "mash_intake", "need_to_know": "assess_and_decide"}


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _first(seen: list[str], wanted: Callable[[str], bool]) -> int:
    return next(i for i, statement in enumerate(seen) if wanted(statement))


def _head_lock(statement: str) -> bool:
    return "FROM audit_chain_head" in statement and statement.endswith("FOR UPDATE")


def _row_lock(statement: str) -> bool:
    return statement.startswith("UPDATE outbox") or (
        "FOR UPDATE" in statement and "FROM audit_chain_head" not in statement
    )


def _head_first(seen: list[str]) -> bool:
    return _first(seen, _head_lock) < _first(seen, _row_lock)


async def test_the_relay_and_the_purge_lock_the_chain_head_before_outbox_rows(
    gateway_factory: GatewayFactory, postgres_url: str
) -> None:
    gateway = await gateway_factory(run_relay_in_gateway=False, database_url=postgres_url)  # this test is the relay
    sender = Person(gateway, SCHOOL, "dsl", "dsl-school-51")
    body = school_referral(recipients=[TO_CSC])
    body["sender"] = {
        "agency_id": SCHOOL,
        "role": sender.sends_as,
        "user_ref": sender.user_ref,
        "is_professional": True,
    }
    answer = await sender.api("POST", "/v1/notifications", json=body)
    assert answer.status_code == 202, answer.text
    relay = build_relay(settings=gateway.settings, engine=gateway.engine, metrics=Metrics())
    rows = [row for row, value in relay._pending() if isinstance(value, bytes)]
    assert rows

    with _statements(gateway.engine) as seen:
        relay._mark_published(rows)  # as `publish_once` marks the batch it produced
    assert _head_first(seen), seen
    with _statements(gateway.engine) as seen:
        purge_and_log(gateway.engine, Retention(delivered_days=30))
    assert _head_first(seen), seen
    (row,) = rows
    with _statements(gateway.engine) as seen:
        again = redelivery.request_republish(
            gateway.engine, delivery_id=row.delivery_id, agency_id=row.recipient_agency, actor="csc", actor_role="x"
        )
    assert again and _head_first(seen), seen
    claims = {"kind": "delivered", "delivery_id": row.delivery_id}
    keys = gateway.partnership.agency_keys(row.recipient_agency)
    receipt = issue_token(keys, role="agency_system", audience=AUDIENCE, extra_claims=claims)
    with _statements(gateway.engine) as seen:
        assert record_receipt(gateway.engine, gateway.registry, AUDIENCE, receipt)
    assert _head_first(seen), seen
    with _statements(gateway.engine) as seen:
        scheduler.tick(gateway.engine, datetime.now(UTC))
    clocks, expiry = _split(seen)
    assert _head_first(clocks) and _head_first(expiry), seen


def _split(seen: list[str]) -> tuple[list[str], list[str]]:
    """A tick's two transactions: the overdue clocks', then the held shares' expiry's."""
    second = _first(seen[1:], _head_lock) + 1
    return seen[:second], seen[second:]
