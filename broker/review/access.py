"""Who can see and do what: one table of role x action x scope, read by the API, the UI and the tests.

A row is a role a token may assert (once the registry grants it: `broker.partnership.grants`) or a
partnership office; a column is an action; a cell is how far the action reaches:

- `own`: what the person sent (the decided entry's actor is their token's subject), answered, or is named
  on as `sender.user_ref` (see `broker.review.scope`);
- `agency`: what their agency sent or received, narrowed where an action is one side's only (`REACH`,
  the README's words): the sender's status view and deciding a held or urgent item, what their agency
  sent (advice and authorisation belong to the sender's side); redelivery, what was shared with it;
- `partnership`: everything in the partnership;
- `none`: not at all (the route answers 403).

An office holder acts with the wider of their role's row and their office's row. An item outside
the caller's scope is answered exactly like one that does not exist (404), so ids cannot be probed.
Every route is listed in `ROUTES` (or `OPEN_ROUTES`); the gateway refuses a route it finds in
neither, so a new route without a rule is closed until someone writes its rule here.
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from broker.admission.tokens import Caller
from broker.errors import Forbidden
from broker.partnership.roles import AGENCY_SYSTEM, OFFICES, PERSON_ROLES, a_role
from schemas.agencies import role_names
from schemas.common import as_ref


class Scope(StrEnum):
    NONE = "none"
    OWN = "own"
    AGENCY = "agency"
    PARTNERSHIP = "partnership"

    @property
    def rank(self) -> int:
        return list(Scope).index(self)


class Action(StrEnum):
    SEND = "send"  # post a notification as oneself, for one's own agency
    STATUS = "status"  # the sender's status view of a notification
    DECISIONS = "decisions"  # read decisions (list and detail, each read logged)
    OVERDUE = "overdue"  # read deadlines that ran out
    ADVICE = "answer_advice"  # answer a needs_advice item (GR3)
    AUTHORISE = "authorise"  # answer a hold_for_authorisation item (GR4)
    URGENT_REVIEW = "review_urgent"  # review an urgent share after it went (C7, I14)
    ACCESS_LOG = "access_log"  # refused tokens and registry changes
    AUDIT = "audit"  # partnership totals, integrity, signed evidence packs
    CASE_REVIEW = "case_review"  # every decision about one person (subject access, case reviews)
    REDELIVER = "redeliver"  # ask for a delivery again while the outbox keeps it (a consumer fell behind)
    WITHDRAW = "withdraw"  # withdraw or correct a notification that was sent (recall it from every inbox)
    SHRED = "shred"  # destroy a case's keys: every stored copy of what was shared about one child


class Relation(StrEnum):
    """How an item stands to the person asking; the scope that covers it is the same rank or wider."""

    SELF = "self"  # they sent it
    AGENCY = "agency"  # their agency sent (or, for reads, received) it
    OTHER = "other"  # neither


NO, OWN, AGY, PTN = Scope.NONE, Scope.OWN, Scope.AGENCY, Scope.PARTNERSHIP
COLUMNS: Final = tuple(Action)
# Why each row is what it is: domain brief §10 (roles) and §12 (DSL view; IG/Caldicott view).
ROWS: Final[dict[str, tuple[Scope, ...]]] = {
    # Columns in COLUMNS' order: send status decisions overdue advice authorise urgent access audit
    # case-review redeliver withdraw shred.
    "agency_system": (AGY, AGY, AGY, AGY, NO, NO, NO, NO, NO, NO, AGY, AGY, NO),
    "practitioner": (OWN, OWN, OWN, OWN, NO, NO, NO, NO, NO, NO, NO, OWN, NO),
    "dsl": (AGY, AGY, AGY, AGY, AGY, NO, AGY, NO, NO, NO, NO, AGY, NO),
    "ig_lead": (NO, AGY, AGY, AGY, AGY, NO, AGY, AGY, NO, AGY, NO, NO, NO),
    "caldicott_guardian": (NO, AGY, AGY, AGY, AGY, NO, AGY, AGY, NO, AGY, NO, NO, NO),
    "line_manager": (AGY, OWN, OWN, OWN, NO, AGY, NO, NO, NO, NO, NO, AGY, NO),
    # GR3's advice is to be sought from a "named or designated professional" among others (domain brief
    # §4.1, NEEDS_ADVICE; §5.4), so they answer advice as a DSL does.
    "named_professional": (AGY, AGY, AGY, AGY, AGY, AGY, AGY, NO, NO, NO, NO, AGY, NO),
    "partnership_ig_lead": (NO, NO, PTN, PTN, PTN, NO, PTN, PTN, PTN, PTN, NO, NO, PTN),
    "partnership_caldicott_guardian": (NO, NO, PTN, PTN, PTN, NO, PTN, PTN, PTN, PTN, NO, NO, PTN),
}
TABLE: Final = {who: dict(zip(COLUMNS, row, strict=True)) for who, row in ROWS.items()}
# What a cell reaches, as the README says it above the table (markdown()). `agency` is what the agency
# sent or received (broker.review.scope), except for the actions that are one side's only: the status
# view is the sender's (broker.review.status: a recipient gets 404 and reads its deliveries as
# decisions), advice, authorisation and urgent review are the sender's side (may_decide), a redelivery
# is the recipient's (broker.delivery.redelivery), and a withdrawal the sender's, or a children's
# social care front door's for what it received (broker.review.withdrawal).
REACH: Final = (
    "A cell's reach: *own*, what the person sent, answered (advice, authorisation, urgent review) or is named"
    " on (`sender.user_ref`, when their agency's system posts for them); *agency*, what their agency sent or "
    "received (shared with it: not a no-share, nor a share still held), but for *status* (the sender's view: "
    "a recipient agency reads its deliveries under *decisions*, and the status of a notification it received "
    "answers 404), *answer advice*, *authorise* and *review urgent* only what it sent, for *redeliver* only "
    "what was shared with it, and for *withdraw* what it sent (children's social care also its own copy of "
    "what it received); *partnership*, everything; *—*, the route answers 403. An item beyond the reach "
    "answers 404, exactly like one that does not exist; the attempt is in the access log, which tells the IG "
    "lead which of the two it was. An office holder acts with the wider of their "
    "role's row and their office's row. A practitioner or line manager at a service whose every role queue is"
    " a practitioner's (a LADO, a MARAC) reads *decisions* and *overdue* as *agency*: what reaches it is"
    " addressed to them."
)
PRINCIPALS: Final = (AGENCY_SYSTEM, *PERSON_ROLES, *OFFICES)

# The body roles (schemas.vocab.AgencyRole) each token role may send as: the body's `sender.role`
# must be one of them, and one its agency's type has (schemas.agencies.AGENCY_ROLES), so a police
# practitioner never records a share as a GP's. An agency system sends for its people, so it may use
# those of the roles its agency was granted, and never a role nobody there holds.
_FRONTLINE: Final = frozenset(
    {
        "mash_intake",
        "edt",
        "social_worker",
        "police_public_protection",
        "police_disclosure_unit",
        "gp",
        "health_visitor",
        "school_nurse",
        # The frontline roles of the health, early help, prison and virtual school types, whose
        # practitioners otherwise had none of their own to send as.
        "midwife",
        "camhs_clinician",
        "ambulance_clinician",
        "early_help_practitioner",
        "lead_professional",
        "transitions_worker",
        "prison_offender_manager",
        "virtual_school_head",
        "adult_safeguarding_officer",
        "probation_officer",
        "yos_officer",
        "housing_officer",
        "da_caseworker",
        "lado_officer",
        "marac_coordinator",
        "cdop_manager",
        "coroners_officer",
        "pathologist",
    }
)
SENDS_AS: Final[dict[str, frozenset[str]]] = {
    "practitioner": _FRONTLINE,
    "dsl": frozenset({"dsl", "safeguarding_lead", "designated_senior_manager"}),
    # A line manager manages practitioners and is one: a health visiting team leader sends as a health visitor.
    "line_manager": _FRONTLINE | {"team_manager", "designated_senior_manager"},
    "named_professional": frozenset({"named_professional", "designated_professional"}),
    "ig_lead": frozenset(),
    "caldicott_guardian": frozenset(),
}

# At a service whose every role queue is a frontline one (a LADO, a MARAC, a coroner's office), what
# reaches the agency is addressed to its practitioners, and nobody else there is addressed: the LADO's
# officers receive the allegations (domain brief §10), and C4 delivers to role queues (§6). There a
# practitioner, and the line manager who is one, reads what their agency sent or received, and its deadlines.
TEAM_READS: Final = frozenset({Action.DECISIONS, Action.OVERDUE})
TEAM_ROLES: Final = frozenset({"practitioner", "line_manager"})


@functools.cache  # asked for every read; the table never changes
def practitioners_only(agency_type: str) -> bool:
    """Whether every role queue of the agency type is a practitioner's (none is a DSL's or a lead's)."""
    queues = role_names(agency_type)
    return bool(queues) and queues <= _FRONTLINE


