"""Recalling what was shared, as one dependency: a notification's withdrawal or correction, and a
case's shredding.

Each appends to the decision log, signs notices to the agencies that may hold a copy with the broker's
key, and wakes the relay to send them, so each needs the same four collaborators. The API's routes and
the review pages recall through this one object, so a page never withdraws or shreds differently
from the API.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlmodel import Session

import audit
from broker.api.deps import settings_of
from broker.db.log import DecisionLog
from broker.delivery import notices
from broker.delivery.notices import NoticeWriter
from broker.delivery.outbox import Outbox
from broker.errors import AlreadyWithdrawn, CorrectionIncomplete, LogUnavailable
from broker.partnership.keys import BrokerKeys
from broker.review import shredding, withdrawal
from broker.review.access import Viewer
from broker.settings import BrokerSettings


def notice_writer(keys: BrokerKeys, settings: BrokerSettings, decision_log: DecisionLog) -> NoticeWriter:
    """The signer of the notices sent to each recipient's inbox, carrying the log's newest checkpoint."""
    return NoticeWriter(
        keys=keys,
        namespace=settings.topic_namespace,
        partnership_id=settings.partnership_id,
        checkpoint=decision_log.checkpoint_note,
    )


@dataclass(frozen=True)
class Recall:
    """The log, the broker's keys, the settings and the outbox: what a withdrawal or a shredding uses."""

    decision_log: DecisionLog
    keys: BrokerKeys
    settings: BrokerSettings
    outbox: Outbox

    async def withdraw(
        self, viewer: Viewer, notification_id: str, *, reason: str, only: str | None = None
    ) -> withdrawal.Withdrawal:
        """Withdraw a notification from every recipient the viewer may (or the sender from `only`): signed
        notices to their inboxes, held shares destroyed."""
        return await withdrawal.withdraw(
            self.decision_log,
            viewer,
            notification_id,
            reason=reason,
            only=only,
            notices=notice_writer(self.keys, self.settings, self.decision_log),
            outbox=self.outbox,
        )

    async def supersede(
        self,
        viewer: Viewer,
        notification_id: str,
        *,
        replaced_by: str,
        retry: str,
        then: Callable[[Session, withdrawal.Withdrawal], None] | None = None,
    ) -> withdrawal.Withdrawal:
        """Withdraw a corrected notification now that `replaced_by`, its correction, was decided and sent.

        `retry` says how to finish a correction cut short here; `then` runs in the recall's commit."""
        try:
            return await withdrawal.withdraw(
                self.decision_log,
                viewer,
                notification_id,
                reason="superseded",
                notices=notice_writer(self.keys, self.settings, self.decision_log),
                outbox=self.outbox,
                superseded_by=replaced_by,
                then=then,
            )
        except AlreadyWithdrawn as exc:
            # Someone withdrew the first one while this was being decided: the corrected notification
            # stands and went out, so the refusal must say so rather than read as if nothing happened.
            raise AlreadyWithdrawn(f"{exc}; the corrected notification {replaced_by} was decided and sent") from exc
        except (LogUnavailable, audit.AuditError, OperationalError, InterfaceError) as exc:
            # The 503 every other route gives says "nothing was shared": here the replacement was.
            raise CorrectionIncomplete(
                f"the corrected notification {replaced_by} was decided and sent, but the withdrawal of "
                f"{notification_id} could not be recorded, so it still stands: {retry}"
            ) from exc

    async def shred(self, person: str, *, viewer: Viewer, reason_code: str, decision_ref: str) -> dict[str, Any]:
        """Shred the case of `person` (a log pseudonym), tell every agency that may hold a copy, and say
        what was destroyed."""
        try:
            done = await asyncio.to_thread(
                shredding.shred_case,
                self.decision_log.engine,
                case_ref=person,
                viewer=viewer,
                reason_code=reason_code,
                decision_ref=decision_ref,
                on_shredded=self._erasure_notices(reason_code),
            )
        except (audit.AuditError, SQLAlchemyError, OSError) as exc:
            raise LogUnavailable("the shredding could not be recorded, so nothing was destroyed") from exc
        self.outbox.wake()  # the relay marks the case's waiting rows done at once, and sends the erasure notices
        return _shredded(done)

    def _erasure_notices(self, reason: str) -> shredding.ShreddedHook:
        """Every agency that may hold a delivery of the case (published, or queued and perhaps being
        produced now) is told, in the same transaction, to erase it."""
        writer = notice_writer(self.keys, self.settings, self.decision_log)

        def send(session: Session, told: Sequence[shredding.ShreddedDelivery]) -> None:
            ids = [delivery_id for group in told for delivery_id in group.delivery_ids]
            notices.send_erasures(session, writer, ids, reason=reason, now=datetime.now(UTC))

        return send


def _shredded(done: shredding.Shredding) -> dict[str, Any]:
    """What one shredding destroyed and logged (`schemas.case_api.CaseShredding`)."""
    return {
        "person": done.person,
        "keys_destroyed": done.keys_destroyed,
        "unreadable": {"outbox_envelopes": done.outbox_envelopes, "held_deliveries": done.held_deliveries},
        "deliveries_logged": done.deliveries_logged,
        "published_deliveries": sum(len(p.delivery_ids) for p in done.published),
        "erasure_notices": sum(len(p.delivery_ids) for p in done.told),
    }


async def _recall(request: Request) -> Recall:
    state = request.app.state
    return Recall(decision_log=state.decision_log, keys=state.keys, settings=settings_of(request), outbox=state.outbox)


RecallDep = Annotated[Recall, Depends(_recall)]
