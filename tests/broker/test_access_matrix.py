"""The access table, tried on the real gateway: every principal x every route x every target.

Principals are each role at one agency (health visiting, granted all six person roles) and the two
partnership office holders (children's social care's IG lead and Caldicott Guardian). Targets are
held, urgent and decided items sent by the person themselves (`self`, for those who may send), by a
colleague at their agency (`agency`), and by another agency (`other`). Routes are read from the app
(its OpenAPI and its UI routers), so a route with no rule in `broker.review.access.ROUTES`, or no
probe here, fails.

What each case expects is worked out from the table's cells (`access.TABLE`), not from the code
that enforces them: 403 when none of the route's actions is open to the role; for an item, 404
when the item is outside the scope, as if it did not exist; for a list, the item listed or not. One
rule sits beside the table: nobody answers a held or urgent share they sent (403, and not in their
queue).
Probes change nothing that a later probe reads (an answer with an empty reason is refused after the
scope check, 422), except sending, which runs last.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlmodel import Session, select

import audit
from broker.app import UI_ROUTERS
from broker.review import access
from broker.review.access import Action
from tests.broker.conftest import Gateway
from tests.broker.people import Person

AGENCY, OFFICES, OTHER = "health-visiting-fenmere", "csc-fenmere-mash", "school-oakfield-primary"
ROLES = ("agency_system", "practitioner", "dsl", "ig_lead", "caldicott_guardian", "line_manager", "named_professional")
TARGETS = ("self", "agency", "other")
RANK = {access.Scope.NONE: 0, access.Scope.OWN: 1, access.Scope.AGENCY: 2, access.Scope.PARTNERSHIP: 3}
NEEDS = {"self": 1, "agency": 2, "other": 3}
ANY_BUT_403 = -403
_DECIDES = {
    "needs_advice": Action.ADVICE,
    "hold_for_authorisation": Action.AUTHORISE,
    "share_urgent_review_after": Action.URGENT_REVIEW,
}


def cell(person: Person, action: Action) -> int:
    """The table's reach for this person: the wider of their role's row and their office's row."""
    rows = [access.TABLE[person.role]] + ([access.TABLE[person.office]] if person.office else [])
    return max(RANK[row[action]] for row in rows)


def reaches(person: Person, action: Action, target: str) -> bool:
    reach = cell(person, action)
    return reach > 0 and reach >= NEEDS[target]


# Shares someone other than their sender answers: advice, an authorisation, and the review of an
# urgent share afterwards (it stands in for the authorisation it went without).
ANSWERED_BY_ANOTHER = ("needs_advice", "hold_for_authorisation", "share_urgent_review_after")


def answers(person: Person, outcome: str, target: str) -> bool:
    # Deciding belongs to the sender's agency: a person's own item counts as their agency's, except a
    # held or urgent share they sent themselves, which someone else advises on, authorises or reviews.
    if own_held(person, outcome, target):
        return False
    return reaches(person, _DECIDES[outcome], "agency" if target == "self" else target)


def own_held(person: Person, outcome: str, target: str) -> bool:
    """A held or urgent share this person sent and would otherwise answer: refused (403), never listed."""
    return target == "self" and outcome in ANSWERED_BY_ANOTHER and reaches(person, _DECIDES[outcome], "agency")


def answer_status(person: Person, outcome: str, target: str) -> int:
    """422 (the empty reason, refused after the scope check), 403 for one's own held share, else 404."""
    if answers(person, outcome, target):
        return 422
    return 403 if own_held(person, outcome, target) else 404


def opens(person: Person, method: str, path: str) -> bool:
    return any(cell(person, a) > 0 for a in access.ROUTES[(method, path)])


@dataclass
class Item:
    """What one sender sent: one notification per held outcome, and their own agency's grant entry."""

    agency: str
    sent: dict[str, dict[str, Any]]
    grant_seq: int

    def seq(self, outcome: str = "needs_advice") -> int:
        return int(self.sent[outcome]["decided_seq"])

    def delivery(self, outcome: str) -> str:
        return str(self.sent[outcome]["delivery_id"])


@dataclass
class Case:
    person: Person
    target: str
    item: Item

    @property
    def label(self) -> str:
        return f"{self.person.role}{'/' + self.person.office if self.person.office else ''}@{self.target}"


