"""A correction goes to the team the first notification went to: a referral sent to the allocated
social worker at the front door is corrected to that social worker, not to the intake, so the worker
holding the case sees the correction. A team the form may not address for it now is not kept: the
correction goes to the team the form offers first, and its page says so. On the real gateway and OPA."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, col, select

import audit
from broker.db.tables import IdempotencyRecord
from broker.review import views
from broker.ui.form_types import find, sendable
from broker.ui.forms import NEED_TO_KNOW
from broker.ui.policy_pack import PolicyPack
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.broker.test_case_review import CSC
from tests.factories import asked_roles, school_referral
from tests.ui.form_walk import walk
from tests.ui.test_ui_correction import SCHOOL, _entries, _hidden, _words

pytestmark = pytest.mark.stack


async def _refer_to(sender: Person, team: str, ref: str) -> str:
    """A school's referral to the front door, addressed to `team` there."""
    to = [{"agency_id": CSC, "role": team, "need_to_know": "assess_and_decide"}]
    body = school_referral(recipients=to, subjects=[{"subject_ref": ref, "role_in_case": "child", "age_years": 6}])
    body["sender"] = {"agency_id": sender.agency, "role": sender.sends_as, "user_ref": sender.user_ref}
    body["sender"]["is_professional"] = True
    response = await sender.api("POST", "/v1/notifications", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["notification_id"])


def _addressed(gateway: Gateway, notification_id: str) -> dict[str, str]:
    return asked_roles(gateway.engine, notification_id)


async def test_a_correction_goes_to_the_team_the_first_went_to(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory()
    sender = Person(gateway, SCHOOL, "dsl", "dsl-correct-team-01")
    first = await _refer_to(sender, "social_worker", "pupil-6201")
    assert _addressed(gateway, first) == {CSC: "social_worker"}, "the first went to the allocated social worker"
    start = f"/ui/notifications/{first}/correction"
    await sender.sign_in()
    try:
        opened = await sender.page("GET", start)
        assert opened.status_code == 200, opened.text
        carried = _hidden(opened.text)
        assert carried[f"as:{CSC}"] == "social_worker", "the team the first went to is kept"
        assert "cannot receive this" not in _words(opened)

        assert sender.ui is not None
        types = sendable(await PolicyPack(opa_url, timeout=5).types(), gateway.registry, SCHOOL)
        form = find(types, "safeguarding_referral")
        assert form is not None
        given = {k: v for k, v in carried.items() if k not in ("csrf_token", "step", "notification_id")}
        given[f"ntk:{CSC}"] = NEED_TO_KNOW[0][0]
        seen: list[str] = []
        named = {"subject_ref": "pupil-6201"}
        check, answers = await walk(
            sender.ui, sender.csrf, types, form, "school", given=given, seen=seen, on_details=named
        )
        asked = next(page for page in seen if f'<select id="f-as:{CSC}"' in page)
        assert '<option value="social_worker" selected>' in asked, "the recipients step shows that team chosen"
        assert "(social worker)" in _words(check).lower(), "the check step repeats the team"

        done = await sender.ui.post(start, data={**answers, **_hidden(check), "csrf_token": sender.csrf, "go": "send"})
        assert done.status_code == 200, done.text
    finally:
        await sender.close()
    replacement = answers["notification_id"]
    # The walk may choose another agency too (the first it is offered); the front door is the one that matters.
    assert CSC in {e.recipient_agency for e in _entries(gateway, replacement, audit.EventKind.DECIDED)}
    assert _addressed(gateway, replacement)[CSC] == "social_worker", "the correction reached the same team"
    with Session(gateway.engine) as session:
        kept = session.exec(select(IdempotencyRecord).where(col(IdempotencyRecord.notification_id) == replacement))
        (receipt,) = [json.loads(r.response) for r in kept]
    assert {r["agency_id"]: r["role"] for r in receipt["recipients"]}[CSC] == "social_worker", "as decided"
    assert _entries(gateway, first, audit.EventKind.CORRECTED), "and the first is withdrawn"


async def test_a_team_the_form_may_not_address_now_is_replaced_and_said(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    sender = Person(gateway, SCHOOL, "dsl", "dsl-correct-team-02")
    # A team manager takes an escalation, not a referral the intake would triage: the form does not
    # offer one for a referral, though a referral sent by API may have been addressed there.
    first = await _refer_to(sender, "team_manager", "pupil-6202")
    await sender.sign_in()
    try:
        opened = await sender.page("GET", f"/ui/notifications/{first}/correction")
    finally:
        await sender.close()
    assert opened.status_code == 200, opened.text
    carried = _hidden(opened.text)
    assert carried[f"to:{CSC}"] == "mash_intake" and f"as:{CSC}" not in carried, "the team the form offers first"
    name = gateway.registry.agencies[CSC].name
    said = f"{name} was addressed to the team manager before; that team cannot receive this, so it goes to the MASH"
    assert f"{said} intake." in _words(opened), _words(opened)


async def test_opening_a_notification_to_correct_it_is_a_logged_read(gateway_factory: GatewayFactory) -> None:  # noqa: F811
    """An IG lead found that a line manager, who may withdraw and so correct a colleague's notification
    but not open its decision, saw its kind, role, recipients and teams on the correction page with no
    `viewed` entry, where every other read of a decision leaves one."""
    gateway = await gateway_factory()
    sender = Person(gateway, SCHOOL, "dsl", "dsl-correct-read-01")
    first = await _refer_to(sender, "social_worker", "pupil-6202")
    manager = Person(gateway, SCHOOL, "line_manager", "lm-correct-read-01")
    await manager.sign_in()
    opened = await manager.page("GET", f"/ui/notifications/{first}/correction")
    assert opened.status_code == 200, opened.text
    with Session(gateway.engine) as session:
        reads = session.exec(
            select(audit.Entry).where(
                col(audit.Entry.notification_id) == first, col(audit.Entry.kind) == audit.EventKind.VIEWED
            )
        ).all()
    assert [(e.actor, e.reasons[0]["message"]) for e in reads] == [("lm-correct-read-01", views.TO_CORRECT)]
