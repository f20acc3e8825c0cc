"""The cron schedules (digests). APScheduler's CronTrigger tells the next fire time for any moment,
so production and replay share these very definitions."""
from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger


@dataclass(frozen=True)
class Schedule:
    name: str
    cron: dict          # CronTrigger fields, in the county's time zone

    def trigger(self, tz: ZoneInfo) -> CronTrigger:
        return CronTrigger(timezone=tz, **self.cron)


SCHEDULES = (
    Schedule("daily_digest", {"hour": 8, "minute": 30}),
    Schedule("weekly_lists", {"day_of_week": "mon", "hour": 9, "minute": 0}),
)