Probe = Callable[[Case], Awaitable[tuple[int, int | None]]]  # (status, 1/0 listed, or None)


async def _seed(gateway: Gateway, sender: Person) -> Item:
    sent = {outcome: await sender.send(outcome) for outcome in _DECIDES}
    with Session(gateway.engine) as session:
        for answer in sent.values():
            decided = session.exec(
                select(audit.Entry).where(
                    audit.Entry.delivery_id == answer["delivery_id"], audit.Entry.kind == audit.EventKind.DECIDED
                )
            ).one()
            answer["decided_seq"] = decided.seq
        grant = session.exec(
            select(audit.Entry).where(
                audit.Entry.kind == audit.EventKind.REGISTRY_CHANGED, audit.Entry.sender_agency == sender.agency
            )
        ).first()
    assert grant is not None
    return Item(sender.agency, sent, grant.seq)


def _listed(text: str, *needles: str) -> int:
    return int(all(needle in text for needle in needles))


async def _send(c: Case) -> tuple[int, None]:
    agency = c.person.agency if c.target != "other" else OTHER
    body = c.person.notification("share", agency=agency, role=c.person.sends_as or "dsl")
    return (await c.person.api("POST", "/v1/notifications", json=body)).status_code, None


async def _status(c: Case) -> tuple[int, None]:
    notification = c.item.sent["needs_advice"]["notification_id"]
    return (await c.person.api("GET", f"/v1/notifications/{notification}")).status_code, None


async def _decisions(c: Case) -> tuple[int, int | None]:
    r = await c.person.api("GET", "/v1/decisions", params={"limit": 200})
    return r.status_code, _listed(r.text, f'"seq":{c.item.seq()},') if r.status_code == 200 else None


async def _decision(c: Case) -> tuple[int, None]:
    return (await c.person.api("GET", f"/v1/decisions/{c.item.seq()}")).status_code, None


async def _queues(c: Case) -> tuple[int, int | None]:
    r = await c.person.api("GET", "/v1/queues")
    return r.status_code, _queued(r.text, c) if r.status_code == 200 else None


async def _answer(c: Case) -> tuple[int, None]:
    empty_reason = {"decision": "release", "reason": " "}  # refused after the scope check: nothing changes
    return await _both(c, lambda d: c.person.api("POST", f"/v1/queues/{d}", json=empty_reason))


async def _urgent(c: Case) -> tuple[int, None]:
    r = await c.person.api(
        "POST", f"/v1/urgent/{c.item.seq('share_urgent_review_after')}", json={"reason": " ", "finding": "upheld"}
    )
    return r.status_code, None


async def _access_events(c: Case) -> tuple[int, int | None]:
    r = await c.person.api("GET", "/v1/access-events", params={"limit": 200, "agency": c.item.agency})
    return r.status_code, _listed(r.text, f'"seq":{c.item.grant_seq},') if r.status_code == 200 else None


async def _ui_decisions(c: Case) -> tuple[int, int | None]:
    r = await c.person.page("GET", "/ui/decisions?outcome=needs_advice")
    return r.status_code, _listed(r.text, f'/ui/decisions/{c.item.seq()}"') if r.status_code == 200 else None


async def _ui_decision(c: Case) -> tuple[int, None]:
    return (await c.person.page("GET", f"/ui/decisions/{c.item.seq()}")).status_code, None


async def _ui_queues(c: Case) -> tuple[int, int | None]:
    r = await c.person.page("GET", "/ui/queues")
    return r.status_code, _queued(r.text, c, urgent=False) if r.status_code == 200 else None


async def _ui_answer(c: Case) -> tuple[int, None]:
    return await _both(c, lambda d: c.person.page("POST", f"/ui/queues/{d}", {"decision": "release"}))


async def _ui_urgent(c: Case) -> tuple[int, int | None]:
    r = await c.person.page("GET", "/ui/urgent")
    seq = c.item.seq("share_urgent_review_after")
    return r.status_code, _listed(r.text, f'/ui/urgent/{seq}"') if r.status_code == 200 else None


async def _ui_review(c: Case) -> tuple[int, None]:
    r = await c.person.page("POST", f"/ui/urgent/{c.item.seq('share_urgent_review_after')}", {"reason": ""})
    return r.status_code, None


