"""A projection checked against its message type: what an agency's consumer asks of every delivery.

A projection is what the gateway seals for one recipient (`schemas.policy_input.project`): the
payload's top-level fields the policy allowed, each whole as the payload model writes it to JSON,
the empty ones (None, [], "") left out. Only top-level fields are ever dropped, so a projection's
model is its payload model with every top-level field optional and nothing else changed: a nested
object (a child's identity, a referrer's contact) arrives whole and is checked whole, by its own
model and validators.

Checked: the message type is registered and has the schema version; every field, at every depth,
is one the type defines; every value present has its declared type and constraints, read as
strictly as the gateway reads a request body (`true` is not an age, `"no"` not a flag); a field's
own validators go with it; and the projection has a field (the policy shares nothing it cannot
send, so the broker never seals an empty one).

Not checked, deliberately: the payload model's model validators. They relate fields to each other
(a stage and the field it requires); the policy may allow one and withhold the other, so that check
is the sender's, made once by the gateway on the whole notification. Nor which fields this
recipient may see: the broker decided that, and signed the envelope.

A refusal names the field's path and what is wrong with it, never a value, nor the name of a field
the type does not define: a key nobody defined could itself be data.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ValidationError, ValidationInfo, create_model, field_validator
from pydantic_core import ErrorDetails

from schemas.fields import PayloadModel
from schemas.notifications import NOTIFICATION_MODELS

# Enough places to mend a payload by; the rest are counted, so a flood of errors stays one line.
MAX_REPORTED = 10


class ProjectionInvalid(ValueError):
    """The payload does not fit its message type; the message says where, never what it holds."""


def _payload_models() -> dict[str, dict[str, type[PayloadModel]]]:
    """Message type -> schema version -> payload model, from the notification models' registry."""
    models: dict[str, dict[str, type[PayloadModel]]] = {}
    for (kind, version), notification in NOTIFICATION_MODELS.items():
        payload = notification.model_fields["payload"].annotation
        if not (isinstance(payload, type) and issubclass(payload, PayloadModel)):
            raise TypeError(f"{notification.__name__}.payload is not a PayloadModel")
        models.setdefault(kind.value, {})[version] = payload
    return models


_PAYLOAD_MODELS = _payload_models()


def validate_projection(message_type: str, schema_version: str, payload: Mapping[str, Any]) -> None:
    """Return if `payload` is a projection the broker could seal for this type and version; else
    raise `ProjectionInvalid` naming the fields that do not fit."""
    model = _projection_model(_payload_model(message_type, schema_version))
    if not isinstance(payload, Mapping) or not payload:
        raise ProjectionInvalid("payload must be an object with at least one field")
    try:
        # Validated from JSON, as the gateway validates a body: strict, yet dates and enums are read
        # from their JSON strings. (Strict Python validation would refuse every date.)
        text = json.dumps(dict(payload), allow_nan=False)
    except (TypeError, ValueError):
        raise ProjectionInvalid("payload is not JSON data") from None
    try:
        model.model_validate_json(text, strict=True)
    except ValidationError as exc:
        # `from None`: pydantic's error embeds the values, and a logged traceback would show it.
        raise ProjectionInvalid(_refusal(exc, f"{message_type} {schema_version}")) from None


def _payload_model(message_type: str, schema_version: str) -> type[PayloadModel]:
    versions = _PAYLOAD_MODELS.get(message_type)
    if versions is None:
        # Not repeated: an unregistered name is no vocabulary of ours.
        raise ProjectionInvalid("message_type is not a registered message type")
    model = versions.get(schema_version)
    if model is None:
        known = ", ".join(sorted(versions))
        raise ProjectionInvalid(f"schema_version is not a version of {message_type} (it has {known})")
    return model


@functools.cache
def _projection_model(payload: type[PayloadModel]) -> type[BaseModel]:
    """`payload` with every top-level field optional, its field validators, and no model validators.

    Built once per payload model: the consumer checks every delivery against it.
    """
    fields: dict[str, Any] = {
        # Optional, not nullable: the default None is never validated, and a null the field's type
        # does not allow is refused as it would be in the whole payload.
        name: (Annotated[info.annotation, info], None)
        for name, info in payload.model_fields.items()
    }
    validators: dict[str, Callable[..., Any]] = {}
    for name, decorator in payload.__pydantic_decorators__.field_validators.items():
        if decorator.info.mode not in ("before", "after", "plain"):
            raise TypeError(f"{payload.__name__}.{name}: a {decorator.info.mode} validator is not carried over")
        validators[name] = field_validator(*decorator.info.fields, mode=decorator.info.mode)(_forward(decorator.func))
    return create_model(
        f"{payload.__name__}Projection", __config__=payload.model_config, __validators__=validators, **fields
    )


def _forward(check: Callable[..., Any]) -> Callable[..., Any]:
    """A field validator of the payload model, still bound to it (its `cls` stays the payload's).

    One that reads `info.data` sees the fields present and valid before it, as it would in a whole
    payload with one of them invalid.
    """
    if len(inspect.signature(check).parameters) > 1:

        def forwarded_with_info(value: Any, info: ValidationInfo) -> Any:
            return check(value, info)

        return forwarded_with_info

    def forwarded(value: Any) -> Any:
        return check(value)

    return forwarded


def _refusal(exc: ValidationError, label: str) -> str:
    places: list[str] = []
    for error in exc.errors(include_url=False, include_context=False, include_input=False):
        place = _place(error)
        if place not in places:
            places.append(place)
    more = f"; {len(places) - MAX_REPORTED} more" if len(places) > MAX_REPORTED else ""
    return f"payload does not fit {label}: {'; '.join(places[:MAX_REPORTED])}{more}"


def _place(error: ErrorDetails) -> str:
    loc = error["loc"]
    if error["type"] == "extra_forbidden":
        # The key itself is left out (see the module's docstring); its object is named.
        return f"{_path(loc[:-1])} has a field its type does not define"
    if error["type"] == "missing":
        return f"{_path(loc)} is required"
    return f"{_path(loc)} does not fit its declared type ({error['type']})"


def _path(loc: tuple[int | str, ...]) -> str:
    """`payload.child.given_name`, `payload.children.0`: every part a field name or a list index,
    as no payload model has a mapping of free keys or a union needing a tag."""
    return ".".join(["payload", *(str(part) for part in loc)])
