"""Working days: China's official calendar (chinese-calendar), with the org file's own lists as the
fallback for years the library does not cover (Monday–Friday plus `holidays:` / `workdays:`)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import chinese_calendar


class WorkCalendar:
    def __init__(self, holidays: Iterable[date] = (), workdays: Iterable[date] = ()) -> None:
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)

    def is_workday(self, day: date) -> bool:
        # The org file's lists win: a county knows its own adjustments before the library ships them.
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            return day.weekday() < 5

    def add_workdays(self, day: date, n: int) -> date:
        """The n-th working day after `day` (n ≥ 1)."""
        current = day
        remaining = n
        while remaining > 0:
            current += timedelta(days=1)
            if self.is_workday(current):
                remaining -= 1
        return current
