"""The guided form in Chromium: unsure practitioners ask their own advisers; the police tell a school.

Against the real gateway (uvicorn, OPA, SQLite, Kafka). Screenshots go to screenshots/ (gitignored).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine
from sqlmodel import Session, select

from broker.db.tables import HeldDelivery
from broker.delivery.clocks import mark_overdue, start_clocks
from tests.factories import school_referral
from tests.ui.conftest import Served, shot, sign_in
from tests.ui.form_steps import child_details, choose_recipients, consent_without_asking, nobody_withheld, risk

pytestmark = pytest.mark.stack

HEALTH_VISITING, POLICE, SCHOOL = "health-visiting-fenmere", "police-fenmere", "school-oakfield-primary"
CSC = "csc-fenmere-mash"


def _start(page: Page, kind: str) -> None:
    expect(page.get_by_role("heading", name="Send a safeguarding notification")).to_be_visible()
    page.get_by_label(re.compile(rf"^{kind}\b")).check()
    page.get_by_role("button", name="Continue").click()


def _purpose(page: Page, purpose: str, role: str) -> None:
    page.get_by_label("Purpose", exact=True).select_option(purpose)
    page.get_by_label("In a sentence").fill("Please take this into account in your safeguarding work.")
    page.get_by_label("Your role").select_option(role)
    page.get_by_role("button", name="Continue").click()


def test_unsure_asks_the_senders_own_advisers(served: Served, page: Page) -> None:
    sign_in(page, served.link(HEALTH_VISITING, "practitioner", "hv-demo-08"))
    _start(page, "Safeguarding referral")
    _purpose(page, "safeguarding_concern", "health_visitor")
    choose_recipients(page)
    consent_without_asking(page)
    risk(page, sure=False)  # "Unsure: ask an adviser first"
    nobody_withheld(page)
    child_details(page)
    page.get_by_role("button", name="Continue").click()  # no authorisation recorded

    preview = page.locator("table.preview")
    mash = preview.get_by_role("row", name=re.compile("MASH"))
    expect(mash).to_contain_text("Needs advice")
    expect(mash.locator(".decided-by li").first).to_have_text(re.compile(r"^GR3 "))
    shot(page, "submit-preview-unsure")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("row", name=re.compile("MASH.*Needs advice"))).to_be_visible()

    # The sender agency's own adviser (its DSL here) finds it in their queue, reasons first.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, served.link(HEALTH_VISITING, "dsl", "hv-dsl-demo-01"))
    page.get_by_role("link", name="Queues").click()
    card = page.locator("section.card:not(.answered)", has_text="Children's Social Care MASH")
    expect(card.locator(".deciding ul.why li").first).to_contain_text("GR3")
    expect(card.locator(".deciding .resolves")).to_contain_text("adviser")
    expect(card.locator(".state").first).to_contain_text("held, waiting for an answer")
    expect(card).to_contain_text("identity")  # data classes in words, not codes
    expect(card).not_to_contain_text("concern_narrative")
    shot(page, "queues-unsure")
    card.get_by_label("Do not share: withhold and destroy it").check()
    card.get_by_label("Reason").fill("Not enough yet: talk to the family's GP first.")
    card.get_by_role("button", name="Record decision").click()
    answered = page.locator("section.card.answered", has_text="Children's Social Care MASH").first
    expect(answered.locator(".state")).to_contain_text("refused")
    shot(page, "queues-answered")


def test_a_health_visitor_says_who_must_not_know_and_that_she_phoned_first(served: Served, page: Page) -> None:
    sign_in(page, served.link(HEALTH_VISITING, "practitioner", "hv-demo-09"))
    _start(page, "Safeguarding referral")
    _purpose(page, "safeguarding_concern", "health_visitor")
    choose_recipients(page)
    consent_without_asking(page)
    risk(page, sure=True, phoned=True)

    # Golden rule 5: the mother's partner is the alleged perpetrator; the MASH's social worker will speak to him.
    expect(page.get_by_role("heading", name=re.compile("Who must not know"))).to_be_visible()
    page.get_by_role("group", name=re.compile("must not receive")).get_by_label("Yes", exact=True).check()
    person = page.get_by_role("group", name="Person 1", exact=True)
    person.get_by_label(re.compile("^Your agency's reference")).fill("WH-PARTNER-01")
    person.get_by_label("Who they are to the case").select_option("alleged_perpetrator")
    page.get_by_role("group", name=re.compile("will Fenmere Children's Social Care MASH")).get_by_label(
        "Person 1", exact=True
    ).check()
    page.get_by_role("group", name=re.compile("will Fenmere Constabulary")).get_by_label("None of them").check()
    shot(page, "submit-who-must-not-know")
    page.get_by_role("button", name="Continue").click()
    child_details(page)
    page.get_by_role("button", name="Continue").click()  # no authorisation recorded

    answers = page.locator("section[aria-labelledby='h-answers']")
    expect(answers).to_contain_text("Who must not know")
    expect(answers).to_contain_text("Person alleged to have caused harm")
    expect(answers).to_contain_text("Person 1 (WH-PARTNER-01)")
    expect(answers).to_contain_text("It was phoned through first")
    expect(page.locator("table.preview").get_by_role("row", name=re.compile("MASH"))).to_contain_text("GR5")
    shot(page, "submit-check-who-must-not-know")


def test_the_police_tell_a_pupils_school_about_domestic_abuse(served: Served, page: Page) -> None:
    sign_in(page, served.link(POLICE, "practitioner", "pc-demo-03"))
    _start(page, "Domestic abuse school notification")
    page.get_by_label("Purpose", exact=True).select_option(index=1)
    page.get_by_label("In a sentence").fill("So the school can support the pupil tomorrow.")
    page.get_by_label("Your role").select_option(index=1)
    page.get_by_role("button", name="Continue").click()

    school = page.get_by_role("checkbox", name=re.compile("Oakfield Primary"))
    school.check()
    page.get_by_label(re.compile("Why Oakfield Primary")).select_option(index=1)
    expect(page.get_by_role("checkbox", name=re.compile("Health Visiting"))).to_have_count(0)  # not a school
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Lawful basis for sharing").select_option(index=1)
    page.get_by_role("button", name="Continue").click()
    risk(page, sure=True)
    nobody_withheld(page)

    page.get_by_label("Who is this mainly about?").select_option("child")
    page.get_by_label("Their age in years").fill("9")
    page.locator("select[name='p:exposure']").select_option(index=1)
    pupil = page.get_by_role("group", name=re.compile("pupil", re.IGNORECASE)).first
    pupil.get_by_label("Given name").fill("Charlie")
    pupil.get_by_label("Family name").fill("Fictionalpupil")
    page.locator("input[name='p:incident_at']").fill("2026-11-28T21:15")
    page.locator("input[name='p:police_reference']").fill("FEN-2026-0001")
    shot(page, "submit-details-police-school")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Continue").click()  # no authorisation recorded

    row = page.locator("table.preview").get_by_role("row", name=re.compile("Oakfield"))
    expect(row).to_contain_text("Shared")
    expect(row).not_to_contain_text("not adequate")
    expect(row.locator(".decided-by li").first).to_have_text(re.compile(r"^(GR\d|C\d|I\d+) "))
    shot(page, "submit-preview-police-school")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("row", name=re.compile("Oakfield.*Shared"))).to_be_visible()


def test_the_overdue_list_shows_where_a_held_share_stands(served: Served, page: Page, sqlite_url: str) -> None:
    held = served.post(school_referral(sender_in_doubt=True))
    assert {r["outcome"] for r in held["recipients"]} >= {"needs_advice"}
    sign_in(page, served.link(SCHOOL, "dsl", "dsl-demo-01"))
    page.get_by_role("link", name="Queues").click()
    card = page.locator("section.card:not(.answered)", has_text="Children's Social Care MASH").first
    card.get_by_label("Share it: release the message").check()
    card.get_by_label("Reason").fill("Significant harm likely; share with the MASH now.")
    card.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("status")).to_contain_text("Your decision was recorded")

    # An advice request's decision sets no deadline of its own, so the released share is given one
    # (to acknowledge it, as a referral's is) that the scheduler then finds has run out.
    engine = create_engine(sqlite_url)
    with Session(engine) as session:
        (released,) = session.exec(select(HeldDelivery).where(HeldDelivery.recipient_agency == CSC)).all()
        due = {"kind": "acknowledge_referral", "rule": "GR7", "description": "Acknowledge the referral"}
        start_clocks(
            session,
            delivery_id=released.delivery_id,
            notification_id=released.notification_id,
            context=released.log_context,
            obligations=[{**due, "due_at": datetime.now(UTC).isoformat()}],
        )
        session.commit()
        assert mark_overdue(session, datetime.now(UTC) + timedelta(minutes=1)), "no clock ran out"
        session.commit()
    engine.dispose()
    page.get_by_role("link", name="Overdue").click()
    row = page.get_by_role("row", name=re.compile("Children's Social Care MASH")).first
    expect(row).to_contain_text("Needs advice")
    expect(row.locator(".state")).to_have_text("now: released")
    expect(row).to_contain_text(re.compile(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} (GMT|BST)"))
    shot(page, "overdue")
