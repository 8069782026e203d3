"""The guided form offers the recipients a payload fact's value adds (the pack's `fact_recipient_types`)
exactly when the policy would let them receive: a looked-after child's placement notice (M17) goes to
the Virtual School, any other transfer does not.

Against the real gateway and its OPA, in a partnership with a (fictional) Virtual School; the tests'
registry (tests/fixtures/registry.json) has none, `make demo`'s has the same one (demo/cases.py).
Over HTTP as a browser posts, and in Chromium (screenshots in screenshots/).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from broker.db.tables import OutboxRow
from broker.partnership.cli import issue_token
from broker.ui.form_types import sendable
from broker.ui.policy_pack import PolicyPack, rules_of
from devstack.partnership import AgencySpec, LocalPartnership, provision
from tests.broker.conftest import AUDIENCE, Gateway, GatewayFactory, demo_agencies, demo_offices, gateway_factory  # noqa: F401
from tests.ui.conftest import Served, shot, sign_in
from tests.ui.form_steps import consent_without_asking, nobody_withheld, risk
from tests.ui.form_walk import sign_in as http_sign_in
from tests.ui.form_walk import walk

CSC, VIRTUAL_SCHOOL, EASTHOLT = "csc-fenmere-mash", "virtual-school-fenmere", "csc-eastholt"
PLACEMENT, CP_PLAN = "lac_placement_notification", "cp_plan_transfer"
PACK = json.loads((Path(__file__).resolve().parents[2] / "policies/safeguarding/config/data.json").read_text())


@pytest.fixture(scope="module")
def partnership(tmp_path_factory: pytest.TempPathFactory, relay_namespace: str) -> LocalPartnership:
    """The demo partnership with a Virtual School registered, for this module's tests only."""
    partnership_id, specs = demo_agencies()
    school = AgencySpec(VIRTUAL_SCHOOL, "virtual_school", "Fenmere Virtual School (fictional)", roles=("practitioner",))
    return provision(tmp_path_factory.mktemp("virtual-school"), partnership_id, [*specs, school], demo_offices())


def test_a_facts_value_adds_the_types_the_policy_adds() -> None:
    rules = rules_of("child_move_transfer", PACK["message_types"]["child_move_transfer"])
    assert rules.added_by({"transfer_type": PLACEMENT}) == ("virtual_school",)
    assert rules.added_by({"transfer_type": CP_PLAN}) == ()
    assert rules.added_by({}) == ()
    assert rules.conditional_recipients() == {"transfer_type": {PLACEMENT: ("virtual_school",)}}


def _hidden(page: str) -> dict[str, str]:
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    return {name: html.unescape(value) for name, value in found}


def _step(page: str) -> str:
    found = re.search(r"<h2>Step \d+ of \d+: ([^<]+)</h2>", page)
    assert found is not None, page[-2000:]
    return found.group(1)


async def _placement_walk(gateway: Gateway, opa_url: str, transfer_type: str) -> tuple[list[str], dict[str, str]]:
    token = issue_token(gateway.partnership.agency_keys(CSC), role="practitioner", audience=AUDIENCE, subject="sw-07")
    csrf = await http_sign_in(gateway.client, token)
    types = sendable(await PolicyPack(opa_url, timeout=5).types(), gateway.registry, CSC)
    (form,) = [t for t in types if t.message_type == "child_move_transfer"]
    seen: list[str] = []
    _, answers = await walk(
        gateway.client, csrf, types, form, "csc_front_door", seen=seen, on_details={"p:transfer_type": transfer_type}
    )
    return seen, {**answers, "csrf_token": csrf}


def _deliveries(gateway: Gateway, notification_id: str) -> set[str]:
    with Session(gateway.engine) as session:
        rows = session.exec(select(OutboxRow).where(OutboxRow.notification_id == notification_id))
        return {row.recipient_agency for row in rows}


async def _post(client: httpx.AsyncClient, path: str, data: dict[str, str]) -> str:
    response = await client.post(path, data=data)
    assert response.status_code in (200, 422), response.text
    return response.text


