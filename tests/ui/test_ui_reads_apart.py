"""A decision's page lists who read it apart from what was done with it: every list a decision appears
in records a read, and a dozen of them buried its "What happened next" (a reader of the demo as the
Caldicott Guardian, session 58). Over HTTP on the real gateway, the stack's OPA and database."""

from __future__ import annotations

import html
import re

import pytest
from sqlmodel import Session, col, select

import audit
from tests.broker.conftest import Gateway, gateway, gateway_factory  # noqa: F401 - fixtures
from tests.broker.people import Person
from tests.ui.test_ui_refusal_links import _seq

pytestmark = pytest.mark.stack

HV = "health-visiting-fenmere"
NEXT, READS = "<h2>What happened next</h2>", "Who read it: "


async def _page(person: Person, seq: str, *, lists: int = 0) -> str:
    await person.sign_in()
    try:
        for _ in range(lists):
            assert (await person.page("GET", "/ui/decisions")).status_code == 200
        return html.unescape((await person.page("GET", f"/ui/decisions/{seq}")).text)
    finally:
        await person.close()


async def test_reads_are_listed_apart_from_what_happened(gateway: Gateway) -> None:  # noqa: F811
    sender = Person(gateway, HV, "dsl", "hv-reads-dsl")
    sent = await sender.send("share")
    seq = await _seq(sender, sent["notification_id"])
    as_sender = await _page(sender, seq, lists=3)
    assert READS not in as_sender, "a DSL does not read the access log, so is not shown who read it"
    lead = await _page(Person(gateway, HV, "ig_lead", "hv-reads-ig-lead"), seq)
    happened, after = lead.split(NEXT, 1)[1].split("</table>", 1)
    assert "Listed: its summary was shown in a list." not in happened, happened
    assert "Published" in happened or "Delivered" in happened or "published" in happened, happened
    reads = after.split(READS, 1)[1].split("</details>", 1)[0]
    with Session(gateway.engine) as session:
        logged = session.exec(
            select(audit.Entry.seq).where(
                col(audit.Entry.delivery_id) == sent["delivery_id"], col(audit.Entry.kind) == audit.EventKind.VIEWED
            )
        ).all()
    # Every read the log holds, but the IG lead's own opening of this page, written once it was read.
    said = f"{len(logged) - 1} reads (opened, or shown in a list), as far as your access log reaches"
    assert reads.startswith(said), reads[:200]
    assert [f"#{s}" for s in logged[:-1]] == re.findall(r"<td>(#\d+)</td>", reads)
    assert reads.count("hv-reads-dsl") >= 4 and reads.count("Listed: its summary was shown in a list.") >= 3
    assert "Opened: the decision's page" in reads
