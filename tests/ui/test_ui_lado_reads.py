"""At a service whose every role queue is a practitioner's (the LADO), what reached it is its officers' to
read and answer: a school's allegation was visible to nobody at the LADO the partnership had registered.
On the real gateway, OPA and database."""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, col, select

from broker.db.tables import ObligationClock
from broker.review import access
from broker.ui import plain
from broker.ui import words as say
from broker.ui.form_types import find, sendable
from broker.ui.forms import steps_for
from broker.ui.policy_pack import PolicyPack
from broker.ui.reply_page import stage_owed
from tests.broker.conftest import Gateway, gateway, gateway_factory  # noqa: F401 - fixtures
from tests.broker.people import POLICE, Person
from tests.factories import school_referral
from tests.policy.bases import patched
from tests.ui.form_walk import walk
from tests.ui.test_form_reply import _decision_for
from tests.ui.test_ui_review_fixes import _hidden

pytestmark = pytest.mark.stack

LADO, POLICE_ID, SCHOOL = "lado-fenmere", "police-fenmere", "school-hollins-academy"


def test_only_services_staffed_by_practitioners_alone_widen_their_reads() -> None:
    assert {t for t in ("lado", "marac", "police", "csc_front_door", "cdop") if access.practitioners_only(t)} == {
        "lado",
        "marac",
    }
    officer = access.Viewer(LADO, "lado", "practitioner", "lado-officer-ash")
    assert officer.scope(access.Action.DECISIONS) is access.Scope.AGENCY
    assert officer.scope(access.Action.OVERDUE) is access.Scope.AGENCY
    assert officer.scope(access.Action.SEND) is access.Scope.OWN, "they still send only as themselves"
    assert officer.scope(access.Action.WITHDRAW) is access.Scope.OWN
    manager = access.Viewer(LADO, "lado", "line_manager", "lado-manager-elm")
    assert manager.scope(access.Action.DECISIONS) is access.Scope.AGENCY, "a line manager is a practitioner too"
    constable = access.Viewer(POLICE_ID, "police", "practitioner", "pc-ash")
    assert constable.scope(access.Action.DECISIONS) is access.Scope.OWN


async def test_a_lado_officer_reads_and_replies_to_the_allegation_a_school_sent(gateway: Gateway) -> None:  # noqa: F811
    allegation = patched("lado", {"notification_id": str(uuid.uuid4()), "created_at": datetime.now(UTC).isoformat()})
    sent = await gateway.post(allegation)
    assert sent.status_code == 202, sent.text
    assert {r["agency_id"] for r in sent.json()["recipients"]} == {LADO}
    notification_id = str(allegation["notification_id"])
    seq = _decision_for(gateway, notification_id, LADO)
    officer = Person(gateway, LADO, "practitioner", "lado-officer-ash")

    listed = await officer.api("GET", "/v1/decisions", params={"limit": 200})
    assert listed.status_code == 200, listed.text
    assert notification_id in {d["notification_id"] for d in listed.json()["items"]}, "in the LADO officer's list"
    assert (await officer.api("GET", f"/v1/decisions/{seq}")).status_code == 200
    assert (await officer.api("GET", "/v1/overdue")).status_code == 200

    page = await officer.opened(f"/ui/decisions/{seq}")
    start = f"/ui/notifications/{notification_id}/reply"
    assert "Reply to this notification" in page and f'href="{start}"' in page
    opened = await officer.opened(start)
    assert f'This replies to <a href="/ui/decisions/{seq}" target="_blank" rel="noopener">#{seq}</a>: ' in opened
    # Every deadline waiting for the LADO is met by a LADO allegation (its record or outcome): chosen for them.
    assert 'value="lado_allegation" checked' in opened, "the one kind that meets the deadline is chosen"
    # And its stage, the meeting's record, the usual answer: left at the schema's default, the reply was
    # a referral, and its details step asked the allegation's account again (readers of the demo).
    assert _hidden(opened)["p:stage"] == "amm_record", _hidden(opened)
    assert "Decisions your agency sent or received." in await officer.opened("/ui/decisions")


async def test_a_police_practitioner_still_reads_only_their_own(gateway: Gateway) -> None:  # noqa: F811
    referral = school_referral(recipients=[POLICE])
    assert (await gateway.post(referral)).status_code == 202
    seq = _decision_for(gateway, str(referral["notification_id"]), POLICE_ID)
    constable = Person(gateway, POLICE_ID, "practitioner", "pc-ash")
    assert (await constable.api("GET", f"/v1/decisions/{seq}")).status_code == 404


