"""A decision printed, or saved as PDF, for a case file: the record golden rule 7 asks for (the decision,
its reasons and what followed, and who printed it), without the menu or the forms that act on it.
Chromium with print media emulated, on the real gateway."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Page, expect

from broker.ui.words import LOCAL_ZONE
from tests.factories import school_referral
from tests.ui.conftest import SCREENSHOTS, Served, sign_in

pytestmark = pytest.mark.stack

SCHOOL = "school-oakfield-primary"


def test_a_printed_decision_is_the_record_without_the_controls(served: Served, page: Page) -> None:
    referral = served.post(school_referral())
    sign_in(page, served.link(SCHOOL, "dsl", "dsl-print-01"))
    page.goto(f"{served.base_url}/ui/notifications/{referral['notification_id']}")
    controls = [
        page.get_by_role("navigation", name="Main"),
        page.get_by_role("button", name="Sign out"),
        page.get_by_role("heading", name="Correct this notification"),
        page.get_by_role("heading", name="Withdraw this notification"),
    ]
    record = [
        page.get_by_role("heading", name="Decided by"),
        page.get_by_role("heading", name="What happened next"),
        page.get_by_text("dsl-print-01 · Designated Safeguarding Lead"),
    ]
    printed = page.get_by_text("Printed from the decision log as it stood at")
    for shown in [*controls, *record]:
        expect(shown).to_be_visible()  # on screen, everything
    expect(printed).to_be_hidden()  # the screen has its own clock
    page.emulate_media(media="print")
    for hidden in controls:
        expect(hidden).to_be_hidden()
    for kept in record:
        expect(kept).to_be_visible()
    expect(printed).to_be_visible()
    read_at = datetime.now(UTC).astimezone(LOCAL_ZONE)
    expect(printed).to_contain_text(f"{read_at.day} {read_at:%b %Y}, ")  # the day it was read, in words
    SCREENSHOTS.mkdir(exist_ok=True)
    pdf = page.pdf(path=str(SCREENSHOTS / "decision-printed.pdf"))
    assert pdf.startswith(b"%PDF-") and b"/Type /Page" in pdf


def test_who_read_it_prints_open_and_the_pages_own_links_do_not(served: Served, page: Page) -> None:
    """An IG lead printing a decision for an audit keeps who read it: a closed section cannot be clicked
    open on paper (a reader of the demo found it printed collapsed)."""
    referral = served.post(school_referral())
    token = served.token(SCHOOL, "dsl", "dsl-print-02")
    listed = httpx.get(f"{served.base_url}/v1/decisions", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert listed.status_code == 200, listed.text  # a read the log keeps
    sign_in(page, served.link("csc-fenmere-mash", "ig_lead", "ig-print-01"))  # the partnership's
    page.goto(f"{served.base_url}/ui/notifications/{referral['notification_id']}")
    reader = page.locator("details.reads").get_by_role("cell", name="dsl-print-02", exact=False).first
    back = page.get_by_role("link", name="Back to decisions")
    expect(reader).to_be_hidden()  # on screen, closed until opened
    expect(back).to_be_visible()
    page.emulate_media(media="print")
    expect(reader).to_be_visible()
    expect(back).to_be_hidden()
