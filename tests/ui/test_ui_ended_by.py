"""A "Recently answered" row names whoever ended a held share's wait, not only an answerer: the sender
withdrawing it, or an IG lead shredding its case, is named with what they did and why; a share released
and later withdrawn still names who released it (`broker.review.queues._answerers`).

Before, a held share its sender withdrew, or whose case was shredded, read only "withdrawn" or
"shredded" beside its time, and a line manager could not tell a colleague's withdrawal from a system's.
Over HTTP on the real gateway, OPA and Kafka; the people are fictional.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from broker.ui import audit_page
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.broker.test_case_review import nhs_number
from tests.broker.test_case_shredding import CSC, SCHOOL, TO_CSC, _refer

pytestmark = pytest.mark.stack

_ROW = re.compile(
    r'<h3 id="a-([^"]+)">.*?<dt>([^<]+)</dt><dd class="answerer">([^<]+)</dd>'
    r'(?:\s*<dt>Their reason</dt><dd class="answer-reason">([^<]*)</dd>)?',
    re.S,
)
CHILD = nhs_number("400000048")


def _ended_by(page: str) -> dict[str, tuple[str, str, str]]:
    """Each "Recently answered" row's act, person and reason, by the held share's delivery id."""
    rows = page.split('id="h-answered"', 1)[1].split('<section class="card answered"')[1:]
    found = {}
    for row in rows:
        named = _ROW.search(row)
        if named is not None:
            act, person, reason = (html.unescape(g or "") for g in named.group(2, 3, 4))
            found[named.group(1)] = (act, person, reason)
    return found


async def _held(sender: Person, ref: str, outcome: str, **extra: Any) -> tuple[str, str]:
    sent = await _refer(sender, ref, CHILD, [TO_CSC], **extra)
    (held,) = sent["recipients"]
    assert held["outcome"] == outcome, held
    return str(sent["notification_id"]), str(held["delivery_id"])


async def test_a_row_names_who_withdrew_or_shredded_a_held_share(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    school, csc = gateway.registry.agency(SCHOOL), gateway.registry.agency(CSC)
    assert school is not None and csc is not None
    dsl, adviser = (Person(gateway, SCHOOL, "dsl", f"dsl-end-0{n}") for n in (1, 2))
    manager = Person(gateway, SCHOOL, "line_manager", "lm-end-01")
    released_id, released = await _held(dsl, "pupil-end-1", "needs_advice", sender_in_doubt=True)
    withdrawn_id, withdrawn = await _held(dsl, "pupil-end-2", "hold_for_authorisation", lawful_basis=None)
    _, shredded = await _held(dsl, "pupil-end-3", "hold_for_authorisation", lawful_basis=None)

    answer = await adviser.api("POST", f"/v1/queues/{released}", json={"decision": "release", "reason": "Agreed."})
    assert answer.status_code == 200, answer.text
    # Released, then withdrawn: its row still names who released it.
    for notification_id in (released_id, withdrawn_id):
        recall = await dsl.api(
            "POST", f"/v1/notifications/{notification_id}/withdrawal", json={"reason": "sent_in_error"}
        )
        assert recall.status_code == 200, recall.text
    shred = {"nhs_number": CHILD, "reason_code": "sent_in_error", "decision_ref": "IG-2026-0412"}
    shredding = await Person(gateway, CSC, "ig_lead", "csc-ig-end-01").api("POST", "/v1/case-shredding", json=shred)
    assert shredding.status_code == 200, shredding.text

    advised = _ended_by(await adviser.opened("/ui/queues"))
    page = await manager.opened("/ui/queues")
    rows = _ended_by(page)

    by_dsl = f"dsl-end-01, Designated Safeguarding Lead at {school.name}"
    assert advised[released] == ("Answered by", f"dsl-end-02, Designated Safeguarding Lead at {school.name}", "Agreed.")
    act, person, reason = rows[withdrawn]
    assert (act, person) == ("Withdrawn by", by_dsl), rows[withdrawn]
    assert reason == "Sent in error.", reason  # the log's "Withdrawn by the …: " is said by the row's act
    # Withdrawn while held, it reached nobody: the row says so, not that every agency it reached deletes it.
    row = page.split(f'id="a-{withdrawn}"', 1)[1].split("</section>", 1)[0]
    assert "withdrawn before it was released: no agency received it" in row, row
    assert "every agency it reached" not in row, row
    by_lead = f"csc-ig-end-01, Information Governance lead at {csc.name}"
    act, person, reason = rows[shredded]
    assert (act, person) == ("Shredded with its case by", by_lead), rows[shredded]
    assert reason == "Case shredded (sent in error) under the decision IG-2026-0412.", reason
    # The Audit page's endings of held shares: one released (then withdrawn), two ended before any answer.
    ended = dict(audit_page.totals(gateway.decision_log)["held"])
    assert ended["Released by an adviser or authoriser"] == 1, ended
    assert ended["Withdrawn or corrected by its sender, or shredded with its case, before an answer"] == 2, ended
    assert ended["No answer yet: waiting in the queue of those who may answer it"] == 0, ended
