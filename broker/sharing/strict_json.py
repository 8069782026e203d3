"""Strict JSON: a body whose objects repeat a key is refused, not read as its last copy.

RFC 8259 §4 leaves a repeated name to the parser (Python's and pydantic's keep the last, others the
first); I-JSON (RFC 7493 §2.3) forbids it. A body two parsers read differently could be decided on
one reading and delivered, logged or audited on another, so the gateway takes neither.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from schemas.notifications import notification_json_schema


class DuplicateKey(ValueError):
    """An object of the body gives the same key twice; `loc` is its path, as far as it can be named."""

    def __init__(self, loc: list[str | int]) -> None:
        super().__init__("a key appears twice in one JSON object")
        self.loc = loc


class _Repeated(Exception):
    pass


class _Doubled(dict[str, Any]):
    """An object that repeated `key` (built only on the slow path, to find where)."""

    key: str = ""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _Repeated
    return found


def _marked(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) == len(pairs):
        return found
    doubled = _Doubled(found)
    seen: set[str] = set()
    doubled.key = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
    return doubled


def loads(body: bytes | str) -> Any:
    """`json.loads`, refusing a repeated key with `DuplicateKey` (its other errors as `json.loads`'s)."""
    try:
        return json.loads(body, object_pairs_hook=_unique)
    except _Repeated:
        # The rare path pays for the path: parse again, marking each object that repeats a key.
        raise DuplicateKey(_path_to_doubled(json.loads(body, object_pairs_hook=_marked))) from None


def _path_to_doubled(value: Any) -> list[str | int]:
    names = field_names()
    # Each node with its path and whether that path is whole: a key that is not a field of ours (a
    # free-text map, a typo, a name) is not repeated back, and the path stops at the field before it.
    stack: list[tuple[Any, list[str | int], bool]] = [(value, [], True)]
    while stack:
        node, path, whole = stack.pop()
        if isinstance(node, _Doubled):
            return [*path, node.key] if whole and node.key in names else path
        if isinstance(node, dict):
            for key, child in node.items():
                named = whole and key in names
                stack.append((child, [*path, key] if named else path, named))
        elif isinstance(node, list):
            stack.extend((child, [*path, i] if whole else path, whole) for i, child in enumerate(node))
    return []  # pragma: no cover - a repeat was seen, so a marked object exists


@functools.cache
def field_names() -> frozenset[str]:
    """Every property name in the notifications' JSON Schema (the only keys a refusal may quote)."""
    names: set[str] = set()
    stack: list[Any] = [notification_json_schema()]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            properties = node.get("properties")
            if isinstance(properties, dict):
                names.update(properties)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return frozenset(names)
