"""APScheduler in production only decides when to look: an interval sweep plus the digest crons,
all calling Bot.tick, with no one-shot jobs that a misfire could drop."""
from scheduler.production import SWEEP_SECONDS, start_scheduler
from tests.harness import TZ


async def test_production_scheduler_jobs(harness):
    scheduler = start_scheduler(harness.bot, TZ)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {"sweep", "daily_digest", "weekly_lists", "housekeeping"}
        assert all(job.func == harness.bot.tick for job in jobs.values())
        assert all(job.misfire_grace_time is None and job.coalesce for job in jobs.values())
        assert jobs["sweep"].trigger.interval.total_seconds() == SWEEP_SECONDS
        daily = jobs["daily_digest"].next_run_time.astimezone(TZ)
        weekly = jobs["weekly_lists"].next_run_time.astimezone(TZ)
        assert (daily.hour, daily.minute) == (8, 30)
        assert (weekly.weekday(), weekly.hour, weekly.minute) == (0, 9, 0)
    finally:
        scheduler.shutdown(wait=False)
