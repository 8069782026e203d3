"""Base notifications for the scenario suite: one realistic, valid notification per message type.

Every person here is invented ("Test Child Alpha", "Pat Example"); agencies are the fictional demo
partnership of tests/fixtures/registry.json. Scenarios patch these with `patched`.
"""

from __future__ import annotations

import copy
from typing import Any

DELETE = object()  # patch value that removes a key

CSC: dict[str, str] = {"agency_id": "csc-fenmere-mash", "role": "mash_intake", "need_to_know": "assess_and_decide"}
POLICE: dict[str, str] = {
    "agency_id": "police-fenmere",
    "role": "police_public_protection",
    "need_to_know": "investigate_crime",
}
NO_RISK = {
    "immediate_significant_harm": False,
    "likely_significant_harm": False,
    "serious_harm_to_adult": False,
    "risk_to_others": False,
    "crime_suspected": False,
}
CHILD: dict[str, str] = {
    "given_name": "Test",
    "family_name": "Child Alpha",
    "date_of_birth": "2018-04-01",
    "gender": "female",
}
PRO_REFERRER: dict[str, str] = {
    "name": "Pat Example",
    "job_title": "Designated Safeguarding Lead",
    "work_phone": "01632 960000",
}


def _consent(status: str, giver: str = "parent_pr", **extra: Any) -> dict[str, Any]:
    return {"subject_ref": "subj-1", "giver": giver, "status": status, **extra}


def consent_given(**extra: Any) -> list[dict[str, Any]]:
    return [_consent("given_explicit", privacy_notice_given=True, **extra)]


def consent_refused() -> list[dict[str, Any]]:
    return [_consent("refused")]


def not_sought(reason: str) -> list[dict[str, Any]]:
    return [_consent("not_sought", not_sought_reason=reason)]


def _envelope(
    message_type: str,
    purpose: str,
    basis: str | None,
    sender: dict[str, Any],
    recipients: list[dict[str, Any]],
    payload: dict[str, Any],
    n: int,
) -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "message_type": message_type,
        "notification_id": f"00000000-0000-4000-8000-{n:012d}",
        "created_at": "2026-03-02T10:15:00Z",
        "purpose": purpose,
        "purpose_statement": "Fictional test purpose statement.",
        "lawful_basis": basis,
        "consent": [],
        "parental_position": None,
        "authorisation": None,
        "risk": dict(NO_RISK),
        "subjects": [{"subject_ref": "subj-1", "role_in_case": "child", "age_years": 8}],
        "sender": {**sender, "user_ref": "user-0001", "is_professional": True},
        "recipients": recipients,
        "payload": payload,
    }


