"""A child's death category agrees with the child's age at death: SUDI is under 12 months, SUDC a year
or more (CPSCP-Procedures, Child death > 1.5 Definitions); the category decides who is told."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.locations import location
from schemas.notifications import parse_notification
from tests.policy.bases import BASES


def _death(death_type: str, born: str, died: str = "2026-03-01T06:00:00Z") -> dict[str, Any]:
    body = copy.deepcopy(BASES["death"])
    body["payload"] |= {"death_type": death_type, "died_at": died}
    body["payload"]["child"]["date_of_birth"] = born
    return body


@pytest.mark.parametrize(
    ("death_type", "born", "died"),
    [
        ("sudi", "2025-09-14", "2026-03-01T06:00:00Z"),
        ("sudc", "2017-05-01", "2026-03-01T06:00:00Z"),
        ("sudc", "2025-03-01", "2026-03-01T06:00:00Z"),  # one year old that day
        ("sudi", "2024-02-29", "2025-02-28T23:00:00Z"),  # a leap-day baby turns one on 1 March
    ],
)
def test_a_category_that_fits_the_age_is_taken(death_type: str, born: str, died: str) -> None:
    parse_notification(_death(death_type, born, died))


@pytest.mark.parametrize(
    ("death_type", "born", "fits"), [("sudi", "2017-05-01", "sudc"), ("sudc", "2025-09-14", "sudi")]
)
def test_a_category_that_does_not_fit_the_age_is_refused_naming_the_one_that_does(
    death_type: str, born: str, fits: str
) -> None:
    with pytest.raises(ValidationError, match=f"payload.death_type '{death_type}' does not fit .* it is '{fits}'"):
        parse_notification(_death(death_type, born))


def _death_at_age(death_type: str, subjects: list[dict[str, Any]]) -> dict[str, Any]:
    body = copy.deepcopy(BASES["death"])
    body["payload"]["death_type"] = death_type
    body["subjects"] = subjects
    return body


def _child(ref: str, age: int | None, role: str = "child") -> dict[str, Any]:
    return {"subject_ref": ref, "role_in_case": role, "age_years": age}


@pytest.mark.parametrize(
    ("death_type", "subjects"),
    [
        ("sudi", [_child("c", 0)]),
        ("sudc", [_child("c", 3)]),
        ("sudi", [_child("c", 0, "deceased_child"), _child("s", 4, "sibling")]),
        ("sudi", [_child("c", None)]),  # no age: nothing to check it against
        ("sudi", [_child("a", 4), _child("b", 6)]),  # two children: which died is not said
        ("sudi", [_child("c", 0, "deceased_child"), _child("s", 7)]),  # the one recorded as having died
        ("suicide", [_child("c", 15)]),
    ],
)
def test_a_category_that_fits_the_stated_age_is_taken(death_type: str, subjects: list[dict[str, Any]]) -> None:
    parse_notification(_death_at_age(death_type, subjects))


@pytest.mark.parametrize(
    ("death_type", "subjects", "said"),
    [
        ("sudi", [_child("c", 8)], "a child aged 8 at death (subjects[0].age_years): it is 'sudc'"),
        ("sudc", [_child("c", 0)], "a child under 12 months at death (subjects[0].age_years): it is 'sudi'"),
        (
            "sudi",
            [_child("p", None, "parent_pr"), _child("c", 2, "deceased_child"), _child("s", 0)],
            "a child aged 2 at death (subjects[1].age_years): it is 'sudc'",
        ),
    ],
)
def test_a_category_that_does_not_fit_the_stated_age_is_refused_at_the_category(
    death_type: str, subjects: list[dict[str, Any]], said: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_notification(_death_at_age(death_type, subjects))
    (error,) = refused.value.errors()
    assert location(error) == ("child_death_notification", "payload", "death_type")
    assert error["msg"] == f"payload.death_type '{death_type}' does not fit {said}"
