"""Checking an opened payload against its message type before it reaches the agency's system.

The payload is a projection: only the fields this agency may see, so a subset of its message type's
top-level fields, each whole. The check is the contract's own, `schemas.validate_projection` (what
it checks, and what it leaves to the gateway, is in `schemas.projection`): the broker and every
agency read one definition of each type, so a consumer cannot pass what the gateway would refuse.
A payload that does not fit is dead-lettered as `schema_invalid`, never handed to the sink.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from schemas.projection import ProjectionInvalid, validate_projection

__all__ = ["ProjectionInvalid", "Validator", "default_validator"]

Validator = Callable[[str, str, Mapping[str, Any]], None]
"""`validate(message_type, schema_version, payload)`: returns None, raises if invalid."""


def default_validator() -> Validator:
    """The consumer's check of every delivery: `schemas.validate_projection`."""
    return validate_projection
