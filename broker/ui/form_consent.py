"""What the guided form records of consent: whose it is, what they said, and which agencies it covers.

Consent is specific. Golden rule 4 lets a share rest on consent only within what the person agreed
to (CPSCP-Procedures, Information sharing > The Seven Golden Rules for Information Sharing, rule 4),
and an Early Help Assessment goes to the agencies the family chose (CPSCP-Procedures, Threshold
policy > Early Help Assessments). The policy keeps a share that rests on consent to the agencies a
consent record's `scope_agencies` names; so once consent was given, the consent step, which comes
right after the recipients are chosen, asks which of them the person agreed to, one box each. The
record names those ticked that are still recipients: an agency left unticked, or chosen later, gets
nothing on the strength of this consent, and the list is sent even when every recipient is ticked.

Whose consent it is matters as much. A young person able to decide for themselves (Gillick
competent) gives or refuses their own: in a forced marriage case, outside child protection
procedures, sharing needs "the express consent of the child" (CPSCP-Procedures, Forced marriage >
6. Issues), and a parent's does not do. An adult decides for themselves what happens to their
information (CPCH-Policy, 6. Strategy Meeting/Safeguarding Enquiries: Making Safeguarding Personal).
So the step asks whose it is whenever someone was asked and answered: consent given, refused or
withdrawn (a refusal is someone's too); only a parent's refusal is recorded as the parents
withholding permission. About an adult it offers only the person's own, whose answer counts only if
they have capacity for the decision (asked with the details), and words the exceptions about them.
Consent not sought, not required, not applicable or unsure is nobody's answer.
A young person able to decide may also ask that their parents not be told, a wish respected unless
the conditions for sharing without consent apply (CPSCP-Procedures, Self-harm > Information Sharing
and Consent): where the parents do not know, the step asks whether that is why, and then needs no
other reason. Whether the young person can decide is asked with the details (`form_subject`), and
the policy relies on their consent or their wish only if they can (GR2, GR4).

Whom "do they know" asks about depends on whom the notification is about. For a child it is the
parents (CPSCP-Procedures, Responding to concerns about a child > Consulting parents); an adult at
risk or an adult victim is asked about themselves, not their parents, and the question about a young
person's wish is not asked (`form_subject.about_adult`); about a child who has died, only a
parent's consent is recorded, and no wish of the child's is asked. The answers still go as `parental_position`,
the one field the schema has, which the policy reads as whether the parents, or the person, know (GR2;
whether the person is told afterwards, Caldicott 8). The step and the check step word it alike, and
the person's own consent, not a parent's, is what says they know.

A refusal needs no exception: refused with none, the policy decides it (GR4: an adviser is asked first; a request
for services, which always needs consent, is not shared). Only consent not sought needs its reason (golden rules 2
and 4), so the step asks for the exception in all three cases and requires it in that one. Consent nobody answered
is no lawful basis (GR1, GR4): the step refuses it as one, where sent it would be held and only refusable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from broker.ui import form_subject
from broker.ui import words as say
from broker.ui.form_fields import YES_NO, YES_NO_UNKNOWN, Field, Step, choices, unanswered
from broker.ui.form_risk import flag
from broker.ui.form_types import FormType
from broker.ui.policy_pack import TypeRules
from schemas.vocab import ConsentException, ConsentGiver, ConsentStatus, LawfulBasis

__all__ = ["GIVER", "KEY", "SCOPE", "STATUS", "check", "parental_position", "records", "scope", "step", "unasked"]

KEY = "consent"
STATUS = "consent_status"
GIVER = "consent_giver"
SCOPE = "consent_scope"
CHILD_ASKED = "child_asked_not_told"
UNSURE = LawfulBasis.UNSURE.value
# With no basis recorded an adviser cannot release the share, only refuse it: only the sender can record one
# (`broker.review.release`), so the adviser says which basis applies and the sender sends it again. Urgency
# still shares at once (GR1's advice gives way to I14); an advice request names nobody: no basis needed (GR1).
BASIS_UNSURE = (
    "Unsure: ask an adviser first (unless there is an immediate risk of significant harm, nothing is sent: an "
    "adviser at your agency, a DSL, IG lead, Caldicott Guardian or named professional other than you, says which basis "
    "applies, and you send it again with it)"
)
ADVICE_UNSURE = "Unsure: this request names nobody, so it needs no settled basis (asking is how it is found)"
_GIVEN = ConsentStatus.GIVEN_EXPLICIT.value
_NOT_SOUGHT = ConsentStatus.NOT_SOUGHT.value
# Whose consent it is, asked where someone answered: given, refused or withdrawn.
ANSWERED = frozenset({_GIVEN, ConsentStatus.REFUSED.value, ConsentStatus.WITHDRAWN.value})
# The exception to seeking consent, asked wherever there is none: required only where it was not sought.
_WITHOUT = frozenset({_NOT_SOUGHT, ConsentStatus.REFUSED.value, ConsentStatus.WITHDRAWN.value})
# Whose consent the form can record: the people the information is about. A referrer's own consent
# (to being named) is about their identity only, and no question of this step. About an adult, only
# the person's own: the schema has nobody else's (no parent, no young person), and a family's is not theirs.
GIVERS = [
    (ConsentGiver.PARENT_PR.value, "A parent or carer with parental responsibility"),
    (
        ConsentGiver.CHILD.value,
        "The young person themselves, able to decide for themselves (Gillick competent, or at 16 or 17 with capacity)",
    ),
    (ConsentGiver.ADULT_SUBJECT.value, "The adult the concern is about"),
]
ADULT_GIVERS = [(ConsentGiver.ADULT_SUBJECT.value, "The person themselves")]


@dataclass(frozen=True)
class _Told:
    """Whom "do they know" is about, in the words the step and its refusals use."""

    knows: str
    hint: str
    why: str
    why_hint: str
    unsaid: str
    # Whose own answer about consent means they know, and what a "no" then contradicts.
    giver: str
    contradicts: str
    # Whose consent it may be, what the step says of it, and the exceptions in words about this person.
    givers: list[tuple[str, str]]
    giver_hint: str
    exceptions: dict[str, str]


_PARENTS = _Told(
    knows="Do the parents know you are sending this?",
    hint="",
    why="If they do not know: why telling them is unsafe or inappropriate",
    why_hint="Needed unless the young person asked that their parents not be told.",
    unsaid="Say why the parents are not being told, or that the young person asked that they not be (golden rule 2).",
    giver=ConsentGiver.PARENT_PR.value,
    contradicts="A parent gave or refused consent, so the parents know: answer Yes, or say whose consent it is.",
    givers=GIVERS,
    giver_hint="Whoever gave, refused or withdrew it. A young person who understands what sharing means decides "
    "for themselves, and so does an adult.",
    exceptions=say.CONSENT_EXCEPTIONS,
)
_PERSON = _Told(
    knows="Does the person this is about know you are sending this?",
    hint="The adult themselves, not their family (if they lack capacity for this decision, say so on the details "
    "step).",
    why="If the person does not know: why telling them is unsafe or inappropriate",
    why_hint="",
    unsaid="Say why the person is not being told (golden rule 2).",
    giver=ConsentGiver.ADULT_SUBJECT.value,
    contradicts="The person gave or refused consent themselves, so they know: answer Yes, or say whose consent it is.",
    givers=ADULT_GIVERS,
    giver_hint="Whoever gave, refused or withdrew it: the person themselves, not their family. Their own answer "
    "counts only if they have capacity for this decision, which the details step asks.",
    exceptions=say.ADULT_CONSENT_EXCEPTIONS,
)


# About a child who has died: their parents' consent alone, and no wish of the child's to ask about.
_BEREAVED = replace(
    _PARENTS,
    why_hint="",
    unsaid="Say why the parents are not being told (golden rule 2).",
    givers=[g for g in GIVERS if g[0] == ConsentGiver.PARENT_PR.value],
    giver_hint="Whoever gave, refused or withdrew it: a parent or carer with parental responsibility for the child.",
)


# About an allegation against someone who works with children, the adult it concerns is the one the
# allegation is about, whose consent no procedure asks (CPSCP-Procedures, LADO > 4): the child's side alone.
_ALLEGED = replace(
    _PARENTS,
    givers=[g for g in GIVERS if g[0] != ConsentGiver.ADULT_SUBJECT.value],
    giver_hint="Whoever gave, refused or withdrew it: a parent or carer, or the young person, for the child. "
    "The adult the allegation is about is not asked.",
)


def _told(message_type: str | None) -> _Told:
    if form_subject.about_a_child_who_died(message_type):
        return _BEREAVED
    if message_type == "lado_allegation":
        return _ALLEGED
    return _PERSON if form_subject.about_adult(message_type) else _PARENTS


def _chosen(answers: Mapping[str, str]) -> list[str]:
    return [k[3:] for k in answers if k.startswith("to:")]


def scope(answers: Mapping[str, str]) -> list[str]:
    """The agencies the consent covers: those ticked that are recipients now, in the recipients' order."""
    return [agency_id for agency_id in _chosen(answers) if answers.get(f"{SCOPE}:{agency_id}")]


