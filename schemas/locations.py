"""Where a cross-field error is: the field a refusal names, not the model that checked it.

pydantic reports a model validator's error at the model itself (the body, for a notification) and a
field validator's at its field, however deep the fault lies. Such a check raises `misplaced`, which
carries the rest of the path; `location` puts the two together, so a sender is told
`recipients.1.role`, not the notification.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from pydantic_core import ErrorDetails, PydanticCustomError

Path = tuple[str | int, ...]


def misplaced(kind: str, message: str, at: Path, **context: Any) -> PydanticCustomError:
    """An error of `kind` at `at` below where pydantic will report it; `message` may use `context`."""
    return PydanticCustomError(kind, message, {**context, "at": at})


def location(error: ErrorDetails) -> Path:
    """The error's full path: pydantic's `loc` and, for a `misplaced` error, the rest below it."""
    at = (error.get("ctx") or {}).get("at", ())
    return (*error["loc"], *at)


def stage_fields_missing(stage: StrEnum, missing: Sequence[str]) -> PydanticCustomError:
    """The payload fields a stage needs that were left blank, reported at the first and naming them all
    (`missing` in its context), so a form can mark each at its own question."""
    fields = " and ".join(f"payload.{name}" for name in missing)
    verb = "are" if len(missing) > 1 else "is"
    said = f"{fields} {verb} required at stage '{stage.value}'"
    return misplaced("stage_field_missing", said, (missing[0],), stage=stage.value, missing=list(missing))
