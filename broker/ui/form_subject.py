"""The person a form's notification is about, and how the partnership links their records.

A notification's case is its child's pseudonym (`Subject.linking_key`): the NHS number when given,
which every agency holds for the same child, else the sender's own reference. The form asks for
both, and neither is required; with neither, it names the person by the notification itself
(`form-<id>`; a correction, the id of the first notification it and any earlier correction replace),
so no two children sent through the form ever share a case, a case review or a shredding. A
correction of a notification that named the child by number or reference must name them again.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from broker.ui import words as say
from broker.ui.form_fields import Field, choices
from schemas.common import Subject
from schemas.vocab import Assessed, MessageType, SubjectRole

# The answer a correction's form carries from step to step: the notification it corrects.
CORRECTS = "corrects"
# What a correction's form carries of the corrected notification's case (`case_review.correction_case`):
# the first notification of its chain, whose id names a form-only case, and whether the child was named
# instead by an NHS number or the agency's reference, which the correction must then give again.
CASE_OF, NAMED = "case_of", "case_named"
# The answers a reply's form carries from step to step: the notification it replies to, and the agency
# that sent it, whom the recipients step chooses until the person answers otherwise (`reply_page`).
IN_REPLY_TO, REPLY_TO_AGENCY = "in_reply_to", "reply_to_agency"
NAMED_AGAIN = (
    "Their NHS number: the notification you are correcting named the child by their NHS number or your "
    "agency's reference. Give it again, so the correction stays in the child's case (a different one moves it)."
)

# The types whose notification is about an adult: an adult safeguarding referral's adult at risk and
# a MARAC referral's adult victim (their payloads' `adult` and `victim`). The details step asks the
# person's role, but after the consent step, which must already know whom "do they know" is about.
ADULT_TYPES = frozenset({MessageType.ADULT_SAFEGUARDING_REFERRAL.value, MessageType.MARAC_REFERRAL.value})


def about_adult(message_type: str | None) -> bool:
    """Whether this type's notification is about an adult, who decides for themselves (not their parents)."""
    return message_type in ADULT_TYPES


def about_a_child_who_died(message_type: str | None) -> bool:
    """Whether this type's notification is about a child who has died, who decides nothing now."""
    return message_type == MessageType.CHILD_DEATH_NOTIFICATION


# Whom a type's notification is mainly about, where its payload says so: a child death notification's
# child who has died (the category and age checks read that subject), an adult safeguarding referral's
# adult at risk, a MARAC referral's adult victim. The form chooses it until the sender answers otherwise.
_MAIN_PERSON = {
    MessageType.CHILD_DEATH_NOTIFICATION.value: SubjectRole.DECEASED_CHILD.value,
    MessageType.ADULT_SAFEGUARDING_REFERRAL.value: SubjectRole.ADULT_AT_RISK.value,
    MessageType.MARAC_REFERRAL.value: SubjectRole.ADULT_VICTIM.value,
}


def main_person(message_type: str | None) -> str | None:
    """The role the form chooses for the person a type's notification is mainly about, if its payload says."""
    return _MAIN_PERSON.get(message_type or "")