def step(form: FormType | None, answers: Mapping[str, str], names: Mapping[str, str] | None = None) -> Step:
    """Whether consent was sought, whose it is and which chosen agencies it covers; else the exception (GR2, GR4)."""
    rules = form.rules if form else None
    bases = [(b, say.option(b, say.LAWFUL_BASES)) for b in rules.lawful_bases if b != UNSURE] if rules else []
    agencies = [(a, (names or {}).get(a, a)) for a in _chosen(answers)]
    told = _told(form.message_type if form else None)
    return Step(
        KEY,
        "Consent and the exceptions",
        "Have you sought agreement? If not, which exception applies? (Golden rules 2 and 4.)",
        (
            Field(
                STATUS,
                "Consent",
                "select",
                choices(ConsentStatus, say.CONSENT_STATES),
                required=bool(rules and rules.consent_applies),
            ),
            _giver(told),
            Field(
                SCOPE,
                "If consent was given: which of the agencies you chose did they agree to?",
                "checkboxes",
                agencies,
                required=False,
                conditional=True,
                when=(STATUS, frozenset({_GIVEN})),
                hint=_scope_hint(rules),
            ),
            Field(
                "privacy_notice_given",
                "If consent was given: were they given the privacy notice saying how their information is used?",
                "radio",
                YES_NO,
                required=False,
                conditional=True,
                when=(STATUS, frozenset({_GIVEN})),
            ),
            *_exceptions(rules is not None and rules.parental_position_required, _without_hint(form, answers), told),
            Field("lawful_basis", "Lawful basis for sharing", "select", [*bases, (UNSURE, _unsure(form))]),
        ),
        {
            "giver": GIVER,
            "scope_agencies": SCOPE,
            KEY: STATUS,
            "parental_position": "parents_informed",
            "lawful_basis": "lawful_basis",
        },
    )