async def _ui_access(c: Case) -> tuple[int, int | None]:
    r = await c.person.page("GET", f"/ui/access?agency={c.item.agency}")
    return r.status_code, _listed(r.text, f"<td>#{c.item.grant_seq}</td>") if r.status_code == 200 else None


def _page(method: str, path: str) -> Probe:
    async def probe(c: Case) -> tuple[int, None]:
        return (await c.person.page(method, path)).status_code, None

    return probe


def _api(method: str, path: str) -> Probe:
    async def probe(c: Case) -> tuple[int, None]:
        return (await c.person.api(method, path)).status_code, None

    return probe


# One probe per route the module knows items for; any other route gets `_route_only`.
PROBES: dict[tuple[str, str], Probe] = {
    ("POST", "/v1/notifications"): _send,
    ("GET", "/v1/notifications/{notification_id}"): _status,
    ("GET", "/v1/decisions"): _decisions,
    ("GET", "/v1/decisions/{seq}"): _decision,
    ("GET", "/v1/queues"): _queues,
    ("POST", "/v1/queues/{delivery_id}"): _answer,
    ("POST", "/v1/urgent/{seq}"): _urgent,
    ("GET", "/v1/overdue"): _api("GET", "/v1/overdue"),
    ("GET", "/v1/access-events"): _access_events,
    ("GET", "/ui/decisions"): _ui_decisions,
    ("GET", "/ui/decisions/{seq}"): _ui_decision,
    ("GET", "/ui/queues"): _ui_queues,
    ("POST", "/ui/queues/{delivery_id}"): _ui_answer,
    ("GET", "/ui/urgent"): _ui_urgent,
    ("POST", "/ui/urgent/{seq}"): _ui_review,
    ("GET", "/ui/overdue"): _page("GET", "/ui/overdue"),
    ("GET", "/ui/access"): _ui_access,
    ("GET", "/ui/audit"): _page("GET", "/ui/audit"),
    ("POST", "/ui/audit/export"): _page("POST", "/ui/audit/export"),
    ("GET", "/ui/submit"): _page("GET", "/ui/submit"),
    ("POST", "/ui/submit"): _page("POST", "/ui/submit"),
    ("POST", "/ui/submit/send"): _page("POST", "/ui/submit/send"),
}


def _queued(text: str, c: Case, *, urgent: bool = True) -> int:
    """1 when exactly the held items this person answers are listed (0 otherwise)."""
    outcomes = [o for o in _DECIDES if urgent or o != "share_urgent_review_after"]
    listed = [c.item.delivery(o) in text for o in outcomes]
    return int(listed == [answers(c.person, o, c.target) for o in outcomes])


async def _both(c: Case, post: Callable[[str], Awaitable[Any]]) -> tuple[int, None]:
    """Answer the advice item and the authorisation item; each status must be what the table says."""
    codes = {o: (await post(c.item.delivery(o))).status_code for o in ("needs_advice", "hold_for_authorisation")}
    expected = {o: answer_status(c.person, o, c.target) for o in codes}
    if set(codes.values()) == {403} and codes != expected:
        return 403, None
    return (codes["needs_advice"] if codes == expected else -1), None


def routes(gateway: Gateway) -> list[tuple[str, str]]:
    """Every (method, path) the app serves behind a role, GETs first (sending runs last): the OpenAPI's
    operations and the UI routers' routes (left out of the OpenAPI)."""
    found = {(m.upper(), p) for p, ops in gateway.app.openapi()["paths"].items() for m in ops}
    found |= {
        (m, r.path)
        for ui in UI_ROUTERS
        for r in ui.routes
        if isinstance(r, APIRoute)
        for m in (r.methods or set()) - {"HEAD"}
    }
    open_paths = {p for m, p in found if p in access.OPEN_ROUTES}
    unruled = {(m, p) for m, p in found if p not in access.OPEN_ROUTES and (m, p) not in access.ROUTES}
    assert unruled == set(), f"routes with no access rule in broker/review/access.py: {sorted(unruled)}"
    assert {p for _, p in access.ROUTES} <= {p for _, p in found}, "a rule for a route that no longer exists"
    assert open_paths, "the open routes (health, sign-in) are served too"
    gated = sorted(found - {(m, p) for m, p in found if p in access.OPEN_ROUTES})
    return sorted(gated, key=lambda mp: (mp[0] != "GET", mp[1].startswith("/ui/submit"), mp))


