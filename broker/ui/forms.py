"""The guided referral form's steps, their per-step checks, and the notification they build (M01)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from broker.partnership.registry import Registry
from broker.ui.sessions import UiSession
from schemas.vocab import (
    AgencyRole,
    AuthoriserRole,
    ConsentException,
    ConsentStatus,
    LawfulBasis,
    NeedToKnow,
    Purpose,
)

YES_NO_UNKNOWN = [("yes", "Yes"), ("no", "No"), ("unknown", "Don't know")]
_REF = re.compile(r"[^A-Za-z0-9._:-]")

# The role queue a referral reaches at each type of agency (C4: never a general inbox).
DEFAULT_ROLE = {
    "csc_front_door": "mash_intake",
    "csc_team": "social_worker",
    "other_la_csc": "mash_intake",
    "police": "police_public_protection",
    "health_gp": "gp",
    "health_community": "health_visitor",
    "health_acute": "named_professional",
    "health_mental_health": "named_professional",
    "education_school": "dsl",
    "education_early_years": "dsl",
    "asc": "adult_safeguarding_officer",
    "probation": "probation_officer",
    "yos": "yos_officer",
    "housing": "housing_officer",
    "vcs": "safeguarding_lead",
    "da_service": "da_caseworker",
    "lado": "lado_officer",
    "marac": "marac_coordinator",
    "cdop": "cdop_manager",
    "coroner": "coroners_officer",
}


def _choices(values: Any) -> list[tuple[str, str]]:
    return [(v.value, v.value.replace("_", " ").capitalize()) for v in values]


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text, textarea, select, radio, checkbox, date, number
    choices: list[tuple[str, str]] = field(default_factory=list)
    required: bool = True
    hint: str = ""


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    intro: str
    fields: tuple[Field, ...] = ()
    # Schema paths (first element after the model) that this step answers, for error mapping.
    paths: dict[str, str] = field(default_factory=dict)

    def owns(self, name: str) -> bool:
        if self.key == "recipients":
            return name.startswith(("to:", "ntk:"))
        return any(f.name == name for f in self.fields)

    def field_for(self, loc: list[str]) -> str | None:
        for prefix, name in self.paths.items():
            if prefix in loc:
                return name
        return None


STEPS: tuple[Step, ...] = (
    Step(
        "purpose",
        "Purpose",
        "Why are you sharing? (Caldicott 1: justify the purpose.)",
        (
            Field(
                "purpose", "Purpose", "select", _choices([Purpose.SAFEGUARDING_CONCERN, Purpose.REQUEST_FOR_SERVICES])
            ),
            Field("purpose_statement", "In a sentence, what do you need the recipients to do?", "textarea"),
            Field("sender_role", "Your role", "select", _choices(AgencyRole)),
        ),
        {"purpose": "purpose", "purpose_statement": "purpose_statement", "sender": "sender_role"},
    ),
    Step(
        "recipients",
        "Who needs to know",
        "Choose only the agencies that need this (golden rule 6, Caldicott 4), and say why each needs it.",
        (),
        {"recipients": "recipients"},
    ),
    Step(
        "consent",
        "Consent and the exceptions",
        "Have you sought agreement? If not, which exception applies? (Golden rules 2 and 4.)",
        (
            Field("consent_status", "Parent or carer's consent", "select", _choices(ConsentStatus)),
            Field(
                "not_sought_reason",
                "If consent was not sought or was refused: the exception that applies",
                "select",
                _choices(ConsentException),
                required=False,
            ),
            Field("parents_informed", "Do the parents know you are making this referral?", "radio", YES_NO_UNKNOWN),
            Field(
                "reason_not_informed",
                "If they do not know: why telling them is unsafe or inappropriate",
                "select",
                _choices(ConsentException),
                required=False,
            ),
            Field(
                "lawful_basis",
                "Lawful basis for sharing",
                "select",
                _choices(LawfulBasis),
                hint="Choose 'Unsure' to ask your IG lead for advice before anything is sent.",
            ),
        ),
        {"consent": "consent_status", "parental_position": "parents_informed", "lawful_basis": "lawful_basis"},
    ),
    Step(
        "risk",
        "Risk",
        "Your judgement of the risk now. If a child is in immediate danger, phone 999.",
        (
            Field(
                "immediate_significant_harm",
                "Is the child at immediate risk of significant harm?",
                "radio",
                YES_NO_UNKNOWN,
            ),
            Field(
                "likely_significant_harm", "Is the child likely to suffer significant harm?", "radio", YES_NO_UNKNOWN
            ),
            Field("crime_suspected", "Do you suspect a crime?", "radio", YES_NO_UNKNOWN),
            Field("risk_to_others", "Is anyone else at risk?", "radio", YES_NO_UNKNOWN),
            Field(
                "sender_in_doubt",
                "I am not sure this should be shared: ask for advice first (golden rule 3)",
                "checkbox",
                required=False,
            ),
        ),
        {"risk": "immediate_significant_harm", "sender_in_doubt": "sender_in_doubt"},
    ),
    Step(
        "child",
        "The child and the concern",
        "Facts first; say what is opinion and whose.",
        (
            Field("given_name", "Child's given name"),
            Field("family_name", "Child's family name"),
            Field("date_of_birth", "Date of birth", "date", required=False),
            Field("age_years", "Age in years", "number"),
            Field("concern_summary", "What happened, when and where, and who told you", "textarea"),
            Field("current_location", "Where is the child now?", required=False),
            Field("home_address", "Home address", required=False),
        ),
        {"payload": "concern_summary", "subjects": "age_years"},
    ),
    Step(
        "authorisation",
        "Authorisation",
        "If a manager has authorised sharing without consent, record it; otherwise leave this blank.",
        (
            Field("authoriser_role", "Authorised by (role)", "select", _choices(AuthoriserRole), required=False),
            Field("authoriser_ref", "Authoriser's staff reference", required=False),
            Field("authorisation_reason", "Their reason", "textarea", required=False),
        ),
        {"authorisation": "authoriser_role"},
    ),
    Step(
        "check",
        "Check before sending",
        "What each recipient would receive, and why. Nothing has been sent or recorded yet.",
    ),
)


def recipient_options(registry: Registry, own_agency: str) -> list[dict[str, str]]:
    return [
        {"id": agency_id, "name": agency.name, "role": DEFAULT_ROLE.get(agency.type, "safeguarding_lead")}
        for agency_id, agency in sorted(registry.agencies.items())
        if agency_id != own_agency
    ]


NEED_TO_KNOW = _choices(NeedToKnow)


def validate_step(
    step: Step, answers: dict[str, str], choices: dict[str, list[tuple[str, str]]] | None = None
) -> dict[str, str]:
    """Errors by field name for one step (empty when the step is complete); `choices` narrows a
    field's options for this person (the roles they may send as)."""
    errors = {f.name: f"{f.label}: please answer." for f in step.fields if f.required and not answers.get(f.name)}
    for f in step.fields:
        value = answers.get(f.name)
        if value and f.choices and value not in {c for c, _ in (choices or {}).get(f.name, f.choices)}:
            errors[f.name] = f"{f.label}: choose one of the options."
    check = _CHECKS.get(step.key)
    if check is not None:
        errors.update(check(answers))
    return errors