def _unsure(form: FormType | None) -> str:
    return ADVICE_UNSURE if form and form.rules.advice_request else BASIS_UNSURE


def _giver(told: _Told) -> Field:
    return Field(
        GIVER,
        "Whose consent is this?",
        "radio",
        told.givers,
        required=False,
        conditional=True,
        when=(STATUS, ANSWERED),
        hint=told.giver_hint,
    )


def _scope_hint(rules: TypeRules | None) -> str:
    """What ticking an agency does: on a type that rests on no consent (a missing child notice, a police
    protection notice), nothing, which the hint says, where a reader found it warned otherwise."""
    if rules is not None and not rules.consent_applies:
        return (
            "This kind of notification does not rest on consent: it goes on its lawful basis to every agency you "
            "chose, ticked here or not. What you tick is recorded with it."
        )
    return (
        "Consent covers only the agencies it names (golden rule 4): one left unticked gets nothing on the "
        "strength of this consent."
    )


def _without_hint(form: FormType | None, answers: Mapping[str, str]) -> str:
    """What becomes of a refusal with no exception, as the policy decides it (GR4 and the duty to share, C7)."""
    needed = "Needed if consent was not sought. If it was refused or withdrawn and no exception applies, leave it blank"
    if not (form and form.rules.consent_applies):
        return f"{needed}."
    if answers.get("purpose") == "request_for_services":
        return (
            f"{needed}, but a request for services always needs consent: refused or withdrawn, it is not shared, "
            "exception or not. If there is a risk of significant harm, send a safeguarding referral instead."
        )
    return (
        f"{needed}: on a lawful basis other than consent, the share then waits for an adviser at your agency (DSL, "
        "IG lead, Caldicott Guardian or named professional) to say yes or no. If you record a likely risk of "
        "significant harm (next step), the refusal alone no longer holds back a share with a protective agency: "
        "unless something else does, it goes now and is reviewed after."
    )


def _exceptions(parental_position_required: bool, without: str, told: _Told) -> tuple[Field, ...]:
    return (
        Field(
            "not_sought_reason",
            "If consent was not sought, was refused or was withdrawn: the exception that applies",
            "select",
            choices(ConsentException, told.exceptions),
            required=False,
            conditional=True,
            when=(STATUS, _WITHOUT),
            hint=without,
        ),
        Field(
            "parents_informed", told.knows, "radio", YES_NO_UNKNOWN, required=parental_position_required, hint=told.hint
        ),
        # A young person's wish that their parents not be told: nobody's to ask about an adult or a child who died.
        *((_child_asked(),) if told is _PARENTS else ()),
        Field(
            "reason_not_informed",
            told.why,
            "select",
            choices(ConsentException, told.exceptions),
            required=False,
            conditional=True,
            when=("parents_informed", frozenset({"no"})),
            hint=told.why_hint,
        ),
    )


