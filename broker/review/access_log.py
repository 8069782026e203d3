"""The access log: refused tokens and changes to the registry, kept in the decision log and read back.

A validly signed token asserting a role its agency was not granted is refused (401) and the
refusal is appended here, with what the token claimed: the agency's own signature makes it
evidence of an agency trying to reach further than it may. When the gateway starts, each signed
change to the registry (`broker.partnership.changes`) it has not logged yet is appended (who
registered, rotated or granted what, when, and the digest of the signed change), and so is a
registry revision it has not seen.
IG leads and Caldicott Guardians read them within the table's `access_log` scope.

So is every other refusal of an authenticated person's action: a second use of their token (401
`replayed`: whoever sent it again held a copy), a route their role may not use (403), an
item beyond their reach, read or acted on (404, with the address tried), a body claiming another
sender or carrying an authoriser's token that proves nothing (422), a release the rules forbid (409);
the person, role and reason are kept, never the body.

A refusal is an `access_refused` entry (message type `access`); a registry change is a
`registry_changed` entry (message type `registry`) whose outcome says what changed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from typing import Any, Final

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

import audit
from broker.db import migration
from broker.db.log import DecisionLog
from broker.errors import RegistryError, RoleNotGranted

# PARTNERSHIP: the registry as a whole is not one agency's, so its entries are seen across the
# partnership only (no agency may take the name: broker.partnership.registry.Agency).
from broker.partnership.changes import PARTNERSHIP, AccessChange, signed_with_current
from broker.partnership.registry import Registry
from broker.review import case_review
from broker.review.access import Action, Viewer
from broker.review.scope import scope_clause

log = logging.getLogger("broker.access")

ACCESS, REGISTRY = "access", "registry"
# Asked for by name only: who looked a person's case up, and who destroyed one (the case-wide entries,
# `broker.review.case_review` and `broker.review.shredding`), so a Caldicott Guardian reads them in one list.
SEARCHES, SHREDDINGS = case_review.SEARCH, case_review.SHREDDING
REFUSED: Final = "access_refused"
REVISION: Final = "registry_revision"
# An operator took into use, on purpose, a registry lacking access changes the log had recorded.
WENT_BACK: Final = "registry_went_back"
CHANGE_OUTCOMES: Final = {
    "grant": "role_granted",
    "revoke": "role_revoked",
    "appoint": "office_appointed",
    "vacate": "office_vacated",
    "register": "agency_registered",
    "rotate": "keys_rotated",
    "adopt": "registry_adopted",
}


def refusal_draft(refused: RoleNotGranted) -> audit.EntryDraft:
    ref = "access-" + hashlib.sha256(f"{refused.agency_id}:{refused.jti}".encode()).hexdigest()[:40]
    actor = refused.subject or f"{refused.role}@{refused.agency_id}"
    return _refused(ref, refused.agency_id, refused.role, actor, refused.detail)


def denial_draft(viewer: Viewer, *, code: str, detail: str, where: str) -> audit.EntryDraft:
    """A refused action by an authenticated person (a route their role may not use, a body claiming
    another sender, an unproven authorisation, a release the rules forbid): evidence for IG leads."""
    ref = "access-" + uuid.uuid4().hex
    return _refused(ref, viewer.agency_id, viewer.role, viewer.user, f"{where}: {code}: {detail}")


def _refused(ref: str, agency_id: str, role: str, actor: str, message: str) -> audit.EntryDraft:
    return audit.EntryDraft(
        notification_id=ref,
        delivery_id=ref,
        kind=audit.EventKind.ACCESS_REFUSED,
        outcome=REFUSED,
        sender_agency=agency_id,
        sender_role=role,
        recipient_agency=agency_id,
        message_type=ACCESS,
        reasons=(audit.Reason(rule="SYS-ACCESS", message=message[:500]),),
        actor=actor,
        actor_role=role,
        actor_agency=agency_id,
    )


async def record_refusal(decision_log: DecisionLog, refused: RoleNotGranted) -> None:
    """Log a refused token; the refusal stands even if the log cannot take it (and that is reported)."""
    await _append(decision_log, refusal_draft(refused), refused.agency_id, refused.role)


async def record_denial(decision_log: DecisionLog, viewer: Viewer, *, code: str, detail: str, where: str) -> None:
    """Log a refused action; the refusal stands even if the log cannot take it (and that is reported)."""
    await _append(
        decision_log, denial_draft(viewer, code=code, detail=detail, where=where), viewer.agency_id, viewer.role
    )


async def _append(decision_log: DecisionLog, draft: audit.EntryDraft, agency_id: str, role: str) -> None:
    try:
        await decision_log.append([draft])
    except Exception:  # the caller is refused either way; losing the record is the operator's to see
        log.exception("a refusal could not be logged (agency %s, role %s)", agency_id, role)


def change_draft(change: AccessChange) -> audit.EntryDraft:
    digest = change.digest()
    return audit.EntryDraft(
        notification_id=f"registry-{digest[:40]}",
        delivery_id=f"registry-{digest[:40]}",
        kind=audit.EventKind.REGISTRY_CHANGED,
        outcome=CHANGE_OUTCOMES[change.action],
        sender_agency=change.agency_id,
        sender_role=change.role,
        recipient_agency=change.agency_id,
        message_type=REGISTRY,
        reasons=(audit.Reason(rule="SYS-REGISTRY", message=change.describe()[:500]),),
        actor=change.by,
        actor_role="operator",
        decision_id=digest,
    )


def revision_draft(registry: Registry) -> audit.EntryDraft:
    grants = sum(len(roles) for roles in registry.grants.values())
    summary = (
        f"registry revision {registry.revision[:16]} of {registry.partnership_id}: "
        f"{len(registry.agencies)} agencies, {grants} role grants, {len(registry.office_holders)} office "
        f"holders, {len(registry.access_changes)} signed access changes"
    )
    return _partnership_draft(f"registry-{registry.revision[:40]}", REVISION, summary, registry.revision)


def _partnership_draft(ref: str, outcome: str, message: str, decision_id: str) -> audit.EntryDraft:
    """A registry entry about the partnership as a whole, not one agency's."""
    return audit.EntryDraft(
        notification_id=ref,
        delivery_id=ref,
        kind=audit.EventKind.REGISTRY_CHANGED,
        outcome=outcome,
        sender_agency=PARTNERSHIP,
        sender_role="operator",
        recipient_agency=PARTNERSHIP,
        message_type=REGISTRY,
        reasons=(audit.Reason(rule="SYS-REGISTRY", message=message[:500]),),
        decision_id=decision_id,
    )


