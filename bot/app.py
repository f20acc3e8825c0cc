"""The running bot: one dispatch path (dedup → unit of work → handler → commit → deliver) shared by
every transport, one error path for handlers, and the due-work entry point for the scheduler."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.dispatch import Context, Dispatcher
from bot.domain.board_login import BoardLogins
from bot.domain.learning import CountyClassifier
from bot.domain.greetings import Greetings
from bot.domain.notices import NoticeService
from bot.domain.reminders import Reminders
from bot.domain.stats import AdminView
from bot.domain.unsure import UnsureService
from bot.domain.visits import VisitService
from bot.domain.votes import VoteService
from bot.domain.org import NotImported, OrgDirectory
from bot.domain.texts import NO_ORG
from bot.domain.tickets import Actor, TicketService
from bot.errors import UserError, report_crash
from bot.outbox import DEFAULT_ACCOUNT, DEFAULT_PACE, Delivery, Outbox
from bot.storage.db import session
from bot.storage.models import SeenMessage
from bot.transport import Hooks, Incoming, Transport, clean_incoming

log = logging.getLogger("gridbot")

APOLOGY = "抱歉，处理这条消息时出错了，已记录，请稍后再试。"


class Bot:
    def __init__(self, engine: Engine, clock: Clock, dispatcher: Dispatcher, classifier, transport: Transport,
                 due_work=None, pace: timedelta = DEFAULT_PACE, live: bool = False, export_dir: str = "exports",
                 account: str = DEFAULT_ACCOUNT, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 hooks: Hooks = Hooks()):
        """`live`: a real clock and a background sender that sleeps out the pace with `sleep`
        (production, the demo); otherwise inline delivery on a steppable clock (replay, tests).
        `hooks`: what the transport may call besides dispatch; by default a tick does the due work
        and the end of input lets the queue drain."""
        self.engine = engine
        self.clock = clock
        self.hooks = Hooks(tick=hooks.tick or self.tick, login=hooks.login, end=hooks.end or self.finish)
        self.dispatcher = dispatcher
        # The bundled weights, or this database's own once `gridbot train --db` saved them.
        self.classifiers = CountyClassifier(classifier)
        self.transport = transport
        self.export_dir = export_dir
        self.due_work = due_work          # scheduler.DueWork, when timing is wired in
        self.delivery = Delivery(engine, clock, transport, lambda: self.tz, pace=pace, live=live, account=account,
                                 process=due_work.holder if due_work is not None else "", sleep=sleep)
        self._tz: ZoneInfo | None = None

    @property
    def classifier(self):
        return self.classifiers.current

    @property
    def tz(self) -> ZoneInfo:
        if self._tz is None:
            with session(self.engine) as s:
                org = OrgDirectory(s)
                if not org.is_imported():
                    return ZoneInfo("Asia/Shanghai")
                self._tz = org.settings.tz
        return self._tz

    async def run(self) -> None:
        try:
            await self.deliver()
            await self.transport.start(self.dispatch, self.hooks)
            await self.delivery.drained()     # end of input: what is due now still goes out
        finally:
            self.delivery.cancel()
            self.stop()

    async def dispatch(self, msg: Incoming) -> None:
        msg = clean_incoming(msg)
        with session(self.engine) as s:
            if not self._first_sighting(s, msg):
                return
            if not self.classifiers.checked:
                self.classifiers.refresh(s)
            ctx = self._context(s, msg)
            try:
                await self.dispatcher.handle(ctx)
            except (UserError, NotImported) as err:
                self._undo(s, msg)
                ctx.reply(err.reply if isinstance(err, UserError) else NO_ORG)
            except Exception as exc:
                report_crash(log, "handler", exc, msg_id=msg.msg_id, room=msg.room_topic, sender=msg.sender_id)
                self._undo(s, msg)
                ctx.reply(APOLOGY)
            s.commit()
        await self.deliver()

    async def tick(self, until: datetime | None = None) -> None:
        """Do everything due up to `until` (default: now), in time order, then deliver. New weights
        saved by `gridbot train` are picked up here."""
        with session(self.engine) as s:
            self.classifiers.refresh(s)
        if self.due_work is not None:
            await self.due_work.run_until(until or self.clock.now(), self.delivery,
                                          self.deliver if self.delivery.live else None)
        else:
            await self.deliver()

    async def finish(self) -> None:
        """End of input (replay): let messages already queued go out at their paced times."""
        if self.due_work is not None:
            await self.due_work.drain(self.delivery)
        else:
            await self.deliver()

    def stop(self) -> None:
        if self.due_work is not None:
            self.due_work.release()

    async def deliver(self) -> None:
        """Send what is due (the delivery decides how: inline, or by waking its worker)."""
        await self.delivery.kick()

    def _context(self, s, msg: Incoming) -> Context:
        """The services of one unit of work, all on one session and one outbox."""
        org = OrgDirectory(s)
        outbox = Outbox(s, self.clock)
        tickets = TicketService(s, self.clock, org, outbox)
        return Context(
            msg=msg, actor=self._actor(org, msg), room=org.room(msg.room_id, msg.room_topic),
            account=self.delivery.account, org=org, tickets=tickets,
            notices=NoticeService(s, self.clock, org, outbox, self.delivery.finish_estimate),
            unsure=UnsureService(s, self.clock, org, tickets), admin=AdminView(s, self.clock, org, self.export_dir),
            reminders=Reminders(outbox), greetings=Greetings(s, self.clock, outbox),
            votes=VoteService(s, self.clock, org, outbox), visits=VisitService(s, self.clock, org, tickets),
            clock=self.clock, classifier=self.classifier,
            dispatcher=self.dispatcher, reply_to=outbox.post, logins=BoardLogins(s, self.clock, org))

    def _first_sighting(self, s, msg: Incoming) -> bool:
        """Record the message id; False when it was handled before (a redelivery or a replay rerun)."""
        if s.get(SeenMessage, msg.msg_id) is not None:
            return False
        s.add(SeenMessage(msg_id=msg.msg_id, at=self.clock.now()))
        try:
            s.flush()
        except IntegrityError:
            s.rollback()
            return False
        return True

    def _undo(self, s, msg: Incoming) -> None:
        """Roll back the handler's changes (and its queued messages) but keep the message as seen."""
        s.rollback()
        s.add(SeenMessage(msg_id=msg.msg_id, at=self.clock.now()))

    @staticmethod
    def _actor(org: OrgDirectory, msg: Incoming) -> Actor:
        # Display names never grant anything, nor pass for anyone: the org file's name for a known id,
        # else 居民「what WeChat shows」 (the one rule: OrgDirectory.relayed_name).
        return Actor(contact_id=msg.sender_id, name=org.relayed_name(msg.sender_id, msg.sender_name))