async def test_a_placement_notice_is_offered_to_the_virtual_school_and_shared_with_it(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    seen, answers = await _placement_walk(gateway, opa_url, PLACEMENT)
    # Who needs to know is asked before the transfer type: not offered yet, but the page says when it will be.
    first = seen[2]
    assert _step(first) == "Who needs to know" and f'name="to:{VIRTUAL_SCHOOL}"' not in first
    assert "The Virtual School can be chosen too if you answer" in html.unescape(first)
    details = next(i for i, page in enumerate(seen) if _step(page) == "Details")
    assert "Placement notice for a looked-after child" in html.unescape(seen[details])  # the details step's choice
    # Once the details say it is a placement notice, the recipients step comes round again, offering it.
    again = seen[details + 1]
    assert _step(again) == "Who needs to know", "the recipients step was not shown again"
    assert f'name="to:{VIRTUAL_SCHOOL}" value="virtual_school_head"' in again
    assert "so this may also go to the Virtual School: Fenmere Virtual School (fictional)" in html.unescape(again)

    chosen = {**answers, **_hidden(again), f"to:{VIRTUAL_SCHOOL}": "virtual_school_head"}
    chosen[f"ntk:{VIRTUAL_SCHOOL}"] = "provide_support"
    following = await _post(gateway.client, "/ui/submit", {**chosen, "step": "2", "go": "next"})
    assert _step(following) == "Authorisation", "not back where the person was"
    preview = await _post(gateway.client, "/ui/submit", {**chosen, **_hidden(following), "go": "next"})
    row = re.search(r"<tr><th scope=\"row\">Fenmere Virtual School \(fictional\)</th>(.*?)</tr>", preview, re.S)
    assert row is not None and "Shared" in row.group(1), preview[-3000:]

    sent = await _post(gateway.client, "/ui/submit/send", {**_hidden(preview), "go": "send"})
    assert "Fenmere Virtual School (fictional)" in html.unescape(sent)
    # Shared: sealed for the Virtual School's inbox, as the API would have done.
    assert _deliveries(gateway, _hidden(preview)["notification_id"]) >= {VIRTUAL_SCHOOL, EASTHOLT}


async def test_any_other_transfer_never_offers_the_virtual_school(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    seen, answers = await _placement_walk(gateway, opa_url, CP_PLAN)
    assert all(f'name="to:{VIRTUAL_SCHOOL}"' not in page for page in seen)
    assert "What each recipient would get" in seen[-1], "the recipients step came round again for nothing"
    # Chosen anyway (a page kept from a placement notice, or a made-up post): taken off and asked again.
    stale = {**answers, **_hidden(seen[-1]), f"to:{VIRTUAL_SCHOOL}": "virtual_school_head"}
    stale[f"ntk:{VIRTUAL_SCHOOL}"] = "provide_support"
    for path in ("/ui/submit", "/ui/submit/send"):
        page = html.unescape(await _post(gateway.client, path, {**stale, "go": "send" if "send" in path else "next"}))
        assert _step(page) == "Who needs to know", path
        assert "mean Fenmere Virtual School (fictional) may not receive this" in page, path
        assert f'name="to:{VIRTUAL_SCHOOL}"' not in page, path
    assert _deliveries(gateway, _hidden(seen[-1])["notification_id"]) == set(), "sent although refused"


def test_a_social_worker_sends_a_placement_notice_to_the_virtual_school(served: Served, page: Page) -> None:
    sign_in(page, served.link(CSC, "practitioner", "sw-demo-07"))
    page.get_by_label(re.compile(r"^Child move transfer")).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Purpose", exact=True).select_option("transfer_of_responsibility")
    page.get_by_label("In a sentence").fill("The child is placed in your area; please arrange the school place.")
    page.get_by_label("Your role").select_option(index=1)
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("checkbox", name=re.compile("Virtual School"))).to_have_count(0)
    expect(page.get_by_text(re.compile("The Virtual School can be chosen too"))).to_be_visible()
    shot(page, "submit-recipients-before-placement")
    page.get_by_role("checkbox", name=re.compile("Eastholt")).check()
    page.get_by_label(re.compile("Why Eastholt")).select_option("transfer_case")
    page.get_by_role("button", name="Continue").click()
    consent_without_asking(page)
    risk(page, sure=True)
    nobody_withheld(page)

    page.get_by_label("Who is this mainly about?").select_option("child")
    page.get_by_label("Their age in years").fill("11")
    page.get_by_label("Which transfer protocol applies").select_option(
        label="Placement notice for a looked-after child"
    )
    child = page.get_by_role("group", name=re.compile("^The child moving"))
    child.get_by_label("Given name").fill("Delta")
    child.get_by_label("Family name").fill("Fictionalpupil")
    page.get_by_label(re.compile("^Date of the move")).fill("2026-12-01")
    page.get_by_role("button", name="Continue").click()

    # Back at who needs to know, told why, with the Virtual School now offered.
    expect(page.get_by_role("heading", name=re.compile("Who needs to know"))).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("so this may also go to the Virtual School")
    page.get_by_role("checkbox", name=re.compile("Virtual School")).check()
    page.get_by_label(re.compile("Why Fenmere Virtual School")).select_option("provide_support")
    shot(page, "submit-recipients-virtual-school")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name=re.compile("Authorisation"))).to_be_visible()
    page.get_by_role("button", name="Continue").click()

    row = page.locator("table.preview").get_by_role("row", name=re.compile("Virtual School"))
    expect(row).to_contain_text("Shared")
    shot(page, "submit-preview-virtual-school")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("row", name=re.compile("Virtual School.*Shared"))).to_be_visible()
