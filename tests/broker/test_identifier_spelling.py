"""On the real gateway (SQLite, the stack's OPA): an identifier in another spelling than its one is a 422
naming the field, and nothing is decided. Before, an upper-case or braced notification_id was read as
the UUID, logged in lower case, and the agency's own spelling then found nothing; a tree size of "5"
was read as 5."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session, col, select

import audit
from tests.broker.conftest import Gateway
from tests.broker.people import Person
from tests.factories import school_referral

pytestmark = pytest.mark.stack
SCHOOL, CSC = "school-oakfield-primary", "csc-fenmere-mash"
MESSAGE = "must be a UUID in lower case, 8-4-4-4-12 hex digits with hyphens"


def _logged(gateway: Gateway) -> int:
    with Session(gateway.engine) as session:
        return len(session.exec(select(col(audit.Entry.seq))).all())


@pytest.mark.parametrize(
    "spell", [str.upper, lambda i: f"urn:uuid:{i}", lambda i: f"{{{i}}}"], ids=["upper", "urn", "braces"]
)
async def test_a_notification_id_in_another_spelling_is_refused(gateway: Gateway, spell: Callable[[str], str]) -> None:
    body = school_referral()
    body["notification_id"] = spell(body["notification_id"])
    before = _logged(gateway)
    answer = await gateway.post(body)
    assert answer.status_code == 422, answer.text
    assert [(e["loc"], e["msg"]) for e in answer.json()["errors"]] == [(["notification_id"], MESSAGE)]
    assert body["notification_id"] not in answer.text, "a refusal never quotes what was sent"
    assert _logged(gateway) == before, "nothing decided"


async def test_a_correction_naming_an_id_in_another_spelling_is_refused(gateway: Gateway) -> None:
    sender = Person(gateway, SCHOOL, "dsl", "dsl-oak-81")
    sent = await sender.send("share")
    corrected = sender.notification("share")
    corrected["notification_id"] = corrected["notification_id"].replace("-", "")
    corrected["in_reply_to"] = sent["notification_id"].upper()
    before = _logged(gateway)
    answer = await sender.api("POST", f"/v1/notifications/{sent['notification_id']}/correction", json=corrected)
    assert answer.status_code == 422, answer.text
    assert sorted(e["loc"][0] for e in answer.json()["errors"]) == ["in_reply_to", "notification_id"]
    assert _logged(gateway) == before, "nothing decided, nothing withdrawn"


async def test_a_tree_size_given_as_a_string_is_refused(gateway: Gateway) -> None:
    headers = {"Authorization": f"Bearer {gateway.token(CSC)}"}
    body = {"tree_size": "5", "cosignature": "\u2014 csc-fenmere-mash " + "A" * 102 + "==\n"}
    answer = await gateway.client.post("/v1/log/cosignatures", json=body, headers=headers)
    assert answer.status_code == 422, answer.text
    assert [(e["loc"], e["type"]) for e in answer.json()["detail"]] == [(["tree_size"], "int_type")]
