"""A finding that supports sharing claims nothing the outcome it sits under denies.

A finding with effect share is a condition met, and stays among the reasons whatever decides the
recipient: a hold, an advice request, a no share. Its words must be true under each of those. I44
("...this cannot be withheld from a protective agency") sat under holds (sg-policy-0.7.0 rewords it
to what I44 does: objections that rest on consent alone do not decide), as did C5, C6 and GR5
wordings that said the person had been told, that the rest of the notification goes, or that the
recipient passes it on. `CLAIMS_SENT` (test_decision_properties.py) now names those claims, so the
property test catches them on its generated inputs; this file shows the patterns do, and decides
the case the fix was found with.
"""

from __future__ import annotations

from typing import Any

import pytest

from schemas.notifications import parse_notification
from schemas.policy_input import build_policy_input
from schemas.vocab import Outcome
from tests.policy.bases import not_sought, patched
from tests.policy.conftest import REGISTRY, Decide
from tests.policy.test_decision_properties import _check, contradiction

# The words of sg-policy-0.6.1 that sat under holds and refusals.
OLD_WORDINGS = [
    "Sexual activity involving a child under 13 always needs a child protection referral: this cannot be "
    "withheld from a protective agency.",
    "The person told has signed an undertaking to use it only to protect the child.",
    "Court or post-mortem material goes only where the permission it needs is recorded; without it, only that "
    "material is held back, not the rest of the notification.",
    "Fields that could endanger someone are removed before this recipient passes information to the family.",
]
WITHHELD = [Outcome.HOLD_FOR_AUTHORISATION, Outcome.NEEDS_ADVICE, Outcome.NO_SHARE]


@pytest.mark.parametrize("outcome", WITHHELD)
@pytest.mark.parametrize("message", OLD_WORDINGS)
def test_claims_that_the_information_goes_contradict_a_withheld_outcome(outcome: Outcome, message: str) -> None:
    assert contradiction(outcome, message), message


def _under_13(**patch: Any) -> dict[str, Any]:
    # A referral of sexual activity involving a 12-year-old whose parents' position is not recorded:
    # GR2 holds it, and I44 (a condition met) stays among the reasons.
    body = patched(
        "referral",
        {
            "concern_tags": ["sexual_activity_under_13"],
            "subjects": [{"subject_ref": "subj-1", "role_in_case": "child", "age_years": 12}],
            "parental_position": None,
            "consent": not_sought("risk_significant_harm"),
            **patch,
        },
    )
    return build_policy_input(parse_notification(body), REGISTRY["partnership_id"]).model_dump(mode="json")


@pytest.mark.stack
def test_i44_under_a_hold_claims_nothing_the_hold_denies(decide: Decide) -> None:
    policy_input = _under_13()
    result = decide(policy_input)
    (held,) = result["recipients"]
    assert held["outcome"] == Outcome.HOLD_FOR_AUTHORISATION
    assert [r["rule"] for r in held["decided_by"]] == ["GR2"]
    (i44,) = [r["message"] for r in held["reasons"] if r["rule"] == "I44"]
    assert "consent alone" in i44
    # Every property of the generated inputs, the words against the outcome among them.
    _check(policy_input, result)
