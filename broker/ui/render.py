"""Templates and the words the UI uses for codes (outcomes, roles, kinds)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from broker.api.deps import registry_of
from broker.api.errors import URGENT_ROUTE
from broker.partnership.registry import Registry
from broker.review import access
from broker.review.detail import SENDERS_REASON
from broker.review.queues import QueueItem
from broker.review.release import receipt_refusal, receipt_wait
from broker.review.views import title_words
from broker.ui import words as say
from broker.ui.form_types import label_of
from broker.ui.plain import duty, plain, recall_reason, who
from broker.ui.sessions import UiSession

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))

OUTCOMES = {
    "share": "Shared",
    "share_minimised": "Shared (minimised)",
    "share_urgent_review_after": "Shared urgently, review after",
    "hold_for_authorisation": "Held for authorisation",
    "needs_advice": "Needs advice",
    "no_share": "Not shared",
    "released": "Released",
    "withheld": "Withheld",
    "reviewed": "Reviewed",
    "upheld": "Reviewed: upheld, it was right to share it at once",
    "not_upheld": "Reviewed: not upheld, it should not have gone to this recipient",
    "expired": "Expired unanswered",
    "shredded": "Shredded",
}
_STATUS_TITLES = {
    400: "That page address is not valid",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed at this address",
    409: "Already decided",
    422: "Please check the form",
    503: "Service unavailable",
}
_CODE_TITLES = {
    "release_not_allowed": "This share cannot be released",
    "already_shredded": "Shredded with its case",
    "already_withdrawn": "Already withdrawn or corrected",
}
# What a person is told when the log's database fails. The mapping hands the page `str(exc)`, which for
# a driver's error (OperationalError) is its SQL, parameters, host and user: never for a browser. The
# sentence is true of every log_unavailable error: nothing was recorded, so nothing was done or shown.
_CODE_DETAILS = {
    # A mistyped or edited address (`/ui/decisions/abc`): FastAPI's field errors are for a program.
    "request_invalid": "Check the address, or go back and use the page's links and filters.",
    "log_unavailable": "The decision log cannot be reached just now, so nothing was recorded, shared or shown. "
    "Try again in a few minutes.",
}
# The menu; each link shows only to those the access table lets open its page.
NAV = (
    ("Decisions", "/ui/decisions"),
    ("Queues", "/ui/queues"),
    ("Urgent review", "/ui/urgent"),
    ("Overdue", "/ui/overdue"),
    ("Access log", "/ui/access"),
    ("Audit", "/ui/audit"),
    ("Policy replay", "/ui/replay"),
    ("Case review", "/ui/case-review"),
    ("Send a notification", "/ui/submit"),
)
SUBMIT = "/ui/submit"
# The answers that refuse the reader (not allowed; beyond their reach): never a link back into them.
REFUSALS = frozenset({403, 404})


def words(code: str | None, table: dict[str, str]) -> str:
    if code is None:
        return "—"
    return table.get(code, code.replace("_", " "))


TEMPLATES.env.filters["outcome"] = lambda code: words(code, OUTCOMES)
# Every role and team as the form offers it, first letter up, whether or not its code reads as words.
TEMPLATES.env.filters["role"] = lambda code: "—" if code is None else say.option(code, say.ROLES)
TEMPLATES.env.filters["label"] = lambda code: words(code, {})
TEMPLATES.env.filters["event"] = lambda code: words(code, say.EVENTS)
TEMPLATES.env.filters["basis"] = lambda code: words(code, say.LAWFUL_BASES)
TEMPLATES.env.filters["consent"] = lambda code: words(code, say.CONSENT_STATES)
TEMPLATES.env.filters["giver"] = lambda code: words(code, say.CONSENT_GIVERS)
TEMPLATES.env.filters["effect"] = lambda code: words(code, say.EFFECTS)
TEMPLATES.env.filters["plain"] = plain
TEMPLATES.env.filters["who"] = who
# What a recipient reads for an adviser's or authoriser's reason: a page words it as withheld, not as the reason.
TEMPLATES.env.globals["senders_reason"] = SENDERS_REASON
TEMPLATES.env.filters["recall_reason"] = recall_reason
# A reason standing alone, not after a colon.
TEMPLATES.env.filters["sentence"] = say.sentence
# A released field as the form asked for it on its type ("Record signed and dated by the DSM").
TEMPLATES.env.filters["field_label"] = lambda name, message_type: label_of(message_type, name)
TEMPLATES.env.filters["duty"] = duty
TEMPLATES.env.filters["local"] = say.local_time
TEMPLATES.env.filters["past"] = say.is_past
TEMPLATES.env.filters["time_left"] = say.time_left
TEMPLATES.env.filters["data_class"] = say.data_class
TEMPLATES.env.filters["kind"] = say.message_type
# A finding's rule title without the id it repeats ("C4 strict need to know" beside "C4").
TEMPLATES.env.filters["finding_title"] = lambda finding: title_words(finding["rule"], finding["title"])
TEMPLATES.env.filters["state_now"] = lambda code: words(code, say.STATES)
TEMPLATES.env.filters["clock_state"] = lambda code: words(code, say.CLOCK_STATES)
# A held share on the sender's answer page: what would end the wait, as its decision page and card say it.
TEMPLATES.env.filters["resolves"] = lambda r: receipt_wait(r["outcome"], r["lawful_basis"], r["decided_by"])
# Why no answer can release a held share, as its receipt gives it (None: one can): the pages say so.
TEMPLATES.env.filters["refuse_only"] = lambda r: receipt_refusal(r["outcome"], r["lawful_basis"], r["decided_by"])


def by_notification(items: list[QueueItem]) -> list[list[QueueItem]]:
    """Queue items by notification, each notification where its first item waits: one notification held for
    several recipients is answered once per recipient, and its cards belong together."""
    found: dict[str, list[QueueItem]] = {}
    for item in items:
        found.setdefault(item.notification_id, []).append(item)
    return list(found.values())


TEMPLATES.env.filters["by_notification"] = by_notification


def sends_as(viewer: access.Viewer, registry: Registry) -> frozenset[str]:
    """The body roles this person may send as: their role's, of those their agency's type has."""
    granted = registry.granted_roles(viewer.agency_id)
    return access.sender_roles(viewer.role, granted, agency_type=viewer.agency_type)


def agency_names(request: Request) -> dict[str, str]:
    """Each registered agency's name by its id, as every page says them."""
    return {agency_id: a.name for agency_id, a in registry_of(request).agencies.items()}


