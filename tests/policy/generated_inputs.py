"""Generated policy inputs for the decision property test (`test_decision_properties.py`).

Hypothesis draws the axes that decide (message type, risk, consent, basis, permissions, damage);
a seeded RNG it also draws fills in the detail, weighted towards what the policy pack accepts so
that every outcome is reached, not only the rejections of random noise.
"""

from __future__ import annotations

import json
import random
from enum import StrEnum
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from schemas.common import EnvelopeFields
from schemas.fields import PayloadModel
from schemas.notifications import NOTIFICATION_MODELS
from schemas.policy_input import PolicyInput
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
    Purpose,
)
from tests.policy.conftest import REGISTRY

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
    """The values of a policy fact: always a closed enum or a flag (PayloadModel checks it)."""
    annotation = payload.model_fields[name].annotation
    if annotation is bool:
        return ["true", "false"]
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
