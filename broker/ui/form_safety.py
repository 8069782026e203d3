"""What the guided form asks so that sharing endangers nobody and a phoned referral's clock starts.

Golden rule 5 (safety): people are never recipients. A person this case names who must never learn
of it (an alleged perpetrator, a family or household member) is named in the envelope's
`withheld_from`, by the sender's reference, and each recipient that will tell one of them about it
or pass it on says so (`conveys_to`): the policy then withholds from that recipient what the family
or the alleged perpetrator may not see, or asks for advice first. Being in contact with them is not
that, nor is deciding later what to put to them: a police officer who will interview a suspect, or a
MASH that will plan how to speak to the family, ticked for it, would get next to nothing to act on.
The form asks this on a step of its own after the risk step, once the recipients are chosen, since it
is asked of each of them: up to `PEOPLE` persons, each a reference and a relation, then, for each
recipient, which of them it will tell.

How the concern first reached the recipients (`initial_contact`) is asked on the risk step: a
referral made by phone is confirmed in writing within 24 hours (I15, timer T06), a clock the policy
starts only when told. Which types carry that clock is the policy's obligations' business, not the
pack's (`broker.ui.policy_pack`), so the question is asked of every type, though not of a reply.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

from pydantic import TypeAdapter, ValidationError

from broker.ui import form_subject
from broker.ui import words as say
from broker.ui.form_fields import YES_NO, Field, Step, choices, unanswered
from schemas.common import LocalRef, WithheldRelation
from schemas.vocab import ContactMode

__all__ = ["CONTACT", "KEY", "PEOPLE", "WITHHELD", "check", "conveys_to", "initial_contact", "step", "withheld_from"]

KEY = "safety"
WITHHELD = "withheld_any"
# Persons offered; a case with more travels in the agency's own system (the schema takes 50).
PEOPLE = 3
NONE = "none"
_YES = frozenset({"yes"})
# The schema's own reference type: what it refuses, the form refuses first, by the question's name.
_REFERENCE: TypeAdapter[str] = TypeAdapter(LocalRef)
# A relation in the words the form already uses for the same person as a subject; about an adult, the
# family is the person's own (`form_subject.about_adult`).
_RELATIONS = {
    **say.SUBJECT_ROLES,
    "family_member": "member of the child's family",
    "subject_of_allegation": "subject of an allegation (someone who works with children)",
}
_ADULT_RELATIONS = {**_RELATIONS, "family_member": "member of the person's family"}
_CONTACT_MODES = {
    ContactMode.WRITTEN.value: "this notification is the first they hear of it",
    ContactMode.PHONE.value: "it was phoned through first: this confirms the call in writing",
    ContactMode.IN_PERSON.value: "they were told in person first: this confirms it in writing",
}
CONTACT = Field(
    "initial_contact",
    "How did this concern first reach the agencies you are sending it to?",
    "radio",
    choices(ContactMode, _CONTACT_MODES),
    hint="A referral made by phone is to be confirmed in writing within 24 hours: this notification confirms it.",
)


def _ref(n: int) -> str:
    return f"withheld.{n}.ref"


def _relation(n: int) -> str:
    return f"withheld.{n}.relation"


def _conveys(agency_id: str) -> str:
    return f"conveys:{agency_id}"


def _chosen(answers: Mapping[str, str]) -> list[str]:
    return [k[3:] for k in answers if k.startswith("to:")]


def _person(n: int, words: dict[str, str]) -> tuple[Field, Field]:
    """One person's inputs: the first is needed once the answer is yes; the others may be left out whole."""
    relations = [(r, say.option(r, words)) for r in get_args(WithheldRelation)]
    hint = "As your case system has it, or one you make up for this case (WH-1, say): never their name."
    return (
        Field(_ref(n), "Your agency's reference for them", hint=hint if n == 1 else "", **_row(n)),
        Field(_relation(n), "Who they are to the case", "select", relations, **_row(n)),
    )


def _row(n: int) -> dict[str, Any]:
    return {
        "required": False,
        "conditional": n == 1,
        "sub_required": True,
        "group": f"Person {n}",
        "within": f"withheld.{n}",
        "when": (WITHHELD, _YES),
    }


def _people(answers: Mapping[str, str]) -> list[tuple[str, str]]:
    """The persons as each recipient's question offers them: by number, with the reference once given."""
    offered = [(NONE, "None of them")]
    for n in range(1, PEOPLE + 1):
        given = answers.get(_ref(n), "")
        offered.append((str(n), f"Person {n} ({given})" if given else f"Person {n}"))
    return offered


