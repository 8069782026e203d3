"""`schemas.validate_projection`: a projection the broker makes passes, for every message type and
every recipient's cut of it; anything else is refused, naming the field's path and never a value.

The projections are made by `schemas.policy_input.project`, the function the gateway's sealing step
calls (broker/sharing/seal.py), from the policy suite's notifications: one per message type
(tests/policy/bases.py) and the scenario table's recipients, whose allowed fields are the real
policy's (tests/policy/test_scenarios.py holds it to them). Plain models: no stack needed.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

import schemas
from schemas.notifications import NOTIFICATION_MODELS, Notification, parse_notification, payload_of
from schemas.policy_input import project
from schemas.projection import ProjectionInvalid, validate_projection
from tests.policy.bases import BASES, CHILD, patched
from tests.policy.scenarios import ALL, SCENARIOS

V1 = "1.0"


def _check(notification: Notification, allowed: list[str]) -> None:
    validate_projection(notification.message_type.value, notification.schema_version, project(notification, allowed))


def _fields(notification: Notification) -> list[str]:
    """The fields the notification gives a value: what the policy can allow (its `payload_fields`)."""
    return sorted(payload_of(notification).present_field_classes())


def test_the_package_exports_the_check() -> None:
    assert schemas.validate_projection is validate_projection
    assert issubclass(schemas.ProjectionInvalid, ValueError)


@pytest.mark.parametrize("base", sorted(BASES))
def test_every_cut_of_every_message_type_passes(base: str) -> None:
    """The whole payload, and each field alone: a field the projection may leave out is never required."""
    notification = parse_notification(BASES[base])
    fields = _fields(notification)
    _check(notification, fields)
    for field in fields:
        _check(notification, [field])


def test_the_bases_are_every_registered_message_type() -> None:
    registered = {(kind.value, version) for kind, version in NOTIFICATION_MODELS}
    assert {(body["message_type"], body["schema_version"]) for body in BASES.values()} == registered


def _scenario_cuts() -> Iterator[tuple[str, Notification, list[str]]]:
    for scenario in SCENARIOS:
        notification = parse_notification(patched(scenario["base"], scenario["patch"]))
        for key, want in scenario["expect"].items():
            if want["withheld"] != ALL:  # a no-share seals nothing
                allowed = sorted(set(_fields(notification)) - set(want["withheld"]))
                yield f"{scenario['id']} {key}", notification, allowed


def test_what_the_policy_allows_each_scenario_recipient_passes() -> None:
    checked = 0
    for label, notification, allowed in _scenario_cuts():
        try:
            _check(notification, allowed)
        except ProjectionInvalid as exc:
            pytest.fail(f"{label}: {exc}")
        checked += 1
    assert checked > 150  # the table's shares and holds, not a handful


def test_a_stage_may_arrive_without_the_field_it_requires() -> None:
    """Deliberately unchecked: the payload's cross-field rules are the gateway's, on the whole notification."""
    outcome = patched("lado", {"payload": {"stage": "outcome", "allegation_outcome": "unsubstantiated"}})
    with pytest.raises(ValidationError):
        parse_notification(patched("lado", {"payload": {"stage": "outcome"}}))
    _check(parse_notification(outcome), ["stage"])


MISSING = {"age_band": "13-15", "missing_since": "2026-03-02T07:00:00Z"}
SECRET = "Alpha Testchild at 12 Imaginary Row"

# (id, message type, version, payload, what the refusal must say). Every value is one no refusal may repeat.
REFUSALS: list[tuple[str, str, str, dict[str, Any], str]] = [
    ("unknown-type", "pupil_gossip_report", V1, {"concern_summary": SECRET}, "message_type is not a registered"),
    (
        "unknown-version",
        "missing_child",
        "9.9",
        MISSING,
        "schema_version is not a version of missing_child (it has 1.0)",
    ),
    ("empty", "missing_child", V1, {}, "payload must be an object with at least one field"),
    ("not-json", "missing_child", V1, {"age_band": {SECRET}}, "payload is not JSON data"),
    ("unknown-field", "missing_child", V1, {**MISSING, SECRET.replace(" ", "_").lower(): 4182}, "payload has a field"),
    (
        "unknown-nested-field",
        "missing_child",
        V1,
        {"child": {**CHILD, "nickname": SECRET}},
        "payload.child has a field",
    ),
    ("object-as-text", "missing_child", V1, {"child": SECRET, "age_band": 7317}, "payload.child does not fit"),
    ("number-as-text", "missing_child", V1, {"child": CHILD, "age_band": 7317}, "payload.age_band does not fit"),
    ("flag-as-number", "missing_child", V1, {"episode_count": True}, "payload.episode_count does not fit"),
    ("number-as-string", "missing_child", V1, {"episode_count": "4182"}, "payload.episode_count does not fit"),
    ("flag-as-word", "missing_child", V1, {"looked_after": "no"}, "payload.looked_after does not fit"),
    ("below-minimum", "missing_child", V1, {"episode_count": -4182}, "(greater_than_equal)"),
    (
        "too-long",
        "missing_child",
        V1,
        {"age_band": SECRET},
        "payload.age_band does not fit its declared type (string_too_long)",
    ),
    ("not-a-time", "missing_child", V1, {"missing_since": SECRET}, "payload.missing_since does not fit"),
    ("null-for-a-required-field", "missing_child", V1, {"missing_since": None}, "payload.missing_since does not fit"),
    (
        "nested-not-a-date",
        "missing_child",
        V1,
        {"child": {**CHILD, "date_of_birth": SECRET}},
        "payload.child.date_of_birth",
    ),
    ("nested-missing", "missing_child", V1, {"child": {"given_name": SECRET}}, "payload.child.family_name is required"),
    ("nested-validator", "missing_child", V1, {"child": {**CHILD, "date_of_birth": "2999-01-01"}}, "(value_error)"),
    (
        "list-element",
        "safeguarding_referral",
        V1,
        {"household_members": [CHILD, SECRET]},
        "payload.household_members.1",
    ),
    ("empty-list", "adult_risk_information", V1, {"children_in_contact": []}, "(too_short)"),
    ("unknown-enum", "advice_request", V1, {"topic": SECRET}, "payload.topic does not fit its declared type (enum)"),
    ("field-validator", "advice_request", V1, {"question": f"May I share {SECRET}?"}, "payload.question does not fit"),
]


@pytest.mark.parametrize(
    ("message_type", "version", "payload", "says"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_refuses_what_no_projection_of_the_type_holds(
    message_type: str, version: str, payload: dict[str, Any], says: str
) -> None:
    with pytest.raises(ProjectionInvalid) as caught:
        validate_projection(message_type, version, payload)
    assert says in str(caught.value)


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _leaves(item)
    elif isinstance(value, list | set):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        yield str(value)


@pytest.mark.parametrize(
    ("message_type", "version", "payload"), [r[1:4] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_no_refusal_repeats_a_value(message_type: str, version: str, payload: dict[str, Any]) -> None:
    """Nor a key the type does not define, nor an unregistered type: the words and the traceback alike."""
    with pytest.raises(ProjectionInvalid) as caught:
        validate_projection(message_type, version, payload)
    # Every message of the exception's chain (a traceback shows an unsuppressed cause), no source lines.
    told = "".join(traceback.format_exception(caught.value, limit=0))
    defined = {"child", "age_band", "missing_since", "episode_count", "looked_after", "household_members"}
    defined |= {"children_in_contact", "topic", "question", "concern_summary"} | set(CHILD)
    for leaf in set(_leaves(payload)) - defined:
        assert not re.search(rf"\b{re.escape(leaf)}\b", told), leaf
    assert "pupil_gossip_report" not in told


def test_each_refusal_names_every_misfit() -> None:
    with pytest.raises(ProjectionInvalid) as caught:
        validate_projection("missing_child", V1, {"child": SECRET, "age_band": 7317, "looked_after": "no"})
    assert str(caught.value) == (
        "payload does not fit missing_child 1.0: payload.child does not fit its declared type (model_type); "
        "payload.age_band does not fit its declared type (string_type); "
        "payload.looked_after does not fit its declared type (bool_type)"
    )


def test_each_types_check_is_built_once() -> None:
    """The consumer checks every delivery: the model of a type is made at its first, not at each."""
    from schemas.projection import _projection_model

    validate_projection("missing_child", V1, MISSING)
    before = _projection_model.cache_info()
    for _ in range(3):
        validate_projection("missing_child", V1, MISSING)
    after = _projection_model.cache_info()
    assert (after.misses, after.hits) == (before.misses, before.hits + 3)
