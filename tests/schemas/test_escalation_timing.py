"""A professional may escalate on "no decision after 3 working days" only once 3 working days have passed
since the referral (CPSCP-Procedures, Responding to concerns about a child > Duty to co-operate and
refer): sooner, the ground cannot hold, and the escalation would start children's social care's clock
to answer it. Weekdays are counted; a partnership's bank holidays only make the wait longer."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.catalogue_models import weekdays_after
from schemas.locations import location
from schemas.notifications import parse_notification
from tests.policy.bases import BASES


def _escalation(referred: str, created: str, ground: str = "no_decision_after_3_wd") -> dict[str, Any]:
    body = copy.deepcopy(BASES["escalation"])
    body["created_at"] = created
    body["payload"] |= {"referred_at": referred, "ground": ground}
    return body


@pytest.mark.parametrize(
    ("referred", "created"),
    [
        ("2026-11-30T10:00:00Z", "2026-12-03T09:00:00Z"),  # Monday to Thursday
        ("2026-11-27T16:00:00Z", "2026-12-02T08:00:00Z"),  # Friday to Wednesday, over the weekend
        ("2026-10-01T09:00:00Z", "2026-12-06T09:00:00Z"),
    ],
)
def test_three_working_days_on_the_ground_is_taken(referred: str, created: str) -> None:
    parse_notification(_escalation(referred, created))


@pytest.mark.parametrize(
    ("referred", "created"),
    [
        ("2026-12-06T05:00:00Z", "2026-12-06T05:20:00Z"),  # minutes after the referral
        ("2026-11-27T16:00:00Z", "2026-12-01T09:00:00Z"),  # Friday to Tuesday: two weekdays
        ("2026-12-08T09:00:00Z", "2026-12-06T09:00:00Z"),  # a referral after the escalation
    ],
)
def test_no_decision_sooner_is_refused_naming_the_referral_time(referred: str, created: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_notification(_escalation(referred, created))
    (error,) = refused.value.errors()
    assert location(error)[-2:] == ("payload", "referred_at"), error
    assert "fewer than 3 working days before created_at" in error["msg"], error["msg"]


def test_a_disagreement_with_a_decision_may_come_at_once() -> None:
    parse_notification(_escalation("2026-12-06T05:00:00Z", "2026-12-06T05:20:00Z", "disagrees_with_decision"))


def test_weekdays_after_counts_monday_to_friday_after_the_start() -> None:
    assert weekdays_after(date(2026, 12, 4), date(2026, 12, 7)) == 1  # Friday to Monday
    assert weekdays_after(date(2026, 12, 7), date(2026, 12, 7)) == 0
    assert weekdays_after(date(2026, 12, 1), date(2027, 1, 1)) == 3
