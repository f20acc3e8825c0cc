"""Due work: turning time into calls of the same domain services the handlers use.

`DueWork` finds what is due from the database (ticket deadlines, queued messages, cron
schedules) so production (APScheduler), replay and the demo's virtual clock do the same work.
"""
from scheduler.due import DueWork
from scheduler.schedules import SCHEDULES, Schedule

__all__ = ["DueWork", "SCHEDULES", "Schedule"]
