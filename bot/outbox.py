"""The one way out: messages are written to the outbox table inside the transaction that caused
them, then delivered in order of priority. A crash loses no queued message and doubles none.
Every text is masked here (phone and ID numbers, bot/privacy.py) on its way in."""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, or_, select, update

from bot.clock import Clock
from bot.errors import report_crash
from bot.privacy import mask_private
from bot.storage.db import hold_sole_use, session as new_session
from bot.storage.models import DepartmentRoom, Node, OutboxMessage, SendPace
from bot.transport import Outgoing, Transport, TransportUnavailable

log = logging.getLogger("gridbot.outbox")

URGENT, NORMAL, BULK = 0, 1, 2
QUIET_START = time(22, 0)
QUIET_END = time(7, 0)
LATE_AFTER = timedelta(hours=1)

# Sent as written, by kind: an admin's #通知 is staff's own text for broadcast, and the office number or
# hotline in it (咨询电话 0796-6312345) is what residents are meant to call. Every other kind is masked:
# replies, alerts, dispatches, escalations, digests and reminders can quote what a resident wrote (a
# ticket's text, a #办结 note, a 不满意 comment), and a #提醒 shares the kind of the ticket reminders.
UNMASKED_KINDS = frozenset({"notice"})
GATHER_LIMIT = 20       # items in one gathered list message; more start another (a phone screen, WeChat's length)


def quiet_until(at: datetime, tz: ZoneInfo) -> datetime | None:
    """Within quiet hours (22:00–07:00 local), the 07:00 when they end; else None."""
    local = at.astimezone(tz)
    if local.time() >= QUIET_START:
        return datetime.combine(local.date() + timedelta(days=1), QUIET_END, tz)
    if local.time() < QUIET_END:
        return datetime.combine(local.date(), QUIET_END, tz)
    return None


class Outbox:
    """Queues messages in the caller's transaction."""

    def __init__(self, session: Session, clock: Clock) -> None:
        self.s = session
        self.clock = clock

    def post(self, out: Outgoing, *, kind: str = "reply", not_before: datetime | None = None,
             priority: int | None = None, late_after: datetime | None = None,
             account: str | None = None) -> OutboxMessage:
        now = self.clock.now()
        text = out.text if kind in UNMASKED_KINDS else mask_private(out.text)
        row = OutboxMessage(
            created_at=now, not_before=not_before or now,
            priority=priority if priority is not None else (URGENT if out.urgent else NORMAL),
            kind=kind, account=account, room_id=out.room_id, room_topic=out.room_topic, to=out.to, text=text,
            mentions=" ".join(out.mentions), file_path=out.file_path, late_after=late_after)
        self.s.add(row)
        return row

    def to_room(self, room: Node | DepartmentRoom, text: str, mentions: tuple[str, ...] = (),
                urgent: bool = False, **options) -> OutboxMessage | None:
        """Post to a node's or department's room; None when it has no room."""
        if room.address is None:
            return None
        return self.post(Outgoing.at(room.address, text, mentions, urgent=urgent), account=room.account, **options)

    def gather(self, out: Outgoing, item: str, tail: str, compose: Callable[[list[str], str], str], *,
               kind: str, not_before: datetime, priority: int, late_after: datetime | None = None,
               account: str | None = None) -> OutboxMessage:
        """Post `item` (with `tail` after it), or add it to a message of the same kind still waiting
        for the same place that would go out at the same moment: escalations and reminders due in one
        sweep (or held by the same quiet hours) reach a room as one list, composed by `compose(items,
        tail)`. Each due action still commits on its own with the row that records it; a row already
        claimed for sending is never changed (the item then starts a new message)."""
        now = self.clock.now()
        item, tail = mask_private(item), mask_private(tail)
        goes_out = max(not_before, now)
        waiting = self.s.exec(
            select(OutboxMessage).where(
                OutboxMessage.status == "pending", OutboxMessage.kind == kind, OutboxMessage.priority == priority,
                OutboxMessage.gathered.is_not(None), _same(OutboxMessage.room_id, out.room_id),
                _same(OutboxMessage.room_topic, out.room_topic), _same(OutboxMessage.to, out.to),
                _same(OutboxMessage.account, account))
            .order_by(col(OutboxMessage.id).desc()).limit(20).with_for_update(skip_locked=True)).all()
        for row in waiting:
            held = json.loads(row.gathered)
            if max(row.not_before, now) != goes_out or held["tail"] != tail or len(held["items"]) >= GATHER_LIMIT:
                continue
            items = [*held["items"], item]
            changed = self.s.execute(
                update(OutboxMessage).where(col(OutboxMessage.id) == row.id, col(OutboxMessage.status) == "pending")
                .values(text=compose(items, tail), gathered=json.dumps({"items": items, "tail": tail}),
                        mentions=" ".join(dict.fromkeys([*row.mentions.split(), *out.mentions])),
                        late_after=min(filter(None, (row.late_after, late_after)), default=None))).rowcount
            if changed == 1:
                self.s.expire(row)
                return row
        row = self.post(replace(out, text=compose([item], tail)), kind=kind, not_before=not_before,
                        priority=priority, late_after=late_after, account=account)
        row.gathered = json.dumps({"items": [item], "tail": tail})
        return row


