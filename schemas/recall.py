"""The HTTP contract of recalling a notification: withdrawal and correction (and their examples).

`POST /v1/notifications/{id}/withdrawal` takes a reason code; `POST /v1/notifications/{id}/correction`
takes the corrected notification itself, decides it like any other, and withdraws the first with
`superseded_by` naming the new one. The answers say, per recipient, what the recall did.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.api import NotificationReceipt, Seq
from schemas.api_examples import RECEIPT
from schemas.common import AgencyId

# The reasons a sender gives. `superseded` (WithdrawalReason's fifth) is the broker's own, for a
# correction's withdrawal of the first: given to a plain withdrawal, recipients would be told of a
# replacement that does not exist.
SenderReason = Literal["sent_in_error", "wrong_person", "malicious", "factually_wrong", "not_upheld"]


class WithdrawalRequest(BaseModel):
    """Why the notification is withdrawn: a code (the log keeps it, so never free text); and, for its
    sender, the one recipient it is withdrawn from, if not from every one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: SenderReason = Field(
        description="sent_in_error, wrong_person, malicious, factually_wrong, or not_upheld (an urgent share's review"
        " found it should not have gone to the recipient)",
    )
    agency_id: AgencyId | None = Field(
        default=None,
        description="The sender withdraws it from this recipient agency alone (a share a review found it should "
        "not have had); left out, from every agency it reached. Children's social care withdraws its own copy "
        "of what it received, whichever it names.",
    )


class RecalledDelivery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    delivery_id: str
    agency_id: str
    was: Literal["published", "queued", "held", "not shared"] = Field(description="Where the delivery had got to")
    now: Literal["notice sent", "destroyed", "nothing to recall"] = Field(
        description="notice sent: a signed withdrawal is on the agency's inbox; destroyed: a held share's key is gone"
    )


class WithdrawalAnswer(BaseModel):
    """What a withdrawal (or the withdrawal half of a correction) did, recipient by recipient."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    notification_id: str
    kind: Literal["withdrawal", "correction"]
    reason: str
    superseded_by: str | None = Field(None, description="The correction that replaces it (absent for a withdrawal)")
    deliveries: list[RecalledDelivery]
    seqs: list[Seq] = Field(description="The log entries that record it, one per recipient")


class CorrectionAnswer(BaseModel):
    """The corrected notification's own receipt, and the withdrawal of the one it replaces."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    replacement: NotificationReceipt
    corrected: WithdrawalAnswer


WITHDRAWAL_EXAMPLE: Final = WithdrawalAnswer(
    notification_id="00000000-0000-4000-8000-00000000e001",
    kind="withdrawal",
    reason="sent_in_error",
    superseded_by=None,
    deliveries=[
        RecalledDelivery(
            delivery_id="00000000-0000-4000-8000-00000000d001",
            agency_id="csc-example-mash",
            was="published",
            now="notice sent",
        ),
        RecalledDelivery(
            delivery_id="00000000-0000-4000-8000-00000000d002",
            agency_id="police-example",
            was="held",
            now="destroyed",
        ),
    ],
    seqs=[1052, 1053],
)

CORRECTION_EXAMPLE: Final = CorrectionAnswer(
    replacement=RECEIPT,
    corrected=WITHDRAWAL_EXAMPLE.model_copy(
        update={"kind": "correction", "reason": "superseded", "superseded_by": str(RECEIPT.notification_id)}
    ),
)
