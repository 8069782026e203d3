"""The audit page for the partnership's IG lead and Caldicott Guardian: totals, shares on a basis other than consent,
urgent shares awaiting review, the integrity of the whole log and how far each agency has witnessed it,
and signed evidence packs for a period, proven under the newest checkpoint the broker signed or under the
newest one at least N agencies' witnesses cosigned (`audit.export_pack`, as `python -m audit export
--min-witnesses N` proves it).

All of it spans the partnership, so the access table opens it (`audit`) to the partnership's office
holders only; the route check in `broker.ui.routes._session` refuses everyone else.
"""

from __future__ import annotations

import asyncio
import calendar
import io
from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Select, func, or_, select
from sqlmodel import Session, col

import audit
from broker.api.deps import LogDep, MetricsDep, RegistryDep
from broker.db.log import DecisionLog
from broker.db.witnessing import Witnessing, witnessing
from broker.errors import LogUnavailable, ReviewInvalid
from broker.review import queues as review
from broker.review import views as decision_view
from broker.ui import words as say
from broker.ui.charts import bar_chart
from broker.ui.policy_pack import PackDep
from broker.ui.render import OUTCOMES, agency_names, page, words
from broker.ui.routes import PostedDep, SessionDep, ViewerDep, text
from schemas.vocab import HELD_OUTCOMES, SHARED_OUTCOMES

router = APIRouter(prefix="/ui", include_in_schema=False)
TAMPERED = (
    "no evidence pack while the decision log is found tampered with: check it with `python -m audit verify` "
    "against a checkpoint an agency kept"
)
# A share rests on consent only where the policy gave it the lawful basis "consent", which it does
# only for a recipient the consent covers (GR4); every other share went on another basis, whatever
# the notification's consent records say (an IG lead found the notification-wide consent state
# counting a share within a young person's consent as without it, and missing shares outside one).
ON_CONSENT = "consent"


def _counts(db: Session, column: Any) -> list[tuple[str, int]]:
    statement = (
        select(column, func.count())
        .where(col(audit.Entry.kind) == audit.EventKind.DECIDED)
        .group_by(column)
        .order_by(func.count().desc())
    )
    return [(str(key), int(n)) for key, n in db.execute(statement).all()]


def _months(db: Session) -> list[tuple[str, int]]:
    # London months, as every page counts days: a decision at 23:30 UTC on 31 May is June's in BST. The
    # log's text times are UTC, so SQL's substr would count UTC months; this reads every time once,
    # as the integrity check beside it reads every entry.
    times = db.execute(select(col(audit.Entry.recorded_at)).where(col(audit.Entry.kind) == audit.EventKind.DECIDED))
    return sorted(Counter(say.local_month(t) for (t,) in times).items())


def _month_filter(month: str) -> dict[str, str]:
    """The Decisions list's From and To for a London month (`2026-06`): its first and last day."""
    year, number = (int(part) for part in month.split("-"))
    return {"since": f"{month}-01", "until": f"{month}-{calendar.monthrange(year, number)[1]:02d}"}


def _listed(**query: str) -> str:
    """Where the Decisions list shows the decisions a total counts (the audit's readers see them all)."""
    return "/ui/decisions?" + urlencode(query)


def _ended(db: Session, kind: str) -> int:
    decided = select(func.count()).where(col(audit.Entry.kind) == audit.EventKind.DECIDED, decision_view.ended_as(kind))
    return int(db.execute(decided).scalar_one())


def _released() -> Select[str]:
    """The deliveries held for an authoriser or an adviser and released since: shares too, and the ones
    an IG lead audits most, authorised without consent."""
    return select(col(audit.Entry.delivery_id)).where(
        col(audit.Entry.kind).in_([audit.EventKind.AUTHORISATION_GRANTED, audit.EventKind.ADVICE_GIVEN]),
        col(audit.Entry.outcome) == "released",
    )


