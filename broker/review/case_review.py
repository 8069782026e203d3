"""A case review: every decision the partnership made about one person, for IG leads and Caldicott
Guardians (subject access, serious case reviews, complaints).

The log never holds a name or an NHS number, only the partnership's keyed pseudonym of each person
(`broker.sharing.record.subject_pseudonyms`): with the NHS number it links what every agency sent
about the same child; without it, one agency's own reference links that agency's records. The
reviewer gives the identifier, the gateway turns it into the pseudonym, and the log answers with
decisions: who received which fields, when, on which rules, and what happened next. What is found
is limited by the access table (`case_review`): an agency's IG lead and Caldicott Guardian see
what their agency sent or received, the partnership's see everything. Every search is itself
logged, found or not, and each decision shown is logged as viewed.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, String, cast, select
from sqlmodel import Session, col

import audit
from broker.db.log import DecisionLog
from broker.errors import LogUnavailable, ReviewInvalid
from broker.review import views
from broker.review.access import Action, Scope, Viewer
from broker.review.detail import as_read, corrected_by
from broker.review.scope import first_decision, scope_clause
from broker.review.timescales import overdue_among, read_as_sender
from broker.review.withdrawal import replacement_named
from schemas.case_api import CaseReviewQuery
from schemas.common import Subject

SEARCH_RULE = "SYS-CASE-REVIEW"
SEARCHED = "searched"  # a case review's own entry (kind `viewed`), naming the person's pseudonym
SEARCH = "case_review"  # its message type
SHREDDING = "case_shredding"  # a shredding's case-wide entry (`broker.review.shredding`), naming the same


def person_named(
    secret: bytes, viewer: Viewer, *, nhs_number: str | None, agency_id: str | None, subject_ref: str | None
) -> str:
    """The pseudonym of the person a reviewer names by NHS number, or by an agency's reference (theirs by default)."""
    if nhs_number is None and subject_ref is None:
        raise ReviewInvalid("name the person", {"nhs_number": "Give an NHS number, or a subject_ref."})
    return pseudonym(secret, nhs_number=nhs_number, agency_id=agency_id or viewer.agency_id, subject_ref=subject_ref)


def person_of(secret: bytes, viewer: Viewer, query: CaseReviewQuery) -> str:
    """The pseudonym of the person a case review or a case shredding names (`person_named`)."""
    return person_named(
        secret, viewer, nhs_number=query.nhs_number, agency_id=query.agency_id, subject_ref=query.subject_ref
    )


def pseudonym(secret: bytes, *, nhs_number: str | None, agency_id: str, subject_ref: str | None) -> str:
    """The pseudonym the log keeps for the person the reviewer names (the same key the gateway used)."""
    try:
        subject = Subject.model_validate(
            {
                "subject_ref": subject_ref or "unknown",
                "role_in_case": "child",
                "age_years": None,
                "nhs_number": nhs_number,
            }
        )
    except ValidationError as exc:
        raise ReviewInvalid("not a valid NHS number", {"nhs_number": "Its check digit does not match."}) from exc
    return audit.pseudonymise(secret, subject.linking_key(agency_id))


async def review(decision_log: DecisionLog, viewer: Viewer, person: str) -> dict[str, Any]:
    """Every decision about `person` (a pseudonym) within the viewer's scope, each with what followed,
    and the earlier case reviews of the person the viewer may see."""
    found = await asyncio.to_thread(_decisions, decision_log, viewer, person)
    earlier = await asyncio.to_thread(_searches, decision_log, viewer, person)
    shredded = await asyncio.to_thread(_shreddings, decision_log, person)
    try:
        await decision_log.append([_search_draft(viewer, person, len(found.decisions))])
    except (audit.AuditError, OSError) as exc:
        raise LogUnavailable("the search could not be recorded, so it was not made") from exc
    await views.record_views(decision_log, viewer, [entry for entry, _ in found.decisions], how=views.IN_CASE_REVIEW)
    return {
        "person": person,
        "decisions": [
            {
                **views.summary(
                    entry, state=found.states.get(entry.delivery_id), overdue=entry.delivery_id in found.overdue
                ),
                "fields_released": entry.fields_released,
                "then": [as_read(e, found.replacements.get(e.seq), viewer, entry.sender_agency) for e in later],
            }
            for entry, later in found.decisions
        ],
        "searches": [_logged(e) for e in earlier],
        "shreddings": [_logged(e) for e in shredded],
    }


def _logged(entry: audit.Entry) -> dict[str, Any]:
    """A search or a shredding as the review lists it: who, when, and what the log says of it."""
    return {
        "recorded_at": entry.recorded_at,
        "actor": entry.actor,
        "actor_role": entry.actor_role,
        "actor_agency": entry.actor_agency,
        "message": entry.reasons[0]["message"] if entry.reasons else "",
    }


def names(person: str) -> ColumnElement[bool]:
    """The log entries whose subjects include `person` (a pseudonym)."""
    # The pseudonyms are stored as canonical JSON text: a quoted 64-hex string matches only itself.
    return cast(col(audit.Entry.subjects), String).like(f'%"{person}"%')


