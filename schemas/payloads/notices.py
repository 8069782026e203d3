"""Payloads of police and offender-management notices: M31 offender risk information and M25
police emergency protection notice. Sources are cited as `KEY, Chapter > Section` (keys in
policies/SOURCES.md).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from schemas.fields import LONG_TEXT, SHORT_TEXT, PayloadModel, PersonIdentity, ProfessionalContact, classed
from schemas.vocab import DataClass as D

_MAPPA = "CPSCP-Procedures, Identification of Individuals who Pose a Risk to Children > 3.1 MAPPA (Multi Agency Public"
_MAPPA += " Protection Arrangements)"
_POLICE = "CPSCPB-CSA-Strategy, Section Two > Agency and professional responsibilities > Responsibility of Police"


class MappaLevel(StrEnum):
    """How the offender is managed: not under MAPPA, or MAPPA level 1-3 [CPSCP-Procedures,
    Identification of Individuals who Pose a Risk to Children > 3.1 MAPPA (Multi Agency Public
    Protection Arrangements)]; level 1 is implied by the source."""

    NOT_MAPPA = "not_mappa"
    LEVEL_1 = "level_1"
    LEVEL_2 = "level_2"
    LEVEL_3 = "level_3"


class OffenderRiskInformationPayload(PayloadModel):
    """M31: probation, prison, youth offending or police tell children's social care of the risk a
    convicted offender poses to children, where they live and which children they see
    [CPSCP-Procedures, Identification of Individuals who Pose a Risk to Children > 2. Management of
    Individuals who Pose a Risk of Harm to Children]."""

    mappa_level: MappaLevel = classed(D.CASE_STATUS, f"MAPPA management level [{_MAPPA}]", policy_fact=True)
    offender: PersonIdentity = classed(D.THIRD_PARTY_IDENTITY, "The offender")
    risk_summary: str = classed(D.RISK_ASSESSMENT, "The risk to children and its basis", max_length=LONG_TEXT)
    convictions: str = classed(D.CRIMINAL_CONVICTION, "Relevant convictions", max_length=LONG_TEXT)
    children_in_contact: list[PersonIdentity] = classed(
        D.IDENTITY, "Children the offender lives with or has contact with", min_length=1
    )
    offender_address: str | None = classed(
        D.CONTACT_ADDRESS, "Where the offender lives", default=None, max_length=SHORT_TEXT
    )
    risk_tool_outcome: str | None = classed(
        D.RISK_ASSESSMENT, "OASys, Risk Matrix 2000, ARMS or SARA outcome", default=None, max_length=SHORT_TEXT
    )
    licence_conditions: str | None = classed(
        D.CASE_STATUS, "Licence or order conditions about contact with children", default=None, max_length=LONG_TEXT
    )
    offender_manager: ProfessionalContact | None = classed(
        D.REFERRER_IDENTITY_PRO, "The offender manager", default=None
    )


class PoliceProtectionNoticePayload(PayloadModel):
    """M25: an officer used emergency powers to protect a child at immediate risk of significant harm;
    the police tell the early help team or children's social care in office hours, the Emergency Duty
    Team out of hours [CPSCPB-CSA-Strategy, Section Two > Agency and professional responsibilities >
    Responsibility of Police]."""

    child: PersonIdentity = classed(D.IDENTITY, "The child in police protection")
    protected_at: datetime = classed(D.CASE_ADMIN, f"When emergency powers were used [{_POLICE}]")
    reason: str = classed(D.CONCERN_NARRATIVE, "Why the child was at immediate risk", max_length=LONG_TEXT)
    child_location: str = classed(D.LOCATION_SAFETY, "Where the child is now", max_length=SHORT_TEXT)
    injuries_or_health: str | None = classed(
        D.SC_HEALTH, "Injuries or health needs seen", default=None, max_length=LONG_TEXT
    )
    parents_or_carers: list[PersonIdentity] | None = classed(
        D.IDENTITY, "Parents or carers the child was removed from", default=None
    )
    alleged_offence: str | None = classed(
        D.CRIMINAL_ALLEGATION, "Any offence alleged", default=None, max_length=LONG_TEXT
    )
    officer: ProfessionalContact | None = classed(D.REFERRER_IDENTITY_PRO, "The officer in the case", default=None)