def step(answers: Mapping[str, str], names: Mapping[str, str] | None = None) -> Step:
    """Who must not learn of this, and which recipients will tell them about it (GR5)."""
    adult = form_subject.about_adult(answers.get("message_type"))
    asked = Field(
        WITHHELD,
        "Is there anyone named in this case who must not receive this information or learn of it?",
        "radio",
        YES_NO,
        hint=(
            f"Someone it would put {'the person or anyone else' if adult else 'the child or another person'} at "
            "risk to tell: an alleged perpetrator, the subject of an allegation, or a member of the family or "
            "household."
        ),
    )
    people = [f for n in range(1, PEOPLE + 1) for f in _person(n, _ADULT_RELATIONS if adult else _RELATIONS)]
    contact = [
        Field(
            _conveys(agency_id),
            f"If yes: will {(names or {}).get(agency_id, agency_id)} tell any of them about this, "
            "or pass on what you send?",
            "checkboxes",
            _people(answers),
            required=False,
            conditional=True,
            when=(WITHHELD, _YES),
        )
        for agency_id in _chosen(answers)
    ]
    return Step(
        KEY,
        "Who must not know",
        "Golden rule 5: consider safety. Recipients are always agencies. A person who must never learn of this "
        "is named here by your reference only, with the agencies that will tell them about it or pass on what you "
        "send: the policy then gives those agencies only what the family or the alleged perpetrator may see. "
        "Being in contact with them is not telling them, nor is deciding later what to put to them: a school that "
        "sees a parent at the gate, a police officer who will interview a suspect, or children's social care who "
        "will plan how to speak to the family, does not pass this on. Tick an agency only if it will pass on what "
        "you send, or tell them of it before the agencies that must act have planned how (a family support "
        "worker who will go through your concern with the parents).",
        (asked, *people, *contact),
        {"withheld_from": _ref(1)},
    )


def check(step: Step, answers: Mapping[str, str]) -> dict[str, str]:
    """The step's refusals by field, each naming its question: only once someone is withheld."""
    if answers.get(WITHHELD) != "yes":
        return {}
    titles = {f.name: f.title for f in step.fields}
    errors = _check_people(titles, answers)
    given = {str(n) for n in range(1, PEOPLE + 1) if answers.get(_ref(n))}
    for agency_id in _chosen(answers):
        name = _conveys(agency_id)
        ticked = {code for code, _ in _people(answers) if answers.get(f"{name}:{code}")}
        title = titles.get(name, name)
        if not ticked:
            errors[name] = f"{title} Tick the people they will tell, or “None of them”."
        elif NONE in ticked and len(ticked) > 1:
            errors[name] = f"{title} Tick “None of them” or the people, not both."
        elif ticked - given - {NONE}:
            missing = min(ticked - given - {NONE})
            errors[name] = f"{title} Person {missing} has no reference above: give one, or untick them."
    return errors


def _check_people(titles: Mapping[str, str], answers: Mapping[str, str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    seen: dict[str, int] = {}
    for n in range(1, PEOPLE + 1):
        ref, relation = answers.get(_ref(n), ""), answers.get(_relation(n), "")
        if not ref and (relation or n == 1):
            errors[_ref(n)] = unanswered(titles[_ref(n)])
        elif ref and not relation:
            errors[_relation(n)] = unanswered(titles[_relation(n)])
        if not ref:
            continue
        try:
            _REFERENCE.validate_python(ref)
        except ValidationError:
            # A name is refused by the schema's reference pattern (no spaces); the refusal never quotes it.
            errors[_ref(n)] = f"{titles[_ref(n)]}: {form_subject.REF_RULE}. A reference, never their name."
        else:
            if ref in seen:
                errors[_ref(n)] = f"{titles[_ref(n)]}: the same as person {seen[ref]}'s. Give each person once."
            seen.setdefault(ref, n)
    return errors


def withheld_from(answers: Mapping[str, str]) -> list[dict[str, str]]:
    """The envelope's `withheld_from`: each person given, once someone is said to be withheld."""
    if answers.get(WITHHELD) != "yes":
        return []
    rows = ((answers.get(_ref(n), ""), answers.get(_relation(n), "")) for n in range(1, PEOPLE + 1))
    return [{"person_ref": ref, "relation": relation} for ref, relation in rows if ref]


def conveys_to(answers: Mapping[str, str], agency_id: str) -> list[str]:
    """One recipient's `conveys_to`: the references of the persons it will tell about this."""
    if answers.get(WITHHELD) != "yes":
        return []
    ticked = (n for n in range(1, PEOPLE + 1) if answers.get(f"{_conveys(agency_id)}:{n}"))
    return [ref for n in ticked if (ref := answers.get(_ref(n), ""))]


def initial_contact(answers: Mapping[str, str]) -> str:
    """How the concern first reached the recipients; unsaid, this notification is the first word."""
    return answers.get(CONTACT.name) or ContactMode.WRITTEN.value
