"""The page after sending: the receipt, each recipient's decision and why, what is due by when, and for a
reply the deadlines it met or, held, those its release would meet. Shared by the guided form's Send and a
correction's (`broker.ui.correction_page`).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from broker.db.log import DecisionLog
from broker.review import release, scope, timescales
from broker.review.access import Viewer
from broker.sharing.rules import RuleCatalogue
from broker.ui.form_fields import PAYLOAD
from broker.ui.form_subject import IN_REPLY_TO
from broker.ui.form_types import fields_of
from broker.ui.render import page
from broker.ui.sessions import UiSession
from schemas.vocab import HELD_OUTCOMES

_HELD = frozenset(o.value for o in HELD_OUTCOMES)


async def sent(
    request: Request,
    session: UiSession,
    receipt: dict[str, Any],
    rules: RuleCatalogue,
    *,
    answers: dict[str, str],
    repeat: bool,
    decision_log: DecisionLog,
    viewer: Viewer,
    **context: Any,
) -> HTMLResponse:
    """The receipt as a page: each recipient's decision, why, and what is due by when, linked to its
    decision's page (its sources and what happens next) where the sender may read that."""
    kind = answers.get("message_type", "")  # the form's own type (`prepared` refused any other)
    seqs = await asyncio.to_thread(scope.decisions_of, decision_log.engine, viewer, str(receipt["notification_id"]))
    ids = [r["delivery_id"] for r in receipt["recipients"]]
    met = await asyncio.to_thread(timescales.met_already, decision_log.engine, ids, datetime.now(UTC))
    until = await asyncio.to_thread(release.held_until, decision_log.engine, ids)
    met_now = await asyncio.to_thread(timescales.reply_met, decision_log.engine, str(receipt["notification_id"]))
    recipients = [
        {
            **await explained(r, rules, kind),
            **fields_of(kind, r["allowed_fields"]),
            "seq": seqs.get(r["delivery_id"]),
            "met": met.get(r["delivery_id"], set()),
            "held_until": until.get(r["delivery_id"]),
        }
        for r in receipt["recipients"]
    ]
    replied: dict[str, Any] = {"replies_to": answers.get(IN_REPLY_TO), "deadlines_met": met_now}
    # A held reply meets nothing yet: its sender is told what its release would meet, and by when, as its
    # authoriser's card says; read alone, the date a held share is destroyed looked like the deadline.
    held = sorted({r["agency_id"] for r in receipt["recipients"] if r["outcome"] in _HELD})
    if replied["replies_to"] and held:
        replied["meets_on_release"] = await asyncio.to_thread(
            timescales.held_reply_meets,
            decision_log.engine,
            in_reply_to=str(replied["replies_to"]),
            replier=session.agency_id,
            waiting=held,
            message_type=kind,
            stage=answers.get(PAYLOAD + "stage"),
        )
    return page(
        request, "submitted.html", session, receipt=receipt, recipients=recipients, repeat=repeat, **replied, **context
    )


async def explained(recipient: dict[str, Any], rules: RuleCatalogue, message_type: str) -> dict[str, Any]:
    """A receipt's recipient with its findings titled; the deciding ones are marked so the page puts
    them first and lists the rest apart."""
    deciding = {(r["rule"], r["message"]) for r in recipient["decided_by"]}
    blocking = set(recipient.get("blocking_reasons", []))
    reasons = [
        {**r, "deciding": (r["rule"], r["message"]) in deciding, "blocking": i in blocking}
        for i, r in enumerate(await rules.explain(recipient["reasons"], message_type=message_type))
    ]
    decided_by = await rules.explain(recipient["decided_by"], message_type=message_type)
    return {**recipient, "decided_by": decided_by, "reasons": reasons}
