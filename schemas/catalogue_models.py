"""Notification models of the message types added from the seed catalogue (M29, M18, M35, M32,
M26, M24, M23, M12, M21, M22, M31, M25,
M04, M05, M07, M08, M09, M10, M27, M28, M30, M33, M34): the envelope plus each type's payload. They join the
union in `schemas.notifications`, which documents the wire shape and the versioning.
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from typing import Literal

from pydantic import model_validator

from schemas.common import EnvelopeFields
from schemas.locations import misplaced
from schemas.payloads.advice import ADVISER_ROLES, AdviceRequestPayload, AdviceStage
from schemas.payloads.casework import (
    EarlyHelpAssessmentSharePayload,
    HospitalDischargeHoldPayload,
    OsmanWarningReferralPayload,
    TransitionReferralPayload,
)
from schemas.payloads.concerns import (
    AdultRiskInformationPayload,
    ChildOnChildHarmReferralPayload,
    DomesticAbuseSchoolNotificationPayload,
)
from schemas.payloads.exploitation import NrmReferralPayload, RadicalisationConcernPayload
from schemas.payloads.family_risks import (
    CaseClosureNoticePayload,
    DogInjuryReferralPayload,
    PrebirthConcernPayload,
    SuicideResponsePayload,
)
from schemas.payloads.followups import (
    AdditionalInformationPayload,
    CrimeNotificationPayload,
    EscalationGround,
    ProfessionalDisagreementPayload,
)
from schemas.payloads.notices import OffenderRiskInformationPayload, PoliceProtectionNoticePayload
from schemas.payloads.proceedings import (
    AssessmentOutcomePayload,
    CpConferencePayload,
    PlanReviewNoticePayload,
    S47EnquiryPayload,
)
from schemas.vocab import MessageType

SchemaVersion = Literal["1.0"]


class ChildOnChildHarmReferral(EnvelopeFields):
    """M29 referral about a child who has harmed another child."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.CHILD_ON_CHILD_HARM_REFERRAL]
    payload: ChildOnChildHarmReferralPayload


class AdultRiskInformation(EnvelopeFields):
    """M18 information about an adult who may pose a risk to children."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.ADULT_RISK_INFORMATION]
    payload: AdultRiskInformationPayload


class DomesticAbuseSchoolNotification(EnvelopeFields):
    """M35 police notice to a pupil's school of a domestic-abuse incident."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.DOMESTIC_ABUSE_SCHOOL_NOTIFICATION]
    payload: DomesticAbuseSchoolNotificationPayload


class AdviceRequest(EnvelopeFields):
    """M32 de-identified advice request; only advisers receive a question, the answer goes back."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.ADVICE_REQUEST]
    payload: AdviceRequestPayload

    @model_validator(mode="after")
    def _advisers_only(self) -> AdviceRequest:
        if self.payload.stage is AdviceStage.ADVICE_GIVEN:
            return self  # the adviser's answer goes back to whoever asked
        for i, recipient in enumerate(self.recipients):
            if recipient.role not in ADVISER_ROLES:
                raise misplaced(
                    "not_an_adviser",
                    "recipients[{i}].role '{role}' is not an adviser: an advice request goes to {roles}",
                    ("recipients", i, "role"),
                    i=i,
                    role=recipient.role.value,
                    roles=", ".join(sorted(ADVISER_ROLES)),
                )
        return self


class EarlyHelpAssessmentShare(EnvelopeFields):
    """M26 Early Help Assessment shared with the agencies the family chose."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.EARLY_HELP_ASSESSMENT_SHARE]
    payload: EarlyHelpAssessmentSharePayload


class HospitalDischargeHold(EnvelopeFields):
    """M24 hospital holds a child's discharge over child protection concerns."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.HOSPITAL_DISCHARGE_HOLD]
    payload: HospitalDischargeHoldPayload


class OsmanWarningReferral(EnvelopeFields):
    """M23 police referral after an Osman (threat to life) warning."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.OSMAN_WARNING_REFERRAL]
    payload: OsmanWarningReferralPayload


