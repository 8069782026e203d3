"""`POST /v1/deliveries/{delivery_id}/republish`: a recipient agency asks for a delivery again."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter

from broker.api.deps import CallerDep, LogDep, OutboxDep
from broker.api.json_body import JsonRoute
from broker.api.responses import AUTHENTICATED, BEARER, errors, ok
from broker.delivery import redelivery
from schemas import api_examples
from schemas.api import RepublishAnswer
from schemas.common import CanonicalUuidText

router = APIRouter(prefix="/v1/deliveries", tags=["notifications"], route_class=JsonRoute)


@router.post(
    "/{delivery_id}/republish",
    status_code=202,
    response_model=RepublishAnswer,
    dependencies=BEARER,
    responses={
        **ok(202, ("queued", "Queued to be published again", api_examples.REPUBLISHED)),
        **errors(*AUTHENTICATED, 404),
    },
)
async def republish(
    delivery_id: CanonicalUuidText, caller: CallerDep, decision_log: LogDep, outbox: OutboxDep
) -> dict[str, Any]:
    """Publish a delivery sealed to the caller's agency again, while the outbox still keeps it."""
    queued = await asyncio.to_thread(
        redelivery.request_republish,
        decision_log.engine,
        delivery_id=delivery_id,
        agency_id=caller.agency_id,
        actor=caller.actor,
        actor_role=caller.role,
    )
    outbox.wake()
    return {"delivery_id": delivery_id, "queued": queued}
