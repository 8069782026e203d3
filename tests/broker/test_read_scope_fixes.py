"""Reads a reviewer found too wide: who read a decision, shown across agencies; and a person's "own"
items matched by `sub` alone, so another agency's person with the same staff number widened them.
Real gateway (SQLite) and the stack's OPA; no relay: nothing here needs a delivery to reach Kafka."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

import audit
from tests.broker.conftest import Gateway, GatewayFactory
from tests.broker.people import POLICE, Person
from tests.factories import school_referral

pytestmark = pytest.mark.stack

SCHOOL, CSC, POLICE_ID = "school-oakfield-primary", "csc-fenmere-mash", "police-fenmere"


@pytest.fixture
async def quiet(gateway_factory: GatewayFactory) -> Gateway:
    started: Gateway = await gateway_factory(run_relay_in_gateway=False)
    return started


async def _decided_seq(sender: Person) -> int:
    """A school referral shared with the police alone; the seq of its decision."""
    body = school_referral(recipients=[POLICE])
    body["sender"] = {"agency_id": sender.agency, "role": "dsl", "user_ref": sender.user_ref, "is_professional": True}
    response = await sender.api("POST", "/v1/notifications", json=body)
    assert response.status_code == 202, response.text
    (recipient,) = response.json()["recipients"]
    assert recipient["outcome"] in ("share", "share_minimised"), recipient
    with Session(sender.gateway.engine) as session:
        query = select(col(audit.Entry.seq)).where(
            col(audit.Entry.delivery_id) == recipient["delivery_id"], col(audit.Entry.kind) == audit.EventKind.DECIDED
        )
        return session.exec(query).one()


async def _readers(person: Person, seq: int) -> set[tuple[str | None, str | None]]:
    answer = await person.api("GET", f"/v1/decisions/{seq}")
    assert answer.status_code == 200, answer.text
    return {(e["actor"], e["actor_agency"]) for e in answer.json()["events"] if e["kind"] == "viewed"}


async def test_an_agency_ig_lead_sees_who_read_a_decision_at_their_own_agency_only(quiet: Gateway) -> None:
    seq = await _decided_seq(Person(quiet, SCHOOL, "dsl", "dsl-read-01"))
    office = Person(quiet, CSC, "ig_lead", "pig-read-01")  # the partnership IG lead (office held at CSC)
    colleague = Person(quiet, POLICE_ID, "dsl", "dsl-police-read-01")
    for reader in (office, colleague):
        assert (await reader.api("GET", f"/v1/decisions/{seq}")).status_code == 200
    police_ig = Person(quiet, POLICE_ID, "ig_lead", "ig-police-read-01")
    seen = await _readers(police_ig, seq)
    # Their own staff's read, and their own; never that the partnership's office is looking at this child.
    assert ("dsl-police-read-01", POLICE_ID) in seen
    assert {agency for _, agency in seen} == {POLICE_ID}, seen
    # The partnership IG lead's access log covers every agency, so they still see every read.
    everyone = await _readers(office, seq)
    assert {("dsl-police-read-01", POLICE_ID), ("pig-read-01", CSC), ("ig-police-read-01", POLICE_ID)} <= everyone


async def test_another_agencys_person_with_the_same_sub_does_not_make_an_item_ones_own(quiet: Gateway) -> None:
    held = await Person(quiet, SCHOOL, "dsl", "dsl-own-01").send("needs_advice")
    adviser = Person(quiet, CSC, "ig_lead", "staff-17")  # the partnership IG lead answers the school's question
    answered = await adviser.api(
        "POST", f"/v1/queues/{held['delivery_id']}", json={"decision": "release", "reason": "Advice: share it."}
    )
    assert answered.status_code == 200, answered.text
    namesake = Person(quiet, SCHOOL, "practitioner", "staff-17")  # a school practitioner, same staff number
    listed = await namesake.api("GET", "/v1/decisions")
    assert listed.status_code == 200, listed.text
    assert [i["delivery_id"] for i in listed.json()["items"]] == []
    # The one who answered it at the school's own agency still has it as their own (test_access_rules).
