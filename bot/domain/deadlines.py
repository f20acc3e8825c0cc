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


# ---- overdue (SPEC §5.1): two kinds, one rule each, used by every reply, list, figure and export ----
OVERDUE_ACCEPT = "overdue_accept"     # 超期未受理: accept_by passed while open
OVERDUE_RESOLVE = "overdue_resolve"   # 超期未办结: resolve_by passed unresolved


def overdue_accept(t, now: datetime):
    """`t` is a Ticket (the answer is a bool) or the Ticket class (a SQL condition for aggregates), so
    the figures of #统计 and the lines of #清单 cannot drift apart."""
    return (t.status == "open") & (t.accept_by < now)


def overdue_resolve(t, now: datetime):
    return ((t.status == "open") | (t.status == "accepted")) & (t.resolve_by < now)


OVERDUE_RULES = ((OVERDUE_ACCEPT, overdue_accept), (OVERDUE_RESOLVE, overdue_resolve))


def overdue_kinds(t, now: datetime) -> tuple[str, ...]:
    """The ticket's overdue kinds at `now`, in the order 超期未受理, 超期未办结 (both, one or none)."""
    return tuple(kind for kind, rule in OVERDUE_RULES if bool(rule(t, now)))
