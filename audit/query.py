"""Reading the log for reviewers, and recording that they did (a ``viewed`` entry)."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict, Unpack

from sqlalchemy import ColumnElement, Select, Text, or_, select, type_coerce
from sqlmodel import Session, col

from audit.canonical import format_time
from audit.errors import EntryNotFound
from audit.log import Clock, append, utc_now
from audit.models import Entry, EntryDraft, EventKind

MAX_LIMIT = 1_000


def select_entries(
    *,
    agency: str | None = None,
    outcome: str | None = None,
    message_type: str | None = None,
    kind: EventKind | None = None,
    notification_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    rule_id: str | None = None,
    deciding_rule: str | None = None,
) -> Select[Entry]:
    """Return a statement selecting the entries that match every given filter, oldest first.

    ``agency`` matches sender or recipient; ``since`` is inclusive and ``until`` exclusive;
    ``rule_id`` matches any reason naming that rule; ``deciding_rule`` only entries that rule decided.
    """
    statement = select(Entry)
    if agency is not None:
        statement = statement.where(or_(col(Entry.sender_agency) == agency, col(Entry.recipient_agency) == agency))
    for column, value in (
        (col(Entry.outcome), outcome),
        (col(Entry.message_type), message_type),
        (col(Entry.kind), kind),
        (col(Entry.notification_id), notification_id),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if since is not None:
        # Canonical times are fixed-width, so text order is time order.
        statement = statement.where(col(Entry.recorded_at) >= format_time(since))
    if until is not None:
        statement = statement.where(col(Entry.recorded_at) < format_time(until))
    if rule_id is not None:
        statement = statement.where(_names_rule(rule_id))
    if deciding_rule is not None:
        statement = statement.where(_decided_by(deciding_rule))
    return statement.order_by(col(Entry.seq))


class EntryFilters(TypedDict, total=False):
    """The filters :func:`query` takes, as :func:`select_entries` names them."""

    agency: str | None
    outcome: str | None
    message_type: str | None
    kind: EventKind | None
    notification_id: str | None
    since: datetime | None
    until: datetime | None
    rule_id: str | None
    deciding_rule: str | None


def query(session: Session, *, limit: int = 100, offset: int = 0, **filters: Unpack[EntryFilters]) -> list[Entry]:
    """Return one page (at most ``MAX_LIMIT``) of matching entries; filters as :func:`select_entries`."""
    statement = select_entries(**filters)
    statement = statement.offset(max(offset, 0)).limit(max(0, min(limit, MAX_LIMIT)))
    return list(session.execute(statement).scalars())


def _names_rule(rule_id: str) -> ColumnElement[bool]:
    # Reasons are canonical JSON with sorted keys, so each reads {"message":...,"rule":"<id>"}.
    # Compare the stored text, not a JSON value: the column type would JSON-encode the pattern.
    return type_coerce(col(Entry.reasons), Text).like(f'%"rule":"{_escaped(rule_id)}"}}%', escape="\\")


def _decided_by(rule_id: str) -> ColumnElement[bool]:
    # Canonical JSON list of rule ids: ["C4","GR4"]; each id is quoted, so "C4" never matches "C41".
    return type_coerce(col(Entry.deciding_rules), Text).like(f'%"{_escaped(rule_id)}"%', escape="\\")


def _escaped(rule_id: str) -> str:
    """A rule id as it stands inside a quoted JSON string, made literal for LIKE (escape character \\)."""
    return rule_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace('"', '\\"')


def get_entry(session: Session, seq: int) -> Entry:
    """Return entry ``seq``."""
    entry = session.get(Entry, seq)
    if entry is None:
        raise EntryNotFound(f"no entry {seq}")
    return entry


def record_view(
    session: Session,
    *,
    seq: int,
    viewer: str,
    viewer_role: str,
    viewer_agency: str | None = None,
    clock: Clock = utc_now,
) -> Entry:
    """Append a ``viewed`` entry saying ``viewer`` looked at entry ``seq``; joins the caller's transaction."""
    seen = get_entry(session, seq)
    draft = EntryDraft(
        notification_id=seen.notification_id,
        delivery_id=seen.delivery_id,
        kind=EventKind.VIEWED,
        outcome="viewed",
        sender_agency=seen.sender_agency,
        sender_role=seen.sender_role,
        recipient_agency=seen.recipient_agency,
        message_type=seen.message_type,
        actor=viewer,
        actor_role=viewer_role,
        actor_agency=viewer_agency,
        follows=(seq,),
    )
    return append(session, [draft], clock=clock)[0]
