"""Second UI review, pinned over HTTP on the real gateway (its OPA decides every share): the pages say
what a person reading them means, in their words and their time.

- an evidence pack for some days holds the London days the other pages count, not UTC days;
- the Sent page says a share held for advice released nothing yet, and sets its deadlines on release;
- the guided form offers each choice in the words the decision pages use for it, never a code;
- under "Not shared", the findings that did not decide it are headed so, never as reasons to share;
- a rule with no title of its own is named once ("I14: Immediate risk ..."), not "I14 I14";
- the Overdue page gives each deadline that ran out, apart from when the sweep found it, and whether it is
  still overdue or was met late;
- the access log and a recall say times in London time, and agencies, roles and offices in words;
- the decisions' Consent filter offers, and matches, the words the Consent column shows;
- a refused page names the role that may not open it in words, with the article they take;
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from broker.db.tables import ObligationClock
from broker.delivery.clocks import mark_overdue
from broker.partnership.grants import change_access
from broker.partnership.keys import load_broker_keys
from broker.review.access import Action
from broker.ui.form_types import sendable
from broker.ui.plain import plain
from broker.ui.policy_pack import PolicyPack
from broker.ui.words import (
    ACTIONS,
    CONSENT_EXCEPTIONS,
    CONSENT_STATES,
    LAWFUL_BASES,
    ROLES,
    SUBJECT_ROLES,
    local_time,
    option,
)
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.factories import school_referral
from tests.ui.form_walk import sign_in, walk
from tests.ui.test_ui_review_fixes import _hidden

pytestmark = pytest.mark.stack

SCHOOL, CSC, HV = "school-oakfield-primary", "csc-fenmere-mash", "health-visiting-fenmere"
LONDON = ZoneInfo("Europe/London")
_OPTION = re.compile(r'<option value="([^"]*)"[^>]*>([^<]*)</option>')
# The inputs whose options name codes the decision pages show in words, and those words.
WORDED = {
    "sender_role": ROLES,
    "authoriser_role": ROLES,
    "lawful_basis": LAWFUL_BASES,
    "consent_status": CONSENT_STATES,
    "not_sought_reason": CONSENT_EXCEPTIONS,
    "reason_not_informed": CONSENT_EXCEPTIONS,
    "subject_role": SUBJECT_ROLES,
}


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_an_evidence_pack_for_some_days_spans_those_days_in_london(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    ig = Person(gateway, CSC, "ig_lead", "ig-test-01")
    try:
        await ig.sign_in()
        pack = await ig.page("POST", "/ui/audit/export", {"since": "2026-06-01", "until": "2026-06-30"})
        form = await ig.page("GET", "/ui/audit")
    finally:
        await ig.close()
    assert pack.status_code == 200, pack.text[:600]
    header = json.loads(pack.text.splitlines()[0])
    since, until = _instant(header["since"]).astimezone(LONDON), _instant(header["until"]).astimezone(LONDON)
    # Midnight starting 1 June and midnight ending 30 June, as a clock in England reads them (BST).
    assert (since.date().isoformat(), since.hour, since.minute) == ("2026-06-01", 0, 0), header
    assert (until.date().isoformat(), until.hour, until.minute) == ("2026-07-01", 0, 0), header
    assert "Whole days in London time" in form.text


async def _sent(gateway: Gateway, opa_url: str, given: dict[str, str]) -> str:
    """The Sent page for an M01 a health visitor sends through the guided form, answered as `given`."""
    token = gateway.token(HV, role="practitioner", subject="walker-01")
    csrf = await sign_in(gateway.client, token)
    types = sendable(await PolicyPack(opa_url, timeout=5).types(), gateway.registry, HV)
    form = next(t for t in types if t.rules.catalogue_id == "M01")
    preview, answers = await walk(gateway.client, csrf, types, form, "health_community", given)
    # Before sending, the policy's answer says which way each finding points, and the page says it too.
    assert "(in favour of sharing)" in html.unescape(preview)
    # And every answer is repeated back as it will go, in the form's words: a typo can be seen.
    repeated = html.unescape(preview.split('id="h-answers"', 1)[1].split("</section>", 1)[0])
    typed = [v for k, v in answers.items() if k.startswith("p:") and "date" not in k and len(v) > 3]
    assert typed and all(f"<dd>{v}</dd>" in repeated for v in typed), repeated[:3000]
    assert f"<dd>{answers['purpose_statement']}</dd>" in repeated
    assert f"<dt>Your role</dt><dd>{option(answers['sender_role'], ROLES)}</dd>" in repeated, "in words, not a code"
    sent = await gateway.client.post("/ui/submit/send", data={**_hidden(preview), "go": "send"})
    assert sent.status_code == 200, sent.text[-1500:]
    return _main(sent.text)


def _main(page: str) -> str:
    return html.unescape(page.split('<main id="main">', 1)[1])


async def test_the_sent_page_says_a_held_share_released_nothing_yet(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    asks = {"in_doubt": "unsure", "lawful_basis": "safeguarding_children_individuals_at_risk"}  # "ask an adviser"
    sent = await _sent(gateway, opa_url, asks)
    assert "Needs advice" in sent, sent[:3000]
    assert "Held back (released only if the share is):" in sent
    assert "Released:" not in sent and "Fields released" not in sent
    # Each field as the form asked for it, not the schema's name ("child").
    words = " ".join(re.sub(r"<[^>]+>", " ", sent).split())
    assert "Held back (released only if the share is): Child's names, date of birth, gender" in words, words[:3000]
    assert "Set when the share is released" in sent and "None set" not in sent
    # And how long whoever must answer has: the held row's own expiry, so the sender need not open the decision.
    assert re.search(
        r"If nobody answers it by \d+ \w+ \d{4}, \d{2}:\d{2} \w+ \(.+?\), the held share is destroyed", words
    )
    # "Sent" is to the broker: the page says at once that nothing has reached anyone yet.
    assert "<h1>Held: not shared with anyone yet</h1>" in sent, "not headed “Sent” when it reached nobody"
    held = sent.count('class="badge o-needs_advice"') + sent.count('class="badge o-hold_for_authorisation"')
    shared = len(re.findall(r'class="badge o-share', sent))
    assert held >= 1 and (
        f"shared with {shared} {'agency' if shared == 1 else 'agencies'}; held for an answer for {held}, "
        "which nothing reaches until someone says yes" in " ".join(sent.split())
    ), sent[:1500]
    assert "See your decisions" in sent, "a practitioner's list is their own, not their agency's"


def _options(page: str, name: str) -> dict[str, str]:
    select = re.search(rf'<select id="f-{name}".*?</select>', page, re.S)
    return {} if select is None else {v: html.unescape(t).strip() for v, t in _OPTION.findall(select.group(0)) if v}


async def test_the_guided_form_offers_its_choices_in_words(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    gateway = await gateway_factory(ui_cookie_secure=False)
    csrf = await sign_in(gateway.client, gateway.token(SCHOOL, role="dsl", subject="dsl-test-01"))
    agency = gateway.registry.agency(SCHOOL)
    assert agency is not None
    types = sendable(await PolicyPack(opa_url, timeout=5).types(), gateway.registry, SCHOOL)
    form = next(t for t in types if t.rules.catalogue_id == "M01")
    pages: list[str] = []
    await walk(
        gateway.client,
        csrf,
        types,
        form,
        agency.type,
        {"consent_status": "given_explicit", "privacy_notice_given": "yes"},
        pages,
    )
    offered = {name: found for name in WORDED for page in pages if (found := _options(page, name))}
    assert offered.keys() == WORDED.keys(), f"never offered: {WORDED.keys() - offered.keys()}"
    for name, found in offered.items():
        for code, shown in found.items():
            # "Unsure" says on the form what follows (an adviser asked first), and on the pages that it was.
            if code in WORDED[name] and code != "unsure":
                words = WORDED[name][code]
                assert shown.lower() == words.lower(), f"{name}: {code} is offered as {shown!r}, shown as {words!r}"
            assert "_" not in shown, f"{name}: {shown!r} is a code"
    assert "Designated Safeguarding Lead" in offered["sender_role"].values()
    first = html.unescape(pages[0].split('<main id="main">', 1)[1])
    assert "`" not in first, "markdown in the types on offer"


async def test_the_findings_under_not_shared_are_not_shown_as_reasons_to_share(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    assert (await gateway.post(school_referral())).status_code == 202
    dsl = Person(gateway, SCHOOL, "dsl", "dsl-test-01")
    try:
        await dsl.sign_in()
        listed = (await dsl.page("GET", "/ui/decisions?outcome=no_share")).text
        seq = re.findall(r'href="/ui/decisions/(\d+)"', listed)[0]
        detail = _main((await dsl.page("GET", f"/ui/decisions/{seq}")).text)
    finally:
        await dsl.close()
    assert "Not shared" in detail
    decided, rest = detail.split('<h2 id="h-other-findings">', 1)
    assert "Findings that did not decide the outcome" in rest and "Other findings" not in detail
    assert "Any that favour sharing were outweighed" in rest and "nothing was shared" in rest
    (deciding,) = re.findall(r'<div class="finding">\s*<p><strong>(\w+)</strong>', decided)
    assert f'<th scope="row">{deciding}<br>' not in rest, "the deciding finding is listed with the others"
    assert re.search(r"<dt>Lawful basis relied on</dt><dd>None: nothing was shared</dd>", decided), decided[-1500:]
    # The sender's role after its agency's name, not bracketed after it: this name has brackets of its own.
    assert re.search(r"<dt>From</dt><dd>[^<]+\) · Designated Safeguarding Lead</dd>", decided), decided[-1500:]


async def test_a_rule_is_named_once_beside_its_title(
    gateway_factory: GatewayFactory,  # noqa: F811
    opa_url: str,
) -> None:
    """The policy's title "I14 a referral does not wait ..." reads beside the id without the id again."""
    gateway = await gateway_factory(ui_cookie_secure=False)
    urgent = {"immediate_significant_harm": "yes", "lawful_basis": "safeguarding_children_individuals_at_risk"}
    sent = await _sent(gateway, opa_url, urgent)
    assert "Shared urgently, review after" in sent, sent[:3000]
    title = "A referral does not wait when significant harm is apparent"
    assert f"<strong>I14</strong> {title}: Immediate risk of significant harm" in sent
    listed = _main((await gateway.client.get("/ui/decisions")).text)
    (cell,) = re.findall(r'<td class="deciding-rule">(.*?)</td>', listed)
    assert re.sub(r"<[^>]+>", "", cell) == f"I14 {title}"
    seq = re.findall(r'href="/ui/decisions/(\d+)"', listed)[0]
    detail = _main((await gateway.client.get(f"/ui/decisions/{seq}")).text)
    for page in (sent, listed, detail):
        assert not re.search(r"I14\W+I14", re.sub(r"<[^>]+>", " ", page)), "the id twice"


