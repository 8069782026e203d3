"""The decision page and the review queue mark the deciding findings themselves, not every finding of a
deciding rule: GR4 can have a finding that decided (a hold waiting for authorisation) and one that did not
(a consent-scope no_share that C7's duty to share overrode), or the other way round. Over HTTP on the real
gateway and OPA. And a problem with the whole notification leads its reasons once, not twice."""

from __future__ import annotations

import html
import uuid
from typing import Any

import pytest
from sqlmodel import Session, select

import audit
from broker.sharing.decide import Decider
from broker.ui.receipt_page import explained as _explained
from schemas.notifications import parse_notification
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.policy.bases import patched

pytestmark = pytest.mark.stack

CSC = "csc-fenmere-mash"
_WAITING = "Waiting for authorisation by one of"
_SCOPE = "The consent recorded does not cover"


def _strategy(*, likely_harm: bool) -> dict[str, Any]:
    """A strategy discussion to the police whose consent covers only CSC: GR4 finds the consent's scope
    does not reach the police (no_share) and, apart from that, that it waits for an authoriser."""
    consent = {
        "subject_ref": "subj-1",
        "giver": "parent_pr",
        "status": "given_explicit",
        "privacy_notice_given": True,
        "scope_agencies": [CSC],
    }
    body = patched(
        "strategy",
        {"consent": [consent], "risk": {"likely_significant_harm": likely_harm}, "authorisation": None},
    )
    body["notification_id"] = str(uuid.uuid4())
    return body


def _section(page: str, start: str, end: str) -> str:
    text = html.unescape(page)
    assert start in text, text[:1500]
    return text.split(start, 1)[1].split(end, 1)[0]


async def _sent(gateway: Gateway, body: dict[str, Any]) -> dict[str, Any]:
    answer = await gateway.post(body)
    assert answer.status_code in (200, 201, 202), answer.text
    (recipient,) = answer.json()["recipients"]
    return dict(recipient)


def _decided(gateway: Gateway, delivery_id: str) -> audit.Entry:
    with Session(gateway.engine) as session:
        found = select(audit.Entry).where(audit.Entry.delivery_id == delivery_id, audit.Entry.kind == "decided")
        return session.exec(found).one()


async def _detail(gateway: Gateway, seq: int, subject: str) -> str:
    """The decision page as the sender's Caldicott Guardian reads it."""
    guardian = Person(gateway, CSC, "caldicott_guardian", subject)
    try:
        await guardian.sign_in()
        return (await guardian.page("GET", f"/ui/decisions/{seq}")).text
    finally:
        await guardian.close()


async def test_a_hold_shows_only_the_finding_that_held_it(gateway_factory: GatewayFactory) -> None:  # noqa: F811
    gateway = await gateway_factory()
    held = await _sent(gateway, _strategy(likely_harm=True))
    assert held["outcome"] == "hold_for_authorisation", held
    assert [r["message"][: len(_WAITING)] for r in held["decided_by"]] == [_WAITING]
    assert any(r["rule"] == "GR4" and r["message"].startswith(_SCOPE) for r in held["reasons"]), held["reasons"]
    manager = Person(gateway, CSC, "line_manager", "lm-test-01")
    try:
        await manager.sign_in()
        queue = (await manager.page("GET", "/ui/queues")).text
    finally:
        await manager.close()
    logged = _decided(gateway, held["delivery_id"])
    detail = await _detail(gateway, logged.seq, "cg-test-01")
    why = _section(queue, "Why it is held", "What would resolve it")
    assert _WAITING in why and _SCOPE not in why, why
    # The scope finding would on its own have stopped it (C7's duty to share overrode it): it is not read
    # among the findings that did not matter, but as one that would also have held or stopped it.
    blocking = _section(queue, "Would also have held or stopped it", "</div>")
    assert _SCOPE in blocking and _WAITING not in blocking, blocking
    assert _SCOPE not in _section(queue, "Findings that did not decide it", "</details>")
    decided_by = _section(detail, 'id="h-decided-by"', "</section>")
    assert _WAITING in decided_by and _SCOPE not in decided_by, decided_by
    assert _SCOPE in _section(detail, 'id="h-blocking"', "</section>")
    assert logged.deciding_reasons == [0], "the log names the deciding finding itself"
    scope_at = next(i for i, r in enumerate(logged.reasons) if r["message"].startswith(_SCOPE))
    assert logged.blocking_reasons == [scope_at] == held["blocking_reasons"], "and the one that would also stop it"
    # The lists name its rule too, so a list reader knows it needs more than the deciding finding put right.
    guardian = Person(gateway, CSC, "caldicott_guardian", "cg-test-03")
    listed = (await guardian.api("GET", "/v1/decisions")).json()["items"]
    assert [i["blocking_rules"] for i in listed if i["seq"] == logged.seq] == [["GR4"]]
    try:
        await guardian.sign_in()
        rows = html.unescape((await guardian.page("GET", "/ui/decisions")).text)
    finally:
        await guardian.close()
    assert "would also have held or stopped it: GR4" in rows, rows[-3000:]
    # The page after sending marks it from the receipt, as the decision's page does from the log.
    sent_page = await _explained(held, gateway.app.state.rules, logged.message_type)
    assert [r["message"][: len(_SCOPE)] for r in sent_page["reasons"] if r["blocking"]] == [_SCOPE]


async def test_a_no_share_does_not_show_the_wait_for_authorisation_as_deciding(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    refused = await _sent(gateway, _strategy(likely_harm=False))
    assert refused["outcome"] == "no_share", refused
    assert sorted(r["rule"] for r in refused["decided_by"]) == ["C7", "GR4"]
    detail = await _detail(gateway, _decided(gateway, refused["delivery_id"]).seq, "cg-test-02")
    decided_by = _section(detail, 'id="h-decided-by"', "</section>")
    assert _SCOPE in decided_by and "C7" in decided_by, decided_by
    assert _WAITING not in decided_by, decided_by
    assert _WAITING in _section(detail, 'id="h-blocking"', "</section>"), "a hold outranked is not a condition met"


async def test_a_whole_notification_error_leads_the_reasons_once(gateway_factory: GatewayFactory) -> None:  # noqa: F811
    gateway = await gateway_factory()
    state = gateway.app.state
    # A gateway whose settings name another partnership than the registry OPA holds.
    decider = Decider(
        policy=state.policy, registry=gateway.registry, partnership_id="another-partnership", metrics=state.metrics
    )
    decision = await decider.decide(parse_notification(_strategy(likely_harm=True)))
    (recipient,) = decision.recipients
    rules = [r.rule for r in recipient.reasons]
    assert recipient.outcome == "no_share"
    assert rules.count("SYS-REGISTRY") == 1, rules
    assert rules[0] == "SYS-REGISTRY" and [r.rule for r in recipient.decided_by] == ["SYS-REGISTRY"]
