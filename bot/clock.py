"""The one source of "now": production reads the system clock, replay and demo a virtual one."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class VirtualClock:
    """A clock that only moves when told to (replay); it never goes backwards."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance_to(self, when: datetime) -> None:
        when = when.astimezone(UTC)
        if when > self._now:
            self._now = when

    def advance(self, delta: timedelta) -> None:
        self.advance_to(self._now + delta)


class OffsetClock:
    """Wall-clock time shifted by an offset the user moves forward (the terminal demo's /time).
    With `start`, it begins at that moment and runs on with the wall clock (`--start-at`)."""

    def __init__(self, base: Clock | None = None, start: datetime | None = None) -> None:
        self._base = base or SystemClock()
        self.offset = timedelta()
        if start is not None:
            if start.tzinfo is None:
                raise ValueError("OffsetClock needs an aware start")
            self.offset = start - self._base.now()

    def now(self) -> datetime:
        return self._base.now() + self.offset

    def advance(self, delta: timedelta) -> None:
        if delta > timedelta():
            self.offset += delta

    def advance_to(self, when: datetime) -> None:
        self.advance(when.astimezone(UTC) - self.now())
