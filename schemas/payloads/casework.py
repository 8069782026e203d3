"""Payloads of casework notices: M26 early-help assessment share, M24 hospital discharge hold,
M23 Osman warning referral and M12 transition to adult services. Sources are cited as
`KEY, Chapter > Section` (keys in policies/SOURCES.md).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from schemas.fields import LONG_TEXT, SHORT_TEXT, PayloadModel, PersonIdentity, ProfessionalContact, classed
from schemas.vocab import DataClass as D

_EHA = "CPSCP-Procedures, Threshold policy > Early Help Assessments"
_DISCHARGE = "CPSCP-Procedures, Responding to concerns about a child > Seeking urgent medical attention"
_TRANSITION = (
    "DDSCP-RiskToOthers, 7. Transition of Young People, who are seen to pose Sexual Risk to others, to Adult Services"
)


class AbuseCertainty(StrEnum):
    """Whether abuse of the child in hospital is alleged, suspected or confirmed.

    Source: CPSCP-Procedures, Responding to concerns about a child > Seeking urgent medical attention.
    """

    ALLEGED = "alleged"
    SUSPECTED = "suspected"
    CONFIRMED = "confirmed"


class EarlyHelpAssessmentSharePayload(PayloadModel):
    """M26: the Early Help Assessment, shared with consent with the agencies the family chose.

    The assessment captures "what is going really well", what is causing worry, the family's views
    and what they want to change [CPSCP-Procedures, Threshold policy > Early Help Assessments].
    """

    child: PersonIdentity = classed(D.IDENTITY, "The child the assessment is about")
    going_well: str = classed(D.CASE_HISTORY, f"Family strengths: what is going well [{_EHA}]", max_length=LONG_TEXT)
    worries: str = classed(D.CONCERN_NARRATIVE, "What is not going so well and causing worry", max_length=LONG_TEXT)
    views_and_wishes: str | None = classed(
        D.VIEWS_WISHES,
        "The family's and child's views and what they want to change",
        default=None,
        max_length=LONG_TEXT,
    )
    plan_and_next_steps: str | None = classed(
        D.CASE_STATUS, "Agreed actions, who does them, review date", default=None, max_length=LONG_TEXT
    )
    health_needs: str | None = classed(
        D.SC_HEALTH, "Health or developmental needs the family agreed to share", default=None, max_length=LONG_TEXT
    )
    household_members: list[PersonIdentity] | None = classed(
        D.THIRD_PARTY_IDENTITY, "Other members of the household", default=None
    )
    home_address: str | None = classed(D.CONTACT_ADDRESS, "Family address", default=None, max_length=SHORT_TEXT)
    lead_professional: ProfessionalContact | None = classed(
        D.REFERRER_IDENTITY_PRO, "The lead professional who co-ordinates the support", default=None
    )


class HospitalDischargeHoldPayload(PayloadModel):
    """M24: a child admitted to hospital with child protection concerns is not discharged until the
    children's social care of the hospital's area and of the child's home area are told and a
    strategy meeting has been held if appropriate [CPSCP-Procedures, Responding to concerns about a
    child > Seeking urgent medical attention]."""

    certainty: AbuseCertainty = classed(
        D.CASE_STATUS, f"Abuse alleged, suspected or confirmed [{_DISCHARGE}]", policy_fact=True
    )
    child: PersonIdentity = classed(D.IDENTITY, "The child in hospital")
    hospital_and_ward: str = classed(D.SERVICE_USE, "Where the child is", max_length=SHORT_TEXT)
    admitted_at: datetime = classed(D.CASE_ADMIN, "When the child was admitted")
    concern: str = classed(D.CONCERN_NARRATIVE, "The child protection concern", max_length=LONG_TEXT)
    discharge_held: bool = classed(D.CASE_STATUS, "The hospital holds discharge until the conditions are met")
    injuries_and_treatment: str | None = classed(
        D.SC_HEALTH, "Injuries found and treatment", default=None, max_length=LONG_TEXT
    )
    home_address: str | None = classed(
        D.CONTACT_ADDRESS, "The child's home address", default=None, max_length=SHORT_TEXT
    )
    earliest_medical_discharge: datetime | None = classed(
        D.CASE_ADMIN, "When the child would be medically fit to leave", default=None
    )
    duty_paediatrician: ProfessionalContact | None = classed(
        D.REFERRER_IDENTITY_PRO, "The duty consultant paediatrician", default=None
    )


class OsmanWarningReferralPayload(PayloadModel):
    """M23: police have issued an Osman (threat to life) warning about a child: an automatic referral
    to children's social care, a strategy discussion and immediate safeguarding action considered
    [CPSCP-Procedures, Gangs > 4. Protection and Action to be Taken]."""

    child: PersonIdentity = classed(D.IDENTITY, "The child whose life is threatened")
    warning_issued_at: datetime = classed(D.CASE_ADMIN, "When the warning was given")
    threat_summary: str = classed(
        D.CRIMINAL_INTELLIGENCE, "The threat and how the police learned of it", max_length=LONG_TEXT
    )
    child_location: str | None = classed(
        D.LOCATION_SAFETY, "Where the child is now", default=None, max_length=SHORT_TEXT
    )
    source_of_threat: str | None = classed(
        D.CRIMINAL_INTELLIGENCE, "Who is thought to pose the threat", default=None, max_length=LONG_TEXT
    )
    gang_context: str | None = classed(
        D.CRIMINAL_INTELLIGENCE,
        "Gang knowledge: weapons, drugs, risks to family and other children",
        default=None,
        max_length=LONG_TEXT,
    )
    police_actions: str | None = classed(
        D.CASE_STATUS, "What police have done to protect the child", default=None, max_length=LONG_TEXT
    )


class TransitionReferralPayload(PayloadModel):
    """M12: children's social care refers a young person judged to pose a risk to others to adult
    services at least 6 months before their 18th birthday, and invites adult services to the next
    review [DDSCP-RiskToOthers, 7. Transition of Young People, who are seen to pose Sexual Risk to
    others, to Adult Services]."""

    young_person: PersonIdentity = classed(D.IDENTITY, "The young person")
    eighteenth_birthday: date = classed(D.CASE_ADMIN, f"The date they turn 18 [{_TRANSITION}]")
    risk_to_others: str = classed(D.RISK_ASSESSMENT, "The risk they are judged to pose to others", max_length=LONG_TEXT)
    care_and_support_needs: str | None = classed(
        D.SC_HEALTH, "Mental-health needs or learning disability, where present", default=None, max_length=LONG_TEXT
    )
    harmful_behaviour_history: str | None = classed(
        D.CRIMINAL_ALLEGATION, "The harmful behaviour and any proceedings", default=None, max_length=LONG_TEXT
    )
    current_plan: str | None = classed(
        D.CASE_STATUS, "The current plan and services", default=None, max_length=LONG_TEXT
    )
    next_review_at: datetime | None = classed(
        D.CASE_ADMIN, "The review meeting or conference adult services are invited to", default=None
    )
    young_person_views: str | None = classed(
        D.VIEWS_WISHES, "The young person's views on the transition", default=None, max_length=LONG_TEXT
    )
    late_reason: str | None = classed(
        D.CASE_ADMIN,
        "Why the referral is later than 6 months before the 18th birthday (required then)",
        default=None,
        max_length=LONG_TEXT,
    )