# Every agency holds the same NHS number for the person, so it links their records: a child's, or an adult's.
_NHS_HINT = (
    "10 digits; spaces are fine. Every agency holds it for the same {whom}, so their records link across "
    "agencies. It is never stored or sent, only turned into the partnership's pseudonym."
)
# Whether a person can decide for themselves: Gillick competence for a child, capacity for an adult
# (the policy's context/capacity.rego reads both). Not asked, or not answered, is not assessed.
ASSESSED = [(Assessed.YES.value, "Yes"), (Assessed.NO.value, "No"), (Assessed.NOT_ASSESSED.value, "Not assessed")]
_ROLE = Field("subject_role", "Who is this mainly about?", "select", choices(SubjectRole, say.SUBJECT_ROLES))
# A child death notification is about the child who has died: a sibling or a parent it names is not whom
# it is mainly about, and "Child" would send a living child's role.
_DIED = replace(_ROLE, choices=[c for c in _ROLE.choices if c[0] == main_person(MessageType.CHILD_DEATH_NOTIFICATION)])
# An adult's notification is about the adult at risk or the adult victim: a child named in it is not whom it is
# mainly about, and "Child" there read the person as a child (their parents' consent, Gillick competence).
_ADULTS = frozenset({SubjectRole.ADULT_AT_RISK.value, SubjectRole.ADULT_VICTIM.value})
_ADULT = replace(_ROLE, choices=[c for c in _ROLE.choices if c[0] in _ADULTS])
FIELDS = (
    _ROLE,
    Field(
        "age_years",
        "Their age in years",
        "number",
        required=False,
        # An age assessment must not delay an NRM referral (Modern Slavery Act s51): a young person whose
        # age is disputed is treated as a child, so the age is not needed before anything is sent.
        hint="Leave it blank if it is not known, or if the young person's age is disputed: treat them as a child.",
    ),
    Field(
        "gillick_competent",
        "If a child: can they decide for themselves about sharing their information?",
        "radio",
        ASSESSED,
        required=False,
        when=("subject_role", frozenset({SubjectRole.CHILD.value})),
        hint="Under 16: a young person who understands what sharing means and what it could lead to (Gillick "
        "competent) can. At 16 or 17: assume they have capacity for this decision unless there is reason to doubt "
        "it, then assess it (Mental Capacity Act 2005). Their own consent, or their wish that their parents not be "
        "told, counts only if they can.",
    ),
    Field(
        "mental_capacity",
        "If an adult at risk or an adult victim: do they have capacity for this decision?",
        "radio",
        ASSESSED,
        required=False,
        when=("subject_role", frozenset({SubjectRole.ADULT_AT_RISK.value, SubjectRole.ADULT_VICTIM.value})),
        hint="Assume they have unless there is reason to doubt it, then assess it for this decision (Mental "
        "Capacity Act 2005). Their own consent counts only if they have.",
    ),
    Field(
        "nhs_number",
        "Their NHS number",
        required=False,
        hint=_NHS_HINT.format(whom="child"),
    ),
    Field(
        "subject_ref",
        "Your agency's reference for them",
        required=False,
        hint=(
            "As your case system has it: letters, digits and . _ : - (up to 64), never a name. "
            "Correcting a notification? Give the same NHS number or reference it had, so both stay one case."
        ),
    ),
)


def _role_field(message_type: str | None) -> Field:
    """Whom it is mainly about, as this type asks it: the step's question and its check offer the same."""
    if about_a_child_who_died(message_type):
        return _DIED
    return _ADULT if about_adult(message_type) else _ROLE


def fields(message_type: str | None) -> tuple[Field, ...]:
    """The person's questions as this type asks them: about an adult, the NHS number is the person's, and
    whether they can decide is their capacity alone (Gillick competence is a child's); about a child who has
    died, whether they could decide is not asked (there is nothing left for them to decide)."""
    if about_a_child_who_died(message_type):
        # A disputed age is a living young person's (treated as a child); a death's category reads the age.
        asked = (_DIED if f is _ROLE else f for f in FIELDS if f.choices is not ASSESSED)
        return tuple(replace(f, hint=_AGE_UNKNOWN) if f.name == "age_years" else f for f in asked)
    if not about_adult(message_type):
        return FIELDS
    hints = {"nhs_number": _NHS_HINT.format(whom="person"), "age_years": _AGE_UNKNOWN}
    asked = (_ADULT if f is _ROLE else f for f in FIELDS if f.name != "gillick_competent")
    return tuple(replace(f, hint=hints[f.name]) if f.name in hints else f for f in asked)


_AGE_UNKNOWN = "Leave it blank if it is not known."


# Consent statuses that are someone's answer (form_consent.ANSWERED, which imports this module).
_ANSWERED = frozenset({"given_explicit", "refused", "withdrawn"})
# What the schema's reference pattern (schemas.common.REF_PATTERN) allows, as every reference's refusal says it.
REF_RULE = "use letters, digits and . _ : - only, up to 64, starting with one"
# Where the schema's refusals of a subject land on the form.
PATHS = {"nhs_number": "nhs_number", "subject_ref": "subject_ref", "subjects": "age_years"}


