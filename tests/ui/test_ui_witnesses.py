"""The audit page shows how far each agency has witnessed the log, and a decision which agencies witnessed
it, on the real gateway (OPA decides, SQLite logs).

An IG lead reads there which agencies' consumers have cosigned the broker's checkpoints, and up to which.
A cosignature counts only if it verifies now: one written into the table behind the gateway's back (an
insider's) is named on its agency's row, never counted as witnessed.
"""

from __future__ import annotations

import html
import re

import pytest
from sqlmodel import Session, select

import audit
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.cosigning import forge_cosignature, post_cosignature, signed_checkpoint
from tests.broker.people import Person
from tests.factories import school_referral

pytestmark = pytest.mark.stack

CSC, POLICE, SCHOOL = "csc-fenmere-mash", "police-fenmere", "school-oakfield-primary"


def _witness_rows(page: str) -> dict[str, list[str]]:
    table = page.split('<table aria-labelledby="h-witnesses">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table, re.S)
    return {html.unescape(name): [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in cells] for name, *cells in rows}


async def test_the_audit_page_says_who_witnessed_the_log_and_up_to_where(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    # Only the test signs a checkpoint: the gateway's own round (every 0.5 s in tests) would sign a newer
    # one over the sign-in and the page view, and the page would rightly name that one as the newest.
    gateway = await gateway_factory(checkpoint_seconds=3600)
    checkpoint = await signed_checkpoint(gateway)
    await post_cosignature(gateway, checkpoint, CSC)
    forge_cosignature(gateway, checkpoint, POLICE)

    ig = Person(gateway, CSC, "ig_lead", "ig-test-01")
    try:
        await ig.sign_in()
        page = (await ig.page("GET", "/ui/audit")).text
    finally:
        await ig.close()

    names = {a: gateway.registry.agencies[a].name for a in (CSC, POLICE, SCHOOL)}
    rows = _witness_rows(page)
    assert list(rows) == sorted(a.name for a in gateway.registry.agencies.values() if a.witness_keys), rows
    assert rows[names[CSC]] == [f"{checkpoint.size} entries", "5 Dec 2026, 09:30 GMT"], rows[names[CSC]]
    assert rows[names[POLICE]] == ["A stored cosignature does not verify. None yet", "—"], rows[names[POLICE]]
    assert rows[names[SCHOOL]] == ["None yet", "—"], rows[names[SCHOOL]]
    said = html.unescape(page.split('id="h-witnesses"', 1)[1].split("<table", 1)[0])
    assert f"The newest checkpoint the broker signed covers {checkpoint.size} entries" in said, said


def _witnessed_line(page: str) -> str:
    found = re.search(r'<p class="small witnessed">(.*?)</p>', page)
    assert found, page[:800]
    return html.unescape(found.group(1))


def _decided(gateway: Gateway) -> list[int]:
    with Session(gateway.engine) as session:
        found = select(audit.Entry).where(audit.Entry.kind == "decided")
        return sorted(entry.seq for entry in session.exec(found))


async def test_a_decision_names_the_agencies_that_witnessed_it(gateway_factory: GatewayFactory) -> None:  # noqa: F811
    gateway = await gateway_factory()
    checkpoint = await signed_checkpoint(gateway)
    await post_cosignature(gateway, checkpoint, CSC)
    forge_cosignature(gateway, checkpoint, POLICE)  # never counted
    covered = _decided(gateway)
    assert covered and max(covered) < checkpoint.size
    assert (await gateway.post(school_referral())).status_code == 202  # decided after the cosigned checkpoint
    later = max(_decided(gateway))

    ig, dsl = Person(gateway, CSC, "ig_lead", "ig-test-02"), Person(gateway, SCHOOL, "dsl", "dsl-test-02")
    try:
        await ig.sign_in()
        pages = {seq: (await ig.page("GET", f"/ui/decisions/{seq}")).text for seq in (covered[0], later)}
        answers = {seq: await gateway.client.get(f"/v1/decisions/{seq}", headers=ig.headers()) for seq in pages}
        await dsl.sign_in()  # the sender's DSL: the school is not among the witnesses
        senders_page = (await dsl.page("GET", f"/ui/decisions/{covered[0]}")).text
        senders = await gateway.client.get(f"/v1/decisions/{covered[0]}", headers=dsl.headers())
    finally:
        await ig.close()
        await dsl.close()

    assert {k: answers[covered[0]].json()["integrity"][k] for k in ("witnesses", "witnessed_by")} == {
        "witnesses": 1,
        "witnessed_by": [CSC],
    }
    assert {k: answers[later].json()["integrity"][k] for k in ("witnesses", "witnessed_by")} == {
        "witnesses": 0,
        "witnessed_by": [],
    }
    # Whose witness cosigned when tells when that agency received a record: only those who audit the
    # partnership are told which agencies; others learn how many, and their own agency's part.
    assert {k: senders.json()["integrity"][k] for k in ("witnesses", "witnessed_by")} == {
        "witnesses": 1,
        "witnessed_by": [],
    }
    assert _witnessed_line(senders_page) == "Witnessed by 1 agency: its consumer cosigned a checkpoint that covers it."
    said = {seq: _witnessed_line(page) for seq, page in pages.items()}
    csc = gateway.registry.agencies[CSC].name
    assert said[covered[0]] == f"Witnessed by {csc}: its consumer cosigned a checkpoint that covers it.", said
    assert said[later] == "No agency's consumer has cosigned a checkpoint that covers it yet.", said
