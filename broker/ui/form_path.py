"""Which step of the guided form comes next: forward, or back to the check step after a change.

The check step repeats every answer back under its step's title, each with a Change button (GOV.UK's
"check your answers"). Changing an answer opens its step with every answer kept, and Continue goes
straight back to the check step, which asks the policy afresh; the recipients step comes round
first if the change adds or takes away agencies (`broker.ui.form_recipients`). Changing the kind of
notification is the exception: its purpose, details and recipients are another type's, so every step
after it is walked again.
"""

from __future__ import annotations

from broker.ui.form_recipients import RESUME

CHANGE = "change:"


def changed_step(go: str, *, check: int, answers: dict[str, str]) -> int | None:
    """The step a Change button opens (None: the button pressed was not a Change), marking the
    answers to come back to the check step after it, unless it is the kind of notification."""
    if not go.startswith(CHANGE) or not go[len(CHANGE) :].isdigit():
        return None
    index = min(int(go[len(CHANGE) :]), check - 1)
    if index > 0:
        answers[RESUME] = str(check)
    return index


def following(index: int, *, check: int, answers: dict[str, str]) -> int:
    """The next step: the one after this, or the one a Change or the recipients shown again
    interrupted the person on the way to (the check step after a change)."""
    resume = answers.pop(RESUME, "")
    if resume.isdigit():
        return min(max(int(resume), index + 1), check)
    return index + 1
