"""Payloads of child protection proceedings: M07 section 47 enquiry notice or outcome, M08 child
protection conference invitation or agency report, M09 assessment outcome and M10 plan review
notice. A pair of the catalogue is one type whose `stage` says which half it is. Sources are cited
as `KEY, Chapter > Section` (keys in policies/SOURCES.md).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import model_validator

from schemas.fields import LONG_TEXT, SHORT_TEXT, PayloadModel, PersonIdentity, ProfessionalContact, classed
from schemas.locations import stage_fields_missing
from schemas.vocab import DataClass as D

_S47_MOVE = (
    "CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's Area to "
    "Another > Child Subject To Section 47 Enquiries"
)
_TRANSLATED = "CPSCP-Procedures, Communication difficulties > 4. Using Interpreters with Family Members"
_ASSESSMENT = "CPSCP-Procedures, Child and family assessment > 6. Actions and Outcomes"


class S47Stage(StrEnum):
    """Notice that enquiries have started, or their outcome."""

    ENQUIRY_NOTICE = "enquiry_notice"
    OUTCOME = "outcome"


class ConferenceStage(StrEnum):
    """Invitation from the conference service, or an agency's report to the conference."""

    INVITATION = "invitation"
    REPORT = "report"


class AssessmentDecision(StrEnum):
    """What the child and family assessment decided about next steps.

    Source: CPSCP-Procedures, Child and family assessment > 6. Actions and Outcomes.
    """

    NO_FURTHER_ACTION = "no_further_action"
    EARLY_HELP = "early_help"
    CHILD_IN_NEED_PLAN = "child_in_need_plan"
    SECTION_47_ENQUIRY = "section_47_enquiry"
    LOOKED_AFTER = "looked_after"


class PlanKind(StrEnum):
    """Which plan is reviewed; each has its own review interval (policy pack obligations).

    Sources: DDSCP-RiskToOthers, 4. Children's Social Care Response (CIN reviews at 3 months, then
    every 4 months); CPCH-Policy, 7. Assessment and Planning (plans every 4-6 weeks, early help at
    least every 3 months); CPCH-Policy, 8. Safety Planning (every 6 weeks).
    """

    CIN_FIRST_REVIEW = "cin_first_review"
    CIN_REVIEW = "cin_review"
    CPCH_PLAN = "cpch_plan"
    EARLY_HELP_PLAN = "early_help_plan"
    SAFETY_PLAN = "safety_plan"
    CP_PLAN = "cp_plan"


def _required_at(stage: StrEnum, wanted: StrEnum, value: object, field: str) -> None:
    if stage is wanted and value in (None, ""):
        raise stage_fields_missing(wanted, [field])


class S47EnquiryPayload(PayloadModel):
    """M07: children's social care tells the agencies involved, and a receiving authority if the
    child moves, that section 47 enquiries are under way; the outcome follows verbally on the day the
    enquiries end and in writing as soon as possible [CPSCP-Procedures, Transfer of Responsibility for
    Children Who Move from One Local Authority's Area to Another > Child Subject To Section 47
    Enquiries]."""

    stage: S47Stage = classed(D.CASE_STATUS, f"Notice or outcome [{_S47_MOVE}]", policy_fact=True)
    child: PersonIdentity = classed(D.IDENTITY, "The child subject of the enquiries")
    enquiry_started_at: datetime = classed(D.CASE_ADMIN, "When the section 47 enquiries started")
    concerns: str = classed(D.CONCERN_NARRATIVE, "The concerns being enquired into", max_length=LONG_TEXT)
    outcome: str | None = classed(
        D.CASE_STATUS,
        "The outcome: threshold met or not, conference or not (at stage outcome)",
        default=None,
        max_length=LONG_TEXT,
    )
    new_address: str | None = classed(
        D.CONTACT_ADDRESS,
        "Where the family is moving, when a receiving authority is told",
        default=None,
        max_length=SHORT_TEXT,
    )
    risk_assessment: str | None = classed(
        D.RISK_ASSESSMENT, "The current assessment of risk", default=None, max_length=LONG_TEXT
    )
    relevant_adults: str | None = classed(
        D.CRIMINAL_INTELLIGENCE,
        "Adults subject to MAPPA, MARAC or IDAP with current child protection concerns",
        default=None,
        max_length=LONG_TEXT,
    )
    lead_professional: ProfessionalContact = classed(D.REFERRER_IDENTITY_PRO, "The family's named lead professional")
    # A flag, not the free-text outcome, so the policy can start the conference's 15-day clock (T12).
    icpc_required: bool = classed(
        D.CASE_STATUS,
        "The outcome is an initial child protection conference (at stage outcome) [DDSCP-RiskToOthers,"
        " 4. Children's Social Care Response]",
        default=False,
        policy_fact=True,
    )

    @model_validator(mode="after")
    def _outcome_at_outcome(self) -> S47EnquiryPayload:
        _required_at(self.stage, S47Stage.OUTCOME, self.outcome, "outcome")
        return self


