"""The guided form's steps for one message type, their per-step checks, and the notification they build.

What each step asks is derived: the types on offer (`broker.ui.form_types`), the purposes and
lawful bases the policy pack allows the type, whether the parents' position must be recorded, and
the payload's inputs (`broker.ui.form_payload`), required where the schema or the policy's adequacy
check requires them. So a form this UI accepts is never held for a missing field. Whoever is unsure
says so ("unsure, ask an adviser"): the policy then answers `needs_advice` and the share waits in
the sender agency's advisers' queue (DSL, IG lead, Caldicott Guardian, named professional).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from broker.ui import form_consent, form_risk, form_safety, form_subject
from broker.ui import words as say
from broker.ui.form_fields import PAYLOAD, Field, Step, choices, unanswered
from broker.ui.form_payload import build, facts, inputs, schema_required
from broker.ui.form_types import DEFAULT_ROLE, FormType
from broker.ui.sessions import UiSession
from schemas.locations import location
from schemas.vocab import AuthoriserRole, NeedToKnow

__all__ = [
    "DEFAULT_ROLE",
    "NEED_TO_KNOW",
    "build_notification",
    "schema_errors",
    "schema_errors_at",
    "steps_for",
    "validate_step",
]

_REF = re.compile(r"[^A-Za-z0-9._:-]")
NEED_TO_KNOW = choices(NeedToKnow)


def _picked(values: tuple[str, ...], table: dict[str, str]) -> list[tuple[str, str]]:
    return [(v, say.option(v, table)) for v in values]


def _type_step(types: list[FormType]) -> Step:
    return Step(
        "type",
        "What you are sending",
        "Choose the kind of notification. Only what your agency may send is offered.",
        (Field("message_type", "What are you sending?", "radio", [(t.message_type, t.label) for t in types]),),
        {"message_type": "message_type"},
    )


def _purpose_step(form: FormType | None) -> Step:
    purposes = _picked(form.rules.purposes, say.PURPOSE_NAMES) if form else []
    return Step(
        "purpose",
        "Purpose",
        "Why are you sharing? (Caldicott 1: justify the purpose.)",
        (
            Field("purpose", "Purpose", "select", purposes),
            Field("purpose_statement", "In a sentence, what do you need the recipients to do?", "textarea"),
            Field("sender_role", "Your role", "select", []),
        ),
        {"purpose": "purpose", "purpose_statement": "purpose_statement", "sender": "sender_role"},
    )


def _details_step(form: FormType | None, answers: dict[str, str], agency_type: str) -> Step:
    subject = form_subject.fields(form.message_type if form else None)
    if form is None:
        return Step("details", "Details", "Facts first; say what is opinion and whose.", subject)
    must = schema_required(form.payload) | form.rules.required_fields(
        answers.get("purpose"), facts(form.payload, answers)
    )
    must |= set(_stage_map(form, "stage_fields").get(_stage_given(form, answers), ()))
    fields = tuple(
        _stages_for_sender(f, form, agency_type) for f in _asked(form, inputs(form.payload, must), must, agency_type)
    )
    intro = f"{form.label}. Facts first; say what is opinion and whose. Fields marked optional may be left blank."
    return Step("details", "Details", intro, subject + fields, form_subject.PATHS)


def _stage_given(form: FormType, answers: dict[str, str]) -> str:
    """The stage answered, else the one the schema gives a notification that names none (a referral)."""
    field = form.payload.model_fields.get("stage")
    default = field.default if field is not None else None
    return answers.get(PAYLOAD + "stage") or str(getattr(default, "value", default) or "")


def _stage_map(form: FormType, which: str) -> Mapping[str, tuple[str, ...]]:
    """The payload's `stage_fields` or `stage_extras` (`schemas.fields.PayloadModel`); none for another model."""
    found: Mapping[str, tuple[str, ...]] = getattr(form.payload, which, {})
    return found