class TransitionToAdultServices(EnvelopeFields):
    """M12 referral to adult services at least 6 months before the 18th birthday."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.TRANSITION_TO_ADULT_SERVICES]
    payload: TransitionReferralPayload

    @model_validator(mode="after")
    def _late_needs_a_reason(self) -> TransitionToAdultServices:
        birthday = self.payload.eighteenth_birthday
        # Six calendar months before the birthday (day clamped to 28 so every month has it).
        months = birthday.year * 12 + birthday.month - 1 - 6
        deadline = date(months // 12, months % 12 + 1, min(birthday.day, 28))
        if self.created_at.date() > deadline and not self.payload.late_reason:
            raise misplaced(
                "late_reason_missing",
                "payload.late_reason is required: the referral is less than 6 months before the 18th birthday",
                ("payload", "late_reason"),
            )
        return self


class NrmReferral(EnvelopeFields):
    """M21 National Referral Mechanism referral (duty to notify)."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.NRM_REFERRAL]
    payload: NrmReferralPayload


class RadicalisationConcern(EnvelopeFields):
    """M22 radicalisation concern (Prevent / Channel)."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.RADICALISATION_CONCERN]
    payload: RadicalisationConcernPayload


class OffenderRiskInformation(EnvelopeFields):
    """M31 offender risk information (MAPPA, probation, prison, youth offending)."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.OFFENDER_RISK_INFORMATION]
    payload: OffenderRiskInformationPayload


class PoliceProtectionNotice(EnvelopeFields):
    """M25 police emergency protection notice."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.POLICE_PROTECTION_NOTICE]
    payload: PoliceProtectionNoticePayload


class AdditionalInformation(EnvelopeFields):
    """M04 new or additional information for a child's allocated social worker."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.ADDITIONAL_INFORMATION]
    payload: AdditionalInformationPayload


class CrimeNotification(EnvelopeFields):
    """M05 the police told that a crime may have been committed against a child."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.CRIME_NOTIFICATION]
    payload: CrimeNotificationPayload


class S47Enquiry(EnvelopeFields):
    """M07 section 47 enquiry notice or outcome (`stage`)."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.S47_ENQUIRY]
    payload: S47EnquiryPayload


class CpConference(EnvelopeFields):
    """M08 child protection conference invitation or agency report (`stage`)."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.CP_CONFERENCE]
    payload: CpConferencePayload


class AssessmentOutcome(EnvelopeFields):
    """M09 outcome of a child and family assessment."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.ASSESSMENT_OUTCOME]
    payload: AssessmentOutcomePayload


class PlanReviewNotice(EnvelopeFields):
    """M10 plan review notice to the core group or team around the family."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.PLAN_REVIEW_NOTICE]
    payload: PlanReviewNoticePayload


class PrebirthConcern(EnvelopeFields):
    """M27 pre-birth concern or neonatal pre-discharge notice (`stage`)."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.PREBIRTH_CONCERN]
    payload: PrebirthConcernPayload


class CaseClosureNotice(EnvelopeFields):
    """M28 an adult service tells the family's other services it is closing."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.CASE_CLOSURE_NOTICE]
    payload: CaseClosureNoticePayload


class DogInjuryReferral(EnvelopeFields):
    """M30 dog injury referral or prohibited dog report (`stage`)."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.DOG_INJURY_REFERRAL]
    payload: DogInjuryReferralPayload


class ProfessionalDisagreement(EnvelopeFields):
    """M33 professional disagreement escalation about a referral decision."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.PROFESSIONAL_DISAGREEMENT]
    payload: ProfessionalDisagreementPayload

    @model_validator(mode="after")
    def _no_decision_takes_three_working_days(self) -> ProfessionalDisagreement:
        # "No decision after 3 working days" cannot be true sooner, and the escalation starts children's
        # social care's clock to answer it. Weekdays are counted: the partnership's bank holidays only
        # lengthen the wait, so what this refuses is too early under any calendar.
        payload = self.payload
        if payload.ground is not EscalationGround.NO_DECISION_AFTER_3_WD:
            return self
        if weekdays_after(payload.referred_at.astimezone(UTC).date(), self.created_at.astimezone(UTC).date()) < 3:
            raise misplaced(
                "escalation_too_early",
                "payload.referred_at is fewer than 3 working days before created_at, so the ground "
                "'no_decision_after_3_wd' cannot hold yet: wait, or give the ground 'disagrees_with_decision'",
                ("payload", "referred_at"),
            )
        return self


def weekdays_after(start: date, end: date) -> int:
    """Monday to Friday dates after `start`, up to and including `end` (3 at most: that is all asked)."""
    days = (start + timedelta(days=n) for n in range(1, min((end - start).days, 7) + 1))
    return min(sum(1 for day in days if day.weekday() < 5), 3)


class SuicideResponse(EnvelopeFields):
    """M34 multi-agency response to a serious suicide attempt or a death (`stage`)."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.SUICIDE_RESPONSE]
    payload: SuicideResponsePayload
