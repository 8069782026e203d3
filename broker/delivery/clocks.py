"""Statutory clocks: started by a decision's obligations, stopped only by the message that answers.

A clock stops on the message that answers its obligation (`STOPS_ON`), and only if that answer was
itself shared with the party waiting for it: a reply withheld or held for authorisation answers
nobody. Most duties are the recipient's (it answers the sender); some run on with the sender (the
next plan review, the written confirmation of a phone referral), whose next message answers them.
An obligation not listed is answered by the recipient's acknowledgement (its signed receipt of
kind `acknowledged`). The scheduler (`broker.delivery.scheduler`) marks clocks past their due time
as overdue and logs an `overdue` entry linked to the decision; DSLs see them (API and metrics).
A clock run from an event the payload names is one per event in a thread (siblings included),
whichever message names it; a corrected time supersedes it, the correction's withdrawal gives it
back, and a withdrawal leaves it running for a standing message that named the same time
(`broker.delivery.event_clocks`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

import audit
from audit.log import lock_head, transient
from broker.db import threads
from broker.db.tables import ObligationClock, OutboxRow
from broker.delivery import event_clocks
from broker.delivery.events import follow_up
from schemas.notifications import Notification, payload_of

ACKNOWLEDGED = "acknowledged"
URGENT_REVIEW = "urgent_review"
# `stops_on` syntax: answers joined by "|", each a message type or `type@stage` (only that stage of
# it answers: a meeting's record, not its invitation). The prefix "sender:" says the original sender
# answers (the duty runs on with it) rather than the recipient; "either:" that either of them does,
# shared with the other (a meeting both attend, minuted by whichever of them holds the record).
BY_SENDER = "sender:"
BY_EITHER = "either:"
# The notification that starts the clock answers it, so it is met when it is sent: a referral phoned
# through first and sent here is the written confirmation its procedure asks for (I15, T06), not a
# notice of a call whose confirmation the sender still owes.
BY_ITSELF = "itself"
# What answers each obligation (timer ids T.. in policies/safeguarding/obligations): a clock stops
# only on that message or event. An obligation not listed here is answered by the recipient's
# acknowledgement.
STOPS_ON = {
    # M02 (T03): children's social care acknowledges the referral to the referrer within a working day,
    # by its acknowledgement in reply or by its system's signed receipt, whichever comes first; or by its
    # outcome (T01, T05), which tells the referrer more than that it arrived (a reader of the demo found the
    # acknowledgement still running, to fall overdue, after the outcome had reached the school).
    "acknowledge_referral": f"{ACKNOWLEDGED}|referral_acknowledgement|referral_outcome",
    "decide_referral": "referral_outcome",
    "strategy_meeting": "strategy_discussion_request",
    "review_urgent_share": URGENT_REVIEW,
    # M24: children's social care answers the hold with a strategy discussion or a referral outcome.
    "strategy_before_discharge": "strategy_discussion_request|referral_outcome",
    # M32: the adviser's answer is an advice request at stage advice_given, in reply.
    "give_advice": "advice_request",
    # M33: the escalation is answered by the decision it asks for.
    "answer_escalation": "referral_outcome",
    "send_conference_report": "cp_conference",
    "transfer_in_conference": "cp_conference",
    "written_confirmation": BY_ITSELF,
    "written_follow_up": f"{BY_SENDER}child_move_transfer",
    "next_plan_review": f"{BY_SENDER}plan_review_notice",
    "review_early_help_plan": f"{BY_SENDER}early_help_assessment_share|plan_review_notice",
    "cdr_information_sharing_meeting": f"{BY_SENDER}suicide_response",
    "review_suicide_response": f"{BY_SENDER}suicide_response",
    # M19: the ICMD is health's, police's and social care's meeting; its minuted record answers it,
    # never a read receipt of the death notice.
    "initial_case_management_discussion": f"{BY_EITHER}child_death_notification@icmd_record",
    # M19 (T34): the police or health sender of the notice that says when the scene was visited owes
    # the pathologist the visit's documentation, in reply to that notice.
    "scene_documentation_to_pathologist": f"{BY_SENDER}child_death_notification@scene_documentation",
    # M19 (T35): the pathologist answers the Coroner's notice that the examination was held with the
    # provisional report (or straight away the complete one), and its own provisional report with the
    # complete one; both go to the Coroner first.
    "post_mortem_provisional_report": (
        "child_death_notification@pm_provisional_report|child_death_notification@pm_complete_report"
    ),
    "post_mortem_complete_report": f"{BY_SENDER}child_death_notification@pm_complete_report",
    # M14: the LADO answers with the AMM's record, or with the outcome when no meeting is needed.
    "convene_amm": "lado_allegation@amm_record|lado_allegation@outcome",
    # M07 -> M08 (T12): the conference's invitation answers it, sent by the authority that convenes
    # it: the one that sent the outcome, or a receiving authority it was sent to.
    "initial_child_protection_conference": f"{BY_EITHER}cp_conference@invitation",
}
# Where one obligation kind is answered differently by message type: on a strategy discussion
# request the meeting is the convenor's (the sender's) to hold, and its record answers it.
STOPS_ON_FOR_TYPE = {("strategy_discussion_request", "strategy_meeting"): f"{BY_SENDER}strategy_discussion_request"}


def stops_on(message_type: str, kind: str) -> str:
    """What answers an obligation of `kind` that a notification of `message_type` started."""
    return STOPS_ON_FOR_TYPE.get((message_type, kind), STOPS_ON.get(kind, ACKNOWLEDGED))


def answered_by(clock: ObligationClock) -> tuple[frozenset[tuple[str, str]], frozenset[str]]:
    """((who answers, who waits for the answer) pairs, the answers) for one clock."""
    pairs = {
        BY_SENDER: {(clock.sender_agency, clock.recipient_agency)},
        BY_EITHER: {(clock.sender_agency, clock.recipient_agency), (clock.recipient_agency, clock.sender_agency)},
    }
    for prefix, who in pairs.items():
        if clock.stops_on.startswith(prefix):
            return frozenset(who), frozenset(answer_order(clock))
    return frozenset({(clock.recipient_agency, clock.sender_agency)}), frozenset(answer_order(clock))


def answer_order(clock: ObligationClock) -> tuple[str, ...]:
    """A clock's answers in the order `STOPS_ON` gives them, the usual one first (a LADO's meeting
    record before the outcome sent when no meeting is needed)."""
    answers = clock.stops_on
    for prefix in (BY_SENDER, BY_EITHER):
        answers = answers.removeprefix(prefix)
    return tuple(answers.split("|"))


def answer_names(message_type: str, stage: str | None) -> frozenset[str]:
    """What a reply of this type (at this payload stage) may answer: its type, and `type@stage`."""
    return frozenset({message_type, f"{message_type}@{stage}"} if stage else {message_type})


def stage_of(notification: Notification) -> str | None:
    """The payload's stage, for the clocks only a stage of a type answers (a meeting's record)."""
    stage = getattr(payload_of(notification), "stage", None)
    return str(stage) if stage is not None else None


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def start_clocks(
    session: Session,
    *,
    delivery_id: str,
    notification_id: str,
    context: dict[str, object],
    obligations: list[dict[str, Any]],
) -> None:
    """One clock per obligation that has a due time (called inside the decision's transaction, and
    when a held delivery is released). A delivery that answers another notification (`in_reply_to`
    in its context) stops the clocks it answers: it is being shared with `recipient_agency` now."""
    stop_answered_by(session, context, by=notification_id)
    fresh = new_clocks(
        delivery_id=delivery_id, notification_id=notification_id, context=context, obligations=obligations
    )
    thread = threads.thread_of(session, context.get("in_reply_to"), own=notification_id)
    session.add_all(event_clocks.not_started(session, fresh, thread=thread))


def stop_answered_by(session: Session, context: dict[str, object], *, by: str) -> None:
    """Stop the clocks a delivery with this context answers, if it is a reply (`in_reply_to`); `by`,
    the reply's notification id, is kept on each as what met it (`met_by`)."""
    reply_to = context.get("in_reply_to")
    if isinstance(reply_to, str):
        _stop_answered(
            session,
            in_reply_to=reply_to,
            replying_agency=str(context["sender_agency"]),
            answers=answer_names(str(context["message_type"]), _stage(context)),
            shared_with=frozenset({str(context["recipient_agency"])}),
            now=datetime.now(UTC),
            by=by,
        )