BASES: dict[str, dict[str, Any]] = {
    "referral": _envelope(
        "safeguarding_referral",
        "safeguarding_concern",
        "safeguarding_children_individuals_at_risk",
        {"agency_id": "school-oakfield-primary", "role": "dsl"},
        [CSC],
        {
            "child": CHILD,
            "concern_summary": "Fictional: bruising seen on arm during PE.",
            "current_location": "At school until 15:15",
            "home_address": "1 Example Row, Fenmere",
            "referrer": PRO_REFERRER,
        },
        1,
    ),
    "acknowledgement": _envelope(
        "referral_acknowledgement",
        "referral_feedback",
        "legal_obligation_statutory",
        {"agency_id": "csc-fenmere-mash", "role": "mash_intake"},
        [{"agency_id": "school-oakfield-primary", "role": "dsl", "need_to_know": "feedback_to_referrer"}],
        {
            "referral_reference": "REF-TEST-0001",
            "received_at": "2026-03-02T10:20:00Z",
            "child": CHILD,
            "next_steps": "Fictional: screening today.",
        },
        2,
    ),
    "outcome": _envelope(
        "referral_outcome",
        "referral_feedback",
        "legal_obligation_statutory",
        {"agency_id": "csc-fenmere-mash", "role": "team_manager"},
        [{"agency_id": "school-oakfield-primary", "role": "dsl", "need_to_know": "feedback_to_referrer"}],
        {
            "referral_reference": "REF-TEST-0001",
            "child": CHILD,
            "outcome": "child_and_family_assessment",
            "actions": "Fictional: assessment allocated.",
            "outcome_rationale": "Fictional opinion.",
        },
        3,
    ),
    "strategy": _envelope(
        "strategy_discussion_request",
        "strategy_discussion",
        "safeguarding_children_individuals_at_risk",
        {"agency_id": "csc-fenmere-mash", "role": "team_manager"},
        [POLICE],
        {
            "strategy_kind": "standard_s47",
            "child": CHILD,
            "meeting_at": "2026-03-03T14:00:00Z",
            "concern_summary": "Fictional: disclosure of being hit.",
            "health_information": "Fictional: injuries.",
            "child_location": "Foster placement (fictional)",
        },
        4,
    ),
    "adult": _envelope(
        "adult_safeguarding_referral",
        "adult_safeguarding_enquiry",
        "safeguarding_children_individuals_at_risk",
        {"agency_id": "housing-brookside", "role": "housing_officer"},
        [{"agency_id": "asc-fenmere", "role": "adult_safeguarding_officer", "need_to_know": "protect_adult"}],
        {
            "adult": {"given_name": "Test", "family_name": "Adult Beta"},
            "care_and_support_needs": "Fictional: dementia, needs help with personal care.",
            "abuse_or_neglect": "Fictional: money taken by a relative.",
            "unable_to_protect_self": True,
            "address": "2 Example Row, Fenmere",
        },
        5,
    ),
    "marac": _envelope(
        "marac_referral",
        "marac_risk_management",
        "public_interest",
        {"agency_id": "police-fenmere", "role": "police_public_protection"},
        [{"agency_id": "marac-fenmere", "role": "marac_coordinator", "need_to_know": "coordinate_plan"}],
        {
            "victim": {"given_name": "Test", "family_name": "Victim Gamma"},
            "dash_summary": "Fictional: 16 ticks.",
            "victim_safe_address": "Refuge (fictional)",
            "perpetrator": "Fictional: partner, repeated assaults.",
        },
        6,
    ),
    "lado": _envelope(
        "lado_allegation",
        "allegation_management",
        "legal_obligation_statutory",
        {"agency_id": "school-hollins-academy", "role": "designated_senior_manager"},
        [{"agency_id": "lado-fenmere", "role": "lado_officer", "need_to_know": "assess_and_decide"}],
        {
            "person_subject_of_allegation": {"given_name": "Test", "family_name": "Teacher Delta"},
            "job_and_setting": "Teacher, Hollins Academy (fictional)",
            "allegation_account": "Fictional: pupil says teacher sent private messages.",
            "child": CHILD,
            "dsm_record_signed": True,
        },
        7,
    ),
    "dvds": _envelope(
        "dvds_disclosure",
        "disclosure_decision",
        "police_common_law_power",
        {"agency_id": "police-fenmere", "role": "police_disclosure_unit"},
        [CSC],
        {
            "stage": "police_decision",
            "route": "right_to_know",
            "person_at_risk": {"given_name": "Test", "family_name": "Partner Epsilon"},
            "subject_person": {"given_name": "Test", "family_name": "Subject Zeta"},
            "relevant_convictions": "Fictional: two convictions for assault.",
            "disclosure_decision": "Fictional: disclose, proportionate.",
        },
        8,
    ),
    "csod": _envelope(
        "csod_disclosure",
        "disclosure_decision",
        "police_common_law_power",
        {"agency_id": "police-fenmere", "role": "police_disclosure_unit"},
        [{**CSC, "role": "social_worker", "need_to_know": "protect_child"}],
        {
            "stage": "police_decision",
            "child": CHILD,
            "protector": {"given_name": "Test", "family_name": "Parent Eta"},
            "subject_person": {"given_name": "Test", "family_name": "Subject Theta"},
            "relevant_convictions": "Fictional: relevant conviction.",
            "disclosure_decision": "Fictional: disclose in person.",
        },
        9,
    ),
    "transfer": _envelope(
        "child_move_transfer",
        "transfer_of_responsibility",
        "legal_obligation_statutory",
        {"agency_id": "csc-fenmere-mash", "role": "social_worker"},
        [{"agency_id": "csc-eastholt", "role": "team_manager", "need_to_know": "transfer_case"}],
        {
            "transfer_type": "cp_plan_transfer",
            "child": CHILD,
            "move_date": "2026-04-01",
            "new_address": "3 Example Row, Eastholt",
            "legal_status": "CP plan (neglect)",
            "cp_plan": "Fictional plan.",
            "assessments": "Fictional assessment; move raises risk.",
        },
        10,
    ),
    "death": _envelope(
        "child_death_notification",
        "child_death_review",
        "legal_obligation_statutory",
        {"agency_id": "police-fenmere", "role": "police_public_protection"},
        [{"agency_id": "cdop-fenmere", "role": "cdop_manager", "need_to_know": "statutory_notification"}],
        {
            # No date of birth: the tests move the death to their own hour, and a SUDI is under a year old.
            "child": {**{k: v for k, v in CHILD.items() if k != "date_of_birth"}, "family_name": "Child Iota"},
            "death_type": "sudi",
            "died_at": "2026-03-01T06:00:00Z",
            "circumstances": "Fictional: found unresponsive.",
            "medical_history": "Fictional: born premature.",
            "suspected_deliberate_harm": False,
        },
        11,
    )
    # The child who died was under a year old, as a SUDI is (their age agrees with the category).
    | {"subjects": [{"subject_ref": "subj-1", "role_in_case": "child", "age_years": 0}]},
    "missing": _envelope(
        "missing_child",
        "missing_child_response",
        "public_interest",
        {"agency_id": "csc-fenmere-mash", "role": "social_worker"},
        [POLICE],
        {
            "child": CHILD,
            "age_band": "13-15",
            "missing_since": "2026-03-02T07:00:00Z",
            "physical_description": "Fictional: tall, red coat.",
            "last_known_location": "Fenmere bus station",
            "risk_factors": "Fictional: older associates.",
            "looked_after": True,
        },
        12,
    ),
    "peer": _envelope(
        "child_on_child_harm_referral",
        "safeguarding_concern",
        "safeguarding_children_individuals_at_risk",
        {"agency_id": "school-hollins-academy", "role": "dsl"},
        [CSC],
        {
            "harm_kind": "harmful_sexual_behaviour",
            "harmed_child": {**CHILD, "family_name": "Child Kappa"},
            "child_who_harmed": {**CHILD, "family_name": "Child Lambda", "gender": "male"},
            "incident_account": "Fictional: pupil reports being touched in the changing room.",
            "harmed_child_location": "In school, with the DSL",
            "sexual_behaviour_details": "Fictional: details as reported.",
            "risk_to_others": "Fictional: traffic-light tool red; other pupils in the same class.",
            "referrer": PRO_REFERRER,
        },
        13,
    ),
    "adult_risk": _envelope(
        "adult_risk_information",
        "safeguarding_concern",
        "safeguarding_children_individuals_at_risk",
        {"agency_id": "probation-fenmere", "role": "probation_officer"},
        [CSC],
        {
            "conviction_status": "convicted",
            "adult": {"given_name": "Test", "family_name": "Adult Mu"},
            "risk_summary": "Fictional: assessed as posing a risk to children; moved in with a family.",
            "children_in_contact": [{**CHILD, "family_name": "Child Nu"}],
            "adult_address": "4 Example Row, Fenmere",
            "convictions": "Fictional: relevant conviction.",
            "line_manager_consulted": True,
        },
        14,
    ),
    "da_school": _envelope(
        "domestic_abuse_school_notification",
        "school_support",
        "safeguarding_children_individuals_at_risk",
        {"agency_id": "police-fenmere", "role": "police_public_protection"},
        [{"agency_id": "school-oakfield-primary", "role": "dsl", "need_to_know": "provide_support"}],
        {
            "exposure": "witnessed",
            "pupil": {**CHILD, "family_name": "Child Xi"},
            "incident_at": "2026-03-01T21:40:00Z",
            "police_reference": "INC-TEST-0042",
            "officer_contact": {**PRO_REFERRER, "name": "Sam Example", "job_title": "Police Constable"},
            "incident_summary": "Fictional: argument between adults, a window broken.",
            "alleged_perpetrator": "Fictional: the mother's partner.",
            "victim_location": "Staying with a relative (fictional)",
        },
        15,
    ),
    "advice": _envelope(
        "advice_request",
        "seek_advice",
        "unsure",
        {"agency_id": "gp-willow-lane", "role": "gp"},
        [{"agency_id": "gp-willow-lane", "role": "named_professional", "need_to_know": "assess_and_decide"}],
        {
            "topic": "health_information",
            "question": "Fictional: may I tell the school about a parent's mental-health crisis?",
            "situation": "Fictional: a parent of a primary-age child was admitted; the child seems withdrawn.",
            "child_age_band": "5-9",
            "data_classes_in_question": ["sc_health"],
            "proposed_recipient_types": ["education_school"],
        },
        16,
    ),
}


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in patch.items():
        if value is DELETE:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def patched(base: str, patch: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of BASES[base] with `patch` merged in (dicts merge, lists replace, DELETE removes)."""
    return _merge(copy.deepcopy(BASES[base]), patch)


# Casework types live in their own module (imported last: it uses the helpers above).
from tests.policy.bases_casework import CASEWORK_BASES  # noqa: E402

BASES.update(CASEWORK_BASES)
from tests.policy.bases_catalogue import CATALOGUE_BASES  # noqa: E402

BASES.update(CATALOGUE_BASES)
