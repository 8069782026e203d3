"""Notification models of the message types added from the seed catalogue (M29, M18, M35, M32,
M26, M24, M23, M12, M21, M22, M31, M25): the envelope plus each type's payload. They join the
union in `schemas.notifications`, which documents the wire shape and the versioning.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import model_validator
from pydantic_core import PydanticCustomError

from schemas.common import EnvelopeFields
from schemas.payloads.advice import ADVISER_ROLES, AdviceRequestPayload
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
from schemas.payloads.notices import OffenderRiskInformationPayload, PoliceProtectionNoticePayload
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
    """M32 de-identified advice request; only advisers receive it."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.ADVICE_REQUEST]
    payload: AdviceRequestPayload

    @model_validator(mode="after")
    def _advisers_only(self) -> AdviceRequest:
        for i, recipient in enumerate(self.recipients):
            if recipient.role not in ADVISER_ROLES:
                raise PydanticCustomError(
                    "not_an_adviser",
                    "recipients[{i}].role '{role}' is not an adviser: an advice request goes to {roles}",
                    {"i": i, "role": recipient.role.value, "roles": ", ".join(sorted(ADVISER_ROLES))},
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
            raise PydanticCustomError(
                "late_reason_missing",
                "payload.late_reason is required: the referral is less than 6 months before the 18th birthday",
                {},
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
