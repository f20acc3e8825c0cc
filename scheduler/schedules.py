"""The cron schedules (digests, housekeeping). APScheduler's CronTrigger tells the next fire time for
any moment, so production and replay share these very definitions."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session, col, delete

from bot.domain.digests import Digests
from bot.domain.org import OrgDirectory
from bot.outbox import Outbox
from bot.storage.models import SeenMessage


@dataclass(frozen=True)
class Schedule:
    name: str
    title: str          # what people call it (gridbot doctor's report of a failing run)
    cron: dict          # CronTrigger fields, in the county's time zone
    job: Callable[[Session, OrgDirectory, Outbox, datetime, datetime], object]   # (…, fired, now)

    def trigger(self, tz: ZoneInfo) -> CronTrigger:
        return CronTrigger(timezone=tz, **self.cron)


def daily_digest(s: Session, org: OrgDirectory, outbox: Outbox, fired: datetime, now: datetime) -> None:
    Digests(s, org, outbox).daily(fired, now)


def weekly_lists(s: Session, org: OrgDirectory, outbox: Outbox, fired: datetime, now: datetime) -> None:
    Digests(s, org, outbox).weekly(fired, now)


SEEN_RETENTION = timedelta(days=30)


def housekeeping(s: Session, org: OrgDirectory, outbox: Outbox, fired: datetime, now: datetime) -> None:
    """Message ids are kept 30 days for de-duplication (redeliveries come within minutes), then dropped."""
    s.execute(delete(SeenMessage).where(col(SeenMessage.at) < now - SEEN_RETENTION))


SCHEDULES = (
    Schedule("daily_digest", "每日 08:30 网格工单提醒", {"hour": 8, "minute": 30}, daily_digest),
    Schedule("weekly_lists", "每周一 09:00 问题清单和解决清单", {"day_of_week": "mon", "hour": 9, "minute": 0}, weekly_lists),
    Schedule("housekeeping", "每日 03:17 清理过期消息记录", {"hour": 3, "minute": 17}, housekeeping),
)
