"""The guided form offers only the recipients the policy lets the notification's stage reach.

An allegation against someone who works with children (M14) goes, at the employer's referral, to the
LADO, the police, children's social care and Ofsted; only the LADO's own stages (the meeting's
invitation, its record, the outcome) go to every agency at the meeting. The form asks who needs to know
before the stage, so it offers what the stages this sender may send allow, and when the stage given
takes a chosen agency off, the recipients step comes round again saying so, as C4 would refuse it.

Against the real gateway and its OPA, with the tests' partnership (tests/fixtures/registry.json).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from broker.partnership.cli import issue_token
from broker.ui.form_types import FormType, recipient_options, sendable
from broker.ui.policy_pack import PolicyPack, rules_of
from schemas.payloads.proceedings import ConferenceStage
from schemas.payloads.protection import LadoStage
from tests.broker.conftest import AUDIENCE, Gateway, GatewayFactory, gateway_factory  # noqa: F401
from tests.ui.form_walk import sign_in, walk

SCHOOL, POLICE, LADO, GP = "school-oakfield-primary", "police-fenmere", "lado-fenmere", "gp-willow-lane"
PACK = json.loads((Path(__file__).resolve().parents[2] / "policies/safeguarding/config/data.json").read_text())


def test_a_stage_allows_its_own_recipients_and_an_unknown_stage_those_its_sender_may_reach() -> None:
    rules = rules_of("lado_allegation", PACK["message_types"]["lado_allegation"])
    stages = [s.value for s in LadoStage]

    def receives(agency_type: str, sender_type: str, **facts: str) -> bool:
        return rules.received_by(agency_type, facts, sender_type=sender_type, stages=stages)

    # Before the stage: a school may send the referral or the DBS referral, never the meeting's papers.
    assert not receives("health_gp", "education_school")
    assert receives("health_gp", "lado")
    assert receives("dbs", "education_school") and receives("ofsted", "education_school")
    # Once given, the stage's own list alone, else the type's.
    assert receives("police", "education_school", stage="referral")
    assert not receives("police", "education_school", stage="dbs_referral")
    assert not receives("health_gp", "lado", stage="referral")
    assert receives("health_gp", "lado", stage="amm_record")


def test_a_conference_report_goes_only_where_its_stage_lets_it() -> None:
    rules = rules_of("cp_conference", PACK["message_types"]["cp_conference"])
    stages = [s.value for s in ConferenceStage]
    # A health visitor sends only the report, which goes to children's social care, never to adult care.
    assert not rules.received_by("asc", {}, sender_type="health_community", stages=stages)
    assert rules.received_by("csc_team", {}, sender_type="health_community", stages=stages)
    assert rules.received_by("asc", {}, sender_type="csc_team", stages=stages)


def test_a_stage_that_reaches_only_the_senders_own_kind_is_not_offered_to_it() -> None:
    rules = rules_of("dvds_disclosure", PACK["message_types"]["dvds_disclosure"])
    # An agency's request for a disclosure goes to the police: the police decide, and send the decision.
    assert rules.offers("agency_request", sender_type="health_gp")
    assert not rules.offers("agency_request", sender_type="police")
    assert rules.offers("police_decision", sender_type="police")
    assert not rules.offers("police_decision", sender_type="health_gp")


def _step(page: str) -> str:
    found = re.search(r"<h2>Step \d+ of \d+: ([^<]+)</h2>", page)
    return found.group(1) if found else ""


async def _allegation(factory: GatewayFactory, opa_url: str) -> tuple[Gateway, str, list[FormType], dict[str, str]]:
    """A school DSL signed in, the types they may send, and the LADO and the police chosen for an allegation."""
    gateway = await factory(ui_cookie_secure=False)
    token = issue_token(gateway.partnership.agency_keys(SCHOOL), role="dsl", audience=AUDIENCE, subject="dsl-03")
    csrf = await sign_in(gateway.client, token)
    sent = sendable(await PolicyPack(opa_url, timeout=5).types(), gateway.registry, SCHOOL)
    # The allegation first: the walk's form, then every type the school may send.
    types = sorted(sent, key=lambda t: t.message_type != "lado_allegation")
    assert types[0].message_type == "lado_allegation", "a school may not send an allegation"
    roles = {o["id"]: o["role"] for o in recipient_options(gateway.registry, SCHOOL, types[0])}
    assert GP not in roles, "a GP offered for a school's allegation: only the LADO's stages reach it"
    chosen = {f"to:{a}": roles[a] for a in (LADO, POLICE)} | {f"ntk:{a}": "protect_child" for a in (LADO, POLICE)}
    return gateway, csrf, types, chosen


async def test_a_stage_that_takes_a_chosen_agency_off_brings_the_recipients_step_back(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway, csrf, types, chosen = await _allegation(gateway_factory, opa_url)
    form, seen = types[0], list[str]()
    # The details step's answer is refused (422) with the recipients step shown again, ending the walk.
    with pytest.raises(AssertionError, match="may not receive this"):
        await walk(gateway.client, csrf, types, form, "education_school", chosen, seen, {"p:stage": "dbs_referral"})

    first = next(page for page in seen if _step(page) == "Who needs to know")
    assert f'name="to:{POLICE}"' in first and f'name="to:{GP}"' not in first
    again = html.unescape(seen[-1])
    assert _step(again) == "Who needs to know", "the recipients step did not come round again"
    assert "mean Fenmere Constabulary (fictional)" in again and "may not receive this" in again, again[-3000:]
    assert f'name="to:{POLICE}"' not in again and f'name="to:{LADO}"' in again


async def test_a_stage_that_allows_every_chosen_agency_goes_straight_on(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway, csrf, types, chosen = await _allegation(gateway_factory, opa_url)
    form, seen = types[0], list[str]()
    last, _ = await walk(gateway.client, csrf, types, form, "education_school", chosen, seen, {"p:stage": "referral"})
    assert [_step(p) for p in seen[1:]].count("Who needs to know") == 1
    assert "What each recipient would get" in last