def _check_recipients(answers: dict[str, str]) -> dict[str, str]:
    chosen = [k[3:] for k in answers if k.startswith("to:")]
    if not chosen:
        return {"recipients": "Choose at least one agency."}
    ntk = {c for c, _ in NEED_TO_KNOW}
    return {f"ntk:{a}": "Say why this agency needs to know." for a in chosen if answers.get(f"ntk:{a}") not in ntk}


def _check_consent(answers: dict[str, str]) -> dict[str, str]:
    errors = {}
    if answers.get("consent_status") in ("not_sought", "refused") and not answers.get("not_sought_reason"):
        errors["not_sought_reason"] = "Without consent, say which exception applies (golden rule 4)."
    if answers.get("parents_informed") == "no" and not answers.get("reason_not_informed"):
        errors["reason_not_informed"] = "Say why the parents are not being told (golden rule 2)."
    return errors


def _check_child(answers: dict[str, str]) -> dict[str, str]:
    errors = {}
    if answers.get("date_of_birth"):
        try:
            date.fromisoformat(answers["date_of_birth"])
        except ValueError:
            errors["date_of_birth"] = "Use a date like 2017-03-14."
    age = answers.get("age_years", "")
    if age and (not age.isdigit() or int(age) > 25):
        errors["age_years"] = "Give the age in whole years (0-25)."
    return errors


