"""A decision's page names the team its recipient was addressed to, and whose consent the share rested on
and whether it covers that recipient, as the notification's kept policy input says: the log's decided
entry holds only the agency and one word for the whole notification's consent.

A recipient must not learn which other agencies received the notification, so a consent's scope is
said only as covering this agency or not, never as the agencies it names. On the real gateway and OPA;
the people are fictional.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

import audit
from tests.broker.conftest import GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import POLICE, Person
from tests.factories import logged_decision, school_referral, shared_draft
from tests.ui.test_ui_correction import SCHOOL, _words

pytestmark = pytest.mark.stack

CSC = "csc-fenmere-mash"
TO_CSC = {"agency_id": CSC, "role": "social_worker", "need_to_know": "assess_and_decide"}
# A pupil of 14, able to decide for themselves, agreed to children's social care being told, and no one else.
PUPIL = {"subject_ref": "pupil-7301", "role_in_case": "child", "age_years": 14, "gillick_competent": "yes"}
TO_CSC_ONLY = {
    "subject_ref": "pupil-7301",
    "giver": "child",
    "status": "given_explicit",
    "scope_agencies": [CSC],
    "privacy_notice_given": True,
}
YOUNG_PERSON = "Given by the young person themselves"
PARENT_REFUSED = {
    "subject_ref": "pupil-7301",
    "giver": "parent_pr",
    "status": "refused",
    "not_sought_reason": "risk_significant_harm",
}


async def _sent(sender: Person, consent: list[dict[str, Any]]) -> str:
    body = school_referral(recipients=[TO_CSC, POLICE], subjects=[PUPIL], consent=consent)
    body["sender"] = {"agency_id": sender.agency, "role": sender.sends_as, "user_ref": sender.user_ref}
    body["sender"]["is_professional"] = True
    response = await sender.api("POST", "/v1/notifications", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["notification_id"])


async def _page(reader: Person, entry: audit.Entry) -> str:
    """The decision's page as `reader` opens it, signed in."""
    return await reader.opened(f"/ui/decisions/{entry.seq}")


async def test_each_recipient_reads_its_team_and_whether_the_consent_covers_it(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    sent = await _sent(Person(gateway, SCHOOL, "dsl", "dsl-addressed-01"), [TO_CSC_ONLY])
    to_csc, to_police = (logged_decision(gateway.engine, sent, a) for a in (CSC, POLICE["agency_id"]))
    assert to_csc.outcome == to_police.outcome == "share", "both received it, on the lawful basis"
    assert to_police.consent_state == "given_explicit", "the log's one word says nothing of whose, nor whom it covers"

    police = await _page(Person(gateway, POLICE["agency_id"], "ig_lead", "ig-addressed-01"), to_police)
    assert "<dt>Team</dt><dd>Police public protection unit</dd>" in police, _words(police)
    assert f"<li>{YOUNG_PERSON}; does not cover this agency; privacy notice given.</li>" in police, _words(police)
    # The consent's scope names the front door: the police must not learn from it who else was told.
    front_door = gateway.registry.agencies[CSC].name
    assert front_door not in _words(police) and CSC not in police, "the page names another recipient"

    csc = await _page(Person(gateway, CSC, "dsl", "csc-dsl-addressed-01"), to_csc)
    assert "<dt>Team</dt><dd>Social worker</dd>" in csc, _words(csc)
    assert f"<li>{YOUNG_PERSON}; covers this agency; privacy notice given.</li>" in csc, _words(csc)


async def test_the_sender_reads_each_consent_record_and_a_refusal_names_whose_it_is(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    sender = Person(gateway, SCHOOL, "dsl", "dsl-addressed-02")
    sent = await _sent(sender, [TO_CSC_ONLY, PARENT_REFUSED])
    to_police = logged_decision(gateway.engine, sent, POLICE["agency_id"])
    assert to_police.consent_state == "refused", "one word for two people's positions"
    page = await _page(sender, to_police)
    said = re.findall(r"<li>([^<]*)</li>", page.split('<ul class="consent-records">', 1)[1].split("</ul>", 1)[0])
    assert said == [
        f"{YOUNG_PERSON}; does not cover this agency; privacy notice given.",
        "Refused by a parent or carer with parental responsibility.",
    ], _words(page)


async def test_a_decision_kept_without_its_policy_input_shows_neither(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    """A decision from before the policy inputs were kept: its page shows what the log holds, no more."""
    gateway = await gateway_factory()
    (entry,) = await gateway.decision_log.append([_older_decision()])
    page = await _page(Person(gateway, SCHOOL, "dsl", "dsl-addressed-03"), entry)
    assert "<dt>Consent</dt><dd>not sought</dd>" in page, _words(page)
    assert "<dt>Team</dt>" not in page and "consent-records" not in page


def _older_decision() -> audit.EntryDraft:
    return shared_draft(
        str(uuid.uuid4()),
        CSC,
        reasons=({"rule": "GR7", "message": "This decision is recorded before anything is sent."},),
        lawful_basis="safeguarding_children_individuals_at_risk",
        consent_state="not_sought",
        actor="dsl-addressed-03",
        actor_role="dsl",
        actor_agency=SCHOOL,
    )


async def test_a_consent_nobody_answered_is_not_said_to_be_anyones(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    # Not sought: the form records it as the parents' record, which would read as a parent having been
    # asked; the page says "not sought" once, and names no one.
    gateway = await gateway_factory()
    sender = Person(gateway, SCHOOL, "dsl", "dsl-addressed-04")
    not_sought = {**PARENT_REFUSED, "status": "not_sought"}
    sent = await _sent(sender, [not_sought])
    page = await _page(sender, logged_decision(gateway.engine, sent, CSC))
    assert "<dt>Consent</dt><dd>not sought</dd>" in page, _words(page)
    assert "parental responsibility" not in page, _words(page)