# Each route and the actions it serves; it is open to a caller with any of them.
ROUTES: Final[dict[tuple[str, str], tuple[Action, ...]]] = {
    ("POST", "/v1/notifications"): (Action.SEND,),
    ("GET", "/v1/notifications/{notification_id}"): (Action.STATUS,),
    ("GET", "/v1/decisions"): (Action.DECISIONS,),
    ("GET", "/v1/decisions/{seq}"): (Action.DECISIONS,),
    ("GET", "/v1/queues"): (Action.ADVICE, Action.AUTHORISE, Action.URGENT_REVIEW),
    ("POST", "/v1/queues/{delivery_id}"): (Action.ADVICE, Action.AUTHORISE),
    ("POST", "/v1/urgent/{seq}"): (Action.URGENT_REVIEW,),
    ("GET", "/v1/overdue"): (Action.OVERDUE,),
    ("GET", "/v1/access-events"): (Action.ACCESS_LOG,),
    ("POST", "/v1/case-review"): (Action.CASE_REVIEW,),
    ("POST", "/v1/case-shredding"): (Action.SHRED,),
    ("POST", "/v1/deliveries/{delivery_id}/republish"): (Action.REDELIVER,),
    ("POST", "/v1/notifications/{notification_id}/withdrawal"): (Action.WITHDRAW,),
    ("POST", "/v1/notifications/{notification_id}/correction"): (Action.WITHDRAW,),
    # Witnessing the log (broker/api/log.py): proofs are hashes anyone reading decisions may check;
    # a cosignature is posted by an agency system (the route also refuses people's tokens).
    ("GET", "/v1/log/proof"): (Action.DECISIONS,),
    ("POST", "/v1/log/cosignatures"): (Action.SEND,),
    ("GET", "/ui/decisions"): (Action.DECISIONS,),
    ("GET", "/ui/decisions/{seq}"): (Action.DECISIONS,),
    ("GET", "/ui/notifications/{notification_id}"): (Action.DECISIONS,),
    ("GET", "/ui/queues"): (Action.ADVICE, Action.AUTHORISE),
    ("POST", "/ui/queues/{delivery_id}"): (Action.ADVICE, Action.AUTHORISE),
    ("GET", "/ui/urgent"): (Action.URGENT_REVIEW,),
    ("POST", "/ui/urgent/{seq}"): (Action.URGENT_REVIEW,),
    ("GET", "/ui/overdue"): (Action.OVERDUE,),
    ("GET", "/ui/access"): (Action.ACCESS_LOG,),
    ("GET", "/ui/audit"): (Action.AUDIT,),
    ("POST", "/ui/audit/export"): (Action.AUDIT,),
    ("GET", "/ui/replay"): (Action.AUDIT,),
    ("POST", "/ui/replay"): (Action.AUDIT,),
    ("GET", "/ui/case-review"): (Action.CASE_REVIEW,),
    ("POST", "/ui/case-review"): (Action.CASE_REVIEW,),
    ("POST", "/ui/case-shredding"): (Action.SHRED,),
    ("POST", "/ui/notifications/{notification_id}/withdrawal"): (Action.WITHDRAW,),
    ("GET", "/ui/notifications/{notification_id}/correction"): (Action.WITHDRAW,),
    ("POST", "/ui/notifications/{notification_id}/correction"): (Action.WITHDRAW,),
    ("GET", "/ui/submit"): (Action.SEND,),
    ("GET", "/ui/notifications/{notification_id}/reply"): (Action.SEND,),
    ("POST", "/ui/submit"): (Action.SEND,),
    ("POST", "/ui/submit/send"): (Action.SEND,),
}
# Paths anyone may reach (health, documents, signing in and out, static files): no role is asked.
OPEN_ROUTES: Final = frozenset(
    {
        "/livez",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
        "/ui/signin",
        "/ui/signout",
        "/ui/",
        "/static",
    }
)
_DECIDES: Final = {
    "needs_advice": Action.ADVICE,
    "hold_for_authorisation": Action.AUTHORISE,
    "share_urgent_review_after": Action.URGENT_REVIEW,
}


