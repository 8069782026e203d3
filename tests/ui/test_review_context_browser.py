"""In Chromium against the real gateway: what a reader of one decision needs beside its rules (a held
share's wait, the clocks a share started), the sender's withdrawal and correction, and the IG lead's
case review and shredding, as each person sees it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.broker.people import URGENT_RISK
from tests.broker.test_case_review import nhs_number
from tests.factories import school_referral
from tests.ui.conftest import Served, shot, sign_in

pytestmark = pytest.mark.stack

SCHOOL, CSC = "school-oakfield-primary", "csc-fenmere-mash"
CHILD = nhs_number("400000061")
SHREDDED_CHILD = nhs_number("400000062")
TO_CSC = [{"agency_id": CSC, "role": "mash_intake", "need_to_know": "assess_and_decide"}]


def _open_decision(page: Page, served: Served, outcome: str) -> None:
    page.goto(f"{served.base_url}/ui/decisions?outcome={outcome}&agency={CSC}")
    page.locator("tbody tr a").first.click()
    expect(page.get_by_role("heading", name=re.compile(r"Decision #\d+"))).to_be_visible()


def test_the_sender_sees_what_a_held_share_waits_for_and_what_a_shared_one_owes(served: Served, page: Page) -> None:
    served.post(school_referral(recipients=TO_CSC))
    served.post(school_referral(recipients=TO_CSC, sender_in_doubt=True))
    sign_in(page, served.link(SCHOOL, "dsl", "dsl-context-01"))
    _open_decision(page, served, "needs_advice")
    waiting = page.locator(".notice.waiting")
    expect(waiting).to_contain_text("What would resolve it: An adviser's answer")
    expect(waiting).to_contain_text(re.compile(r"If nobody answers by \d{1,2} \w{3} \d{4}, \d\d:\d\d"))
    shot(page, "decision-held-waiting")
    _open_decision(page, served, "share")
    deadlines = page.get_by_role("table", name="Deadlines")
    expect(deadlines.get_by_role("row", name=re.compile("acknowledges the referral"))).to_contain_text(
        re.compile("Running|Met on")
    )
    expect(deadlines.get_by_role("row", name=re.compile("decides the response"))).to_contain_text("Running")
    shot(page, "decision-deadlines")


def test_an_ig_lead_reviews_one_childs_case(served: Served, page: Page) -> None:
    child = {"subject_ref": "pupil-6101", "role_in_case": "child", "age_years": 7, "nhs_number": CHILD}
    served.post(school_referral(recipients=TO_CSC, subjects=[child]))
    sign_in(page, served.link(CSC, "ig_lead", "ig-context-01"))  # the partnership's IG lead
    page.get_by_role("link", name="Case review").click()
    expect(page.get_by_role("heading", name="Case review")).to_be_visible()
    page.get_by_label("NHS number").fill(f"{CHILD[:3]} {CHILD[3:6]} {CHILD[6:]}")
    page.get_by_role("button", name="Find decisions").click()
    expect(page.get_by_role("heading", name="1 decision found")).to_be_visible()
    expect(page.get_by_label("NHS number")).to_have_value("")  # not written back into the page
    expect(page.locator("main")).not_to_contain_text(CHILD)
    shot(page, "case-review")
    page.locator("section a[href^='/ui/decisions/']").first.click()
    expect(page.get_by_role("heading", name=re.compile(r"Decision #\d+"))).to_be_visible()


def test_a_dsl_sees_when_each_urgent_shares_review_is_due(served: Served, page: Page) -> None:
    urgent = school_referral(recipients=TO_CSC, risk=URGENT_RISK)
    (sent,) = served.post(urgent)["recipients"]
    assert sent["outcome"] == "share_urgent_review_after", sent
    sign_in(page, served.link(SCHOOL, "dsl", "dsl-context-02"))  # not the sender (an agency system)
    page.get_by_role("link", name="Urgent review").click()
    row = page.get_by_role("row", name=re.compile("Safeguarding referral"))
    expect(row.locator("td").nth(5)).to_have_text(re.compile(r"^\d{1,2} \w{3} \d{4}, \d\d:\d\d GMT$"))
    shot(page, "urgent-review-due")


def test_the_partnerships_ig_lead_shreds_a_case_after_confirming(served: Served, page: Page) -> None:
    child = {"subject_ref": "pupil-6102", "role_in_case": "child", "age_years": 8, "nhs_number": SHREDDED_CHILD}
    served.post(school_referral(recipients=TO_CSC, subjects=[child]))
    sign_in(page, served.link(CSC, "ig_lead", "ig-context-02"))
    page.goto(f"{served.base_url}/ui/case-review")
    page.get_by_label("NHS number").fill(SHREDDED_CHILD)
    page.get_by_role("button", name="Find decisions").click()
    expect(page.get_by_role("heading", name="Shred this case")).to_be_visible()
    page.get_by_label("Why the case is shredded").select_option("sent_in_error")
    page.get_by_label("The decision's reference in your records").fill("IG-2026-0415")
    page.get_by_role("button", name="Shred this case").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was destroyed.")
    expect(page.get_by_label("The decision's reference in your records")).to_have_value("IG-2026-0415")
    shot(page, "case-shredding-unconfirmed")
    page.get_by_label("I understand that nothing the broker keeps of this case can be read or sent again").check()
    page.get_by_role("button", name="Shred this case").click()
    expect(page.get_by_role("heading", name="Case shredded")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("1 case key destroyed.")
    shot(page, "case-shredded")


def test_the_sender_withdraws_a_notification_from_its_decisions_page(served: Served, page: Page) -> None:
    served.post(school_referral(recipients=TO_CSC))
    sign_in(page, served.link(SCHOOL, "dsl", "dsl-context-03"))
    _open_decision(page, served, "share")
    expect(page.get_by_role("heading", name="Withdraw this notification")).to_be_visible()
    page.get_by_label("Why it is withdrawn").select_option("wrong_person")
    page.get_by_label("Every agency it was sent to").check()  # chosen by the sender, never for them
    page.get_by_label("I understand that each agency it is withdrawn from is told to delete it").check()
    shot(page, "decision-withdraw")
    page.get_by_role("button", name="Withdraw this notification").click()
    expect(page.locator(".recalled")).to_contain_text(re.compile(r"Withdrawn on \d{1,2} \w{3} \d{4}"))
    expect(page.locator(".state-line")).to_contain_text("withdrawn; the agency it reached was told to delete it")
    expect(page.get_by_role("heading", name="Withdraw this notification")).to_have_count(0)
    shot(page, "decision-withdrawn")


def test_the_sender_starts_a_correction_from_the_decisions_page(served: Served, page: Page) -> None:
    served.post(school_referral(recipients=TO_CSC))
    sign_in(page, served.link(SCHOOL, "dsl", "dsl-context-04"))
    _open_decision(page, served, "share")
    page.get_by_role("link", name="Correct this notification").click()
    expect(page.get_by_role("heading", name="Correct a safeguarding notification")).to_be_visible()
    expect(page.get_by_role("note")).to_contain_text(re.compile(r"This corrects notification [0-9a-f-]{36}\."))
    expect(page.get_by_label("Safeguarding referral: to children's social care")).to_be_checked()
    shot(page, "correction-start")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Step 2 of 9: Purpose")).to_be_visible()
    expect(page.get_by_role("note")).to_contain_text("the broker keeps no readable copy of what was sent")
