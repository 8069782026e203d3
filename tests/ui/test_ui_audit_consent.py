"""The audit page counts each recipient's share by the lawful basis it went on, not by the
notification's most restrictive consent record.

An IG lead found the "shares without consent" table wrong both ways: it missed an urgent share to
the police that went outside the consent recorded (the notification's consent word was "given"), and
counted shares that went within it. On the real gateway and OPA; the people are fictional.
"""

from __future__ import annotations

import copy
import html
import re
from typing import Any

import pytest
from sqlmodel import Session, col, select

import audit
from broker.ui import audit_page
from demo.cases import cases
from tests.broker.conftest import GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.factories import school_referral
from tests.ui.test_ui_fields_fate import _answer, _held

pytestmark = pytest.mark.stack

MASH, POLICE = "csc-fenmere-mash", "police-fenmere"
CSC = MASH


async def test_a_share_outside_the_consent_is_counted_and_one_within_it_is_not(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    # The parent agreed to children's social care only; the child is at immediate risk, so the police
    # are sent it now on the safeguarding basis (I14), outside the consent.
    body = school_referral(
        lawful_basis="consent",
        consent=[
            {
                "subject_ref": "child-1",
                "giver": "parent_pr",
                "status": "given_explicit",
                "scope_agencies": [MASH],
                "privacy_notice_given": True,
            }
        ],
        parental_position={"parents_informed": True, "parent_withheld_permission": None, "reason_not_informed": None},
        risk={
            "immediate_significant_harm": True,
            "likely_significant_harm": True,
            "serious_harm_to_adult": False,
            "risk_to_others": False,
            "crime_suspected": True,
        },
        recipients=[
            {"agency_id": MASH, "role": "mash_intake", "need_to_know": "assess_and_decide"},
            {"agency_id": POLICE, "role": "police_public_protection", "need_to_know": "investigate_crime"},
        ],
    )
    response = await gateway.post(body)
    assert response.status_code == 202, response.text
    decided = {r["agency_id"]: r for r in response.json()["recipients"]}
    assert decided[MASH]["lawful_basis"] == "consent", decided[MASH]
    assert decided[POLICE]["outcome"] == "share_urgent_review_after", decided[POLICE]
    assert decided[POLICE]["lawful_basis"] not in (None, "consent"), decided[POLICE]

    rows = audit_page.totals(gateway.decision_log)["no_consent"]
    assert [(r["lawful_basis"], r["consent_state"], r["count"]) for r in rows] == [
        (decided[POLICE]["lawful_basis"], "given_explicit", 1)
    ]


async def test_a_held_share_released_by_an_authoriser_is_counted(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    # Consent not sought, held for the line manager (no lawful basis would hold it for the sender alone):
    # the manager's release makes it a share on the safeguarding basis, which the table counts.
    gateway = await gateway_factory()
    held = await _held(gateway, "pupil-audit-01")
    assert audit_page.totals(gateway.decision_log)["no_consent"] == []
    await _answer(gateway, held, "release")
    rows = audit_page.totals(gateway.decision_log)["no_consent"]
    assert [r["count"] for r in rows] == [1], rows


async def test_shares_of_a_kind_that_asks_no_consent_are_counted_apart(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    # The Caldicott Guardian could not tell, among shares not resting on consent, a consent passed over from
    # a kind the procedures ask none for (readers of the demo, the last stop): each row now says which.
    gateway = await gateway_factory()
    missing = next(copy.deepcopy(body) for _, body in cases() if body["message_type"] == "missing_child")
    for body in (missing, school_referral()):
        response = await gateway.post(body)
        assert response.status_code == 202, response.text
        outcomes = [r["outcome"] for r in response.json()["recipients"]]
        assert outcomes.count("share") == 2 and set(outcomes) <= {"share", "no_share"}, outcomes
    guardian = Person(gateway, CSC, "caldicott_guardian", "cg-audit-consent-01")
    await guardian.sign_in()
    try:
        shown = await guardian.page("GET", "/ui/audit")
    finally:
        await guardian.close()
    assert shown.status_code == 200, shown.text[-800:]
    section = shown.text.split('id="h-noconsent"', 1)[1].split("</section>", 1)[0]
    rows = [
        [" ".join(html.unescape(re.sub(r"<[^>]+>", "", cell)).split()) for cell in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", section, re.S)
        if "<td>" in row
    ]
    assert rows == [
        [
            "safeguarding of children and individuals at risk (DPA 2018)",
            "not sought",
            "Yes",
            "Safeguarding referral",
            "2",
        ],
        [
            "overriding public interest",
            "none recorded",  # not "so taken as not sought", where the kind asks none (as its page says)
            "No: the procedures ask none",
            "Missing child notice",
            "2",
        ],
    ], rows
    # Its page says the same of the consent recorded, where "taken as not sought" read as a gap beside GR4.
    seq = next(e.seq for e in _decided(gateway, str(missing["notification_id"])))
    guardian = Person(gateway, CSC, "caldicott_guardian", "cg-audit-consent-02")
    await guardian.sign_in()
    try:
        decision = await guardian.page("GET", f"/ui/decisions/{seq}")
    finally:
        await guardian.close()
    consent = re.search(r"<dt>Consent</dt><dd>(.*?)</dd>", decision.text, re.S)
    assert consent is not None, decision.text[-800:]
    assert consent.group(1).startswith("none recorded: the partnership's procedures ask none for this kind"), consent


def _decided(gateway: Any, notification_id: str) -> list[audit.Entry]:
    with Session(gateway.engine) as session:
        query = select(audit.Entry).where(
            col(audit.Entry.notification_id) == notification_id, col(audit.Entry.kind) == audit.EventKind.DECIDED
        )
        return list(session.exec(query).all())