def unlogged(session: Session, registry: Registry) -> list[audit.EntryDraft]:
    """The registry's changes and revision that the log does not hold yet, oldest first."""
    drafts = [change_draft(c) for c in registry.access_changes] + [revision_draft(registry)]
    statement = select(col(audit.Entry.decision_id)).where(
        col(audit.Entry.message_type) == REGISTRY, col(audit.Entry.decision_id).in_([d.decision_id for d in drafts])
    )
    logged = set(session.execute(statement).scalars())
    return [d for d in drafts if d.decision_id not in logged]


def behind(session: Session, registry: Registry) -> list[audit.Entry]:
    """The signed access changes the log recorded that `registry` lacks, oldest first.

    An older copy of the file is signed throughout, so signatures alone would take it back into use,
    undoing every revocation since. Counted from the last going-back an operator accepted.
    """
    accepted = session.execute(
        select(func.max(audit.Entry.seq)).where(
            col(audit.Entry.message_type) == REGISTRY, col(audit.Entry.outcome) == WENT_BACK
        )
    ).scalar_one_or_none()
    statement = (
        select(audit.Entry)
        .where(
            col(audit.Entry.message_type) == REGISTRY,
            col(audit.Entry.outcome).in_(tuple(CHANGE_OUTCOMES.values())),
            col(audit.Entry.seq) > (accepted or 0),
        )
        .order_by(col(audit.Entry.seq))
    )
    held = {change.digest() for change in registry.access_changes}
    return [entry for entry in session.execute(statement).scalars() if entry.decision_id not in held]


