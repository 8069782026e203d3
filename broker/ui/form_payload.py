"""A message type's payload as form inputs, read from its schema model; and the payload they build.

Every top-level payload field becomes one input, or a group of inputs for a value object (a person,
a professional contact) or a list of them. The schema says which fields are required and what each
may hold; the policy pack adds the fields its adequacy check (GR6) requires, so a payload this form
accepts is never held for a missing field. A field of a shape the form cannot ask for makes the
whole type unavailable by hand (`supported`), rather than sending something incomplete.
"""

from __future__ import annotations

import re
import types
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Union, get_args, get_origin

from annotated_types import MaxLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from broker.ui.form_fields import PAYLOAD, YES_NO, Field, choices, unanswered
from broker.ui.words import DATA_CLASSES, LOCAL_ZONE, PAYLOAD_CHOICES, option, sentence

# Free text longer than this is a paragraph (schemas.fields.SHORT_TEXT is 200).
_LINE = 200
# Entries offered for a list of people; more travel in the agency's own system or a follow-up.
LIST_ENTRIES = 2
_SCALARS = (str, bool, int, date, datetime)


def _unwrap(annotation: Any) -> Any:
    """`X | None` -> X; anything else unchanged."""
    if get_origin(annotation) in (Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        return inner[0] if len(inner) == 1 else annotation
    return annotation


def _is_enum(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, StrEnum)


def enum_values(payload: type[BaseModel], name: str) -> tuple[str, ...]:
    """The values a closed-enum payload field may take; () where the payload has no such field."""
    info = payload.model_fields.get(name)
    if info is None:
        return ()
    kind = _unwrap(info.annotation)
    return tuple(v.value for v in kind) if _is_enum(kind) else ()


def _is_model(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, BaseModel)


def _scalar_ok(kind: Any) -> bool:
    return _is_enum(kind) or kind in _SCALARS


def _shape(annotation: Any) -> str | None:
    """scalar, object, list_text, list_enum, list_object, or None for a shape the form cannot ask."""
    kind = _unwrap(annotation)
    if _scalar_ok(kind):
        return "scalar"
    if _is_model(kind) and all(_scalar_ok(_unwrap(f.annotation)) for f in kind.model_fields.values()):
        return "object"
    if get_origin(kind) is list:
        (item,) = get_args(kind) or (None,)
        if item is str:
            return "list_text"
        if _is_enum(item):
            return "list_enum"
        if _shape(item) == "object":
            return "list_object"
    return None


def supported(payload: type[BaseModel]) -> bool:
    return all(_shape(f.annotation) is not None for f in payload.model_fields.values())


def _words(name: str) -> str:
    return name.replace("_", " ").capitalize()


# The catalogue's requirement ids that open many descriptions ("R04 child's names"): for reviewers, not forms.
_REQUIREMENT_IDS = re.compile(r"^(R\d+/?)+\s+")


# A stage or other code a description names ("(amm_invitation, amm_record)") reads as the form offers
# it, quoted, since a practitioner chooses the words, never the code.
_CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


# A payload field may offer data classes (an advice request's kinds of information): in the words the
# decision pages give them ("special category (health)", not "Sc health").
_OFFERED = {**DATA_CLASSES, **PAYLOAD_CHOICES}


# "(stage outcome)", "(at stage outcome)": a one-word stage, which `_CODE` leaves as a word.
_STAGE_NAMED = re.compile(r"\((?:at )?stage ([a-z][a-z0-9_]*)\)")


def _label(name: str, info: FieldInfo) -> str:
    text = _REQUIREMENT_IDS.sub("", info.description or "") or _words(name)
    text = _STAGE_NAMED.sub(lambda m: f"(stage “{option(m[1], PAYLOAD_CHOICES)}”)", text)
    return sentence(_CODE.sub(lambda m: f"“{option(m[0], PAYLOAD_CHOICES)}”", text))


def field_label(payload: type[BaseModel] | None, name: str) -> str:
    """A payload field as the form asks for it, for a page that names the fields released: the reader
    meets the words the sender answered, not the schema's name ("dsm record signed")."""
    info = payload.model_fields.get(name) if payload is not None else None
    if info is None:
        return name.replace("_", " ")
    # A list names the field, not its source (the bracket) nor its letter in the source's list ("(b) ").
    return sentence(_STAGES_NOTE.sub("", _LIST_LETTER.sub("", _question(_label(name, info))[0])))


_LIST_LETTER = re.compile(r"^\([a-z]\)\s+")
# The stages a field is needed at, which end its question ("… (“Referral”, “Referral to the DBS”)"): the
# form asks them there; a page naming a field released names the field alone.
_STAGES_NOTE = re.compile(r"\s*\((?:[^()]|\([^()]*\))*“(?:[^()]|\([^()]*\))*\)$")


def _input(name: str, label: str, info: FieldInfo, *, required: bool, group: str = "") -> Field:
    """One input for a scalar field, its kind from the field's type."""
    kind = _unwrap(info.annotation)
    if kind is bool:
        return Field(name, label, "radio", YES_NO, required=required, group=group)
    if _is_enum(kind):
        return Field(name, label, "select", choices(kind, _OFFERED), required=required, group=group)
    if kind is date:
        return Field(name, label, "date", required=required, group=group)
    if kind is datetime:
        return Field(name, label, "datetime-local", required=required, hint="UK time", group=group)
    if kind is int:
        return Field(name, label, "number", required=required, group=group)
    longest = next((m.max_length for m in info.metadata if isinstance(m, MaxLen)), None)
    text = "textarea" if longest is None or longest > _LINE else "text"
    return Field(name, label, text, required=required, group=group)


def _object_inputs(prefix: str, model: type[BaseModel], *, required: bool, group: str) -> list[Field]:
    # A sub-field is required when its object is: an optional person may be left out whole, but
    # once any of it is given, what the object itself requires is needed too.
    return [
        replace(
            _input(f"{prefix}.{sub}", _words(sub), info, required=required and info.is_required(), group=group),
            within=prefix,
            sub_required=info.is_required(),
        )
        for sub, info in model.model_fields.items()
    ]


def inputs(payload: type[BaseModel], required: set[str]) -> tuple[Field, ...]:
    """The form inputs for `payload`; `required`: fields the schema or the policy requires."""
    fields: list[Field] = []
    for name, info in payload.model_fields.items():
        label, source = _question(_label(name, info))
        must = name in required
        shape, kind, key = _shape(info.annotation), _unwrap(info.annotation), PAYLOAD + name
        if shape == "scalar":
            fields.append(_sourced(_input(key, label, info, required=must), source))
        elif shape == "object":
            fields += _object_inputs(key, kind, required=must, group=label)
        elif shape == "list_text":
            fields.append(_sourced(Field(key, label, "lines", required=must, hint="One per line."), source))
        elif shape == "list_enum":
            asked = Field(key, label, "checkboxes", choices(get_args(kind)[0], _OFFERED), required=must)
            fields.append(_sourced(asked, source))
        elif shape == "list_object":
            for i in range(LIST_ENTRIES):
                legend = f"{label} ({i + 1} of up to {LIST_ENTRIES})"
                fields += _object_inputs(f"{key}.{i}", get_args(kind)[0], required=must and i == 0, group=legend)
    return tuple(fields)


def _question(label: str) -> tuple[str, str]:
    """A field's words as a question, apart from the source document the schema cites for it ("When
    emergency powers were used [CPSCPB-CSA-Strategy, …]"): a question reads as one, its source beneath."""
    asked, _, source = label.partition(" [")
    return asked, source.removesuffix("]") if source.endswith("]") else ""


def _sourced(field: Field, source: str) -> Field:
    if not source:
        return field
    said = f"Asked for by {source}."
    return replace(field, hint=f"{field.hint.rstrip('.')}. {said}" if field.hint else said)


def schema_required(payload: type[BaseModel]) -> set[str]:
    return {name for name, info in payload.model_fields.items() if info.is_required()}


def facts(payload: type[BaseModel], answers: dict[str, str]) -> dict[str, str]:
    """The closed-enum answers the policy branches on (its `mandatory_when` facts)."""
    enums = [n for n, info in payload.model_fields.items() if _is_enum(_unwrap(info.annotation))]
    return {n: answers[PAYLOAD + n] for n in enums if answers.get(PAYLOAD + n)}


@dataclass(frozen=True)
class Built:
    payload: dict[str, Any]
    errors: dict[str, str]


def _value(field: Field, raw: str) -> tuple[Any, str | None]:
    """The JSON value of one answered input, or why it cannot be one."""
    if field.kind == "radio":
        return raw == "yes", None if raw in ("yes", "no") else "choose yes or no"
    if field.kind == "select":
        return raw, None if raw in {c for c, _ in field.choices} else "choose one of the options"
    if field.kind == "number":
        return (int(raw), None) if raw.isdigit() else (None, "give a whole number")
    try:
        if field.kind == "date":
            return date.fromisoformat(raw).isoformat(), None
        if field.kind == "datetime-local":
            moment = datetime.fromisoformat(raw)
            return (moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_ZONE)).isoformat(), None
    except ValueError:
        return None, "use a date like 2026-01-31" + (" 14:30" if field.kind == "datetime-local" else "")
    return raw, None


