"""Payload of M32, the advice request: a practitioner asks an IG lead, DSL, Caldicott Guardian or
named/designated professional whether and what to share, without identifying anyone.

Golden rule 3 asks for advice "without disclosing the identity of the individual where possible"
and Caldicott principle 2 for no personal confidential data unless absolutely necessary, so the
payload has no person fields at all: a name, date of birth, address, NHS number or phone number,
whether as a field or inside the text, is refused (422) with the field named. Sources:
CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing, rule 3;
CPSCP-Procedures, Information sharing > The Eight Caldicott Principles, principle 2.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import field_validator, model_validator
from pydantic_core import PydanticCustomError

from schemas.fields import LONG_TEXT, PayloadModel, classed
from schemas.locations import misplaced, stage_fields_missing
from schemas.vocab import AgencyRole, AgencyType
from schemas.vocab import DataClass as D

# The only roles an advice request may go to (GR3 and the Caldicott Guardian's advisory role).
ADVISER_ROLES = frozenset(
    {
        AgencyRole.IG_LEAD,
        AgencyRole.CALDICOTT_GUARDIAN,
        AgencyRole.DSL,
        AgencyRole.SAFEGUARDING_LEAD,
        AgencyRole.NAMED_PROFESSIONAL,
        AgencyRole.DESIGNATED_PROFESSIONAL,
    }
)

# Keys that would carry identity: refused by name rather than as a mere unknown key.
IDENTIFYING_KEYS = frozenset(
    {
        "name",
        "names",
        "given_name",
        "family_name",
        "full_name",
        "first_name",
        "surname",
        "date_of_birth",
        "dob",
        "birth_date",
        "address",
        "home_address",
        "addresses",
        "postcode",
        "nhs_number",
        "phone",
        "email",
        "child",
        "adult",
        "pupil",
        "person",
        "parent",
        "subject_person",
    }
)

_MONTHS = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
_STREETS = "road|street|lane|avenue|close|row|drive|way|court|crescent|place|gardens"
_IDENTIFYING_TEXT: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b"), "a date (a date of birth identifies a child)"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}\b"), "a date (a date of birth identifies a child)"),
    (re.compile(rf"\b\d{{1,2}}(st|nd|rd|th)?\s+{_MONTHS}\s+\d{{4}}\b", re.I), "a date (a date of birth)"),
    (re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.I), "a postcode"),
    (re.compile(r"\b\d{3}\s?\d{3}\s?\d{4}\b"), "an NHS or phone number"),
    (re.compile(r"\b0\d{4}\s?\d{6}\b"), "a phone number"),
    (re.compile(r"\S+@\S+\.\S+"), "an e-mail address"),
    (re.compile(rf"\b\d+[a-z]?\s+\w+\s+({_STREETS})\b", re.I), "a street address"),
)


class AdviceTopic(StrEnum):
    """What the practitioner is unsure about (the doubts golden rule 3 and the Caldicott Guardian
    answer). Source: CPSCP-Procedures, Information sharing > Confidentiality and Consent."""

    WHETHER_TO_SHARE = "whether_to_share"
    LAWFUL_BASIS = "lawful_basis"
    CONSENT_AND_EXCEPTIONS = "consent_and_exceptions"
    HEALTH_INFORMATION = "health_information"
    UNCONVICTED_ADULT = "unconvicted_adult"
    WHAT_TO_TELL_THE_FAMILY = "what_to_tell_the_family"
    OTHER = "other"


class AdviceStage(StrEnum):
    """The practitioner's question, or the adviser's answer to it (sent `in_reply_to` the question:
    it stops the question's clock)."""

    QUESTION = "question"
    ADVICE_GIVEN = "advice_given"


def identifying_text(text: str) -> str | None:
    """What identifying detail `text` seems to hold (a date, postcode, number, address), or None."""
    for pattern, what in _IDENTIFYING_TEXT:
        if pattern.search(text):
            return what
    return None


class AdviceRequestPayload(PayloadModel):
    """M32: a de-identified question to an adviser, or the adviser's de-identified answer."""

    stage: AdviceStage = classed(
        D.CASE_STATUS, "Question, or the adviser's answer", policy_fact=True, default=AdviceStage.QUESTION
    )
    topic: AdviceTopic = classed(D.CASE_STATUS, "What the practitioner is unsure about", policy_fact=True)
    question: str = classed(D.CONCERN_NARRATIVE, "The question, with nobody identified", max_length=LONG_TEXT)
    situation: str | None = classed(
        D.CONCERN_NARRATIVE,
        "The situation, de-identified (no names, dates, places)",
        default=None,
        max_length=LONG_TEXT,
    )
    child_age_band: str | None = classed(
        D.CASE_ADMIN, "Age band such as '5-9' or 'unborn'", default=None, pattern=r"^(unborn|\d{1,2}-\d{1,2})$"
    )
    data_classes_in_question: list[D] | None = classed(
        D.CASE_ADMIN, "Kinds of information the practitioner might share", default=None
    )
    proposed_recipient_types: list[AgencyType] | None = classed(
        D.CASE_ADMIN, "Kinds of agency the practitioner might share with", default=None
    )
    advice: str | None = classed(
        D.OPINION, "The adviser's answer (required at stage advice_given)", default=None, max_length=LONG_TEXT
    )
    case_ref: str | None = classed(
        D.CASE_ADMIN,
        "The sender's own pseudonymous case reference, for matching the answer",
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_identifying_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in data:
                if key in IDENTIFYING_KEYS:
                    raise misplaced(
                        "identifying_field",
                        "'{field}' would identify a person: an advice request carries no names, dates of birth or"
                        " addresses",
                        (key,),
                        field=key,
                    )
        return data

    @model_validator(mode="after")
    def _answer_has_advice(self) -> AdviceRequestPayload:
        if self.stage is AdviceStage.ADVICE_GIVEN and not self.advice:
            raise stage_fields_missing(self.stage, ["advice"])
        return self

    @field_validator("question", "situation", "advice")
    @classmethod
    def _no_identifying_text(cls, value: str | None) -> str | None:
        what = identifying_text(value) if value else None
        if what is not None:
            raise PydanticCustomError(
                "identifying_text",
                "this text seems to contain {what}: an advice request identifies nobody",
                {"what": what},
            )
        return value
