"""Parse: the request body as one of the versioned notification models, or a 422 naming each bad field."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from broker.errors import InvalidNotification
from broker.sharing import strict_json
from schemas.locations import location
from schemas.notifications import NOTIFICATION_MODELS, Notification, parse_notification_json, union_tag

REPEATED_KEY = "a key is given twice in one object: give each key once"


def parse(body: bytes) -> Notification:
    try:
        data = strict_json.loads(body)
    except strict_json.DuplicateKey as exc:
        raise InvalidNotification([{"loc": exc.loc, "msg": REPEATED_KEY, "type": "duplicate_key"}]) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidNotification([{"loc": [], "msg": "the body is not valid JSON", "type": "json"}]) from exc
    except RecursionError as exc:  # a small body can still nest thousands of levels deep
        raise InvalidNotification([{"loc": [], "msg": "the body is nested too deeply", "type": "json"}]) from exc
    except ValueError as exc:  # Python refuses integers of over 4,300 digits with a plain ValueError
        raise InvalidNotification([{"loc": [], "msg": "a number in the body is too long", "type": "json"}]) from exc
    _check_type_and_version(data)
    try:
        # The bytes, not `data`: strict JSON mode refuses a wrong JSON type yet reads ISO strings.
        return parse_notification_json(body)
    except ValidationError as exc:
        tag = union_tag(data["message_type"], data["schema_version"])
        raise InvalidNotification([safe_error(e, tag=tag) for e in exc.errors()]) from exc


# Each message type's schema versions, as the union's models declare them.
_VERSIONS: dict[str, list[str]] = {
    kind.value: [v for k, v in NOTIFICATION_MODELS if k == kind] for kind, _ in NOTIFICATION_MODELS
}


def _check_type_and_version(data: Any) -> None:
    """Name the field that chooses the model: pydantic's own answer has no path and names a function."""
    if not isinstance(data, dict):
        raise InvalidNotification(
            [{"loc": [], "msg": "the body must be one notification, a JSON object", "type": "model_type"}]
        )
    kind, version = data.get("message_type"), data.get("schema_version")
    if not isinstance(kind, str) or kind not in _VERSIONS:
        said = f"message_type is required, one of: {', '.join(_VERSIONS)}"
        if kind is not None:
            said = f"message_type must be one of: {', '.join(_VERSIONS)}"  # never what was sent
        raise InvalidNotification([{"loc": ["message_type"], "msg": said, "type": "message_type"}])
    if not isinstance(version, str) or version not in _VERSIONS[kind]:
        supported = ", ".join(_VERSIONS[kind])
        said = (
            f"schema_version is required (a string): {supported}"
            if version is None or not isinstance(version, str)
            else f"schema_version must be one of {supported} for {kind}"
        )
        raise InvalidNotification([{"loc": ["schema_version"], "msg": said, "type": "schema_version"}])


def safe_error(error: ErrorDetails, *, tag: str) -> dict[str, Any]:
    """The error's path in the body, message and type, with any submitted value cut out of the message.

    pydantic starts each path with the union's `tag` (the model chosen), which is no field of the
    body: it goes, so a field has one path whichever check refused it (the sender and authorisation
    checks name the body's own). pydantic quotes some inputs in its messages (an unknown
    `message_type` tag, for one); a refusal never repeats what was sent.
    """
    msg = error["msg"]
    ctx = error.get("ctx") or {}
    for value in (error.get("input"), ctx.get("tag")):
        if isinstance(value, str) and value:
            msg = msg.replace(f"'{value}'", "'<submitted value>'")
    path = list(location(error))
    return {"loc": path[1:] if path[:1] == [tag] else path, "msg": msg, "type": error["type"]}
