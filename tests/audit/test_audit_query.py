"""query() filters and record_view()."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from audit import EventKind, append, query, record_view, verify_log
from tests.audit.conftest import DraftFactory

EPOCH = datetime(2025, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)  # the clock fixture's first reading


def _seed(engine: Engine, make_draft: DraftFactory, clock: Callable[[], datetime]) -> None:
    with Session(engine) as session, session.begin():
        append(
            session,
            [
                make_draft(
                    recipient_agency="police-fictional",
                    outcome="no_share",
                    reasons=[{"rule": "GR4", "message": "No lawful basis for this recipient."}],
                )
            ],
            clock=clock,
        )
        append(session, [make_draft()], clock=clock)
        append(
            session,
            [
                make_draft(
                    message_type="MARAC_REFERRAL",
                    sender_agency="gp-fictional",
                    reasons=[{"rule": "C4", "message": "Need-to-know."}],
                )
            ],
            clock=clock,
        )


def test_filters(engine: Engine, make_draft: DraftFactory, clock: Callable[[], datetime]) -> None:
    _seed(engine, make_draft, clock)
    with Session(engine) as session:

        def seqs(**filters: Any) -> list[int]:
            return [e.seq for e in query(session, **filters)]

        assert seqs() == [0, 1, 2]
        assert seqs(agency="police-fictional") == [0]
        assert seqs(agency="gp-fictional") == [2]
        assert seqs(outcome="no_share") == [0]
        assert seqs(message_type="MARAC_REFERRAL") == [2]
        assert seqs(rule_id="GR4") == [0]
        assert seqs(rule_id="GR") == []
        assert seqs(rule_id="C4") == [2]
        assert seqs(since=EPOCH + timedelta(seconds=1)) == [1, 2]
        assert seqs(until=EPOCH + timedelta(seconds=1)) == [0]
        assert seqs(limit=1, offset=1) == [1]
        assert seqs(kind=EventKind.VIEWED) == []


def test_record_view_appends_a_linked_entry(
    engine: Engine, make_draft: DraftFactory, clock: Callable[[], datetime]
) -> None:
    _seed(engine, make_draft, clock)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        view = record_view(session, seq=1, viewer="user-0007", viewer_role="ig_lead", viewer_agency="lscp-fictional")
    with Session(engine) as session:
        (stored,) = query(session, kind=EventKind.VIEWED)
        assert (stored.seq, stored.follows, stored.actor, stored.actor_agency) == (
            view.seq,
            [1],
            "user-0007",
            "lscp-fictional",
        )
        assert stored.subjects == [] and stored.fields_released == []
        assert verify_log(session).size == 4
