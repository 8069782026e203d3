"""Payloads of concerns about who may harm a child: M29 child-on-child harm referral, M18
information about an adult who may pose a risk, and M35 the police telling a pupil's school of a
domestic-abuse incident the pupil was exposed to. Sources are cited as `KEY, Chapter > Section`
(keys in policies/SOURCES.md).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from schemas.fields import LONG_TEXT, SHORT_TEXT, PayloadModel, PersonIdentity, ProfessionalContact, classed
from schemas.vocab import DataClass as D

_RISK_TO_OTHERS = "DDSCP-RiskToOthers, 1. Introduction"
_POSING_RISK = "CPSCP-Procedures, Identification of Individuals who Pose a Risk to Children > Posing a Risk to Children"


class ChildOnChildHarmKind(StrEnum):
    """What the child who harmed did (the forms of abuse by children listed by the source).

    Source: DDSCP-RiskToOthers, 1. Introduction.
    """

    HARMFUL_SEXUAL_BEHAVIOUR = "harmful_sexual_behaviour"
    SEXUAL_VIOLENCE_OR_HARASSMENT = "sexual_violence_or_harassment"
    PHYSICAL_VIOLENCE = "physical_violence"
    SERIOUS_BULLYING = "serious_bullying"
    RELATIONSHIP_ABUSE = "relationship_abuse"
    YOUTH_PRODUCED_SEXUAL_IMAGERY = "youth_produced_sexual_imagery"
    SERIOUS_YOUTH_VIOLENCE_OR_GANG = "serious_youth_violence_or_gang"


class ConvictionStatus(StrEnum):
    """Whether the adult has a relevant conviction: information about an unconvicted adult needs
    legal advice per case (Bichard).

    Source: CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local
    Authority's Area to Another > Information Sharing In Special Circumstances.
    """

    CONVICTED = "convicted"
    NOT_CONVICTED = "not_convicted"


class DomesticAbuseExposure(StrEnum):
    """How the pupil was exposed to the incident: seeing, hearing or living with it, or caught up in it.

    Source: CPSCP-Procedures, Significant harm > Categories of Abuse and Neglect.
    """

    WITNESSED = "witnessed"
    HEARD = "heard"
    PRESENT_IN_HOME = "present_in_home"
    CAUGHT_UP_IN_INCIDENT = "caught_up_in_incident"


class ChildOnChildHarmReferralPayload(PayloadModel):
    """M29: a referral about a child who has harmed another child (or an adult).

    Both children are children in their own right: each is named, and CSC allocates separate
    social workers where possible. Source: DDSCP-RiskToOthers, 3. Responding to Concerns, including
    Referral to Children's Social Care; DDSCP-RiskToOthers, 4. Children's Social Care Response.
    """

    harm_kind: ChildOnChildHarmKind = classed(
        D.CASE_STATUS, f"What the child who harmed did [{_RISK_TO_OTHERS}]", policy_fact=True
    )
    harmed_child: PersonIdentity = classed(D.IDENTITY, "The child who was harmed")
    child_who_harmed: PersonIdentity = classed(D.IDENTITY, "The child alleged to have caused the harm")
    incident_account: str = classed(
        D.CONCERN_NARRATIVE, "What happened, when and where, and who said so", max_length=LONG_TEXT
    )
    harmed_child_location: str | None = classed(
        D.LOCATION_SAFETY, "Where the harmed child is now", default=None, max_length=SHORT_TEXT
    )
    sexual_behaviour_details: str | None = classed(
        D.SC_SEX_LIFE, "Details of the sexual behaviour or imagery", default=None, max_length=LONG_TEXT
    )
    injuries_and_health: str | None = classed(
        D.SC_HEALTH, "Injuries or health effects on the harmed child", default=None, max_length=LONG_TEXT
    )
    alleged_offence: str | None = classed(
        D.CRIMINAL_ALLEGATION, "The offence the behaviour may amount to", default=None, max_length=LONG_TEXT
    )
    victim_views: str | None = classed(
        D.VIEWS_WISHES,
        "The harmed child's experience of the behaviour and wishes [DDSCP-RiskToOthers, 3. Responding to"
        " Concerns, including Referral to Children's Social Care]",
        default=None,
        max_length=LONG_TEXT,
    )
    risk_to_others: str | None = classed(
        D.RISK_ASSESSMENT,
        "Risks to other children in the household, school, peer group (tool used, e.g. a traffic-light tool)",
        default=None,
        max_length=LONG_TEXT,
    )
    other_children_at_risk: list[PersonIdentity] | None = classed(
        D.THIRD_PARTY_IDENTITY, "Other children who may be at risk", default=None
    )
    interim_safety_measures: str | None = classed(
        D.CASE_STATUS, "What the setting has done meanwhile (e.g. separate classes)", default=None, max_length=LONG_TEXT
    )
    referrer: ProfessionalContact | None = classed(D.REFERRER_IDENTITY_PRO, "The referring professional", default=None)


class AdultRiskInformationPayload(PayloadModel):
    """M18: information about an adult who may pose a risk to children.

    Agencies supervising such people tell social care of the risk, where the person lives and which
    children they have contact with. Source: CPSCP-Procedures, Identification of Individuals who
    Pose a Risk to Children > 2. Management of Individuals who Pose a Risk of Harm to Children;
    CPSCP-Procedures, Transfer of Responsibility for Children Who Move from One Local Authority's
    Area to Another > Information Sharing In Special Circumstances.
    """

    conviction_status: ConvictionStatus = classed(
        D.CASE_STATUS, "Whether the adult has a relevant conviction", policy_fact=True
    )
    adult: PersonIdentity = classed(D.THIRD_PARTY_IDENTITY, "The adult who may pose a risk")
    risk_summary: str = classed(
        D.RISK_ASSESSMENT, f"The nature of the risk and the evidence for it [{_POSING_RISK}]", max_length=LONG_TEXT
    )
    children_in_contact: list[PersonIdentity] = classed(
        D.IDENTITY, "Children the adult lives with or has contact with", min_length=1
    )
    adult_address: str | None = classed(D.CONTACT_ADDRESS, "Where the adult lives", default=None, max_length=SHORT_TEXT)
    convictions: str | None = classed(D.CRIMINAL_CONVICTION, "Relevant convictions", default=None, max_length=LONG_TEXT)
    allegations_and_intelligence: str | None = classed(
        D.CRIMINAL_INTELLIGENCE,
        "Allegations from unconnected victims, acquittals or other intelligence",
        default=None,
        max_length=LONG_TEXT,
    )
    risk_tool_outcome: str | None = classed(
        D.RISK_ASSESSMENT,
        f"Outcome of a risk assessment tool (e.g. OASys, Risk Matrix 2000) [{_POSING_RISK}]",
        default=None,
        max_length=SHORT_TEXT,
    )
    grooming_evidence: str | None = classed(
        D.CRIMINAL_ALLEGATION, "Any evidence of grooming (raises the assessed risk)", default=None, max_length=LONG_TEXT
    )
    line_manager_consulted: bool = classed(
        D.CASE_ADMIN, f"The line manager was consulted and the assessment recorded [{_POSING_RISK}]"
    )


class DomesticAbuseSchoolNotificationPayload(PayloadModel):
    """M35: police tell a pupil's school DSL, before the next school day, that the pupil was exposed to
    a domestic-abuse incident, so staff can support the child. The DSL gets the minimum: who, when,
    how exposed and whom to call; incident details, the alleged perpetrator and where the adult
    victim is staying travel only to agencies the policy pack allows.

    Source: CPSCP-Procedures, Significant harm > Categories of Abuse and Neglect ("Children can be
    affected by seeing, hearing and living with domestic violence and abuse"); IOW-DA-Perpetrators,
    Engaging Parents who are Perpetrators of Domestic Abuse in Child Protection Processes > What is
    Domestic Abuse? (children are victims in their own right).
    """

    exposure: DomesticAbuseExposure = classed(D.CASE_STATUS, "How the pupil was exposed", policy_fact=True)
    pupil: PersonIdentity = classed(D.IDENTITY, "The pupil")
    incident_at: datetime = classed(D.CASE_ADMIN, "When the incident happened")
    police_reference: str = classed(D.CASE_ADMIN, "Police incident reference", max_length=64)
    officer_contact: ProfessionalContact | None = classed(
        D.REFERRER_IDENTITY_PRO, "The officer or police safeguarding contact", default=None
    )
    incident_summary: str | None = classed(
        D.DA_INFO, "What happened (not for the school)", default=None, max_length=LONG_TEXT
    )
    alleged_perpetrator: str | None = classed(
        D.CRIMINAL_ALLEGATION,
        "Who is alleged to have been abusive (not for the school)",
        default=None,
        max_length=LONG_TEXT,
    )
    victim_location: str | None = classed(
        D.LOCATION_SAFETY,
        "Where the adult victim and pupil are staying (not for the school)",
        default=None,
        max_length=SHORT_TEXT,
    )
