"""Canonical encoding: the exact bytes that the log hashes.

Rules (version 1, pinned by the ``canonical`` case of ``tests/audit/golden/entries.json``):

* JSON with object keys sorted by code point and no insignificant whitespace (``","`` and ``":"``);
* UTF-8, non-ASCII characters written as themselves (not ``\\u`` escapes);
* values are objects with string keys, arrays, strings, integers, booleans and null only:
  floats (and NaN/Infinity) are refused so that no number has two spellings;
* datetimes must be timezone-aware and are written as RFC 3339 UTC text with exactly six
  fractional digits and a ``Z`` suffix, e.g. ``2025-01-02T03:04:05.000000Z``.

Our keys are ASCII, so code-point order equals RFC 8785's UTF-16 order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from audit.errors import CanonicalError

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_time(value: datetime) -> str:
    """Return ``value`` as canonical RFC 3339 UTC text (microseconds, ``Z``)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise CanonicalError("naive datetime: the log only records timezone-aware times")
    return value.astimezone(UTC).strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    """Parse canonical time text back to an aware UTC datetime, refusing any other spelling."""
    try:
        value = datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError as exc:
        raise CanonicalError(f"not a canonical time: {text!r}") from exc
    if format_time(value) != text:
        raise CanonicalError(f"not a canonical time: {text!r}")
    return value


def _plain(value: Any) -> Any:
    """Convert ``value`` to JSON-ready data, refusing anything without one spelling."""
    # Exact built-in types first, without the abstract-class checks below: every entry and JSON
    # column walks its whole document here, so this was most of the group commit's CPU. Anything
    # else (subclasses, other mappings and sequences, datetimes, refusals) takes the general path.
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        for key in value:
            if not isinstance(key, str):
                raise CanonicalError("object keys must be strings")
        return {key: _plain(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [_plain(item) for item in value]
    return _general(value)


def _general(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        raise CanonicalError("floats are not allowed in canonical data")
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise CanonicalError("object keys must be strings")
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return [_plain(item) for item in value]
    raise CanonicalError(f"type {type(value).__name__} cannot be canonically encoded")


# What `json.dumps` with these arguments builds on every call; one instance gives the same text
# without constructing an encoder per entry and per JSON column.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_text(value: Any) -> str:
    """Return the canonical JSON text of ``value``."""
    return _ENCODER.encode(_plain(value))


def canonical_bytes(value: Any) -> bytes:
    """Return the canonical UTF-8 bytes of ``value``."""
    return canonical_text(value).encode("utf-8")


@dataclass(frozen=True, slots=True)
class Encoded:
    """A value's canonical text, made once: stored as it is (`audit.models.CanonicalJSON`) and joined
    as it is into the document that is hashed (`canonical_object`), rather than encoded for each."""

    text: str


def encoded(value: Any) -> Encoded:
    """Return ``value`` encoded once, with every check `canonical_text` makes."""
    return Encoded(canonical_text(value))


def canonical_object(members: Mapping[str, Any]) -> str:
    """The canonical text of an object whose member values may already be `Encoded`.

    The same text as `canonical_text` of the decoded object: members sorted by key, each written
    ``"key":value`` without whitespace (the issue #17 profile: an entry's JSON columns were walked
    and encoded once for its hash and again to store them).
    """
    if not all(isinstance(key, str) for key in members):  # before sorting: mixed keys do not sort
        raise CanonicalError("object keys must be strings")
    parts = []
    for key in sorted(members):
        value = members[key]
        if isinstance(value, Encoded):
            text = value.text
        else:
            scalar = _scalar_text(value)
            text = canonical_text(value) if scalar is None else scalar
        parts.append(_encode_string(key) + ":" + text)
    return "{" + ",".join(parts) + "}"


# The encoder's own string function (`ensure_ascii=False`): what `_ENCODER.encode` returns for a str.
_encode_string: Callable[[str], str] = json.encoder.encode_basestring


def _scalar_text(value: Any) -> str | None:
    """A plain scalar's text, as `canonical_text` writes it, without a walk and an encoder pass each
    (most of an entry's twenty members are scalars); None for anything else."""
    kind = type(value)
    if kind is str:
        return _encode_string(value)
    if kind is int:
        return int.__repr__(value)
    if kind is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    return None
