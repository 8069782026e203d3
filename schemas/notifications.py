"""Versioned notification models: one per message type, a discriminated union over `message_type`.

Wire shape: the common envelope (`schemas.common.EnvelopeFields`) plus `message_type` (a
`MessageType` value, e.g. "safeguarding_referral" for catalogue id M01) and a typed `payload`.
`schema_version` is "1.0" for every type today; a breaking change to one type adds a new model
with its own version and a `(message_type, schema_version)` entry in `NOTIFICATION_MODELS`.

`parse_notification` raises `pydantic.ValidationError`; the first element of each error's `loc`
after the union tag is the message type, then the path of the bad field (e.g.
`('safeguarding_referral', 'payload', 'child', 'given_name')`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from schemas.common import EnvelopeFields
from schemas.fields import PayloadModel
from schemas.payloads.events import (
    ChildDeathNotificationPayload,
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
from schemas.vocab import DataClass, MessageType

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


class MissingChild(EnvelopeFields):
    """M20 missing child notice."""

    schema_version: SchemaVersion
    message_type: Literal[MessageType.MISSING_CHILD]
    payload: MissingChildPayload


Notification = Annotated[
    SafeguardingReferral
    | ReferralAcknowledgement
    | ReferralOutcome
    | StrategyDiscussionRequest
    | AdultSafeguardingReferral
    | MaracReferral
    | LadoAllegation
    | DvdsDisclosure
    | CsodDisclosure
    | ChildMoveTransfer
    | ChildDeathNotification
    | MissingChild,
    Field(discriminator="message_type"),
]

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
}

_ADAPTER: TypeAdapter[Notification] = TypeAdapter(Notification)


def parse_notification(data: Any) -> Notification:
    """Validate a decoded JSON body into its notification model; raises pydantic.ValidationError."""
    return _ADAPTER.validate_python(data)


def notification_json_schema() -> dict[str, Any]:
    """JSON Schema of the whole union (what POST /v1/notifications accepts)."""
    return _ADAPTER.json_schema()


def payload_of(notification: Notification) -> PayloadModel:
    payload: PayloadModel = notification.payload
    return payload


def payload_data_classes(notification: Notification) -> dict[str, DataClass]:
    """Field name -> data class for each payload field that carries a value (for the policy input)."""
    return payload_of(notification).present_field_classes()