@dataclass(frozen=True)
class Viewer:
    """A person (or agency system) reading or deciding, as proven by a token or a UI session."""

    agency_id: str
    agency_type: str
    role: str
    user: str
    office: str | None = None

    @classmethod
    def from_caller(cls, caller: Caller) -> Viewer:
        return cls(caller.agency_id, caller.agency_type, caller.role, caller.actor, caller.office)

    @property
    def named_as(self) -> str | None:
        """How a notification names this person (`sender.user_ref`, `as_ref` of their `sub`); None for an
        agency system, which names others. A `sub` holding @ / + = is named otherwise than it acts."""
        return None if self.role == AGENCY_SYSTEM else as_ref(self.user)

    def scope(self, action: Action) -> Scope:
        """The wider of what the role and the office (if any) allow; unknown roles get nothing."""
        rows = [TABLE.get(self.role, {}), TABLE.get(self.office or "", {})]
        found = [row.get(action, Scope.NONE) for row in rows]
        if self.role in TEAM_ROLES and action in TEAM_READS and practitioners_only(self.agency_type):
            found.append(Scope.AGENCY)
        return max(found, key=lambda s: s.rank)

    def may(self, *actions: Action) -> bool:
        return any(self.scope(a) is not Scope.NONE for a in actions)

    def relation(self, *, sender_agency: str, actor: str | None, recipient_agency: str | None = None) -> Relation:
        if sender_agency == self.agency_id and actor == self.user:
            return Relation.SELF
        if self.agency_id in (sender_agency, recipient_agency):
            return Relation.AGENCY
        return Relation.OTHER

    def covers(self, action: Action, relation: Relation) -> bool:
        return covers(self.scope(action), relation)

    def reads_as_sender(self, sender_agency: str) -> bool:
        """Whether they read what `sender_agency` sent from its sending side: its own people, or a
        partnership office, which reads everything. A recipient is not given the sender's own duties."""
        return self.office is not None or self.agency_id == sender_agency