def _check_authorisation(answers: dict[str, str]) -> dict[str, str]:
    names = ("authoriser_role", "authoriser_ref", "authorisation_reason")
    given = [n for n in names if answers.get(n)]
    if given and len(given) < len(names):
        return {n: "Complete all three, or leave all three blank." for n in names if n not in given}
    if answers.get("authoriser_ref") and _REF.search(answers["authoriser_ref"]):
        return {"authoriser_ref": "Use letters, digits, dots, dashes only."}
    return {}


_CHECKS = {
    "recipients": _check_recipients,
    "consent": _check_consent,
    "child": _check_child,
    "authorisation": _check_authorisation,
}


def _flag(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


_RISKS = (
    "immediate_significant_harm",
    "likely_significant_harm",
    "serious_harm_to_adult",
    "risk_to_others",
    "crime_suspected",
)


def build_notification(answers: dict[str, str], session: UiSession, now: datetime) -> dict[str, Any]:
    """The M01 notification these answers describe, as an agency system would POST it."""
    a = answers
    status = a.get("consent_status") or "not_sought"
    return {
        "message_type": "safeguarding_referral",
        "schema_version": "1.0",
        "notification_id": a.get("notification_id", ""),
        "created_at": now.isoformat(),
        "purpose": a.get("purpose") or None,
        "purpose_statement": a.get("purpose_statement") or None,
        "lawful_basis": a.get("lawful_basis") or None,
        "consent": [
            {
                "subject_ref": "child-1",
                "giver": "parent_pr",
                "status": status,
                "not_sought_reason": a.get("not_sought_reason") or None,
            }
        ],
        "parental_position": {
            "parents_informed": _flag(a.get("parents_informed")),
            "parent_withheld_permission": True if status == "refused" else None,
            "reason_not_informed": a.get("reason_not_informed") or None,
        },
        "authorisation": _authorisation(a, now),
        "risk": {k: _flag(a.get(k)) for k in _RISKS},
        "sender_in_doubt": a.get("sender_in_doubt") == "on",
        "subjects": [_child_subject(a)],
        "sender": {
            "agency_id": session.agency_id,
            "role": a.get("sender_role") or None,
            "user_ref": _REF.sub("-", session.user)[:64] or "user",
            "is_professional": True,
        },
        "recipients": [
            {"agency_id": k[3:], "role": a[k] or "mash_intake", "need_to_know": a.get(f"ntk:{k[3:]}")}
            for k in a
            if k.startswith("to:")
        ],
        "payload": _payload(a),
    }


def _payload(a: dict[str, str]) -> dict[str, Any]:
    child: dict[str, Any] = {"given_name": a.get("given_name", ""), "family_name": a.get("family_name", "")}
    if a.get("date_of_birth"):
        child["date_of_birth"] = a["date_of_birth"]
    payload: dict[str, Any] = {"child": child, "concern_summary": a.get("concern_summary", "")}
    for name in ("current_location", "home_address"):
        if a.get(name):
            payload[name] = a[name]
    return payload


def _authorisation(a: dict[str, str], now: datetime) -> dict[str, Any] | None:
    if not a.get("authoriser_role"):
        return None
    return {
        "authoriser_role": a["authoriser_role"],
        "authoriser_ref": a.get("authoriser_ref", ""),
        "authorised_at": now.isoformat(),
        "reason": a.get("authorisation_reason", ""),
    }


def _child_subject(a: dict[str, str]) -> dict[str, Any]:
    age = a.get("age_years", "")
    return {"subject_ref": "child-1", "role_in_case": "child", "age_years": int(age) if age.isdigit() else None}
