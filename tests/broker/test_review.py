"""Review queues on the real stack: a named person's answer is a linked log entry that releases the
held share into the outbox or destroys its key, in one commit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

import audit
from broker.db.tables import HeldDelivery, HeldKey, OutboxRow
from broker.delivery import scheduler
from schemas.notifications import parse_notification
from schemas.policy_decision import OUTCOME_EFFECT
from schemas.vocab import Outcome
from tests.broker.conftest import Gateway
from tests.factories import PERSONAL_VALUES, school_referral
from tests.policy.bases import not_sought, patched

# Needs the running stack: the gateway fixture runs against the stack's Kafka and OPA.
pytestmark = pytest.mark.stack

SENDER, CSC = "school-oakfield-primary", "csc-fenmere-mash"
URGENT_RISK = {
    "immediate_significant_harm": True,
    "likely_significant_harm": True,
    "serious_harm_to_adult": False,
    "risk_to_others": False,
    "crime_suspected": True,
}


def _auth(gateway: Gateway, agency: str, role: str, subject: str | None = None) -> dict[str, str]:
    token = gateway.token(agency, role=role, subject=subject or f"{role}-reviewer")
    return {"Authorization": f"Bearer {token}"}


async def _held(gateway: Gateway, **overrides: Any) -> dict[str, Any]:
    response = await gateway.post(school_referral(**overrides))
    assert response.status_code == 202, response.text
    return {r["agency_id"]: r for r in response.json()["recipients"]}


async def _queues(gateway: Gateway, agency: str, role: str) -> dict[str, Any]:
    response = await gateway.client.get("/v1/queues", headers=_auth(gateway, agency, role))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _answer(gateway: Gateway, delivery_id: str, agency: str, role: str, decision: str) -> Any:
    return await gateway.client.post(
        f"/v1/queues/{delivery_id}",
        headers=_auth(gateway, agency, role),
        json={"decision": decision, "reason": "Risk outweighs consent; share now."},
    )


def _rows(gateway: Gateway, delivery_id: str) -> tuple[HeldDelivery | None, HeldKey | None, list[OutboxRow]]:
    with Session(gateway.engine) as session:
        outbox = list(session.exec(select(OutboxRow).where(OutboxRow.delivery_id == delivery_id)))
        return session.get(HeldDelivery, delivery_id), session.get(HeldKey, delivery_id), outbox


async def test_advice_given_releases_the_held_message_into_the_outbox(gateway: Gateway) -> None:
    decided = await _held(gateway, sender_in_doubt=True)
    delivery = decided[CSC]
    assert delivery["outcome"] == "needs_advice"
    assert _rows(gateway, delivery["delivery_id"])[2] == [], "nothing is queued before advice"
    queue = (await _queues(gateway, SENDER, "dsl"))["needs_advice"]
    item = next(i for i in queue if i["delivery_id"] == delivery["delivery_id"])
    assert item["data_classes"] and item["reasons"]
    assert item["deciding_rules"][0] == "GR3", "the card leads with what caused the hold"
    assert "adviser" in item["resolves"]
    for value in PERSONAL_VALUES:
        assert value not in repr(queue), "advice requests are pseudonymised (GR3)"
    response = await _answer(gateway, delivery["delivery_id"], SENDER, "dsl", "release")
    assert response.status_code == 200, response.text
    entry = response.json()
    assert entry["kind"] == "advice_given" and entry["outcome"] == "released"
    held, key, outbox = _rows(gateway, delivery["delivery_id"])
    assert held is not None and held.resolution == "released" and key is None
    assert len(outbox) == 1 and outbox[0].envelope
    with Session(gateway.engine) as session:
        logged = session.get(audit.Entry, entry["seq"])
        assert logged is not None and logged.follows == [item["decided_seq"]]
        assert (logged.actor, logged.actor_role, logged.actor_agency) == ("dsl-reviewer", "dsl", SENDER)
    again = await _answer(gateway, delivery["delivery_id"], SENDER, "dsl", "release")
    assert again.status_code == 404, "a decided item leaves the queue"
    listed = await gateway.client.get("/v1/decisions", headers=_auth(gateway, SENDER, "dsl"))
    states = {i["delivery_id"]: i["state"] for i in listed.json()["items"]}
    assert states[delivery["delivery_id"]] == "released", "the list shows where a held decision stands now"


async def test_refused_authorisation_destroys_the_key(gateway: Gateway) -> None:
    decided = await _held(gateway, lawful_basis=None)
    delivery = decided[CSC]
    assert delivery["outcome"] == "hold_for_authorisation"
    assert (await _queues(gateway, SENDER, "dsl"))["hold_for_authorisation"] == [], "a DSL does not authorise"
    response = await _answer(gateway, delivery["delivery_id"], SENDER, "line_manager", "refuse")
    assert response.status_code == 200, response.text
    assert response.json()["kind"] == "authorisation_refused"
    held, key, outbox = _rows(gateway, delivery["delivery_id"])
    assert key is None, "refusal destroys the held share's key"
    assert held is not None and held.resolution == "refused" and held.ciphertext == b""
    assert outbox == []


async def test_a_queue_item_names_its_deciding_findings_by_position(gateway: Gateway) -> None:
    # A strategy discussion whose consent covers only CSC, sent to the police: GR4 holds it for an
    # authoriser (deciding) and also finds the consent does not reach the police (a no_share finding
    # that did not decide), so only positions tell the two GR4 findings apart.
    consent = {"subject_ref": "subj-1", "giver": "parent_pr", "status": "given_explicit"}
    scoped = {**consent, "privacy_notice_given": True, "scope_agencies": [CSC]}
    risk = {"likely_significant_harm": True}
    body = patched("strategy", {"consent": [scoped], "risk": risk, "authorisation": None})
    body["notification_id"] = str(uuid.uuid4())
    sent = await gateway.post(body)
    assert sent.status_code == 202, sent.text
    (receipt,) = sent.json()["recipients"]
    assert receipt["outcome"] == "hold_for_authorisation", receipt
    queue = (await _queues(gateway, CSC, "line_manager"))["hold_for_authorisation"]
    item = next(i for i in queue if i["delivery_id"] == receipt["delivery_id"])
    reasons = [(r["rule"], r["message"]) for r in item["reasons"]]
    gr4 = [i for i, (rule, _) in enumerate(reasons) if rule == "GR4"]
    assert item["deciding_rules"] == ["GR4"] and len(gr4) >= 2, item
    assert item["deciding_reasons"] == [reasons.index((r["rule"], r["message"])) for r in receipt["decided_by"]]
    assert set(item["deciding_reasons"]) < set(gr4), "not every finding of the deciding rule"
    # The policy's own effects (the log keeps none): each listed finding has the outcome's effect, and the
    # GR4 finding left out has another (asked again of the same OPA: the same reasons, in the same order).
    (decided,) = (await gateway.app.state.decider.decide(parse_notification(body))).recipients
    assert [(r.rule, r.message) for r in decided.reasons] == reasons
    effect = OUTCOME_EFFECT[Outcome(item["outcome"])]
    assert all(decided.reasons[i].effect == effect for i in item["deciding_reasons"])
    assert all(decided.reasons[i].effect != effect for i in gr4 if i not in item["deciding_reasons"])
    with Session(gateway.engine) as session:
        logged = session.get(audit.Entry, item["decided_seq"])
        assert logged is not None and logged.deciding_reasons == item["deciding_reasons"], "as the log names them"


async def test_other_agencies_cannot_see_or_answer_a_queue_item(gateway: Gateway) -> None:
    decided = await _held(gateway, sender_in_doubt=True)
    delivery_id = decided[CSC]["delivery_id"]
    assert (await _queues(gateway, "police-fenmere", "dsl"))["needs_advice"] == []
    for agency, role in (("police-fenmere", "dsl"), ("gp-willow-lane", "ig_lead")):
        response = await _answer(gateway, delivery_id, agency, role, "release")
        assert response.status_code == 404, (agency, role)  # another agency's item: as if there were none
    for role in ("practitioner", "agency_system"):
        response = await _answer(gateway, delivery_id, SENDER, role, "release")
        assert response.status_code == 403, role  # the role answers no queue at all
    ig = await _answer(gateway, delivery_id, "csc-fenmere-mash", "ig_lead", "refuse")
    assert ig.status_code == 200, "the partnership's IG lead may answer any advice request"


async def test_answer_needs_a_reason(gateway: Gateway) -> None:
    decided = await _held(gateway, sender_in_doubt=True)
    response = await gateway.client.post(
        f"/v1/queues/{decided[CSC]['delivery_id']}",
        headers=_auth(gateway, SENDER, "dsl"),
        json={"decision": "release", "reason": "   "},
    )
    assert response.status_code == 422
    held, key, _ = _rows(gateway, decided[CSC]["delivery_id"])
    assert held is not None and held.resolved_at is None and key is not None


async def test_urgent_shares_wait_for_the_sending_dsl_to_review(gateway: Gateway) -> None:
    decided = await _held(gateway, risk=URGENT_RISK)
    assert decided[CSC]["outcome"] == "share_urgent_review_after"
    urgent = (await _queues(gateway, SENDER, "dsl"))["urgent_review"]
    assert {i["recipient_agency"] for i in urgent} >= {CSC}
    seq = next(i["decided_seq"] for i in urgent if i["recipient_agency"] == CSC)
    assert (await _queues(gateway, CSC, "dsl"))["urgent_review"] == []
    assert (await _state(gateway, seq)) == "review_due", "shared at once, and its review after still owed"
    response = await gateway.client.post(
        f"/v1/urgent/{seq}",
        headers=_auth(gateway, SENDER, "dsl"),
        json={"reason": "Reviewed next morning: right call.", "finding": "upheld"},
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["kind"], answer["outcome"], answer["follows"]) == ("urgent_reviewed", "upheld", [seq])
    with Session(gateway.engine) as session:
        logged = session.get(audit.Entry, answer["seq"])
    assert logged is not None and logged.kind == audit.EventKind.URGENT_REVIEWED
    left = (await _queues(gateway, SENDER, "dsl"))["urgent_review"]
    assert seq not in {i["decided_seq"] for i in left}
    assert (await _state(gateway, seq)) == "reviewed"
    again = await gateway.client.post(
        f"/v1/urgent/{seq}", headers=_auth(gateway, SENDER, "dsl"), json={"reason": "Twice.", "finding": "upheld"}
    )
    assert again.status_code == 404


async def test_a_review_records_whether_the_urgent_share_was_upheld(gateway: Gateway) -> None:
    decided = await _held(gateway, risk=URGENT_RISK)
    assert decided[CSC]["outcome"] == "share_urgent_review_after"
    urgent = (await _queues(gateway, SENDER, "dsl"))["urgent_review"]
    seq = next(i["decided_seq"] for i in urgent if i["recipient_agency"] == CSC)
    url = f"/v1/urgent/{seq}"

    def headers() -> dict[str, str]:
        return _auth(gateway, SENDER, "dsl")  # a token is good for one request

    unsaid = await gateway.client.post(url, headers=headers(), json={"reason": "Checked."})
    assert unsaid.status_code == 422 and "finding" in unsaid.text, unsaid.text
    wrong = await gateway.client.post(url, headers=headers(), json={"reason": "Checked.", "finding": "fine"})
    assert wrong.status_code == 422 and "finding" in wrong.text, wrong.text
    assert (await _state(gateway, seq)) == "review_due", "a refused review recorded nothing"
    note = "No immediate harm after all: the MASH should have been asked first."
    found = await gateway.client.post(url, headers=headers(), json={"reason": note, "finding": "not_upheld"})
    assert found.status_code == 200, found.text
    with Session(gateway.engine) as session:
        logged = session.get(audit.Entry, found.json()["seq"])
    assert logged is not None and (logged.outcome, logged.reasons[0]["message"]) == ("not_upheld", note)
    assert (await _state(gateway, seq)) == "reviewed"


async def test_a_review_logged_before_its_own_kind_still_ends_the_review(gateway: Gateway) -> None:
    """Reviews were once logged as advice_given with outcome `reviewed`; the log keeps those entries
    as written, so the queue must still count them."""
    decided = await _held(gateway, risk=URGENT_RISK)
    urgent = (await _queues(gateway, SENDER, "dsl"))["urgent_review"]
    seq = next(i["decided_seq"] for i in urgent if i["delivery_id"] == decided[CSC]["delivery_id"])
    with Session(gateway.engine) as session:
        entry = session.get(audit.Entry, seq)
    assert entry is not None
    legacy = audit.EntryDraft(
        notification_id=entry.notification_id,
        delivery_id=entry.delivery_id,
        kind=audit.EventKind.ADVICE_GIVEN,
        outcome="reviewed",
        sender_agency=entry.sender_agency,
        sender_role=entry.sender_role,
        recipient_agency=entry.recipient_agency,
        message_type=entry.message_type,
        reasons=(audit.Reason(rule="C7", message="Reviewed before the kind existed."),),
        actor="dsl-reviewer",
        actor_role="dsl",
        actor_agency=SENDER,
        follows=(seq,),
    )
    await gateway.decision_log.append([legacy])
    left = (await _queues(gateway, SENDER, "dsl"))["urgent_review"]
    assert seq not in {i["decided_seq"] for i in left}
    assert (await _state(gateway, seq)) == "reviewed", "not 'refused': a review is no answer to a held share"


async def _state(gateway: Gateway, seq: int) -> str | None:
    """Where the decision stands now, as its sender's DSL reads it."""
    response = await gateway.client.get(f"/v1/decisions/{seq}", headers=_auth(gateway, SENDER, "dsl"))
    assert response.status_code == 200, response.text
    state: str | None = response.json()["state"]
    return state


