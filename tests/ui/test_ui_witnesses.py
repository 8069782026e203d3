"""The audit page shows how far each agency has witnessed the log, on the real gateway (OPA decides, SQLite logs).

An IG lead reads there which agencies' consumers have cosigned the broker's checkpoints, and up to which.
A cosignature counts only if it verifies now: one written into the table behind the gateway's back (an
insider's) is named on its agency's row, never counted as witnessed.
"""

from __future__ import annotations

import html
import re

import pytest

from tests.broker.conftest import GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.cosigning import forge_cosignature, post_cosignature, signed_checkpoint
from tests.broker.people import Person

pytestmark = pytest.mark.stack

CSC, POLICE, SCHOOL = "csc-fenmere-mash", "police-fenmere", "school-oakfield-primary"


def _witness_rows(page: str) -> dict[str, list[str]]:
    table = page.split('<table aria-labelledby="h-witnesses">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table, re.S)
    return {html.unescape(name): [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in cells] for name, *cells in rows}


async def test_the_audit_page_says_who_witnessed_the_log_and_up_to_where(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
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
