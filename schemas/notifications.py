"""Versioned notification models: one per (message type, schema version), one discriminated union.

Wire shape: the common envelope (`schemas.common.EnvelopeFields`) plus `message_type` (a
`MessageType` value, e.g. "safeguarding_referral" for catalogue id M01) and a typed `payload`.
The union discriminates on `message_type` and `schema_version` together (`union_tag`), so a
breaking change to one type adds a new model with its own version beside the old one: a
`(message_type, schema_version)` entry in `NOTIFICATION_MODELS`, a member of `Notification`
tagged `union_tag(type, version)`, and the version in the type's `schema_versions` in the policy
pack. `notification_union(models)` builds the same union over any set of models.

`parse_notification_json` (a request body, strict) and `parse_notification` (Python data) raise
`pydantic.ValidationError`; the first element of each error's `loc`
is the union tag: the message type for version 1.0 (e.g.
`('safeguarding_referral', 'payload', 'child', 'given_name')`), `type@version` for later versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import Discriminator, GetJsonSchemaHandler, Tag, TypeAdapter, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from schemas.catalogue_models import (
    AdditionalInformation,
    AdultRiskInformation,
    AdviceRequest,
    AssessmentOutcome,
    CaseClosureNotice,
    ChildOnChildHarmReferral,
    CpConference,
    CrimeNotification,
    DogInjuryReferral,
    DomesticAbuseSchoolNotification,
    EarlyHelpAssessmentShare,
    HospitalDischargeHold,
    NrmReferral,
    OffenderRiskInformation,
    OsmanWarningReferral,
    PlanReviewNotice,
    PoliceProtectionNotice,
    PrebirthConcern,
    ProfessionalDisagreement,
    RadicalisationConcern,
    S47Enquiry,
    SuicideResponse,
    TransitionToAdultServices,
)
from schemas.common import EnvelopeFields, Subject
from schemas.fields import PayloadModel
from schemas.locations import misplaced
from schemas.payloads.events import (
    ChildDeathNotificationPayload,
    ChildDeathType,
    ChildMoveTransferPayload,
    MissingChildPayload,
)
from schemas.payloads.protection import (
    AdultSafeguardingReferralPayload,
    CsodDisclosurePayload,
    DvdsDisclosurePayload,
    LadoAllegationPayload,
    MaracReferralPayload,
)
from schemas.payloads.referrals import (
    ReferralAcknowledgementPayload,
    ReferralOutcomePayload,
    SafeguardingReferralPayload,
    StrategyDiscussionRequestPayload,
)
from schemas.vocab import DataClass, MessageType, SubjectRole

SCHEMA_VERSION = "1.0"
SchemaVersion = Literal["1.0"]


class SafeguardingReferral(EnvelopeFields):
    """M01 safeguarding referral to children's social care."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.SAFEGUARDING_REFERRAL]
    payload: SafeguardingReferralPayload


class ReferralAcknowledgement(EnvelopeFields):
    """M02 acknowledgement of a referral."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.REFERRAL_ACKNOWLEDGEMENT]
    payload: ReferralAcknowledgementPayload


class ReferralOutcome(EnvelopeFields):
    """M03 referral decision and outcome."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.REFERRAL_OUTCOME]
    payload: ReferralOutcomePayload


class StrategyDiscussionRequest(EnvelopeFields):
    """M06 strategy discussion / meeting request."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.STRATEGY_DISCUSSION_REQUEST]
    payload: StrategyDiscussionRequestPayload


class AdultSafeguardingReferral(EnvelopeFields):
    """M11 adult safeguarding referral."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.ADULT_SAFEGUARDING_REFERRAL]
    payload: AdultSafeguardingReferralPayload


class MaracReferral(EnvelopeFields):
    """M13 MARAC referral."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.MARAC_REFERRAL]
    payload: MaracReferralPayload


class LadoAllegation(EnvelopeFields):
    """M14 allegation against a person working with children."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.LADO_ALLEGATION]
    payload: LadoAllegationPayload


class DvdsDisclosure(EnvelopeFields):
    """M15 DVDS (Clare's Law) request or police decision."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.DVDS_DISCLOSURE]
    payload: DvdsDisclosurePayload


class CsodDisclosure(EnvelopeFields):
    """M16 CSOD application or police decision."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.CSOD_DISCLOSURE]
    payload: CsodDisclosurePayload


