"""The guided form's answers as its check step repeats them back, step by step, before anything is
sent: a sender who mistyped a date of birth or an e-mail address sees what they typed, in the words
the form offered, not only which fields will go (GOV.UK's "check your answers")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from broker.ui import words as say
from broker.ui.form_fields import Field, Step

# A step's answers as label and value, under the step's title, with the step's place in the form
# (its Change button opens it: broker.ui.form_path).
Answered = list[tuple[int, str, list[tuple[str, str]]]]


def answered(
    steps: Sequence[Step],
    answers: Mapping[str, str],
    *,
    choices: Mapping[str, list[tuple[str, str]]],
    agencies: Mapping[str, str],
    need_to_know: list[tuple[str, str]],
) -> Answered:
    """Each step's answered questions, in the form's order; a step with none is left out."""
    said: Answered = []
    for index, step in enumerate(steps):
        rows = _recipients(answers, agencies, dict(need_to_know)) if step.key == "recipients" else []
        rows += [(f.title, value) for f in step.fields if (value := _value(f, answers, choices))]
        if rows:
            said.append((index, step.title, rows))
    return said


def _recipients(answers: Mapping[str, str], agencies: Mapping[str, str], why: dict[str, str]) -> list[tuple[str, str]]:
    chosen = [key[3:] for key in answers if key.startswith("to:")]
    return [(_team(a, answers, agencies), why.get(answers.get(f"ntk:{a}", ""), "no reason given yet")) for a in chosen]


def _team(agency: str, answers: Mapping[str, str], agencies: Mapping[str, str]) -> str:
    """The agency, with the team picked there where it has several (a front door's Emergency Duty Team)."""
    team = answers.get(f"as:{agency}")
    return f"{agencies.get(agency, agency)} ({say.option(team, say.ROLES)})" if team else agencies.get(agency, agency)


def _value(f: Field, answers: Mapping[str, str], choices: Mapping[str, list[tuple[str, str]]]) -> str:
    if not f.applies(answers):  # not asked in this case, so not sent either (forms.build_notification)
        return ""
    words = dict(choices.get(f.name) or f.choices)
    if f.kind == "checkboxes":
        return "; ".join(text for code, text in f.choices if answers.get(f"{f.name}:{code}"))
    if f.kind == "checkbox":
        return "Yes" if answers.get(f.name) else ""
    given = answers.get(f.name, "")
    if f.kind in _DAYS and given:
        return _as_written(given, _DAYS[f.kind])
    return words.get(given, given)


# A day or a time as the other pages write one ("4 Mar 2015", "5 Dec 2026, 20:00"), not as the input holds it.
_DAYS = {"date": "%-d %b %Y", "datetime-local": "%-d %b %Y, %H:%M"}


def _as_written(value: str, pattern: str) -> str:
    try:
        return datetime.fromisoformat(value).strftime(pattern)
    except ValueError:  # as typed, which the step's own check names
        return value
