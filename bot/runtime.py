"""Assembling a running bot from settings: database, org import, classifier, transport."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TextIO

from sqlalchemy.engine import Engine
from sqlmodel import select

import nlp
from bot.app import Bot
from bot.clock import Clock, OffsetClock, SystemClock, VirtualClock
from bot.config import Config
from bot.domain.org import OrgDirectory
from bot.orgfile import load_org_file
from bot.storage.db import make_engine, session
from bot.storage.models import DepartmentRoom, Membership
from bot.transports.console import ConsoleDirectory, ConsoleTransport, Person
from bot.transports.replay import ReplayTransport
from handlers import build_dispatcher
from scheduler import DueWork
from scheduler.production import start_scheduler

log = logging.getLogger("gridbot")


def load_classifier(config: Config):
    logging.getLogger("jieba").setLevel(logging.WARNING)
    return nlp.load(cache_dir=config.cache_dir, extra_lexicon=config.lexicon)


def import_org(engine: Engine, path: str, clock: Clock | None = None) -> dict[str, int]:
    """Validate the whole file first (raises OrgFileError), then sync it in one transaction."""
    spec = load_org_file(path)
    with session(engine) as s:
        counts = OrgDirectory(s).import_spec(spec, (clock or SystemClock()).now())
        s.commit()
    return counts


def console_directory(engine: Engine) -> ConsoleDirectory:
    with session(engine) as s:
        org = OrgDirectory(s)
        settings = org.settings
        nodes = org.nodes()
        rooms = [n.room_topic for n in nodes if n.room_topic]
        people = []
        by_id = {n.id: n for n in nodes}
        rooms += [d.room_topic for d in s.exec(select(DepartmentRoom).order_by(DepartmentRoom.code)).all()
                  if d.room_topic]
        for m in s.exec(select(Membership).order_by(Membership.id)).all():
            where = by_id[m.node_id].path if m.node_id in by_id else (m.department or "")
            people.append(Person(m.contact_id, m.name, m.role, where))
        return ConsoleDirectory(county=settings.county, tz=settings.tz, rooms=tuple(rooms), people=tuple(people))


def console_bot(config: Config, stdin: TextIO | None = None, stdout: TextIO | None = None) -> Bot:
    engine = make_engine(config.db)
    clock = OffsetClock()
    if config.org:
        import_org(engine, config.org, clock)
    transport = ConsoleTransport(console_directory(engine), clock, stdin=stdin, stdout=stdout)
    bot = Bot(engine, clock, build_dispatcher(), load_classifier(config), transport, DueWork(engine, clock),
              pace=timedelta(seconds=config.send_interval), sleep=asyncio.sleep)
    transport.on_tick = bot.tick
    return bot


def replay_bot(config: Config, lines: Iterable[str], out: TextIO | None = None, err: TextIO | None = None,
               classifier=None) -> Bot:
    engine = make_engine(config.db)
    clock = VirtualClock(datetime(1970, 1, 1, tzinfo=UTC))
    if config.org:
        import_org(engine, config.org, SystemClock())
    transport = ReplayTransport(lines, clock, out=out, err=err)
    bot = Bot(engine, clock, build_dispatcher(), classifier or load_classifier(config), transport,
              DueWork(engine, clock), pace=timedelta(seconds=config.send_interval))
    transport.on_tick = bot.tick
    transport.on_end = bot.finish
    return bot


async def run_live(bot: Bot) -> None:
    """Run with APScheduler driving the due work (production and the terminal demo)."""
    scheduler = start_scheduler(bot, bot.tz)
    try:
        await bot.run()
    finally:
        scheduler.shutdown(wait=False)
