"""Payload building blocks: every payload field declares its data class.

A payload field's class is what the policies minimise on (the minimisation matrix of the policy
pack, policies/safeguarding/config/data.json). Classes are declared with
`classed(...)`, which stores the class in the field's JSON Schema (`x-data-class`) so the committed
schema files show reviewers the class of each field. `PayloadModel.__pydantic_init_subclass__`
refuses a payload model with an unclassed field at import time, so no field can slip through
unclassified into a share.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.vocab import DataClass

DATA_CLASS_KEY = "x-data-class"
# A payload field whose closed-enum value the policy may read (e.g. the M17 transfer type).
POLICY_FACT_KEY = "x-policy-fact"

# A valid e-mail address as the WHATWG HTML standard defines it for <input type="email">, which
# is what every browser form an agency's staff type into already accepts.
EMAIL_PATTERN = (
    r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$"
)
# Dates of birth are days in England, where the partnership is: a child born this morning (BST) is
# not born "tomorrow" by the UTC date.
_ENGLAND = ZoneInfo("Europe/London")

# Free text is bounded so one field cannot carry a whole case file.
SHORT_TEXT = 200
LONG_TEXT = 4000


def classed(data_class: DataClass, description: str, *, policy_fact: bool = False, **kwargs: Any) -> Any:
    """A pydantic Field that carries its data class; `description` says what the field holds.

    `policy_fact=True` lets the field's value into the policy input: only for closed enums and
    required flags, whose values say nothing personal, never for free text.
    """
    extra: dict[str, Any] = {DATA_CLASS_KEY: data_class.value}
    if policy_fact:
        extra[POLICY_FACT_KEY] = True
    return Field(description=description, json_schema_extra=extra, **kwargs)


class Part(BaseModel):
    """Base of every nested value object: closed (unknown keys are errors) and immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class PersonName(Part):
    given_name: str = Field(min_length=1, max_length=SHORT_TEXT)
    family_name: str = Field(min_length=1, max_length=SHORT_TEXT)


class PersonIdentity(PersonName):
    """Name, date of birth and gender (R04); correct spellings required.

    Source: CPSCP-Procedures, Threshold policy > Childrens Social Care.
    """

    date_of_birth: date | None = None
    gender: str | None = Field(default=None, max_length=40)

    @field_validator("date_of_birth")
    @classmethod
    def _born(cls, value: date | None) -> date | None:
        # An unborn child's date is the pre-birth notice's expected delivery date, never a birth date.
        if value is not None and value > datetime.now(_ENGLAND).date():
            raise ValueError("is in the future: give the date the person was born")
        return value


class ProfessionalContact(Part):
    """A professional's name and work contact: a professional referral is never anonymous.

    Source: CPSCP-Procedures, Responding to concerns about a child > Consulting parents.
    """

    name: str = Field(min_length=1, max_length=SHORT_TEXT)
    job_title: str = Field(min_length=1, max_length=SHORT_TEXT)
    work_phone: str | None = Field(default=None, max_length=40)
    work_email: str | None = Field(default=None, max_length=SHORT_TEXT, pattern=EMAIL_PATTERN)


class PayloadModel(BaseModel):
    """Base of every notification payload: each top-level field has exactly one data class."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    data_classes: ClassVar[dict[str, DataClass]] = {}
    policy_facts: ClassVar[tuple[str, ...]] = ()
    # The fields each stage needs (a meeting's record, its minutes), by the stage's value: a payload with
    # stages refuses one left blank, and the guided form asks a field a stage alone needs only of a
    # sender who may send that stage.
    stage_fields: ClassVar[Mapping[str, tuple[str, ...]]] = MappingProxyType({})
    # Fields a stage alone carries but does not need (a provisional report's pending investigations):
    # the form asks them, as it does `stage_fields`, only of a sender who may send the stage.
    stage_extras: ClassVar[Mapping[str, tuple[str, ...]]] = MappingProxyType({})

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        classes: dict[str, DataClass] = {}
        facts: list[str] = []
        for name, info in cls.model_fields.items():
            extra = info.json_schema_extra
            value = extra.get(DATA_CLASS_KEY) if isinstance(extra, dict) else None
            if not isinstance(value, str):
                raise TypeError(f"{cls.__name__}.{name} has no data class: declare it with classed()")
            classes[name] = DataClass(value)
            if isinstance(extra, dict) and extra.get(POLICY_FACT_KEY) is True:
                closed = info.annotation is bool or (
                    isinstance(info.annotation, type) and issubclass(info.annotation, StrEnum)
                )
                if not closed:
                    raise TypeError(f"{cls.__name__}.{name}: only a required closed enum or flag can be a policy fact")
                facts.append(name)
        cls.data_classes = classes
        cls.policy_facts = tuple(facts)

    def present_field_classes(self) -> dict[str, DataClass]:
        """Field name -> data class for the fields that carry a value (None and [] carry nothing)."""
        return {
            name: data_class
            for name, data_class in self.data_classes.items()
            if getattr(self, name) not in (None, [], "")
        }

    def policy_fact_values(self) -> dict[str, str]:
        """Closed-enum facts the rules branch on (values are vocabulary, never personal data)."""
        # A flag reads "true"/"false", as JSON writes it, in the policy's string-valued facts.
        return {name: _fact(getattr(self, name)) for name in self.policy_facts}


def _fact(value: object) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
