"""Due work that raised: when to try it again, and the record `gridbot doctor` reads.

A failed ticket or notice has its `next_action_at` moved to the retry time, so the sweep's own
queries skip it until then; a schedule has no such column, so its retry time is read from here."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.errors import Crash
from bot.storage.models import DueFailure, Notice, Ticket, Vote

# A slip (a lock timeout, a row mid-edit) is retried within a minute; a row that stays broken costs
# one attempt an hour, so it neither floods the log nor holds the sweep.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30))
HOURLY = timedelta(hours=1)
KEEPS_FAILING = 2        # attempts before doctor lists an item: one failure may be a slip


@dataclass(frozen=True)
class DueItem:
    kind: str                                   # ticket | notice | vote | schedule
    key: str                                    # T7, N3, daily_digest
    due: datetime
    row: type[Ticket] | type[Notice] | type[Vote] | None = None    # the table whose next_action_at is put off
    row_id: int | None = None


def retry_delay(failures: int) -> timedelta:
    return BACKOFF[failures - 1] if failures <= len(BACKOFF) else HOURLY


def record(s: Session, item: DueItem, crash: Crash, now: datetime) -> tuple[DueFailure, bool]:
    """Count a failed attempt and put the item off. Returns the record, and whether this failure is
    news (the first one, or a different error from last time) rather than the same one again."""
    failure = s.get(DueFailure, (item.kind, item.key))
    news = failure is None or (failure.error, failure.location) != (crash.type, crash.where)
    if failure is None:
        failure = DueFailure(kind=item.kind, item=item.key, due_at=item.due, first_failed_at=now,
                             last_failed_at=now, retry_at=now, error=crash.type, location=crash.where)
    failure.failures += 1
    failure.last_failed_at = now
    failure.retry_at = now + retry_delay(failure.failures)
    failure.error, failure.location = crash.type, crash.where
    s.add(failure)
    if item.row is not None:
        s.execute(update(item.row).where(col(item.row.id) == item.row_id).values(next_action_at=failure.retry_at))
    return failure, news


def clear(s: Session, item: DueItem) -> DueFailure | None:
    """The item succeeded: forget its failures (in the transaction of its work). Returns the record gone."""
    failure = s.get(DueFailure, (item.kind, item.key))
    if failure is not None:
        s.delete(failure)
    return failure


def retry_times(s: Session, kind: str) -> dict[str, datetime]:
    return {f.item: f.retry_at for f in s.exec(select(DueFailure).where(DueFailure.kind == kind)).all()}


def keeps_failing(s: Session) -> list[DueFailure]:
    return list(s.exec(select(DueFailure).where(col(DueFailure.failures) >= KEEPS_FAILING)
                       .order_by(col(DueFailure.failures).desc(), DueFailure.kind, DueFailure.item)).all())
