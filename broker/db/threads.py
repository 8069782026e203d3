"""Which thread a notification belongs to: the root of its reply chain, kept as `thread_id` on its rows.

A message that replies to nothing is its own root; a reply takes its parent's thread, as the parent's
outbox or held rows recorded it. A parent the broker never recorded (a reply may name an id before
that message is sent, or one it never saw) is the root itself. Rows written before migration b0007
were given their thread by it; one written without it since (a gateway of the earlier release still
running during a roll-out) is followed up through the `in_reply_to` its log context keeps instead.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from broker.db.tables import HeldDelivery, OutboxRow

# A thread deeper than this is followed no further: a loop or a runaway chain must not hold the commit.
MAX_HOPS = 32


def thread_of(session: Session, in_reply_to: object, *, own: str) -> str:
    """The thread of notification `own`, whose `in_reply_to` is given (None: it starts one)."""
    node, seen = own, {own}
    parent = in_reply_to
    for _ in range(MAX_HOPS):
        if not isinstance(parent, str) or parent in seen:
            return node
        node = parent
        seen.add(node)
        recorded = _recorded(session, node)
        if recorded is None:
            return node  # never recorded here: the chain starts with it, as far as the broker knows
        thread, parent = recorded
        if thread is not None:
            return thread
    return node


def replies_to(session: Session, notification_id: str) -> str | None:
    """The notification this one replies to, as its rows recorded it (None: it replies to none, or was
    not shared nor held, so no row of it was kept)."""
    recorded = _recorded(session, notification_id)
    parent = recorded[1] if recorded is not None else None
    return parent if isinstance(parent, str) else None


def replies(session: Session, notification_id: str) -> list[str]:
    """The notifications that reply to this one, first recorded first, as their rows recorded them: a reply
    shares its parent's thread, so only that thread's rows are read. A reply none of whose recipients was
    shared it nor held it kept no row, and is not among them."""
    recorded = _recorded(session, notification_id)
    thread = recorded[0] if recorded is not None and recorded[0] is not None else notification_id
    found: dict[str, datetime] = {}
    for table in (OutboxRow, HeldDelivery):
        query = select(table.notification_id, table.log_context, table.created_at).where(col(table.thread_id) == thread)
        for reply, context, created in session.exec(query):
            if context.get("in_reply_to") == notification_id:
                found[reply] = min(created, found.get(reply, created))
    return sorted(found, key=lambda reply: (found[reply], reply))


def _recorded(session: Session, notification_id: str) -> tuple[str | None, object] | None:
    """(thread, in_reply_to) of a notification as any one of its rows (shared, or still held) says."""
    for table in (OutboxRow, HeldDelivery):
        query = select(table.thread_id, table.log_context).where(col(table.notification_id) == notification_id)
        row = session.exec(query.limit(1)).first()
        if row is not None:
            return row[0], row[1].get("in_reply_to")
    return None