class CpConferencePayload(PayloadModel):
    """M08: the invitation to a child protection conference (translated into a language or medium the
    family understands [CPSCP-Procedures, Communication difficulties > 4. Using Interpreters with Family
    Members]) or an agency's report to it."""

    stage: ConferenceStage = classed(D.CASE_STATUS, "Invitation or agency report", policy_fact=True)
    child: PersonIdentity = classed(D.IDENTITY, "The child the conference is about")
    conference_at: datetime = classed(D.CASE_ADMIN, "Date and time of the conference")
    reason_for_conference: str = classed(D.CONCERN_NARRATIVE, "Why the conference is held", max_length=LONG_TEXT)
    agency_report: str | None = classed(
        D.RISK_ASSESSMENT, "The agency's report (required at stage report)", default=None, max_length=LONG_TEXT
    )
    family_language: str | None = classed(
        D.ACCESS_NEED, f"Language or medium for the family's copy [{_TRANSLATED}]", default=None, max_length=SHORT_TEXT
    )
    child_whereabouts: str | None = classed(
        D.LOCATION_SAFETY,
        "Where the young person is (handled with care in forced marriage)",
        default=None,
        max_length=SHORT_TEXT,
    )
    parental_attendance: str | None = classed(
        D.CASE_STATUS, "The chair's decision on parents' attendance and why", default=None, max_length=LONG_TEXT
    )
    chair: ProfessionalContact | None = classed(D.REFERRER_IDENTITY_PRO, "The conference chair", default=None)

    @model_validator(mode="after")
    def _report_at_report(self) -> CpConferencePayload:
        _required_at(self.stage, ConferenceStage.REPORT, self.agency_report, "agency_report")
        return self


class AssessmentOutcomePayload(PayloadModel):
    """M09: the outcome of a child and family assessment, given to the family in writing unless that
    would place a child at risk or jeopardise an enquiry, to all relevant agencies in writing (with any
    child in need plan) and to the referrer [CPSCP-Procedures, Child and family assessment > 6. Actions
    and Outcomes]; at most 35 working days from referral [CPSCP-Procedures, Child and family
    assessment > 7. Timescales]."""

    decision: AssessmentDecision = classed(
        D.CASE_STATUS, f"The decision on next steps [{_ASSESSMENT}]", policy_fact=True
    )
    child: PersonIdentity = classed(D.IDENTITY, "The child assessed")
    referral_reference: str = classed(D.CASE_ADMIN, "The referral the assessment followed", max_length=SHORT_TEXT)
    referral_received_at: datetime = classed(D.CASE_ADMIN, "When the referral was received (the 35-day clock)")
    completed_on: date = classed(D.CASE_ADMIN, "When the assessment was completed")
    summary: str = classed(D.CASE_STATUS, "Outcome and actions for the agencies", max_length=LONG_TEXT)
    analysis: str | None = classed(D.OPINION, "The social worker's analysis", default=None, max_length=LONG_TEXT)
    health_needs: str | None = classed(
        D.SC_HEALTH, "Health and development needs found", default=None, max_length=LONG_TEXT
    )
    child_views: str | None = classed(D.VIEWS_WISHES, "The child's views", default=None, max_length=LONG_TEXT)
    overrun_reason: str | None = classed(
        D.CASE_ADMIN,
        "Why it took longer than 35 working days (Head of Service told)",
        default=None,
        max_length=LONG_TEXT,
    )


class PlanReviewNoticePayload(PayloadModel):
    """M10: the lead professional tells the core group or team around the family of a plan review; the
    next notice answers this one's review clock [DDSCP-RiskToOthers, 4. Children's Social Care
    Response; CPCH-Policy, 7. Assessment and Planning; CPCH-Policy, 8. Safety Planning]."""

    plan_kind: PlanKind = classed(D.CASE_STATUS, "Which plan is reviewed", policy_fact=True)
    child: PersonIdentity = classed(D.IDENTITY, "The child the plan is for")
    review_at: datetime = classed(D.CASE_ADMIN, "When the review meeting is")
    plan_summary: str = classed(D.CASE_STATUS, "The plan's current actions and owners", max_length=LONG_TEXT)
    progress: str | None = classed(D.CASE_HISTORY, "Progress since the last review", default=None, max_length=LONG_TEXT)
    concerns: str | None = classed(D.CONCERN_NARRATIVE, "Concerns still open", default=None, max_length=LONG_TEXT)
    family_views: str | None = classed(
        D.VIEWS_WISHES, "The family's and child's views", default=None, max_length=LONG_TEXT
    )
    lead_professional: ProfessionalContact = classed(D.REFERRER_IDENTITY_PRO, "Who leads the plan")
