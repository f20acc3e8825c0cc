"""Routing a message to a handler: command parsing, routers, the per-message context.

Dispatch order: a message that starts with a command prefix (after any leading @mentions, or as
the reply of a WeChat quoted reply) goes to exactly one command handler; every other message goes to the natural-text handlers in the
order their routers were included, and the first one that returns True ends the dispatch.
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.domain import permissions
from bot.domain.board_login import BoardLogins
from bot.domain.greetings import Greetings
from bot.domain.org import OrgDirectory, Room
from bot.domain.notices import NoticeService
from bot.domain.reminders import Reminders
from bot.domain.stats import AdminView
from bot.domain.tickets import Actor, TicketService
from bot.domain.unsure import UnsureService
from bot.domain.visits import VisitService
from bot.domain.votes import VoteService
from bot.errors import UserError
from bot.transport import Incoming, Outgoing
from nlp import Classifier
from nlp.classifier import split_quote
from nlp.timeexpr import TimeExprError, split_time

MAX_TEXT = 2000     # longer messages are not read: a command is refused, natural text answered (handlers/reports.py)
COMMAND_PREFIXES = "#＃/"
_LEADING_MENTIONS = re.compile(r"^(?:@[^\s\u2005]+[\s\u2005]+)+")
_COMMAND_NAME = re.compile(r"[\u4e00-\u9fff]{1,8}|[A-Za-z]+")
_NUMBER = re.compile(r"^([A-Za-z]?)(\d{1,9})$")


@dataclass
class Context:
    """One message being handled: what was said, by whom, where, and the domain services of its unit
    of work. Handlers parse, call a service and format; they never touch the session or the outbox."""

    msg: Incoming
    actor: Actor
    room: Room                       # the org's node or department room it was said in, if any
    account: str                     # the bot account that received it
    org: OrgDirectory
    tickets: TicketService
    notices: NoticeService
    unsure: UnsureService
    admin: AdminView
    reminders: Reminders
    greetings: Greetings             # the hello for 1:1 chatter
    votes: VoteService
    visits: VisitService
    clock: Clock
    classifier: Classifier
    dispatcher: Dispatcher
    reply_to: Callable[..., object]          # Outbox.post
    quoted: str | None = None        # a command sent as a quoted reply: the quoted message's text
    logins: BoardLogins | None = None   # the web board's one-time codes (#登录)

    def reply(self, text: str, mentions: tuple[str, ...] = (), file_path: str | None = None) -> None:
        """Answer where the message came from, through the bot account that received it (with several
        accounts — WeChat and WeCom — only that one can reach the sender)."""
        self.reply_to(Outgoing.at(self.msg.address, text, mentions, file_path=file_path), account=self.account)


CommandHandler = Callable[[Context, str], Awaitable[str | None]]
TextHandler = Callable[[Context], Awaitable[bool]]


@dataclass(frozen=True)
class Command:
    name: str
    handler: CommandHandler
    usage: str
    summary: str            # who may use it: bot/domain/permissions.py, one table


class Router:
    """One feature's handlers; included explicitly into the Dispatcher in one place."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.commands: list[Command] = []
        self.text_handlers: list[TextHandler] = []

    def command(self, name: str, *, usage: str, summary: str):
        def register(fn: CommandHandler) -> CommandHandler:
            self.commands.append(Command(name, fn, usage, summary))
            return fn
        return register

    def text(self, fn: TextHandler) -> TextHandler:
        self.text_handlers.append(fn)
        return fn


@dataclass(frozen=True)
class ParsedCommand:
    name: str
    args: str


def parse_command(text: str, known: set[str]) -> ParsedCommand | None:
    """`#办结 T12 已修好` → ("办结", "T12 已修好"). Leading @mentions are allowed. A `/` prefix counts only
    for known commands, so WeChat's `/::)` emoticons and paths are not mistaken for commands."""
    body = _LEADING_MENTIONS.sub("", text.strip()).lstrip()
    if not body or body[0] not in COMMAND_PREFIXES:
        return None
    prefix, rest = body[0], body[1:].lstrip()
    for name in sorted(known, key=len, reverse=True):
        if rest.startswith(name):
            return ParsedCommand(name, rest[len(name):].strip())
    match = _COMMAND_NAME.match(rest)
    if match is None or prefix == "/":
        return None
    return ParsedCommand(match.group(0), rest[match.end():].strip())


