"""A child's death category agrees with the child's age at death: SUDI is under 12 months, SUDC a year
or more (CPSCP-Procedures, Child death > 1.5 Definitions); the category decides who is told."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pydantic import ValidationError

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
