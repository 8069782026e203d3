"""Statutory clocks: turning "within N working days / hours / days / school days" into a due time.

Working days skip weekends and the bank holidays of England and Wales from the maintained
`holidays` calendar, never hand-typed dates. Where the source documents leave the unit unclear
("within 5 days" for a strategy meeting: DDSCP-RiskToOthers, 4. Children's Social Care Response, timers
T11-T12) the unit is configuration, defaulting to calendar days as the source text is written.

School days are working days less the partnership's school holidays (term dates differ between
local authorities and academies, so they are configuration: a JSON file of date ranges, named by
`SGB_SCHOOL_HOLIDAYS_FILE` and checked with the other settings before anything starts). "Before the
start of the next school day" is the police-to-school domestic abuse notice's timescale (partnership
configuration; policies/README.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
# When the school day starts, for "before the start of the next school day".
SCHOOL_DAY_START = time(8, 30)
# A misconfigured holiday list must fail loudly, not spin: two years holds every real school year.
_SCHOOL_DAY_SEARCH = 731

DateRange = tuple[date, date]


class DueUnit(StrEnum):
    WORKING_DAYS = "working_days"
    DAYS = "days"
    HOURS = "hours"
    # Before the start of the Nth next school day (1: the next school day's start).
    SCHOOL_DAYS = "school_days"
    # The source says "days" without saying which; resolved by `WorkingCalendar.unclear_days_as`.
    UNCLEAR_DAYS = "unclear_days"


def load_school_holidays(path: Path) -> tuple[DateRange, ...]:
    """School holidays from JSON: `[{"first": "2026-04-03", "last": "2026-04-17"}, ...]`, both days
    included (INSET days are one-day ranges). A file that is not that is a `ValueError` saying what it
    must be, so a deployment's mistake is one line at start, never a clock due at the wrong time."""
    try:
        items = json.loads(path.read_text(encoding="utf-8"))
        ranges = [(date.fromisoformat(item["first"]), date.fromisoformat(item["last"])) for item in items]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(
            f'{path} is not a JSON list of {{"first": "YYYY-MM-DD", "last": "YYYY-MM-DD"}}: {exc}'
        ) from exc
    for first, last in ranges:
        if last < first:
            raise ValueError(f"{path}: a school holiday ends ({last}) before it starts ({first})")
    return tuple(ranges)


class WorkingCalendar:
    """Working days in England and Wales (the nation is configuration: ENG, WLS, SCT, NIR) and the
    school days within them."""

    def __init__(
        self,
        *,
        subdivision: str = "ENG",
        unclear_days_as: DueUnit = DueUnit.DAYS,
        school_holidays: Iterable[DateRange] = (),
        school_day_start: time = SCHOOL_DAY_START,
    ) -> None:
        if unclear_days_as is DueUnit.UNCLEAR_DAYS:
            raise ValueError("unclear_days_as must name a definite unit")
        self._holidays = holidays.country_holidays("GB", subdiv=subdivision)
        self._unclear_as = unclear_days_as
        self._school_holidays = tuple(school_holidays)
        self._school_start = school_day_start

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self._holidays

    def is_school_day(self, day: date) -> bool:
        return self.is_working_day(day) and not any(first <= day <= last for first, last in self._school_holidays)

    def add_working_days(self, start: datetime, count: int) -> datetime:
        """Same local time-of-day, `count` working days later; a start on a non-working day counts
        from the next working day's start, since nobody is on duty to start the clock before then."""
        local = start.astimezone(LONDON)
        if not self.is_working_day(local.date()):
            day = local.date()
            while not self.is_working_day(day):
                day += timedelta(days=1)
            local = datetime.combine(day, datetime.min.time(), tzinfo=LONDON)
        day, remaining = local.date(), count
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return datetime.combine(day, local.timetz()).astimezone(start.tzinfo)

    def school_day_start(self, start: datetime, count: int = 1) -> datetime:
        """The start of the `count`th school day to begin after `start`: today's, if school has not
        started yet, else the next school day's (weekends, bank holidays and school holidays skipped)."""
        if count < 1:
            raise ValueError("count must be at least 1: a school day that has started cannot be met")
        local = start.astimezone(LONDON)
        day, remaining = local.date(), count
        if not (self.is_school_day(day) and local.time() < self._school_start):
            day += timedelta(days=1)
        for _ in range(_SCHOOL_DAY_SEARCH):
            if self.is_school_day(day):
                remaining -= 1
                if remaining == 0:
                    return datetime.combine(day, self._school_start, tzinfo=LONDON).astimezone(start.tzinfo)
            day += timedelta(days=1)
        raise ValueError("no school day within two years: check the school holiday configuration")

    def due(self, start: datetime, amount: int, unit: DueUnit | str) -> datetime:
        """When an obligation of `amount` `unit` started at `start` falls due."""
        if start.tzinfo is None:
            raise ValueError("deadlines need an aware start time")
        unit = DueUnit(unit)
        if unit is DueUnit.UNCLEAR_DAYS:
            unit = self._unclear_as
        if unit is DueUnit.WORKING_DAYS:
            return self.add_working_days(start, amount)
        if unit is DueUnit.SCHOOL_DAYS:
            return self.school_day_start(start, amount)
        if unit is DueUnit.DAYS:
            # Days on London's wall clock, as the source texts and the people reading them count: a
            # clock started at 10:00 is due at 10:00, across a change to or from British Summer Time.
            # (Arithmetic on an aware datetime is wall-clock arithmetic in its own zone.)
            return (start.astimezone(LONDON) + timedelta(days=amount)).astimezone(start.tzinfo)
        # Hours are elapsed time: a clock change neither gives nor takes one.
        return start + timedelta(hours=amount)
