"""The Kafka records' headers and the receipt JWT, as models: what the AsyncAPI document publishes.

The relay, the consumers and the gateway write these headers and claims (`broker/sharing/seal.py`,
`broker/delivery/notices.py`, `consumers/receipt.py`, `consumers/runner.py`); `schemas.asyncapi` turns
the models into the document, and `tests/broker/test_asyncapi_records.py` checks real records against
them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from schemas.common import AGENCY_ID_PATTERN, UUID_PATTERN
from schemas.policy_input import PARTNERSHIP_ID_PATTERN
from schemas.topics import NAMESPACE_PATTERN

# The record key of a delivery: audit.pseudonymise (HMAC-SHA256, lowercase hex) of the child's subject_ref.
PSEUDONYM_PATTERN: Final = r"^[0-9a-f]{64}$"
JWT_PATTERN: Final = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"
INBOX_TOPIC = NAMESPACE_PATTERN[1:-1] + r"\.inbox\." + AGENCY_ID_PATTERN[1:-1]


def _absent_when_unset(schema: dict[str, Any]) -> None:
    # A header or claim that is left out, never sent as null: no null type, no "default": null.
    schema.pop("default", None)


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DeliveryHeaders(_Closed):
    """Headers of an inbox record: CloudEvents 1.0 Kafka binding (binary mode), values UTF-8."""

    ce_specversion: Literal["1.0"]
    ce_id: str = Field(pattern=UUID_PATTERN, description="The delivery id (envelope header delivery_id)")
    ce_source: str = Field(pattern="^/sgb/" + PARTNERSHIP_ID_PATTERN[1:], description="/sgb/<partnership id>")
    ce_type: str = Field(
        pattern=r"^uk\.safeguarding\.[a-z_]+\.v[0-9]+\.[0-9]+$",
        description="uk.safeguarding.<message_type>.v<schema_version>, as in the envelope header",
    )
    ce_time: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$", description="Sealed at, UTC")
    content_type: Literal["application/vnd.sgb.envelope+json"] = Field(alias="content-type")
    sgb_notification_id: str = Field(pattern=UUID_PATTERN)
    sgb_checkpoint: str | SkipJsonSchema[None] = Field(
        default=None,
        json_schema_extra=_absent_when_unset,
        description=(
            "The decision log's latest signed checkpoint (a signed note) when the delivery was sealed; absent "
            "before the first. Each agency keeps these, so a rewritten log history would contradict them."
        ),
    )


class NoticeHeaders(_Closed):
    """Headers of a notice on an inbox: CloudEvents as a delivery's, naming the notice and its kind."""

    ce_specversion: Literal["1.0"]
    ce_id: str = Field(pattern=r"^notice-[0-9a-f-]{36}$", description="The notice id")
    ce_source: str = Field(pattern="^/sgb/" + PARTNERSHIP_ID_PATTERN[1:], description="/sgb/<partnership id>")
    ce_type: Literal[
        "uk.safeguarding.notice.withdrawal.v1",
        "uk.safeguarding.notice.correction.v1",
        "uk.safeguarding.notice.erasure.v1",
    ]
    ce_time: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$", description="Issued at, UTC")
    content_type: Literal["application/vnd.sgb.notice+json"] = Field(alias="content-type")
    sgb_notification_id: str = Field(pattern=UUID_PATTERN)
    sgb_checkpoint: str | SkipJsonSchema[None] = Field(
        default=None,
        json_schema_extra=_absent_when_unset,
        description=(
            "The decision log's latest signed checkpoint when the notice was issued, as a delivery carries "
            "one; absent before the first."
        ),
    )


class ReceiptHeaders(_Closed):
    content_type: Literal["application/jwt"] = Field(alias="content-type")


class ReceiptJoseHeader(_Closed):
    """The receipt JWT's protected header."""

    alg: Literal["EdDSA", "ES256"]
    kid: str = Field(description="The agency token key's id in the partnership registry")
    typ: Literal["JWT"]


class ReceiptClaims(_Closed):
    """The receipt JWT's claims, signed with the recipient agency's registered token key.

    The gateway verifies it as it verifies an API token (registry key by kid, audience, single-use
    jti, role), but accepts one up to seven days after `exp`: a receipt may wait on the topic
    while the gateway is down.
    """

    iss: str = Field(pattern=AGENCY_ID_PATTERN, description="The recipient agency's id")
    aud: str = Field(description="The broker's audience")
    iat: int
    exp: int = Field(description="iat + 300")
    jti: str = Field(pattern=UUID_PATTERN, description="Fresh per receipt; the gateway refuses a second use")
    role: Literal["agency_system"]
    kind: Literal["delivered", "acknowledged", "withdrawn", "erased"] = Field(
        description="delivered: the agency's system has it; acknowledged: a person has read it; withdrawn or "
        "erased: the agency's consumer removed it on the broker's notice"
    )
    delivery_id: str
    notification_id: str
    envelope_digest: str | SkipJsonSchema[None] = Field(
        default=None,
        pattern=r"^sha256:[0-9a-f]{64}$",
        json_schema_extra=_absent_when_unset,
        description="Digest of the envelope that arrived (delivered only)",
    )
    sub: str | SkipJsonSchema[None] = Field(
        default=None, json_schema_extra=_absent_when_unset, description="Who acknowledged, when a person did"
    )


class DeadLetterReason(StrEnum):
    """Why an agency's consumer could never deliver a record (consumers/opener.py)."""

    # Not `unknown_signing_key` nor `unknown_recipient_key`: a broker key the consumer lacks, or an
    # agency key its key directory lacks even reloaded, stops it, uncommitted, until the operator
    # installs the key (parked, a withdrawal would be lost, a delivery never arrive).
    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"
    # The broker's signature verified, but by a key the signing history retired: signed too long after
    # the retirement, or the key retired too long ago (consumers/broker_keys.py). Not bad_signature, so
    # that an operator tells a stolen or stale key from a damaged record.
    RETIRED_SIGNING_KEY = "retired_signing_key"
    NOT_FOR_THIS_AGENCY = "not_for_this_agency"
    CANNOT_DECRYPT = "cannot_decrypt"
    SCHEMA_INVALID = "schema_invalid"
    # Opened and verified, but the agency's own system refused it for good (400, 413, 415, 422):
    # parked so the records behind it go on (consumers.webhook).
    SINK_REFUSED = "sink_refused"


class DeadLetterHeaders(_Closed):
    """Headers of a dead letter; the original record's headers are not copied."""

    sgb_reason: DeadLetterReason
    sgb_detail: str = Field(description="Where it failed, never a payload value; may be empty")
    sgb_source_topic: str = Field(pattern=f"^{INBOX_TOPIC}$")
    sgb_source_partition: str = Field(pattern=r"^[0-9]+$")
    sgb_source_offset: str = Field(pattern=r"^[0-9]+$")
