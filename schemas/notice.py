"""A signed notice to an agency about a delivery it received: withdrawn, corrected, or erased.

A notice travels on the agency's inbox like an envelope, under its own content type, keyed like the
delivery it is about so it follows it on the same partition. It carries no payload value and is not
encrypted: only ids, a reason code and the broker's Ed25519 signature over its canonical bytes (a
domain prefix of its own, so an envelope's signature can never pass as a notice's). Pure, no I/O and
no keys: signing and verifying live in `transport.notice`.

The procedures it serves: a referral found to be malicious or sent in error is withdrawn from every
agency that received it; a corrected referral supersedes the first; a case shredded by the
partnership's IG lead or Caldicott Guardian is erased from each agency's inbox (Working Together to
Safeguard Children 2023, 1.5 "Information sharing"; UK GDPR Articles 16 and 17: rectification and
erasure).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.envelope import canonical_json

NOTICE_FORMAT: Final = "sgb-notice/1"
NOTICE_CONTENT_TYPE: Final = "application/vnd.sgb.notice+json"
NOTICE_SIGNATURE_PREFIX: Final = b"sgb/notice/v1 signature\x00"
MAX_NOTICE_BYTES: Final = 16 * 1024

_AGENCY_ID = r"^[a-z0-9][a-z0-9-]{1,62}$"
_KEY_ID = r"^[A-Za-z0-9._:-]{1,64}$"
_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"


class NoticeKind(StrEnum):
    """What the agency is asked to do with the delivery."""

    WITHDRAWAL = "withdrawal"  # remove it: it should not have been sent
    CORRECTION = "correction"  # remove it: `superseded_by` replaces it
    ERASURE = "erasure"  # remove it: the partnership erased the child's case (crypto-shredding)


class WithdrawalReason(StrEnum):
    """Why a sender withdraws or corrects a notification: a code, never free text (the log keeps it)."""

    SENT_IN_ERROR = "sent_in_error"
    WRONG_PERSON = "wrong_person"
    MALICIOUS = "malicious"
    FACTUALLY_WRONG = "factually_wrong"
    SUPERSEDED = "superseded"
    # A review after an urgent share found it should not have gone to this recipient (C7, I14).
    NOT_UPHELD = "not_upheld"


class ErasureReason(StrEnum):
    """Why the partnership erased a case."""

    MALICIOUS = "malicious"
    SENT_IN_ERROR = "sent_in_error"
    COURT_ORDER = "court_order"
    ERASURE_UPHELD = "erasure_upheld"
    RETENTION_ENDED = "retention_ended"


REASON_WORDS: Final[dict[str, str]] = {
    "sent_in_error": "sent in error",
    "wrong_person": "about the wrong person",
    "malicious": "found to be malicious",
    "factually_wrong": "factually wrong",
    "superseded": "replaced by a corrected notification",
    "not_upheld": "not upheld when its urgent share was reviewed: it should not have gone to this recipient",
    "court_order": "a court ordered its erasure",
    "erasure_upheld": "the person's request to erase it was upheld",
    "retention_ended": "its retention period ended",
}


class Notice(BaseModel):
    """One notice about one delivery, as signed by the broker."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    format: Literal["sgb-notice/1"] = NOTICE_FORMAT
    kind: Literal["withdrawal", "correction", "erasure"]
    notice_id: str = Field(min_length=1, max_length=128)
    delivery_id: str = Field(min_length=1, max_length=128)
    notification_id: str = Field(min_length=1, max_length=128)
    recipient_agency: str = Field(pattern=_AGENCY_ID)
    reason: str = Field(pattern=r"^[a-z_]{1,32}$")
    superseded_by: str | None = Field(default=None, min_length=1, max_length=128)
    issued_at: str = Field(pattern=_TIMESTAMP)
    signing_key_id: str = Field(pattern=_KEY_ID)
    signature: str = Field(default="", pattern=r"^[A-Za-z0-9_-]*$", max_length=86)

    @model_validator(mode="after")
    def _a_correction_names_its_replacement(self) -> Notice:
        if (self.kind == NoticeKind.CORRECTION.value) != (self.superseded_by is not None):
            raise ValueError("superseded_by is given with a correction, and only with one")
        return self

    def signing_bytes(self) -> bytes:
        """The bytes the broker signs: the notice prefix + canonical JSON without `signature`."""
        return NOTICE_SIGNATURE_PREFIX + canonical_json(self.model_dump(mode="json", exclude={"signature"}))

    def to_bytes(self) -> bytes:
        return canonical_json(self.model_dump(mode="json"))

    @classmethod
    def from_bytes(cls, data: bytes) -> Notice:
        """Decode a wire record; anything that is not a well-formed notice raises `ValueError`."""
        if len(data) > MAX_NOTICE_BYTES:
            raise ValueError(f"a notice is at most {MAX_NOTICE_BYTES} bytes")
        return cls.model_validate_json(data)
