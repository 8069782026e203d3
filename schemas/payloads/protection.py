"""Payloads of adult and domestic-abuse protection: M11 adult referral, M13 MARAC, M14 LADO,
M15 DVDS and M16 CSOD. Sources are cited as `KEY, Chapter > Section` (keys in policies/SOURCES.md).

DVDS and CSOD disclosures go to private individuals in person; the broker only carries the
agency request and the police decision between agencies, never the disclosure to the public
(I10; CPSCP-Procedures, Information sharing > Child Sex Offender Disclosure Scheme: "A
disclosure is delivered in person").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import ClassVar

from pydantic import model_validator

from schemas.fields import LONG_TEXT, SHORT_TEXT, PayloadModel, PersonIdentity, ProfessionalContact, classed
from schemas.locations import stage_fields_missing
from schemas.vocab import DataClass as D


class DisclosureStage(StrEnum):
    """Where a DVDS/CSOD case is: the agency's request, or the police decision on it."""

    AGENCY_REQUEST = "agency_request"
    POLICE_DECISION = "police_decision"


class DvdsRoute(StrEnum):
    RIGHT_TO_ASK = "right_to_ask"
    RIGHT_TO_KNOW = "right_to_know"


_AMM = "CPSCP-Procedures, LADO > 6. LADO Allegation Management Meetings (AMM)"
_DBS = "CPSCP-Procedures, LADO > 8. Substantiated allegations and referral to the DBS"


class LadoStage(StrEnum):
    """Where an M14 allegation is: the employer's referral (to the LADO, and to Ofsted from a
    registered setting), then the LADO's invitation to the allegations management meeting, its
    record, and the outcome, each sent in reply (the record or the outcome answers the
    3-working-day AMM clock; a read receipt is not a meeting); last, the employer's DBS referral.

    Source: CPSCP-Procedures, LADO > 3. General Considerations Relating to Allegations Against People
    who Work with Children; 6. LADO Allegation Management Meetings (AMM); 8. Substantiated
    allegations and referral to the DBS.
    """

    REFERRAL = "referral"
    AMM_INVITATION = "amm_invitation"
    AMM_RECORD = "amm_record"
    OUTCOME = "outcome"
    # The employer's referral to the DBS once both legal conditions are met.
    DBS_REFERRAL = "dbs_referral"


class AllegationOutcome(StrEnum):
    """The outcome definitions the LADO determines at the concluding AMM.

    Source: CPSCP-Procedures, LADO > 6. LADO Allegation Management Meetings (AMM).
    """

    SUBSTANTIATED = "substantiated"
    UNSUBSTANTIATED = "unsubstantiated"
    MALICIOUS = "malicious"
    FALSE = "false"
    UNFOUNDED = "unfounded"


class AdultSafeguardingReferralPayload(PayloadModel):
    """M11: Care Act s42 criteria, all three.

    Source: CPCH-Policy, 5. Response to the Parent/Carer.
    """

    adult: PersonIdentity = classed(D.IDENTITY, "The adult at risk")
    care_and_support_needs: str = classed(D.SC_HEALTH, "(a) the adult's care and support needs", max_length=LONG_TEXT)
    abuse_or_neglect: str = classed(
        D.CONCERN_NARRATIVE, "(b) the abuse or neglect experienced or risked", max_length=LONG_TEXT
    )
    unable_to_protect_self: bool = classed(D.RISK_ASSESSMENT, "(c) cannot protect themselves because of those needs")
    address: str | None = classed(D.CONTACT_ADDRESS, "Adult's address", default=None, max_length=SHORT_TEXT)
    alleged_perpetrator: str | None = classed(
        D.CRIMINAL_ALLEGATION, "Who is alleged to cause harm", default=None, max_length=LONG_TEXT
    )
    children_in_household: list[PersonIdentity] | None = classed(
        D.THIRD_PARTY_IDENTITY, "Children living with the adult", default=None
    )
    adult_views: str | None = classed(
        D.VIEWS_WISHES,
        "The adult's wishes (Making Safeguarding Personal)",
        default=None,
        max_length=LONG_TEXT,
    )


