"""A policy answer the gateway could not carry out is refused when it arrives: "policy unavailable" (503).

Review finding 1: the decision contract accepted answers that its consumers then refused with an
error nothing maps, a 500 with no urgent route: a finding longer than the receipt and the log allow
(500 characters, a rule id of 32), a field the payload does not define (sealing), a deadline the
calendar cannot compute or that would stall it. The contract is now as strict as its consumers;
`read_decision` refuses an undefined field (`ContractBreach`, which the Decider turns into
`PolicyUnavailable` and counts as an OPA failure, as any other malformed answer), and planning a
deadline no day meets is `PolicyUnavailable` too, before anything is written. No stack needed.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from audit.models import Reason as LogReason
from broker.delivery.calendar import WorkingCalendar
from broker.errors import PolicyUnavailable
from broker.partnership.registry import Registry
from broker.sharing.decide import ContractBreach, read_answer, read_decision
from broker.sharing.plan import due_of
from broker.sharing.policy import RawDecision
from schemas.api import RuleReason
from schemas.notifications import Notification, parse_notification
from schemas.policy_decision import MAX_DUE_AMOUNT, MAX_MESSAGE, PolicyDecision
from tests.factories import school_referral

REGISTRY = Registry(partnership_id="fenmere-lscp")
CALENDAR = WorkingCalendar(school_holidays=())
CSC = {"agency_id": "csc-fenmere-mash", "role": "mash_intake"}


def _reason(rule: str = "GR1", message: str = "The lawful basis is accepted.") -> dict[str, Any]:
    return {"rule": rule, "message": message, "effect": "share"}


def _answer(**recipient: Any) -> dict[str, Any]:
    """OPA's answer for the referral's first recipient (CSC), a share patched with `recipient`."""
    decided = {
        **CSC,
        "outcome": "share",
        "decided_by": [_reason()],
        "reasons": [_reason()],
        "lawful_basis": "safeguarding_children_individuals_at_risk",
        "allowed_fields": ["child", "concern_summary"],
        "withheld_fields": [],
        "obligations": [],
        **recipient,
    }
    return {
        "policy_revision": "sg-policy-test",
        "registry_revision": REGISTRY.revision,
        "partnership_id": REGISTRY.partnership_id,
        "recipients": [decided],
        "errors": [],
    }


def _obligation(amount: int, unit: str) -> dict[str, Any]:
    return {
        "kind": "acknowledge",
        "due_in": {"amount": amount, "unit": unit},
        "description": "Acknowledge.",
        "rule": "I14",
    }


def _raw(answer: dict[str, Any]) -> RawDecision:
    return RawDecision(json.dumps({"decision_id": "d-1", "result": answer}).encode())


def _referral() -> Notification:
    return parse_notification(school_referral(recipients=[{**CSC, "need_to_know": "assess_and_decide"}]))


# --- the contract is as strict as the receipt and the log -----------------------------------------


@pytest.mark.parametrize(
    "recipient",
    [
        {"reasons": [_reason(message="x" * (MAX_MESSAGE + 1))]},
        {"decided_by": [_reason(message="x" * (MAX_MESSAGE + 1))]},
        {"reasons": [_reason(rule="SYS-" + "A" * 29)]},
        {"obligations": [{**_obligation(1, "working_days"), "rule": "SYS-" + "B" * 29}]},
        {"obligations": [_obligation(MAX_DUE_AMOUNT + 1, "days")]},
        {"obligations": [_obligation(10**10, "hours")]},
        {"obligations": [_obligation(10**6, "working_days")]},
    ],
)
def test_an_answer_its_consumers_would_refuse_breaks_the_contract(recipient: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        read_answer(_raw(_answer(**recipient)))


def test_whatever_the_contract_allows_the_receipt_and_the_log_accept() -> None:
    longest = _reason(rule="SYS-" + "A" * 28, message="x" * MAX_MESSAGE)
    answer = read_answer(_raw(_answer(reasons=[longest], obligations=[_obligation(MAX_DUE_AMOUNT, "days")])))
    assert answer.result is not None
    (reason,) = answer.result.recipients[0].reasons
    assert RuleReason(rule=reason.rule, message=reason.message).message == reason.message
    assert LogReason(rule=reason.rule, message=reason.message).rule == reason.rule


# --- what validates but could not be carried out --------------------------------------------------


def test_a_field_the_payload_does_not_define_is_refused() -> None:
    with pytest.raises(ContractBreach, match="not_a_field"):
        read_decision(
            PolicyDecision.model_validate(_answer(allowed_fields=["child", "not_a_field"])), "d-1", _referral()
        )


@pytest.mark.parametrize(
    "obligation",
    [
        _obligation(0, "school_days"),  # "the start of the 0th next school day" has passed already
        _obligation(MAX_DUE_AMOUNT, "school_days"),  # not within the calendar's two-year search
    ],
)
def test_a_deadline_the_calendar_cannot_compute_is_policy_unavailable(obligation: dict[str, Any]) -> None:
    # Half of every year off: two years hold far fewer than 400 school days.
    holidays = [(date(y, m, 1), date(y, m + 2, 28)) for y in range(2025, 2031) for m in (1, 7)]
    (decided,) = read_decision(
        PolicyDecision.model_validate(_answer(obligations=[obligation])), "d-1", _referral()
    ).recipients
    with pytest.raises(PolicyUnavailable, match="acknowledge"):
        due_of(decided.obligations[0], WorkingCalendar(school_holidays=holidays), datetime.now(UTC))


def test_a_usable_answer_is_read_and_planned_as_before() -> None:
    obligations = [_obligation(1, "school_days"), _obligation(1, "working_days"), _obligation(24, "hours")]
    decision = read_decision(PolicyDecision.model_validate(_answer(obligations=obligations)), "d-1", _referral())
    (decided,) = decision.recipients
    assert decided.outcome.value == "share" and decided.allowed_fields == ["child", "concern_summary"]
    now = datetime.now(UTC)
    assert all(due_of(o, CALENDAR, now)["due_at"] > now.isoformat() for o in decided.obligations)