def _same(column, value):
    return column.is_(None) if value is None else column == value


def late_note(row: OutboxMessage, now: datetime, tz: ZoneInfo) -> str:
    """A scheduled message going out over an hour after it was due (the bot was down) says so.
    One held back by quiet hours is not late: it goes out when it was meant to."""
    if row.late_after is None or now - max(row.late_after, row.not_before) <= LATE_AFTER:
        return ""
    due = row.late_after.astimezone(tz)
    return f"（补发：原定 {due.month}月{due.day}日 {due:%H:%M}，机器人当时离线）\n"


def next_pending_at(s: Session) -> datetime | None:
    return s.exec(select(func.min(OutboxMessage.not_before)).where(OutboxMessage.status == "pending")).first()


DEFAULT_PACE = timedelta(seconds=1.5)
DEFAULT_ACCOUNT = "default"


class Delivery:
    """Sends due outbox rows through the transport, most urgent first, at most one message per
    `pace` per bot account.

    Two modes, chosen by whoever builds it. Live (production, the terminal demo): one background
    worker sends and waits out the pace by sleeping, so a long fan-out never holds up handling the
    next message and pacing is never shared by two senders. Inline (`live=False`: replay, tests, a
    /time jump): `deliver` sends what is due now and stops at the next paced slot, which it reports
    through `next_at` for the caller to step the clock to — so each message carries the time it
    would really have gone out."""

    def __init__(self, engine: Engine, clock: Clock, transport: Transport, tz: Callable[[], ZoneInfo],
                 pace: timedelta = DEFAULT_PACE, live: bool = False, account: str = DEFAULT_ACCOUNT,
                 process: str = "", sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.engine = engine
        self.clock = clock
        self.transport = transport
        self.tz = tz
        self.pace = pace
        self.live = live
        self.sleep = sleep
        self.account = account
        self.process = process
        self.blocked = False       # the transport was unavailable at the last attempt
        self._wake = asyncio.Event()
        self._worker: asyncio.Task | None = None
        hold_sole_use(engine.url, self)     # one SQLite file, one bot process

    async def kick(self) -> None:
        """Send what is due: inline now, or, live, by waking the one background worker."""
        if not self.live:
            await self.deliver()
            return
        self._wake.set()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name="delivery")

    async def drained(self) -> None:
        """Wait until the live worker has sent everything due."""
        if self._worker is not None:
            await self._worker

    def cancel(self) -> None:
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()

    async def _work(self) -> None:
        while self._wake.is_set():
            self._wake.clear()
            try:
                await self.deliver()
            except Exception as exc:
                report_crash(log, "delivery (queued messages wait for the next sweep)", exc)
                return

    def _record_pace(self, s: Session, at: datetime) -> None:
        pace = s.get(SendPace, self.account)
        if pace is None:
            s.add(SendPace(account=self.account, last_sent_at=at))
        else:
            pace.last_sent_at = max(pace.last_sent_at, at)
            s.add(pace)
        try:
            s.commit()
        except IntegrityError:       # another process of the same account recorded its first send
            s.rollback()

    def _slot(self, s: Session) -> datetime | None:
        pace = s.get(SendPace, self.account)
        return pace.last_sent_at + self.pace if pace is not None and self.pace else None

    def _mine(self):
        return or_(OutboxMessage.account == self.account, OutboxMessage.account.is_(None))

    def next_at(self) -> datetime | None:
        """When the next queued message can go out (its own time, or the account's next slot)."""
        with new_session(self.engine) as s:
            due = s.exec(select(func.min(OutboxMessage.not_before))
                         .where(OutboxMessage.status == "pending", self._mine())).first()
            if due is None:
                return None
            slot = self._slot(s)
            return max(due, slot) if slot else due

    def finish_estimate(self, start: datetime, extra: int) -> datetime:
        """When `extra` more bulk messages queued from `start` will have gone out, behind what waits."""
        with new_session(self.engine) as s:
            ahead = s.exec(select(func.count()).select_from(OutboxMessage)
                           .where(OutboxMessage.status == "pending", col(OutboxMessage.not_before) <= start)).one()
            slot = self._slot(s)
        first = max(start, slot) if slot else start
        return first + self.pace * max(ahead + extra - 1, 0)

    async def deliver(self) -> int:
        sent = 0
        self.blocked = False
        while True:
            with new_session(self.engine) as s:
                now = self.clock.now()
                # SKIP LOCKED only spares PostgreSQL processes from queueing behind each other's rows
                # (SQLite ignores it); what makes a row go to exactly one process is the claim below.
                row = s.exec(select(OutboxMessage)
                             .where(OutboxMessage.status == "pending", col(OutboxMessage.not_before) <= now,
                                    self._mine())
                             .order_by(OutboxMessage.priority, OutboxMessage.not_before, OutboxMessage.id)
                             .limit(1).with_for_update(skip_locked=True)).first()
                if row is None:
                    return sent
                slot = self._slot(s)
                if slot is not None and slot > now:
                    if not self.live:
                        return sent
                    wait = (slot - now).total_seconds()
                else:
                    wait = 0.0
                    if not self._claim(s, row):
                        continue            # another process took it between the query and the claim
                    if not await self._send_one(s, row, now):
                        return sent
                    sent += 1
            if wait:
                await self.sleep(wait)

    def _claim(self, s: Session, row: OutboxMessage) -> bool:
        """Mark the row `sending` by this process, committed before the transport is called. One
        conditional UPDATE: of several processes racing for the row, on any backend, exactly one
        sees it still pending and changes it."""
        claimed = s.execute(update(OutboxMessage)
                            .where(col(OutboxMessage.id) == row.id, col(OutboxMessage.status) == "pending")
                            .values(status="sending", claimed_by=self.process)).rowcount
        s.commit()
        return claimed == 1

    async def _send_one(self, s: Session, row: OutboxMessage, now: datetime) -> bool:
        """Send a claimed row, mark it sent. False when the transport is unavailable (the row waits)."""
        out = Outgoing(text=late_note(row, now, self.tz()) + row.text, room_id=row.room_id, to=row.to,
                       room_topic=row.room_topic, mentions=tuple(row.mentions.split()),
                       urgent=row.priority == URGENT, file_path=row.file_path)
        try:
            await self.transport.send(out)
        except TransportUnavailable:
            # Disconnected: the message waits, in order, for the next delivery after reconnecting.
            row.status = "pending"
            row.claimed_by = None
            s.add(row)
            s.commit()
            self.blocked = True
            return False
        except Exception as exc:
            report_crash(log, "send (the message returns to the queue)", exc, outbox_id=row.id)
            row.status = "pending"
            s.add(row)
            s.commit()
            raise
        row.status = "sent"
        row.sent_at = self.clock.now()
        s.add(row)
        s.commit()
        self._record_pace(s, row.sent_at)
        return True