async def test_the_lados_meeting_record_answers_without_retelling_the_account(gateway: Gateway) -> None:  # noqa: F811
    allegation = patched("lado", {"notification_id": str(uuid.uuid4()), "created_at": datetime.now(UTC).isoformat()})
    assert (await gateway.post(allegation)).status_code == 202
    employer = {
        "agency_id": "school-hollins-academy",
        "role": "designated_senior_manager",
        "need_to_know": "attend_meeting",
    }
    payload = {k: v for k, v in allegation["payload"].items() if k not in ("allegation_account", "dsm_record_signed")}
    record = {
        **allegation,
        "notification_id": str(uuid.uuid4()),
        "created_at": datetime.now(UTC).isoformat(),
        "in_reply_to": allegation["notification_id"],
        "sender": {"agency_id": LADO, "role": "lado_officer", "user_ref": "lado-officer-ash", "is_professional": True},
        "recipients": [employer],
        "payload": {
            **payload,
            "stage": "amm_record",
            "meeting_at": datetime.now(UTC).isoformat(),
            "actions_agreed": "Fictional: safeguards agreed; review in two weeks.",
        },
    }
    answered = await gateway.post(record)
    assert answered.status_code == 202, answered.text
    assert answered.json()["recipients"][0]["outcome"] in {"share", "share_minimised"}, answered.text
    # The employer reading the record is led back to the allegation it answers.
    seq = _decision_for(gateway, record["notification_id"], "school-hollins-academy")
    page = await Person(gateway, "school-hollins-academy", "dsl", "dsl-hollins-01").opened(f"/ui/decisions/{seq}")
    parent = allegation["notification_id"]
    # By number and kind, as the reader knows it, not by notification id.
    to_lado = _decision_for(gateway, parent, LADO)
    kind = say.message_type("lado_allegation")
    assert f'This notification replies to <a href="/ui/decisions/{to_lado}">#{to_lado}</a>: {kind}.' in page, page
    read = await Person(gateway, "school-hollins-academy", "dsl", "dsl-hollins-02").api("GET", f"/v1/decisions/{seq}")
    assert read.json()["replies_to"] == parent, read.text
    # And the allegation's own page leads to its answer, so the school sees at a glance that the LADO replied.
    asked = _decision_for(gateway, parent, LADO)
    school = Person(gateway, "school-hollins-academy", "dsl", "dsl-hollins-03")
    listed = await school.opened(f"/ui/decisions/{asked}")
    assert "Replies to this notification" in listed and f'<a href="/ui/decisions/{seq}">#{seq}</a>' in listed
    answers = (await school.api("GET", f"/v1/decisions/{asked}")).json()["replies"]
    assert [(r["seq"], r["sender_agency"]) for r in answers] == [(seq, LADO)], answers
    # The employer's own referral still tells what was said, and the DSM's signed record.
    untold = {**allegation, "notification_id": str(uuid.uuid4()), "payload": payload}
    refused = await gateway.post(untold)
    assert refused.status_code == 422, refused.text
    assert "payload.allegation_account" in refused.text and "dsm_record_signed" in refused.text, refused.text


async def test_the_lados_reply_from_the_form_is_the_meeting_record_that_stops_its_clock(
    gateway: Gateway,  # noqa: F811
    opa_url: str,
) -> None:
    allegation = patched("lado", {"notification_id": str(uuid.uuid4()), "created_at": datetime.now(UTC).isoformat()})
    assert (await gateway.post(allegation)).status_code == 202
    parent = str(allegation["notification_id"])
    officer = Person(gateway, LADO, "practitioner", "lado-officer-rowan")
    await officer.sign_in()
    try:
        assert officer.ui is not None and officer.csrf
        given = _hidden((await officer.page("GET", f"/ui/notifications/{parent}/reply")).text)
        agency = gateway.registry.agency(LADO)
        assert agency is not None
        types = sendable(await PolicyPack(opa_url, timeout=5).types(), gateway.registry, LADO)
        form = find(types, "lado_allegation")
        assert form is not None
        details = next(s for s in steps_for(types, form, given, agency.type) if s.key == "details")
        required = {f.name for f in details.fields if f.required}
        assert {"p:meeting_at", "p:actions_agreed"} <= required, required
        assert "p:allegation_account" not in required, "a referral's question: the record does not retell it"
        # To the school that sent the allegation, as the recipients step offers it ticked.
        given |= {f"to:{SCHOOL}": "dsl", f"ntk:{SCHOOL}": "attend_meeting"}
        check, answers = await walk(officer.ui, officer.csrf, types, form, agency.type, given, first_agency=False)
        sent = await officer.ui.post("/ui/submit/send", data={**answers, **_hidden(check), "go": "send"})
        assert sent.status_code == 200, sent.text[-2000:]
    finally:
        await officer.close()
    with Session(gateway.engine) as session:
        clocks = {
            c.kind: c
            for c in session.exec(select(ObligationClock).where(col(ObligationClock.notification_id) == parent))
        }
    assert clocks["convene_amm"].stopped_at is not None, clocks
    assert clocks["convene_amm"].met_by == answers["notification_id"], "the clock names the reply that met it"
    # The page after sending names the deadline it met (`met_by`), and only that one.
    met = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", sent.text.split('id="h-met"', 1)[1])).split())
    duty = plain.duty(clocks["convene_amm"].description).text  # as the page words it
    assert duty in met and "Met on " in met, met[:800]
    assert met.count("Met on ") == sum(c.met_by == answers["notification_id"] for c in clocks.values()), met[:800]


def test_the_stage_chosen_is_the_usual_one_of_the_soonest_deadline_a_stage_alone_meets() -> None:
    owed = [
        {"answers": ["lado_allegation@amm_record", "lado_allegation@outcome"]},
        {"answers": ["lado_allegation@outcome"]},
    ]
    assert stage_owed(owed, "lado_allegation") == "amm_record"
    assert stage_owed(owed[1:], "lado_allegation") == "outcome"
    assert stage_owed([{"answers": ["referral_outcome"]}, *owed], "referral_outcome") is None, "any stage meets it"
    assert stage_owed(owed, "cp_conference") is None
