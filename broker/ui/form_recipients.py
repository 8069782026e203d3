"""Who the guided form offers as recipients once the payload's facts are known.

The policy pack lets a payload fact's value add recipient types (`fact_recipient_types`: the
Virtual School receives a looked-after child's placement notice, not every transfer), and C4 refuses
those types whenever the value is another. The form asks who needs to know before the details that
hold the fact, so it offers such agencies only once the fact's value is given: going back shows
them, and otherwise the recipients step comes round again, with a word on why, when a value adds
agencies the person has not been shown, or takes away one they chose. The stage works alike: until it
is given, what any stage this sender may send allows is offered (`TypeRules.received_by`), and a stage
that allows fewer (an employer's DBS referral goes to the DBS and the LADO only) takes the rest off;
one whose role queues leave out the team chosen at an agency brings the step round to choose again.
So does an answer that brings in a procedure naming an agency the notification must reach while none
of that kind is chosen (`broker.ui.form_musts`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from broker.partnership.registry import Registry
from broker.ui import form_musts
from broker.ui import words as say
from broker.ui.form_fields import PAYLOAD, Step
from broker.ui.form_payload import facts
from broker.ui.form_types import FormType, recipient_options
from schemas.agencies import role_names

# The recipients step's record of the agencies it showed (ids, space-separated), carried with the answers.
SHOWN = "shown_recipients"
# The step to go on to once the recipients step, shown again, is answered.
RESUME = "resume_at"


@dataclass(frozen=True)
class Recheck:
    """Why the recipients step is shown again: a note for agencies now offered, errors for any taken off."""

    note: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def offered(registry: Registry, own: str, form: FormType | None, answers: dict[str, str]) -> list[dict[str, str]]:
    """The agencies these answers may go to, the payload facts given so far included."""
    return recipient_options(registry, own, form, facts(form.payload, answers) if form else {})


def _said(details: Step, fact: str, value: str) -> tuple[str, str]:
    """A fact's question and the answer given, as the details step words them."""
    found = next((f for f in details.fields if f.name == PAYLOAD + fact), None)
    if found is None:
        return say.option(fact, {}), say.option(value, say.PAYLOAD_CHOICES)
    return found.label, dict(found.choices).get(value, say.option(value, say.PAYLOAD_CHOICES))


def _types_of(registry: Registry, options: list[dict[str, str]]) -> set[str]:
    return {a.type for r in options if (a := registry.agency(r["id"])) is not None}


def later(registry: Registry, own: str, form: FormType | None, details: Step, answers: dict[str, str]) -> list[str]:
    """Sentences for the agencies not offered yet that a fact's answer on the details step would add."""
    if form is None:
        return []
    given = facts(form.payload, answers)
    registered = _types_of(registry, recipient_options(registry, own, None))
    sentences = []
    for fact, by_value in form.rules.conditional_recipients().items():
        for value, types in by_value.items():
            shown = [say.agency_type(t) for t in types if t in registered]
            if shown and given.get(fact) != value:
                question, answer = _said(details, fact, value)
                sentences.append(
                    f"The {' and the '.join(shown)} can be chosen too if you answer “{answer}” to "
                    f"“{question}” on the {details.title} step."
                )
    return sentences


def recheck(
    registry: Registry, own: str, form: FormType | None, details: Step, answers: dict[str, str]
) -> Recheck | None:
    """Why the recipients step must be answered again before going on; None when it need not be."""
    if form is None:
        return None
    now = {r["id"]: r for r in offered(registry, own, form, answers)}
    names = {agency_id: agency.name for agency_id, agency in registry.agencies.items()}
    refused = [names.get(k[3:], k[3:]) for k in answers if k.startswith("to:") and k[3:] not in now]
    without_facts = {r["id"] for r in recipient_options(registry, own, form)}
    shown = set(answers.get(SHOWN, "").split())
    added = [r for agency_id, r in now.items() if agency_id not in without_facts | shown]
    moved = _moved(registry, answers, now)
    musts = form_musts.unmet(registry, form, answers, list(now.values()))
    if not refused and not added and not moved and not musts:
        return None
    said = []
    if refused:
        said.append(
            f"Your answers on the {details.title} step mean {', '.join(refused)} may not receive this, "
            "so it has been taken off. Check who needs to know."
        )
    if moved:
        said.append(
            f"Your answers on the {details.title} step mean this may go only to {'; '.join(moved)}. "
            "Check the team it goes to."
        )
    said.extend(musts)
    errors = {"recipients": " ".join(said)} if said else {}
    return Recheck(_added_note(registry, form, details, answers, added), errors)


def _moved(registry: Registry, answers: dict[str, str], now: dict[str, dict[str, str]]) -> list[str]:
    """The chosen agencies still offered whose chosen team these answers no longer allow (a stage
    the pack addresses to other role queues), each with the teams it allows, in words. The team
    is the one picked, else the one the agency was offered at; a value that is no team of the
    agency's is never addressed (the default is), so it is not counted."""
    moved = []
    for agency_id, option in now.items():
        agency = registry.agency(agency_id)
        teams = role_names(agency.type) if agency is not None and f"to:{agency_id}" in answers else frozenset()
        chosen = next((q for q in (answers.get(f"as:{agency_id}"), answers.get(f"to:{agency_id}")) if q in teams), None)
        allowed = option["queues"].split()
        if chosen is not None and chosen not in allowed:
            words = " or ".join(say.ROLES.get(q, q.replace("_", " ")) for q in allowed)
            moved.append(f"the {words} at {option['name']}")
    return moved


def _added_note(
    registry: Registry, form: FormType, details: Step, answers: dict[str, str], added: list[dict[str, str]]
) -> str:
    if not added:
        return ""
    given = facts(form.payload, answers)
    because = [
        _said(details, fact, given[fact])
        for fact, by_value in form.rules.fact_recipient_types.items()
        if by_value.get(given.get(fact, ""))
    ]
    reasons = "; ".join(f"“{answer}” to “{question}”" for question, answer in because)
    agencies = " and ".join(r["name"] for r in added)
    kinds = " and the ".join(sorted({say.agency_type(t) for t in _types_of(registry, added)}))
    return (
        f"You answered {reasons}, so this may also go to the {kinds}: {agencies}. "
        f"Choose {'it' if len(added) == 1 else 'them'} below if they need to know, then continue."
    )