def check(answers: dict[str, str]) -> dict[str, str]:
    """The person's answers' refusals, by field, worded as the form words them."""
    errors: dict[str, str] = {}
    offered = {value for value, _ in _role_field(answers.get("message_type")).choices}
    if answers.get("subject_role") and answers["subject_role"] not in offered:
        errors["subject_role"] = "Who is this mainly about?: choose one of the options."
    age = answers.get("age_years", "")
    if age and (not age.isdigit() or int(age) > 130):
        errors["age_years"] = "Give the age in whole years, from 0 to 130."
    # The consent step recorded the young person's own answer as theirs to give (Gillick competent).
    own = answers.get("consent_giver") == "child" and answers.get("consent_status") in _ANSWERED
    if own and answers.get("subject_role") == SubjectRole.CHILD and answers.get("gillick_competent") == Assessed.NO:
        errors["gillick_competent"] = (
            "You recorded consent as the young person's own: if they cannot decide for themselves, go back and say "
            "whose consent it is (a parent's), or answer Yes here."
        )
    if answers.get(NAMED) == "yes" and not _nhs(answers) and not answers.get("subject_ref"):
        errors["nhs_number"] = NAMED_AGAIN
    # The age is checked against the role (a child is under 18) once each is a valid answer on its own.
    valid = "subject_role" not in errors and "age_years" not in errors
    role = (answers.get("subject_role") or "child") if valid else "child"
    years = int(age) if valid and age.isdigit() else None
    try:
        Subject.model_validate(
            {"subject_ref": ref(answers), "role_in_case": role, "age_years": years, "nhs_number": _nhs(answers)}
        )
    except ValidationError as exc:
        for error in exc.errors():
            name = str(error["loc"][0])
            said = error["msg"].removeprefix("Value error, ")
            errors[name] = _refusal(name, error["type"], said)
    return errors


def _refusal(name: str, kind: str, said: str) -> str:
    if name == "age_years":
        return f"Their age: {said}."
    if name == "subject_ref":
        return f"Your agency's reference for them: {REF_RULE}."
    if kind == "string_pattern_mismatch":
        return "Their NHS number: give its 10 digits."
    return f"Their NHS number: {said}."


def subject(answers: dict[str, str]) -> dict[str, Any]:
    """The notification's one subject, as an agency system would name them."""
    age = answers.get("age_years", "")
    return {
        "subject_ref": ref(answers),
        "nhs_number": _nhs(answers),
        "role_in_case": answers.get("subject_role") or main_person(answers.get("message_type")) or "child",
        "age_years": int(age) if age.isdigit() else None,
        **_as_the_law_asks({f.name: _assessed(answers, f) for f in FIELDS if f.choices is ASSESSED}, answers),
    }


def _as_the_law_asks(assessed: dict[str, str], answers: dict[str, str]) -> dict[str, str]:
    """Whether a child can decide is Gillick competence under 16 and capacity at 16 or 17, when the Mental
    Capacity Act 2005 applies (CPCH-Policy, 6. Strategy Meeting/Safeguarding Enquiries: the domain brief,
    §5.1): the one question's answer is recorded as the one the law asks (the policy reads either)."""
    age = answers.get("age_years", "")
    if answers.get("subject_role") == SubjectRole.CHILD and age.isdigit() and 16 <= int(age) <= 17:
        return {
            **assessed,
            "gillick_competent": Assessed.NOT_ASSESSED.value,
            "mental_capacity": assessed["gillick_competent"],
        }
    return assessed


def _assessed(answers: dict[str, str], question: Field) -> str:
    """An answer to a question of this person's case; not asked in it (an adult's Gillick competence), or
    left blank, is not assessed."""
    given = answers.get(question.name)
    return given if question.applies(answers) and given in {v for v, _ in ASSESSED} else Assessed.NOT_ASSESSED.value


def ref(answers: dict[str, str]) -> str:
    """The subject's reference, which a consent record about them names too."""
    given = answers.get("subject_ref")
    if given:
        return given
    return f"form-{answers.get(CASE_OF) or answers.get(CORRECTS) or answers.get('notification_id', '')}"


def _nhs(answers: dict[str, str]) -> str | None:
    return answers.get("nhs_number", "").replace(" ", "") or None