class ChildMoveTransfer(EnvelopeFields):
    """M17 child moving between local authorities."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.CHILD_MOVE_TRANSFER]
    payload: ChildMoveTransferPayload


class ChildDeathNotification(EnvelopeFields):
    """M19 child death notification."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.CHILD_DEATH_NOTIFICATION]
    payload: ChildDeathNotificationPayload

    @model_validator(mode="after")
    def _category_fits_the_stated_age(self) -> ChildDeathNotification:
        # why: the payload checks SUDI and SUDC against a date of birth; where none is given, the deceased
        # child's age in whole years says the same, 0 being under 12 months [CPSCP-Procedures, Child death >
        # 1.5 Definitions]. The category chooses who is told and how, so a mistyped one must not pass.
        death_type = self.payload.death_type
        if self.payload.child.date_of_birth is not None or death_type not in (ChildDeathType.SUDI, ChildDeathType.SUDC):
            return self
        for i, subject in _the_child_who_died(self.subjects):
            fits = ChildDeathType.SUDI if subject.age_years == 0 else ChildDeathType.SUDC
            if death_type is not fits:
                raise misplaced(
                    "death_type_age",
                    "payload.death_type '{given}' does not fit a child {aged} at death "
                    "(subjects[{i}].age_years): it is '{fits}'",
                    ("payload", "death_type"),
                    given=death_type.value,
                    aged="under 12 months" if fits is ChildDeathType.SUDI else f"aged {subject.age_years}",
                    i=i,
                    fits=fits.value,
                )
        return self


def _the_child_who_died(subjects: list[Subject]) -> list[tuple[int, Subject]]:
    """The subjects with an age who are the child who died: those recorded as such, else the one child, as a
    notification sent by hand names the child it is about (a second child is another child, not them)."""
    died = [(i, s) for i, s in enumerate(subjects) if s.role_in_case is SubjectRole.DECEASED_CHILD]
    if not died:
        children = [(i, s) for i, s in enumerate(subjects) if s.role_in_case is SubjectRole.CHILD]
        died = children if len(children) == 1 else []
    return [(i, s) for i, s in died if s.age_years is not None]


class MissingChild(EnvelopeFields):
    """M20 missing child notice."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.MISSING_CHILD]
    payload: MissingChildPayload


NOTIFICATION_MODELS: dict[tuple[MessageType, str], type[EnvelopeFields]] = {
    (MessageType.SAFEGUARDING_REFERRAL, SCHEMA_VERSION): SafeguardingReferral,
    (MessageType.REFERRAL_ACKNOWLEDGEMENT, SCHEMA_VERSION): ReferralAcknowledgement,
    (MessageType.REFERRAL_OUTCOME, SCHEMA_VERSION): ReferralOutcome,
    (MessageType.STRATEGY_DISCUSSION_REQUEST, SCHEMA_VERSION): StrategyDiscussionRequest,
    (MessageType.ADULT_SAFEGUARDING_REFERRAL, SCHEMA_VERSION): AdultSafeguardingReferral,
    (MessageType.MARAC_REFERRAL, SCHEMA_VERSION): MaracReferral,
    (MessageType.LADO_ALLEGATION, SCHEMA_VERSION): LadoAllegation,
    (MessageType.DVDS_DISCLOSURE, SCHEMA_VERSION): DvdsDisclosure,
    (MessageType.CSOD_DISCLOSURE, SCHEMA_VERSION): CsodDisclosure,
    (MessageType.CHILD_MOVE_TRANSFER, SCHEMA_VERSION): ChildMoveTransfer,
    (MessageType.CHILD_DEATH_NOTIFICATION, SCHEMA_VERSION): ChildDeathNotification,
    (MessageType.MISSING_CHILD, SCHEMA_VERSION): MissingChild,
    (MessageType.CHILD_ON_CHILD_HARM_REFERRAL, SCHEMA_VERSION): ChildOnChildHarmReferral,
    (MessageType.ADULT_RISK_INFORMATION, SCHEMA_VERSION): AdultRiskInformation,
    (MessageType.DOMESTIC_ABUSE_SCHOOL_NOTIFICATION, SCHEMA_VERSION): DomesticAbuseSchoolNotification,
    (MessageType.ADVICE_REQUEST, SCHEMA_VERSION): AdviceRequest,
    (MessageType.EARLY_HELP_ASSESSMENT_SHARE, SCHEMA_VERSION): EarlyHelpAssessmentShare,
    (MessageType.HOSPITAL_DISCHARGE_HOLD, SCHEMA_VERSION): HospitalDischargeHold,
    (MessageType.OSMAN_WARNING_REFERRAL, SCHEMA_VERSION): OsmanWarningReferral,
    (MessageType.TRANSITION_TO_ADULT_SERVICES, SCHEMA_VERSION): TransitionToAdultServices,
    (MessageType.NRM_REFERRAL, SCHEMA_VERSION): NrmReferral,
    (MessageType.RADICALISATION_CONCERN, SCHEMA_VERSION): RadicalisationConcern,
    (MessageType.OFFENDER_RISK_INFORMATION, SCHEMA_VERSION): OffenderRiskInformation,
    (MessageType.POLICE_PROTECTION_NOTICE, SCHEMA_VERSION): PoliceProtectionNotice,
    (MessageType.ADDITIONAL_INFORMATION, SCHEMA_VERSION): AdditionalInformation,
    (MessageType.CRIME_NOTIFICATION, SCHEMA_VERSION): CrimeNotification,
    (MessageType.S47_ENQUIRY, SCHEMA_VERSION): S47Enquiry,
    (MessageType.CP_CONFERENCE, SCHEMA_VERSION): CpConference,
    (MessageType.ASSESSMENT_OUTCOME, SCHEMA_VERSION): AssessmentOutcome,
    (MessageType.PLAN_REVIEW_NOTICE, SCHEMA_VERSION): PlanReviewNotice,
    (MessageType.PREBIRTH_CONCERN, SCHEMA_VERSION): PrebirthConcern,
    (MessageType.CASE_CLOSURE_NOTICE, SCHEMA_VERSION): CaseClosureNotice,
    (MessageType.DOG_INJURY_REFERRAL, SCHEMA_VERSION): DogInjuryReferral,
    (MessageType.PROFESSIONAL_DISAGREEMENT, SCHEMA_VERSION): ProfessionalDisagreement,
    (MessageType.SUICIDE_RESPONSE, SCHEMA_VERSION): SuicideResponse,
}


def newest_model(message_type: str) -> tuple[str, type[EnvelopeFields]] | None:
    """This type's newest schema version and its model, if the contract has the type: what a page names
    a type's fields and their data classes by, as the log keeps no version."""
    versions = sorted(
        ((version, model) for (kind, version), model in NOTIFICATION_MODELS.items() if kind.value == message_type),
        key=lambda pair: tuple(int(p) for p in pair[0].split(".") if p.isdigit()),
    )
    return versions[-1] if versions else None


