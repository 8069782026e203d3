"""Payloads of risks around a family: M27 pre-birth concern or neonatal pre-discharge notice, M28
case closure notice from an adult service, M30 dog injury referral or prohibited dog report and M34
multi-agency response to a young person's serious suicide attempt or death. A pair of the catalogue
is one type whose `stage` says which half it is. Sources are cited as `KEY, Chapter > Section`
(keys in policies/SOURCES.md).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import model_validator

from schemas.fields import LONG_TEXT, SHORT_TEXT, PayloadModel, PersonIdentity, ProfessionalContact, classed
from schemas.locations import stage_fields_missing
from schemas.vocab import DataClass as D

_PREBIRTH = "CPSCP-Procedures, Child and family assessment > 1.1 Pre-birth 'Good Practice Steps'"
_CLOSURE = "CPSCP-Procedures, Misuse of substances > 4. Protection and Action to be Taken"
_DOGS = "CPSCP-Procedures, Dangerous dogs > Dangerous Dogs"
_SUICIDE = (
    "CPSCP-Procedures, Suicide > 2. Triggering a multi-agency response in the serious suicide attempt or death of a "
    "young person from suicide"
)


class PrebirthStage(StrEnum):
    """A concern about an unborn baby, or a newborn's discharge that needs a plan first."""

    PREBIRTH_CONCERN = "prebirth_concern"
    NEONATAL_PREDISCHARGE = "neonatal_predischarge"


class ClosingService(StrEnum):
    """The adult service ending its involvement with a parent or carer."""

    SUBSTANCE_MISUSE = "substance_misuse"
    ADULT_MENTAL_HEALTH = "adult_mental_health"


class DogReportStage(StrEnum):
    """A child injured by a dog (referred on the criteria), or a prohibited dog (police at once)."""

    INJURY_REFERRAL = "injury_referral"
    PROHIBITED_DOG = "prohibited_dog"


class SuicideStage(StrEnum):
    """A serious attempt (children's social care leads), a death (health leads the child death review
    information-sharing meeting), or the record of either meeting, which the review follows."""

    SERIOUS_ATTEMPT = "serious_attempt"
    DEATH = "death"
    MEETING_RECORD = "meeting_record"


class PrebirthConcernPayload(PayloadModel):
    """M27: an agency that meets a pregnant woman whose circumstances put the baby at risk of
    significant harm (substance misuse, domestic abuse, mental ill health) refers to children's social
    care; the assessment starts at once and is completed at least 4 weeks before the expected delivery
    date [CPSCP-Procedures, Child and family assessment > 1.1 Pre-birth 'Good Practice Steps';
    CPSCP-Procedures, Misuse of substances > 4. Protection and Action to be Taken]."""

    stage: PrebirthStage = classed(D.CASE_STATUS, "Pre-birth concern or neonatal pre-discharge", policy_fact=True)
    expectant_parent: PersonIdentity = classed(D.IDENTITY, "The pregnant woman or mother")
    expected_delivery_date: date = classed(D.CASE_ADMIN, f"Due date (assessment 4 weeks before) [{_PREBIRTH}]")
    concern: str = classed(D.CONCERN_NARRATIVE, "Why the baby may suffer significant harm", max_length=LONG_TEXT)
    parental_health: str | None = classed(
        D.SC_HEALTH, "Substance misuse or mental ill health affecting parenting", default=None, max_length=LONG_TEXT
    )
    domestic_abuse: str | None = classed(
        D.DA_INFO, "Domestic abuse in the household", default=None, max_length=LONG_TEXT
    )
    baby: PersonIdentity | None = classed(D.IDENTITY, "The newborn (at stage neonatal_predischarge)", default=None)
    hospital_and_ward: str | None = classed(
        D.SERVICE_USE, "Where mother and baby are before discharge", default=None, max_length=SHORT_TEXT
    )
    home_address: str | None = classed(D.CONTACT_ADDRESS, "The family's address", default=None, max_length=SHORT_TEXT)
    referrer: ProfessionalContact = classed(D.REFERRER_IDENTITY_PRO, "The referring professional (midwife, say)")