def new_clocks(
    *, delivery_id: str, notification_id: str, context: dict[str, object], obligations: list[dict[str, Any]]
) -> list[ObligationClock]:
    """The clocks a delivery starts, not yet added to any session (the caller chooses how to write them);
    one its own notification answers (`BY_ITSELF`) is met as it starts."""
    now, message_type = datetime.now(UTC), str(context.get("message_type", ""))
    clocks = []
    for obligation in obligations:
        if not obligation.get("due_at"):
            continue
        answer = stops_on(message_type, obligation["kind"])
        fields = {
            "delivery_id": delivery_id,
            "notification_id": notification_id,
            "recipient_agency": str(context["recipient_agency"]),
            "sender_agency": str(context["sender_agency"]),
            "kind": obligation["kind"],
            "rule": obligation["rule"],
            "description": obligation["description"],
            "due_at": _utc(datetime.fromisoformat(obligation["due_at"])),
            "stops_on": answer,
            "log_context": context,
            "stopped_at": now if answer == BY_ITSELF else None,
        }
        clocks.append(transient(ObligationClock, fields))
    return clocks


def stop_clocks(session: Session, delivery_id: str, answer: str, now: datetime) -> int:
    """Stop the running clocks of a delivery that this answer stops; return how many."""
    query = select(ObligationClock).where(
        col(ObligationClock.delivery_id) == delivery_id, col(ObligationClock.stopped_at).is_(None)
    )
    # One of the answers a clock names (a receipt, or a message in reply: `stops_on`'s syntax).
    clocks = [clock for clock in session.exec(query) if answer in answered_by(clock)[1]]
    for clock in clocks:
        clock.stopped_at = _utc(now)
        session.add(clock)
    return len(clocks)


