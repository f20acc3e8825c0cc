"""Everything due by a given moment, found in the database and done in time order.

Each due item (a ticket's timers, a notice's receipt deadline, a vote's result, a schedule's run) is one
transaction. One that raises is rolled back, reported through the same hook as a failing handler, and
put off with back-off (scheduler/failures.py); the others go on, and the sweep never waits on it."""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.clock import Clock, SteppableClock
from bot.domain.notices import NoticeService
from bot.domain.org import OrgDirectory
from bot.domain.timers import TIMED, TicketTimers
from bot.domain.votes import VoteService
from bot.errors import describe, report_crash
from bot.outbox import Delivery, Outbox, next_pending_at
from bot.storage.db import session
from bot.storage.models import Notice, ScheduleRun, Ticket, Vote
from scheduler import failures, lease
from scheduler.failures import DueItem
from scheduler.schedules import SCHEDULES, Schedule

log = logging.getLogger("gridbot.scheduler")

TINY = timedelta(microseconds=1)
MAX_STEPS = 100_000
# A clock jump is stepped through the schedules' fire times (each day's digest at its moment) for its
# last STEP_WINDOW only: the days before are passed over as downtime is, each schedule firing once at
# the window's start. Without it a replay line decades after the last one on a database (a scenario
# re-run on an old database) would be tens of thousands of daily steps.
STEP_WINDOW = timedelta(days=92)
# The latest fire time of a trigger that fires at least once a year lies within a year before now.
LOOKBACK = timedelta(days=366)


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
        # Items (ticket and notice ids, schedule names) that failed during the current run_until,
        # whose retries it does not step its clock to.
        self._passed_over: dict[str, set[int | str]] = {"ticket": set(), "notice": set(), "vote": set(),
                                                           "schedule": set()}
        self._step_floor: datetime | None = None     # during run_until: fire times before it are not steps

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
                tickets, notices = tuple(self._passed_over["ticket"]), tuple(self._passed_over["notice"])
                votes = tuple(self._passed_over["vote"])
                candidates += [
                    s.exec(select(func.min(Ticket.next_action_at)).where(
                        col(Ticket.status).in_(TIMED), col(Ticket.id).not_in(tickets))).first(),
                    s.exec(select(func.min(Notice.next_action_at)).where(col(Notice.id).not_in(notices))).first(),
                    s.exec(select(func.min(Vote.next_action_at)).where(col(Vote.id).not_in(votes))).first(),
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
        # A failed run keeps its fire time until it succeeds: it is due again at its retry, not before.
        retries = failures.retry_times(s, "schedule")
        times = [max(fire, retries[name]) if fire is not None and name in retries else fire
                 for name, fire in self._next_fire.items() if name not in self._passed_over["schedule"]]
        floor = self._step_floor
        return [max(t, floor) if t is not None and floor is not None else t for t in times]

    async def run_until(self, target: datetime, delivery: Delivery,
                        deliver: Callable[[], Awaitable[object]] | None = None) -> None:
        """Step the clock (when it can be stepped) through each due moment up to `target`, so every
        message carries the time it was due; a wall clock just does what is due now.

        Inline (no `deliver` given: replay, tests) the delivery's paced slots are steps too. Live, a
        `deliver` that wakes the background sender is called once the due work is done.

        An item that fails on the way is not a step any more: across a jump of years its hourly
        retries would be a step an hour. It is tried again at the other due moments and at `target`."""
        for failed in self._passed_over.values():
            failed.clear()
        live = deliver is not None
        watch = None if live else delivery
        advance = self.clock.advance_to if isinstance(self.clock, SteppableClock) else None
        if self._org_ready():
            self.is_leader()        # take or renew the lease first, so the leader sees all due work
        self._step_floor = target - STEP_WINDOW
        try:
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
        finally:
            self._step_floor = None
        if advance is not None:
            advance(target)
        self.run_due()
        await (deliver or delivery.deliver)()

    async def drain(self, delivery: Delivery) -> None:
        """Deliver what is queued for now or earlier, stepping through the pacing slots."""
        end = self.clock.now()
        advance = self.clock.advance_to if isinstance(self.clock, SteppableClock) else None
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
        for kind, step in (("tickets", self._tickets), ("notices", self._notices), ("votes", self._votes),
                            ("schedules", self._schedules)):
            try:
                step()
            except Exception as exc:
                # Not an item's failure (those are handled item by item) but the step's own, such as
                # a failure to record one: the step stops for this sweep, the next steps still run.
                report_crash(log, f"due {kind}", exc)

    def _tickets(self) -> None:
        while True:
            with session(self.engine) as s:
                timers = TicketTimers(s, self.clock, OrgDirectory(s), Outbox(s, self.clock))
                key = timers.next_due(self.clock.now())
                if key is None:
                    return
                ticket_id, no, due = key
                # Each ticket's actions and their messages commit together: done once, never twice.
                self._run_item(s, DueItem("ticket", no, due, Ticket, ticket_id),
                               lambda: timers.run(s.get(Ticket, ticket_id)))

    def _notices(self) -> None:
        while True:
            with session(self.engine) as s:
                notices = NoticeService(s, self.clock, OrgDirectory(s), Outbox(s, self.clock))
                due = notices.due(self.clock.now(), limit=1)
                if not due:
                    return
                notice = due[0]
                self._run_item(s, DueItem("notice", notice.no, notice.next_action_at, Notice, notice.id),
                               lambda: notices.run_deadline(notice))

    def _votes(self) -> None:
        while True:
            with session(self.engine) as s:
                votes = VoteService(s, self.clock, OrgDirectory(s), Outbox(s, self.clock))
                due = votes.due(self.clock.now(), limit=1)
                if not due:
                    return
                vote = due[0]
                self._run_item(s, DueItem("vote", vote.no, vote.next_action_at, Vote, vote.id),
                               lambda: votes.run_deadline(vote))

    def _schedules(self) -> None:
        for schedule in self.schedules:
            with session(self.engine) as s:
                now = self.clock.now()
                org = OrgDirectory(s)
                run = s.get(ScheduleRun, schedule.name)
                if run is None:
                    # First start: schedules begin now, no digests for the past.
                    s.add(ScheduleRun(name=schedule.name, last_fire_at=now))
                    s.commit()
                    self._next_fire.pop(schedule.name, None)
                    continue
                retry = failures.retry_times(s, "schedule").get(schedule.name)
                fired = self._latest_fire(schedule, run.last_fire_at, now, org.settings.tz)
                if fired is None or retry is not None and retry > now:
                    continue
                if self._run_item(s, DueItem("schedule", schedule.name, fired),
                                  lambda: self._fire(s, org, schedule, run, fired, now)):
                    self._next_fire.pop(schedule.name, None)

    def _fire(self, s: Session, org: OrgDirectory, schedule: Schedule, run: ScheduleRun, fired: datetime,
              now: datetime) -> None:
        schedule.job(s, org, Outbox(s, self.clock), fired, now)
        run.last_fire_at = fired
        s.add(run)

    def _run_item(self, s: Session, item: DueItem, work: Callable[[], object]) -> bool:
        """Do one due item and commit; if it raises, roll back, record and report it, and put it off."""
        try:
            work()
            recovered = failures.clear(s, item)
            s.commit()
        except Exception as exc:
            s.rollback()
            self._failed(item, exc)
            return False
        if recovered is not None:
            log.warning("due work for %s %s succeeded after %d failed attempts", item.kind, item.key,
                        recovered.failures)
        return True

    def _failed(self, item: DueItem, exc: Exception) -> None:
        try:
            with session(self.engine) as s:
                tz = OrgDirectory(s).settings.tz
                failure, news = failures.record(s, item, describe(exc), self.clock.now())
                s.commit()
        except Exception:
            report_crash(log, "due work", exc, kind=item.kind, item=item.key, due=item.due.isoformat())
            raise
        finally:
            self._passed_over[item.kind].add(item.key if item.row_id is None else item.row_id)
        # Reported once: the same error again at each retry only counts up (gridbot doctor shows it).
        if news:
            report_crash(log, "due work", exc, kind=item.kind, item=item.key,
                         due=failure.due_at.astimezone(tz).isoformat(timespec="minutes"), attempt=failure.failures,
                         retry_at=failure.retry_at.astimezone(tz).isoformat(timespec="minutes"))

    @staticmethod
    def _latest_fire(schedule: Schedule, last: datetime, now: datetime, tz) -> datetime | None:
        """The latest fire time in (last, now]: after downtime a digest is sent once, not once per day missed."""
        trigger = schedule.trigger(tz)
        fired = None
        last = max(last, now - LOOKBACK)          # a jump of decades is not walked day by day
        nxt = trigger.get_next_fire_time(last, last + TINY)
        while nxt is not None and nxt <= now:
            fired = nxt
            nxt = trigger.get_next_fire_time(nxt, nxt + TINY)
        return fired
