"""School days: "before the start of the next school day" (the police-to-school domestic abuse notice)
on the real England and Wales working-day calendar, less the partnership's school holidays."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from broker.delivery.calendar import DueUnit, WorkingCalendar, load_school_holidays
from broker.settings import BrokerSettings

# Spring half-term 2026 (fictional partnership dates): Mon 16 - Fri 20 Feb.
HALF_TERM = ((date(2026, 2, 16), date(2026, 2, 20)),)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # Mon 2 Mar 2026 19:00 GMT -> Tue 08:30.
        (datetime(2026, 3, 2, 19, tzinfo=UTC), datetime(2026, 3, 3, 8, 30, tzinfo=UTC)),
        # Tue 07:00 -> 08:30 the same day: school has not started yet.
        (datetime(2026, 3, 3, 7, tzinfo=UTC), datetime(2026, 3, 3, 8, 30, tzinfo=UTC)),
        # Tue 08:30 exactly: today's school day has started -> Wednesday.
        (datetime(2026, 3, 3, 8, 30, tzinfo=UTC), datetime(2026, 3, 4, 8, 30, tzinfo=UTC)),
        # Friday 17:00 and Saturday -> Monday 08:30.
        (datetime(2026, 3, 6, 17, tzinfo=UTC), datetime(2026, 3, 9, 8, 30, tzinfo=UTC)),
        (datetime(2026, 3, 7, 10, tzinfo=UTC), datetime(2026, 3, 9, 8, 30, tzinfo=UTC)),
        # Thu 2 Apr 2026 evening: Good Friday and Easter Monday -> Tue 7 Apr 08:30 BST (07:30 UTC).
        (datetime(2026, 4, 2, 20, tzinfo=UTC), datetime(2026, 4, 7, 7, 30, tzinfo=UTC)),
    ],
    ids=["evening", "before-school", "school-started", "friday", "saturday", "easter"],
)
def test_next_school_day_start(start: datetime, expected: datetime) -> None:
    calendar = WorkingCalendar(school_holidays=())
    assert calendar.due(start, 1, DueUnit.SCHOOL_DAYS) == expected
    assert calendar.due(start, 1, "school_days") == expected


def test_school_holidays_are_skipped() -> None:
    friday = datetime(2026, 2, 13, 18, tzinfo=UTC)
    assert WorkingCalendar(school_holidays=()).due(friday, 1, "school_days") == datetime(2026, 2, 16, 8, 30, tzinfo=UTC)
    # Half-term: the next school day is Mon 23 Feb.
    assert WorkingCalendar(school_holidays=HALF_TERM).due(friday, 1, "school_days") == datetime(
        2026, 2, 23, 8, 30, tzinfo=UTC
    )


def test_second_school_day_and_working_days_are_unchanged() -> None:
    calendar = WorkingCalendar(school_holidays=HALF_TERM)
    friday = datetime(2026, 2, 13, 18, tzinfo=UTC)
    assert calendar.due(friday, 2, "school_days") == datetime(2026, 2, 24, 8, 30, tzinfo=UTC)
    # Working days ignore school holidays: social care works through half-term.
    assert calendar.due(friday, 1, "working_days") == datetime(2026, 2, 16, 18, tzinfo=UTC)
    assert calendar.is_working_day(date(2026, 2, 17)) and not calendar.is_school_day(date(2026, 2, 17))


def test_school_day_start_is_configurable() -> None:
    calendar = WorkingCalendar(school_holidays=(), school_day_start=time(8, 45))
    assert calendar.due(datetime(2026, 3, 3, 8, 40, tzinfo=UTC), 1, "school_days") == datetime(
        2026, 3, 3, 8, 45, tzinfo=UTC
    )


def test_holidays_load_from_the_configured_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "school-holidays.json"
    path.write_text(
        json.dumps([{"first": "2026-02-16", "last": "2026-02-20"}, {"first": "2026-03-04", "last": "2026-03-04"}])
    )
    assert load_school_holidays(path) == (*HALF_TERM, (date(2026, 3, 4), date(2026, 3, 4)))
    monkeypatch.setenv("SGB_SCHOOL_HOLIDAYS_FILE", str(path))
    configured = BrokerSettings().school_holidays()  # as the gateway's start builds its calendar
    # An INSET day on Wed 4 Mar: Tuesday evening's notice is due on Thursday.
    assert WorkingCalendar(school_holidays=configured).due(
        datetime(2026, 3, 3, 19, tzinfo=UTC), 1, "school_days"
    ) == datetime(2026, 3, 5, 8, 30, tzinfo=UTC)


def test_bad_configuration_fails_loudly(tmp_path: Path) -> None:
    path = tmp_path / "backwards.json"
    path.write_text(json.dumps([{"first": "2026-02-20", "last": "2026-02-16"}]))
    with pytest.raises(ValueError, match=r"ends \(2026-02-16\) before it starts \(2026-02-20\)"):
        load_school_holidays(path)
    for text in ('{"first": "2026-02-16"}', '[{"first": "2026-02-16"}]', '[{"first": "16/02/2026", "last": "x"}]', "["):
        path.write_text(text)
        with pytest.raises(ValueError, match=r'is not a JSON list of \{"first": "YYYY-MM-DD", "last": "YYYY-MM-DD"\}'):
            load_school_holidays(path)
    forever = ((date(2026, 1, 1), date(2030, 1, 1)),)
    with pytest.raises(ValueError, match="no school day"):
        WorkingCalendar(school_holidays=forever).due(datetime(2026, 3, 3, tzinfo=UTC), 1, "school_days")
    with pytest.raises(ValueError, match="at least 1"):
        WorkingCalendar(school_holidays=()).school_day_start(datetime(2026, 3, 3, tzinfo=UTC), 0)
