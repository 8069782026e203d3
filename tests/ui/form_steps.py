"""The guided form's steps as a practitioner fills them in Chromium (shared by the browser tests)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def choose_recipients(page: Page) -> None:
    page.get_by_role("checkbox", name=re.compile("Social Care MASH")).check()
    page.get_by_label(re.compile("Why Fenmere Children's Social Care MASH")).select_option("assess_and_decide")
    page.get_by_role("checkbox", name=re.compile("Fenmere Constabulary")).check()
    page.get_by_label(re.compile("Why Fenmere Constabulary")).select_option("investigate_crime")
    page.get_by_role("button", name="Continue").click()


def consent_without_asking(page: Page) -> None:
    page.get_by_label(re.compile("^Consent")).select_option("not_sought")
    page.get_by_role("group", name="Whose consent is this?").get_by_label(re.compile("^A parent or carer")).check()
    page.get_by_role("group", name="Do the parents know").get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("which exception applies")
    page.get_by_label("If consent was not sought").select_option("risk_significant_harm")
    page.get_by_label("If they do not know").select_option("risk_significant_harm")
    page.get_by_label("Lawful basis for sharing").select_option("safeguarding_children_individuals_at_risk")
    page.get_by_role("button", name="Continue").click()


def risk(page: Page, *, sure: bool, phoned: bool = False) -> None:
    for group, answer in (
        ("immediate risk", "No"),
        ("likely to suffer", "Yes"),
        ("adult at risk", "No"),
        ("suspect a crime", "Yes"),
        ("anyone else", "No"),
    ):
        page.get_by_role("group", name=re.compile(group)).get_by_label(answer, exact=True).check()
    doubt = page.get_by_role("group", name=re.compile("Are you sure"))
    doubt.get_by_label(re.compile("^Yes: share it" if sure else "^Unsure: ask an adviser")).check()
    first = "^It was phoned through first" if phoned else "^This notification is the first"
    page.get_by_role("group", name=re.compile("first reach")).get_by_label(re.compile(first)).check()
    page.get_by_role("button", name="Continue").click()


def nobody_withheld(page: Page) -> None:
    """Golden rule 5's step: nobody named in the case must be kept from it."""
    page.get_by_role("group", name=re.compile("must not receive")).get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Continue").click()


def child_details(page: Page) -> None:
    page.get_by_label("Who is this mainly about?").select_option("child")
    page.get_by_label("Their age in years").fill("8")
    page.get_by_role("button", name="Continue").click()
    # Required by the schema and by the policy's adequacy check (GR6): asked for before anything is sent.
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Given name: please answer")
    expect(alert).to_contain_text("Where the child is now: please answer")
    child = page.get_by_role("group", name=re.compile("^Child's names"))
    child.get_by_label("Given name").fill("Bravo")
    child.get_by_label("Family name").fill("Fictionalchild")
    page.get_by_label(re.compile("^Facts of the concern")).fill(
        "Said a parent hit her yesterday evening; bruise seen on a home visit."
    )
    page.get_by_label("Where the child is now").fill("At nursery until 15:00")
    page.get_by_role("button", name="Continue").click()
