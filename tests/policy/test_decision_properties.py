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
5. keep its fields consistent with the outcome.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.common import EnvelopeFields
from schemas.fields import PayloadModel
from schemas.notifications import NOTIFICATION_MODELS
from schemas.policy_decision import OUTCOME_EFFECT, PolicyDecision, Reason
from schemas.policy_input import POLICY_ENTRYPOINT, PolicyInput
from schemas.vocab import (
    AgencyRole,
    AgencyType,
    AuthoriserRole,
    ConcernTag,
    ConsentException,
    ConsentStatus,
    DataClass,
    LawfulBasis,
    MessageType,
    NeedToKnow,
    Outcome,
    Purpose,
    ReasonEffect,
)
from tests.policy.conftest import REGISTRY

pytestmark = pytest.mark.stack

INPUTS = 2_000  # at least this many generated inputs reach OPA

# --- what "contradicts the outcome" means ----------------------------------------------------------
# A message contradicts a withheld outcome (no_share, hold, advice) if it claims information went
# or goes out; negations ("nothing is shared", "not sent") are removed before looking. It
# contradicts a share if it says the information is not shared, held or waiting for advice. Held
# is not refused, and advice is not a hold: each names only its own wait.
NEGATIONS = re.compile(r"\b(nothing|not) (is |are |was )?(shared|sent)\b", re.IGNORECASE)
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
    assert contradiction(Outcome.SHARE, "This decision, what is shared, with whom and why, is recorded.") is None


# --- generated inputs ------------------------------------------------------------------------------
# Hypothesis draws the axes that decide (message type, risk, consent, basis, permissions, damage);
# a seeded RNG it also draws fills in the detail, weighted towards what the policy pack accepts so
# that every outcome is reached, not only the rejections of random noise.
ROOT = Path(__file__).resolve().parents[2]
PACK = json.loads((ROOT / "policies/safeguarding/config/data.json").read_text(encoding="utf-8"))
AGENCIES = sorted(REGISTRY["agencies"])
BY_TYPE: dict[str, list[str]] = {}
for _agency_id, _agency in sorted(REGISTRY["agencies"].items()):
    BY_TYPE.setdefault(_agency["type"], []).append(_agency_id)


def _payload_model(model: type[EnvelopeFields]) -> type[PayloadModel]:
    annotation = model.model_fields["payload"].annotation
    assert isinstance(annotation, type) and issubclass(annotation, PayloadModel), model
    return annotation


def _fact_values(payload: type[PayloadModel], name: str) -> list[str]:
    """The values of a policy fact: always a closed enum (PayloadModel checks it)."""
    annotation = payload.model_fields[name].annotation
    assert isinstance(annotation, type) and issubclass(annotation, StrEnum), (payload, name)
    return [m.value for m in annotation]


PAYLOADS = {mt: _payload_model(model) for (mt, _), model in NOTIFICATION_MODELS.items()}
EXTRA_FIELDS = {
    "court_reports": DataClass.COURT_MATERIAL,
    "post_mortem_findings": DataClass.CORONIAL_MATERIAL,
    "child_condition": DataClass.SC_HEALTH,
}
RISKS: dict[str, dict[str, bool | None]] = {
    "none": {},
    "likely": {"likely_significant_harm": True},
    "immediate": {"immediate_significant_harm": True, "likely_significant_harm": True},
    "adult": {"serious_harm_to_adult": True},
    "others": {"risk_to_others": True},
    "unknown": {"likely_significant_harm": None, "immediate_significant_harm": None},
}
CONSENT_MODES = [
    "none",
    "given",
    "given_scoped",
    "refused",
    "not_sought_reason",
    "not_sought",
    "unsure",
    "not_required",
]
BASIS_MODES = ["accepted", "accepted", "consent", "unsure", "missing", "not_accepted"]
PERMISSIONS = ["none"] * 4 + ["court_field", "coroner_field", "court_flag", "coroner_flag", "obtained"]
DAMAGE = ["none"] * 24 + ["drop_top", "null_top", "drop_recipient_key", "bad_class"]


def _pick(rnd: random.Random, values: list[Any], chance: float = 1.0, otherwise: Any = None) -> Any:
    return rnd.choice(values) if values and rnd.random() < chance else otherwise


def _some(rnd: random.Random, values: list[str], most: int) -> list[str]:
    return rnd.sample(values, rnd.randint(1, min(most, len(values))))


