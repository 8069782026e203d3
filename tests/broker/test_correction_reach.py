"""A correction that changes the recipients: the agency it dropped reads its own decision of the first
notification without a link to a correction it never received (that link answered 404, logged as an
access refusal), and the agency it added reads the correction without a link to a notification it never
received. The sender reads both ways. Real gateway, the stack's OPA."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, col, select

import audit
from broker.db.tables import OutboxRow
from schemas.notice import Notice
from tests.broker.conftest import Gateway
from tests.broker.people import POLICE, Person
from tests.broker.test_case_review import nhs_number
from tests.ui.test_ui_correction import _words

pytestmark = pytest.mark.stack

SCHOOL, CSC = "school-oakfield-primary", "csc-fenmere-mash"
CHILD = nhs_number("400000091")
TO_CSC = {"agency_id": CSC, "role": "mash_intake", "need_to_know": "assess_and_decide"}


def _decided(gateway: Gateway, notification_id: str) -> int:
    with Session(gateway.engine) as session:
        query = select(audit.Entry.seq).where(
            col(audit.Entry.notification_id) == notification_id, col(audit.Entry.kind) == audit.EventKind.DECIDED
        )
        (seq,) = session.exec(query).all()
    return int(seq)


async def _read(person: Person, seq: int) -> tuple[dict[str, Any], str]:
    detail = await person.api("GET", f"/v1/decisions/{seq}")
    assert detail.status_code == 200, detail.text
    await person.sign_in()
    try:
        shown = await person.page("GET", f"/ui/decisions/{seq}")
        assert shown.status_code == 200, shown.text
    finally:
        await person.close()
        person.ui = None
    return detail.json(), _words(shown)


async def test_a_correction_to_other_agencies_links_only_what_each_reader_received(gateway: Gateway) -> None:
    sender = Person(gateway, SCHOOL, "dsl", "dsl-school-91")
    first, replacement = sender.notification("share"), sender.notification("share")  # to the police
    for body in (first, replacement):
        body["subjects"][0]["nhs_number"] = CHILD  # so a case review finds the child
    sent = await sender.api("POST", "/v1/notifications", json=first)
    assert sent.status_code == 202, sent.text
    replacement["recipients"] = [TO_CSC]  # the correction goes to children's social care instead
    corrected = await sender.api("POST", f"/v1/notifications/{first['notification_id']}/correction", json=replacement)
    assert corrected.status_code == 202, corrected.text
    was, now = _decided(gateway, first["notification_id"]), _decided(gateway, replacement["notification_id"])
    with Session(gateway.engine) as session:
        rows = session.exec(select(OutboxRow).where(col(OutboxRow.notification_id) == first["notification_id"]))
        (told,) = [Notice.from_bytes(r.envelope) for r in rows if r.log_context.get("notice_for")]
    # The police are told it was withdrawn, replaced, not pointed at a correction they will never receive.
    assert (told.kind, told.reason, told.superseded_by) == ("withdrawal", "superseded", None), told

    dropped, dropped_words = await _read(Person(gateway, POLICE["agency_id"], "dsl", "police-dsl-91"), was)
    assert (dropped["state"], dropped["correction"]) == ("corrected", None), dropped
    assert "replaced by a correction that was not sent to your agency." in dropped_words, dropped_words
    assert "Read the correction's decision" not in dropped_words
    # Nor is the replacement named in what they read of it: the log's words name it, for those it reached.
    (said,) = [r["message"] for e in dropped["events"] if e["kind"] == "corrected" for r in e["reasons"]]
    assert said == "Corrected by the dsl: replaced by a correction that was not sent to your agency.", said
    assert replacement["notification_id"] not in str(dropped) + dropped_words

    # An IG lead of the police reviewing the child's case reads it as their DSL did.
    review = await Person(gateway, POLICE["agency_id"], "ig_lead", "police-ig-91").api(
        "POST", "/v1/case-review", json={"nhs_number": CHILD}
    )
    assert review.status_code == 200, review.text
    (then,) = [d["then"] for d in review.json()["decisions"] if d["seq"] == was]
    (said,) = [r["message"] for e in then if e["kind"] == "corrected" for r in e["reasons"]]
    assert said == "Corrected by the dsl: replaced by a correction that was not sent to your agency.", said

    added, added_words = await _read(Person(gateway, CSC, "dsl", "csc-dsl-91"), now)
    assert added["corrects"] is None, added
    assert "This notification corrects" not in added_words, added_words

    first_seen, first_words = await _read(sender, was)
    assert first_seen["correction"] == replacement["notification_id"]
    assert f"replaced by notification {replacement['notification_id']}." in str(first_seen["events"])
    assert "Read the correction's decision" in first_words, first_words
    second_seen, second_words = await _read(sender, now)
    assert second_seen["corrects"] == first["notification_id"]
    assert f"This notification corrects notification {first['notification_id']}" in second_words, second_words
