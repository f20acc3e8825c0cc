"""The running bot: one dispatch path (dedup → unit of work → handler → commit → send) shared by
every transport, and one error path for handlers."""
from __future__ import annotations

import logging

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.clock import Clock
from bot.dispatch import Context, Dispatcher
from bot.domain.org import NotImported, OrgDirectory
from bot.domain.texts import NO_ORG
from bot.domain.tickets import Actor, TicketService
from bot.errors import UserError
from bot.outbox import Outbox
from bot.storage.db import session
from bot.storage.models import SeenMessage
from bot.transport import Incoming, Outgoing, Transport

log = logging.getLogger("gridbot")

APOLOGY = "抱歉，处理这条消息时出错了，已记录，请稍后再试。"


class Bot:
    def __init__(self, engine: Engine, clock: Clock, dispatcher: Dispatcher, classifier, transport: Transport):
        self.engine = engine
        self.clock = clock
        self.dispatcher = dispatcher
        self.classifier = classifier
        self.transport = transport

    async def run(self) -> None:
        await self.transport.start(self.dispatch)

    async def dispatch(self, msg: Incoming) -> None:
        outbox = Outbox()
        with session(self.engine) as s:
            if not self._first_sighting(s, msg):
                return
            org = OrgDirectory(s)
            ctx = Context(msg=msg, actor=self._actor(org, msg), room=org.room(msg.room_id, msg.room_topic),
                          org=org, tickets=TicketService(s, self.clock, org, outbox), clock=self.clock,
                          outbox=outbox, services={"classifier": self.classifier, "dispatcher": self.dispatcher})
            try:
                await self.dispatcher.handle(ctx)
                s.commit()
            except (UserError, NotImported) as err:
                s.rollback()
                self._record_seen(s, msg)
                outbox.drain()
                ctx.reply(err.reply if isinstance(err, UserError) else NO_ORG)
            except Exception:
                s.rollback()
                self._record_seen(s, msg)
                outbox.drain()
                log.exception("handler failed: msg_id=%s room=%s sender=%s", msg.msg_id, msg.room_topic,
                              msg.sender_id)
                ctx.reply(APOLOGY)
        await self.send_all(outbox.drain())

    async def send_all(self, messages: list[Outgoing]) -> None:
        for out in messages:
            await self.transport.send(out)

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

    def _record_seen(self, s, msg: Incoming) -> None:
        s.add(SeenMessage(msg_id=msg.msg_id, at=self.clock.now()))
        s.commit()

    @staticmethod
    def _actor(org: OrgDirectory, msg: Incoming) -> Actor:
        # Display names never grant anything: the org file's name for a known id, else what WeChat shows.
        known = org.name_of(msg.sender_id)
        name = known if known != msg.sender_id else (msg.sender_name or msg.sender_id)
        return Actor(contact_id=msg.sender_id, name=name)


