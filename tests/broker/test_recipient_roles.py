"""A recipient is a role queue its agency has: a role its agency's type has not is refused by name (422).

A health visitor's referral to the MASH (a `csc_front_door`) addressed to its `lado_officer` was
decided and shared: deliveries go to role queues, to those who need to know (Caldicott 4), and a
front door has no LADO officer. The gateway now refuses such a recipient as it refuses any bad
field, naming `recipients[i].role` and the roles that agency has, before anything is decided,
logged or kept; the correction route sends through the same path.

Real gateway, the stack's OPA.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

import audit
from broker.db.tables import IdempotencyRecord, ObligationClock, OutboxRow
from schemas.agencies import role_names
from tests.broker.conftest import Gateway
from tests.broker.people import Person

pytestmark = pytest.mark.stack

HV, CSC, LADO = "health-visiting-fenmere", "csc-fenmere-mash", "lado-fenmere"
FRONT_DOOR_ROLES = "caldicott_guardian, edt, ig_lead, mash_intake, safeguarding_lead, social_worker, team_manager"


def _to(agency_id: str, role: str) -> dict[str, Any]:
    return {"agency_id": agency_id, "role": role, "need_to_know": "assess_and_decide"}


def _written(gateway: Gateway) -> dict[str, int]:
    """How many rows each table a decision writes holds: the log, outbox, clocks and first answers."""
    with Session(gateway.engine) as session:
        return {
            table.__name__: session.exec(select(func.count()).select_from(table)).one()
            for table in (audit.Entry, OutboxRow, ObligationClock, IdempotencyRecord)
        }


def _referral(sender: Person, *recipients: dict[str, Any]) -> dict[str, Any]:
    body = sender.notification("share")
    body["recipients"] = list(recipients)
    return body


def _refusal(i: int) -> dict[str, Any]:
    return {
        "loc": ["recipients", i, "role"],
        "type": "role_not_at_agency",
        "msg": f"recipients[{i}].role must be a role of {CSC}, a csc_front_door agency: {FRONT_DOOR_ROLES}",
    }


def test_the_front_door_has_no_lado_officer() -> None:
    assert "lado_officer" not in role_names("csc_front_door")
    assert ", ".join(sorted(role_names("csc_front_door"))) == FRONT_DOOR_ROLES


async def test_a_role_the_recipients_agency_has_not_is_refused_by_name_and_nothing_is_kept(gateway: Gateway) -> None:
    health_visitor = Person(gateway, HV, "practitioner", "hv-practitioner-31")
    before = _written(gateway)
    body = _referral(health_visitor, _to(CSC, "lado_officer"))
    headers = {**health_visitor.headers(), "Idempotency-Key": "front-door-lado-31"}
    refused = await gateway.client.post("/v1/notifications", json=body, headers=headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == "invalid_notification"
    assert refused.json()["errors"] == [_refusal(0)]
    # Nothing decided, logged (not even as an access refusal), queued, clocked or kept as a first answer.
    assert _written(gateway) == before

    # One bad recipient refuses the whole notification: the good one beside it is not sent alone.
    both = _referral(health_visitor, _to(LADO, "lado_officer"), _to(CSC, "lado_officer"))
    refused = await health_visitor.api("POST", "/v1/notifications", json=both)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == [_refusal(1)]
    assert _written(gateway) == before


async def test_a_role_the_agency_has_is_still_decided(gateway: Gateway) -> None:
    health_visitor = Person(gateway, HV, "practitioner", "hv-practitioner-32")
    body = _referral(health_visitor, _to(CSC, "mash_intake"), _to(LADO, "lado_officer"))
    accepted = await health_visitor.api("POST", "/v1/notifications", json=body)
    assert accepted.status_code == 202, accepted.text
    assert [(r["agency_id"], r["role"]) for r in accepted.json()["recipients"]] == [
        (CSC, "mash_intake"),
        (LADO, "lado_officer"),
    ]
    # An agency the partnership does not know has no type to check against: the policy refuses it.
    unknown = _referral(health_visitor, _to("csc-nowhere", "lado_officer"))
    answered = await health_visitor.api("POST", "/v1/notifications", json=unknown)
    assert answered.status_code == 202, answered.text
    (recipient,) = answered.json()["recipients"]
    assert recipient["outcome"] == "no_share"
    assert [r["rule"] for r in recipient["decided_by"]] == ["SYS-AGENCY"]


async def test_a_correction_to_a_role_the_agency_has_not_is_refused_and_the_first_stands(gateway: Gateway) -> None:
    health_visitor = Person(gateway, HV, "practitioner", "hv-practitioner-33")
    first = await health_visitor.api(
        "POST", "/v1/notifications", json=_referral(health_visitor, _to(CSC, "mash_intake"))
    )
    assert first.status_code == 202, first.text
    first_id = first.json()["notification_id"]
    before = _written(gateway)
    correction = _referral(health_visitor, _to(CSC, "lado_officer"))
    refused = await health_visitor.api("POST", f"/v1/notifications/{first_id}/correction", json=correction)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == [_refusal(0)]
    assert _written(gateway) == before, "neither the correction decided nor the first withdrawn"
    status = await health_visitor.api("GET", f"/v1/notifications/{first_id}")
    assert status.status_code == 200, status.text
    assert [r["status"] for r in status.json()["recipients"]] in (["decided"], ["published"], ["delivered"])


async def test_consent_given_with_a_reason_it_was_not_sought_is_refused_by_its_path(gateway: Gateway) -> None:
    health_visitor = Person(gateway, HV, "practitioner", "hv-practitioner-34")
    body = _referral(health_visitor, _to(CSC, "mash_intake"))
    body["lawful_basis"] = "consent"
    body["consent"] = [
        {
            "subject_ref": body["subjects"][0]["subject_ref"],
            "giver": "parent_pr",
            "status": "given_explicit",
            "privacy_notice_given": True,
            "not_sought_reason": "risk_significant_harm",
        }
    ]
    before = _written(gateway)
    refused = await health_visitor.api("POST", "/v1/notifications", json=body)
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert (error["loc"], error["type"]) == (["consent", 0, "not_sought_reason"], "exception_with_consent_given")
    assert error["msg"].startswith("consent[0].not_sought_reason is for consent not sought, refused or withdrawn")
    assert _written(gateway) == before
    del body["consent"][0]["not_sought_reason"]
    assert (await health_visitor.api("POST", "/v1/notifications", json=body)).status_code == 202