class MaracReferralPayload(PayloadModel):
    """M13: high-risk domestic abuse referral to MARAC.

    Source: CPSCP-Procedures, Identification of Individuals who Pose a Risk to Children > 3.2 MARAC
    (Multi Agency Risk Assessment Conference); CPCH-Policy, 5. Response to the Parent/Carer.
    """

    victim: PersonIdentity = classed(D.IDENTITY, "The adult victim")
    dash_summary: str = classed(D.DA_INFO, "DASH risk checklist outcome and key answers", max_length=LONG_TEXT)
    victim_safe_address: str | None = classed(
        D.LOCATION_SAFETY, "Where the victim is staying now", default=None, max_length=SHORT_TEXT
    )
    perpetrator: str | None = classed(
        D.CRIMINAL_ALLEGATION, "Alleged perpetrator and incidents", default=None, max_length=LONG_TEXT
    )
    children_in_household: list[PersonIdentity] | None = classed(
        D.THIRD_PARTY_IDENTITY, "Children in the household", default=None
    )
    victim_health: str | None = classed(
        D.SC_HEALTH, "Victim's health needs relevant to safety", default=None, max_length=LONG_TEXT
    )
    referrer: ProfessionalContact | None = classed(D.REFERRER_IDENTITY_PRO, "Referring professional", default=None)


# The employer's account and the DSM's signed record are the referral's; the LADO's own stages answer it
# (in reply) and do not retell it: its AMM record withheld the account from the employer anyway (C3).
_LADO_STAGE_FIELDS: dict[str, tuple[str, ...]] = {
    LadoStage.REFERRAL: ("allegation_account", "dsm_record_signed"),
    LadoStage.AMM_INVITATION: ("meeting_at",),
    LadoStage.AMM_RECORD: ("meeting_at", "actions_agreed"),
    LadoStage.OUTCOME: ("allegation_outcome",),
    LadoStage.DBS_REFERRAL: ("allegation_outcome", "dbs_conditions", "allegation_account"),
}


class LadoAllegationPayload(PayloadModel):
    """M14: allegation against a person who works with children.

    Source: CPSCP-Procedures, LADO > 1. Introduction and Criteria, through 4. Employers Response to
    an Allegation or Concern.
    """

    stage_fields: ClassVar[Mapping[str, tuple[str, ...]]] = MappingProxyType(_LADO_STAGE_FIELDS)
    # Defaulted: a referral is what every employer sent before the LADO's stages could be expressed.
    stage: LadoStage = classed(
        D.CASE_STATUS,
        f"Which stage of the allegation's case this is [{_AMM}]",
        default=LadoStage.REFERRAL,
        policy_fact=True,
    )
    person_subject_of_allegation: PersonIdentity = classed(D.IDENTITY, "The adult the allegation is about")
    job_and_setting: str = classed(D.SERVICE_USE, "Their role and where they work with children", max_length=SHORT_TEXT)
    allegation_account: str | None = classed(
        D.CRIMINAL_ALLEGATION,
        "What was said, in the child's own words where possible (“Referral”, dbs_referral) [CPSCP-Procedures, LADO"
        " > 4. Employers Response to an Allegation or Concern > Initial action by person receiving or"
        " identifying an allegation or concern]",
        default=None,
        max_length=LONG_TEXT,
    )
    child: PersonIdentity | None = classed(D.IDENTITY, "The child concerned", default=None)
    child_health_impact: str | None = classed(
        D.SC_HEALTH, "Injuries or effects on the child", default=None, max_length=LONG_TEXT
    )
    witnesses: list[PersonIdentity] | None = classed(D.THIRD_PARTY_IDENTITY, "Witnesses", default=None)
    works_with_children_elsewhere: bool | None = classed(
        D.CASE_STATUS,
        "Whether they work with children in another area [CPSCP-Procedures, Transfer of Responsibility for"
        " Children Who Move from One Local Authority's Area to Another > Allegations Made By Children from One"
        " Local Authority Who Are Placed In Establishments / Placements in another Local Authority]",
        default=None,
    )
    dsm_record_signed: bool | None = classed(
        D.CASE_ADMIN,
        "Record signed and dated by the DSM (“Referral”) [CPSCP-Procedures, LADO > 4. Employers Response to an"
        " Allegation or Concern > Initial action by the designated senior manager]",
        default=None,
    )
    meeting_at: datetime | None = classed(
        D.CASE_ADMIN, f"When the AMM is or was held (amm_invitation, amm_record) [{_AMM}]", default=None
    )
    actions_agreed: str | None = classed(
        D.CASE_STATUS,
        f"Safeguards, tasks and timescales, referrals to professional bodies or DBS, review date (amm_record) [{_AMM}]",
        default=None,
        max_length=LONG_TEXT,
    )
    dbs_conditions: str | None = classed(
        D.CASE_STATUS,
        "How both conditions are met: removal from regulated activity (or would have been), and relevant"
        f" conduct, the harm test or a relevant offence (stage dbs_referral) [{_DBS}]",
        default=None,
        max_length=LONG_TEXT,
    )
    allegation_outcome: AllegationOutcome | None = classed(
        D.CASE_STATUS, f"The outcome determined (stage outcome) [{_AMM}]", default=None
    )

    @model_validator(mode="after")
    def _stage_fields(self) -> LadoAllegationPayload:
        missing = [name for name in self.stage_fields.get(self.stage, ()) if getattr(self, name) in (None, "")]
        if missing:
            raise stage_fields_missing(self.stage, missing)
        return self


