"""Payloads of adult and domestic-abuse protection: M11 adult referral, M13 MARAC, M14 LADO,
M15 DVDS and M16 CSOD (domain.md §6.2).

DVDS and CSOD disclosures go to private individuals in person; the broker only carries the
agency request and the police decision between agencies, never the disclosure to the public
(domain.md §6.2 M15 "Broker note", I10).
"""

from __future__ import annotations

from enum import StrEnum

from schemas.fields import LONG_TEXT, SHORT_TEXT, PayloadModel, PersonIdentity, ProfessionalContact, classed
from schemas.vocab import DataClass as D


class DisclosureStage(StrEnum):
    """Where a DVDS/CSOD case is: the agency's request, or the police decision on it."""

    AGENCY_REQUEST = "agency_request"
    POLICE_DECISION = "police_decision"


class DvdsRoute(StrEnum):
    RIGHT_TO_ASK = "right_to_ask"
    RIGHT_TO_KNOW = "right_to_know"


class AdultSafeguardingReferralPayload(PayloadModel):
    """M11: Care Act s42 criteria, all three [000 L66-69]."""

    adult: PersonIdentity = classed(D.IDENTITY, "The adult at risk")
    care_and_support_needs: str = classed(
        D.SC_HEALTH, "(a) the adult's care and support needs", max_length=LONG_TEXT
    )
    abuse_or_neglect: str = classed(
        D.CONCERN_NARRATIVE, "(b) the abuse or neglect experienced or risked", max_length=LONG_TEXT
    )
    unable_to_protect_self: bool = classed(
        D.RISK_ASSESSMENT, "(c) cannot protect themselves because of those needs"
    )
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
    """M13: high-risk domestic abuse referral to MARAC [002 L2191-2192; 000 L82]."""

    victim: PersonIdentity = classed(D.IDENTITY, "The adult victim")
    dash_summary: str = classed(
        D.DA_INFO, "DASH risk checklist outcome and key answers", max_length=LONG_TEXT
    )
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
    referrer: ProfessionalContact | None = classed(
        D.REFERRER_IDENTITY_PRO, "Referring professional", default=None
    )


class LadoAllegationPayload(PayloadModel):
    """M14: allegation against a person who works with children [002 L2015-2090]."""

    person_subject_of_allegation: PersonIdentity = classed(D.IDENTITY, "The adult the allegation is about")
    job_and_setting: str = classed(
        D.SERVICE_USE, "Their role and where they work with children", max_length=SHORT_TEXT
    )
    allegation_account: str = classed(
        D.CRIMINAL_ALLEGATION,
        "What was said, in the child's own words where possible [002 L2077]",
        max_length=LONG_TEXT,
    )
    child: PersonIdentity | None = classed(D.IDENTITY, "The child concerned", default=None)
    child_health_impact: str | None = classed(
        D.SC_HEALTH, "Injuries or effects on the child", default=None, max_length=LONG_TEXT
    )
    witnesses: list[PersonIdentity] | None = classed(D.THIRD_PARTY_IDENTITY, "Witnesses", default=None)
    works_with_children_elsewhere: bool | None = classed(
        D.CASE_STATUS, "Whether they work with children in another area [002 L4419]", default=None
    )
    dsm_record_signed: bool = classed(D.CASE_ADMIN, "Record signed and dated by the DSM [002 L2080-2086]")


class DvdsDisclosurePayload(PayloadModel):
    """M15: Domestic Violence Disclosure Scheme request or police decision [002 L1973-1978]."""

    stage: DisclosureStage = classed(D.CASE_STATUS, "Request or police decision", policy_fact=True)
    route: DvdsRoute = classed(
        D.CASE_STATUS, "Right to ask or right to know [002 L1975-1976]", policy_fact=True
    )
    person_at_risk: PersonIdentity = classed(D.IDENTITY, "The person who may be at risk")
    subject_person: PersonIdentity = classed(D.THIRD_PARTY_IDENTITY, "The partner the request is about")
    person_at_risk_location: str | None = classed(
        D.LOCATION_SAFETY, "Where the person at risk can be safely seen", default=None, max_length=SHORT_TEXT
    )
    relevant_convictions: str | None = classed(
        D.CRIMINAL_CONVICTION,
        "Convictions for violent offences [002 L1977]",
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
    """M16: Child Sex Offender Disclosure Scheme application or decision [002 L1979-1987]."""

    stage: DisclosureStage = classed(D.CASE_STATUS, "Application or police decision", policy_fact=True)
    child: PersonIdentity = classed(D.IDENTITY, "The child to be protected")
    protector: PersonIdentity = classed(
        D.THIRD_PARTY_IDENTITY, "Person best placed to protect the child [002 L1981]"
    )
    subject_person: PersonIdentity = classed(D.THIRD_PARTY_IDENTITY, "Person with access to the child")
    relevant_convictions: str | None = classed(
        D.CRIMINAL_CONVICTION, "Relevant sexual offence convictions", default=None, max_length=LONG_TEXT
    )
    disclosure_decision: str | None = classed(
        D.OPINION, "Police decision and reasons", default=None, max_length=LONG_TEXT
    )
