"""The guided form's "Your role" starts at the one role of the sender's own agency type they may send
as: a pathology service's practitioner is the pathologist (M19's post-mortem reports go to the Coroner
as `pathologist`). Where the agency's type has several (a MASH worker may be intake, duty or a social
worker) nothing is chosen for them, and a blank they choose stays blank.

Over HTTP as a browser posts, against the real gateway and its OPA, in the demo partnership with a
(fictional) pathology service and Coroner's office.
"""

from __future__ import annotations

import html
import re

import pytest
from sqlmodel import Session, select

import audit
from broker.partnership.cli import issue_token
from broker.review import access
from broker.ui.form_types import own_role, sendable
from broker.ui.policy_pack import PolicyPack
from devstack.partnership import AgencySpec, LocalPartnership, provision
from tests.broker.conftest import AUDIENCE, Gateway, GatewayFactory, demo_agencies, demo_offices, gateway_factory  # noqa: F401
from tests.ui.form_walk import csrf, sign_in, walk

PATHOLOGY, CSC, SCHOOL = "pathologist-fenmere", "csc-fenmere-mash", "school-oakfield-primary"
DEATH = "child_death_notification"


@pytest.fixture(scope="module")
def partnership(tmp_path_factory: pytest.TempPathFactory, relay_namespace: str) -> LocalPartnership:
    """The demo partnership with a pathology service and a Coroner's office, for this module only."""
    partnership_id, specs = demo_agencies()
    extra = [
        AgencySpec(PATHOLOGY, "pathologist", "Fenmere Paediatric Pathology (fictional)", roles=("practitioner",)),
        AgencySpec("coroner-fenmere", "coroner", "Fenmere Coroner's Office (fictional)", roles=("practitioner",)),
    ]
    return provision(tmp_path_factory.mktemp("pathology-form"), partnership_id, [*specs, *extra], demo_offices())


def test_the_role_picked_is_the_one_of_the_agencys_type_the_person_may_send_as() -> None:
    practitioner = access.SENDS_AS["practitioner"]
    assert own_role("pathologist", practitioner) == "pathologist"
    assert own_role("coroner", practitioner) == "coroners_officer"
    # Several of the type's roles (intake, duty, social worker): none picked for them.
    assert own_role("csc_front_door", practitioner) is None
    # None of them: a Caldicott Guardian sends as nobody.
    assert own_role("pathologist", access.sender_roles("caldicott_guardian", [], agency_type="pathologist")) is None
    assert own_role("no_such_type", practitioner) is None


def _selected(page: str) -> list[str]:
    select = re.search(r'<select id="f-sender_role".*?</select>', page, re.S)
    assert select is not None, "no role asked"
    return re.findall(r'<option value="([^"]*)" selected>', select.group(0))


async def _purpose_step(gateway: Gateway, agency: str, user: str) -> tuple[str, str, str]:
    """Sign in as a practitioner at `agency`, choose a child death notification; the purpose step's page."""
    token = issue_token(gateway.partnership.agency_keys(agency), role="practitioner", audience=AUDIENCE, subject=user)
    csrf = await sign_in(gateway.client, token)
    first = (await gateway.client.get("/ui/submit")).text
    (notification_id,) = re.findall(r'name="notification_id" value="([^"]+)"', first)
    answers = {"csrf_token": csrf, "step": "0", "message_type": DEATH, "notification_id": notification_id}
    response = await gateway.client.post("/ui/submit", data=answers)
    assert response.status_code == 200, response.text[-2000:]
    assert "<h2>Step 2 of" in response.text and "Your role" in response.text
    return response.text, csrf, notification_id


