"""The policy replay page (/ui/replay) in Chromium against the real gateway (uvicorn, OPA, SQLite, Kafka).

A candidate directory holds a copy of the policies in which referrals may no longer rely on the
children-at-risk lawful basis; the page must list exactly the logged decisions that change makes flip,
as the log says, and nothing to anyone but the partnership's office holders.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine
from sqlmodel import Session, col, select

import audit
from audit.replay import bundle_of
from devstack.partnership import LocalPartnership
from faults.harness import PrivateOpa
from schemas.vocab import SHARED_OUTCOMES
from tests.factories import school_referral
from tests.ui.conftest import Served, serving, shot, sign_in

pytestmark = pytest.mark.stack

REPO = Path(__file__).resolve().parents[2]
CSC, POLICE, SCHOOL = "csc-fenmere-mash", "police-fenmere", "school-oakfield-primary"
TO_POLICE = {"agency_id": POLICE, "role": "police_public_protection", "need_to_know": "investigate_crime"}
BASIS = "safeguarding_children_individuals_at_risk"
CANDIDATE = "no-children-at-risk-basis"


@pytest.fixture
def candidates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """SGB_REPLAY_POLICIES with one candidate: the policies without `BASIS` for referrals (GR1 then holds)."""
    policies = tmp_path / "candidates" / CANDIDATE
    shutil.copytree(REPO / "policies", policies)
    config_file = policies / "safeguarding" / "config" / "data.json"
    config = json.loads(config_file.read_text())
    referral = config["message_types"]["safeguarding_referral"]
    referral["lawful_bases"] = [b for b in referral["lawful_bases"] if b != BASIS]
    config["revision"] = "sg-policy-candidate"
    config_file.write_text(json.dumps(config))
    monkeypatch.setenv("SGB_REPLAY_POLICIES", str(policies.parent))
    return policies.parent


@pytest.fixture
def replaying(candidates: Path, served: Served) -> Served:
    """The served gateway, started after (so with) the candidate directory."""
    return served


def _would_flip(database_url: str) -> set[int]:
    """From the log alone: every share that relied on `BASIS` now lacks a lawful basis, so it flips."""
    engine = create_engine(database_url)
    try:
        with Session(engine) as db:
            rows = db.exec(
                select(audit.Entry.seq).where(
                    col(audit.Entry.kind) == audit.EventKind.DECIDED,
                    col(audit.Entry.lawful_basis) == BASIS,
                    col(audit.Entry.outcome).in_([o.value for o in SHARED_OUTCOMES]),
                )
            )
            return set(rows)
    finally:
        engine.dispose()


# The widest choice's text, as the select's own font draws it, against the room the select gives it.
_CHOICE_AND_ROOM = """select => {
    const context = document.createElement("canvas").getContext("2d");
    context.font = getComputedStyle(select).font;
    const widest = Math.max(...Array.from(select.options, o => context.measureText(o.text).width));
    return [widest, select.clientWidth];
}"""


def _replay(page: Page, policy: str, since: date, until: date) -> None:
    page.get_by_label("Candidate policy").select_option(policy)  # by value: the name a candidate posts
    page.get_by_label("From").fill(since.isoformat())
    page.get_by_label("To").fill(until.isoformat())
    page.get_by_role("button", name="Replay").click()
    page.wait_for_load_state()


def test_the_ig_lead_sees_exactly_what_a_candidate_policy_flips(replaying: Served, page: Page, sqlite_url: str) -> None:
    replaying.post(school_referral(recipients=[TO_POLICE]))
    replaying.post(school_referral(recipients=[TO_POLICE], lawful_basis="public_interest"))
    replaying.post(school_referral())
    expected = _would_flip(sqlite_url)
    assert expected, "the notifications above must include shares that rely on the basis"
    today = date.today()

    sign_in(page, replaying.link(CSC, "ig_lead", "ig-demo-01"))  # the partnership's IG lead
    page.get_by_role("link", name="Audit").click()
    page.locator("#main").get_by_role("link", name="Policy replay").click()
    expect(page.get_by_role("heading", name="Policy replay")).to_be_visible()
    _replay(page, f"dir/{CANDIDATE}", today - timedelta(days=1), today)
    expect(page.get_by_role("status")).to_contain_text(f"{len(expected)} would flip")
    listed = {int(s.removeprefix("#")) for s in page.locator("table.flips tbody tr td:first-child a").all_inner_texts()}
    assert listed == expected
    first = page.locator("table.flips tbody tr").first
    expect(first).to_contain_text("Shared")
    expect(first).to_contain_text("Held for authorisation")
    expect(first).to_contain_text("GR1")
    expect(page.locator("main")).to_contain_text(re.compile(r"sg-policy-candidate@[0-9a-f]{16}"))
    widest, room = page.get_by_label("Candidate policy").evaluate(_CHOICE_AND_ROOM)
    assert widest < room, "a candidate's name and revision must show whole, not cut off by the select"
    shot(page, "replay")

    _replay(page, "current", today - timedelta(days=1), today)
    expect(page.get_by_role("status")).to_contain_text("0 would flip")
    # The served policy carries no tests: its one digest is the logged one, nothing to explain.
    expect(page.locator("dt:text-is('Same policy')")).to_have_count(0)


def test_the_form_names_a_bad_field_and_a_dsl_is_refused(replaying: Served, page: Page, browser: Browser) -> None:
    sign_in(page, replaying.link(CSC, "ig_lead", "ig-demo-01"))
    page.goto(f"{replaying.base_url}/ui/replay")
    csrf = page.locator("input[name=csrf_token]").first.input_value()
    form: dict[str, str | float | bool] = {
        "csrf_token": csrf,
        "policy": f"dir/{CANDIDATE}",
        "since": "2026-13-01",
        "until": "2026-01-31",
    }
    bad_date = page.request.post(f"{replaying.base_url}/ui/replay", form=form)
    assert bad_date.status == 422 and "From: Use a date like" in bad_date.text()
    long = page.request.post(
        f"{replaying.base_url}/ui/replay", form={**form, "since": "2026-01-01", "until": "2026-12-31"}
    )
    assert long.status == 422 and "To: The period is 365 days" in long.text()
    outside: dict[str, str | float | bool] = {**form, "since": "2026-01-01", "policy": f"dir/../{CANDIDATE}"}
    path = page.request.post(f"{replaying.base_url}/ui/replay", form=outside)
    assert path.status == 422 and "Candidate policy: Choose one of the listed" in path.text()

    dsl = browser.new_context()
    try:
        other = dsl.new_page()
        sign_in(other, replaying.link(SCHOOL, "dsl", "dsl-demo-01"))
        refused = other.goto(f"{replaying.base_url}/ui/replay")
        assert refused is not None and refused.status == 403
        expect(other.get_by_role("link", name="Audit")).to_have_count(0)
    finally:
        dsl.close()


def test_decisions_hashed_with_the_tests_are_named_as_the_same_policy(
    partnership: LocalPartnership, sqlite_url: str, page: Page, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gateway whose OPA served the policy's tests too (as before SERVE_FLAGS) logged another hash of
    the same policy: the page names it as that policy, so the IG lead does not take it for a change."""
    unchanged = tmp_path / "candidates" / "as-served"
    shutil.copytree(REPO / "policies", unchanged)
    monkeypatch.setenv("SGB_REPLAY_POLICIES", str(unchanged.parent))
    earlier = PrivateOpa(tmp_path / "opa-with-tests", serve_flags=())
    earlier.start()
    try:
        with serving(partnership, sqlite_url, opa_url=earlier.url) as gateway:
            gateway.post(school_referral(recipients=[TO_POLICE]))
            sign_in(page, gateway.link(CSC, "ig_lead", "ig-demo-01"))
            page.goto(f"{gateway.base_url}/ui/replay")
            today = date.today()
            _replay(page, "dir/as-served", today - timedelta(days=1), today)
            expect(page.get_by_role("status")).to_contain_text("0 would flip")
            logged = page.locator("dt:text-is('Logged under') + dd").inner_text()
            same = page.locator("dt:text-is('Same policy') + dd")
            expect(same).to_contain_text(f"{logged}: the candidate itself, its hash taken with its tests")
    finally:
        earlier.stop()
    name, digest = bundle_of(unchanged)
    assert logged.startswith(f"{name}@") and digest[:16] not in logged
