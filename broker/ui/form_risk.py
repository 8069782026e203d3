"""The guided form's risk step: the sender's judgement of the risk now, the kind of concern, and the
envelope's `risk` and `concern_tags` they build.

Each risk question is answered yes, no or don't know; the schema's flags (`schemas.common.RiskFlags`)
take `None` for "the sender does not know", so a "Don't know" is sent as that, never as a no.

Whether an adult is at risk of serious harm is asked of every type: any case may have an adult at
risk in it (the person it is about, a parent who is a victim of domestic abuse), the policy weighs it
for every type (serious harm to an adult justifies sharing without consent: CPSCP-Procedures, Information
sharing > National Guidance on Sharing Information), and who the
case is mainly about is asked only later, on the details step.

Whether domestic abuse was found to be high risk (`da_high_risk_marac`) is asked only where the policy
reads it: a MARAC referral, which the policy sends for advice unless it is high risk (GR6), and a
safeguarding referral, where a child causing harm to a high-risk parent or carer obliges a MARAC
referral. The pack's form facts (`broker.ui.policy_pack`) do not carry the first, and the second is an
obligation, not pack data, so the types are named here.

The concern's kind is asked as tags (`schemas.vocab.ConcernTag`), which the policy's rules react to:
domestic abuse with a recipient in contact with the alleged perpetrator is checked with an adviser
first, a missing child who was trafficked is reported to the police at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from broker.ui import form_safety, form_subject
from broker.ui.form_fields import YES_NO_UNKNOWN, Field, Step, choices, unanswered
from schemas.notifications import NOTIFICATION_MODELS
from schemas.vocab import ConcernTag

__all__ = ["ASK_ADVISER", "DA_HIGH_RISK", "KEY", "TAGS", "check", "concern_tags", "flag", "risk", "step"]

KEY = "risk"
TAGS = "concern_tags"
DA_HIGH_RISK = "da_high_risk_marac"
ADULT = "serious_harm_to_adult"
# Doubt about sharing at all: an adviser of the sender's agency may answer it either way (a named
# professional too), so a share held for it can be released.
ASK_ADVISER = (
    "Unsure: ask an adviser first (a DSL, IG lead, Caldicott Guardian or named professional at your agency, not "
    "you, decides before anything is sent)"
)
_DOUBT = [("sure", "Yes: share it as the policy decides"), ("unsure", ASK_ADVISER)]
_RISKS = (
    "immediate_significant_harm",
    "likely_significant_harm",
    ADULT,
    "risk_to_others",
    "crime_suspected",
)
# The types whose decision reads the high-risk flag, and whether the question must be answered: a
# MARAC referral always; a safeguarding referral once its tags say there is domestic abuse.
_DA_TYPES = {"marac_referral": True, "safeguarding_referral": False}
_DA_TAGS = (ConcernTag.DOMESTIC_ABUSE.value, ConcernTag.CPCH.value)
_DA_QUESTION = (
    "Has a DASH risk assessment (or professional judgement) found the domestic abuse to be high risk (MARAC threshold)?"
)
# Each tag as a practitioner names it (no other page shows a tag, so the words are the form's own).
_TAG_WORDS = {
    ConcernTag.PHYSICAL_ABUSE: "Physical abuse",
    ConcernTag.EMOTIONAL_ABUSE: "Emotional abuse",
    ConcernTag.SEXUAL_ABUSE: "Sexual abuse",
    ConcernTag.NEGLECT: "Neglect",
    ConcernTag.DOMESTIC_ABUSE: "Domestic abuse",
    ConcernTag.FORCED_MARRIAGE: "Forced marriage",
    ConcernTag.HONOUR_BASED_VIOLENCE: "So-called honour-based abuse or violence",
    ConcernTag.TRAFFICKING_MODERN_SLAVERY: "Trafficking or modern slavery",
    ConcernTag.CSE: "Child sexual exploitation",
    ConcernTag.CCE: "Child criminal exploitation, including county lines",
    ConcernTag.FGM: "Female genital mutilation (FGM)",
    ConcernTag.RADICALISATION: "Radicalisation or extremism",
    ConcernTag.CPCH: "A child causing harm to a parent or carer",
    ConcernTag.CHILD_ON_CHILD: "Harm by another child (child-on-child abuse)",
    ConcernTag.SEXUAL_ACTIVITY_UNDER_13: "Sexual activity involving a child under 13",
    ConcernTag.SELF_HARM: "Self-harm",
    ConcernTag.UNCONVICTED_ADULT_RISK: "An adult who may pose a risk to children but has no conviction",
    ConcernTag.HOSTILE_FAMILY: "A hostile or uncooperative family",
    ConcernTag.PARENTAL_MENTAL_ILL_HEALTH: "A parent's or carer's mental ill health",
    ConcernTag.PARENTAL_SUBSTANCE_MISUSE: "A parent's or carer's drug or alcohol misuse",
    ConcernTag.UNACCOMPANIED_CHILD: "A child who is unaccompanied, or not with a parent",
}
_TAG_CHOICES = choices(ConcernTag, {code.value: words for code, words in _TAG_WORDS.items()})


def step(message_type: str | None, *, replying: bool = False) -> Step:
    """The risk step's questions for this type, ending with how the concern first reached the recipients:
    not of a reply, which answers a concern the recipients already have (an outcome is no phoned referral)."""
    contact = () if replying else (form_safety.CONTACT,)
    da = _da_field(message_type)
    paths = {ADULT: ADULT, **({DA_HIGH_RISK: DA_HIGH_RISK} if da else {}), TAGS: TAGS}
    child = _child_words(message_type)
    return Step(
        KEY,
        "Risk",
        "Your judgement of the risk now. If a child or adult is in immediate danger, phone 999.",
        (
            Field(
                "immediate_significant_harm",
                f"Is {child} at immediate risk of significant harm?",
                "radio",
                YES_NO_UNKNOWN,
            ),
            Field("likely_significant_harm", f"Is {child} likely to suffer significant harm?", "radio", YES_NO_UNKNOWN),
            Field(
                ADULT,
                "Is an adult at risk of serious harm?",
                "radio",
                YES_NO_UNKNOWN,
                hint="Any adult in this case: the person it is about, a parent or carer, a victim of domestic abuse.",
            ),
            Field("crime_suspected", "Do you suspect a crime?", "radio", YES_NO_UNKNOWN),
            Field("risk_to_others", "Is anyone else at risk?", "radio", YES_NO_UNKNOWN),
            Field(
                TAGS,
                "What kind of concern is this?",
                "checkboxes",
                _TAG_CHOICES,
                required=False,
                hint="Tick all that apply: the policy acts on them (with domestic abuse, for one, it asks for "
                "advice before anything reaches an agency that will tell the alleged perpetrator about it).",
            ),
            *da,
            Field(
                "in_doubt", "Are you sure this should be shared? (Golden rule 3: if in doubt, ask.)", "radio", _DOUBT
            ),
            *contact,
        ),
        {
            **paths,
            "risk": "immediate_significant_harm",
            "sender_in_doubt": "in_doubt",
            **({} if replying else {"initial_contact": "initial_contact"}),
        },
    )


def _child_words(message_type: str | None) -> str:
    """Whom the two child-protection questions ask about. A type about an adult (an adult safeguarding
    referral, a MARAC referral, a disclosure) may still name children, and the policy reads these two
    flags for the children (an urgent share goes to children's social care and the police), so they
    ask about any child in the case rather than "the child" a reader of such a form would look for. A
    child death notification asks about the children still living: a "Yes" sends it urgently to those
    who protect them (CPSCP-Procedures, Child death > 3.10.1 Social Care)."""
    if form_subject.about_a_child_who_died(message_type):
        return "any other child (a brother or sister, or another child in the household)"
    for (kind, _), model in NOTIFICATION_MODELS.items():
        payload: Any = model.model_fields["payload"].annotation
        if kind.value == message_type and issubclass(payload, BaseModel) and "child" not in payload.model_fields:
            return "any child in this case"
    return "the child"


def _da_field(message_type: str | None) -> tuple[Field, ...]:
    if message_type not in _DA_TYPES:
        return ()
    hint = (
        "A MARAC is for high-risk domestic abuse. If it is not, or you do not know, the referral waits "
        "for an adviser at your agency (a DSL) to check the DASH assessment with you."
    )
    if _DA_TYPES[message_type]:
        return (Field(DA_HIGH_RISK, _DA_QUESTION, "radio", YES_NO_UNKNOWN, hint=hint),)
    return (
        Field(
            DA_HIGH_RISK,
            "If there is domestic abuse, or a child causing harm to a parent or carer: has a risk assessment (DASH, "
            "the CPCH risk assessment tool) or professional judgement found it to be high risk (MARAC threshold)?",
            "radio",
            YES_NO_UNKNOWN,
            required=False,
            conditional=True,
            hint="Needed once you tick either of those kinds of concern above. A parent or carer at high risk from "
            "a child aged 16 or over is also referred to the MARAC.",
        ),
    )


def check(step: Step, answers: Mapping[str, str]) -> dict[str, str]:
    """The step's refusal beyond an unanswered required question: domestic abuse (or a child causing
    harm to a parent or carer) ticked on a safeguarding referral, and whether it is high risk unsaid."""
    asked = next((f for f in step.fields if f.name == DA_HIGH_RISK), None)
    if asked is None or asked.required or answers.get(DA_HIGH_RISK) or not set(concern_tags(answers)) & set(_DA_TAGS):
        return {}
    return {DA_HIGH_RISK: unanswered(asked.title)}


def flag(value: str | None) -> bool | None:
    """A yes/no answer as the schema's flag; anything else (don't know, unanswered) is `None`."""
    return {"yes": True, "no": False}.get(value or "")


def risk(message_type: str, answers: Mapping[str, str]) -> dict[str, bool | None]:
    """The envelope's `risk`; the high-risk flag only where this type asks it (an answer carried from
    another type chosen before is not sent)."""
    flags = {k: flag(answers.get(k)) for k in _RISKS}
    if message_type in _DA_TYPES:
        flags[DA_HIGH_RISK] = flag(answers.get(DA_HIGH_RISK))
    return flags


def concern_tags(answers: Mapping[str, str]) -> list[str]:
    """The envelope's `concern_tags`: the tags ticked, of those offered."""
    return [code for code, _ in _TAG_CHOICES if answers.get(f"{TAGS}:{code}")]