def _route_only(method: str, path: str) -> Probe:
    """A route this module has no item for (a new one): the table still decides who reaches it at all."""

    async def probe(c: Case) -> tuple[int, None]:
        url = path.replace("{", "").replace("}", "")  # any id: only the route check is asked about
        if path.startswith("/ui/"):
            return (await c.person.page(method, url)).status_code, None
        return (await c.person.api(method, url)).status_code, None

    return probe


def expected(case: Case, method: str, path: str, *, probed: bool = True) -> tuple[int, int | None]:
    """(status, listed) as the table has it; `listed` is checked by the probe itself for queues."""
    person, target = case.person, case.target
    if not opens(person, method, path):
        return 403, None
    if not probed:
        return ANY_BUT_403, None
    actions = access.ROUTES[(method, path)]
    if (method, path) == ("POST", "/v1/notifications"):
        return (202 if target != "other" else 422), None
    if path in ("/v1/queues", "/ui/queues"):
        return 200, 1
    if path in ("/v1/queues/{delivery_id}", "/ui/queues/{delivery_id}"):
        return answer_status(person, "needs_advice", target), None
    if path in ("/v1/urgent/{seq}", "/ui/urgent/{seq}"):
        return answer_status(person, "share_urgent_review_after", target), None
    if path == "/ui/urgent":
        return 200, int(answers(person, "share_urgent_review_after", target))
    if path in ("/ui/submit", "/v1/overdue", "/ui/overdue", "/ui/audit", "/ui/audit/export"):
        return (422 if method == "POST" and path.startswith("/ui/submit") else 200), None
    if path.startswith("/ui/submit"):
        return 422, None  # an empty form: refused field by field, after the route check
    (action,) = actions
    relation = "agency" if action is Action.ACCESS_LOG and target == "self" else target
    visible = reaches(person, action, relation)
    if "{" in path:
        return (200 if visible else 404), None
    return 200, int(visible)


@pytest.mark.stack
async def test_every_principal_on_every_route_against_every_target(gateway: Gateway) -> None:
    colleague = Person(gateway, AGENCY, "practitioner", "hv-colleague-01")
    items = {
        AGENCY: await _seed(gateway, colleague),
        OFFICES: await _seed(gateway, Person(gateway, OFFICES, "practitioner", "csc-colleague-01")),
        OTHER: await _seed(gateway, Person(gateway, OTHER, "agency_system", None)),
    }
    people = [Person(gateway, AGENCY, role, None if role == "agency_system" else f"{role}-hv-01") for role in ROLES]
    people += [Person(gateway, OFFICES, role, f"{role}-office-01") for role in ("ig_lead", "caldicott_guardian")]
    assert [p.office for p in people if p.office] == ["partnership_ig_lead", "partnership_caldicott_guardian"]
    own = {p.user: await _seed(gateway, p) for p in people if p.sends_as is not None}
    for person in people:
        await person.sign_in()
    probes, failures, cases = PROBES, [], 0
    try:
        for method, path in routes(gateway):
            probe = probes.get((method, path)) or _route_only(method, path)
            for person in people:
                for target in TARGETS:
                    if target == "self" and person.user not in own:
                        continue  # this role may not send, so has sent nothing of its own
                    item = (
                        own[person.user] if target == "self" else items[person.agency if target == "agency" else OTHER]
                    )
                    case = Case(person, target, item)
                    got, want = await probe(case), expected(case, method, path, probed=(method, path) in probes)
                    cases += 1
                    if want[0] == ANY_BUT_403 and got[0] != 403:
                        continue
                    if (got[0], got[1] if want[1] is not None else None) != want:
                        failures.append(f"{method} {path} as {case.label}: got {got}, table says {want}")
    finally:
        for person in people:
            await person.close()
    print(f"access matrix: {cases} role x route x target cases")  # the number the report quotes
    assert failures == [], "\n".join(failures)
    assert cases == len(routes(gateway)) * (len(people) * len(TARGETS) - (len(people) - len(own)))
