"""`POST /v1/notifications/{id}/withdrawal` and `.../correction`: recall what was sent.

Who may and what happens are in `broker.review.withdrawal`; this module is HTTP only.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlmodel import Session

from broker.admission import idempotency
from broker.api.deps import (
    AuthorisationTokenHeader,
    CallerDep,
    IdempotencyKeyHeader,
    Sharing,
    SharingDep,
)
from broker.api.json_body import JsonRoute, read_body
from broker.api.recall import Recall, RecallDep
from broker.api.responses import BEARER, errors, ok, request_examples, same_notification_body
from broker.errors import Forbidden, InvalidNotification
from broker.partnership.roles import a_role
from broker.review import withdrawal
from broker.review.access import Action, Viewer
from schemas.common import CanonicalUuidText
from schemas.recall import CORRECTION_EXAMPLE, WITHDRAWAL_EXAMPLE, CorrectionAnswer, WithdrawalAnswer, WithdrawalRequest

router = APIRouter(prefix="/v1/notifications", tags=["notifications"], route_class=JsonRoute)
SAME_ID = "a correction is a new notification: give it a new notification_id, not the one it corrects"


def _names(body: bytes, notification_id: str) -> bool:
    """Whether the body is a notification under `notification_id` (anything else `submit` judges)."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return False
    return isinstance(parsed, dict) and parsed.get("notification_id") == notification_id


def _answer(done: withdrawal.Withdrawal) -> dict[str, Any]:
    body = asdict(done)
    body["deliveries"] = [
        {"delivery_id": r.delivery_id, "agency_id": r.recipient_agency, "was": r.was, "now": r.now}
        for r in done.deliveries
    ]
    return body


@router.post(
    "/{notification_id}/withdrawal",
    response_model=WithdrawalAnswer,
    dependencies=BEARER,
    openapi_extra=request_examples(
        ("error", "Sent to the wrong agency", {"reason": "sent_in_error"}),
        ("one", "Withdrawn from one recipient", {"reason": "sent_in_error", "agency_id": "housing-brookside"}),
    ),
    responses={
        **ok(200, ("withdrawn", "Recalled from one inbox; a held share destroyed", WITHDRAWAL_EXAMPLE)),
        **errors(401, 403, 404, 409, 413, 415, 422, 503),
    },
)
async def withdraw(
    notification_id: CanonicalUuidText,
    request: WithdrawalRequest,
    caller: CallerDep,
    recall: RecallDep,
) -> dict[str, Any]:
    """Withdraw a notification: the sender's from every recipient (or the one `agency_id` names), children's
    social care's own copy of one it received from its inbox alone; signed notices to the inboxes, held
    shares destroyed."""
    done = await recall.withdraw(
        Viewer.from_caller(caller), notification_id, reason=request.reason, only=request.agency_id
    )
    return _answer(done)


@router.post(
    "/{notification_id}/correction",
    status_code=202,
    response_model=CorrectionAnswer,
    dependencies=BEARER,
    openapi_extra=same_notification_body("The corrected notification, a new notification_id; decided afresh."),
    responses={
        **ok(202, ("corrected", "The corrected referral decided; the first withdrawn", CORRECTION_EXAMPLE)),
        **ok(
            200,
            ("retried", "The same Idempotency-Key and body again", CORRECTION_EXAMPLE),
            model=CorrectionAnswer,
            description="The first answer again, byte for byte: this Idempotency-Key was already answered",
        ),
        **errors(401, 403, 404, 409, 413, 415, 422, 503),
    },
)
async def correct(
    notification_id: CanonicalUuidText,
    request: Request,
    caller: CallerDep,
    sharing: SharingDep,
    recall: RecallDep,
    idempotency_key: IdempotencyKeyHeader = None,
    authorisation_token: AuthorisationTokenHeader = None,
) -> Response:
    """Send the corrected notification (decided afresh) and withdraw this one, which it supersedes."""
    settings, decision_log = sharing.settings, sharing.decision_log
    viewer = Viewer.from_caller(caller)
    if not viewer.may(Action.SEND):
        raise Forbidden(f"{a_role(viewer.role)} may not send notifications")
    key = idempotency.check_key(idempotency_key)
    body = await read_body(request, settings.max_body_bytes)
    earlier = await _corrected_before(sharing, caller.agency_id, key, body, notification_id)
    if earlier is not None:
        return Response(earlier, status_code=200, media_type="application/json")
    # Refused before anything is decided: a correction of what one may not withdraw sends nothing.
    await asyncio.to_thread(withdrawal.check_may_withdraw, decision_log, viewer, notification_id, correction=True)
    if _names(body, notification_id):
        # Under the same id the corrected notification's decisions would be recalled with the first
        # one's, in the same breath, while the answer said it replaced it.
        raise InvalidNotification([{"loc": ["notification_id"], "msg": SAME_ID, "type": "value_error"}])
    receipt = await sharing.submit(
        caller=caller,
        body=body,
        idempotency_key=key,
        authorisation=sharing.authorisation(authorisation_token),
        correcting=notification_id,
    )
    answer = await _recall_superseded(recall, viewer, notification_id, receipt.body, key=key)
    return Response(answer, status_code=202, media_type="application/json")


async def _recall_superseded(
    recall: Recall, viewer: Viewer, notification_id: str, replacement: dict[str, Any], *, key: str | None
) -> bytes:
    """Withdraw the corrected notification; the whole answer, kept under `key` in the same commit."""
    answered = list[bytes]()

    def keep(session: Session, done: withdrawal.Withdrawal) -> None:
        # In the recall's commit: a retry after it gets this answer; one before it (the gateway
        # stopped between the two commits) finds the receipt alone and finishes the correction.
        answered[:] = [bytes(JSONResponse({"replacement": replacement, "corrected": _answer(done)}).body)]
        if key is not None:
            idempotency.replace_answer(session, viewer.agency_id, key, answered[0])

    again = "send this correction again with the same Idempotency-Key, or " if key else ""
    retry = f"{again}withdraw it (POST /v1/notifications/{notification_id}/withdrawal)"
    await recall.supersede(
        viewer, notification_id, replaced_by=str(replacement["notification_id"]), retry=retry, then=keep
    )
    return answered[0]


async def _corrected_before(
    sharing: Sharing, agency_id: str, key: str | None, body: bytes, notification_id: str
) -> bytes | None:
    """The whole first answer, if this key already finished a correction of this notification (its
    receipt alone is not). The key used for anything else is a conflict (`idempotency.find`): even cut
    short, a correction's key is bound to the notification it corrects, so it recalls no other."""
    if key is None:
        return None
    digest = idempotency.digest(body, correcting=notification_id)
    earlier = await idempotency.find(sharing.decision_log.lookups, agency_id, key, digest)
    if earlier is None or "replacement" not in json.loads(earlier):
        return None
    return earlier
