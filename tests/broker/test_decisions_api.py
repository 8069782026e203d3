"""The decision-log API on the real stack: scoped by role, read-only, and every read is logged."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlmodel import Session, select

import audit
from demo.cases import cases
from tests.broker.conftest import Gateway
from tests.factories import PERSONAL_VALUES, school_referral

# Needs the running stack: the gateway fixture runs against the stack's Kafka and OPA.
pytestmark = pytest.mark.stack

SENDER, RECIPIENT, OUTSIDER = "school-oakfield-primary", "police-fenmere", "gp-willow-lane"
PARTNERSHIP_OFFICE = "csc-fenmere-mash"  # its IG lead and Caldicott Guardian hold the partnership's offices


async def _get(gateway: Gateway, url: str, who: str, role: str, **params: Any) -> Any:
    token = gateway.token(who, role=role, subject=f"{role}-test-user")
    return await gateway.client.get(url, params=params, headers={"Authorization": f"Bearer {token}"})


def _views(gateway: Gateway) -> list[audit.Entry]:
    with Session(gateway.engine) as session:
        query = select(audit.Entry).where(audit.Entry.kind == audit.EventKind.VIEWED)
        return list(session.exec(query))


async def _decided(gateway: Gateway) -> dict[str, int]:
    response = await gateway.post(school_referral())
    assert response.status_code == 202, response.text
    with Session(gateway.engine) as session:
        entries = session.exec(select(audit.Entry).where(audit.Entry.kind == "decided"))
        return {e.recipient_agency: e.seq for e in entries}


async def test_dsl_of_another_agency_gets_404_and_an_empty_list(gateway: Gateway) -> None:
    seqs = await _decided(gateway)
    for seq in seqs.values():
        response = await _get(gateway, f"/v1/decisions/{seq}", OUTSIDER, "dsl")
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
    missing = await _get(gateway, "/v1/decisions/999999", OUTSIDER, "dsl")
    assert missing.json() == (await _get(gateway, f"/v1/decisions/{seqs[RECIPIENT]}", OUTSIDER, "dsl")).json()
    listed = await _get(gateway, "/v1/decisions", OUTSIDER, "dsl")
    assert listed.status_code == 200
    assert listed.json()["total"] == 0 and listed.json()["items"] == []
    filtered = await _get(gateway, "/v1/decisions", OUTSIDER, "dsl", agency=SENDER)
    assert filtered.json()["items"] == [], "an agency filter must not widen the caller's scope"
    assert _views(gateway) == [], "nothing was shown, so nothing was viewed"


async def test_recipient_dsl_sees_only_its_own_deliveries(gateway: Gateway) -> None:
    seqs = await _decided(gateway)
    listed = (await _get(gateway, "/v1/decisions", RECIPIENT, "dsl")).json()
    assert [item["seq"] for item in listed["items"]] == [seqs[RECIPIENT]]
    other = await _get(gateway, f"/v1/decisions/{seqs['csc-fenmere-mash']}", RECIPIENT, "dsl")
    assert other.status_code == 404
    sender = (await _get(gateway, "/v1/decisions", SENDER, "agency_system")).json()
    assert sender["total"] == 3, "an agency system reads its own agency's decisions"


async def test_a_decision_lists_the_same_notifications_other_decisions_its_reader_may_read(gateway: Gateway) -> None:
    """The sender reads whom else the referral went to and what each got; a recipient reads no other
    recipient's decision there, not even that there was one; each decision listed is recorded as read."""
    seqs = await _decided(gateway)
    with Session(gateway.engine) as session:
        decided = session.exec(select(audit.Entry).where(audit.Entry.kind == "decided"))
        outcomes = {e.seq: e.outcome for e in decided}
    assert len(set(outcomes.values())) > 1, "the referral is shared with some and refused to another"
    body = (await _get(gateway, f"/v1/decisions/{seqs[RECIPIENT]}", SENDER, "dsl")).json()
    others = [(item["seq"], item["recipient_agency"], item["outcome"]) for item in body["same_notification"]]
    assert others == sorted((seq, agency, outcomes[seq]) for agency, seq in seqs.items() if agency != RECIPIENT)
    read = {v.follows[0] for v in _views(gateway) if v.actor_agency == SENDER}
    assert read == set(seqs.values()), "the decision read and each listed beside it"

    as_recipient = (await _get(gateway, f"/v1/decisions/{seqs[RECIPIENT]}", RECIPIENT, "dsl")).json()
    assert as_recipient["same_notification"] == []
    assert {v.follows[0] for v in _views(gateway) if v.actor_agency == RECIPIENT} == {seqs[RECIPIENT]}


