"""What a notification asked for each of its recipients, as the policy input kept beside its decisions
holds it: the team (role) each was addressed to, and each consent record as it bears on that recipient.

The decided entries keep the recipient agency, not its team, and one word for the whole notification's
consent (`consent_state`). The input kept for replay (`audit.models.PolicyInputRecord`) keeps each
recipient with its role, in the order of the entries it produced (`seqs`), and each consent record with
whose it is and its scope. A scope is answered here only as covering one recipient or not: its lists
name the other agencies the sender chose, which a recipient must not learn, so they go no further.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
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
    asked = zip(kept.seqs, document.get("recipients") or [], strict=False)
    return {
        seq: Addressed(str(r["role"]), tuple(_bearing(c, r, agency_types, document.get("purpose")) for c in records))
        for seq, r in asked
        if r.get("role")
    }


def _bearing(
    record: Mapping[str, Any], recipient: Mapping[str, Any], agency_types: Mapping[str, str], purpose: str | None
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
    )
