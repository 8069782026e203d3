"""Issue 13, item 4: people are never recipients. A notification names the persons who must not
receive; naming one as a recipient is a 422 naming the field, and a recipient who passes
information on to one of them gets nothing that could endanger someone (GR5), by the real OPA."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from schemas.notifications import parse_notification
from schemas.policy_decision import PolicyDecision
from schemas.policy_input import build_policy_input
from tests.policy.bases import consent_given, patched
from tests.policy.conftest import REGISTRY, Decide

FATHER = {"person_ref": "father-01", "relation": "alleged_perpetrator"}
SOCIAL_WORKER = {"agency_id": "csc-fenmere-mash", "role": "social_worker", "need_to_know": "protect_child"}


def _referral(recipient: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A referral that would be shared, but for what the recipient does with it."""
    agreed = {"parental_position": {"parents_informed": True, "parent_withheld_permission": False}}
    return patched(
        "referral",
        {"withheld_from": [FATHER], "recipients": [recipient], **agreed, "consent": consent_given(), **extra},
    )


def _decided(body: dict[str, Any], decide: Decide) -> Any:
    policy_input = build_policy_input(parse_notification(body), REGISTRY["partnership_id"])
    decision = PolicyDecision.model_validate(decide(policy_input.model_dump(mode="json")))
    (recipient,) = decision.recipients
    return recipient


@pytest.mark.parametrize(
    ("recipient", "named"),
    [
        ({**SOCIAL_WORKER, "agency_id": "father-01"}, "recipients[0].agency_id names a person"),
        ({**SOCIAL_WORKER, "conveys_to": ["uncle-02"]}, "recipients[0].conveys_to[0] names no person"),
    ],
)
def test_a_person_is_never_a_recipient(recipient: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_notification(_referral(recipient))
    (error,) = refused.value.errors()
    assert error["loc"][-1] == "recipients"
    assert named in error["msg"] and "uncle-02" not in error["msg"] and "father-01" not in error["msg"]


@pytest.mark.stack
def test_what_endangers_is_withheld_from_a_recipient_who_tells_the_named_perpetrator(decide: Decide) -> None:
    plain = _decided(_referral(SOCIAL_WORKER), decide)
    telling = _decided(_referral({**SOCIAL_WORKER, "conveys_to": ["father-01"]}), decide)
    assert plain.outcome == "share" and telling.outcome == "share_minimised", (plain, telling)
    assert "current_location" in plain.allowed_fields
    withheld = set(plain.allowed_fields) - set(telling.allowed_fields)
    assert "current_location" in withheld  # where the child is never reaches the alleged perpetrator
    assert set(telling.allowed_fields) < set(plain.allowed_fields)


@pytest.mark.stack
def test_domestic_abuse_and_a_named_perpetrator_asks_for_advice_first(decide: Decide) -> None:
    telling = _referral({**SOCIAL_WORKER, "conveys_to": ["father-01"]}, concern_tags=["domestic_abuse"])
    decided = _decided(telling, decide)
    assert decided.outcome == "needs_advice"
    assert [r.rule for r in decided.decided_by] == ["GR5"]
