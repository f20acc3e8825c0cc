"""When a ticket must be accepted and resolved (SPEC §3), from the org's SLA and working-day calendar."""
from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.domain.calendar import WorkCalendar
from bot.domain.orgfile import Duration, Sla

END_OF_WORKDAY = time(18, 0)


def due_after(start: datetime, duration: Duration, calendar: WorkCalendar, tz: ZoneInfo) -> datetime:
    """`start` plus `duration`; `Nwd` means 18:00 local of the N-th working day after start's day."""
    if duration.unit == "wd":
        day = calendar.add_workdays(start.astimezone(tz).date(), duration.amount)
        return datetime.combine(day, END_OF_WORKDAY, tz)
    return start + duration.to_timedelta()


def ticket_deadlines(
    opened: datetime, urgency: str, sla: Sla, calendar: WorkCalendar, tz: ZoneInfo
) -> tuple[datetime, datetime]:
    rule = sla.urgent if urgency == "urgent" else sla.normal
    return (
        due_after(opened, rule.accept, calendar, tz),
        due_after(opened, rule.resolve, calendar, tz),
    )