async def test_nobody_authorises_or_advises_on_a_share_they_sent(gateway: Gateway) -> None:
    """Golden rule 4's agreement is another person's, as the Authorisation-Token route already insists."""
    body = school_referral(lawful_basis=None)
    body["sender"] = {**body["sender"], "role": "designated_senior_manager", "user_ref": "lm-sender-01"}
    sent_by = _auth(gateway, SENDER, "line_manager", "lm-sender-01")
    response = await gateway.client.post("/v1/notifications", json=body, headers=sent_by)
    assert response.status_code == 202, response.text
    delivery = {r["agency_id"]: r for r in response.json()["recipients"]}[CSC]
    assert delivery["outcome"] == "hold_for_authorisation"
    own_queue = await gateway.client.get("/v1/queues", headers=_auth(gateway, SENDER, "line_manager", "lm-sender-01"))
    assert delivery["delivery_id"] not in {i["delivery_id"] for i in own_queue.json()["hold_for_authorisation"]}
    refused = await gateway.client.post(
        f"/v1/queues/{delivery['delivery_id']}",
        headers=_auth(gateway, SENDER, "line_manager", "lm-sender-01"),
        json={"decision": "release", "reason": "Mine."},
    )
    assert refused.status_code == 403, refused.text
    assert "someone else must authorise it" in refused.text
    held, key, outbox = _rows(gateway, delivery["delivery_id"])
    assert held is not None and held.resolved_at is None and key is not None and outbox == []
    colleague = await _answer(gateway, delivery["delivery_id"], SENDER, "line_manager", "refuse")
    assert colleague.status_code == 200, colleague.text