async def test_partnership_ig_lead_sees_everything_with_reasons_sources_and_integrity(gateway: Gateway) -> None:
    seqs = await _decided(gateway)
    listed = (await _get(gateway, "/v1/decisions", PARTNERSHIP_OFFICE, "ig_lead")).json()
    assert {item["seq"] for item in listed["items"]} == set(seqs.values())
    agency_only = (await _get(gateway, "/v1/decisions", OUTSIDER, "ig_lead")).json()
    assert agency_only["items"] == [], "an agency's own IG lead sees only that agency's decisions"
    detail = await _get(gateway, f"/v1/decisions/{seqs[RECIPIENT]}", PARTNERSHIP_OFFICE, "caldicott_guardian")
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["integrity"]["status"] == "verified"
    assert body["fields_released"], "a share names the fields it released"
    assert body["lawful_basis"] and body["consent_state"] == "not_sought"
    rules = {r["rule"]: r for r in body["reasons"]}
    flags = [r["deciding"] for r in body["reasons"]]
    assert flags[0] and flags == sorted(flags, reverse=True), "the deciding findings come first"
    assert rules["GR4"]["source"], "each reason carries the source text of its rule"
    for value in PERSONAL_VALUES:
        assert value not in detail.text


async def test_a_reason_quotes_a_procedure_only_on_decisions_of_its_own_message_type(gateway: Gateway) -> None:
    """C4 rests on Caldicott's need to know everywhere, and on the LADO procedure's only for an allegation."""
    referral = (await _decided(gateway))[RECIPIENT]
    allegation = copy.deepcopy(cases()[2][1])  # the school's allegation against a teacher, to the LADO
    sent = await gateway.post(allegation)
    assert sent.status_code == 202, sent.text
    with Session(gateway.engine) as session:
        to_lado = session.exec(
            select(audit.Entry.seq).where(
                audit.Entry.kind == "decided", audit.Entry.notification_id == sent.json()["notification_id"]
            )
        ).first()
    sources = {}
    for name, seq in (("referral", referral), ("allegation", to_lado)):
        detail = (await _get(gateway, f"/v1/decisions/{seq}", PARTNERSHIP_OFFICE, "ig_lead")).json()
        (sources[name],) = {r["source"] for r in detail["reasons"] if r["rule"] == "C4"}
    assert sources["referral"].startswith("CPSCP-Procedures, Information sharing > The Eight Caldicott Principles")
    assert "LADO" not in sources["referral"], sources["referral"]
    assert sources["allegation"].startswith(sources["referral"] + "; CPSCP-Procedures, LADO > 3."), sources


