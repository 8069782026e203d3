"""Parse: the request body as one of the versioned notification models, or a 422 naming each bad field."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from broker.errors import InvalidNotification
from schemas.notifications import Notification, parse_notification


def parse(body: bytes) -> Notification:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidNotification([{"loc": [], "msg": "the body is not valid JSON", "type": "json"}]) from exc
    except RecursionError as exc:  # a small body can still nest thousands of levels deep
        raise InvalidNotification([{"loc": [], "msg": "the body is nested too deeply", "type": "json"}]) from exc
    except ValueError as exc:  # Python refuses integers of over 4,300 digits with a plain ValueError
        raise InvalidNotification([{"loc": [], "msg": "a number in the body is too long", "type": "json"}]) from exc
    try:
        return parse_notification(data)
    except ValidationError as exc:
        raise InvalidNotification([safe_error(e) for e in exc.errors()]) from exc


def safe_error(error: ErrorDetails) -> dict[str, Any]:
    """The error's path, message and type, with any submitted value cut out of the message.

    pydantic quotes some inputs in its messages (an unknown `message_type` tag, for one); a refusal
    never repeats what was sent.
    """
    msg = error["msg"]
    ctx = error.get("ctx") or {}
    for value in (error.get("input"), ctx.get("tag")):
        if isinstance(value, str) and value:
            msg = msg.replace(f"'{value}'", "'<submitted value>'")
    return {"loc": list(error["loc"]), "msg": msg, "type": error["type"]}