def stop_on_reply(
    session: Session,
    *,
    in_reply_to: str,
    replying_agency: str,
    message_type: str,
    now: datetime,
    by: str,
    stage: str | None = None,
) -> int:
    """A reply (e.g. the referral outcome) stops the clocks it answers on the original's deliveries,
    but only those whose waiting party this reply was shared with in this transaction (its outbox
    rows, sealed at `now`); a withheld or held reply stops nothing. `by`: the reply's notification id,
    kept as the clock's `met_by`; `stage`: the reply's payload stage."""
    shared_with = _shared_now(session, replying_agency=replying_agency, message_type=message_type, now=now)
    return _stop_answered(
        session,
        in_reply_to=in_reply_to,
        replying_agency=replying_agency,
        answers=answer_names(message_type, stage),
        shared_with=shared_with,
        now=now,
        by=by,
    )


def _stage(context: dict[str, object]) -> str | None:
    stage = context.get("stage")
    return stage if isinstance(stage, str) else None


def _stop_answered(
    session: Session,
    *,
    in_reply_to: str,
    replying_agency: str,
    answers: frozenset[str],
    shared_with: frozenset[str],
    now: datetime,
    by: str,
) -> int:
    query = select(ObligationClock).where(
        col(ObligationClock.notification_id) == in_reply_to,
        col(ObligationClock.stopped_at).is_(None),
    )
    stopped = 0
    for clock in [*session.exec(query), *event_clocks.restarted_by(session, in_reply_to)]:
        parties, answering = answered_by(clock)
        by_party = any(answerer == replying_agency and waiting in shared_with for answerer, waiting in parties)
        if answers & answering and by_party:
            clock.stopped_at, clock.met_by = _utc(now), by
            session.add(clock)
            stopped += 1
    return stopped


def _shared_now(session: Session, *, replying_agency: str, message_type: str, now: datetime) -> frozenset[str]:
    """Agencies this transaction's reply is being shared with: its outbox rows carry the reply's
    sender and type and were sealed at exactly `now` (each request has its own `now`). Compared in
    the database, as written: a database without zones keeps the wall time it was given."""
    query = select(OutboxRow).where(
        col(OutboxRow.published_at).is_(None),
        col(OutboxRow.created_at) == now,
    )
    return frozenset(
        row.recipient_agency
        for row in session.exec(query)
        if row.log_context.get("sender_agency") == replying_agency
        and row.log_context.get("message_type") == message_type
    )


