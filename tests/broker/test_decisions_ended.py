"""An IG lead checks that a withdrawal, a correction or an erasure happened from the Decisions list
(`ended`), without the person's NHS number in hand. Real gateway, the stack's OPA."""

from __future__ import annotations

import re
import typing

import pytest

from broker.api.decisions import filters
from broker.review.views import ENDINGS
from tests.broker.conftest import Gateway
from tests.broker.people import Person
from tests.broker.test_case_review import nhs_number
from tests.broker.test_case_shredding import CSC, SCHOOL, TO_CSC, _refer

pytestmark = pytest.mark.stack

CHILD = nhs_number("400000091")


def test_the_api_offers_each_ending_the_log_has() -> None:
    offered = typing.get_type_hints(filters, include_extras=True)["ended"]
    assert set(typing.get_args(typing.get_args(typing.get_args(offered)[0])[0])) == set(ENDINGS)


async def test_the_list_finds_what_was_withdrawn_corrected_or_shredded(gateway: Gateway) -> None:
    sender = Person(gateway, SCHOOL, "dsl", "dsl-school-92")
    standing = await sender.send("share")
    withdrawn = await sender.send("share")
    corrected = await sender.send("share")
    shredded = await _refer(sender, "pupil-9201", CHILD, [TO_CSC])
    url = f"/v1/notifications/{withdrawn['notification_id']}/withdrawal"
    assert (await sender.api("POST", url, json={"reason": "sent_in_error"})).status_code == 200
    url = f"/v1/notifications/{corrected['notification_id']}/correction"
    assert (await sender.api("POST", url, json=sender.notification("share"))).status_code == 202
    lead = Person(gateway, CSC, "ig_lead", "csc-ig-lead-92")  # the partnership's IG lead
    erased = {"nhs_number": CHILD, "reason_code": "court_order", "decision_ref": "IG-2026-0192"}
    assert (await lead.api("POST", "/v1/case-shredding", json=erased)).status_code == 200

    for ended, expected in (("withdrawn", withdrawn), ("corrected", corrected), ("shredded", shredded)):
        found = await lead.api("GET", "/v1/decisions", params={"ended": ended})
        assert found.status_code == 200, found.text
        assert {d["notification_id"] for d in found.json()["items"]} == {expected["notification_id"]}, ended
    assert standing["notification_id"] not in str((await lead.api("GET", "/v1/decisions?ended=withdrawn")).json())
    refused = await lead.api("GET", "/v1/decisions", params={"ended": "erased"})
    assert refused.status_code == 422 and "ended" in refused.text, refused.text

    await lead.sign_in()
    try:
        shown = await lead.page("GET", "/ui/decisions?ended=shredded")
        audited = await lead.page("GET", "/ui/audit")
        unknown = await lead.page("GET", "/ui/decisions?ended=erased")
    finally:
        await lead.close()
    assert re.search(r"\b1 decision matches\b", shown.text), shown.text
    assert '<option value="shredded" selected>' in shown.text
    # The audit's totals count what was decided; beside them, how many of those decisions ended since.
    for ended, label in (
        ("withdrawn", "Withdrawn"),
        ("corrected", "Corrected"),
        ("shredded", "Shredded with their case"),
    ):
        assert f'<a href="/ui/decisions?ended={ended}" aria-label="1 decision: {label}">1</a>' in audited.text, ended
    assert re.search(r"\b0 decisions match", unknown.text), "an ending the log does not have matches nothing"
    # A withdrawal's decision shredded since counts in both rows (a reader of the demo added them up).
    assert "one withdrawn or corrected and then shredded counts under both" in audited.text
