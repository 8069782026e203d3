"""What a decision still waits for, and by when, as `GET /v1/decisions/{seq}` answers it: the clocks the
decision started (`Deadline`) and, for a share held now, the answer it waits for (`HeldWait`).

Views of the decision log like the rest of `schemas.api`, which embeds them: plain strings, closed models.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HeldWait(_Answer):
    """Where a share held now waits: what would end the wait, and when it is destroyed unanswered."""

    resolves: str = Field(description="What would end the wait, and whose answer it is")
    refuse_only: str | None = Field(
        description=(
            "Null when a release is possible; otherwise why the only answers are to refuse it or for the sender "
            "to send again (as the review queue's item says)"
        )
    )
    expires_at: str = Field(description="When the held share is destroyed if nobody answers (ISO 8601, UTC)")


class Deadline(_Answer):
    """A clock the decision started: what is owed, by when, and where it stands now."""

    rule: str
    description: str = Field(description="What is owed and by whom, with the procedure it comes from")
    due_at: str = Field(description="ISO 8601 date-time with offset")
    state: Literal["running", "overdue", "met", "met_late", "withdrawn", "shredded", "superseded"] = Field(
        description=(
            "running; overdue (past due_at, unanswered); met or met_late (answered, by due_at or after it); or "
            "stopped unanswered because its message no longer stands: withdrawn, shredded, or superseded by a "
            "corrected event time"
        )
    )
    since: str | None = Field(description="When it was answered or stopped, or fell due if overdue; null while running")
    met_by: str | None = Field(
        default=None,
        description=(
            "The notification id of the reply whose share met it; null while it runs, when it was met otherwise "
            "(a receipt, a review, the notification itself) or stopped unanswered, and for a deadline met before "
            "replies were recorded on it"
        ),
    )
