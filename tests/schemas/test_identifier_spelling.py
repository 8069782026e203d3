"""An identifier an agency sends has one spelling: a UUID in lower case, hyphenated 8-4-4-4-12, and a
count as a JSON integer. pydantic's UUID, strict or not, read `urn:uuid:`, braces, upper case and bare
hex as the same id, so one notification could be named two ways across the log; lax validation read
the string "5" as a tree size of 5. Each is refused naming the field, never quoting what was sent."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.common import UUID_PATTERN
from schemas.notifications import NOTIFICATION_MODELS, notification_json_schema, parse_notification_json
from schemas.witness import CosignatureSubmission
from tests.factories import school_referral

ID = "1cf87618-ea1f-40a5-95b0-1bc03871dab9"
SPELLINGS = {
    "upper case": ID.upper(),
    "mixed case": ID[:9] + ID[9:].upper(),
    "urn": f"urn:uuid:{ID}",
    "braces": f"{{{ID}}}",
    "no dashes": ID.replace("-", ""),
    "padded": f" {ID} ",
}
COSIGNATURE = "\u2014 csc-fenmere-mash " + "A" * 102 + "==\n"


def _refusals(body: dict[str, Any]) -> list[tuple[tuple[Any, ...], str, str]]:
    with pytest.raises(ValidationError) as caught:
        parse_notification_json(json.dumps(body))
    return [(tuple(e["loc"]), e["type"], e["msg"]) for e in caught.value.errors()]


@pytest.mark.parametrize("field", ["notification_id", "in_reply_to"])
@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_a_uuid_in_another_spelling_is_refused_naming_the_field(field: str, spelling: str) -> None:
    body = school_referral()
    body[field] = SPELLINGS[spelling]
    ((loc, kind, message),) = _refusals(body)
    assert (loc, kind) == (("safeguarding_referral", field), "uuid_not_canonical")
    assert message == "must be a UUID in lower case, 8-4-4-4-12 hex digits with hyphens"
    assert SPELLINGS[spelling].strip() not in message


@pytest.mark.parametrize("field", ["notification_id", "in_reply_to"])
def test_the_canonical_spelling_is_read_and_written_as_it_came(field: str) -> None:
    body = school_referral()
    body[field] = ID
    notification = parse_notification_json(json.dumps(body))
    assert getattr(notification, field) == uuid.UUID(ID)
    assert notification.model_dump(mode="json")[field] == ID


def test_a_uuid_that_is_no_string_is_still_refused() -> None:
    body = school_referral()
    body["notification_id"] = 12345
    assert [(loc, kind) for loc, kind, _ in _refusals(body)] == [
        (("safeguarding_referral", "notification_id"), "uuid_type")
    ]


def test_the_published_schemas_give_the_uuid_pattern() -> None:
    union = json.dumps(notification_json_schema())
    assert union.count(json.dumps(UUID_PATTERN)) >= 2 * len(NOTIFICATION_MODELS), "both ids, every model"
    for model in NOTIFICATION_MODELS.values():
        properties = model.model_json_schema()["properties"]
        assert properties["notification_id"]["pattern"] == UUID_PATTERN
        assert properties["in_reply_to"]["anyOf"][0]["pattern"] == UUID_PATTERN


@pytest.mark.parametrize("tree_size", ["5", 5.0, True], ids=["string", "float", "bool"])
def test_a_tree_size_that_is_no_json_integer_is_refused(tree_size: object) -> None:
    # The parsed body, as FastAPI validates it (Python mode, lax by default).
    with pytest.raises(ValidationError) as caught:
        CosignatureSubmission.model_validate({"tree_size": tree_size, "cosignature": COSIGNATURE})
    assert [(e["loc"], e["type"]) for e in caught.value.errors()] == [(("tree_size",), "int_type")]


def test_a_tree_size_that_is_a_json_integer_is_read() -> None:
    assert CosignatureSubmission.model_validate({"tree_size": 5, "cosignature": COSIGNATURE}).tree_size == 5