def _asked(form: FormType, fields: Iterable[Field], must: set[str], agency_type: str) -> list[Field]:
    """The payload's questions but those only a stage this sender may not send needs: a school's referral
    to the LADO is not asked the LADO's meeting minutes, nor a GP's notice of a death the post-mortem's."""
    needed_at: dict[str, set[str]] = {}
    for carried in (_stage_map(form, "stage_fields"), _stage_map(form, "stage_extras")):
        for stage, names in carried.items():
            for name in names:
                needed_at.setdefault(name, set()).add(stage)

    def asked(field: Field) -> bool:
        name = field.name.removeprefix(PAYLOAD).split(".")[0]
        stages = needed_at.get(name)
        return not stages or name in must or any(form.rules.offers(s, sender_type=agency_type) for s in stages)

    # A field a stage needs is never "(optional)": its words name the stages it is needed at, and at the
    # stage given it is required (`must`).
    needed = {n for names in _stage_map(form, "stage_fields").values() for n in names} - must
    return [
        replace(f, conditional=True) if f.name.removeprefix(PAYLOAD) in needed and not f.group else f
        for f in fields
        if asked(f)
    ]


def _stages_for_sender(field: Field, form: FormType, agency_type: str) -> Field:
    # A type whose stages belong to different senders (a conference invitation, an agency's report)
    # offers only the stages this agency may send, to another kind of agency than its own.
    if field.name != PAYLOAD + "stage":
        return field
    allowed = [(c, t) for c, t in field.choices if form.rules.offers(c, sender_type=agency_type)]
    # The schema's words list every stage ("Referral, AMM invitation, AMM record or outcome"): read by a
    # sender offered fewer, they promise what the choices do not have.
    label = field.label if len(allowed) == len(field.choices) else "Which stage of the case this is"
    return Field(field.name, label, field.kind, allowed, field.required, field.hint)


def _authorisation_step() -> Step:
    return Step(
        "authorisation",
        "Authorisation",
        "If a manager has already agreed to sharing without consent, record who and why. Recording it releases "
        "nothing: a share held for authorisation waits until someone who may authorise it releases it from "
        "their queue, signed in as themselves, and that release is what the decision log records. Otherwise "
        "leave this blank.",
        (
            Field(
                "authoriser_role",
                "Authorised by (role)",
                "select",
                choices(AuthoriserRole, say.ROLES),
                required=False,
                sub_required=True,
            ),
            # All three or none (_check_authorisation), as a value object's parts are.
            Field("authoriser_ref", "Authoriser's staff reference", required=False, sub_required=True),
            Field("authorisation_reason", "Their reason", "textarea", required=False, sub_required=True),
        ),
        {"authorisation": "authoriser_role"},
    )


def steps_for(
    types: list[FormType],
    form: FormType | None,
    answers: dict[str, str],
    agency_type: str,
    names: dict[str, str] | None = None,
) -> tuple[Step, ...]:
    """Every step for this type (before a type is chosen, the later steps are empty outlines)."""
    return (
        _type_step(types),
        _purpose_step(form),
        Step(
            "recipients",
            "Who needs to know",
            "Choose only the agencies that need this (golden rule 6, Caldicott 4), and say why each needs it.",
            (),
            {"recipients": "recipients"},
            names or {},
        ),
        form_consent.step(form, answers, names),
        form_risk.step(form.message_type if form else None, replying=bool(answers.get(form_subject.IN_REPLY_TO))),
        form_safety.step(answers, names),
        _details_step(form, answers, agency_type),
        _authorisation_step(),
        Step(
            "check",
            "Check before sending",
            "What each recipient would receive, and why. Nothing has been sent or recorded yet.",
        ),
    )