def covers(scope: Scope, relation: Relation) -> bool:
    needed = {Relation.SELF: Scope.OWN, Relation.AGENCY: Scope.AGENCY, Relation.OTHER: Scope.PARTNERSHIP}
    return scope is not Scope.NONE and scope.rank >= needed[relation].rank


def require(viewer: Viewer, *actions: Action) -> None:
    if not viewer.may(*actions):
        raise Forbidden(f"{a_role(viewer.role)} may not do this ({', '.join(actions)})")


def require_route(viewer: Viewer, method: str, path: str) -> None:
    """Refuse a route the table does not open to this viewer, and any route it does not know."""
    if path in OPEN_ROUTES:
        return
    actions = ROUTES.get(("GET" if method == "HEAD" else method, path))
    if actions is None:
        raise Forbidden("no access rule covers this route")  # closed until a rule is written above
    require(viewer, *actions)


def may_route(viewer: Viewer, method: str, path: str) -> bool:
    actions = ROUTES.get((method, path))
    return path in OPEN_ROUTES or (actions is not None and viewer.may(*actions))


def may_decide(viewer: Viewer, outcome: str, sender_agency: str) -> bool:
    """Whether the viewer answers this held or urgent item: the sender's side, as the table says."""
    action = _DECIDES.get(outcome)
    if action is None:
        return False
    return viewer.covers(action, viewer.relation(sender_agency=sender_agency, actor=None))


def sender_roles(role: str, granted: Iterable[str], *, agency_type: str) -> frozenset[str]:
    """The `sender.role` values a token with `role` may put in a notification (granted: the agency's
    roles), of those its agency's type has."""
    if role == AGENCY_SYSTEM:
        by_role = frozenset().union(*(SENDS_AS.get(r, frozenset()) for r in granted))
    else:
        by_role = SENDS_AS.get(role, frozenset())
    return by_role & role_names(agency_type)


def markdown() -> str:
    """The table as the README shows it (tests/broker/test_access_table.py keeps them the same)."""
    head = "| role or office | " + " | ".join(a.value.replace("_", " ") for a in COLUMNS) + " |"
    reach = textwrap.fill(REACH, width=110, break_long_words=False, break_on_hyphens=False)
    lines = [reach, "", head, "|" + "---|" * (len(COLUMNS) + 1)]
    for who in PRINCIPALS:
        cells = ["—" if TABLE[who][a] is Scope.NONE else TABLE[who][a].value for a in COLUMNS]
        lines.append(f"| `{who}` | " + " | ".join(cells) + " |")
    lines += ["", "| action | routes |", "|---|---|"]
    for action in COLUMNS:
        routes = [f"`{m} {p}`" for (m, p), acts in ROUTES.items() if action in acts]
        lines.append(f"| {action.value.replace('_', ' ')} | " + ", ".join(routes) + " |")
    lines += [
        "",
        "| token role | may send as (`sender.role`) |",
        "|---|---|",
        f"| `{AGENCY_SYSTEM}` | those of the roles its agency was granted |",
    ]
    lines += [f"| `{r}` | " + (", ".join(f"`{v}`" for v in sorted(SENDS_AS[r])) or "—") + " |" for r in PERSON_ROLES]
    lines += [
        "",
        "Of those, only the roles the sending agency's type has (`schemas/agencies.py`): a police practitioner "
        "sends as `police_public_protection` or `police_disclosure_unit`, never as `gp`.",
    ]
    return "\n".join(lines)
