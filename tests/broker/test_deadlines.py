"""Deadlines across weekends and bank holidays, on the real England and Wales calendar."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from broker.delivery.calendar import DueUnit, WorkingCalendar


@pytest.mark.parametrize(
    ("start", "amount", "unit", "expected"),
    [
        # Thu 24 Dec 2026 + 1 WD: Fri 25 Christmas, weekend, Mon 28 Boxing Day (observed) -> Tue 29.
        (datetime(2026, 12, 24, 12, tzinfo=UTC), 1, "working_days", datetime(2026, 12, 29, 12, tzinfo=UTC)),
        # Fri 27 Nov 2026 + 2 WD spans an ordinary weekend -> Tue 1 Dec.
        (datetime(2026, 11, 27, 9, tzinfo=UTC), 2, "working_days", datetime(2026, 12, 1, 9, tzinfo=UTC)),
        # A referral on Saturday starts the clock on Monday morning: Mon 30 Nov 00:00 + 1 WD -> Tue 1 Dec.
        (datetime(2026, 11, 28, 15, tzinfo=UTC), 1, "working_days", datetime(2026, 12, 1, 0, tzinfo=UTC)),
        # Good Friday and Easter Monday 2027 (26 and 29 Mar): Thu 25 Mar 09:00 GMT + 1 WD -> Tue 30 Mar
        # 09:00 London time, which is BST by then (clocks change 28 Mar), so 08:00 UTC.
        (datetime(2027, 3, 25, 9, tzinfo=UTC), 1, "working_days", datetime(2027, 3, 30, 8, tzinfo=UTC)),
        (datetime(2026, 12, 24, 12, tzinfo=UTC), 24, "hours", datetime(2026, 12, 25, 12, tzinfo=UTC)),
        (datetime(2026, 12, 24, 12, tzinfo=UTC), 5, "days", datetime(2026, 12, 29, 12, tzinfo=UTC)),
    ],
    ids=["christmas", "weekend", "saturday-start", "easter", "hours", "calendar-days"],
)
def test_due(start: datetime, amount: int, unit: str, expected: datetime) -> None:
    assert WorkingCalendar().due(start, amount, unit) == expected


def test_unclear_days_follow_configuration() -> None:
    start = datetime(2026, 12, 24, 12, tzinfo=UTC)
    as_written = WorkingCalendar().due(start, 5, DueUnit.UNCLEAR_DAYS)
    as_working = WorkingCalendar(unclear_days_as=DueUnit.WORKING_DAYS).due(start, 5, DueUnit.UNCLEAR_DAYS)
    assert as_written == datetime(2026, 12, 29, 12, tzinfo=UTC)
    # 29, 30, 31 Dec, (1 Jan holiday), 4, 5 Jan -> Tue 5 Jan 2027.
    assert as_working == datetime(2027, 1, 5, 12, tzinfo=UTC)


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        WorkingCalendar().due(datetime(2026, 12, 24, 12), 1, "hours")
