"""`POST /v1/case-shredding`: destroy one case's keys, for the partnership's IG lead and Caldicott Guardian.

The person is named as for a case review (in the body, never in a URL) and turned into the
partnership's pseudonym at once; the shredding and every delivery it made unreadable are logged
with the reason (`broker.review.shredding`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

import audit
from broker.api.deps import CallerDep, KeysDep, LogDep, OutboxDep, SettingsDep
from broker.api.json_body import JsonRoute
from broker.api.responses import AUTHENTICATED, BEARER, errors, ok, request_examples
from broker.db.log import DecisionLog
from broker.delivery import notices
from broker.delivery.notices import NoticeWriter
from broker.delivery.outbox import Outbox
from broker.errors import LogUnavailable
from broker.partnership.keys import BrokerKeys
from broker.review import case_review, shredding
from broker.review.access import Viewer
from broker.settings import BrokerSettings
from schemas import api_examples
from schemas.api import CaseShredding, CaseShreddingRequest

router = APIRouter(prefix="/v1", tags=["access"], route_class=JsonRoute)


def erasure_notices(
    keys: BrokerKeys, settings: BrokerSettings, reason: str, checkpoint: str | None
) -> shredding.ShreddedHook:
    """Every agency that may hold a delivery of the case (published, or queued and perhaps being produced
    now) is told, in the same transaction, to erase it."""
    writer = NoticeWriter(
        keys=keys, namespace=settings.topic_namespace, partnership_id=settings.partnership_id, checkpoint=checkpoint
    )

    def send(session: Session, told: Sequence[shredding.ShreddedDelivery]) -> None:
        ids = [delivery_id for group in told for delivery_id in group.delivery_ids]
        notices.send_erasures(session, writer, ids, reason=reason, now=datetime.now(UTC))

    return send


@router.post(
    "/case-shredding",
    response_model=CaseShredding,
    dependencies=BEARER,
    openapi_extra=request_examples(
        (
            "nhs",
            "Shred one child's case, sent about the wrong child",
            {
                "nhs_number": "4000000012",
                "reason_code": "sent_in_error",
                "reason": "Referral sent about the wrong pupil; confirmed with the school's DSL.",
            },
        ),
    ),
    responses={
        **ok(200, ("shredded", "One child's case shredded", api_examples.CASE_SHREDDED)),
        **errors(*AUTHENTICATED, 404, 409, 413, 415),
    },
)
async def shred_case(
    query: CaseShreddingRequest,
    caller: CallerDep,
    decision_log: LogDep,
    keys: KeysDep,
    outbox: OutboxDep,
    settings: SettingsDep,
) -> dict[str, Any]:
    """Destroy the keys of the named person's case: every stored copy of what was shared becomes unreadable."""
    viewer = Viewer.from_caller(caller)
    person = case_review.person_of(keys.log_pseudonym_secret, viewer, query)
    return await shred(
        person,
        viewer=viewer,
        reason_code=query.reason_code,
        reason=query.reason,
        decision_log=decision_log,
        keys=keys,
        settings=settings,
        outbox=outbox,
    )


async def shred(
    person: str,
    *,
    viewer: Viewer,
    reason_code: str,
    reason: str,
    decision_log: DecisionLog,
    keys: BrokerKeys,
    settings: BrokerSettings,
    outbox: Outbox,
) -> dict[str, Any]:
    """Shred the case of `person` (a log pseudonym), tell every agency that may hold a copy, and say
    what was destroyed: the API's and the Case review page's one way to do it."""
    try:
        done = await asyncio.to_thread(
            shredding.shred_case,
            decision_log.engine,
            case_ref=person,
            viewer=viewer,
            reason_code=reason_code,
            reason=reason.strip(),
            on_shredded=erasure_notices(keys, settings, reason_code, decision_log.checkpoint_note),
        )
    except (audit.AuditError, SQLAlchemyError, OSError) as exc:
        raise LogUnavailable("the shredding could not be recorded, so nothing was destroyed") from exc
    outbox.wake()  # the relay marks the case's waiting rows done at once, and sends the erasure notices
    return answer(done)


def answer(done: shredding.Shredding) -> dict[str, Any]:
    """What one shredding destroyed and logged, as the API and the Case review page say it."""
    return {
        "person": done.person,
        "keys_destroyed": done.keys_destroyed,
        "unreadable": {"outbox_envelopes": done.outbox_envelopes, "held_deliveries": done.held_deliveries},
        "deliveries_logged": done.deliveries_logged,
        "published_deliveries": sum(len(p.delivery_ids) for p in done.published),
        "erasure_notices": sum(len(p.delivery_ids) for p in done.told),
    }
