"""The audit page shows how far each agency has witnessed the log, on the real gateway (OPA decides, SQLite logs).

An IG lead reads there which agencies' consumers have cosigned the broker's checkpoints, and up to which.
A cosignature counts only if it verifies now: one written into the table behind the gateway's back (an
insider's) is named on its agency's row, never counted as witnessed.
"""

from __future__ import annotations

import asyncio
import html
import re
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

import audit
from tests.broker.conftest import Gateway, GatewayFactory, gateway_factory  # noqa: F401 - fixture
from tests.broker.people import Person
from tests.factories import school_referral

pytestmark = pytest.mark.stack

CSC, POLICE, SCHOOL = "csc-fenmere-mash", "police-fenmere", "school-oakfield-primary"


def _witness_rows(page: str) -> dict[str, list[str]]:
    table = page.split('<table aria-labelledby="h-witnesses">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table, re.S)
    return {html.unescape(name): [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in cells] for name, *cells in rows}


async def _signed_checkpoint(gateway: Gateway) -> audit.Checkpoint:
    assert (await gateway.post(school_referral())).status_code == 202
    await asyncio.to_thread(gateway.decision_log.refresh_checkpoint)
    note = gateway.decision_log.checkpoint_note
    assert note is not None
    return audit.Checkpoint.parse(note, verify_with=None)


def _cosign(gateway: Gateway, checkpoint: audit.Checkpoint, agency: str) -> str:
    key = gateway.partnership.agency_keys(agency).current_witness_key
    assert key is not None, "provisioning gives every agency a witness key"
    return audit.cosign(checkpoint.note, key.name, key.private_key, datetime(2026, 12, 5, 9, 30, tzinfo=UTC))


async def test_the_audit_page_says_who_witnessed_the_log_and_up_to_where(
    gateway_factory: GatewayFactory,  # noqa: F811
) -> None:
    gateway = await gateway_factory()
    checkpoint = await _signed_checkpoint(gateway)
    csc = Person(gateway, CSC, "agency_system", None)
    stored = await gateway.client.post(
        "/v1/log/cosignatures",
        json={"tree_size": checkpoint.size, "cosignature": _cosign(gateway, checkpoint, CSC)},
        headers=csc.headers(),
    )
    assert stored.status_code == 201, stored.text
    # An insider writes a police "cosignature" on another note straight into the table: the line is
    # well formed and names the police's key, but does not verify over this checkpoint.
    other = audit.Checkpoint.parse(checkpoint.note.replace(f"\n{checkpoint.size}\n", "\n999\n"), verify_with=None)
    forged = audit.Cosignature.parse(_cosign(gateway, other, POLICE))
    with Session(gateway.engine) as db:
        db.add(
            audit.CosignatureRecord(
                tree_size=checkpoint.size,
                witness_name=forged.name,
                key_id=forged.key_id.hex(),
                timestamp=forged.timestamp,
                line=forged.line,
            )
        )
        db.commit()

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