def going_back(registry: Registry, missing: list[audit.Entry], accept_revision: str | None) -> audit.EntryDraft:
    """The entry that records an operator's going back; RegistryError unless they named this revision."""
    last = missing[-1].reasons[0]["message"] if missing[-1].reasons else missing[-1].outcome
    changes = "1 signed access change" if len(missing) == 1 else f"{len(missing)} signed access changes"
    lacks = f"lacks {changes} the decision log recorded (the last: {last})"
    if accept_revision != registry.revision:
        raise RegistryError(
            f"the registry file {lacks}: it is an older or another copy, and would undo them. Put the "
            "current file back; to go back on purpose, set SGB_REGISTRY_ACCEPT_REVISION="
            f"{registry.revision} and start again"
        )
    said = f"registry revision {registry.revision[:16]} taken into use on purpose (an operator named it); it {lacks}"
    decision_id = hashlib.sha256(f"{WENT_BACK}:{registry.revision}:{missing[-1].seq}".encode()).hexdigest()
    return _partnership_draft(f"registry-back-{registry.revision[:35]}", WENT_BACK, said, decision_id)


def refuse_if_behind(
    engine: Engine, registry: Registry, *, accept_revision: str | None, signing_key_id: str | None = None
) -> None:
    """For a process that reads the registry but does not log it (the worker): the gateway's start
    checks, without the entries. RegistryError for a registry behind the log, unless named, and for a
    change the log has not seen that a retired broker key signed, when `signing_key_id` names the current one."""
    with Session(engine) as session:
        missing = behind(session, registry)
        new = {d.decision_id for d in unlogged(session, registry)}
    if signing_key_id is not None and accept_revision != registry.revision:
        signed_with_current((c for c in registry.access_changes if c.digest() in new), signing_key_id)
    if missing:
        going_back(registry, missing, accept_revision)


async def record_registry(
    decision_log: DecisionLog,
    registry: Registry,
    *,
    accept_revision: str | None = None,
    signing_key_id: str | None = None,
) -> int:
    """Append what changed in the registry since the log last saw it; how many entries that took.

    Runs once as the gateway starts, before any request: gateways and workers starting together
    take the migration lock (PostgreSQL), so only the first of them logs a change. A registry behind
    the log (`behind`) is refused (RegistryError) unless `accept_revision` names it; so is a change the
    log has not seen that a retired broker key signed, when `signing_key_id` names the current one.
    """

    def append() -> int:
        with migration.exclusive(decision_log.engine), Session(decision_log.engine) as session:
            drafts = unlogged(session, registry)
            if signing_key_id is not None and accept_revision != registry.revision:
                new = {d.decision_id for d in drafts}
                signed_with_current((c for c in registry.access_changes if c.digest() in new), signing_key_id)
            missing = behind(session, registry)
            if missing:
                drafts.append(going_back(registry, missing, accept_revision))
            audit.append(session, drafts)
            session.commit()
            return len(drafts)

    return await asyncio.to_thread(append)


def read(
    decision_log: DecisionLog,
    viewer: Viewer,
    *,
    limit: int,
    offset: int,
    agency: str | None = None,
    subject: str | None = None,
) -> list[audit.Entry]:
    """Refusals and registry changes within the viewer's `access_log` scope, newest first: of one agency,
    and only refusals (`access`), registry changes (`registry`), case searches or shreddings, if asked."""
    subjects = [subject] if subject in (ACCESS, REGISTRY, SEARCHES, SHREDDINGS) else [ACCESS, REGISTRY]
    statement = select(audit.Entry).where(col(audit.Entry.message_type).in_(subjects))
    if agency is not None:  # narrows, never widens: the scope below still applies
        statement = statement.where(col(audit.Entry.sender_agency) == agency)
    clause = scope_clause(viewer, Action.ACCESS_LOG)  # an agency's own refusals and grants; or all
    if clause is not None:
        statement = statement.where(clause)
    statement = statement.order_by(col(audit.Entry.seq).desc()).offset(offset).limit(limit)
    with Session(decision_log.engine) as session:
        return list(session.execute(statement).scalars())


def event(entry: audit.Entry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "recorded_at": entry.recorded_at,
        "kind": entry.kind,
        "outcome": entry.outcome,
        "subject": entry.message_type,
        "agency": entry.sender_agency,
        "role": entry.sender_role,
        "actor": entry.actor,
        "actor_role": entry.actor_role,
        "actor_agency": entry.actor_agency,
        "reasons": entry.reasons,
        # Whose case: the pseudonym the log keeps, so one person's searches are told apart from others'.
        "person": entry.subjects[0] if entry.message_type in (SEARCHES, SHREDDINGS) and entry.subjects else None,
    }