class CaseClosureNoticePayload(PayloadModel):
    """M28: before an adult service closes its involvement with a parent, it discusses the plan with the
    other services working with the family and considers telling children's social care
    [CPSCP-Procedures, Misuse of substances > 4. Protection and Action to be Taken; CPSCP-Procedures,
    Parents > 7. Contingency Planning]."""

    service: ClosingService = classed(D.SERVICE_USE, f"The closing service [{_CLOSURE}]", policy_fact=True)
    parent: PersonIdentity = classed(D.IDENTITY, "The parent or carer whose case closes")
    children: list[PersonIdentity] = classed(D.IDENTITY, "The children living with them", min_length=1)
    closing_on: date = classed(D.CASE_ADMIN, "The planned closure date")
    reason_for_closure: str = classed(D.CASE_STATUS, "Why the service ends", max_length=LONG_TEXT)
    implications_for_children: str = classed(
        D.RISK_ASSESSMENT, "What closure means for the children's safety", max_length=LONG_TEXT
    )
    treatment_summary: str | None = classed(
        D.SC_HEALTH, "Treatment and current state of the parent's health", default=None, max_length=LONG_TEXT
    )
    worker: ProfessionalContact = classed(D.REFERRER_IDENTITY_PRO, "The closing worker")


class DogInjuryReferralPayload(PayloadModel):
    """M30: a child injured by a dog is referred on the partnership's criteria; a prohibited dog is
    reported to the police immediately [CPSCP-Procedures, Dangerous dogs > Dangerous Dogs;
    CPSCP-Procedures, Dangerous dogs > Practitioner Guidance]."""

    stage: DogReportStage = classed(D.CASE_STATUS, f"Injury referral or prohibited dog [{_DOGS}]", policy_fact=True)
    dog: str = classed(D.CASE_STATUS, "The dog's name, breed or type and size", max_length=SHORT_TEXT)
    address: str = classed(D.CONTACT_ADDRESS, "Where the dog is kept", max_length=SHORT_TEXT)
    circumstances: str = classed(D.CONCERN_NARRATIVE, "What happened or what was seen", max_length=LONG_TEXT)
    child: PersonIdentity | None = classed(D.IDENTITY, "The child injured or at risk", default=None)
    injury: str | None = classed(
        D.SC_HEALTH, "The injury and treatment (at stage injury_referral)", default=None, max_length=LONG_TEXT
    )
    owner: str | None = classed(D.THIRD_PARTY_IDENTITY, "The dog's owner", default=None, max_length=SHORT_TEXT)
    risk_factors: str | None = classed(
        D.RISK_ASSESSMENT, "Answers to the practitioner risk-factor questions", default=None, max_length=LONG_TEXT
    )
    referrer: ProfessionalContact = classed(D.REFERRER_IDENTITY_PRO, "Who reports")

    @model_validator(mode="after")
    def _injury_needs_child(self) -> DogInjuryReferralPayload:
        if self.stage is DogReportStage.INJURY_REFERRAL:
            missing = [name for name in ("child", "injury") if getattr(self, name) in (None, "")]
            if missing:
                raise stage_fields_missing(self.stage, missing)
        return self


class SuicideResponsePayload(PayloadModel):
    """M34: after a young person's serious suicide attempt children's social care holds a multi-agency
    discussion with the school invited; after a death by suicide health leads a child death review
    information-sharing meeting within 5 working days; provision is reviewed at 4 weeks
    [CPSCP-Procedures, Suicide > 2. Triggering a multi-agency response in the serious suicide attempt or
    death of a young person from suicide]."""

    stage: SuicideStage = classed(D.CASE_STATUS, f"Attempt, death or meeting record [{_SUICIDE}]", policy_fact=True)
    young_person: PersonIdentity = classed(D.IDENTITY, "The young person")
    event_at: datetime = classed(D.CASE_ADMIN, "When the attempt or death happened")
    school: str = classed(D.SERVICE_USE, "The school or college attended", max_length=SHORT_TEXT)
    meeting_at: datetime | None = classed(D.CASE_ADMIN, "When the discussion or meeting is held", default=None)
    circumstances: str | None = classed(D.CONCERN_NARRATIVE, "What is known so far", default=None, max_length=LONG_TEXT)
    mental_health_history: str | None = classed(
        D.SC_HEALTH, "Known mental-health history", default=None, max_length=LONG_TEXT
    )
    siblings: list[PersonIdentity] | None = classed(D.THIRD_PARTY_IDENTITY, "Siblings to safeguard", default=None)
    risks_to_others: str | None = classed(
        D.RISK_ASSESSMENT,
        "Initial analysis of risk to other pupils (proximity vulnerability)",
        default=None,
        max_length=LONG_TEXT,
    )
    actions_agreed: str | None = classed(
        D.CASE_STATUS,
        "Liaison points, support offered and the review date (meeting record)",
        default=None,
        max_length=LONG_TEXT,
    )
    lead_coordinator: ProfessionalContact | None = classed(
        D.REFERRER_IDENTITY_PRO, "The school's single point of liaison", default=None
    )
