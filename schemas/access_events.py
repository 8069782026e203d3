"""The access log as `GET /v1/access-events` answers it: refused actions and signed registry changes, and,
asked for by name, the case searches and shreddings (who looked a person up, who destroyed a case).

A view of the decision log like the rest of `schemas.api`, whose shared field types it uses.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.api import EventKindText, LogTime, RuleReason, Seq

ACCESS_OUTCOMES = (
    *("access_refused", "role_granted", "role_revoked", "office_appointed", "office_vacated", "agency_registered"),
    *("keys_rotated", "registry_adopted", "registry_revision", "registry_went_back", "searched", "shredded"),
)
# What an entry is about: `access` a refusal, `registry` a registry change, `case_review` one search
# for a person's case, `case_shredding` one case destroyed (each case-wide, not per delivery).
AccessSubject = Literal["access", "registry", "case_review", "case_shredding"]


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AccessEvent(_Answer):
    """A refused action (a token asserting a role its agency was not granted, a route its role may not use, a
    body claiming another sender), a signed change to the registry, a case search or a shredding."""

    seq: Seq
    recorded_at: LogTime
    kind: EventKindText
    outcome: str = Field(description=f"One of: {', '.join(ACCESS_OUTCOMES)}")
    subject: AccessSubject
    agency: str = Field(description="The agency refused, or whose grants or keys changed (or partnership: all of it)")
    role: str = Field(description="The role the token asserted, or the role granted or revoked")
    actor: str | None = Field(None, description="The token's subject, or the operator who signed the change")
    actor_role: str | None = None
    actor_agency: str | None = None
    reasons: list[RuleReason]
    person: str | None = Field(
        default=None,
        description="A case search's or shredding's person, as the partnership's keyed pseudonym (never a name or "
        "an NHS number): one person's searches are told apart from others'; null for every other entry",
    )