# A `sub` holding @ / + = is named in a body with - in their place (README): the same person either way.
@pytest.mark.parametrize(
    ("subject", "named"),
    [("lm-sender-02", "lm-sender-02"), ("lm.sender@school.example", "lm.sender-school.example")],
    ids=["plain", "email-like"],
)
async def test_the_person_an_agency_system_sent_for_does_not_answer_it_either(
    gateway: Gateway, subject: str, named: str
) -> None:
    """The log's actor is the system; the body names the person it sent for, who is the sender here."""
    body = school_referral(lawful_basis=None)
    body["sender"] = {**body["sender"], "role": "designated_senior_manager", "user_ref": named}
    response = await gateway.post(body)  # the school's system, for that person
    assert response.status_code == 202, response.text
    delivery = {r["agency_id"]: r for r in response.json()["recipients"]}[CSC]
    assert delivery["outcome"] == "hold_for_authorisation"
    own_queue = await gateway.client.get("/v1/queues", headers=_auth(gateway, SENDER, "line_manager", subject))
    assert delivery["delivery_id"] not in {i["delivery_id"] for i in own_queue.json()["hold_for_authorisation"]}
    refused = await gateway.client.post(
        f"/v1/queues/{delivery['delivery_id']}",
        headers=_auth(gateway, SENDER, "line_manager", subject),
        json={"decision": "release", "reason": "Mine."},
    )
    assert refused.status_code == 403 and "someone else must authorise it" in refused.text, refused.text
    colleague = await _answer(gateway, delivery["delivery_id"], SENDER, "line_manager", "refuse")
    assert colleague.status_code == 200, colleague.text