@dataclass(frozen=True)
class _Found:
    decisions: list[tuple[audit.Entry, list[audit.Entry]]]  # each decision with what followed it
    states: dict[str, str]  # by delivery, as `views.states_now` reads them
    overdue: set[str]  # the deliveries with a deadline overdue now
    replacements: dict[int, str | None]  # each `corrected` entry's replacement, where the viewer may read it


def _decisions(decision_log: DecisionLog, viewer: Viewer, person: str) -> _Found:
    statement = select(audit.Entry).where(col(audit.Entry.kind) == audit.EventKind.DECIDED, names(person))
    clause = scope_clause(viewer, Action.CASE_REVIEW)
    if clause is not None:
        statement = statement.where(clause)
    with Session(decision_log.engine) as session:
        entries = list(session.execute(statement.order_by(col(audit.Entry.seq))).scalars())
        decisions = [
            (entry, [e for e in views.linked(session, entry) if e.kind != audit.EventKind.VIEWED]) for entry in entries
        ]
        states = views.states_now(session, entries, viewer)
        senders = read_as_sender(viewer, entries)
        late = overdue_among(session, [e.delivery_id for e in entries], datetime.now(UTC), senders=senders)
    corrected = (e for _, later in decisions for e in later if e.kind == audit.EventKind.CORRECTED)
    return _Found(decisions, states, late, {e.seq: _readable(decision_log, viewer, e) for e in corrected})


def _readable(decision_log: DecisionLog, viewer: Viewer, corrected: audit.Entry) -> str | None:
    named = next((n for r in corrected.reasons if (n := replacement_named(r.get("message")))), None)
    if named is None or first_decision(decision_log.engine, viewer, named) is None:
        return None
    return named


def _searches(decision_log: DecisionLog, viewer: Viewer, person: str, limit: int = 50) -> list[audit.Entry]:
    """The earlier case reviews of `person`, newest first: who looked them up is what a Caldicott
    Guardian is asked about. An agency's reviewer sees their own agency's searches; that another
    agency looked a child up is itself something about the child, so the partnership's alone see all."""
    statement = select(audit.Entry).where(
        col(audit.Entry.kind) == audit.EventKind.VIEWED, col(audit.Entry.outcome) == SEARCHED, names(person)
    )
    if viewer.scope(Action.CASE_REVIEW) is not Scope.PARTNERSHIP:
        statement = statement.where(col(audit.Entry.actor_agency) == viewer.agency_id)
    with Session(decision_log.engine) as session:
        return list(session.execute(statement.order_by(col(audit.Entry.seq).desc()).limit(limit)).scalars())


def _shreddings(decision_log: DecisionLog, person: str) -> list[audit.Entry]:
    """The shreddings of `person`'s own case (the case-wide entries, `broker.review.shredding`), newest first."""
    statement = select(audit.Entry).where(
        col(audit.Entry.kind) == audit.EventKind.SHREDDED, col(audit.Entry.message_type) == SHREDDING, names(person)
    )
    with Session(decision_log.engine) as session:
        return list(session.execute(statement.order_by(col(audit.Entry.seq).desc())).scalars())


def _search_draft(viewer: Viewer, person: str, found: int) -> audit.EntryDraft:
    ref = f"case-review-{uuid.uuid4().hex}"
    said = f"Case review of one person: {found} decision{'' if found == 1 else 's'} found."
    return audit.EntryDraft(
        notification_id=ref,
        delivery_id=ref,
        kind=audit.EventKind.VIEWED,
        outcome=SEARCHED,
        sender_agency=viewer.agency_id,
        sender_role=viewer.role,
        recipient_agency=viewer.agency_id,
        message_type=SEARCH,
        reasons=(
            audit.Reason(
                rule=SEARCH_RULE,
                message=said,
            ),
        ),
        subjects=(person,),
        actor=viewer.user,
        actor_role=viewer.role,
        actor_agency=viewer.agency_id,
    )


# A chain of corrections is never longer than this; a longer one is cut, not followed for ever.
_CHAIN = 100


def correction_case(
    session: Session, secret: bytes, *, agency_id: str, notification_id: str, subjects: Sequence[str]
) -> tuple[str, bool]:
    """For a guided-form correction of `notification_id` (its decided entries' `subjects`): the first
    notification of its chain of corrections, whose id a form-only case is named by (`form-<id>`), and
    whether the notification instead named the child by an NHS number or the agency's own reference,
    which the correction must then give again to stay in the child's case (a shredding finds a case
    by it, and would miss a correction filed elsewhere)."""
    first = notification_id
    for _ in range(_CHAIN):
        earlier = corrected_by(session, first)
        if earlier is None:
            break
        first = earlier
    form_only = pseudonym(secret, nhs_number=None, agency_id=agency_id, subject_ref=f"form-{first}")
    return first, form_only not in subjects
