"""Where a withdrawn decision stands, as a reader needs it said: what became of the copy.

`withdrawn` alone is the API's state (`schemas.api`: a published contract); a reader needs more. A
decision its recipient never received (not shared, or withdrawn while held) told no agency to delete
anything; one its recipient withdrew from its own inbox leaves any other recipient's copy; one whose
recipient's consumer sent its signed receipt is deleted, not only "told to delete it". The decision's page
and the lists say it alike, from the decision's own later entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from sqlmodel import Session, col, select

import audit
from schemas.vocab import HELD_OUTCOMES, Outcome

# The entries that say what became of a withdrawn decision's copy.
_TELLING = (
    audit.EventKind.WITHDRAWN,
    audit.EventKind.WITHDRAWAL_CONFIRMED,
    audit.EventKind.ADVICE_GIVEN,
    audit.EventKind.AUTHORISATION_GRANTED,
)


class Later(NamedTuple):
    """One later entry of a decision, as far as its withdrawal's words need it."""

    kind: str
    outcome: str | None
    actor_agency: str | None


def withdrawn_line(*, outcome: str, recipient_agency: str, later: Iterable[Later]) -> str:
    """The state's words' key for a withdrawn decision (`broker.ui.words.STATES`)."""
    seen = list(later)
    if outcome == Outcome.NO_SHARE:
        return "withdrawn_unshared"
    released = any(e.outcome == "released" for e in seen)
    if outcome in HELD_OUTCOMES and not released:
        return "withdrawn_held"
    # The front door withdrew its own copy: its sender reads that it did not, and must follow it up.
    if any(e.kind == audit.EventKind.WITHDRAWN and e.actor_agency == recipient_agency for e in seen):
        return "withdrawn_by_recipient"
    # Its consumer's signed receipt says the copy is gone: no longer only "told to delete it".
    return "withdrawn_confirmed" if any(e.kind == audit.EventKind.WITHDRAWAL_CONFIRMED for e in seen) else "withdrawn"


def withdrawn_lines(session: Session, entries: Sequence[audit.Entry], states: dict[str, str]) -> dict[str, str]:
    """`withdrawn_line` for each of these decisions whose state is `withdrawn`, by delivery, in one read."""
    withdrawn = {e.delivery_id: e for e in entries if states.get(e.delivery_id) == "withdrawn"}
    if not withdrawn:
        return {}
    query = select(audit.Entry).where(
        col(audit.Entry.delivery_id).in_(list(withdrawn)), col(audit.Entry.kind).in_(_TELLING)
    )
    later: dict[str, list[Later]] = {d: [] for d in withdrawn}
    for e in session.execute(query.order_by(col(audit.Entry.seq))).scalars():
        later[e.delivery_id].append(Later(str(e.kind), e.outcome, e.actor_agency))
    return {
        d: withdrawn_line(outcome=str(e.outcome), recipient_agency=e.recipient_agency, later=later[d])
        for d, e in withdrawn.items()
    }