def _held_ends(db: Session) -> list[tuple[str, int]]:
    """How the shares held for an answer ended: the outcome totals count them as held for ever."""
    held = select(col(audit.Entry.delivery_id)).where(
        col(audit.Entry.kind) == audit.EventKind.DECIDED, col(audit.Entry.outcome).in_([o.value for o in HELD_OUTCOMES])
    )
    total = int(db.execute(select(func.count()).select_from(held.subquery())).scalar_one())
    answered = db.execute(
        select(col(audit.Entry.kind), col(audit.Entry.outcome), func.count(func.distinct(col(audit.Entry.delivery_id))))
        .where(col(audit.Entry.kind).in_(decision_view.ANSWERS), col(audit.Entry.delivery_id).in_(held))
        .group_by(col(audit.Entry.kind), col(audit.Entry.outcome))
    ).all()
    released = sum(n for _, outcome, n in answered if outcome == "released")
    expired = sum(n for kind, _, n in answered if kind == audit.EventKind.EXPIRED)
    refused = sum(n for _, _, n in answered) - released - expired
    # Ended while still waiting: an IG lead read one row for these and those still waiting, and could not
    # tell a sender's second thoughts from a queue nobody answers.
    recalled = db.execute(
        select(func.count(func.distinct(col(audit.Entry.delivery_id)))).where(
            col(audit.Entry.kind).in_(decision_view.ENDINGS),
            col(audit.Entry.delivery_id).in_(held),
            col(audit.Entry.delivery_id).not_in(
                select(col(audit.Entry.delivery_id)).where(col(audit.Entry.kind).in_(decision_view.ANSWERS))
            ),
        )
    ).scalar_one()
    return [
        ("Released by an adviser or authoriser", released),
        ("Refused", refused),
        ("Destroyed, nobody having answered in time", expired),
        ("Withdrawn or corrected by its sender, or shredded with its case, before an answer", int(recalled)),
        (
            "No answer yet: waiting in the queue of those who may answer it",
            total - released - refused - expired - int(recalled),
        ),
    ]


def totals(decision_log: DecisionLog, asks_consent: Mapping[str, bool] | None = None) -> dict[str, Any]:
    """The page's totals; `asks_consent` (each kind's, from the policy pack) splits the shares not on consent."""
    with Session(decision_log.engine) as db:
        months = _months(db)
        no_consent = db.execute(
            select(
                col(audit.Entry.lawful_basis),
                col(audit.Entry.consent_state),
                col(audit.Entry.message_type),
                func.count(),
            )
            .where(
                col(audit.Entry.kind) == audit.EventKind.DECIDED,
                or_(
                    col(audit.Entry.outcome).in_([o.value for o in SHARED_OUTCOMES]),
                    col(audit.Entry.delivery_id).in_(_released()),
                ),
                or_(col(audit.Entry.lawful_basis).is_(None), col(audit.Entry.lawful_basis) != ON_CONSENT),
            )
            .group_by(col(audit.Entry.lawful_basis), col(audit.Entry.consent_state), col(audit.Entry.message_type))
        ).all()
        outcomes, kinds = _counts(db, col(audit.Entry.outcome)), _counts(db, col(audit.Entry.message_type))
        senders = _counts(db, col(audit.Entry.sender_agency))
        ended = [(kind, _ended(db, kind)) for kind in decision_view.ENDINGS]
        return {
            "outcome": [(words(k, OUTCOMES), n) for k, n in outcomes],
            "agency": senders,
            "message_type": [(say.type_name(k), n) for k, n in kinds],
            "month": [(say.month_words(m), n) for m, n in months],
            # Each total as the Decisions list filters it, so a reader goes from a count to its decisions.
            "listed": {
                "outcome": {words(k, OUTCOMES): _listed(outcome=k) for k, _ in outcomes},
                "agency": {k: _listed(sender=k) for k, _ in senders},
                "message_type": {say.type_name(k): _listed(message_type=k) for k, _ in kinds},
                "month": {say.month_words(m): _listed(**_month_filter(m)) for m, _ in months},
            },
            # Each total counts what was decided; these say how many of those decisions ended since.
            "ended": [(kind, n, _listed(ended=kind)) for kind, n in ended],
            "held": _held_ends(db),
            "no_consent": _not_on_consent([tuple(row) for row in no_consent], asks_consent),
            **_urgent_reviews(db),
        }


