"""The guided form's building blocks: one input (`Field`) and one page of inputs (`Step`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from broker.ui.words import option, sentence

YES_NO = [("yes", "Yes"), ("no", "No")]
YES_NO_UNKNOWN = [*YES_NO, ("unknown", "Don't know")]
# Payload inputs are named apart from the envelope's ("risk_to_others" is both a risk flag and an M12 field).
PAYLOAD = "p:"
# A blank question as said right under it: the error summary, away from the question, names it.
ANSWER = "Answer this question."


def choices(values: Any, table: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """An enum's values as options, each in words: from `table`, the words the decision pages show for
    the same code, else from the code ("not_sought" -> "Not sought")."""
    return [(v.value, option(v.value, table or {})) for v in values if isinstance(v, StrEnum)]


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    # text, textarea, lines (a list, one per line), select, radio, checkbox, checkboxes (several
    # values, each posted as `name:value`), date, datetime-local, number
    kind: str = "text"
    choices: list[tuple[str, str]] = field(default_factory=list)
    required: bool = True
    hint: str = ""
    # Inputs of one value object (a person, a professional contact) share a legend and a path
    # (`within`); `sub_required`: the object needs this input whenever any of it is given.
    group: str = ""
    within: str = ""
    sub_required: bool = False
    # Asked in the case its label names ("If consent was given: ..."), and then needed: never "(optional)".
    conditional: bool = False
    # That case, as another answer and the values that make it (`applies`): an answer given outside it
    # is neither sent nor repeated back (a radio once chosen cannot be cleared without a script).
    when: tuple[str, frozenset[str]] | None = None

    def applies(self, answers: Mapping[str, str]) -> bool:
        """Whether this question is asked, given the other answers (its `when`)."""
        return self.when is None or answers.get(self.when[0]) in self.when[1]

    @property
    def suffix(self) -> str:
        """What the label adds about whether an answer is needed."""
        if self.required or self.conditional:
            return ""
        return " (needed if you fill in any of this)" if self.sub_required else " (optional)"

    @property
    def title(self) -> str:
        """The label as an error message names it: with its group where labels repeat ("Given name")."""
        return f"{self.group}: {self.label}" if self.group else self.label

    def inline(self, message: str) -> str:
        """A refusal as said under this question, which sits right above it: without the question's words
        the error summary starts it with ("Whose consent is this? Please answer." -> "Answer this
        question.", "Purpose: choose one of the options." -> "Choose one of the options.")."""
        for said in (self.title, self.label):
            rest = message.removeprefix(said)
            if said and rest != message and rest.startswith((":", " ")):
                rest = rest.lstrip(": ")
                if rest.lower() == "please answer.":
                    return ANSWER
                return sentence(rest) if rest else message
        return message


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    intro: str
    fields: tuple[Field, ...] = ()
    # Schema paths (an element of a validation error's location) that this step answers, for error mapping.
    paths: dict[str, str] = field(default_factory=dict)
    # The agencies' names by id, for refusals that name one (the recipients step's "Say why ... needs to know").
    names: Mapping[str, str] = field(default_factory=dict)

    def owns(self, name: str) -> bool:
        if self.key == "recipients":
            return name.startswith(("to:", "ntk:", "as:"))
        if self.key == "details" and name.startswith(PAYLOAD):
            return True
        return any(f.name == name or name.startswith(f.name + ":") for f in self.fields)

    def in_order(self, errors: Mapping[str, str]) -> dict[str, str]:
        """Refusals in the order the page asks their questions, as its error summary lists them (the checks
        that find them run in another): the recipients' table above every question, a checkbox's answers
        (`question:value`) with their question, anything else last."""
        place = {f.name: i + 1 for i, f in enumerate(self.fields)}
        last = len(place) + 1

        def rank(name: str) -> int:
            return place.get(name.partition(":")[0], 0 if self.key == "recipients" else last)

        return dict(sorted(errors.items(), key=lambda error: rank(error[0])))

    def field_for(self, loc: list[str]) -> str | None:
        if self.key == "details" and "payload" in loc:
            # ('m01', 'payload', 'child', 'given_name') -> the input for child.given_name, else child's first input.
            rest = loc[loc.index("payload") + 1 :]
            names = {f.name for f in self.fields}
            for depth in range(len(rest), 0, -1):
                name = PAYLOAD + ".".join(rest[:depth])
                if name in names or any(n.startswith(name + ".") for n in names):
                    return name if name in names else min(n for n in names if n.startswith(name + "."))
            return "form"
        for prefix, name in self.paths.items():
            if prefix in loc:
                return name
        return None


def unanswered(label: str) -> str:
    """A required field left blank, named by its label, as the error summary lists it (`Field.inline`
    says it under the question): "Given name: please answer."; a label that ends a sentence, a question
    or a note in brackets after one, keeps its own punctuation: "What are you sending? Please answer.",
    "Are you sure this should be shared? (Golden rule 3: if in doubt, ask.) Please answer."."""
    ended = label.rstrip(")").endswith(("?", ".", "!"))
    return f"{label} Please answer." if ended else f"{label}: please answer."