async def test_a_pathology_services_practitioner_is_the_pathologist_and_sends_as_one(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    page, csrf, _ = await _purpose_step(gateway, PATHOLOGY, "pathologist-07")
    chosen = _selected(page)
    assert chosen == ["pathologist"]

    # Sent as the browser would post it, the role left as chosen: the notification goes as the pathologist.
    types = sendable(await PolicyPack(opa_url, timeout=5).types(), gateway.registry, PATHOLOGY)
    (form,) = [t for t in types if t.message_type == DEATH]
    seen: list[str] = []
    preview, answers = await walk(
        gateway.client, csrf, types, form, "pathologist", given={"sender_role": chosen[0]}, seen=seen
    )
    assert "What each recipient would get" in preview, preview[-2000:]
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', preview)
    hidden = {name: html.unescape(value) for name, value in found}
    # Whom it is mainly about: the child who has died, offered alone and already chosen.
    (details,) = [p for p in seen if 'id="f-subject_role"' in p]
    subject_role = re.search(r'<select id="f-subject_role".*?</select>', details, re.S)
    assert subject_role is not None
    assert re.findall(r'<option value="([a-z_]+)"', subject_role.group(0)) == ["deceased_child"]
    assert re.findall(r'<option value="([a-z_]+)" selected>', subject_role.group(0)) == ["deceased_child"]
    assert hidden["subject_role"] == "deceased_child"
    sent = await gateway.client.post("/ui/submit/send", data={**hidden, "go": "send"})
    assert sent.status_code == 200, sent.text[-2000:]
    with Session(gateway.engine) as session:
        decided = session.exec(
            select(audit.Entry).where(
                audit.Entry.kind == audit.EventKind.DECIDED, audit.Entry.notification_id == answers["notification_id"]
            )
        ).all()
    assert decided and {e.sender_role for e in decided} == {"pathologist"}


async def test_a_mash_worker_chooses_and_a_blank_chosen_stays_blank(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    page, _, _ = await _purpose_step(gateway, CSC, "sw-07")
    assert _selected(page) == []
    assert '<option value="social_worker" >' in page

    page, csrf, notification_id = await _purpose_step(gateway, PATHOLOGY, "pathologist-08")
    answers = {"message_type": DEATH, "notification_id": notification_id, "sender_role": ""}
    response = await gateway.client.post("/ui/submit", data={**answers, "csrf_token": csrf, "step": "1"})
    assert response.status_code == 422, response.text[-2000:]
    assert _selected(response.text) == [], "a role the person took off was put back"


async def test_the_form_offers_only_roles_the_persons_agency_has_and_a_teacher_none(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    page, _, _ = await _purpose_step(gateway, CSC, "sw-09")
    select = re.search(r'<select id="f-sender_role".*?</select>', page, re.S)
    assert select is not None
    assert set(re.findall(r'<option value="([a-z_]+)"', select.group(0))) == {"mash_intake", "edt", "social_worker"}
    # A school's roles are its DSL's and leads': its teachers raise a concern with the DSL, who sends it.
    teacher = issue_token(
        gateway.partnership.agency_keys(SCHOOL), role="practitioner", audience=AUDIENCE, subject="t-01"
    )
    signin = await gateway.client.get("/ui/signin", params={"token": teacher})
    signed = await gateway.client.post("/ui/signin", data={"token": teacher, "csrf_token": csrf(signin.text)})
    assert signed.status_code == 303, signed.text
    decisions = (await gateway.client.get("/ui/decisions")).text
    assert "You have not sent or answered a notification yet." in decisions
    # A practitioner at a recipient agency found nothing that reached it here, nor why.
    said = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", decisions)).split())
    assert (
        "What is shared with your agency reaches its case system, not this list: your DSL or safeguarding lead "
        "sees here what it received, and its deadlines." in said
    )
    assert 'href="/ui/submit"' not in decisions, "no menu item or link to a form they cannot send"
    refused = await gateway.client.get("/ui/submit")
    assert refused.status_code == 403
    said = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", refused.text)).split())
    assert (
        "Practitioners at Oakfield Primary School (fictional) do not send notifications through the broker "
        "themselves" in said
    ), said
    assert "Raise the concern with your Designated Safeguarding Lead or safeguarding lead, who sends it." in said