def mark_overdue(session: Session, now: datetime) -> list[ObligationClock]:
    """Log an `overdue` entry for each running clock past its due time (once per clock)."""
    query = select(ObligationClock).where(
        col(ObligationClock.stopped_at).is_(None),
        col(ObligationClock.overdue_at).is_(None),
        col(ObligationClock.due_at) < _utc(now),
    )
    # Several workers may tick at once: each late clock is locked by the first and skipped by the
    # others, so it is marked, and logged overdue, exactly once (tests/faults/test_races.py). The chain
    # head first, the order every log transaction takes them in: a withdrawal holds it, then stops clocks.
    lock_head(session)
    late = list(session.exec(query.with_for_update(skip_locked=True)))
    drafts = []
    for clock in late:
        clock.overdue_at = _utc(now)
        session.add(clock)
        reason = audit.Reason(
            rule=clock.rule if clock.rule[:1].isalpha() else "GR7", message=f"Overdue: {clock.description}"[:500]
        )
        drafts.append(
            follow_up(
                clock.log_context,
                delivery_id=clock.delivery_id,
                notification_id=clock.notification_id,
                kind=audit.EventKind.OVERDUE,
                reasons=(reason,),
            )
        )
    for clock, entry in zip(late, audit.append(session, drafts), strict=True):
        clock.overdue_seq = entry.seq
    return late


def overdue(session: Session, *, agency_id: str | None = None) -> list[ObligationClock]:
    """Overdue clocks, for everyone (IG) or where the agency is sender or recipient (DSL)."""
    query = select(ObligationClock).where(
        col(ObligationClock.overdue_at).is_not(None), col(ObligationClock.stopped_at).is_(None)
    )
    if agency_id is not None:
        query = query.where(
            (col(ObligationClock.recipient_agency) == agency_id) | (col(ObligationClock.sender_agency) == agency_id)
        )
    return list(session.exec(query.order_by(col(ObligationClock.due_at))))


def stop_all_clocks(session: Session, delivery_id: str, now: datetime, *, replaced_by: str | None = None) -> None:
    """Stop every running clock of a delivery, whatever would have answered it (it was withdrawn).

    Each says it was withdrawn, not answered: a later message naming the event a withdrawn clock ran
    from starts it again (`event_clocks`), where one naming an answered event starts nothing. A clock
    the withdrawn message had superseded (it corrected the event's time) runs again, unless the
    correction's replacement (`replaced_by`, a correction sent through the API) took it over.
    """
    # Locked as the update it replaces locked them: the withdrawal already holds the chain head.
    query = select(ObligationClock).where(
        col(ObligationClock.delivery_id) == delivery_id, col(ObligationClock.stopped_at).is_(None)
    )
    withdrawn = list(session.exec(query.with_for_update()))
    for clock in withdrawn:
        event_clocks.stop(session, clock, now, {event_clocks.STOP_REASON: event_clocks.WITHDRAWN})
    # In the same commit: no moment at which neither the correction's time nor the earlier one runs.
    event_clocks.restore_superseded(session, delivery_id, withdrawn, replaced_by=replaced_by)


def stop_clocks_of(session: Session, delivery_ids: Sequence[str], now: datetime) -> None:
    """Stop every running clock of these deliveries, their case shredded.

    Each says so rather than reading as answered: the case was erased, so its messages no longer
    stand, and a later message naming an event one ran from starts its clock again (`event_clocks`).
    """
    if not delivery_ids:
        return
    query = select(ObligationClock).where(
        col(ObligationClock.delivery_id).in_(delivery_ids), col(ObligationClock.stopped_at).is_(None)
    )
    # Locked as the update it replaces locked them: the shredding holds the chain head first, the
    # order `mark_overdue` takes them in, so no tick marks one overdue as it stops.
    for clock in list(session.exec(query.with_for_update())):
        event_clocks.stop(session, clock, now, {event_clocks.STOP_REASON: event_clocks.SHREDDED})