def menu(viewer: access.Viewer | None, registry: Registry) -> list[tuple[str, str]]:
    """The menu's pages this reader may open: the table lets them, and Send only to one who may send."""
    if viewer is None:
        return []
    may_send = bool(sends_as(viewer, registry))
    return [
        (label, path) for label, path in NAV if access.may_route(viewer, "GET", path) and (path != SUBMIT or may_send)
    ]


def _section(path: str) -> tuple[str, str] | None:
    """The menu page an address belongs to: /ui/queues/{id} to Queues, /ui/audit/export to Audit."""
    return next(((p, label) for label, p in NAV if path == p or path.startswith(p + "/")), None)


def way_on(request: Request, status: int, wanted: str, nav: list[tuple[str, str]] | None) -> tuple[str, str]:
    """Where a page answered with an error leads (its path and words), `wanted` being where it would
    go back to and `nav` the reader's menu (None: the reader is not known).

    A mistake (422), a clash (409) or an outage goes back to the menu page the address belongs to, so
    the form can be put right or tried again. A refusal (403, 404) never leads to the address that
    refused, nor to an item's page (it is one more 404 for a reader beyond its reach), nor to a page
    the reader's menu does not offer (a school DSL refused the access log is not sent back to it): only
    to a menu page they may open, else their home, Decisions, which every role reads."""
    home = ("/ui/decisions", "Decisions")
    section = _section(wanted)
    if status not in REFUSALS:
        if section is None or (nav is not None and (section[1], section[0]) not in nav):
            return home
        return section
    here = request.url.path.rstrip("/")
    openable = nav if nav is not None else [(home[1], home[0])]  # a reader unknown: their home only
    ways = [(p, label) for label, p in openable if p != here]
    if section is not None and section in ways:
        return section
    return ways[0] if ways else home


def page(
    request: Request, name: str, session: UiSession | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    registry = registry_of(request)
    agencies = agency_names(request)
    viewer = session.viewer(registry) if session is not None else None
    may_send = viewer is not None and bool(sends_as(viewer, registry))
    nav = menu(viewer, registry)
    if status_code in REFUSALS and isinstance(context.get("back"), str):
        # A page's own "Back to …" link (a withdrawal's to its decision) is no way on from a refusal.
        context["back"] = way_on(request, status_code, context["back"], nav if viewer is not None else None)[0]
    response = TEMPLATES.TemplateResponse(
        request,
        name,
        {
            "session": session,
            "agencies": agencies,
            "nav": nav,
            "viewer": viewer,
            "may_send": may_send,
            "read_at": datetime.now(UTC),
            **context,
        },
        status_code=status_code,
    )
    # Decision pages must not linger in shared browser caches or history snapshots.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def error_page(request: Request, status: int, code: str, detail: str) -> Response:
    """The HTML face of http_errors' mapping for /ui/ paths (same status, same code)."""
    title = _CODE_TITLES.get(code) or _STATUS_TITLES.get(status, "Error")
    # The API's sentence names roles and agencies by code ("a ig_lead may not do this").
    detail = _CODE_DETAILS.get(code) or say.sentence(plain(detail, agency_names(request)))
    detail = detail if detail[-1:] in (".", "?", "!", "") else detail + "."  # the API's lacks the full stop
    # As the API's 503 answers do: a referral that cannot wait goes by phone (the procedures' route).
    urgent = URGENT_ROUTE if status == 503 else None
    # Set before the route check of every page behind sign-in (broker.ui.routes._session).
    viewer: access.Viewer | None = getattr(request.state, "viewer", None)
    nav = menu(viewer, registry_of(request)) if viewer is not None else None
    back = way_on(request, status, request.url.path, nav)
    signed_in: UiSession | None = getattr(request.state, "ui_session", None)
    return page(
        request,
        "error.html",
        signed_in,
        status_code=status,
        title=title,
        code=code,
        detail=detail,
        urgent=urgent,
        back=back,
    )
