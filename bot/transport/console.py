"""The terminal transport: pick who you are and which group you speak in, type messages, see every
message the bot sends to every room, and move the clock forward to watch deadlines act."""
from __future__ import annotations

import asyncio
import itertools
import os
import re
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.clock import OffsetClock
from bot.outbox import quiet_until
from bot.transport import Dispatch, ForwardedItem, Hooks, Incoming, Outgoing
from nlp.timeexpr import TimeExprError, parse_time



@dataclass(frozen=True)
class Person:
    contact_id: str
    name: str
    role: str
    where: str          # node path or department


@dataclass(frozen=True)
class ConsoleDirectory:
    """What the person at the keyboard can choose from (read from the org at start)."""

    county: str
    tz: ZoneInfo
    rooms: tuple[str, ...]          # topics
    people: tuple[Person, ...]
    start_room: str | None = None   # where the demo starts: a neighbourhood group


HELP = """\
操作（以 / 开头的英文命令由终端处理，其余内容都作为微信消息发给机器人）：
  /rooms            列出所有群            /in N|群名   到第 N 个群里说话
  /dm               与机器人私聊          /people      列出组织里的人员
  /as N|id          换成第 N 个人（或任意微信 id，未登记的人就是普通居民）
  /fwd 名字：内容    转发一条聊天记录（多条用 | 分隔：/fwd 老周：井盖翻了|老李：好危险）
  /time             查看虚拟时间          /time +4h    时钟快进（+30m、+2d、+1d4h）
  /time 09:00       快进到下一个 09:00（也可 /time 明天9点、/time 周五18点）
  /help             再看一遍本说明        /quit        退出（或 Ctrl-D）
机器人命令发 #帮助 查看。"""

TIME_USAGE = "用法：/time +4h（也可 +30m、+2d、+1d4h），或 /time 09:00、/time 明天9点"
QUIET_NOTE = "现在是免打扰时段（22:00–07:00）：机器人自动发的工单提醒、转报、日报和通知到 07:00 才发（紧急工单和 #提醒 照常）。"

_DURATION = re.compile(r"^\+?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")


def parse_advance(text: str) -> timedelta | None:
    match = _DURATION.match(text.strip().lower())
    if match is None or not any(match.groups()):
        return None
    days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def jump_target(text: str, now: datetime) -> datetime:
    """Where /time goes: `+4h` from `now`, or the next moment after `now` that a time of day or a
    Chinese time expression names (`09:00`, `明天9点`). Raises TimeExprError with the reason."""
    delta = parse_advance(text)
    return now + delta if delta is not None else parse_time(text, now)


