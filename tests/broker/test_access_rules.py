"""The issue's attacks, on the real gateway: a claimed role, a body that lies about its sender, a release
that would skip consent, a practitioner reading a colleague's referrals, and a hand-edited registry."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import pytest
from sqlmodel import Session, select

import audit
from broker.errors import RegistryError
from broker.partnership.changes import verify_access_changes
from broker.partnership.keys import load_broker_keys
from broker.partnership.registry import load_registry, save_registry
from demo.cases import cases
from tests.broker.conftest import Gateway, GatewayFactory
from tests.broker.people import Person

# Needs the running stack: the gateway fixture runs against the stack's Kafka and OPA.
pytestmark = pytest.mark.stack

HOUSING, SCHOOL, HV, CSC = "housing-brookside", "school-oakfield-primary", "health-visiting-fenmere", "csc-fenmere-mash"


def _entries(gateway: Gateway, kind: audit.EventKind) -> list[audit.Entry]:
    with Session(gateway.engine) as session:
        return list(session.exec(select(audit.Entry).where(audit.Entry.kind == kind)))


async def test_a_role_the_agency_was_not_granted_is_refused_and_the_refusal_logged(gateway: Gateway) -> None:
    held = await Person(gateway, SCHOOL, "dsl", "dsl-school-01").send("needs_advice")
    impostor = Person(gateway, HOUSING, "ig_lead", "housing-staff-09")  # housing was never granted ig_lead
    attempts = [
        await impostor.api("GET", "/v1/decisions"),
        await impostor.api("GET", "/v1/queues"),
        await impostor.api(
            "POST",
            f"/v1/queues/{held['delivery_id']}",
            json={"decision": "release", "reason": "Claimed IG lead releases it."},
        ),
    ]
    for response in attempts:
        assert response.status_code == 401, response.text
        assert response.json()["reason"] == "role_not_granted"
        assert "ig_lead" in response.json()["detail"] and HOUSING in response.json()["detail"]
    refused = _entries(gateway, audit.EventKind.ACCESS_REFUSED)
    assert len(refused) == 3
    assert {(e.actor, e.actor_role, e.actor_agency, e.outcome) for e in refused} == {
        ("housing-staff-09", "ig_lead", HOUSING, "access_refused")
    }
    with Session(gateway.engine) as session:
        row = session.exec(
            select(audit.Entry).where(
                audit.Entry.delivery_id == held["delivery_id"], audit.Entry.kind != audit.EventKind.DECIDED
            )
        ).first()
    assert row is None, "nothing happened to the held share"
    seen = await Person(gateway, CSC, "ig_lead", "ig-office-01").api("GET", "/v1/access-events")
    assert seen.status_code == 200
    assert [e["agency"] for e in seen.json() if e["outcome"] == "access_refused"] == [HOUSING] * 3
    own_ig = await Person(gateway, HV, "ig_lead", "ig-hv-01").api(
        "GET", "/v1/access-events", params={"agency": HOUSING}
    )
    assert own_ig.json() == [], "an agency's IG lead sees its own agency's access events only"


@pytest.mark.parametrize("role", ["partnership_ig_lead", "superuser"])
async def test_a_role_no_registry_grants_is_refused_and_logged_as_any_role_not_granted(
    gateway: Gateway, role: str
) -> None:
    token = gateway.token(HOUSING, role=role, subject="housing-staff-11")
    refused = await gateway.client.get("/v1/decisions", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401 and refused.json()["reason"] == "role_not_granted", refused.text
    assert [(e.actor, e.actor_role, e.actor_agency) for e in _entries(gateway, audit.EventKind.ACCESS_REFUSED)] == [
        ("housing-staff-11", role, HOUSING)
    ], "the IG lead sees the claim in the access log"


async def test_the_ui_refuses_and_logs_a_claimed_role_at_sign_in(gateway: Gateway) -> None:
    impostor = Person(gateway, HOUSING, "caldicott_guardian", "housing-staff-10")
    refused = await impostor.try_sign_in()
    assert refused.status_code == 401 and "role_not_granted" in refused.text
    assert impostor.ui is not None
    link = await impostor.ui.get("/ui/signin", params={"token": gateway.token(HOUSING, role="caldicott_guardian")})
    assert link.status_code == 401 and "role_not_granted" in link.text
    await impostor.close()
    assert len(_entries(gateway, audit.EventKind.ACCESS_REFUSED)) == 2


async def _refusals(ig_lead: Person) -> list[dict[str, Any]]:
    events = (await ig_lead.api("GET", "/v1/access-events", params={"agency": ig_lead.agency})).json()
    return [e for e in events if e["kind"] == "access_refused"]


async def test_the_body_cannot_claim_a_role_the_token_does_not_hold(gateway: Gateway) -> None:
    practitioner = Person(gateway, HV, "practitioner", "hv-practitioner-07")
    as_dsl = practitioner.notification("share", role="dsl")
    response = await practitioner.api("POST", "/v1/notifications", json=as_dsl)
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["errors"]] == [["sender", "role"]]
    assert _entries(gateway, audit.EventKind.DECIDED) == []
    # Refused, and the refusal is there for the agency's IG lead: who, what, why (never the body).
    ig_lead = Person(gateway, HV, "ig_lead", "hv-ig-lead-01")
    (event,) = await _refusals(ig_lead)
    assert (event["kind"], event["actor"], event["actor_role"]) == (
        "access_refused",
        "hv-practitioner-07",
        "practitioner",
    )
    assert event["reasons"][0]["message"].startswith("POST /v1/notifications: invalid_notification: sender.role: ")
    # So is a route the role may never use.
    assert (await practitioner.api("GET", "/v1/queues")).status_code == 403
    events = await _refusals(ig_lead)
    assert [e["reasons"][0]["message"].split(":")[0] for e in events] == ["GET /v1/queues", "POST /v1/notifications"]
    sent = await practitioner.send("share")
    (decided,) = _entries(gateway, audit.EventKind.DECIDED)
    assert decided.delivery_id == sent["delivery_id"]
    assert (decided.actor, decided.actor_role, decided.actor_agency) == ("hv-practitioner-07", "practitioner", HV)
    assert decided.sender_role == "health_visitor"
    # Nor a role of another kind of agency: a health visiting service's practitioner is no GP.
    as_gp = await practitioner.api("POST", "/v1/notifications", json=practitioner.notification("share", role="gp"))
    assert as_gp.status_code == 422, as_gp.text
    assert as_gp.json()["errors"][0]["msg"] == (
        f"a practitioner token of {HV}, a health_community agency, may send as: health_visitor, midwife, school_nurse"
    )
    assert len(_entries(gateway, audit.EventKind.DECIDED)) == 1
    # A try at one share's answer names that share, so the IG lead sees which one it was.
    tried = f"/v1/queues/{sent['delivery_id']}"
    answer = await practitioner.api("POST", tried, json={"decision": "release", "reason": "Let it through."})
    assert answer.status_code == 403, answer.text
    assert (await _refusals(ig_lead))[0]["reasons"][0]["message"].startswith(f"POST {tried}: forbidden: ")


async def test_a_persons_token_sends_only_as_themselves_never_naming_a_colleague(gateway: Gateway) -> None:
    # The person a body names as acting may read and withdraw it (scope "own"), and its recipients
    # read them as its sender: a practitioner naming a colleague would hand them both.
    practitioner = Person(gateway, HV, "practitioner", "hv-practitioner-08")
    colleague = Person(gateway, HV, "practitioner", "hv-practitioner-09")
    body = practitioner.notification("share")
    body["sender"]["user_ref"] = colleague.subject
    refused = await practitioner.api("POST", "/v1/notifications", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == [
        {
            "loc": ["sender", "user_ref"],
            "type": "sender_mismatch",
            "msg": "must be the person of the token, hv-practitioner-08: a person's token sends only as themselves",
        }
    ]
    assert _entries(gateway, audit.EventKind.DECIDED) == []
    assert (await colleague.api("GET", f"/v1/notifications/{body['notification_id']}")).status_code == 404
    # Their own name goes; a subject with characters a reference cannot hold is sent as the form sends it.
    assert (
        await practitioner.api("POST", "/v1/notifications", json=practitioner.notification("share"))
    ).status_code == 202
    mailed = Person(gateway, HV, "practitioner", "a.nurse@hv.example")
    body = mailed.notification("share")
    body["sender"]["user_ref"] = "a.nurse-hv.example"
    assert (await mailed.api("POST", "/v1/notifications", json=body)).status_code == 202


async def test_an_item_beyond_reach_answers_404_and_the_attempt_is_in_the_access_log(gateway: Gateway) -> None:
    # The same 404 as for nothing at all, but an insider trying another's items leaves a trace, and
    # the trace tells the IG lead what the refused person was not told: whether the item was real.
    sender = Person(gateway, HV, "practitioner", "hv-practitioner-21")
    sent = await sender.send("share")
    (decided,) = [e for e in _entries(gateway, audit.EventKind.DECIDED) if e.notification_id == sent["notification_id"]]
    colleague = Person(gateway, HV, "practitioner", "hv-practitioner-22")
    withdrawal = f"/v1/notifications/{sent['notification_id']}/withdrawal"
    invented = f"/v1/notifications/{uuid.uuid4()}/withdrawal"
    for method, path in [
        ("POST", withdrawal),
        ("POST", invented),
        ("GET", f"/v1/decisions/{decided.seq}"),
        ("GET", "/v1/decisions/999999"),
        ("GET", f"/v1/notifications/{sent['notification_id']}"),
    ]:
        tried = await colleague.api(method, path, json={"reason": "sent_in_error"} if method == "POST" else None)
        assert tried.status_code == 404, tried.text
        assert "exists" not in tried.text  # the refused person is told nothing either way
    proof = await colleague.api("GET", "/v1/log/proof", params={"from": 1, "to": 999999})
    assert proof.status_code == 404, proof.text  # a hash proof anyone reading decisions may ask for: no attempt
    ig_lead = Person(gateway, HV, "ig_lead", "hv-ig-lead-02")
    events = await _refusals(ig_lead)
    assert [(e["actor"], e["reasons"][0]["message"]) for e in reversed(events)] == [
        ("hv-practitioner-22", f"POST {withdrawal}: not_found: {_WITHDRAW} (it exists, beyond their reach)"),
        ("hv-practitioner-22", f"POST {invented}: not_found: {_WITHDRAW} (none exists)"),
        (
            "hv-practitioner-22",
            f"GET /v1/decisions/{decided.seq}: not_found: {_NO_DECISION} (it exists, beyond their reach)",
        ),
        ("hv-practitioner-22", f"GET /v1/decisions/999999: not_found: {_NO_DECISION} (none exists)"),
        (
            "hv-practitioner-22",
            f"GET /v1/notifications/{sent['notification_id']}: not_found: "
            "no such notification whose status you may read (it exists, beyond their reach)",
        ),
    ]


_WITHDRAW = "no such notification that you may withdraw"
_NO_DECISION = "no decision by that number that you may read"


async def test_a_queue_item_beyond_reach_is_logged_as_real_or_not(gateway: Gateway) -> None:
    held = await Person(gateway, SCHOOL, "dsl", "dsl-school-31").send("needs_advice")
    other_dsl = Person(gateway, CSC, "dsl", "csc-dsl-31")
    answer = {"decision": "release", "reason": "Not mine to answer."}
    for delivery_id in (held["delivery_id"], str(uuid.uuid4())):
        tried = await other_dsl.api("POST", f"/v1/queues/{delivery_id}", json=answer)
        assert tried.status_code == 404 and "exists" not in tried.text, tried.text
    events = await _refusals(Person(gateway, CSC, "ig_lead", "csc-ig-lead-31"))
    assert [e["reasons"][0]["message"].rsplit(": ", 1)[1] for e in reversed(events)] == [
        "no such item in your queues (it exists, beyond their reach)",
        "no such item in your queues (none exists)",
    ]


async def test_a_share_held_for_missing_consent_can_only_be_refused(gateway: Gateway) -> None:
    needs_consent = copy.deepcopy(cases()[1][1])  # a health visitor asks for family support
    needs_consent.update(
        lawful_basis="safeguarding_children_individuals_at_risk",
        consent=[{"subject_ref": "child-alpha", "giver": "parent_pr", "status": "not_sought"}],
    )
    sender = Person(gateway, HV, "practitioner", "hv-practitioner-08")
    needs_consent["sender"]["user_ref"] = sender.user_ref
    response = await sender.api("POST", "/v1/notifications", json=needs_consent)
    (held,) = response.json()["recipients"]
    assert held["outcome"] == "hold_for_authorisation" and held["reasons"][0]["rule"] == "GR4", held
    manager = Person(gateway, HV, "line_manager", "hv-manager-01")
    (item,) = (await manager.api("GET", "/v1/queues")).json()["hold_for_authorisation"]
    assert item["refuse_only"] and "consent" in item["refuse_only"]
    release = await manager.api(
        "POST",
        f"/v1/queues/{held['delivery_id']}",
        json={"decision": "release", "reason": "Manager overrides the family."},
    )
    assert release.status_code == 409 and release.json()["error"] == "release_not_allowed", release.text
    assert "send it again" in release.json()["detail"]
    ig_lead = Person(gateway, HV, "ig_lead", "hv-ig-lead-02")
    (event,) = await _refusals(ig_lead)
    assert (event["actor"], event["reasons"][0]["message"].split(": ")[1]) == ("hv-manager-01", "release_not_allowed")
    await manager.sign_in()
    page = (await manager.page("GET", "/ui/queues")).text
    assert "It cannot be released." in page and f'id="r-{held["delivery_id"]}"' not in page
    refused = await manager.page(
        "POST",
        f"/ui/queues/{held['delivery_id']}",
        {"decision": "refuse", "reason": "Consent first: send again once sought."},
    )
    assert refused.status_code == 303
    await manager.close()
    answers = _entries(gateway, audit.EventKind.AUTHORISATION_REFUSED)
    assert [(e.actor, e.actor_role, e.outcome) for e in answers] == [("hv-manager-01", "line_manager", "withheld")]
    assert _entries(gateway, audit.EventKind.AUTHORISATION_GRANTED) == []


async def test_a_share_with_no_lawful_basis_cannot_be_released_even_on_advice(gateway: Gateway) -> None:
    dsl = Person(gateway, SCHOOL, "dsl", "dsl-school-02")
    held = await dsl.send("hold_for_authorisation")  # no lawful basis given
    manager = Person(gateway, SCHOOL, "line_manager", "school-manager-01")
    release = await manager.api(
        "POST", f"/v1/queues/{held['delivery_id']}", json={"decision": "release", "reason": "Looks fine to me."}
    )
    assert release.status_code == 409 and "lawful basis" in release.json()["detail"]


async def test_a_practitioner_sees_only_what_they_sent(gateway: Gateway) -> None:
    lado = copy.deepcopy(cases()[2][1])  # the school's allegation against a teacher, to the LADO
    dsm = Person(gateway, SCHOOL, "line_manager", "school-dsm-01")
    lado["sender"]["user_ref"] = dsm.user_ref
    assert (await dsm.api("POST", "/v1/notifications", json=lado)).status_code == 202
    first = Person(gateway, HV, "practitioner", "hv-nurse-01")
    mine = await first.send("share", role="school_nurse")
    second = Person(gateway, HV, "practitioner", "hv-nurse-02")
    listed: dict[str, Any] = {}
    for person in (first, second, Person(gateway, HV, "dsl", "dsl-hv-03")):
        listed[person.user] = {i["notification_id"] for i in (await person.api("GET", "/v1/decisions")).json()["items"]}
    assert listed["hv-nurse-01"] == {mine["notification_id"]}
    assert listed["hv-nurse-02"] == set()
    assert mine["notification_id"] in listed["dsl-hv-03"], "their agency's DSL reads it"
    assert lado["notification_id"] not in listed["dsl-hv-03"], "another agency's, sent to neither"
    status = f"/v1/notifications/{mine['notification_id']}"
    assert (await first.api("GET", status)).status_code == 200
    assert (await second.api("GET", status)).status_code == 404


async def test_start_logs_who_granted_what_and_refuses_hand_edited_grants(
    gateway: Gateway, gateway_factory: GatewayFactory
) -> None:
    changes = _entries(gateway, audit.EventKind.REGISTRY_CHANGED)
    registry = gateway.registry
    assert len(changes) == len(registry.access_changes) + 1  # each signed change, and the revision
    granted = [e for e in changes if e.outcome == "role_granted"]
    assert {(e.sender_agency, e.sender_role) for e in granted} == {
        (a, r) for a, roles in registry.grants.items() for r in roles
    }
    assert {e.actor for e in granted} == {"devstack-provision"}
    assert [e.decision_id for e in changes if e.outcome == "registry_revision"] == [registry.revision]
    again = await gateway_factory(database_url=gateway.settings.database_url)
    assert len(_entries(again, audit.EventKind.REGISTRY_CHANGED)) == len(changes), "nothing is logged twice"

    path = gateway.partnership.registry_file
    original = path.read_bytes()
    try:
        edited = json.loads(original)
        edited["grants"][HOUSING] = sorted([*edited["grants"][HOUSING], "ig_lead"])
        save_registry(type(registry).model_validate(edited), path)
        with pytest.raises(RegistryError, match="edited by hand"):
            keys = load_broker_keys(gateway.partnership.broker_keys_dir)
            verify_access_changes(load_registry(path), keys.verify_keys)
        with pytest.raises(RegistryError, match="edited by hand"):
            await gateway_factory()
    finally:
        path.write_bytes(original)


async def test_a_practitioner_also_sees_what_they_are_named_on_and_a_manager_what_they_answered(
    gateway: Gateway,
) -> None:
    system = Person(gateway, HV, "agency_system", None)
    body = system.notification("share", role="school_nurse")
    body["sender"]["user_ref"] = "school-nurse-05"  # the community health service's system posts for its nurse
    posted = await system.api("POST", "/v1/notifications", json=body)
    assert posted.status_code == 202, posted.text
    held = await Person(gateway, HV, "dsl", "dsl-hv-04").send("hold_for_authorisation")
    named, other = (
        Person(gateway, HV, "practitioner", "school-nurse-05"),
        Person(gateway, HV, "practitioner", "school-nurse-06"),
    )
    status = f"/v1/notifications/{posted.json()['notification_id']}"
    assert (await named.api("GET", status)).status_code == 200
    assert (await other.api("GET", status)).status_code == 404
    seen = {
        p.user: [i["notification_id"] for i in (await p.api("GET", "/v1/decisions")).json()["items"]]
        for p in (named, other)
    }
    assert seen == {"school-nurse-05": [posted.json()["notification_id"]], "school-nurse-06": []}
    # A line manager's own scope: what they sent, and what they answered from the queue.
    manager = Person(gateway, HV, "line_manager", "hv-manager-02")
    assert (await manager.api("GET", "/v1/decisions")).json()["items"] == []
    refused = await manager.api(
        "POST", f"/v1/queues/{held['delivery_id']}", json={"decision": "refuse", "reason": "No lawful basis named."}
    )
    assert refused.status_code == 200, refused.text
    listed = (await manager.api("GET", "/v1/decisions")).json()["items"]
    assert [i["delivery_id"] for i in listed] == [held["delivery_id"]]


async def test_a_share_held_for_the_parents_position_can_only_be_refused(gateway: Gateway) -> None:
    """GR2 holds "until a reason is recorded" (domain brief §4.3): a line manager's release would send a
    referral whose family may not know of it, with no reason recorded, as if their sign-off were one."""
    unsaid = copy.deepcopy(cases()[1][1])  # a health visitor asks for family support
    consent = {"subject_ref": "child-alpha", "giver": "parent_pr", "status": "given_explicit"}
    unsaid.update(parental_position=None, consent=[{**consent, "privacy_notice_given": True}])
    unsaid["payload"]["current_location"] = "At the children's centre until noon"
    sender = Person(gateway, HV, "practitioner", "hv-practitioner-09")
    unsaid["sender"]["user_ref"] = sender.user_ref
    response = await sender.api("POST", "/v1/notifications", json=unsaid)
    assert response.status_code == 202, response.text
    (held,) = response.json()["recipients"]
    assert held["outcome"] == "hold_for_authorisation", held
    assert [r["rule"] for r in held["decided_by"]] == ["GR2"], held["decided_by"]
    manager = Person(gateway, HV, "line_manager", "hv-manager-02")
    (item,) = (await manager.api("GET", "/v1/queues")).json()["hold_for_authorisation"]
    assert "knows and was asked" in (item["refuse_only"] or ""), item
    assert item["resolves"].startswith("The sender sends it again with whether the person or family knows"), item
    release = await manager.api(
        "POST", f"/v1/queues/{held['delivery_id']}", json={"decision": "release", "reason": "The family will be told."}
    )
    assert release.status_code == 409 and release.json()["error"] == "release_not_allowed", release.text
    refused = await manager.api(
        "POST", f"/v1/queues/{held['delivery_id']}", json={"decision": "refuse", "reason": "Send it with their view."}
    )
    assert refused.status_code == 200, refused.text
    # The refusal answers the finding that held it, GR2, not GR4's consent.
    (answer,) = _entries(gateway, audit.EventKind.AUTHORISATION_REFUSED)
    assert [r["rule"] for r in answer.reasons] == ["GR2"], answer.reasons