async def test_filters_and_paging(gateway: Gateway) -> None:
    await _decided(gateway)
    await _decided(gateway)
    shares = (await _get(gateway, "/v1/decisions", PARTNERSHIP_OFFICE, "ig_lead", outcome="no_share")).json()
    assert shares["total"] == 2 and {i["outcome"] for i in shares["items"]} == {"no_share"}
    page = (await _get(gateway, "/v1/decisions", PARTNERSHIP_OFFICE, "ig_lead", limit=4, offset=4)).json()
    assert page["total"] == 6 and len(page["items"]) == 2
    by_rule = (
        await _get(
            gateway,
            "/v1/decisions",
            PARTNERSHIP_OFFICE,
            "ig_lead",
            rule_id="GR4",
            consent_state="not_sought",
            message_type="safeguarding_referral",
        )
    ).json()
    # The rule filter asks what GR4 decided, not where it is mentioned: the no-shares cite GR4 too.
    assert by_rule["total"] == 4
    with Session(gateway.engine) as session:
        for item in by_rule["items"]:
            assert "GR4" in session.get(audit.Entry, item["seq"]).deciding_rules  # type: ignore[union-attr]
            # The row says every rule that decided it, so a reader of a row whose first is another sees GR4.
            assert item["deciding_rules"] == list(session.get(audit.Entry, item["seq"]).deciding_rules)  # type: ignore[union-attr]
            assert item["deciding_rule"]["rule"] == item["deciding_rules"][0], item
    none = (await _get(gateway, "/v1/decisions", PARTNERSHIP_OFFICE, "ig_lead", consent_state="given_explicit")).json()
    assert none["total"] == 0
    # `agency` takes what an agency sent or received; `sender` and `recipient` take one side only.
    for params, total in (({"agency": RECIPIENT}, 2), ({"sender": SENDER}, 6), ({"recipient": RECIPIENT}, 2)):
        found = (await _get(gateway, "/v1/decisions", PARTNERSHIP_OFFICE, "ig_lead", **params)).json()
        assert found["total"] == total, (params, found["total"])
    for params in ({"sender": RECIPIENT}, {"recipient": SENDER}, {"sender": SENDER, "recipient": OUTSIDER}):
        found = (await _get(gateway, "/v1/decisions", PARTNERSHIP_OFFICE, "ig_lead", **params)).json()
        assert found["total"] == 0, (params, found["total"])
    # A misspelt outcome is refused by name, on both lists that take the filters, not answered "none".
    for url in ("/v1/decisions", "/v1/overdue"):
        misspelt = await _get(gateway, url, PARTNERSHIP_OFFICE, "ig_lead", outcome="shared")
        assert misspelt.status_code == 422
        (problem,) = misspelt.json()["detail"]
        assert problem["loc"] == ["query", "outcome"] and "share_minimised" in problem["msg"]


async def test_every_read_is_logged_and_nothing_can_be_written(gateway: Gateway) -> None:
    seqs = await _decided(gateway)
    seq = seqs[RECIPIENT]
    await _get(gateway, f"/v1/decisions/{seq}", RECIPIENT, "dsl")
    views = [v for v in _views(gateway) if v.follows == [seq]]
    assert len(views) == 1
    assert (views[0].actor, views[0].actor_role, views[0].actor_agency) == ("dsl-test-user", "dsl", RECIPIENT)
    token = gateway.token(OUTSIDER, role="ig_lead")
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        response = await gateway.client.request(
            method, f"/v1/decisions/{seq}", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 405


async def test_user_tokens_get_the_same_jwt_checks(gateway: Gateway) -> None:
    token = gateway.token(RECIPIENT, role="dsl")
    first = await gateway.client.get("/v1/decisions", headers={"Authorization": f"Bearer {token}"})
    again = await gateway.client.get("/v1/decisions", headers={"Authorization": f"Bearer {token}"})
    assert first.status_code == 200
    assert again.status_code == 401 and again.json()["reason"] == "replayed"
    anonymous = await gateway.client.get("/v1/decisions")
    assert anonymous.status_code == 401


async def test_each_row_names_the_one_rule_that_decided_in_words(gateway: Gateway) -> None:
    seqs = await _decided(gateway)
    listed = (await _get(gateway, "/v1/decisions", PARTNERSHIP_OFFICE, "ig_lead")).json()
    with Session(gateway.engine) as session:
        deciding = {seq: session.get(audit.Entry, seq).deciding_rules for seq in seqs.values()}  # type: ignore[union-attr]
    for item in listed["items"]:
        first = deciding[item["seq"]][0]
        assert item["deciding_rule"]["rule"] == first, "the row shows the first deciding rule"
        assert item["deciding_rule"]["title"] and item["deciding_rule"]["title"] != first, "in words, not an id"