def _notice(draw: float) -> bool | None:
    return True if draw < 0.85 else (None if draw < 0.92 else False)


def _consent(rnd: random.Random, mode: str, purposes: list[str]) -> list[dict[str, Any]]:
    if mode == "none":
        return []
    status = {"given_scoped": "given_explicit", "not_sought_reason": "not_sought", "given": "given_explicit"}.get(
        mode, mode
    )
    record: dict[str, Any] = {
        "giver": rnd.choice(["parent_pr", "parent_pr", "child", "adult_subject"]),
        "status": status,
        "scope_agencies": None,
        "scope_agency_types": None,
        "scope_purposes": None,
        # Mostly given; sometimes not, or not stated (C8 holds consent relied on either way). One
        # draw, as before, so the rest of every drawn input stays as it was.
        "privacy_notice_given": _notice(rnd.random()),
        "not_sought_reason": _pick(rnd, [e.value for e in ConsentException]) if mode == "not_sought_reason" else None,
    }
    if mode == "given_scoped":
        scope = rnd.choice(["agencies", "types", "purposes", "both"])
        if scope in ("agencies", "both"):
            record["scope_agencies"] = _some(rnd, [*AGENCIES, "csc-elsewhere"], 3)
        if scope in ("types", "both"):
            record["scope_agency_types"] = _some(rnd, [t.value for t in AgencyType], 3)
        if scope == "purposes":
            record["scope_purposes"] = _some(rnd, [*purposes, *(p.value for p in Purpose)], 2)
    records = [record]
    if rnd.random() < 0.2:  # a second giver, or a referrer agreeing to be named
        records.append(
            {**record, "giver": rnd.choice(["child", "referrer"]), "status": rnd.choice(list(ConsentStatus)).value}
        )
    return records


def _parental_position(rnd: random.Random) -> dict[str, Any] | None:
    if not rnd.random() < 0.85:
        return None
    positions: list[dict[str, Any]] = [
        {"parents_informed": True, "parent_withheld_permission": False, "reason_not_informed": None},
        {"parents_informed": True, "parent_withheld_permission": True, "reason_not_informed": None},
        {
            "parents_informed": False,
            "parent_withheld_permission": None,
            "reason_not_informed": rnd.choice([e.value for e in ConsentException]),
        },
        {"parents_informed": False, "parent_withheld_permission": None, "reason_not_informed": None},
    ]
    return rnd.choice(positions) | {"has_reason_text": rnd.random() < 0.2}


