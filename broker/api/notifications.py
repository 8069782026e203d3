"""`POST /v1/notifications` and the sender's status view `GET /v1/notifications/{id}`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from broker.admission import idempotency
from broker.admission.replay import burned_by_the_end
from broker.api.deps import (
    AdmittedDep,
    AuthorisationTokenHeader,
    CallerDep,
    IdempotencyKeyHeader,
    LogDep,
    SenderDep,
    SharingDep,
)
from broker.api.json_body import JsonRoute, read_body
from broker.api.responses import BEARER, errors, notification_body, ok
from broker.review import status
from broker.review.access import Viewer
from schemas import api_examples
from schemas.api import NotificationReceipt, NotificationStatus
from schemas.common import CanonicalUuidText

router = APIRouter(prefix="/v1/notifications", tags=["notifications"], route_class=JsonRoute)


@router.post(
    "",
    status_code=202,
    response_model=NotificationReceipt,
    response_description="Decided and recorded: one decision per recipient",
    dependencies=BEARER,
    responses={
        **ok(202, ("decided", "Shared with one recipient, held for advice on the other", api_examples.RECEIPT)),
        **ok(
            200,
            ("retried", "The same Idempotency-Key and body again", api_examples.RECEIPT),
            model=NotificationReceipt,
            description="The first receipt again, byte for byte: this Idempotency-Key was already answered",
        ),
        **errors(401, 403, 409, 413, 415, 422, 503),
    },
    openapi_extra=notification_body(),
)
async def post_notification(
    request: Request,
    _admitted: AdmittedDep,
    caller: SenderDep,
    sharing: SharingDep,
    idempotency_key: IdempotencyKeyHeader = None,
    authorisation_token: AuthorisationTokenHeader = None,
) -> Response:
    """Decide, record and route one notification; the answer has one decision per recipient."""
    # The token's jti commits with the decisions, or on its own if the request ends before them.
    async with burned_by_the_end(sharing.burner, caller) as burn:
        body = await read_body(request, sharing.settings.max_body_bytes)
        receipt = await sharing.submit(
            caller=caller,
            body=body,
            idempotency_key=idempotency.check_key(idempotency_key),
            authorisation=sharing.authorisation(authorisation_token),
            burn=burn,
        )
    return Response(receipt.content, status_code=receipt.status_code, media_type="application/json")


@router.get(
    "/{notification_id}",
    response_model=NotificationStatus,
    dependencies=BEARER,
    responses={
        **ok(200, ("status", "Delivered to one recipient, awaiting advice on the other", api_examples.STATUS)),
        **errors(401, 403, 404, 422, 503),
    },
)
async def get_notification(
    notification_id: CanonicalUuidText, decision_log: LogDep, caller: CallerDep
) -> dict[str, Any]:
    """Per-recipient status (decided, published, delivered, acknowledged, overdue) for the sender."""
    return await status.for_sender(decision_log, notification_id, Viewer.from_caller(caller))
