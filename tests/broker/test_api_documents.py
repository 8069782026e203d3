"""The published API documents: current, self-consistent, and every example valid against its schema.

`docs/openapi.json` and `docs/asyncapi.json` are generated (`python -m broker.api.responses`,
`python -m schemas.asyncapi`); a route or model change without regenerating them fails here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from broker.api import responses
from broker.app import create_app
from schemas import api_examples, asyncapi
from schemas.notifications import NOTIFICATION_MODELS, parse_notification
from schemas.topics import dead_letter_topic, inbox_topic, receipts_topic

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    document: dict[str, Any] = create_app().openapi()
    return document


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield f"{method.upper()} {path}", operation


def _valid(document: dict[str, Any], schema: dict[str, Any], value: Any) -> list[str]:
    jsonschema_rs = pytest.importorskip("jsonschema_rs")  # with the `attack` extra (schemathesis brings it)
    # The document is the root, so "#/components/..." and "#/paths/..." refs resolve as in the API.
    validator = jsonschema_rs.Draft202012Validator(
        {**schema, "components": document.get("components", {}), "paths": document["paths"]}
    )
    return [str(error) for error in validator.iter_errors(value)]


def test_committed_documents_are_current() -> None:
    assert (DOCS / "openapi.json").read_text("utf-8") == responses.openapi_text(), (
        "run: python -m broker.api.responses > docs/openapi.json"
    )
    assert (DOCS / "asyncapi.json").read_text("utf-8") == asyncapi.text(), (
        "run: python -m schemas.asyncapi > docs/asyncapi.json"
    )


def test_every_api_route_needs_the_bearer_token_and_operations_routes_do_not(openapi: dict[str, Any]) -> None:
    scheme = openapi["components"]["securitySchemes"]["agencyToken"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    for label, operation in _operations(openapi):
        expected: list[dict[str, list[str]]] | None = [{"agencyToken": []}] if " /v1/" in label else None
        assert operation.get("security") == expected, label
        if expected:
            assert {"401", "403"} <= operation["responses"].keys(), label


def test_every_success_has_a_model_and_an_example(openapi: dict[str, Any]) -> None:
    missing = []
    for label, operation in _operations(openapi):
        successes = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
        assert successes, label
        for code, response in successes.items():
            ((_, content),) = response["content"].items()
            assert content["schema"] not in ({}, {"type": "object", "additionalProperties": True}), f"{label} {code}"
            if not content.get("examples"):
                missing.append(f"{label} {code}")
        if "requestBody" in operation and not operation["requestBody"]["content"]["application/json"].get("examples"):
            missing.append(f"{label} request body")
    assert not missing, f"no example (broker.api.responses.ok / request_examples) for: {missing}"


def test_every_example_is_valid_for_its_schema(openapi: dict[str, Any]) -> None:
    for label, operation in _operations(openapi):
        contents = [
            (f"{label} {code}", r["content"]) for code, r in operation["responses"].items() if code.startswith("2")
        ]
        if "requestBody" in operation:
            contents.append((f"{label} request", operation["requestBody"]["content"]))
        for where, content in contents:
            for name, example in (content.get("application/json") or {}).get("examples", {}).items():
                schema = content["application/json"]["schema"]
                assert not _valid(openapi, schema, example["value"]), f"{where} example {name}"
    parse_notification(api_examples.NOTIFICATION)  # and the gateway's own parser takes it


def test_notification_body_is_the_discriminated_union(openapi: dict[str, Any]) -> None:
    body = openapi["paths"]["/v1/notifications"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert body["required"] is True
    assert schema["discriminator"]["propertyName"] == "message_type"
    assert len(schema["oneOf"]) == len(schema["discriminator"]["mapping"]) == len(NOTIFICATION_MODELS)
    assert not _valid(openapi, schema, api_examples.NOTIFICATION)
    wrong = {**api_examples.NOTIFICATION, "message_type": "not_a_type"}
    assert _valid(openapi, schema, wrong), "the union must refuse an unknown message_type"


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("$ref"), str):
            yield value["$ref"]
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


@pytest.mark.parametrize("name", ["openapi", "asyncapi"])
def test_every_ref_resolves(name: str, openapi: dict[str, Any]) -> None:
    document = openapi if name == "openapi" else asyncapi.document()
    refs = set(_refs(document))
    assert refs
    for ref in refs:
        _resolve(document, ref)


def test_asyncapi_addresses_are_the_topic_names() -> None:
    channels = asyncapi.document()["channels"]
    names = {"namespace": "ns-1", "agency": "csc-example-mash"}
    assert channels["inbox"]["address"].format(**names) == inbox_topic("csc-example-mash", namespace="ns-1")
    assert channels["deadLetters"]["address"].format(**names) == dead_letter_topic("csc-example-mash", namespace="ns-1")
    assert channels["receipts"]["address"].format(**names) == receipts_topic(namespace="ns-1")


def test_asyncapi_is_json_and_asyncapi_3() -> None:
    document = json.loads(asyncapi.text())
    assert document["asyncapi"] == "3.0.0"
    for operation in document["operations"].values():
        for message in operation["messages"]:
            assert message["$ref"].startswith(operation["channel"]["$ref"] + "/messages/")