@st.composite
def policy_inputs(draw: st.DrawFn) -> dict[str, Any]:
    message_type = draw(st.sampled_from(list(MessageType)))
    risk = draw(st.sampled_from(sorted(RISKS)))
    consent_mode = draw(st.sampled_from(CONSENT_MODES))
    basis_mode = draw(st.sampled_from(BASIS_MODES))
    permission = draw(st.sampled_from(PERMISSIONS))
    damage = draw(st.sampled_from(DAMAGE))
    rnd = random.Random(draw(st.integers(min_value=0, max_value=2**32 - 1)))  # noqa: S311 (test data)

    pack = PACK["message_types"][message_type.value]
    payload = PAYLOADS[message_type]
    facts = {name: rnd.choice(_fact_values(payload, name)) for name in payload.policy_facts}
    stage = facts.get("stage", "")
    senders = pack["stage_sender_types"].get(stage) or pack["sender_types"]
    receivers = pack["stage_recipient_types"].get(stage) or pack["recipient_types"]
    mandatory = [f for f in pack["mandatory_fields"] if f in payload.data_classes]
    others = sorted(set(payload.data_classes) - set(mandatory))
    fields = (mandatory if rnd.random() < 0.85 else rnd.sample(mandatory, len(mandatory) // 2)) + rnd.sample(
        others, rnd.randint(0, len(others))
    )
    payload_fields = {name: payload.data_classes[name].value for name in fields}
    if rnd.random() < 0.1:
        payload_fields["child_condition"] = EXTRA_FIELDS["child_condition"].value
    if permission in ("court_field", "coroner_field", "obtained"):
        name = "court_reports" if permission == "court_field" or rnd.random() < 0.5 else "post_mortem_findings"
        payload_fields[name] = EXTRA_FIELDS[name].value
    restrictions = {
        "court_permission_required": permission == "court_flag",
        "court_permission_obtained": True if permission == "obtained" else _pick(rnd, [False, None]),
        "coroner_permission_required": permission == "coroner_flag",
        "coroner_permission_obtained": True if permission == "obtained" else _pick(rnd, [False, None]),
        "undertaking_signed": _pick(rnd, [True, False], 0.5),
        "onward_disclosure_prohibited": rnd.random() < 0.2,
    }

    def agency(types: list[str], chance: float) -> str:
        candidates = [a for t in types for a in BY_TYPE.get(t, [])]
        unregistered = "csc-elsewhere" if rnd.random() < 0.03 else rnd.choice(AGENCIES)
        picked: str = _pick(rnd, candidates, chance, otherwise=unregistered)
        return picked

    recipients: dict[tuple[str, str], dict[str, Any]] = {}
    for _ in range(rnd.randint(1, 4)):
        agency_id = agency(receivers, 0.85)
        role = rnd.choice(["mash_intake", "social_worker", "dsl", *(r.value for r in AgencyRole)])
        recipients[(agency_id, role)] = {
            "agency_id": agency_id,
            "role": role,
            "need_to_know": _pick(rnd, [n.value for n in NeedToKnow], 0.95),
            "conveys_to_family": rnd.random() < 0.15,
            "conveys_to_alleged_perpetrator": rnd.random() < 0.1,
        }
    purposes = pack["purposes"]
    bases = pack["lawful_bases"]
    basis = {
        "accepted": _pick(rnd, [b for b in bases if b != "consent"], otherwise="consent"),
        "consent": "consent",
        "unsure": "unsure",
        "missing": None,
        "not_accepted": _pick(rnd, [b.value for b in LawfulBasis if b.value not in bases], otherwise="unsure"),
    }[basis_mode]
    age = rnd.choice([4, 9, 12, 14, 16, None])
    built = PolicyInput.model_validate(
        {
            "partnership_id": REGISTRY["partnership_id"],
            "notification_id": "00000000-0000-4000-8000-000000000000",
            "message_type": message_type.value,
            "schema_version": "1.0",
            "purpose": _pick(rnd, purposes, 0.85, otherwise=rnd.choice([*(p.value for p in Purpose), None])),
            "has_purpose_statement": rnd.random() < 0.92,
            "lawful_basis": basis,
            "consent": _consent(rnd, consent_mode, purposes),
            "parental_position": _parental_position(rnd),
            "authorisation": {
                "authoriser_role": _pick(
                    rnd, pack["authorisation"]["roles"], 0.7, rnd.choice(list(AuthoriserRole)).value
                ),
                "has_reason": rnd.random() < 0.9,
                "verified": rnd.random() < 0.7,
            }
            if rnd.random() < 0.4
            else None,
            "risk": {"immediate_significant_harm": False, "likely_significant_harm": False}
            | {"serious_harm_to_adult": False, "risk_to_others": False, "crime_suspected": rnd.random() < 0.3}
            | {"da_high_risk_marac": rnd.random() < 0.5}
            | RISKS[risk],
            "concern_tags": rnd.sample([c.value for c in ConcernTag], rnd.choice([0, 0, 1, 2])),
            "subjects": [
                {
                    "role_in_case": rnd.choice(["child", "child", "adult_at_risk", "alleged_perpetrator"]),
                    "age_years": age,
                    "gillick_competent": "not_assessed",
                    "mental_capacity": "not_assessed",
                    "adult_at_risk_care_act": None,
                }
            ],
            "sender": {"agency_id": agency(senders, 0.85), "role": "dsl", "is_professional": True},
            "recipients": list(recipients.values()),
            "restrictions": restrictions,
            "initial_contact": rnd.choice(["written", "phone", "in_person"]),
            "sender_in_doubt": rnd.random() < 0.05,
            "deadline": None,
            "payload_fields": payload_fields,
            "payload_facts": facts,
        }
    ).model_dump(mode="json")
    # Missing input denies: sometimes drop or break a key the rules read.
    if damage == "drop_top":
        built.pop(rnd.choice(sorted(built)))
    elif damage == "null_top":
        built[rnd.choice(["risk", "restrictions", "consent", "payload_fields", "sender"])] = None
    elif damage == "drop_recipient_key":
        built["recipients"][0].pop(rnd.choice(sorted(built["recipients"][0])))
    elif damage == "bad_class":
        built["payload_fields"]["mystery"] = "no_such_class"
    return built


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
