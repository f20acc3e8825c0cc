"""The test harness: a bot on a real SQLite file and a virtual clock, driven message by message
through the same dispatch path production uses."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import Bot
from bot.clock import OffsetClock, VirtualClock
from bot.domain.tickets import ticket_json, ticket_rows
from bot.runtime import import_org
from bot.storage.db import make_engine, session
from bot.transport import ForwardedItem, Incoming, Outgoing
from handlers import build_dispatcher
from scheduler import DueWork

DATA = Path(__file__).parent / "data"
ORG_SMALL = DATA / "org_small.yaml"
TZ = ZoneInfo("Asia/Shanghai")


class RecordingTransport:
    """Records what the bot sends; messages come in through Harness.say."""

    def __init__(self) -> None:
        self.sent: list[Outgoing] = []

    async def start(self, dispatch) -> None:
        pass

    async def send(self, out: Outgoing) -> None:
        self.sent.append(out)

    async def stop(self) -> None:
        pass


class Harness:
    def __init__(self, db_url: str, classifier, start: datetime, org: Path = ORG_SMALL,
                 pace: timedelta = timedelta(0), export_dir: str = "exports", running: bool = False,
                 sleep=None) -> None:
        """`running`: the clock starts at `start` and runs on with the wall clock between two reads, as
        a live bot's does (a virtual clock would hide a bug of reading it twice). `sleep`: deliver
        live, as production does — a background sender pausing with this coroutine function."""
        self.engine = make_engine(db_url)
        self.clock = OffsetClock(start=start) if running else VirtualClock(start)
        import_org(self.engine, str(org), self.clock)
        self.transport = RecordingTransport()
        self.bot = Bot(self.engine, self.clock, build_dispatcher(), classifier, self.transport,
                       DueWork(self.engine, self.clock), pace=pace, export_dir=export_dir,
                       **({"live": True, "sleep": sleep} if sleep is not None else {}))
        self._ids = itertools.count(1)

    async def say(self, sender: str, text: str, room: str | None = None, *, name: str = "",
                  after: timedelta = timedelta(minutes=1), msg_id: str | None = None, kind: str = "text",
                  items: tuple[tuple[str, str], ...] = (), attachment: str | None = None,
                  room_id: str | None = None) -> list[Outgoing]:
        """Send one message as `sender` in `room` (None: 1:1 with the bot) `after` the last one, doing
        whatever fell due in between first, as replay does; return everything the bot sent meanwhile.
        `room_id`: the transport's id of the room, when it is not its topic (as on WeChat)."""
        before = len(self.transport.sent)
        await self.bot.tick(self.clock.now() + after)
        await self.bot.dispatch(Incoming(
            msg_id=msg_id or f"m{next(self._ids)}", sender_id=sender, sender_name=name, text=text,
            room_id=room_id or room, room_topic=room, kind=kind,
            items=tuple(ForwardedItem(n, t) for n, t in items), attachment=attachment))
        await self.bot.finish()
        return self.transport.sent[before:]

    async def tick(self, until: datetime) -> list[Outgoing]:
        """Let time pass up to `until`; return what the bot sent meanwhile."""
        before = len(self.transport.sent)
        await self.bot.tick(until)
        return self.transport.sent[before:]

    def tickets(self) -> list[dict]:
        with session(self.engine) as s:
            return [ticket_json(t, path, f, TZ) for t, path, f in ticket_rows(s)]

    def ticket(self, no: str) -> dict:
        return next(t for t in self.tickets() if t["no"] == no)


def to_room(sent: list[Outgoing], topic: str) -> list[Outgoing]:
    return [o for o in sent if o.room_topic == topic and o.to is None]


def at(*args) -> datetime:
    """A moment in the county's time zone: at(2026, 11, 25, 9, 0)."""
    return datetime(*args, tzinfo=TZ)
