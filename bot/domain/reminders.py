"""Reminders people schedule by message (#提醒, SPEC §4): a queued message with a send time.
The outbox row is the record, so a reminder survives a restart and goes out once."""
from __future__ import annotations

from datetime import datetime

from bot.domain import texts
from bot.outbox import NORMAL, Outbox
from bot.transport import Address, Outgoing

MAX_REMINDER_TEXT = 500
class Reminders:
    """#提醒: reminders people schedule, queued in the outbox of the unit of work."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def schedule(self, when: datetime, content: str, by_name: str, where: Address) -> None:
        schedule_reminder(self.outbox, when, content, by_name, where)


def schedule_reminder(outbox: Outbox, when: datetime, content: str, by_name: str, where: Address) -> None:
    """Queue the reminder for exactly `when`. Quiet hours hold back only the bot's own automatic
    messages: a time a person asked for (`#提醒 今晚11点 夜间巡查`) is what they want, night or not."""
    outbox.post(Outgoing.at(where, texts.reminder(content, by_name)),
                kind="reminder", not_before=when, late_after=when, priority=NORMAL)