def validate_step(
    step: Step, answers: dict[str, str], options: dict[str, list[tuple[str, str]]] | None = None
) -> dict[str, str]:
    """Errors by field name for one step (empty when the step is complete); `options` narrows a
    field's choices for this person (the roles they may send as)."""
    if step.key == "details":
        return _check_details(step, answers)
    offered = {f.name: (options or {}).get(f.name, f.choices) for f in step.fields}
    errors = {f.name: unanswered(f.label) for f in step.fields if f.required and not answers.get(f.name)}
    for f in step.fields:
        value = answers.get(f.name)
        # An answer to a question its case does not ask is neither sent nor repeated back, so not refused
        # either: a parent's consent carried from a child's type to an adult's, where it was not sought.
        if not f.applies(answers):
            continue
        if value and (f.choices or f.name in (options or {})) and value not in {c for c, _ in offered[f.name]}:
            errors[f.name] = f"{f.title}: choose one of the options."
    if step.key == "recipients":
        errors.update(_check_recipients(answers, step.names))
    if step.key == "authorisation":
        errors.update(_check_authorisation(answers))
    if step.key == form_consent.KEY:
        errors.update(form_consent.check(step, answers))
    if step.key == form_safety.KEY:
        errors.update(form_safety.check(step, answers))
    if step.key == form_risk.KEY:
        errors.update(form_risk.check(step, answers))
    return step.in_order(errors)


def _check_recipients(answers: dict[str, str], names: Mapping[str, str]) -> dict[str, str]:
    chosen = [k[3:] for k in answers if k.startswith("to:")]
    if not chosen:
        return {"recipients": "Choose at least one agency."}
    ntk = {c for c, _ in NEED_TO_KNOW}
    # Each by name: the error summary lists one for each agency, away from the row it is about.
    why = "Say why {} needs to know."
    return {f"ntk:{a}": why.format(names.get(a, a)) for a in chosen if answers.get(f"ntk:{a}") not in ntk}


def _check_details(step: Step, answers: dict[str, str]) -> dict[str, str]:
    subject = [f for f in step.fields if not f.name.startswith(PAYLOAD)]
    errors = {f.name: unanswered(f.label) for f in subject if f.required and not answers.get(f.name)}
    errors.update(form_subject.check(answers))
    errors.update(build(tuple(f for f in step.fields if f.name.startswith(PAYLOAD)), answers).errors)
    return step.in_order(errors)


def _check_authorisation(answers: dict[str, str]) -> dict[str, str]:
    names = ("authoriser_role", "authoriser_ref", "authorisation_reason")
    given = [n for n in names if answers.get(n)]
    if given and len(given) < len(names):
        return {n: "Complete all three, or leave all three blank." for n in names if n not in given}
    if answers.get("authoriser_ref") and _REF.search(answers["authoriser_ref"]):
        return {"authoriser_ref": "Use letters, digits, dots, dashes only."}
    return {}


def build_notification(
    answers: dict[str, str], session: UiSession, now: datetime, form: FormType, details: Step
) -> dict[str, Any]:
    """The notification these answers describe, as an agency system would POST it; an answer to a
    question its case does not ask (an exception beside consent given) is not sent."""
    unasked = form_consent.unasked(form, answers)
    # A checkbox's answer is named `question:value` (the agencies a consent covers).
    a = {k: v for k, v in answers.items() if k.partition(":")[0] not in unasked}
    return {
        "message_type": form.message_type,
        "schema_version": form.schema_version,
        "notification_id": a.get("notification_id", ""),
        "in_reply_to": a.get(form_subject.IN_REPLY_TO) or None,
        "created_at": now.isoformat(),
        "purpose": a.get("purpose") or None,
        "purpose_statement": a.get("purpose_statement") or None,
        "lawful_basis": a.get("lawful_basis") or None,
        "consent": form_consent.records(a),
        "parental_position": form_consent.parental_position(a),
        "authorisation": _authorisation(a, now),
        "risk": form_risk.risk(form.message_type, a),
        "concern_tags": form_risk.concern_tags(a),
        "sender_in_doubt": a.get("in_doubt") == "unsure",
        "subjects": [form_subject.subject(a)],
        "withheld_from": form_safety.withheld_from(a),
        "initial_contact": form_safety.initial_contact(a),
        "sender": {
            "agency_id": session.agency_id,
            "role": a.get("sender_role") or None,
            "user_ref": session.caller().user_ref,  # the check the API makes of a person (flow.check_sender)
            "is_professional": True,
        },
        "recipients": [
            {
                "agency_id": k[3:],
                "role": a[k],
                "need_to_know": a.get(f"ntk:{k[3:]}"),
                "conveys_to": form_safety.conveys_to(a, k[3:]),
            }
            for k in a
            if k.startswith("to:")
        ],
        "payload": build(tuple(f for f in details.fields if f.name.startswith(PAYLOAD)), a).payload,
    }


