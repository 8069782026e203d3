"""Reading OPA's answer and writing the receipt: one pass each, and nothing else read as permission."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from broker.sharing.decide import read_answer
from broker.sharing.flow import Receipt
from broker.sharing.policy import RawDecision
from schemas.policy_decision import PolicyDecision

DECISION = PolicyDecision(policy_revision="r1", registry_revision="g1", partnership_id="p", recipients=[], errors=[])


def test_an_answer_is_read_against_the_decision_contract() -> None:
    body = json.dumps({"decision_id": "d-1", "result": DECISION.model_dump(mode="json")}).encode()
    answer = read_answer(RawDecision(body))
    assert answer.result == DECISION
    assert answer.decision_id == "d-1"


@pytest.mark.parametrize("body", [b"{}", b'{"decision_id": "d-2"}'])
def test_an_undefined_decision_has_no_result(body: bytes) -> None:
    # The Decider refuses it (`PolicyUnavailable`); a gateway test shows the 503.
    assert read_answer(RawDecision(body)).result is None


@pytest.mark.parametrize(
    "body",
    [
        b"<html>not JSON</html>",
        b'{"result": []}',
        b'{"result": true}',
        b'{"result": {"policy_revision": "r1"}}',
        b'{"result": {"policy_revision": "r1", "registry_revision": null, "partnership_id": null, '
        b'"recipients": [], "errors": [], "allow_all": true}}',
    ],
)
def test_anything_else_breaks_the_contract(body: bytes) -> None:
    with pytest.raises(ValidationError):
        read_answer(RawDecision(body))


def test_a_receipt_has_the_bytes_json_dumps_gave() -> None:
    # The stored first answers were written by `json.dumps` like this; a retry must read the same.
    body = {
        "notification_id": "7d1e0c52-0000-4000-8000-000000000001",
        "checkpoint": "broker.example.invalid/log\n12\nq83/+=\n\n— sig Zm9v\n",
        "recipients": [
            {
                "agency_id": "school-ashgrove-primary",
                "outcome": "share_minimised",
                "reasons": [
                    {"rule": "GR5", "message": 'Withheld: "home_address" \\ tab\t, bell\x07, é, ü, 中, \u2028'}
                ],
                "allowed_fields": ["child", "concern_summary"],
                "obligations": [],
                "deadline": None,
                "count": 12345678901234567890,
                "flags": [True, False],
            }
        ],
    }
    expected = json.dumps(body, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()
    assert Receipt.new(body).content == expected
