"""Record: every decision, share or not, appended to the log with its outbox or held row, in one transaction.

Nothing reaches the outbox that the log does not hold: the rows written here commit with the
entries or not at all, and the relay is woken only after that commit.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, SQLModel

import audit
from audit import replay as audit_replay
from broker.admission import idempotency, replay
from broker.admission.authorisation import Authoriser
from broker.admission.tokens import Caller
from broker.db import threads
from broker.db.log import DecisionLog
from broker.db.tables import NamedPerson, OutboxRow
from broker.delivery import case_keys, clocks, event_clocks, held
from broker.delivery.events import log_context
from broker.errors import LogUnavailable
from broker.metrics import Metrics
from broker.sharing.decide import Decision
from broker.sharing.plan import Planned
from broker.sharing.seal import Sealed, routing_subject
from schemas.notifications import Notification
from schemas.vocab import ConsentStatus

# The most restrictive consent position first: the log keeps one word per decision.
_CONSENT_ORDER = (ConsentStatus.REFUSED, ConsentStatus.WITHDRAWN, ConsentStatus.UNSURE, ConsentStatus.NOT_SOUGHT)


@dataclass(frozen=True)
class FirstAnswer:
    """What a retry with the same Idempotency-Key is answered with, stored with the decision."""

    agency_id: str
    key: str
    body_digest: str
    response: bytes


@dataclass(frozen=True)
class _Common:
    subjects: tuple[str, ...]
    consent_state: str


class Recorder:
    def __init__(
        self, *, decision_log: DecisionLog, log_pseudonym_secret: bytes, hold_expiry: timedelta, metrics: Metrics
    ) -> None:
        self._log = decision_log
        self._secret = log_pseudonym_secret
        self._hold_expiry = hold_expiry
        self._metrics = metrics

    async def record(
        self,
        notification: Notification,
        decision: Decision,
        planned: list[Planned],
        *,
        sender: Caller,
        first_answer: FirstAnswer | None,
        now: datetime,
        authoriser: Authoriser | None = None,
        burn: replay.OwedBurn | None = None,
    ) -> None:
        """Append the decisions with their rows; IntegrityError means a concurrent retry won.

        `sender` is the verified token: its subject and role are the decisions' actor, so the log
        shows who really sent the notification whatever the body says. `authoriser`, proven by their
        own token, is the actor of an `authorisation_granted` entry beside each share it allowed.
        `burn`: the token's jti, committed with the decisions (`ReplayError` if any worker used it).
        """
        # What every recipient's entry shares is worked out once (the pseudonyms are keyed hashes).
        common = _Common(subject_pseudonyms(self._secret, notification), consent_state(notification))
        drafts = [self._draft(notification, decision, p, sender, common) for p in planned]
        if authoriser is not None:
            drafts += [_authorised(draft, authoriser) for draft in drafts if draft.outcome not in _HELD]
        case = case_ref(self._secret, notification)
        rows = functools.partial(
            write_rows,
            notification=notification,
            planned=planned,
            now=now,
            expires_at=now + self._hold_expiry,
            first_answer=first_answer,
            policy_input=decision.policy_input,
            case_ref=case,
            burn=burn.caller if burn is not None else None,
        )
        # The case key is looked up with the rest of its group commit's (`case_keys.prefetch`).
        sealing = any(p.sealed is not None for p in planned)
        try:
            with self._metrics.log_commit_latency.time():
                await self._log.append(drafts, rows, hint=case_keys.Lookup(case) if sealing else None)
        except IntegrityError:
            raise
        except (audit.AuditError, SQLAlchemyError, OSError) as exc:
            raise LogUnavailable("the decision log could not be written; nothing was shared") from exc
        if burn is not None:
            burn.committed = True
        for p in planned:
            self._metrics.decisions.labels(p.decision.outcome.value, notification.message_type.value).inc()

    def _draft(
        self, notification: Notification, decision: Decision, plan: Planned, sender: Caller, common: _Common
    ) -> audit.EntryDraft:
        d = plan.decision
        sealed = plan.sealed
        return audit.EntryDraft(
            notification_id=str(notification.notification_id),
            delivery_id=plan.delivery_id,
            kind=audit.EventKind.DECIDED,
            outcome=d.outcome.value,
            sender_agency=notification.sender.agency_id,
            sender_role=notification.sender.role.value,
            recipient_agency=d.agency_id,
            message_type=notification.message_type.value,
            reasons=tuple(log_reason(r.rule, r.message) for r in d.reasons),
            deciding_rules=tuple(dict.fromkeys(r.rule for r in d.decided_by)),
            deciding_reasons=plan.marked[0],
            blocking_reasons=plan.marked[1],
            lawful_basis=d.lawful_basis.value if d.lawful_basis else None,
            consent_state=common.consent_state,
            fields_released=tuple(d.allowed_fields) if sealed is not None else (),
            projection_digest=hashlib.sha256(sealed.envelope).hexdigest() if sealed is not None else None,
            policy_revision=decision.revision,
            decision_id=decision.decision_id,
            subjects=common.subjects,
            actor=sender.actor,
            actor_role=sender.role,
            actor_agency=sender.agency_id,
        )


_HELD = ("needs_advice", "hold_for_authorisation", "no_share")


def _authorised(decided: audit.EntryDraft, authoriser: Authoriser) -> audit.EntryDraft:
    """Who authorised a share in advance, as the log shows it: that person, not the sender."""
    return decided.model_copy(
        update={
            "kind": audit.EventKind.AUTHORISATION_GRANTED,
            "reasons": (
                log_reason(
                    "GR4",
                    f"Authorised in advance by the {authoriser.role.replace('_', ' ')}, with their own signed "
                    "token bound to this notification's digest.",
                ),
            ),
            "deciding_rules": (),
            "deciding_reasons": (),
            "blocking_reasons": (),
            "fields_released": (),
            "projection_digest": None,
            "actor": authoriser.subject,
            "actor_role": authoriser.role,
            "actor_agency": authoriser.agency_id,
        }
    )


def write_rows(
    session: Session,
    entries: list[audit.Entry],
    *,
    notification: Notification,
    planned: list[Planned],
    now: datetime,
    expires_at: datetime,
    first_answer: FirstAnswer | None,
    policy_input: dict[str, Any] | None = None,
    case_ref: str | None = None,
    burn: Caller | None = None,
) -> None:
    """The rows that commit with the decisions: outbox or held rows, clocks, the reply, the first answer,
    and with `burn` the sender token's jti (`replay.insert_burn`: a replayed token fails first).

    With `case_ref`, every sealed envelope is stored encrypted under that case's key (one key lookup
    per notification, whatever the number of recipients). May run twice (the batcher retries a
    failed batch per request): it only ever adds rows, and the case key it makes is the same one.
    """
    # A reply stops clocks, reading the outbox and clock rows of this transaction: the rows other
    # requests of the group commit left for later must be there to be read, as they were before.
    if notification.in_reply_to is not None:
        audit.flush_later(session)
    # The decided entries come first, one per plan; any authorisation entries follow them.
    decided = entries[: len(planned)]
    rows: list[SQLModel] = []
    # A reply reads this transaction's rows back (its clocks), so they go in at once.
    write: RowWriter = audit.insert_later if notification.in_reply_to is None else audit.insert_now
    if burn is not None:
        replay.insert_burn(session, burn, write=write)
    if policy_input is not None and decided:  # what a replay will ask again
        write(session, audit_replay.INPUT_TABLE, [audit_replay.input_row(decided, policy_input)])
    sealed = [(p, p.sealed, entry) for p, entry in zip(planned, decided, strict=True) if p.sealed is not None]
    case_key = case_keys.live_key(session, case_ref, now=now) if sealed and case_ref is not None else None
    rows += _delivery_rows(session, sealed, notification, case_key=case_key, now=now, expires_at=expires_at)
    if first_answer is not None:
        rows.append(_first_answer_row(first_answer, notification, now))
    # Written before the reply's clocks are stopped: that reads this transaction's outbox rows.
    insert_rows(session, rows, write=write)
    _name_person(session, notification, write=write)
    if notification.in_reply_to is not None:
        clocks.stop_on_reply(
            session,
            in_reply_to=str(notification.in_reply_to),
            replying_agency=notification.sender.agency_id,
            message_type=notification.message_type.value,
            now=now,
            by=str(notification.notification_id),
            stage=clocks.stage_of(notification),
        )


def _delivery_rows(
    session: Session,
    sealed: list[tuple[Planned, Sealed, audit.Entry]],
    notification: Notification,
    *,
    case_key: tuple[int, bytes] | None,
    now: datetime,
    expires_at: datetime,
) -> list[SQLModel]:
    """Each sealed delivery's outbox row and clocks, or its held rows, all on the notification's thread."""
    # A reply's parent rows were flushed above; a message replying to nothing starts its own thread.
    notification_id = str(notification.notification_id)
    parent = str(notification.in_reply_to) if notification.in_reply_to is not None else None
    thread = threads.thread_of(session, parent, own=notification_id) if sealed else notification_id
    rows: list[SQLModel] = []
    for plan, envelope, entry in sealed:
        row, context = _delivery_row(plan, envelope, entry, notification, case_key=case_key)
        row.thread_id = thread
        if plan.held:
            rows += held.held_rows(row, outcome=plan.decision.outcome.value, now=now, expires_at=expires_at)
            continue
        clocks.stop_answered_by(session, context, by=notification_id)
        rows.append(row)
        fresh = clocks.new_clocks(
            delivery_id=plan.delivery_id, notification_id=row.notification_id, context=context, obligations=plan.due
        )
        rows += event_clocks.not_started(session, fresh, thread=thread)
    return rows


RowWriter = Callable[[Session, Table | Insert, list[dict[str, Any]]], None]
"""`audit.insert_later` (with the group commit's other rows of the table, in one statement) or `audit.insert_now`."""


def insert_rows(session: Session, rows: list[SQLModel], *, write: RowWriter) -> None:
    """Insert new rows with one Core statement per table, in the session's transaction.

    The same columns and bind types as the ORM's flush, so the same stored values, without its
    unit-of-work bookkeeping per object (which cost more than the rows' own encryption). The rows
    stay transient objects: an autoincrement key the database assigns is not read back into them.
    With `audit.insert_later`, in a group commit they join the other requests' rows of the same
    tables in one statement before the commit: only for rows nothing in it reads back.
    """
    tables: dict[Table, list[dict[str, Any]]] = {}
    for row in rows:
        table: Table = type(row).__table__  # type: ignore[attr-defined]
        generated = table.autoincrement_column
        values = {c.key: getattr(row, c.key) for c in table.columns}
        if generated is not None and values.get(generated.key) is None:
            del values[generated.key]
        tables.setdefault(table, []).append(values)
    for table, values_list in tables.items():
        write(session, table, values_list)


def _name_person(session: Session, notification: Notification, *, write: RowWriter) -> None:
    """The person the body names as acting: theirs to see, whoever's system posted it (issue 11).

    The same notification id may be decided again (a retry under another key): nothing to add then,
    and one statement either way (a merge would read the row first, inside the group commit).
    """
    named = {
        "notification_id": str(notification.notification_id),
        "agency_id": notification.sender.agency_id,
        "person": notification.sender.user_ref,
    }
    write(session, _NAME_PERSON[session.connection().dialect.name == "postgresql"], [named])


_NAMED_PERSON: Table = NamedPerson.__table__  # type: ignore[attr-defined]
# Built once per dialect (SQLite, PostgreSQL): the same statement each time, with the person as parameters.
_NAME_PERSON = (
    sqlite.insert(_NAMED_PERSON).on_conflict_do_nothing(),
    postgresql.insert(_NAMED_PERSON).on_conflict_do_nothing(),
)


def _first_answer_row(first: FirstAnswer, notification: Notification, now: datetime) -> SQLModel:
    notification_id = str(notification.notification_id)
    return idempotency.record(first.agency_id, first.key, first.body_digest, notification_id, first.response, now)


def _delivery_row(
    plan: Planned,
    sealed: Sealed,
    entry: audit.Entry,
    notification: Notification,
    *,
    case_key: tuple[int, bytes] | None,
) -> tuple[OutboxRow, dict[str, object]]:
    """A sealed delivery's row under its case key, and its log context (for its clocks)."""
    # Purpose and obligations travel with the row: a held delivery's reviewers see the
    # purpose, and its clocks start when it is released: those of the share it becomes, not the
    # held outcome's own, which lack the recipient's duties (`held.release` starts them from here).
    # `deciding`: how many of the decision's first reasons decided it, for what a reviewer may release.
    context = {
        **log_context(entry),
        "purpose": notification.purpose.value if notification.purpose else None,
        "obligations": plan.on_release if plan.held else plan.due,
        "deciding": max(len(plan.decision.decided_by), 1),
        # A held reply released later still stops the clock it answers (broker.delivery.clocks).
        "in_reply_to": str(notification.in_reply_to) if notification.in_reply_to else None,
        # Some clocks stop only on one stage of a reply's type (a meeting's record, not its invitation).
        "stage": clocks.stage_of(notification),
    }
    row = sealed.row(context)
    if case_key is not None:
        case_keys.encrypt_row(row, *case_key)
    return row, context


def case_ref(secret: bytes, notification: Notification) -> str:
    """The case a notification belongs to: the log pseudonym of the child it is routed by, the same
    pseudonym the case review (`broker.review.case_review.pseudonym`) computes for that child."""
    return audit.pseudonymise(secret, routing_subject(notification))


def subject_pseudonyms(secret: bytes, notification: Notification) -> tuple[str, ...]:
    """The partnership's keyed pseudonyms of the notification's people, as the log keeps them."""
    sender = notification.sender.agency_id
    return tuple(audit.pseudonymise(secret, s.linking_key(sender)) for s in notification.subjects)


def consent_state(notification: Notification) -> str:
    """One word for the log: the most restrictive consent position recorded."""
    statuses = {record.status for record in notification.consent}
    for status in _CONSENT_ORDER:
        if status in statuses:
            return status.value
    if statuses:
        return sorted(s.value for s in statuses)[0]
    return "not_recorded"


@functools.lru_cache(maxsize=4096)
def log_reason(rule: str, message: str) -> audit.Reason:
    """The log's (frozen, validated) Reason for a rule and message: the same few hundred pairs recur
    in every decision, so each is validated once and then shared."""
    return audit.Reason(rule=rule, message=message)
