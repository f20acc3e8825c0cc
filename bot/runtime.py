"""Assembling a running bot from settings: database, org import, classifier, transport."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import Engine
from sqlmodel import select

import nlp
from bot.app import Bot
from bot.clock import Clock, OffsetClock, SystemClock, VirtualClock
from bot.config import Config
from bot.domain.org import OrgDirectory
from bot.domain.orgfile import load_org_file
from bot.domain.removed import move_up_orphaned_tickets
from bot.outbox import Delivery
from bot.storage.db import make_engine, session
from bot.storage.models import DepartmentRoom, Membership
from bot.transport.console import ConsoleDirectory, ConsoleTransport, Person
from bot.transport.replay import ReplayTransport
from bot.transport import Hooks
from handlers import build_dispatcher
from scheduler import DueWork
from scheduler.production import start_scheduler

log = logging.getLogger("gridbot")


def load_classifier(config: Config):
    logging.getLogger("jieba").setLevel(logging.WARNING)
    return nlp.load(cache_dir=config.cache_dir, extra_lexicon=config.lexicon)


def county_classifier(config: Config, explicit_db: bool = True):
    """The classifier with the database's own weights (`gridbot train`) when it has them. The
    default SQLite database is only read when its file already exists (nothing is created)."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    from bot.domain.learning import CountyClassifier

    classifier = load_classifier(config)
    url = make_url(config.db)
    if not explicit_db and url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        return classifier
    with session(make_engine(config.db)) as s:
        return CountyClassifier(classifier).refresh(s)


def import_org(engine: Engine, path: str, clock: Clock | None = None) -> dict[str, int]:
    """Validate the whole file first (raises OrgFileError), then sync it in one transaction."""
    spec = load_org_file(path)
    clock = clock or SystemClock()
    with session(engine) as s:
        counts = OrgDirectory(s).import_spec(spec, clock.now())
        # A grid gone from the file leaves no ticket behind with it (bot/domain/removed.py).
        move_up_orphaned_tickets(s, clock)
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
        start = next((n.room_topic for n in sorted(nodes, key=lambda n: -n.depth) if n.room_topic), None)
        return ConsoleDirectory(county=settings.county, tz=settings.tz, rooms=tuple(rooms), people=tuple(people),
                                start_room=start)


def open_database(config: Config, clock: Clock):
    """The configured database, migrated, with the org file imported first when one is given."""
    engine = make_engine(config.db)
    if config.org:
        import_org(engine, config.org, clock)
    return engine


def build_bot(config: Config, engine, clock: Clock, transport, *, live: bool, classifier=None,
              hooks: Hooks = Hooks()) -> Bot:
    """The one way a bot is put together; the transports differ only in what they bring."""
    return Bot(engine, clock, build_dispatcher(), classifier or load_classifier(config), transport,
               DueWork(engine, clock), pace=timedelta(seconds=config.send_interval), live=live,
               export_dir=config.export_dir, account=config.account, hooks=hooks)


def console_bot(config: Config, stdin: TextIO | None = None, stdout: TextIO | None = None,
                classifier=None) -> Bot:
    clock = OffsetClock(start=config.start_at)
    engine = open_database(config, clock)
    transport = ConsoleTransport(console_directory(engine), clock, stdin=stdin, stdout=stdout,
                                 real_time=config.start_at is None)

    async def jump(target: datetime) -> None:
        # During a /time jump messages go out inline, as in replay: the pacing slots are steps of the
        # stopped clock instead of real sleeps, so each goes out at the moment it was due.
        await bot.due_work.run_until(target, inline)
        await bot.deliver()          # what is paced beyond the target goes on live

    bot = build_bot(config, engine, clock, transport, live=True, classifier=classifier, hooks=Hooks(tick=jump))
    inline = Delivery(engine, clock, transport, lambda: bot.tz, pace=bot.delivery.pace, account=config.account,
                      process=bot.due_work.holder)
    return bot


def replay_bot(config: Config, lines: Iterable[str], out: TextIO | None = None, err: TextIO | None = None,
               classifier=None) -> Bot:
    engine = open_database(config, SystemClock())    # the org's import time is real, the scenario's is not
    clock = VirtualClock(datetime(1970, 1, 1, tzinfo=UTC))
    transport = ReplayTransport(lines, clock, out=out, err=err)
    return build_bot(config, engine, clock, transport, live=False, classifier=classifier)


