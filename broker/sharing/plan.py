"""Plan: for each recipient's decision, its delivery id, its deadlines and (shared or held) its sealed delivery."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from broker.delivery.calendar import WorkingCalendar
from broker.errors import PolicyUnavailable
from broker.sharing.decide import Decision
from broker.sharing.findings import marked_positions
from broker.sharing.seal import Sealed, Sealer
from schemas.notifications import Notification, payload_of
from schemas.policy_decision import Obligation, Reason, RecipientDecision
from schemas.vocab import HELD_OUTCOMES, SHARED_OUTCOMES, Outcome, ReasonEffect


@dataclass
class Planned:
    """One recipient's decision with, if it is shared or held, its sealed delivery."""

    decision: RecipientDecision
    delivery_id: str
    sealed: Sealed | None
    due: list[dict[str, Any]]
    # Held or advice only: the obligations its release starts (held.release recomputes their due times).
    on_release: list[dict[str, Any]] = field(default_factory=list)

    @property
    def held(self) -> bool:
        return self.decision.outcome in HELD_OUTCOMES

    @functools.cached_property  # read by the log's entry and by the receipt: worked out once
    def marked(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Positions in `reasons` of the deciding findings, and of those that would also have held or stopped it."""
        return marked_positions(self.decision.reasons, self.decision.decided_by)


def plan(
    notification: Notification, decision: Decision, *, sealer: Sealer, calendar: WorkingCalendar, now: datetime
) -> list[Planned]:
    return [_one(notification, d, sealer=sealer, calendar=calendar, now=now) for d in decision.recipients]


def _one(
    notification: Notification, decision: RecipientDecision, *, sealer: Sealer, calendar: WorkingCalendar, now: datetime
) -> Planned:
    delivery_id = str(uuid.uuid4())
    due = [_timed(obligation, notification, calendar, now) for obligation in decision.obligations]
    on_release = [_timed(obligation, notification, calendar, now) for obligation in _released(decision)]
    sealed = None
    if decision.outcome in SHARED_OUTCOMES | HELD_OUTCOMES:
        sealed = sealer.seal(notification, decision, delivery_id=delivery_id, now=now)
        if sealed is None:
            # The policy knew an agency the sealer does not yet (a registry change reaching them a
            # moment apart): logged as a share with nothing queued, it would be lost while the
            # receipt said "share". Closed instead, and said so.
            return Planned(_unsealable(decision), delivery_id, None, [])
    return Planned(decision, delivery_id, sealed, due, on_release)


def _released(decision: RecipientDecision) -> list[Obligation]:
    """What a held decision's release owes: the share it becomes, as the policy says (due times are
    worked out now too, so a deadline no calendar meets is refused before anything is written).
    An answer of an older policy revision names none; its own obligations are kept, as they were."""
    if decision.outcome not in HELD_OUTCOMES:
        return []
    release = list(decision.obligations_on_release)
    return release + [obligation for obligation in decision.obligations if obligation not in release]


def clock_start(obligation: Obligation, notification: Notification, now: datetime) -> datetime:
    """When the obligation's clock starts: the payload moment it names (`starts_at`), else `now`.

    A clock the source documents count from an event (the ICMD from the death being confirmed) is
    already part spent when the broker hears of it; started at `now`, a late notice would buy a fresh
    12 hours and a meeting already late would never show as overdue. A named moment in the future is
    a slip of the sender's: a clock never starts after its decision."""
    if obligation.starts_at is None:
        return now
    moment = getattr(payload_of(notification), obligation.starts_at.removeprefix("payload."), None)
    if not isinstance(moment, datetime):
        # The policy named a field this payload has no time in: its mistake, refused before anything is written.
        raise PolicyUnavailable(f"the policy started {obligation.kind} at {obligation.starts_at}, which is not a time")
    return min(moment if moment.tzinfo else moment.replace(tzinfo=UTC), now)


def _timed(
    obligation: Obligation, notification: Notification, calendar: WorkingCalendar, now: datetime
) -> dict[str, Any]:
    """An obligation with its due time; one that runs from a payload moment says so (`started_at`):
    a held share's release does not restart it (broker/delivery/held.py), and a reply naming the
    same moment starts no second clock (broker/delivery/event_clocks.py, `not_started`)."""
    start = clock_start(obligation, notification, now)
    due = due_of(obligation, calendar, start)
    return due if obligation.starts_at is None else {**due, "started_at": start.isoformat()}


def _unsealable(decision: RecipientDecision) -> RecipientDecision:
    reason = Reason(
        rule="SYS-AGENCY",
        message=(
            f"{decision.agency_id} is not yet in this gateway's registry of agencies, so nothing could be "
            "sealed to it and nothing is shared with it. Send again in a minute; if a child may be at "
            "immediate risk, telephone children's social care or the police (999) now."
        ),
        effect=ReasonEffect.NO_SHARE,
    )
    update = {"outcome": Outcome.NO_SHARE, "decided_by": [reason], "reasons": [reason], "allowed_fields": []}
    nothing_owed: dict[str, list[Any]] = {"withheld_fields": [], "obligations": [], "obligations_on_release": []}
    return decision.model_copy(update={**update, **nothing_owed})


def due_of(obligation: Obligation, calendar: WorkingCalendar, now: datetime) -> dict[str, Any]:
    """The obligation with its due time counted from `now` (its clock's start); `PolicyUnavailable`
    if the calendar has none for it. A due time already past opens the clock overdue: the scheduler's
    next check marks and logs it (broker/delivery/clocks.py, `mark_overdue`)."""
    amount = obligation.due_in.amount if obligation.due_in else None
    unit = obligation.due_in.unit.value if obligation.due_in else None
    # No amount: "as soon as possible", no fixed limit in the source documents.
    try:
        due_at = calendar.due(now, amount, unit).isoformat() if amount is not None and unit is not None else None
    except (ValueError, OverflowError) as exc:
        # A deadline no calendar day meets (0 school days, say) is the policy's mistake, refused before
        # anything is written: fail closed, as any other answer outside the contract.
        raise PolicyUnavailable(
            f"the policy set {obligation.kind} due in {amount} {unit}, which has no due time"
        ) from exc
    return {
        "kind": obligation.kind,
        "description": obligation.description,
        "rule": obligation.rule,
        "amount": amount,
        "unit": unit,
        "due_at": due_at,
    }
