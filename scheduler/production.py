"""APScheduler in production: it only decides *when* to look; the database says *what* is due.

Traps avoided: a one-shot job missed by more than misfire_grace_time is silently dropped, so
there are no one-shot jobs — an interval sweep plus the digest cron triggers, all calling the same
`Bot.tick`, which catches up from the database. The job store is in memory and per process; it
holds no state that matters, so nothing is shared between processes."""
from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from scheduler.schedules import SCHEDULES

SWEEP_SECONDS = 15


def start_scheduler(bot, tz) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=tz, job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": None})
    scheduler.add_job(bot.tick, IntervalTrigger(seconds=SWEEP_SECONDS), id="sweep")
    for schedule in SCHEDULES:
        scheduler.add_job(bot.tick, schedule.trigger(tz), id=schedule.name)
    scheduler.start()
    return scheduler