async def test_a_held_share_nobody_answered_in_time_is_destroyed_and_logged(gateway: Gateway) -> None:
    decided = await _held(gateway, sender_in_doubt=True)
    delivery_id = decided[CSC]["delivery_id"]
    past = datetime.now(UTC) - timedelta(minutes=1)
    with Session(gateway.engine) as session:
        row = session.get(HeldDelivery, delivery_id)
        assert row is not None
        row.expires_at = past
        session.add(row)
        session.commit()
    queue = (await _queues(gateway, SENDER, "dsl"))["needs_advice"]
    assert delivery_id not in {i["delivery_id"] for i in queue}, "out of time: off the queue before the check"
    late = await _answer(gateway, delivery_id, SENDER, "dsl", "release")
    assert late.status_code == 409 and "expired unanswered" in late.text, late.text
    assert _rows(gateway, delivery_id)[2] == [], "nothing released"
    scheduler.tick(gateway.engine, datetime.now(UTC))
    held, key, outbox = _rows(gateway, delivery_id)
    assert key is None and held is not None and held.resolution == "expired" and outbox == []
    with Session(gateway.engine) as session:
        (entry,) = session.exec(
            select(audit.Entry).where(audit.Entry.delivery_id == delivery_id, audit.Entry.kind == "expired")
        )
    assert entry.outcome == "expired" and entry.reasons[0]["rule"] == "GR3"
    assert entry.reasons[0]["message"].startswith("Nobody answered within")
    scheduler.tick(gateway.engine, datetime.now(UTC))
    with Session(gateway.engine) as session:
        again = session.exec(
            select(audit.Entry).where(audit.Entry.delivery_id == delivery_id, audit.Entry.kind == "expired")
        )
        assert len(list(again)) == 1, "expired and logged once"
    listed = await gateway.client.get("/v1/decisions", headers=_auth(gateway, SENDER, "dsl"))
    states = {i["delivery_id"]: i["state"] for i in listed.json()["items"]}
    assert states[delivery_id] == "expired"