def _checked(field: Field, answers: dict[str, str]) -> list[str]:
    return [code for code, _ in field.choices if answers.get(f"{field.name}:{code}")]


def _values(fields: tuple[Field, ...], answers: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Each answered input's value by input name, and the inputs whose answer cannot be read."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        raw = answers.get(f.name, "").strip()
        if f.kind == "checkboxes":
            raw_list = _checked(f, answers)
            if raw_list:
                values[f.name] = raw_list
        elif f.kind == "lines":
            lines = [line.strip() for line in raw.splitlines() if line.strip()]
            if lines:
                values[f.name] = lines
        elif raw:
            value, problem = _value(f, raw)
            if problem is None:
                values[f.name] = value
            else:
                errors[f.name] = f"{f.title}: {problem}."
    return values, errors


def _missing(fields: tuple[Field, ...], values: dict[str, Any], errors: dict[str, str]) -> dict[str, str]:
    """Required inputs left blank: top-level ones, and those an object needs once any of it is given."""
    given = {f.within for f in fields if f.within and f.name in values}
    needed = {f.within for f in fields if f.within and f.required}
    missing = {}
    for f in fields:
        if f.name in values or f.name in errors:
            continue
        if f.required or (f.sub_required and f.within in given | needed):
            missing[f.name] = unanswered(f.title)
    return missing


def build(fields: tuple[Field, ...], answers: dict[str, str]) -> Built:
    """The payload these answers make, and every input that needs another look."""
    values, errors = _values(fields, answers)
    errors.update(_missing(fields, values, errors))
    payload: dict[str, Any] = {}
    for f in fields:
        if f.name not in values:
            continue
        path = f.name.removeprefix(PAYLOAD).split(".")
        if len(path) == 1:
            payload[path[0]] = values[f.name]
        elif len(path) == 2:
            payload.setdefault(path[0], {})[path[1]] = values[f.name]
        else:  # a list of objects: field.index.sub
            entries = payload.setdefault(path[0], {})
            entries.setdefault(int(path[1]), {})[path[2]] = values[f.name]
    for name, value in payload.items():
        if isinstance(value, dict) and all(isinstance(k, int) for k in value):
            payload[name] = [value[i] for i in sorted(value)]
    return Built(payload, errors)
