"""A share held now says, on its decision page and in the API's detail, whose answer ends the wait and when
the share is destroyed unanswered, as its card in the review queue does; once answered it no longer waits.
On the real gateway and OPA: the sender's DSL reads, another DSL or a line manager of the agency answers."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

import audit
from broker.db.tables import HeldDelivery
from broker.ui.words import local_time
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person

pytestmark = pytest.mark.stack

SCHOOL = "school-oakfield-primary"
_RESOLVES = "What would resolve it:"


def _held(gateway: Gateway, delivery_id: str) -> tuple[int, str]:
    """The decision's seq and, from the held store itself, when the share is destroyed unanswered."""
    with Session(gateway.engine) as session:
        decided = session.exec(
            select(audit.Entry).where(audit.Entry.delivery_id == delivery_id, audit.Entry.kind == "decided")
        ).one()
        row = session.get(HeldDelivery, delivery_id)
        assert row is not None, "the share is in the held store"
        return decided.seq, row.expires_at.isoformat()


async def _read(reader: Person, seq: int) -> tuple[dict[str, Any], str]:
    """The API's detail and the page's words, as the reader gets them (tags dropped, spaces joined)."""
    detail = await reader.api("GET", f"/v1/decisions/{seq}")
    assert detail.status_code == 200, detail.text
    page = await reader.page("GET", f"/ui/decisions/{seq}")
    assert page.status_code == 200, page.text
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page.text))
    return detail.json(), html.unescape(words)


async def test_an_advice_request_says_whose_answer_it_waits_for_until_answered(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    sender = Person(gateway, SCHOOL, "dsl", "dsl-wait-01")
    held = await sender.send("needs_advice")
    seq, expires_at = _held(gateway, held["delivery_id"])
    await sender.sign_in()
    try:
        detail, page = await _read(sender, seq)
        wait = detail["waiting"]
        assert detail["state"] == "held" and wait["expires_at"] == expires_at, detail
        assert wait["refuse_only"] is None and wait["resolves"].startswith("An adviser's answer (a DSL"), wait
        adviser = Person(gateway, SCHOOL, "dsl", "dsl-wait-02")
        (item,) = (await adviser.api("GET", "/v1/queues")).json()["needs_advice"]
        assert (item["resolves"], item["expires_at"]) == (wait["resolves"], expires_at), "the queue's card agrees"
        assert f"{_RESOLVES} {wait['resolves']}" in page, page
        told = re.escape(f"If nobody answers by {local_time(expires_at)} (")
        assert re.search(told + r"\d+ (day|hour)s? [^)]*left\), the held share is destroyed", page), page
        assert "It cannot be released." not in page
        answered = await adviser.api(
            "POST", f"/v1/queues/{held['delivery_id']}", json={"decision": "release", "reason": "Share it."}
        )
        assert answered.status_code == 200, answered.text
        detail, page = await _read(sender, seq)
        assert (detail["state"], detail["waiting"]) == ("released", None), detail
        assert _RESOLVES not in page and "If nobody answers" not in page
    finally:
        await sender.close()


async def test_a_hold_only_the_sender_can_mend_says_it_cannot_be_released(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    sender = Person(gateway, SCHOOL, "dsl", "dsl-wait-03")
    held = await sender.send("hold_for_authorisation")  # no lawful basis recorded
    seq, expires_at = _held(gateway, held["delivery_id"])
    manager = Person(gateway, SCHOOL, "line_manager", "lm-wait-01")
    (item,) = (await manager.api("GET", "/v1/queues")).json()["hold_for_authorisation"]
    await sender.sign_in()
    try:
        detail, page = await _read(sender, seq)
    finally:
        await sender.close()
    wait = detail["waiting"]
    assert wait == {"resolves": item["resolves"], "refuse_only": item["refuse_only"], "expires_at": expires_at}
    assert wait["refuse_only"] and "No lawful basis is recorded" in wait["refuse_only"], wait
    # Whose refusal it waits for, named for a reader who cannot give it (no bare "Refuse it").
    who = "A line manager or named professional of the sender's agency refuses it from the authorisation queue"
    assert who in wait["refuse_only"] and "Refuse it" not in wait["refuse_only"], wait
    assert wait["resolves"] == "The sender sends it again with a lawful basis.", wait
    assert f"It cannot be released. {wait['refuse_only']}" in page, page
    assert page.count("cannot be released") == 1, "the notice says it once, then why"


async def test_a_hold_past_its_time_says_it_can_no_longer_be_released_before_the_sweep_destroys_it(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory(run_relay_in_gateway=False)  # and so no sweep: it runs with the relay
    sender = Person(gateway, SCHOOL, "dsl", "dsl-wait-04")
    held = await sender.send("needs_advice")
    seq, _ = _held(gateway, held["delivery_id"])
    with Session(gateway.engine) as session:  # time moves on; no sweep has run yet
        row = session.get(HeldDelivery, held["delivery_id"])
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        session.add(row)
        session.commit()
        expires_at = row.expires_at.isoformat()
    await sender.sign_in()
    try:
        _, page = await _read(sender, seq)
    finally:
        await sender.close()
    assert f"Nobody answered by {local_time(expires_at)}, so it can no longer be released" in page, page
    assert "If nobody answers" not in page
    adviser = Person(gateway, SCHOOL, "dsl", "dsl-wait-05")
    late = await adviser.api("POST", f"/v1/queues/{held['delivery_id']}", json={"decision": "release", "reason": "Go."})
    assert late.status_code == 409, late.text  # what the page says: no release any more