class DvdsDisclosurePayload(PayloadModel):
    """M15: Domestic Violence Disclosure Scheme request or police decision.

    Source: CPSCP-Procedures, Information sharing > The Domestic Violence Disclosure Scheme.
    """

    stage: DisclosureStage = classed(D.CASE_STATUS, "Request or police decision", policy_fact=True)
    route: DvdsRoute = classed(
        D.CASE_STATUS,
        "Right to ask or right to know"
        " [CPSCP-Procedures, Information sharing > The Domestic Violence Disclosure Scheme]",
        policy_fact=True,
    )
    person_at_risk: PersonIdentity = classed(D.IDENTITY, "The person who may be at risk")
    subject_person: PersonIdentity = classed(D.THIRD_PARTY_IDENTITY, "The partner the request is about")
    person_at_risk_location: str | None = classed(
        D.LOCATION_SAFETY, "Where the person at risk can be safely seen", default=None, max_length=SHORT_TEXT
    )
    relevant_convictions: str | None = classed(
        D.CRIMINAL_CONVICTION,
        "Convictions for violent offences"
        " [CPSCP-Procedures, Information sharing > The Domestic Violence Disclosure Scheme]",
        default=None,
        max_length=LONG_TEXT,
    )
    police_intelligence: str | None = classed(
        D.CRIMINAL_INTELLIGENCE, "Other information suggesting risk", default=None, max_length=LONG_TEXT
    )
    disclosure_decision: str | None = classed(
        D.OPINION, "Police decision and its proportionality reasoning", default=None, max_length=LONG_TEXT
    )


class CsodDisclosurePayload(PayloadModel):
    """M16: Child Sex Offender Disclosure Scheme application or decision.

    Source: CPSCP-Procedures, Information sharing > Child Sex Offender Disclosure Scheme.
    """

    stage: DisclosureStage = classed(D.CASE_STATUS, "Application or police decision", policy_fact=True)
    child: PersonIdentity = classed(D.IDENTITY, "The child to be protected")
    protector: PersonIdentity = classed(
        D.THIRD_PARTY_IDENTITY,
        "Person best placed to protect the child"
        " [CPSCP-Procedures, Information sharing > Child Sex Offender Disclosure Scheme]",
    )
    subject_person: PersonIdentity = classed(D.THIRD_PARTY_IDENTITY, "Person with access to the child")
    relevant_convictions: str | None = classed(
        D.CRIMINAL_CONVICTION, "Relevant sexual offence convictions", default=None, max_length=LONG_TEXT
    )
    disclosure_decision: str | None = classed(
        D.OPINION, "Police decision and reasons", default=None, max_length=LONG_TEXT
    )
