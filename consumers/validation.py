"""Checking an opened payload against its message type before it reaches the agency's system.

The payload is a projection: only the fields this agency may see, so it is a subset of the
message type's fields. The full check belongs to `schemas/` (`validate_projection`); until that
exists the consumer checks the shape only: a JSON object whose keys look like field names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, cast

import schemas

Validator = Callable[[str, str, Mapping[str, Any]], None]
"""`validate(message_type, schema_version, payload)`: returns None, raises if invalid."""

_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_MESSAGE_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_SCHEMA_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
MAX_DEPTH = 8


class ProjectionInvalid(ValueError):
    """The payload does not fit its message type; the message never names a payload value."""


def check_shape(message_type: str, schema_version: str, payload: Mapping[str, Any]) -> None:
    """Default hook: a known-looking type and version, and a non-empty object of field names."""
    if not _MESSAGE_TYPE.fullmatch(message_type):
        raise ProjectionInvalid("message_type is not a message type name")
    if not _SCHEMA_VERSION.fullmatch(schema_version):
        raise ProjectionInvalid("schema_version is not a version label")
    if not isinstance(payload, Mapping) or not payload:
        raise ProjectionInvalid("payload must be a non-empty object")
    _check_keys(payload, "payload", 0)


def _check_keys(value: object, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ProjectionInvalid(f"{path} is nested too deeply")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str) or not _FIELD_NAME.fullmatch(key):
                # The key itself could be data, so only its position is reported.
                raise ProjectionInvalid(f"{path} has a key that is not a field name")
            _check_keys(item, f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_keys(item, f"{path}[{index}]", depth + 1)


def default_validator() -> Validator:
    """Return `schemas.validate_projection` once the schemas package has it, else `check_shape`."""
    full_check = getattr(schemas, "validate_projection", None)
    if callable(full_check):
        return cast(Validator, full_check)
    return check_shape