def _not_on_consent(rows: list[tuple[Any, ...]], asks_consent: Mapping[str, bool] | None) -> list[dict[str, Any]]:
    """Shares on a basis other than consent, by that basis, the consent record and whether their kind asks
    consent at all. A kind the procedures ask none for (a child death, a missing child) passes over no
    consent, and a Caldicott Guardian reads those apart from the kinds that ask it (None: OPA could not say)."""
    counted: Counter[tuple[str, str, bool | None]] = Counter()
    kinds: dict[tuple[str, str, bool | None], set[str]] = {}
    for basis, state, kind, n in rows:
        key = (basis or "none declared", state, asks_consent.get(kind) if asks_consent is not None else None)
        counted[key] += n
        kinds.setdefault(key, set()).add(say.type_name(kind))  # so a row says what it counts
    first = {True: 0, None: 1, False: 2}
    ordered = sorted(counted.items(), key=lambda item: (first[item[0][2]], item[0][0], item[0][1]))
    return [
        {"lawful_basis": b, "consent_state": c, "asks_consent": a, "kinds": sorted(kinds[(b, c, a)]), "count": n}
        for (b, c, a), n in ordered
    ]


def _urgent_reviews(db: Session) -> dict[str, Any]:
    """The urgent shares' reviews by finding, and those not upheld, each with whether it was withdrawn
    since from that recipient: what a share reviewed as one that should not have gone led to."""
    reviewed = col(audit.Entry.kind) == audit.EventKind.URGENT_REVIEWED
    found = db.execute(
        select(col(audit.Entry.outcome), func.count()).where(reviewed).group_by(col(audit.Entry.outcome))
    )
    newest = select(audit.Entry).where(reviewed, col(audit.Entry.outcome) == "not_upheld")
    rows = list(db.execute(newest.order_by(col(audit.Entry.seq).desc()).limit(50)).scalars())
    withdrawn = set(
        db.execute(
            select(col(audit.Entry.delivery_id)).where(
                col(audit.Entry.kind) == audit.EventKind.WITHDRAWN,
                col(audit.Entry.delivery_id).in_([e.delivery_id for e in rows]),
            )
        ).scalars()
    )
    return {
        "urgent_reviewed": [(words(k, OUTCOMES), n) for k, n in found],
        "not_upheld": [
            {"seq": e.follows[0] if e.follows else None, "entry": e, "withdrawn": e.delivery_id in withdrawn}
            for e in rows
        ],
    }