def _child_asked() -> Field:
    return Field(
        CHILD_ASKED,
        "If they do not know: did the young person ask that their parents not be told?",
        "radio",
        YES_NO,
        required=False,
        when=("parents_informed", frozenset({"no"})),
        hint="A young person able to decide for themselves (Gillick competent, or at 16 or 17 with capacity) may "
        "ask this, and their wish is respected unless the conditions for sharing without consent apply.",
    )


def check(step: Step, answers: Mapping[str, str]) -> dict[str, str]:
    """The step's refusals by field, each naming its question."""
    titles = {f.name: f.title for f in step.fields}
    status = answers.get(STATUS)
    errors = {}
    if status in ANSWERED and not answers.get(GIVER):
        errors[GIVER] = unanswered(titles[GIVER])
    if status == _GIVEN and not scope(answers):
        errors[SCOPE] = f"{titles[SCOPE]} Tick each agency they agreed to: at least one."
    # Refused or withdrawn, no exception is an answer too: the policy decides it (GR4).
    if status == _NOT_SOUGHT and not answers.get("not_sought_reason"):
        errors["not_sought_reason"] = "Consent was not sought: say which exception applies (golden rules 2 and 4)."
    if answers.get("lawful_basis") == LawfulBasis.CONSENT.value and status not in ANSWERED:
        errors["lawful_basis"] = "Nobody gave consent, so it cannot be the lawful basis: choose the one it rests on."
    # Consent relied on with the notice unstated is held (Caldicott 8), so the form asks here.
    if status == _GIVEN and not answers.get("privacy_notice_given"):
        errors["privacy_notice_given"] = "Say whether they were given the privacy notice (Caldicott 8)."
    # Whoever "do they know" asks about, having given or refused consent, was asked, so knows: "no" contradicts it.
    told = _told(answers.get("message_type"))
    if status in ANSWERED and answers.get(GIVER) == told.giver and answers.get("parents_informed") == "no":
        errors["parents_informed"] = told.contradicts
    asked = CHILD_ASKED in titles and _asked(answers)
    if answers.get("parents_informed") == "no" and not answers.get("reason_not_informed") and not asked:
        errors["reason_not_informed"] = told.unsaid
    return errors


def unasked(form: FormType | None, answers: Mapping[str, str]) -> set[str]:
    """The step's questions its case does not ask (an exception beside consent given), or its type
    does not (a young person's wish, about an adult): their answers are neither sent nor repeated back."""
    fields = step(form, answers).fields
    return {f.name for f in fields if not f.applies(answers)} | ({CHILD_ASKED} - {f.name for f in fields})


def records(a: dict[str, str]) -> list[dict[str, Any]]:
    """The envelope's `consent`: one record, whose it is and, once given, the agencies it covers."""
    # Nothing said about consent (a type it does not apply to): no record rather than an invented one.
    if not a.get(STATUS):
        return []
    return [
        {
            "subject_ref": form_subject.ref(a),
            "giver": _giver_of(a),
            "status": a[STATUS],
            "scope_agencies": scope(a) if a[STATUS] == _GIVEN else None,
            "privacy_notice_given": flag(a.get("privacy_notice_given")),
            "not_sought_reason": a.get("not_sought_reason") or None,
        }
    ]


def _giver_of(a: Mapping[str, str]) -> str | None:
    """Whose the record is: as answered where asked (unanswered, the schema refuses it by the question's
    name). Where nobody answered (not sought, not required, not applicable, unsure) it is not asked, but
    the schema requires a giver (`ConsentRecord.giver`): the parents', whose consent it would have been
    for a child, as the form sent before it asked, and the adult's own on a notification about an adult.
    The policy reads only the status then; a parent's refusal alone is the parents withholding permission
    (`parental_position`)."""
    if a[STATUS] in ANSWERED:
        return a.get(GIVER) or None
    if form_subject.about_adult(a.get("message_type")):
        return ConsentGiver.ADULT_SUBJECT.value
    return ConsentGiver.PARENT_PR.value


def parental_position(a: Mapping[str, str]) -> dict[str, Any] | None:
    """The envelope's `parental_position`: the parents withheld permission only if it is a parent's refusal."""
    if not a.get("parents_informed"):
        return None
    refused = a.get(STATUS) == ConsentStatus.REFUSED and a.get(GIVER) == ConsentGiver.PARENT_PR
    return {
        "parents_informed": flag(a.get("parents_informed")),
        "parent_withheld_permission": True if refused else None,
        "reason_not_informed": a.get("reason_not_informed") or None,
        "child_asked_not_told": True if _asked(a) else None,
    }


def _asked(a: Mapping[str, str]) -> bool:
    """The young person asked that the parents not be told: an answer only where they do not know."""
    return a.get("parents_informed") == "no" and a.get(CHILD_ASKED) == "yes"