def parse_number(token: str, prefix: str, what: str, usage: str) -> str:
    """A numbered thing's number: with prefix "T", `T12`, `t12`, `Ｔ１２` or `12` → `T12`."""
    match = _NUMBER.match(unicodedata.normalize("NFKC", token.strip()))
    if match is None or match.group(1).upper() not in ("", prefix):
        raise UserError(f"{what}格式不对：{token}。用法：{usage}")
    return f"{prefix}{int(match.group(2))}"


def parse_ticket_no(token: str, usage: str) -> str:
    return parse_number(token, "T", "工单号", usage)


_TICKET_HEAD = re.compile(r"^\s*([TtＴｔ]?[0-9０-９]{1,9})(?=$|[\s:：,，、。;；])[\s:：,，、。;；]*(.*)$", re.DOTALL)


def split_ticket(args: str) -> tuple[str, str]:
    """`T12 已修好`, `T12：已修好`, `t12，已修好` → ("T12", "已修好"); otherwise the first word and the rest."""
    match = _TICKET_HEAD.match(args)
    if match:
        return match.group(1), match.group(2).strip()
    token, rest = split_args(args, 2)
    return token, rest.strip()


def split_when(args: str, now: datetime, usage: str, missing: str) -> tuple[datetime, str]:
    """`明天9点 交材料` → (the moment, "交材料") as the county says times (`now` in its zone); a time
    it cannot read or no text after it is a UserError with the usage line (`missing`: what to write)."""
    try:
        when, text = split_time(args, now)
    except TimeExprError as err:
        raise UserError(f"{err}。用法：{usage}") from err
    if not text:
        raise UserError(f"请写上{missing}。用法：{usage}")
    return when, text


def split_args(args: str, count: int) -> list[str]:
    """Split off the first `count - 1` whitespace-separated words; the last part keeps its spaces."""
    parts = args.split(maxsplit=count - 1)
    return parts + [""] * (count - len(parts))


class Dispatcher:
    def __init__(self) -> None:
        self.commands: dict[str, Command] = {}
        self.text_handlers: list[TextHandler] = []

    def include_routers(self, *routers: Router) -> None:
        for router in routers:
            for cmd in router.commands:
                if cmd.name in self.commands:
                    raise ValueError(f"command {cmd.name} registered twice")
                if cmd.name not in permissions.RULES:
                    raise ValueError(f"command {cmd.name} has no rule in bot/domain/permissions.py")
                self.commands[cmd.name] = cmd
            self.text_handlers.extend(router.text_handlers)

    async def handle(self, ctx: Context) -> None:
        parsed = parse_command(ctx.msg.text, set(self.commands)) if ctx.msg.kind == "text" else None
        if parsed is None and ctx.msg.kind == "text" and (quoted := split_quote(ctx.msg.text)) is not None:
            # A WeChat quoted reply whose reply is a command («「张三：…」- - - #上报»).
            parsed = parse_command(quoted[1], set(self.commands))
            ctx.quoted = quoted[0] if parsed is not None and quoted[0] else None
        if parsed is None:
            for handler in self.text_handlers:
                if await handler(ctx):
                    return
            return
        if len(ctx.msg.text) > MAX_TEXT:
            raise UserError(f"消息过长（超过{MAX_TEXT}字），请精简后再发。")
        cmd = self.commands.get(parsed.name)
        if cmd is None:
            raise UserError(self._unknown(parsed.name))
        refused = permissions.refusal(cmd.name, ctx.org, ctx.actor.contact_id, ctx.room.node)
        if refused is not None:
            raise UserError(refused)
        reply = await cmd.handler(ctx, parsed.args)
        if reply:
            ctx.reply(reply)

    def _unknown(self, name: str) -> str:
        # The closest command; among equally close ones the first registered (the everyday ones come
        # first: #办理 is #受理, not #督办).
        score, close = max(((difflib.SequenceMatcher(None, name, c).ratio(), c) for c in self.commands),
                           key=lambda scored: scored[0], default=(0, ""))
        hint = f"您是不是要用 #{close}？" if score > 0 else ""
        return f"没有“#{name}”这个命令。{hint}发送 #帮助 查看可用命令。"

    def offered(self, ctx: Context) -> list[Command]:
        """What #帮助 lists: the commands the table lets the sender use here (a dry run of the rule)."""
        return [c for c in self.commands.values()
                if permissions.offered(c.name, ctx.org, ctx.actor.contact_id, ctx.room.node)]
