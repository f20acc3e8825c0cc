"""The one source of "now": production reads the system clock, replay and demo a virtual one."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SteppableClock:
    """A clock that due work may move forward to each due moment (replay's, the demo's /time jumps),
    so every message carries the time it was due. The system clock is not one: live, due work does
    what is due now."""

    def now(self) -> datetime:
        raise NotImplementedError

    def advance_to(self, when: datetime) -> None:
        raise NotImplementedError


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class VirtualClock(SteppableClock):
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


class OffsetClock(SteppableClock):
    """Wall-clock time shifted by an offset the user moves forward (the terminal demo's /time).
    With `start`, it begins at that moment and runs on with the wall clock (`--start-at`)."""

    def __init__(self, base: Clock | None = None, start: datetime | None = None) -> None:
        self._base = base or SystemClock()
        self._offset = timedelta()
        self._stopped_at: datetime | None = None
        if start is not None:
            if start.tzinfo is None:
                raise ValueError("OffsetClock needs an aware start")
            self._offset = start - self._base.now()

    def now(self) -> datetime:
        if self._stopped_at is not None:
            return self._stopped_at
        return self._base.now() + self._offset

    def advance(self, delta: timedelta) -> None:
        if delta <= timedelta():
            return
        if self._stopped_at is not None:
            self._stopped_at += delta
        else:
            self._offset += delta

    def advance_to(self, when: datetime) -> None:
        self.advance(when.astimezone(UTC) - self.now())

    @contextmanager
    def stopped(self) -> Iterator[None]:
        """While the block runs, the clock is virtual: the wall clock is ignored and only `advance`
        moves it, so a /time jump can step through each due moment like replay and take no real time.
        Afterwards it runs on with the wall clock from where the block left it."""
        self._stopped_at = self.now()
        try:
            yield
        finally:
            self._offset = self._stopped_at - self._base.now()
            self._stopped_at = None