def union_tag(message_type: str, schema_version: str) -> str:
    """The union tag of one (type, version): the bare type for 1.0 (so the paths of v1 errors keep
    their first element), `type@version` for every later version."""
    return message_type if schema_version == SCHEMA_VERSION else f"{message_type}@{schema_version}"


def _discriminate(value: Any) -> str | None:
    """Tag of a raw body or a model: from `message_type` and `schema_version` together."""
    if isinstance(value, dict):
        kind, version = value.get("message_type"), value.get("schema_version")
    else:
        kind, version = getattr(value, "message_type", None), getattr(value, "schema_version", None)
    if not isinstance(kind, str) or not isinstance(version, str):
        return None
    return union_tag(kind, version)


class _MessageTypeMapping:
    """Documents the union for OpenAPI readers: while every message type has one version in the
    union, `message_type` alone names the model, so the schema carries that discriminator mapping.
    (OpenAPI cannot map a pair of properties; with two versions of a type the mapping is left out.)"""

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        mapping: dict[str, str] = {}
        for member in schema.get("oneOf", []):
            kind = handler.resolve_ref_schema(member).get("properties", {}).get("message_type", {}).get("const")
            if not isinstance(kind, str) or kind in mapping or "$ref" not in member:
                return schema
            mapping[kind] = member["$ref"]
        if mapping:
            schema["discriminator"] = {"propertyName": "message_type", "mapping": mapping}
        return schema


def notification_union(models: Mapping[tuple[MessageType, str], type[EnvelopeFields]]) -> Any:
    """A union over `models` discriminated on (message_type, schema_version), so a v2 of a type
    sits beside its v1."""
    members = tuple(Annotated[model, Tag(union_tag(kind.value, version))] for (kind, version), model in models.items())
    return Annotated[Union[members], Discriminator(_discriminate), _MessageTypeMapping()]  # noqa: UP007


