"""Which of a decision's findings the log marks: those that decided it, and those that did not but would
on their own have held or stopped the share.

A decision lists every finding; its outcome is set by the most restrictive (`decided_by`). A finding
that would also have held or stopped it (GR6's missing location beside GR4's refused consent, or a hold
an urgent share overrode) is not a condition met, and a reviewer must not read it as one, so the log
names it (`blocking_reasons`, entry format 4) beside the deciding ones (`deciding_reasons`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from schemas.policy_decision import Reason
from schemas.vocab import ReasonEffect

# The effects that keep a share from going as sent: not shared, or waiting for someone to answer it.
BLOCKING: Final = frozenset({ReasonEffect.NO_SHARE, ReasonEffect.HOLD_FOR_AUTHORISATION, ReasonEffect.NEEDS_ADVICE})


def deciding_positions(reasons: Sequence[Reason], decided_by: Sequence[Reason]) -> tuple[int, ...]:
    """Where each deciding finding is among all the findings: one rule may have a finding that decided
    and one that did not, so the log names the findings by position, not only their rules."""
    positions: list[int] = []
    for finding in decided_by:
        at = next(
            (
                i
                for i, r in enumerate(reasons)
                if i not in positions and (r.rule, r.message) == (finding.rule, finding.message)
            ),
            None,
        )
        if at is not None:
            positions.append(at)
    return tuple(positions)


def marked_positions(
    reasons: Sequence[Reason], decided_by: Sequence[Reason]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The deciding findings' positions, and those of the findings that did not decide but would on their
    own have held or stopped the share: the log's `deciding_reasons` and `blocking_reasons`."""
    deciding = deciding_positions(reasons, decided_by)
    return deciding, tuple(i for i, r in enumerate(reasons) if i not in deciding and r.effect in BLOCKING)