def live_clock(config: Config) -> Clock:
    """A chat transport's clock: the wall clock, or started at `--start-at` and running on from there."""
    return OffsetClock(start=config.start_at) if config.start_at else SystemClock()


def attachments_dir(config: Config) -> Path:
    """Where a chat transport saves the pictures and files people send."""
    return Path(config.attachments_dir).expanduser().resolve()


def wechaty_bot(config: Config, clock: Clock | None = None, classifier=None) -> Bot:
    """The production bot on WeChat. The wechaty SDK is imported only here, when it is chosen."""
    from bot.config import ConfigError
    from bot.domain.bindings import bind_rooms_found

    if not config.wechaty_endpoint or not config.wechaty_token:
        raise ConfigError("wechaty 通道需要 puppet 服务的地址和令牌：设置环境变量 WECHATY_PUPPET_SERVICE_ENDPOINT 和 "
                          "WECHATY_PUPPET_SERVICE_TOKEN（或配置文件的 wechaty_endpoint、wechaty_token）")
    try:
        from bot.transport.wechaty import WechatySettings, WechatyTransport
    except ImportError as err:
        raise ConfigError(f"wechaty 通道需要可选依赖：pip install 'gridbot[wechaty]'（{err}）") from err
    clock = clock or live_clock(config)
    engine = open_database(config, clock)
    transport = WechatyTransport(WechatySettings(
        token=config.wechaty_token, endpoint=config.wechaty_endpoint,
        attachments_dir=attachments_dir(config), plugin_port=config.wechaty_port,
        login_timeout=config.login_timeout))

    async def logged_in(rooms) -> None:
        # Bind the org's groups first, so messages queued under a topic go to the right group id.
        bind_rooms_found(engine, [(r.room_id, r.topic) for r in rooms], account=config.account)
        await bot.deliver()

    bot = build_bot(config, engine, clock, transport, live=True, classifier=classifier, hooks=Hooks(login=logged_in))
    return bot


def wecom_bot(config: Config, clock: Clock | None = None, classifier=None, **settings) -> Bot:
    """The production bot on WeCom. The WeCom SDK is imported only here, when it is chosen.
    `settings`: WecomSettings' timing fields (heartbeats, back-off), for tests."""
    from bot.config import ConfigError

    if not config.wecom_bot_id or not config.wecom_secret:
        raise ConfigError("wecom 通道需要智能机器人的 bot_id 和 secret：设置环境变量 WECOM_BOT_ID 和 WECOM_BOT_SECRET"
                          "（或配置文件的 wecom_bot_id、wecom_secret）")
    try:
        from bot.transport.wecom import WecomSettings, WecomTransport
    except ImportError as err:
        raise ConfigError(f"wecom 通道需要可选依赖：pip install 'gridbot[wecom]'（{err}）") from err
    clock = clock or live_clock(config)
    engine = open_database(config, clock)
    transport = WecomTransport(WecomSettings(
        bot_id=config.wecom_bot_id, secret=config.wecom_secret, ws_url=config.wecom_ws_url,
        attachments_dir=attachments_dir(config), login_timeout=config.login_timeout,
        **settings))

    async def logged_in(rooms) -> None:
        await bot.deliver()       # WeCom lists no groups: they are bound by #绑定, nothing to bind here

    bot = build_bot(config, engine, clock, transport, live=True, classifier=classifier, hooks=Hooks(login=logged_in))
    return bot


async def run_live(bot: Bot, board_socket=None) -> None:
    """Run with APScheduler driving the due work (production and the terminal demo); with a bound
    socket, the web board is served beside the bot in the same loop, on the same clock and database."""
    scheduler = start_scheduler(bot, bot.tz)
    board = None
    if board_socket is not None:
        from bot.board.server import serve_beside, server

        board = server(bot.engine, bot.clock, on_change=bot.deliver)
        board_task = await serve_beside(board, board_socket)
    try:
        # Sweep at start, not 15 s later: what fell due while the bot was stopped goes out at once,
        # and on a new database the digest schedules begin now (a /time jump right away includes them).
        await bot.tick()
        await bot.run()
    finally:
        scheduler.shutdown(wait=False)
        if board is not None:
            board.should_exit = True
            await board_task
