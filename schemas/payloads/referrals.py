"""Payloads of the referral family: M01 referral, M02 acknowledgement, M03 outcome, M06 strategy.

Field lists follow what the source documents ask a referral to contain (R-numbers in descriptions
are this project's item ids); each model cites its source as `KEY, Chapter > Section` (keys in
policies/SOURCES.md). A field that mixes classes is split so each part is minimised on its own.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from schemas.fields import LONG_TEXT, SHORT_TEXT, PayloadModel, PersonIdentity, ProfessionalContact, classed
from schemas.vocab import DataClass as D

_OUTCOMES = "CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral > Outcome of Referrals"


class ReferralOutcomeKind(StrEnum):
    """Referral decision outcomes (M03).

    Source: CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral >
    Outcome of Referrals.
    """

    NFA_INFO_ADVICE_SIGNPOST = "nfa_info_advice_signpost"
    EARLY_HELP_REFERRAL = "early_help_referral"
    CHILD_AND_FAMILY_ASSESSMENT = "child_and_family_assessment"
    STRATEGY_DISCUSSION = "strategy_discussion"
    EMERGENCY_PROTECTIVE_ACTION = "emergency_protective_action"


class StrategyKind(StrEnum):
    """Which procedure convenes the strategy discussion; sets its deadline (timers T10, T11)."""

    STANDARD_S47 = "standard_s47"
    CPCH = "cpch"
    CHILD_ON_CHILD = "child_on_child"


class SafeguardingReferralPayload(PayloadModel):
    """M01: a safeguarding referral to children's social care.

    Source: CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral;
    CPSCP-Procedures, Threshold policy > Childrens Social Care.
    """

    child: PersonIdentity = classed(D.IDENTITY, "R04 child's names, date of birth, gender")
    concern_summary: str = classed(
        D.CONCERN_NARRATIVE, "R01 facts of the concern: what, when, where, source", max_length=LONG_TEXT
    )
    current_location: str | None = classed(
        D.LOCATION_SAFETY, "R02/R22 where the child is now", default=None, max_length=SHORT_TEXT
    )
    home_address: str | None = classed(D.CONTACT_ADDRESS, "R05 family address", default=None, max_length=SHORT_TEXT)
    parent_contact: str | None = classed(
        D.CONTACT_ADDRESS, "R25 parent/carer phone or e-mail", default=None, max_length=SHORT_TEXT
    )
    pr_holders: list[PersonIdentity] | None = classed(
        D.IDENTITY, "R06 people with parental responsibility", default=None
    )
    household_members: list[PersonIdentity] | None = classed(
        D.THIRD_PARTY_IDENTITY, "R07/R20 household members and siblings", default=None
    )
    child_condition: str | None = classed(
        D.SC_HEALTH,
        "R02 child's physical and emotional condition, injuries",
        default=None,
        max_length=LONG_TEXT,
    )
    special_needs: str | None = classed(D.SC_HEALTH, "R11/R19 disability, SEN", default=None, max_length=LONG_TEXT)
    parental_health_issues: str | None = classed(
        D.SC_HEALTH, "R14/R18 parental mental health or substance misuse", default=None, max_length=LONG_TEXT
    )
    sexual_abuse_details: str | None = classed(
        D.SC_SEX_LIFE, "R01 details of sexual harm or activity", default=None, max_length=LONG_TEXT
    )
    domestic_abuse_history: str | None = classed(
        D.DA_INFO, "R14/R18 domestic abuse in the household", default=None, max_length=LONG_TEXT
    )
    alleged_perpetrator: str | None = classed(
        D.CRIMINAL_ALLEGATION,
        "R13 who is alleged to have caused harm and what",
        default=None,
        max_length=LONG_TEXT,
    )
    ethnicity: str | None = classed(
        D.SC_ETHNICITY, "R09 ethnicity of child and carers", default=None, max_length=SHORT_TEXT
    )
    religion: str | None = classed(D.SC_RELIGION, "R09 religion", default=None, max_length=SHORT_TEXT)
    communication_needs: str | None = classed(
        D.ACCESS_NEED, "R09/R10 first language, interpreter or signer", default=None, max_length=SHORT_TEXT
    )
    immigration_status: str | None = classed(
        D.IMMIGRATION, "R29 immigration status", default=None, max_length=SHORT_TEXT
    )
    previous_concerns: str | None = classed(
        D.CASE_HISTORY, "R12/R23 previous concerns and support given", default=None, max_length=LONG_TEXT
    )
    agencies_involved: list[str] | None = classed(D.SERVICE_USE, "R16 other agencies involved", default=None)
    referrer: ProfessionalContact | None = classed(
        D.REFERRER_IDENTITY_PRO, "R15 the professional making the referral", default=None
    )
    public_referrer: str | None = classed(
        D.REFERRER_IDENTITY_NONPRO,
        "R15 member of the public who raised the concern",
        default=None,
        max_length=SHORT_TEXT,
    )
    referrer_view_of_risk: str | None = classed(
        D.OPINION, "R21 referrer's view of risk, labelled as opinion", default=None, max_length=LONG_TEXT
    )
    child_views: str | None = classed(
        D.VIEWS_WISHES, "R24/R28 child's and family's views", default=None, max_length=LONG_TEXT
    )
    staff_safety_warning: str | None = classed(
        D.STAFF_SAFETY, "R36 threats or violence towards professionals", default=None, max_length=LONG_TEXT
    )
    court_reports: str | None = classed(
        D.COURT_MATERIAL,
        "Court or expert report extracts (need court permission)",
        default=None,
        max_length=LONG_TEXT,
    )


class ReferralAcknowledgementPayload(PayloadModel):
    """M02: CSC acknowledges a referral within 1 working day.

    Source: CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral.
    """

    referral_reference: str = classed(D.CASE_ADMIN, "CSC's reference for the referral", max_length=64)
    received_at: datetime = classed(D.CASE_ADMIN, "When CSC received the referral")
    child: PersonIdentity = classed(D.IDENTITY, "Child the referral is about")
    next_steps: str | None = classed(D.CASE_STATUS, "What happens next", default=None, max_length=LONG_TEXT)


class ReferralOutcomePayload(PayloadModel):
    """M03: the manager-approved referral decision.

    Source: CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral >
    Outcome of Referrals.
    """

    referral_reference: str = classed(D.CASE_ADMIN, "CSC's reference for the referral", max_length=64)
    child: PersonIdentity = classed(D.IDENTITY, "Child the referral is about")
    outcome: ReferralOutcomeKind = classed(
        D.CASE_STATUS,
        f"Decision on the referral [{_OUTCOMES}]",
        policy_fact=True,
    )
    actions: str | None = classed(D.CASE_STATUS, "Actions agreed and who does them", default=None, max_length=LONG_TEXT)
    outcome_rationale: str | None = classed(
        D.OPINION,
        "Why this decision was reached (professional judgement)",
        default=None,
        max_length=LONG_TEXT,
    )
    adult_social_care_referral: bool | None = classed(
        D.CASE_STATUS, f"Whether adults at risk were referred to ASC [{_OUTCOMES}]", default=None
    )


class StrategyDiscussionRequestPayload(PayloadModel):
    """M06: convening a strategy discussion or meeting.

    Source: CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral >
    Screening of Referrals by Children's Social Care; CPCH-Policy, 6. Strategy Meeting/Safeguarding
    Enquiries; DDSCP-RiskToOthers, 4. Children's Social Care Response.
    """

    strategy_kind: StrategyKind = classed(D.CASE_STATUS, "Procedure the discussion follows", policy_fact=True)
    child: PersonIdentity = classed(D.IDENTITY, "Child the discussion is about (minutes are per child)")
    meeting_at: datetime = classed(D.CASE_ADMIN, "When the discussion or meeting is held")
    concern_summary: str = classed(D.CONCERN_NARRATIVE, "Concerns to be discussed", max_length=LONG_TEXT)
    child_location: str | None = classed(
        D.LOCATION_SAFETY, "Where the child is now", default=None, max_length=SHORT_TEXT
    )
    health_information: str | None = classed(
        D.SC_HEALTH, "Health information relevant to the risk", default=None, max_length=LONG_TEXT
    )
    alleged_perpetrator: str | None = classed(
        D.CRIMINAL_ALLEGATION, "Alleged perpetrator and alleged offence", default=None, max_length=LONG_TEXT
    )
    risk_assessment: str | None = classed(
        D.RISK_ASSESSMENT,
        "Written information on risk [DDSCP-RiskToOthers, 4. Children's Social Care Response]",
        default=None,
        max_length=LONG_TEXT,
    )
    staff_safety_warning: str | None = classed(
        D.STAFF_SAFETY, "Threats or violence towards professionals", default=None, max_length=LONG_TEXT
    )
    response_due: date | None = classed(D.CASE_ADMIN, "Date agencies must respond by", default=None)
