"""One person's walk through the guided form: the types they may send, the one chosen, and its steps.

Built afresh from the posted answers on every request, since the answers travel in the form itself
(`broker.ui.submit`); a correction and a reply walk the same journey from their own routes.
"""

from __future__ import annotations

from fastapi import Request

from broker.api.deps import registry_of
from broker.ui.form_fields import Step
from broker.ui.form_types import FormType, find, sendable
from broker.ui.forms import steps_for
from broker.ui.policy_pack import PolicyPack
from broker.ui.render import agency_names
from broker.ui.sessions import UiSession

__all__ = ["Journey", "journey_for"]


class Journey:
    """This person's form: the types they may send, the one chosen, and its steps."""

    def __init__(
        self, types: list[FormType], session: UiSession, answers: dict[str, str], names: dict[str, str]
    ) -> None:
        self.types = types
        self.form = find(types, answers.get("message_type"))
        self.steps = steps_for(types, self.form, answers, session.agency_type, names)

    @property
    def details(self) -> Step:
        return next(s for s in self.steps if s.key == "details")

    @property
    def check(self) -> int:
        return len(self.steps) - 1

    @property
    def recipients(self) -> int:
        return next(i for i, s in enumerate(self.steps) if s.key == "recipients")


async def journey_for(request: Request, pack: PolicyPack, session: UiSession, answers: dict[str, str]) -> Journey:
    types = sendable(await pack.types(), registry_of(request), session.agency_id)
    return Journey(types, session, answers, agency_names(request))
