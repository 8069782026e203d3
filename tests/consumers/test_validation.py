"""The default validation hook checks shape only, and never echoes payload content."""

from __future__ import annotations

from typing import Any

import pytest

from consumers.validation import ProjectionInvalid, check_shape, default_validator


def test_accepts_a_projection_of_field_names() -> None:
    check_shape("safeguarding_referral", "1", {"concern_summary": "x", "child": {"given_name": "Alpha"}})


@pytest.mark.parametrize(
    ("message_type", "version", "payload"),
    [
        ("safeguarding_referral", "1", {}),
        ("safeguarding_referral", "1", {"Secret Name Alpha": "x"}),
        ("safeguarding_referral", "1", {"child": [{"Nested Bad": 1}]}),
        ("no spaces allowed", "1", {"concern_summary": "x"}),
        ("safeguarding_referral", "", {"concern_summary": "x"}),
    ],
    ids=["empty", "bad-key", "nested-bad-key", "bad-type", "no-version"],
)
def test_rejects_bad_shapes_without_naming_values(message_type: str, version: str, payload: Any) -> None:
    with pytest.raises(ProjectionInvalid) as caught:
        check_shape(message_type, version, payload)
    assert "Alpha" not in str(caught.value) and "Nested Bad" not in str(caught.value)


def test_rejects_deep_nesting() -> None:
    deep: dict[str, Any] = {"leaf": 1}
    for _ in range(12):
        deep = {"level": deep}
    with pytest.raises(ProjectionInvalid, match="deeply"):
        check_shape("safeguarding_referral", "1", deep)


def test_default_validator_is_callable() -> None:
    assert callable(default_validator())
