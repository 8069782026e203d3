"""Every page of the UI, as each kind of reader reaches it, checked in Chromium by Deque's axe-core
against WCAG 2.2 A and AA (the standard public sector bodies in England meet): no violation on any.

The pages hold real decisions first (shared, refused, held for advice, for authorisation, sent at
once for review after), so the tables, cards and forms the checks read are the ones people use.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.broker.people import HELD, POLICE
from tests.factories import school_referral
from tests.ui.conftest import Served, sign_in
from tests.ui.form_steps import child_details, choose_recipients, consent_without_asking, nobody_withheld, risk

pytestmark = pytest.mark.stack

SCHOOL, CSC = "school-oakfield-primary", "csc-fenmere-mash"
PRODUCT = "Safeguarding information-sharing broker"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Who reads which pages: each nav page of theirs, and the pages a link leads to.
READERS: list[tuple[str, str, str, list[str]]] = [
    (CSC, "ig_lead", "ig-a11y-01", ["/ui/decisions", "/ui/overdue", "/ui/access", "/ui/audit", "/ui/replay"]),
    (CSC, "ig_lead", "ig-a11y-01", ["/ui/case-review", "/ui/queues", "/ui/urgent", "/ui/decisions?outcome=x"]),
    (SCHOOL, "dsl", "dsl-a11y-01", ["/ui/decisions", "/ui/queues", "/ui/urgent", "/ui/submit"]),
    (SCHOOL, "line_manager", "lm-a11y-01", ["/ui/queues"]),
    (SCHOOL, "practitioner", "prac-a11y-01", ["/ui/decisions", "/ui/submit", "/ui/no-such-page"]),
]


def _title(*parts: str) -> str:
    """A page's title as the browser shows it: its own parts, then the product, joined by en dashes."""
    return " \N{EN DASH} ".join([*parts, PRODUCT])


def _violations(axe: Axe, page: Page) -> list[str]:
    found: dict[str, Any] = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG}}).response
    # A check that ran no rule would pass anything: colour contrast and the page's language always apply.
    assert {"color-contrast", "html-has-lang"} <= {rule["id"] for rule in found["passes"] + found["violations"]}
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}" for v in found["violations"]]


def test_every_page_meets_wcag_a_and_aa(served: Served, page: Page) -> None:
    referral = served.post(school_referral())  # shared with CSC and the police, refused to housing
    for outcome in HELD:  # held for advice and for authorisation, and shared at once for review after
        served.post(school_referral(recipients=[POLICE], **HELD[outcome]))
    axe, found = Axe(), {}
    page.goto(f"{served.base_url}/ui/signin")
    found["/ui/signin"] = _violations(axe, page)
    for agency, role, user, paths in READERS:
        sign_in(page, served.link(agency, role, user))
        for path in paths:
            page.goto(f"{served.base_url}{path}")
            found[f"{role} {path}"] = _violations(axe, page)
        if role == "ig_lead" and "/ui/decisions" in paths:
            page.goto(f"{served.base_url}/ui/decisions")
            page.locator("tbody tr a").first.click()  # a decision: findings, sources, deadlines, history
            found[f"{role} {page.url}"] = _violations(axe, page)
        if role == "ig_lead" and "/ui/case-review" in paths:
            page.goto(f"{served.base_url}/ui/case-review")  # one child's decisions, and the shredding form
            page.get_by_label("Agency", exact=True).select_option(SCHOOL)
            page.get_by_label("Agency's reference").fill("child-1")
            page.get_by_role("button", name="Find decisions").click()
            expect(page.get_by_role("heading", name=re.compile("Shred"))).to_be_visible()
            found[f"{role} case review found"] = _violations(axe, page)
        if role == "dsl":  # the sender's DSL may withdraw or correct what the school sent
            page.goto(f"{served.base_url}/ui/notifications/{referral['notification_id']}")
            expect(page.get_by_role("button", name=re.compile("Withdraw"))).to_be_visible()
            found[f"{role} decision with its withdrawal form"] = _violations(axe, page)
            page.goto(f"{served.base_url}/ui/notifications/{referral['notification_id']}/correction")
            found[f"{role} correction"] = _violations(axe, page)
        page.context.clear_cookies()
    assert len(found) == 1 + sum(len(paths) for *_, paths in READERS) + 4, found.keys()
    assert {where: said for where, said in found.items() if said} == {}