def _authorisation(a: dict[str, str], now: datetime) -> dict[str, Any] | None:
    if not a.get("authoriser_role"):
        return None
    return {
        "authoriser_role": a["authoriser_role"],
        "authoriser_ref": a.get("authoriser_ref", ""),
        "authorised_at": now.isoformat(),
        "reason": a.get("authorisation_reason", ""),
    }


def schema_errors(steps: tuple[Step, ...], check: int, exc: ValidationError) -> tuple[int, dict[str, str]]:
    """The schema's refusals by the field and step that ask for them ("Date of birth: is in the
    future: …"), and the first such step; a path no step asks for is named as the schema has it."""
    refusals = _refusals(steps, exc)
    first = min((index for index, _, _ in refusals), default=check)
    return min(first, check), _by_field((name, said) for _, name, said in refusals)


def schema_errors_at(steps: tuple[Step, ...], index: int, exc: ValidationError) -> dict[str, str]:
    """The schema's refusals that fall on one step's questions, worded as `schema_errors` words them."""
    return _by_field((name, said) for at, name, said in _refusals(steps, exc) if at == index)


def _by_field(refusals: Iterable[tuple[str, str]]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, said in refusals:
        errors.setdefault(name, said)
    return errors


def _refusals(steps: tuple[Step, ...], exc: ValidationError) -> list[tuple[int, str, str]]:
    """Each refusal as (the step that asks for it, its field, the words the form gives it)."""
    refusals = []
    for error in exc.errors():
        for path in _paths(error):
            index, name = _owner(steps, path)
            asked = next((f for f in steps[index].fields if f.name == name), None)
            said = _in_form_words(error) or error["msg"].removeprefix("Value error, ")  # pydantic's prefix
            refusals.append((index, name, f"{asked.title}: {said}." if asked else said))
    return refusals


def _paths(error: ErrorDetails) -> list[list[str]]:
    """Where a refusal falls: its path, or each field a stage needs that was left blank, at its own question."""
    path = [str(part) for part in location(error)]
    missing = (error.get("ctx") or {}).get("missing", []) if error["type"] == "stage_field_missing" else []
    return [[*path[:-1], str(name)] for name in missing] or [path]


def _in_form_words(error: ErrorDetails) -> str | None:
    """A refusal the schema words for agency systems, by its paths and codes, in the form's words."""
    ctx = error.get("ctx") or {}
    if error["type"] == "stage_field_missing":
        return f"needed for “{say.option(str(ctx['stage']), say.PAYLOAD_CHOICES)}”"
    if error["type"] == "death_type_age":
        # The category the person chose against the age they gave, or the date of birth.
        fits = say.option(str(ctx["fits"]), say.PAYLOAD_CHOICES)
        return f"it does not fit a child {ctx['aged']} at death: choose “{fits}”"
    return None


def _owner(steps: tuple[Step, ...], loc: list[str]) -> tuple[int, str]:
    for index, item in enumerate(steps):
        name = item.field_for(loc)
        if name is not None:
            return index, name
    return 0, ".".join(loc[1:]) or "form"
