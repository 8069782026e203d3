"""The review and audit UI in Chromium against the real gateway (uvicorn, OPA, SQLite, Kafka)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from demo.cases import cases
from tests.factories import PERSONAL_VALUES, school_referral
from tests.ui.conftest import Served, shot, sign_in
from tests.ui.form_steps import child_details, choose_recipients, consent_without_asking, nobody_withheld, risk

# Needs the running stack: a served gateway against the stack's Kafka and OPA.
pytestmark = pytest.mark.stack

SCHOOL, CSC, POLICE, GP = "school-oakfield-primary", "csc-fenmere-mash", "police-fenmere", "gp-willow-lane"
HEALTH_VISITING = "health-visiting-fenmere"


def test_dsl_filters_opens_a_decision_and_answers_an_advice_request(served: Served, page: Page) -> None:
    served.post(school_referral())
    held = served.post(school_referral(sender_in_doubt=True))
    advice = next(r for r in held["recipients"] if r["agency_id"] == CSC)
    assert advice["outcome"] == "needs_advice"

    sign_in(page, served.link(SCHOOL, "dsl", "dsl-demo-01"))
    expect(page.get_by_role("heading", name="Decisions")).to_be_visible()
    shot(page, "decisions")
    # The filters stay within the page's column (a fieldset grows to its widest select unless told not to).
    filters, main = page.locator("form.filters fieldset").bounding_box(), page.locator("main").bounding_box()
    assert filters is not None and main is not None and filters["x"] + filters["width"] <= main["x"] + main["width"]
    page.get_by_label("Outcome").select_option("no_share")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("status")).to_contain_text("2 decisions match")
    expect(page.locator("tbody tr")).to_have_count(2)
    page.locator("tbody tr a").first.click()
    expect(page.get_by_role("heading", name=re.compile(r"Decision #\d+"))).to_be_visible()
    expect(page.get_by_text("Integrity: verified")).to_be_visible()
    # The policy line names the revision; OPA gives no decision id without its own decision log, and
    # an empty "decision id —" on every decision told a reader nothing.
    policy = page.locator("dt:text-is('Policy') + dd")
    expect(policy).to_contain_text(re.compile(r"revision sg-policy-[\w.]+@[0-9a-f]{16}"))
    expect(policy).not_to_contain_text("decision id")
    expect(
        page.get_by_role("row", name=re.compile("GR4")).or_(page.locator("section.deciding", has_text="GR4")).first
    ).to_be_visible()
    shot(page, "decision-detail")

    page.get_by_role("link", name="Queues").click()
    card = page.locator("section.card", has_text="Oakfield").filter(
        has=page.get_by_role("heading", name=re.compile("Children's Social Care"))
    )
    for value in PERSONAL_VALUES:
        expect(page.locator("main")).not_to_contain_text(value)
    expect(card.locator(".deciding ul.why li").first).to_contain_text("GR3")
    expect(card.locator(".deciding .resolves")).to_contain_text("adviser")
    # The sender's DSL may read the held decision, so the card leads to it.
    expect(card.locator("dt:text-is('Decision') + dd a")).to_have_attribute("href", re.compile(r"^/ui/decisions/\d+$"))
    shot(page, "queues")
    card.get_by_label("Share it: release the message").check()
    card.get_by_label("Reason").fill("Significant harm likely; share with the MASH now.")
    card.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("status")).to_contain_text("Your decision was recorded")

    page.goto(f"{served.base_url}/ui/decisions?outcome=needs_advice&agency={CSC}")
    expect(page.locator("tbody tr").first.locator(".state")).to_have_text("now: released")
    shot(page, "decisions-state")
    page.locator("tbody tr a").first.click()
    expect(page.get_by_role("row", name=re.compile("advice given.*Released"))).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("published"))).to_be_visible(timeout=20_000)
    shot(page, "decision-released")


def test_ig_lead_sees_the_audit_charts(served: Served, page: Page) -> None:
    served.post(school_referral())
    sign_in(page, served.link(CSC, "ig_lead", "ig-demo-01"))  # the partnership's IG lead
    page.get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", name="Audit", exact=True)).to_be_visible()
    expect(page.get_by_role("img", name="Decisions by outcome")).to_be_visible()
    expect(page.get_by_role("img", name="Decisions by month")).to_be_visible()
    this_month = datetime.now(ZoneInfo("Europe/London")).strftime("%B %Y")  # as people write it, not "2026-12"
    expect(page.get_by_role("cell", name=this_month, exact=True)).to_be_visible()
    expect(page.locator(".integrity")).to_contain_text("Verified")
    clipped = page.eval_on_selector_all(
        "svg.chart", "charts => charts.flatMap(c => [...c.querySelectorAll('text')].filter(t => t.getBBox().x < 0))"
    )
    assert clipped == [], "a chart label starts outside its chart"
    shot(page, "audit")
    # The outcome as decided, not as it stands now: a released hold counts as held (a reader took it for now).
    expect(page.get_by_role("heading", name="By outcome as decided")).to_be_visible()
    # A total leads to the decisions it counts: one outcome's, one sender's, and this month's.
    totals = (
        ("By outcome", "Shared", "Outcome", "share"),
        ("By sending agency", "Oakfield Primary School (fictional)", "Sent by", SCHOOL),
        ("By month", this_month, "", ""),
    )
    for figure, label, field, value in totals:
        row = page.get_by_role("figure").filter(has_text=figure).get_by_role("row")
        link = row.filter(has=page.get_by_role("cell", name=label, exact=True)).get_by_role("link")
        count = link.inner_text()
        link.click()
        expect(page.get_by_role("status")).to_have_text(re.compile(rf"^{count} decisions? match"))
        if field:
            expect(page.get_by_label(field, exact=True)).to_have_value(value)
        page.go_back()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download evidence pack").click()
    assert download.value.suggested_filename.endswith(".jsonl")


def test_practitioner_submits_through_the_guided_form(served: Served, page: Page) -> None:
    sign_in(page, served.link(HEALTH_VISITING, "practitioner", "hv-demo-07"))
    expect(page.get_by_role("heading", name="Send a safeguarding notification")).to_be_visible()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("What are you sending? Please answer.")  # validated per step
    page.get_by_label(re.compile(r"^Safeguarding referral: to children")).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Purpose", exact=True).select_option("safeguarding_concern")
    page.get_by_label("In a sentence").fill("Please assess: child disclosed being hit at home.")
    roles = page.get_by_label("Your role").locator("option").all_inner_texts()
    assert "Designated Safeguarding Lead" not in roles, "a practitioner is not offered a DSL's role"
    page.get_by_label("Your role").select_option("health_visitor")
    page.get_by_role("button", name="Continue").click()

    choose_recipients(page)
    consent_without_asking(page)
    risk(page, sure=True)
    nobody_withheld(page)
    child_details(page)
    page.get_by_role("button", name="Continue").click()  # no authorisation recorded

    expect(page.get_by_role("heading", name="What each recipient would get")).to_be_visible()
    preview = page.locator("table.preview")
    expect(preview.get_by_role("row", name=re.compile("MASH.*Shared"))).to_be_visible()
    mash = preview.get_by_role("row", name=re.compile("MASH"))
    expect(mash.locator(".decided-by li").first).to_have_text(re.compile(r"^(GR\d|C\d|I\d+)"))
    expect(preview).not_to_contain_text("not adequate")  # the form asked for every field the policy needs
    # The deciding findings' sources are folded beneath them, C4's procedure clause only where its type is.
    sources = mash.locator("details.sources")
    sources.get_by_text("Where the source documents say so").click()
    expect(sources.locator("li").first).to_contain_text("The Seven Golden Rules for Information Sharing")
    expect(sources).to_contain_text("Caldicott")
    expect(sources).not_to_contain_text("LADO")
    shot(page, "submit-preview")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("heading", name="Sent")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("MASH.*Shared"))).to_be_visible()
    # What the MASH must do, not only by when: a deadline alone does not say whose it is or what.
    due = page.get_by_role("row", name=re.compile("MASH")).locator("td").last
    expect(due).to_contain_text(re.compile(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} (GMT|BST)"))
    expect(due).to_contain_text("working day")
    shot(page, "submit-sent")
    # Each recipient's row leads to its own decision, where the findings' sources are given.
    police = page.get_by_role("row", name=re.compile("Constabulary"))
    expect(police.locator("details.sources li")).to_have_count(police.locator(".decided-by > ul > li").count())
    link = police.get_by_role("link", name=re.compile(r"^Decision #\d+$"))
    seq = link.inner_text().removeprefix("Decision #")
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Decision #{seq}")
    expect(page.get_by_role("definition").filter(has_text="Fenmere Constabulary")).to_be_visible()
    expect(page.locator(".deciding")).to_contain_text("The Seven Golden Rules for Information Sharing")
    # Beside it, whom else the notification went to: the MASH's decision, one link away.
    others = page.get_by_role("table", name="The same notification's other decisions")
    expect(others.locator("tbody tr")).to_have_count(1)
    expect(others.get_by_role("row", name=re.compile("MASH.*Shared"))).to_be_visible()
    shot(page, "decision-same-notification")


def test_dsl_cannot_open_another_agencys_decision_by_url(served: Served, page: Page) -> None:
    served.post(school_referral())
    sign_in(page, served.link(GP, "dsl", "dsl-demo-02"))
    for seq in range(3):
        response = page.goto(f"{served.base_url}/ui/decisions/{seq}")
        assert response is not None and response.status in (403, 404)
        expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    shot(page, "not-found")
    page.goto(f"{served.base_url}/ui/decisions")
    expect(page.get_by_role("status")).to_contain_text("0 decisions match")


def test_a_share_held_for_missing_consent_offers_only_refusal(served: Served, page: Page) -> None:
    needs_consent = cases()[1][1]  # a health visitor asks for family support without the family's consent
    needs_consent.update(
        lawful_basis="safeguarding_children_individuals_at_risk",
        consent=[{"subject_ref": "child-alpha", "giver": "parent_pr", "status": "not_sought"}],
    )
    (held,) = served.post(needs_consent)["recipients"]
    assert held["outcome"] == "hold_for_authorisation"
    sign_in(page, served.link(HEALTH_VISITING, "line_manager", "hv-manager-demo-01"))
    page.get_by_role("link", name="Queues").click()
    card = page.locator("section.card", has_text="Health Visiting")
    expect(card.get_by_role("note")).to_contain_text("It cannot be released")
    expect(card.get_by_label("Authorise: release the message")).to_have_count(0)
    expect(card.locator(".deciding ul.why li").first).to_be_visible()
    expect(card.locator(".deciding .resolves")).to_contain_text("sends it again")
    # A line manager reads only what they sent or answered: no link to a decision they may not open.
    expect(card.locator("a[href^='/ui/decisions/']")).to_have_count(0)
    shot(page, "queues-refuse-only")
    card.get_by_label("Refuse: withhold and destroy it").check()
    card.get_by_label("Reason").fill("Consent first: the family must agree to a request for services.")
    card.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("status")).to_contain_text("Your decision was recorded")


def test_the_decision_list_names_the_deciding_rule_in_words(served: Served, page: Page) -> None:
    served.post(school_referral(sender_in_doubt=True))
    sign_in(page, served.link(SCHOOL, "dsl", "dsl-demo-01"))
    expect(page.get_by_role("columnheader", name="Decided by")).to_be_visible()
    cells = page.locator("tbody td.deciding-rule")
    expect(cells.first).to_have_text(re.compile(r"^(GR\d|C\d|I\d+|SYS-\S+) [A-Z]\S*"))
    assert page.locator("tbody td", has_text=re.compile(r"^GR\d, ")).count() == 0, "no wall of rule ids"
    shot(page, "decisions-decided-by")
    page.get_by_label("Decided by rule").fill("GR3")
    page.get_by_role("button", name="Apply filters").click()
    # Both advice requests were decided by GR3; the no-share, which only mentions it, is filtered out.
    expect(page.get_by_role("status")).to_contain_text("2 decisions match")
    expect(cells).to_have_count(2)
    expect(cells.first).to_have_text(re.compile(r"^GR3 Seek advice if in doubt", re.IGNORECASE))


def test_the_detail_page_leads_with_what_decided(served: Served, page: Page) -> None:
    served.post(school_referral(sender_in_doubt=True))
    sign_in(page, served.link(SCHOOL, "dsl", "dsl-demo-01"))
    page.get_by_label("Outcome").select_option("needs_advice")
    page.get_by_role("button", name="Apply filters").click()
    page.locator("tbody tr a").first.click()
    headings = page.locator("main h2").all_inner_texts()
    assert (
        headings.index("Decided by")
        < headings.index("Findings that did not decide the outcome")
        < headings.index("What happened next")
    )
    decided = page.locator("section.deciding")
    expect(decided).to_contain_text("GR3")
    expect(page.get_by_role("table", name="Findings that did not decide the outcome")).not_to_contain_text("GR3")
    shot(page, "decision-detail-decided-by")