def test_every_step_of_the_guided_form_meets_wcag_a_and_aa(served: Served, page: Page) -> None:
    axe, found = Axe(), {}
    sign_in(page, served.link("health-visiting-fenmere", "practitioner", "hv-a11y-01"))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("What are you sending? Please answer.")
    # WCAG 3.3.1 and 2.4.2: a page that refused an answer says so first in its title, and each step has its own.
    assert page.title() == "Error: " + _title("Step 1 of 9: What you are sending", "Send a notification")
    # And the keyboard starts at the summary of what to put right, whose links lead to each field.
    assert page.evaluate("document.activeElement.getAttribute('role')") == "alert"
    found["what, with an error"] = _violations(axe, page)
    page.get_by_label(re.compile(r"^Safeguarding referral: to children")).check()
    page.get_by_role("button", name="Continue").click()
    found["purpose"] = _violations(axe, page)
    assert page.title() == _title("Step 2 of 9: Purpose", "Send a notification")
    page.get_by_label("Purpose", exact=True).select_option("safeguarding_concern")
    page.get_by_label("In a sentence").fill("Please assess: child disclosed being hit at home.")
    page.get_by_label("Your role").select_option("health_visitor")
    page.get_by_role("button", name="Continue").click()
    found["who needs to know"] = _violations(axe, page)
    for step, answer in (("consent", choose_recipients), ("risk", consent_without_asking)):
        answer(page)
        found[step] = _violations(axe, page)
    risk(page, sure=True)
    found["who must not know"] = _violations(axe, page)
    nobody_withheld(page)
    found["details"] = _violations(axe, page)
    child_details(page)
    found["authorisation"] = _violations(axe, page)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="What each recipient would get")).to_be_visible()
    found["check"] = _violations(axe, page)
    assert page.title() == _title("Step 9 of 9: Check before sending", "Send a notification")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("heading", name="Sent")).to_be_visible()
    found["sent"] = _violations(axe, page)
    assert page.title() == _title("Sent"), "no error, no step"
    assert {step: said for step, said in found.items() if said} == {}


# Elements, outside a data table (WCAG 1.4.10 exempts those), that reach past the viewport's right edge.
_OVERFLOWING = """() => [...document.body.querySelectorAll('*')]
    .filter(e => !e.closest('table, .visually-hidden, .skip'))
    .filter(e => e.getBoundingClientRect().width > 0 && e.getBoundingClientRect().right > window.innerWidth + 1)
    .map(e => `${e.tagName.toLowerCase()}.${e.className} ${(e.textContent || '').trim().slice(0, 40)}`)"""


def test_every_page_reflows_at_320_css_pixels(served: Served, browser: Browser) -> None:
    # WCAG 1.4.10 Reflow: a phone's width, or a desktop zoomed to 400 %, needs no sideways scrolling.
    referral = served.post(school_referral())
    served.post(school_referral(recipients=[POLICE], **HELD["needs_advice"]))
    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="en-GB")
    page, found = context.new_page(), {}
    for agency, role, user, paths in READERS:
        sign_in(page, served.link(agency, role, user))
        extra = [f"/ui/notifications/{referral['notification_id']}"] if role == "dsl" else []
        for path in [*paths, *extra]:
            page.goto(f"{served.base_url}{path}")
            found[f"{role} {path}"] = page.evaluate(_OVERFLOWING)
        context.clear_cookies()
    context.close()
    assert len(found) == sum(len(paths) for *_, paths in READERS) + 1
    assert {where: wide for where, wide in found.items() if wide} == {}


def test_the_decisions_list_fits_a_laptops_width(served: Served, browser: Browser) -> None:
    # At 1024 px (a laptop, or a desktop at 125 %) the list's ten columns fit without sideways scrolling.
    served.post(school_referral())
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="en-GB")
    page = context.new_page()
    sign_in(page, served.link(CSC, "ig_lead", "ig-a11y-02"))
    page.goto(f"{served.base_url}/ui/decisions")
    rows = page.locator("table tbody tr").count()
    wide = page.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert rows >= 3 and wide <= 1024, (rows, wide)
