"""What a notification asked for each of its recipients, as the policy input kept beside its decisions
holds it: the team (role) each was addressed to, and each consent record as it bears on that recipient.

The decided entries keep the recipient agency, not its team, and one word for the whole notification's
consent (`consent_state`). The input kept for replay (`audit.models.PolicyInputRecord`) keeps each
recipient with its role, in the order of the entries it produced (`seqs`), and each consent record with
whose it is and its scope. A scope is answered here only as covering one recipient or not: its lists
name the other agencies the sender chose, which a recipient must not learn, so they go no further.

A consent the policy set aside as its giver's not to give (`unfit` in
policies/safeguarding/context/capacity.rego) says so and why, read from the same kept input by the
policy's own conditions: a reader must not take it for consent the share rested on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from audit.models import PolicyInputRecord
from broker.db.log import DecisionLog
from broker.partnership.registry import Registry


@dataclass(frozen=True)
class Consent:
    """One consent record as it bears on one recipient: its codes and flags, never its scope's names."""

    giver: str  # schemas.vocab.ConsentGiver
    status: str  # schemas.vocab.ConsentStatus
    covers_agency: bool  # its scope names this recipient, by id or by type, or no scope limits it
    covers_purpose: bool  # its scope names the notification's purpose, or no scope limits it
    privacy_notice_given: bool | None  # None: not recorded
    # Why the policy set it aside as not its giver's to give, in words; None: it was not set aside.
    set_aside: str | None = None


@dataclass(frozen=True)
class Addressed:
    """What the notification asked for one recipient: the team it went to, and the consent it recorded."""

    role: str
    consent: tuple[Consent, ...]


async def read(decision_log: DecisionLog, notification_id: str, registry: Registry) -> dict[int, Addressed]:
    """`addressed`, in a session of its own off the event loop, a scope's agency types read in the registry."""
    types = {agency_id: agency.type for agency_id, agency in registry.agencies.items()}
    return await asyncio.to_thread(_read, decision_log, notification_id, types)


def _read(decision_log: DecisionLog, notification_id: str, agency_types: Mapping[str, str]) -> dict[int, Addressed]:
    with Session(decision_log.engine) as session:
        return addressed(session, notification_id, agency_types)


def addressed(session: Session, notification_id: str, agency_types: Mapping[str, str]) -> dict[int, Addressed]:
    """Each decided entry's recipient (by the entry's seq) as the notification addressed it, with
    `agency_types` (agency id to type, the registry's) to read a scope given by agency type. Empty
    where no input was kept: a notification decided before the inputs were."""
    kept = session.exec(
        select(PolicyInputRecord).where(col(PolicyInputRecord.notification_id) == notification_id)
    ).first()
    if kept is None:
        return {}
    document = kept.document
    records = document.get("consent") or []
    subjects = document.get("subjects") or []
    asked = zip(kept.seqs, document.get("recipients") or [], strict=False)
    return {
        seq: Addressed(
            str(r["role"]),
            tuple(_bearing(c, r, agency_types, document.get("purpose"), subjects) for c in records),
        )
        for seq, r in asked
        if r.get("role")
    }


def _bearing(
    record: Mapping[str, Any],
    recipient: Mapping[str, Any],
    agency_types: Mapping[str, str],
    purpose: str | None,
    subjects: Sequence[Mapping[str, Any]],
) -> Consent:
    """A consent record for one recipient, its scope read as the policy reads it (`covers` in
    policies/safeguarding/context/context.rego): once either list of agencies, by id or by type, is
    given, the recipient must be in one; purposes likewise; a list absent or null limits nothing."""
    by_id, by_type = record.get("scope_agencies"), record.get("scope_agency_types")
    agency = str(recipient["agency_id"])
    in_scope = (
        (by_id is None and by_type is None) or agency in (by_id or ()) or agency_types.get(agency) in (by_type or ())
    )
    purposes = record.get("scope_purposes")
    return Consent(
        giver=str(record.get("giver")),
        status=str(record.get("status")),
        covers_agency=in_scope,
        covers_purpose=purposes is None or purpose in purposes,
        privacy_notice_given=record.get("privacy_notice_given"),
        set_aside=set_aside(record, subjects),
    )


# Why a consent was set aside, by the policy's giver (capacity.rego's `_unable`).
NOT_GILLICK_COMPETENT = "the young person is recorded as not Gillick competent"
CHILD_LACKS_CAPACITY = "the young person is recorded as lacking capacity for this decision"
ADULT_LACKS_CAPACITY = "the person is recorded as lacking capacity for this decision"
_ADULT_SUBJECTS = ("adult_victim", "adult_at_risk")


def set_aside(record: Mapping[str, Any], subjects: Sequence[Mapping[str, Any]]) -> str | None:
    """Why the policy set this consent aside (capacity.rego's `unfit`), or None: only explicit consent, the
    child's where a child subject is recorded "no" for Gillick competence or capacity and no child subject
    is recorded able to decide (the policy then takes the consent as the able child's), the adult
    subject's where an adult victim or adult at risk is recorded "no" for capacity. Not assessed is no
    finding. A subject missing either record leaves the policy's set of the two undefined: no finding."""
    if record.get("status") != "given_explicit":
        return None
    giver = record.get("giver")
    if giver == "child":
        children = [pair for s in subjects if s.get("role_in_case") == "child" and (pair := _assessed(s))]
        if any("yes" in pair and "no" not in pair for pair in children):
            return None  # capacity.rego's `competent_child`
        unable = [pair for pair in children if "no" in pair]
        if not unable:
            return None
        return NOT_GILLICK_COMPETENT if any(pair[0] == "no" for pair in unable) else CHILD_LACKS_CAPACITY
    adults = (s for s in subjects if s.get("role_in_case") in _ADULT_SUBJECTS)
    if giver == "adult_subject" and any(s.get("mental_capacity") == "no" for s in adults):
        return ADULT_LACKS_CAPACITY
    return None


def _assessed(subject: Mapping[str, Any]) -> tuple[Any, Any] | None:
    """A subject's Gillick competence and capacity, as the policy's `{s.gillick_competent, s.mental_capacity}`
    reads them: None where either is missing, which leaves that set, and the rule using it, undefined."""
    if "gillick_competent" not in subject or "mental_capacity" not in subject:
        return None
    return subject["gillick_competent"], subject["mental_capacity"]
