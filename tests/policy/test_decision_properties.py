"""Decisions explain themselves, for any input: a property test through the real OPA server.

Hypothesis generates policy inputs (message type, recipients, consent states and scopes, lawful
basis, urgency, permission flags, missing or malformed fields) and POSTs each to the decision
entry point with one reused HTTP client. For every recipient the answer must:

1. name what decided it: `decided_by` is non-empty and opens `reasons`;
2. agree with itself: every deciding finding has the outcome's effect (`OUTCOME_EFFECT`);
3. never be more permissive than what decided it or than any standing objection (only an urgent
   share, decided by I14 or C7, may override stricter findings; they stay as notes for review;
   and where C7 finds the duty to share, an objection that rests on consent alone no longer stands);
4. say nothing that contradicts the outcome (`CONTRADICTIONS` below);
5. keep its fields consistent with the outcome;
6. say that fields are withheld for passing information to the family or an alleged perpetrator
   (GR5) only where the fields module withholds some for that reason (sg-policy-0.7.10).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from schemas.policy_decision import OUTCOME_EFFECT, PolicyDecision, Reason
from schemas.policy_input import POLICY_ENTRYPOINT
from schemas.vocab import (
    Outcome,
    ReasonEffect,
)
from tests.policy.conftest import REGISTRY
from tests.policy.generated_inputs import policy_inputs

pytestmark = pytest.mark.stack

INPUTS = 2_000  # at least this many generated inputs reach OPA

# --- what "contradicts the outcome" means ----------------------------------------------------------
# A message contradicts a withheld outcome (no_share, hold, advice) if it claims information went
# or goes out; negations ("nothing is shared", "not sent") and conditions ("if anything is shared")
# are removed before looking. It contradicts a share if it says the information is not shared,
# held or waiting for advice. Held is not refused, and advice is not a hold: each names only its
# own wait.
NEGATIONS = re.compile(r"\b(nothing|not|if anything) (is |are |was )?(shared|sent)\b", re.IGNORECASE)
CLAIMS_SENT = (
    r"\bshared (with|without|on|now)\b|\b(is|are|was|were|has been|have been) (shared|sent)\b|\bshares\b|\bsent now\b"
    # ...or that it must go, will go, or goes on: that nothing can stop it, that the rest of it goes,
    # that the recipient passes it on, that the person has been told (tests/policy/test_message_claims.py).
    r"|\bcannot be withheld\b|\bwill be (shared|sent)\b|\bnot the rest of\b|\bthe person told\b"
    r"|\bremoved before this recipient passes\b"
)
CLAIMS_WITHHELD = (
    r"\bnot to share\b|\bnot shared\b|\bnothing is (sent|shared)\b|\bno share\b|\bdoes not (override|outweigh)\b"
)
HOLD_WORDS = r"\bdecision to hold\b|\buntil it is authorised\b"
ADVICE_WORDS = r"\bask for advice first\b|\bno advice is needed\b"
CONTRADICTIONS: dict[Outcome, re.Pattern[str]] = {
    Outcome.SHARE: re.compile(f"{CLAIMS_WITHHELD}|{HOLD_WORDS}|{ADVICE_WORDS}", re.IGNORECASE),
    Outcome.SHARE_MINIMISED: re.compile(f"{CLAIMS_WITHHELD}|{HOLD_WORDS}|{ADVICE_WORDS}", re.IGNORECASE),
    Outcome.SHARE_URGENT_REVIEW_AFTER: re.compile(f"{CLAIMS_WITHHELD}|{HOLD_WORDS}|{ADVICE_WORDS}", re.IGNORECASE),
    Outcome.HOLD_FOR_AUTHORISATION: re.compile(f"{CLAIMS_SENT}|\\bnot to share\\b|{ADVICE_WORDS}", re.IGNORECASE),
    Outcome.NEEDS_ADVICE: re.compile(
        f"{CLAIMS_SENT}|\\bnot to share\\b|{HOLD_WORDS}|\\bno advice is needed\\b", re.IGNORECASE
    ),
    Outcome.NO_SHARE: re.compile(f"{CLAIMS_SENT}|{HOLD_WORDS}|{ADVICE_WORDS}", re.IGNORECASE),
}
# GR5's words when the fields module withholds fields from a family-facing recipient.
GR5_CLAIMS_WITHHELD = "fields that could endanger someone are withheld from it"
WITHHELD_OUTCOMES = {Outcome.NO_SHARE, Outcome.HOLD_FOR_AUTHORISATION, Outcome.NEEDS_ADVICE}

# How strict an outcome is, and the outcome an effect would force on its own (record: none).
STRICTNESS = {
    Outcome.SHARE: 0,
    Outcome.SHARE_MINIMISED: 1,
    Outcome.SHARE_URGENT_REVIEW_AFTER: 2,
    Outcome.NEEDS_ADVICE: 3,
    Outcome.HOLD_FOR_AUTHORISATION: 4,
    Outcome.NO_SHARE: 5,
}
EFFECT_OUTCOME = {effect: outcome for outcome, effect in OUTCOME_EFFECT.items()}
# The objections that rest on consent alone (policies/README.md, "How a recipient is decided"):
# GR4's refusals, doubts and out-of-scope consent. C7 as a condition met (effect share) means the
# duty to share applies, which outweighs them; they stay among the reasons as notes.
CONSENT_ONLY = {ReasonEffect.NO_SHARE, ReasonEffect.NEEDS_ADVICE}


def _standing(reasons: list[Reason]) -> list[Reason]:
    """The objections and other effects that still bear on the outcome (not GR7's record)."""
    duty = any(r.rule == "C7" and r.effect == ReasonEffect.SHARE for r in reasons)
    return [
        r
        for r in reasons
        if r.effect not in (ReasonEffect.RECORD, None) and not (duty and r.rule == "GR4" and r.effect in CONSENT_ONLY)
    ]


def contradiction(outcome: Outcome, message: str) -> str | None:
    found = CONTRADICTIONS[outcome].search(NEGATIONS.sub("", message) if outcome in WITHHELD_OUTCOMES else message)
    return found.group(0) if found else None


def test_contradiction_check_can_fail() -> None:
    assert contradiction(Outcome.NO_SHARE, "Shared without consent on the declared lawful basis.")
    assert contradiction(Outcome.NO_SHARE, "No court restriction applies; sharing relies on x. Sent now.")
    assert contradiction(Outcome.HOLD_FOR_AUTHORISATION, "This decision not to share, and its reasons, are recorded.")
    assert contradiction(Outcome.SHARE, "Not shared: the recipient has no need to know.")
    assert contradiction(Outcome.SHARE_URGENT_REVIEW_AFTER, "This decision to hold the information is recorded.")
    assert contradiction(Outcome.SHARE_URGENT_REVIEW_AFTER, "So the duty to share does not override the objection.")
    assert contradiction(Outcome.NEEDS_ADVICE, "No doubt is recorded, so no advice is needed first.")
    assert contradiction(Outcome.NO_SHARE, "The rule applies, so nothing is shared.") is None
    assert contradiction(Outcome.NO_SHARE, "If anything is shared, the person is told afterwards.") is None
    assert contradiction(Outcome.NO_SHARE, "Anything is shared.")
    assert contradiction(Outcome.SHARE, "This decision, what is shared, with whom and why, is recorded.") is None


# --- the property ------------------------------------------------------------------------------------
def _ask(client: httpx.Client, policy_input: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(f"/v1/data/{POLICY_ENTRYPOINT}", json={"input": policy_input})
    answer.raise_for_status()
    result: dict[str, Any] = answer.json()["result"]
    assert result["registry_revision"] == REGISTRY["revision"], "the suite's own OPA holds its registry"
    return result


def _check(policy_input: dict[str, Any], result: dict[str, Any]) -> Counter[str]:
    decision = PolicyDecision.model_validate(result)
    seen: Counter[str] = Counter()
    requested = [r for r in policy_input.get("recipients") or [] if isinstance(r, dict)]
    assert len(decision.recipients) == len(requested)
    for got in decision.recipients:
        where = (
            f"{got.agency_id}/{got.role} {got.outcome.value}: {[(r.rule, r.effect, r.message) for r in got.reasons]}"
        )
        outcome = got.outcome
        seen[outcome.value] += 1
        # 1. It names what decided it, first.
        assert got.decided_by, where
        assert got.reasons[: len(got.decided_by)] == got.decided_by, where
        # 2. Every deciding finding has the outcome's effect.
        assert all(r.effect == OUTCOME_EFFECT[outcome] for r in got.decided_by), where
        # 3. Never more permissive than the strictest deciding effect, nor than any standing objection.
        # (By 2. no deciding effect is None: the filter only tells the type checker so.)
        deciding = [STRICTNESS[EFFECT_OUTCOME[r.effect]] for r in got.decided_by if r.effect is not None]
        assert STRICTNESS[outcome] >= max(deciding), where
        if outcome == Outcome.SHARE_URGENT_REVIEW_AFTER:
            assert {r.rule for r in got.decided_by} <= {"I14", "C7"}, where
        else:
            standing = [STRICTNESS[EFFECT_OUTCOME[r.effect]] for r in _standing(got.reasons) if r.effect is not None]
            assert STRICTNESS[outcome] >= max(standing), where
        # 4. No message contradicts the outcome.
        for reason in got.reasons:
            clash = contradiction(outcome, reason.message)
            assert clash is None, f"{reason.rule} says {clash!r} under {outcome.value}: {reason.message}"
        # 5. Fields agree with the outcome.
        assert not set(got.allowed_fields) & set(got.withheld_fields), where
        if outcome == Outcome.NO_SHARE:
            assert got.allowed_fields == [] and got.lawful_basis is None, where
        if outcome == Outcome.SHARE:
            assert got.withheld_fields == [], where
        if outcome == Outcome.SHARE_MINIMISED:
            assert got.withheld_fields and got.allowed_fields, where
        # 6. GR5 claims a withholding only where there is one (held and advice decisions list it too).
        if outcome != Outcome.NO_SHARE:
            claims = any(r.rule == "GR5" and GR5_CLAIMS_WITHHELD in r.message for r in got.reasons)
            withholds = any(r.rule == "GR5" and r.effect == ReasonEffect.WITHHOLD_FIELDS for r in got.reasons)
            assert withholds or not claims, where
    return seen


def test_every_decision_explains_itself(opa_http: httpx.Client) -> None:
    seen: Counter[str] = Counter()

    @settings(
        max_examples=INPUTS,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(policy_inputs())
    def check(policy_input: dict[str, Any]) -> None:
        seen["inputs"] += 1
        seen.update(_check(policy_input, _ask(opa_http, policy_input)))

    check()
    assert seen["inputs"] >= INPUTS
    # The generator reaches every outcome, so the property is tested under each one.
    assert all(seen[outcome.value] > 0 for outcome in Outcome), seen
