"""Every finding fits the receipt and the decision log: a message of 1-500 characters, a rule id of at most 32.

The receipt (`schemas.api.RuleReason`) and the log (`audit.models.Reason`) refuse a longer message
or rule id, and the gateway refuses a decision that breaks its contract (`PolicyDecision`, as
strict as they are), so a wording that outgrows them leaves the notification undecided. The
equivalence test's few hundred inputs, the scenario bases and the inputs that once broke the limit
(a strategy discussion with a typed-in authorisation; consent scoped to every other purpose, or to
many agencies) are decided by this checkout's policy with `opa eval` (no server), and every
finding is read by the consumers' own models. None needs the policy's backstop (`context.fit`
cuts a message at 500 characters with an ellipsis): every message is written to fit.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from audit.models import Reason as LogReason
from schemas.api import RuleReason
from schemas.notifications import parse_notification
from schemas.policy_decision import PolicyDecision
from schemas.policy_input import build_policy_input
from schemas.vocab import AgencyType, Purpose
from tests.policy.bases import consent_given, patched
from tests.policy.conftest import REGISTRY
from tests.policy.test_baseline_equivalence import CURRENT, _bases, _decide_all, _generated

pytestmark = pytest.mark.stack

TYPED_IN = {
    "authoriser_role": "line_manager",
    "authoriser_ref": "mgr-01",
    "authorised_at": "2026-03-02T10:05:00Z",
    "reason": "Fictional: reviewed, sharing justified.",
}


def _policy_input(notification: dict[str, Any]) -> dict[str, Any]:
    parsed = parse_notification(notification)
    return build_policy_input(parsed, REGISTRY["partnership_id"]).model_dump(mode="json")


def _long_wordings() -> list[dict[str, Any]]:
    """The inputs whose findings were longer than the receipt allows before sg-policy-0.6.1."""
    other_purposes = [p.value for p in Purpose if p is not Purpose.SAFEGUARDING_CONCERN]
    other_types = [t.value for t in AgencyType if t is not AgencyType.CSC_FRONT_DOOR]
    consented = {"lawful_basis": "consent"}
    return [
        _policy_input(patched("strategy", {"authorisation": TYPED_IN})),
        _policy_input(patched("referral", {**consented, "consent": consent_given(scope_purposes=other_purposes)})),
        _policy_input(
            patched(
                "referral",
                {
                    **consented,
                    "consent": consent_given(
                        scope_agency_types=other_types, scope_agencies=[f"agency-{i:03d}" for i in range(50)]
                    ),
                },
            )
        ),
    ]


def _findings(decision: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(decision["errors"])
    for recipient in decision["recipients"]:
        found += recipient["decided_by"] + recipient["reasons"]
    return found


def _refused_by_a_consumer(finding: dict[str, Any]) -> str | None:
    try:
        RuleReason(rule=finding["rule"], message=finding["message"])
        LogReason(rule=finding["rule"], message=finding["message"])
    except ValidationError as exc:
        return f"{finding['rule']} ({len(finding['message'])} characters): {exc.errors()[0]['msg']}"
    return None


@pytest.fixture(scope="module")
def decisions(opa_bin: str, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    inputs = _generated() + _bases() + _long_wordings()
    data_file: Path = tmp_path_factory.mktemp("lengths") / "data.json"
    data_file.write_text(json.dumps({"registry": REGISTRY, "equivalence": {"inputs": inputs}}))
    decided = _decide_all(opa_bin, CURRENT, data_file)
    assert len(decided) == len(inputs)
    return decided


def test_every_finding_fits_the_receipt_and_the_log(decisions: list[dict[str, Any]]) -> None:
    findings = [f for d in decisions for f in _findings(d)]
    assert len({f["message"] for f in findings}) > 500  # the inputs reach the rules' many wordings
    assert sorted({why for f in findings if (why := _refused_by_a_consumer(f))}) == []


def test_every_decision_meets_the_gateways_contract(decisions: list[dict[str, Any]]) -> None:
    # A decision that broke it would be refused as "policy unavailable" (503), never shared.
    broken = []
    for decision in decisions:
        try:
            PolicyDecision.model_validate(decision)
        except ValidationError as exc:
            broken.append(str(exc))
    assert broken == []


def test_no_message_needed_cutting(decisions: list[dict[str, Any]]) -> None:
    messages = {f["message"] for d in decisions for f in _findings(d)}
    assert sorted(m for m in messages if m.endswith("…")) == []


def test_the_wordings_that_outgrew_the_receipt_are_reached(decisions: list[dict[str, Any]]) -> None:
    messages = {f["message"] for d in decisions for f in _findings(d)}
    typed_in = [m for m in messages if "typed into the notification is not evidence" in m]
    assert typed_in and all("children's social care manager" in m and len(m) <= 500 for m in typed_in)
    assert any("or 17 more purposes; it does not cover safeguarding concern" in m for m in messages), messages
    # Consent out of scope names the recipient alone, however many agencies the consent covers.
    gap = "The consent recorded does not cover Fenmere Children's Social Care MASH (fictional)."
    assert any(m.startswith(gap) for m in messages), messages