class ConsoleTransport:
    def __init__(self, directory: ConsoleDirectory, clock: OffsetClock,
                 stdin: TextIO | None = None, stdout: TextIO | None = None, real_time: bool = True) -> None:
        self.dir = directory
        self.clock = clock
        self.real_time = real_time      # the clock started at the wall clock's time, not at --start-at
        self.hooks = Hooks()
        self.stdin = stdin or sys.stdin
        self.out = stdout or sys.stdout
        # Start as a resident in a neighbourhood group, where problems are usually reported.
        self.me = Person("wxid_demo_resident", "居民张阿姨", "resident", "")
        self.room: str | None = directory.start_room or (directory.rooms[0] if directory.rooms else None)
        # Message ids are the de-duplication key: unique across processes on one database and across
        # restarts, and taken from nothing the clock says (several processes start in the same second).
        self._id_prefix = f"console-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._ids = itertools.count(1)
        self._stopped = False

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _stamp(self) -> str:
        return f"{self.clock.now().astimezone(self.dir.tz):%m-%d %H:%M}"

    def _now(self) -> str:
        return f"{self.clock.now().astimezone(self.dir.tz):%Y-%m-%d %H:%M}"

    def _quiet(self) -> bool:
        return quiet_until(self.clock.now(), self.dir.tz) is not None

    def _where(self) -> str:
        return f"群「{self.room}」" if self.room else "与机器人私聊"

    async def start(self, dispatch: Dispatch, hooks: Hooks = Hooks()) -> None:
        self.hooks = hooks
        self._print(f"gridbot 演示 —— {self.dir.county}（示例数据）")
        origin = "现在的真实时间" if self.real_time else " --start-at 指定的时间"
        self._print(f"时钟从{origin}开始（{self._now()}），随真实时间走，可用 /time 快进。")
        if self._quiet():
            self._print(QUIET_NOTE)
        self._print(HELP)
        self._status()
        loop = asyncio.get_running_loop()
        while not self._stopped:
            line = await loop.run_in_executor(None, self.stdin.readline)
            if not line:
                break
            line = line.rstrip("\n")
            if not line.strip():
                continue
            if await self._meta(line, dispatch) is False:
                break
        self._print("再见。")

    def _status(self) -> None:
        self._print(f"[{self._stamp()}] 你是 {self.me.name}（{self.me.contact_id}，{self.me.role}），在{self._where()}")

    async def _meta(self, line: str, dispatch: Dispatch) -> bool | None:
        """Handle a terminal command; anything else is sent as a WeChat message."""
        word, _, rest = line.strip().partition(" ")
        rest = rest.strip()
        if word == "/quit":
            return False
        if word == "/help":
            self._print(HELP)
        elif word == "/rooms":
            for i, topic in enumerate(self.dir.rooms, 1):
                self._print(f"  {i:>3}. {topic}")
        elif word == "/people":
            for i, p in enumerate(self.dir.people, 1):
                self._print(f"  {i:>3}. {p.name}（{p.contact_id}，{p.role}）{p.where}")
        elif word == "/in":
            self._choose_room(rest)
        elif word == "/dm":
            self.room = None
            self._status()
        elif word == "/as":
            self._choose_person(rest)
        elif word == "/time":
            await self._time(rest)
        elif word == "/fwd":
            items = [self._item(part) for part in rest.split("|") if part.strip()]
            if not items:
                self._print("用法：/fwd 名字：内容")
            else:
                await dispatch(self._incoming("", kind="chat_history", items=tuple(items)))
        else:
            await dispatch(self._incoming(line))
        return None

    @staticmethod
    def _item(part: str) -> ForwardedItem:
        """`老周：井盖翻了` → a record line from 老周; a line without a name is kept as is."""
        match = re.match(r"^\s*([^:：]{1,20})[:：](.*)$", part)
        if match is None:
            return ForwardedItem(name="", text=part.strip())
        return ForwardedItem(name=match.group(1).strip(), text=match.group(2).strip())

    def _choose_room(self, arg: str) -> None:
        if arg.isdigit() and 1 <= int(arg) <= len(self.dir.rooms):
            self.room = self.dir.rooms[int(arg) - 1]
        else:
            matches = [t for t in self.dir.rooms if arg and arg in t]
            if len(matches) != 1:
                self._print("找不到这个群（用 /rooms 看编号）。" if not matches else "匹配到多个群：" + "、".join(matches))
                return
            self.room = matches[0]
        self._status()

    def _choose_person(self, arg: str) -> None:
        if arg.isdigit() and 1 <= int(arg) <= len(self.dir.people):
            self.me = self.dir.people[int(arg) - 1]
        elif arg:
            known = [p for p in self.dir.people if arg in (p.contact_id, p.name)]
            self.me = known[0] if known else Person(arg, arg, "resident", "")
        else:
            self._print("用法：/as 编号 或 /as 微信id")
            return
        self._status()

    async def _time(self, arg: str) -> None:
        if arg:
            try:
                target = jump_target(arg, self.clock.now().astimezone(self.dir.tz))
            except TimeExprError as err:
                self._print(f"{err}。{TIME_USAGE}")
                return
            # Stopped, the clock is stepped to each due moment in turn, so what falls due on the way
            # happens then and is stamped then (as in replay), and the jump takes no real time.
            with self.clock.stopped():
                if self.hooks.tick is not None:
                    await self.hooks.tick(target)
                self.clock.advance_to(target)
        self._print(f"现在是 {self._now()}" + ("（免打扰时段）" if self._quiet() else ""))

    def _incoming(self, text: str, kind: str = "text", items: tuple[ForwardedItem, ...] = ()) -> Incoming:
        return Incoming(msg_id=f"{self._id_prefix}-{next(self._ids)}",
                        sender_id=self.me.contact_id, sender_name=self.me.name, text=text,
                        room_id=self.room, room_topic=self.room, kind=kind, items=items)

    async def send(self, out: Outgoing) -> None:
        target = f"群「{out.room_topic}」" if out.to is None else f"私聊 {out.to}"
        body = out.text.replace("\n", "\n      ")
        self._print(f"[{self._stamp()}] 🤖 → {target}\n      {body}")
        if out.file_path:
            self._print(f"      📎 {out.file_path}")

    async def stop(self) -> None:
        self._stopped = True