def integrity(decision_log: DecisionLog) -> dict[str, Any]:
    """Re-verify every entry, checkpoint signature and the chain head (O(n); fine at audit scale)."""
    try:
        with Session(decision_log.engine) as db:
            report = audit.verify_log(db, decision_log.verify_keys)
    except audit.AuditError as exc:
        return {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
    return {
        "ok": True,
        "size": report.size,
        "checkpoints": report.checkpoints,
        "root": report.root,
        "detail": f"all {report.size} entries and {report.checkpoints} signed checkpoints verify",
    }


@router.get("/audit")
async def audit_page(
    request: Request,
    decision_log: LogDep,
    session: SessionDep,
    viewer: ViewerDep,
    metrics: MetricsDep,
    registry: RegistryDep,
    pack: PackDep,
) -> HTMLResponse:
    stats = await asyncio.to_thread(totals, decision_log, await pack.asks_consent())
    check = await asyncio.to_thread(integrity, decision_log)
    witnessed = await asyncio.to_thread(witnessing, decision_log, registry)
    metrics.record_verification(bool(check["ok"]))  # a check someone asked for counts as the latest
    urgent = await asyncio.to_thread(review.queues_for, decision_log, viewer)
    names = agency_names(request)  # as the tables say them
    charts = {
        "outcome": bar_chart("Decisions by outcome", stats["outcome"]),
        "agency": bar_chart("Decisions by sending agency", [(names.get(k, k), n) for k, n in stats["agency"]]),
        "message_type": bar_chart("Decisions by message type", stats["message_type"]),
        "month": bar_chart("Decisions by month", stats["month"]),
    }
    return page(
        request,
        "audit.html",
        session,
        stats=stats,
        charts=charts,
        integrity=check,
        witnesses=witnessed,
        urgent=urgent["urgent_review"],
        proven_under=proven_under(witnessed),
    )


def proven_under(witnessed: Witnessing) -> dict[str, Any]:
    """The evidence pack's choice of checkpoint: at least how many agencies' witnesses cosigned it (0: the
    newest the broker signed), offered up to the agencies that have cosigned a checkpoint with entries in
    it (more could prove nothing yet); 1 by default once any has, as `verify-pack --witness-key` then
    wants one cosignature."""
    cosigners = sum(1 for row in witnessed.rows if row.size)
    return {"choices": list(range(cosigners + 1)), "default": 1 if cosigners else 0}


def _day(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ReviewInvalid("a date is not valid", {name: "Use a date like 2026-01-31."}) from None


def _witnesses_wanted(value: str, registered: int) -> int:
    """The form's "Proven under": at least how many agencies' witnesses cosigned the checkpoint (none
    given: 0, the newest checkpoint the broker signed, as before the choice was offered)."""
    if not value:
        return 0
    if not value.isdigit():
        raise ReviewInvalid("choose a number of witnesses", {"min_witnesses": "Choose one of the choices offered."})
    wanted = int(value)
    if wanted > registered:
        said = f"only {registered} {'agency has' if registered == 1 else 'agencies have'} a witness key"
        raise ReviewInvalid(f"{said}: nothing was exported", {"min_witnesses": say.sentence(said) + "."})
    return wanted


@router.post("/audit/export")
async def export(decision_log: LogDep, session: SessionDep, form: PostedDep, registry: RegistryDep) -> Response:
    """A signed evidence pack (JSONL) of every entry in the period, provable offline."""
    first, last = _day(text(form, "since"), "since"), _day(text(form, "until"), "until")
    if first is not None and last is not None and last < first:
        # A signed pack of nothing would read as a period with nothing in it.
        said = "the last day is before the first day (From): nothing was exported"
        raise ReviewInvalid(said, {"until": say.sentence(said) + "."})
    # Each agency's registered witness keys: only a cosignature that verifies under one counts, as on the page.
    witnesses = [k.witness() for a in registry.agencies.values() for k in a.witness_keys]
    registered = sum(1 for a in registry.agencies.values() if a.witness_keys)
    wanted = _witnesses_wanted(text(form, "min_witnesses"), registered)
    # The days a person counts on the other pages: London days, so a summer pack starts at 23:00 UTC.
    since = say.local_day_start(first) if first is not None else None
    until = say.local_day_end(last) if last is not None else None  # "until" a date includes that day
    body, proven = await asyncio.to_thread(_pack, decision_log, since, until, wanted, witnesses)
    # Named by what it proves: "to now" read as the whole log where the checkpoint left later entries out.
    end = text(form, "until") or f"checkpoint-{proven.checkpoint.size}"
    name = f"evidence-pack-{text(form, 'since') or 'start'}-to-{end}.jsonl"
    return Response(
        body,
        media_type="application/x-ndjson",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


def _pack(
    decision_log: DecisionLog,
    since: datetime | None,
    until: datetime | None,
    min_witnesses: int = 0,
    witnesses: list[audit.WitnessKey] | None = None,
) -> tuple[str, audit.PackSummary]:
    # Under the checkpoint this gateway vouches for, never one signed over the chain-head row as found:
    # that would put the broker's signature on a history an insider rewrote (`refresh_checkpoint`).
    vouched = decision_log.refresh_checkpoint() and decision_log.integrity_alarm is None
    if not vouched or decision_log.checkpoint_note is None:
        raise LogUnavailable(TAMPERED)
    signed = audit.Checkpoint.parse(decision_log.checkpoint_note, verify_with=None)
    out = io.StringIO()
    try:
        with Session(decision_log.engine) as db, db.begin():
            # With a quorum, the newest checkpoint that many agencies cosigned, by cosignatures that verify
            # under their registered keys, over a checkpoint a broker key signed (what the page counts).
            proven = audit.export_pack(
                db,
                out,
                decision_log.signer,
                since=since,
                until=until,
                signed=signed,
                min_witnesses=min_witnesses,
                witnesses=witnesses or [],
                keys=decision_log.verify_keys,
            )
    except audit.NotWitnessed as exc:
        agencies = "agency's witness" if exc.required == 1 else f"{exc.required} agencies' witnesses"
        said = (
            f"no checkpoint has been cosigned by {'an' if exc.required == 1 else 'at least'} {agencies} yet, so "
            "no evidence pack was made. Choose fewer witnesses (none: the newest checkpoint the broker signed), "
            "or try again once more agencies' consumers have cosigned a checkpoint"
        )
        raise ReviewInvalid(said, {"min_witnesses": say.sentence(said) + "."}) from exc
    except audit.VerificationError as exc:
        # A witnessed checkpoint the broker signed whose root the stored leaves no longer give: as when signing.
        decision_log.report_tampering(f"evidence pack refused: {type(exc).__name__}", getattr(exc, "tree_size", None))
        raise LogUnavailable(TAMPERED) from exc
    return out.getvalue(), proven