# Every v1.0 model is tagged with its bare message type (see `union_tag`); a later version of a type
# joins with Tag(union_tag(type, version)). `NOTIFICATION_MODELS` must list the same models.
Notification = Annotated[
    Annotated[SafeguardingReferral, Tag(MessageType.SAFEGUARDING_REFERRAL.value)]
    | Annotated[ReferralAcknowledgement, Tag(MessageType.REFERRAL_ACKNOWLEDGEMENT.value)]
    | Annotated[ReferralOutcome, Tag(MessageType.REFERRAL_OUTCOME.value)]
    | Annotated[StrategyDiscussionRequest, Tag(MessageType.STRATEGY_DISCUSSION_REQUEST.value)]
    | Annotated[AdultSafeguardingReferral, Tag(MessageType.ADULT_SAFEGUARDING_REFERRAL.value)]
    | Annotated[MaracReferral, Tag(MessageType.MARAC_REFERRAL.value)]
    | Annotated[LadoAllegation, Tag(MessageType.LADO_ALLEGATION.value)]
    | Annotated[DvdsDisclosure, Tag(MessageType.DVDS_DISCLOSURE.value)]
    | Annotated[CsodDisclosure, Tag(MessageType.CSOD_DISCLOSURE.value)]
    | Annotated[ChildMoveTransfer, Tag(MessageType.CHILD_MOVE_TRANSFER.value)]
    | Annotated[ChildDeathNotification, Tag(MessageType.CHILD_DEATH_NOTIFICATION.value)]
    | Annotated[MissingChild, Tag(MessageType.MISSING_CHILD.value)]
    | Annotated[ChildOnChildHarmReferral, Tag(MessageType.CHILD_ON_CHILD_HARM_REFERRAL.value)]
    | Annotated[AdultRiskInformation, Tag(MessageType.ADULT_RISK_INFORMATION.value)]
    | Annotated[DomesticAbuseSchoolNotification, Tag(MessageType.DOMESTIC_ABUSE_SCHOOL_NOTIFICATION.value)]
    | Annotated[AdviceRequest, Tag(MessageType.ADVICE_REQUEST.value)]
    | Annotated[EarlyHelpAssessmentShare, Tag(MessageType.EARLY_HELP_ASSESSMENT_SHARE.value)]
    | Annotated[HospitalDischargeHold, Tag(MessageType.HOSPITAL_DISCHARGE_HOLD.value)]
    | Annotated[OsmanWarningReferral, Tag(MessageType.OSMAN_WARNING_REFERRAL.value)]
    | Annotated[TransitionToAdultServices, Tag(MessageType.TRANSITION_TO_ADULT_SERVICES.value)]
    | Annotated[NrmReferral, Tag(MessageType.NRM_REFERRAL.value)]
    | Annotated[RadicalisationConcern, Tag(MessageType.RADICALISATION_CONCERN.value)]
    | Annotated[OffenderRiskInformation, Tag(MessageType.OFFENDER_RISK_INFORMATION.value)]
    | Annotated[PoliceProtectionNotice, Tag(MessageType.POLICE_PROTECTION_NOTICE.value)]
    | Annotated[AdditionalInformation, Tag(MessageType.ADDITIONAL_INFORMATION.value)]
    | Annotated[CrimeNotification, Tag(MessageType.CRIME_NOTIFICATION.value)]
    | Annotated[S47Enquiry, Tag(MessageType.S47_ENQUIRY.value)]
    | Annotated[CpConference, Tag(MessageType.CP_CONFERENCE.value)]
    | Annotated[AssessmentOutcome, Tag(MessageType.ASSESSMENT_OUTCOME.value)]
    | Annotated[PlanReviewNotice, Tag(MessageType.PLAN_REVIEW_NOTICE.value)]
    | Annotated[PrebirthConcern, Tag(MessageType.PREBIRTH_CONCERN.value)]
    | Annotated[CaseClosureNotice, Tag(MessageType.CASE_CLOSURE_NOTICE.value)]
    | Annotated[DogInjuryReferral, Tag(MessageType.DOG_INJURY_REFERRAL.value)]
    | Annotated[ProfessionalDisagreement, Tag(MessageType.PROFESSIONAL_DISAGREEMENT.value)]
    | Annotated[SuicideResponse, Tag(MessageType.SUICIDE_RESPONSE.value)],
    Discriminator(_discriminate),
    _MessageTypeMapping(),
]

_ADAPTER: TypeAdapter[Notification] = TypeAdapter(Notification)


def parse_notification(data: Any) -> Notification:
    """Validate Python data (built in code: the UI's form, tests) into its notification model; raises
    pydantic.ValidationError. Lax: a form's "9" is an age of 9; a body is judged by `parse_notification_json`."""
    return _ADAPTER.validate_python(data)


def parse_notification_json(body: bytes | str) -> Notification:
    """Validate a JSON body into its notification model, each field of the JSON type its schema
    publishes; raises pydantic.ValidationError.

    Strict: lax coercion read `true` as a child's age of 1 and `"no"` as a risk flag, decided and
    logged as if the sender had said so. In JSON mode strict still reads a date-time, date, UUID or
    enum from its JSON string, as the schema publishes them.
    """
    return _ADAPTER.validate_json(body, strict=True)


def notification_json_schema() -> dict[str, Any]:
    """JSON Schema of the whole union (what POST /v1/notifications accepts)."""
    return _ADAPTER.json_schema()


def payload_of(notification: Notification) -> PayloadModel:
    payload: PayloadModel = notification.payload
    return payload


def payload_data_classes(notification: Notification) -> dict[str, DataClass]:
    """Field name -> data class for each payload field that carries a value (for the policy input)."""
    return payload_of(notification).present_field_classes()
