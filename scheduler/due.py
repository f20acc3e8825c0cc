"""Everything due by a given moment, found in the database and done in time order."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from bot.clock import Clock
from bot.domain.notices import NoticeService
from bot.domain.org import OrgDirectory
from bot.domain.timers import ACTIVE, TicketTimers
from bot.outbox import Delivery, Outbox, next_pending_at
from bot.storage.db import session
from bot.storage.models import Notice, ScheduleRun, Ticket
from scheduler import lease
from scheduler.schedules import SCHEDULES, Schedule

log = logging.getLogger("gridbot.scheduler")

TINY = timedelta(microseconds=1)
MAX_STEPS = 100_000


class DueWork:
    """With several processes on one database, only the holder of the sweep lease does the work;
    the others still deliver the outbox (their own account's rows and unassigned ones)."""

    def __init__(self, engine: Engine, clock: Clock, schedules: tuple[Schedule, ...] = SCHEDULES,
                 holder: str | None = None, lease_ttl: timedelta = lease.DEFAULT_TTL) -> None:
        self.engine = engine
        self.clock = clock
        self.schedules = schedules
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease_ttl = lease_ttl
        self._lease_until: datetime | None = None
        self._ready = False
        self._next_fire: dict[str, datetime | None] = {}     # per schedule, known while we lead

    def release(self) -> None:
        """A clean stop hands the sweep over at once instead of after the lease expires."""
        lease.release(self.engine, "sweep", self.holder)
        self._lease_until = None

    def is_leader(self) -> bool:
        """Hold the lease; renewed in the database only once half of it has run out."""
        now = self.clock.now()
        if self._lease_until is not None and now < self._lease_until - self.lease_ttl / 2:
            return True
        if lease.hold(self.engine, "sweep", self.holder, now, self.lease_ttl):
            self._lease_until = now + self.lease_ttl
            return True
        self._lease_until = None
        self._next_fire.clear()
        return False

    def _org_ready(self) -> bool:
        if not self._ready:
            with session(self.engine) as s:
                self._ready = OrgDirectory(s).is_imported()
        return self._ready

    # ---- when -----------------------------------------------------------------------------
    def next_due(self, delivery: Delivery | None) -> datetime | None:
        """The earliest moment something is due: queued messages (when `delivery` is given) for every
        process; deadlines and digests only for the leader (the others would wait on work that is
        not theirs)."""
        if not self._org_ready():
            return None
        candidates = [delivery.next_at()] if delivery is not None else []
        if self._lease_until is None:
            # Not the leader: look again when the current holder's lease runs out.
            expiry = lease.expires_at(self.engine, "sweep")
            if expiry is not None and expiry > self.clock.now():
                candidates.append(expiry + TINY)
        else:
            with session(self.engine) as s:
                candidates += [
                    s.exec(select(func.min(Ticket.next_action_at)).where(col(Ticket.status).in_(ACTIVE))).first(),
                    s.exec(select(func.min(Notice.next_action_at))).first(),
                ]
                candidates += self._schedule_times(s)
        found = [c for c in candidates if c is not None]
        return min(found) if found else None

    def _schedule_times(self, s) -> list[datetime | None]:
        missing = [sch for sch in self.schedules if sch.name not in self._next_fire]
        if missing:
            tz = OrgDirectory(s).settings.tz
            for schedule in missing:
                run = s.get(ScheduleRun, schedule.name)
                self._next_fire[schedule.name] = None if run is None else schedule.trigger(tz).get_next_fire_time(
                    run.last_fire_at, run.last_fire_at + TINY)
        return list(self._next_fire.values())

    async def run_until(self, target: datetime, delivery: Delivery,
                        deliver: Callable[[], Awaitable[object]] | None = None) -> None:
        """Step the clock (when it can be stepped) through each due moment up to `target`, so every
        message carries the time it was due; a wall clock just does what is due now.

        Inline (no `deliver` given: replay, tests) the delivery's paced slots are steps too. Live, a
        `deliver` that wakes the background sender is called once the due work is done."""
        live = deliver is not None
        watch = None if live else delivery
        advance = getattr(self.clock, "advance_to", None)
        if self._org_ready():
            self.is_leader()        # take or renew the lease first, so the leader sees all due work
        for _ in range(MAX_STEPS):
            due = self.next_due(watch)
            if due is None or due > target or due > self.clock.now() and advance is None:
                break
            if advance is not None:
                advance(due)
            self.run_due()
            if not live:
                await delivery.deliver()
                if delivery.blocked:
                    break          # disconnected: queued messages wait for the reconnect
            if self.next_due(watch) == due:
                log.error("due work at %s made no progress; stopping this sweep", due)
                break
        if advance is not None:
            advance(target)
        self.run_due()
        await (deliver or delivery.deliver)()

    async def drain(self, delivery: Delivery) -> None:
        """Deliver what is queued for now or earlier, stepping through the pacing slots."""
        end = self.clock.now()
        advance = getattr(self.clock, "advance_to", None)
        for _ in range(MAX_STEPS):
            await delivery.deliver()
            with session(self.engine) as s:
                waiting = next_pending_at(s)
            slot = delivery.next_at()
            if waiting is None or waiting > end or slot is None or advance is None:
                return
            advance(slot)

    # ---- what -----------------------------------------------------------------------------
    def run_due(self) -> None:
        if not self._org_ready() or not self.is_leader():
            return
        self._tickets()
        self._notices()
        self._schedules()

    def _tickets(self) -> None:
        while True:
            with session(self.engine) as s:
                org = OrgDirectory(s)
                timers = TicketTimers(s, self.clock, org, Outbox(s, self.clock))
                due = timers.due_tickets(self.clock.now(), limit=1)
                if not due:
                    return
                # Each ticket's actions and their messages commit together: done once, never twice.
                timers.run(due[0])
                s.commit()

    def _notices(self) -> None:
        with session(self.engine) as s:
            org = OrgDirectory(s)
            notices = NoticeService(s, self.clock, org, Outbox(s, self.clock))
            for notice in notices.due(self.clock.now()):
                notices.run_deadline(notice)
                s.commit()

    def _schedules(self) -> None:
        now = self.clock.now()
        with session(self.engine) as s:
            org = OrgDirectory(s)
            tz = org.settings.tz
            for schedule in self.schedules:
                run = s.get(ScheduleRun, schedule.name)
                if run is None:
                    # First start: schedules begin now, no digests for the past.
                    s.add(ScheduleRun(name=schedule.name, last_fire_at=now))
                    s.commit()
                    self._next_fire.pop(schedule.name, None)
                    continue
                fired = self._latest_fire(schedule, run.last_fire_at, now, tz)
                if fired is None:
                    continue
                self._next_fire.pop(schedule.name, None)
                schedule.job(s, org, Outbox(s, self.clock), fired, now)
                run.last_fire_at = fired
                s.add(run)
                s.commit()

    @staticmethod
    def _latest_fire(schedule: Schedule, last: datetime, now: datetime, tz) -> datetime | None:
        """The latest fire time in (last, now]: after downtime a digest is sent once, not once per day missed."""
        trigger = schedule.trigger(tz)
        fired = None
        nxt = trigger.get_next_fire_time(last, last + TINY)
        while nxt is not None and nxt <= now:
            fired = nxt
            nxt = trigger.get_next_fire_time(nxt, nxt + TINY)
        return fired