async def test_the_overdue_page_gives_the_deadline_that_ran_out(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    assert (await gateway.post(school_referral())).status_code == 202
    with Session(gateway.engine) as session:
        clocks = list(session.exec(select(ObligationClock).order_by(col(ObligationClock.due_at))))
        assert clocks, "the referral set no deadline"
        for clock in clocks:  # a month on: every deadline has passed (one still to come reads "Not due yet")
            clock.due_at -= timedelta(days=30)
            session.add(clock)
        # Found three days late: the page must still say when it was due.
        assert mark_overdue(session, clocks[0].due_at + timedelta(days=3))
        late = [c for c in clocks if c.overdue_at is not None]
        assert len(late) > 1, "two clocks ran out"
        late[0].stopped_at = late[0].due_at + timedelta(days=4)  # one answered late, after the sweep
        session.add(late[0])
        session.commit()
        due = {c.description: local_time(c.due_at) for c in late}
        now = {c.description: "Still overdue" for c in late[1:]} | {
            late[0].description: f"Met late, on {local_time(late[0].stopped_at)}"
        }
        owed = {c.description: (c.due_at.replace(tzinfo=UTC).isoformat(), "overdue") for c in late[1:]}
        owed[late[0].description] = (late[0].due_at.replace(tzinfo=UTC).isoformat(), "met_late")
    dsl = Person(gateway, SCHOOL, "dsl", "dsl-test-01")
    try:
        await dsl.sign_in()
        overdue = _main((await dsl.page("GET", "/ui/overdue")).text)
        decision = re.findall(r'href="/ui/decisions/(\d+)"', overdue)[0]
        history = _main((await dsl.page("GET", f"/ui/decisions/{decision}")).text).split("What happened next", 1)[1]
        listed = (await dsl.api("GET", "/v1/overdue")).json()
    finally:
        await dsl.close()
    # The decision's own history gives a missed deadline as the worklist does: the duty, then its sources.
    missed = [row for row in re.findall(r"<tr>.*?</tr>", history, re.S) if "<td>overdue</td>" in row]
    assert missed and all(re.search(r'<p>GR6: [^\[]+\.</p><p class="small">[^<]+\(timescales? T', r) for r in missed)
    headers = re.findall(r'<th scope="col">([^<]+)</th>', overdue)
    assert headers[-4:] == ["What was due", "Was due", "Found overdue", "Now"], headers
    rows = re.findall(r"<tr><td>#\d+</td>.*?</tr>", overdue, re.S)
    assert len(rows) == len(due), overdue
    for row in rows:
        what, was_due, found = re.findall(r"<td>(.*?)</td>", row, re.S)[-3:]
        # The duty first, its sources apart beneath it (as a finding's), not mid-sentence in brackets.
        (description,) = [d for d in due if f"<p>GR6: {d.split(' [')[0]}.</p>" in what]
        sources = re.findall(r"\[([^\]]+)\]", description)
        assert f'<p class="small">{sources[0]} (timescale' in what, row
        assert was_due == due[description], row
        assert found != was_due, "the time it was found given as the deadline"
        (still,) = re.findall(r'<td class="[a-z]*">(.*?)</td>', row, re.S)
        assert still.strip() == now[description], "a worklist says whether it is still owed"
    # The API says the same of each: when it was due, and whether it is still owed.
    given = {e["deadline"]["description"]: (e["deadline"]["due_at"], e["deadline"]["state"]) for e in listed}
    assert given == owed, given


_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _cells(page: str, column: int) -> list[str]:
    rows = re.findall(r"<tr><td>#\d+</td>.*?</tr>", page, re.S)
    return [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[column] for row in rows]


async def test_the_access_log_and_a_recall_say_who_and_when_in_words(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    sent = await gateway.post(school_referral())
    assert sent.status_code == 202
    system = Person(gateway, SCHOOL, "agency_system", None)  # the school's case system recalls it
    notification = sent.json()["notification_id"]
    withdrawn = await system.api(
        "POST", f"/v1/notifications/{notification}/withdrawal", json={"reason": "sent_in_error"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    dsl, ig = Person(gateway, SCHOOL, "dsl", "dsl-test-01"), Person(gateway, CSC, "ig_lead", "ig-test-01")
    try:
        await dsl.sign_in()
        assert (await dsl.page("GET", "/ui/audit")).status_code == 403  # refused, and logged
        listed = (await dsl.page("GET", "/ui/decisions?outcome=share")).text
        seq = re.findall(r'href="/ui/decisions/(\d+)"', listed)[0]
        detail = _main((await dsl.page("GET", f"/ui/decisions/{seq}")).text)
        await ig.sign_in()
        access = _main((await ig.page("GET", "/ui/access")).text)
    finally:
        await dsl.close()
        await ig.close()
    school = gateway.registry.agencies[SCHOOL].name
    (recall,) = re.findall(r'<p class="recalled".*?</p>', detail, re.S)
    assert f"by the system of {school}" in recall and "agency_system" not in recall, recall
    # Who withdrew it is said once, in words: not again in the log's "Withdrawn by the agency system".
    assert (
        re.search(rf"by the system of {re.escape(school)}: sent in error", recall)
        and " by " not in recall.split(school, 1)[1]
    ), recall
    events = detail.split("What happened next", 1)[1]
    assert "SYS-" not in events and SCHOOL not in events and not _ISO.search(events), events
    said = " ".join(_cells(access, 6))  # the Detail column
    assert "A Designated Safeguarding Lead may not audit the partnership's decision log" in said, said
    assert not _ISO.search(said) and "_" not in said and SCHOOL not in said, said


async def test_a_registry_change_reads_in_words_and_london_time(gateway_factory: GatewayFactory) -> None:  # noqa: F811
    gateway = await gateway_factory()
    keys = load_broker_keys(gateway.partnership.broker_keys_dir)
    summer = datetime(2026, 6, 1, 8, 5, tzinfo=UTC)
    changed = change_access(
        gateway.registry,
        action="grant",
        agency_id="housing-brookside",
        role="dsl",
        by="ops-admin-07",
        signing_key=keys.signing_key,
        key_id=keys.signing_key_id,
        now=summer,
    )
    logged = changed.access_changes[-1].describe()  # what the access log keeps
    names = {a: agency.name for a, agency in changed.agencies.items()}
    shown = plain(logged, names)
    assert logged.startswith("change #") and _ISO.search(logged)
    number = changed.access_changes[-1].number
    assert shown.startswith(f"registry change no. {number}: ops-admin-07 granted Designated Safeguarding Lead to")
    assert names["housing-brookside"] in shown and shown.endswith("at 1 Jun 2026, 09:05 BST"), shown


def _consent_column(page: str) -> list[str]:
    # The Consent cell is the small one after the Lawful basis cell.
    return re.findall(r'<td class="small">[^<]*</td>\s*<td class="small">([^<]*)</td>', page)


async def test_the_consent_filter_matches_the_words_the_column_shows(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    given = [{"subject_ref": "child-1", "giver": "parent_pr", "status": "given_explicit", "privacy_notice_given": True}]
    for overrides in ({}, {"consent": given}):
        answer = await gateway.post(school_referral(**overrides))
        assert answer.status_code == 202, answer.text
    ig = Person(gateway, CSC, "ig_lead", "ig-test-01")
    try:
        await ig.sign_in()
        everything = _main((await ig.page("GET", "/ui/decisions")).text)
        shown = _consent_column(everything)
        offered = {words: code for code, words in _options(everything, "consent").items()}
        assert len(set(shown)) == 2 and set(shown) <= offered.keys(), (shown, offered)
        for words in set(shown):
            for asked in (offered[words], words):  # the option the form posts, and the words typed or linked
                found = _main((await ig.page("GET", f"/ui/decisions?consent_state={quote_plus(asked)}")).text)
                rows = _consent_column(found)
                assert rows and len(rows) == shown.count(words) and set(rows) == {words}, (asked, rows)
    finally:
        await ig.close()


async def test_a_refused_page_names_the_role_in_words(gateway_factory: GatewayFactory) -> None:  # noqa: F811
    gateway = await gateway_factory()
    ig = Person(gateway, CSC, "ig_lead", "ig-test-01")
    try:
        await ig.sign_in()
        refused = await ig.page("GET", "/ui/submit")  # an IG lead audits; sending is an agency's
    finally:
        await ig.close()
    assert refused.status_code == 403, refused.text[:600]
    said = _main(refused.text)
    assert "An Information Governance lead may not send notifications." in said, said
    assert "ig_lead" not in said.split("Code:", 1)[0], said
    # Every action of the access table is said in words where a refusal names it.
    assert set(ACTIONS) == {a.value for a in Action}
