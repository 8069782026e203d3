"""Payloads of follow-up notices about a known child: M04 additional information for the allocated
social worker, M05 crime notification to the police and M33 professional disagreement escalation.
Sources are cited as `KEY, Chapter > Section` (keys in policies/SOURCES.md).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from schemas.fields import LONG_TEXT, SHORT_TEXT, PayloadModel, PersonIdentity, ProfessionalContact, classed
from schemas.vocab import DataClass as D

_NEW_INFO = "CPSCP-Procedures, Responding to concerns about a child > Duty to co-operate and refer"
_CRIME = (
    "CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral > Where a Crime may have "
    "been Committed"
)
_ESCALATE = "CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral > Outcome of Referrals"


class EscalationGround(StrEnum):
    """Why the professional escalates: no decision after 3 working days, or a decision they dispute.

    Source: CPSCP-Procedures, Responding to concerns about a child > Duty to co-operate and refer.
    """

    NO_DECISION_AFTER_3_WD = "no_decision_after_3_wd"
    DISAGREES_WITH_DECISION = "disagrees_with_decision"


class AdditionalInformationPayload(PayloadModel):
    """M04: new or additional information about a child who has an allocated social worker, passed
    "without delay" to that social worker or case manager; out of hours to the emergency duty team if
    the concern is high [CPSCP-Procedures, Responding to concerns about a child > Duty to co-operate
    and refer]."""

    child: PersonIdentity = classed(D.IDENTITY, "The child the information is about")
    case_reference: str = classed(D.CASE_ADMIN, "Children's social care case reference", max_length=SHORT_TEXT)
    new_information: str = classed(
        D.CONCERN_NARRATIVE, f"What is new, documented before it is passed on [{_NEW_INFO}]", max_length=LONG_TEXT
    )
    observed_at: datetime | None = classed(D.CASE_ADMIN, "When the information came to light", default=None)
    health_information: str | None = classed(
        D.SC_HEALTH, "Health findings, where part of the new information", default=None, max_length=LONG_TEXT
    )
    child_location: str | None = classed(
        D.LOCATION_SAFETY, "Where the child is now, if that matters for safety", default=None, max_length=SHORT_TEXT
    )
    household_change: str | None = classed(
        D.THIRD_PARTY_IDENTITY, "A new adult in the household or a change of carer", default=None, max_length=LONG_TEXT
    )
    source_professional: ProfessionalContact = classed(D.REFERRER_IDENTITY_PRO, "Who holds the information")


class CrimeNotificationPayload(PayloadModel):
    """M05: the police are told at the earliest opportunity that a crime may have been committed; they
    decide whether to investigate, and a discussion plans how parents are told without jeopardising
    it [CPSCP-Procedures, Initial Action by Children's Social Care on Receipt of a Referral > Where a
    Crime may have been Committed]."""

    child: PersonIdentity = classed(D.IDENTITY, "The child the suspected offence concerns")
    suspected_offence: str = classed(
        D.CRIMINAL_ALLEGATION, f"What may have been committed, when and where [{_CRIME}]", max_length=LONG_TEXT
    )
    child_location: str = classed(D.LOCATION_SAFETY, "Where the child is now", max_length=SHORT_TEXT)
    alleged_perpetrator: str | None = classed(
        D.CRIMINAL_ALLEGATION, "Who is alleged to have committed it", default=None, max_length=LONG_TEXT
    )
    evidence_at_risk: str | None = classed(
        D.CASE_STATUS, "Evidence that could be lost (forensic, digital, witnesses)", default=None, max_length=LONG_TEXT
    )
    injuries: str | None = classed(D.SC_HEALTH, "Injuries seen or treated", default=None, max_length=LONG_TEXT)
    parents_plan: str | None = classed(
        D.CASE_STATUS,
        "Proposed plan for telling the parents without harming an inquiry",
        default=None,
        max_length=LONG_TEXT,
    )
    case_reference: str | None = classed(
        D.CASE_ADMIN, "Referral or case reference", default=None, max_length=SHORT_TEXT
    )
    notifier: ProfessionalContact = classed(D.REFERRER_IDENTITY_PRO, "Who tells the police")


class ProfessionalDisagreementPayload(PayloadModel):
    """M33: a referrer with no decision after 3 working days, or who disagrees with the decision,
    contacts children's social care again and may ask for a line manager; unresolved disagreement
    follows the Resolving Professional Differences process [CPSCP-Procedures, Responding to concerns
    about a child > Duty to co-operate and refer; CPSCP-Procedures, Initial Action by Children's Social
    Care on Receipt of a Referral > Outcome of Referrals]."""

    ground: EscalationGround = classed(D.CASE_STATUS, f"Why the referrer escalates [{_ESCALATE}]", policy_fact=True)
    referral_reference: str = classed(D.CASE_ADMIN, "The referral the escalation is about", max_length=SHORT_TEXT)
    referred_at: datetime = classed(D.CASE_ADMIN, "When the referral was made")
    child: PersonIdentity = classed(D.IDENTITY, "The child referred")
    disagreement: str = classed(D.OPINION, "What the referrer disputes, or that no decision came", max_length=LONG_TEXT)
    current_concern: str | None = classed(
        D.CONCERN_NARRATIVE, "What worries the referrer now", default=None, max_length=LONG_TEXT
    )
    resolution_sought: str | None = classed(
        D.CASE_STATUS,
        "What the referrer asks for (a decision, a review, a meeting)",
        default=None,
        max_length=LONG_TEXT,
    )
    referrer: ProfessionalContact = classed(D.REFERRER_IDENTITY_PRO, "The professional escalating")