async def test_an_answer_after_the_sweep_expired_it_hears_expired_not_gone(gateway: Gateway) -> None:
    """The gateway's own scheduler may sweep first (CI saw it): the late answer still says why."""
    decided = await _held(gateway, sender_in_doubt=True)
    delivery_id = decided[CSC]["delivery_id"]
    with Session(gateway.engine) as session:
        row = session.get(HeldDelivery, delivery_id)
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(minutes=1)
        session.add(row)
        session.commit()
    scheduler.tick(gateway.engine, datetime.now(UTC))
    assert _rows(gateway, delivery_id)[0].resolution == "expired"  # type: ignore[union-attr]
    late = await _answer(gateway, delivery_id, SENDER, "dsl", "release")
    assert late.status_code == 409 and "expired unanswered" in late.text, late.text
    elsewhere = await _answer(gateway, delivery_id, "police-fenmere", "dsl", "release")
    assert elsewhere.status_code == 404, "out of scope: still as if it did not exist"
    assert _rows(gateway, delivery_id)[2] == [], "nothing released"


async def test_a_release_follows_the_partnerships_procedure_for_whom_it_asks(gateway: Gateway) -> None:
    """A strategy discussion is authorised by a line manager (the partnership's procedure): a named
    professional, whom the access table lets release other held shares, is refused this one (409), and
    the line manager releases it."""
    body = patched("strategy", {"consent": not_sought("risk_significant_harm"), "authorisation": None})
    body["notification_id"] = str(uuid.uuid4())
    sent = await gateway.post(body)
    assert sent.status_code == 202, sent.text
    (held,) = sent.json()["recipients"]
    assert held["outcome"] == "hold_for_authorisation", held
    refused = await _answer(gateway, held["delivery_id"], CSC, "named_professional", "release")
    assert refused.status_code == 409, refused.text
    assert "asks for authorisation by one of: line manager" in refused.text, refused.text
    assert "a named professional may not give it" in refused.text, refused.text
    released = await _answer(gateway, held["delivery_id"], CSC, "line_manager", "release")
    assert released.status_code == 200, released.text
