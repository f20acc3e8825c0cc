"""Reminders people schedule by message (#提醒, SPEC §4): a queued message with a send time.
The outbox row is the record, so a reminder survives a restart and goes out once."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain import texts
from bot.errors import UserError
from bot.outbox import NORMAL, Outbox, quiet_until
from bot.transport import Outgoing

MAX_REMINDER_TEXT = 500
WORKERS = frozenset({"grid_worker", "police", "liaison", "admin"})     # "grid_worker and above"


def require_worker(roles: set[str]) -> None:
    if not roles & WORKERS:
        raise UserError("只有网格员及以上可以设置提醒。")


def schedule_reminder(outbox: Outbox, tz: ZoneInfo, when: datetime, content: str, by_name: str,
                      room_id: str | None, room_topic: str | None, to: str | None) -> datetime:
    """Queue the reminder; returns when it will actually go out (quiet hours move it to 07:00)."""
    held = quiet_until(when, tz)
    send_at = held or when
    outbox.post(Outgoing(text=texts.reminder(content, by_name), room_id=room_id, room_topic=room_topic, to=to),
                kind="reminder", not_before=send_at, late_after=when, priority=NORMAL)
    return send_at
