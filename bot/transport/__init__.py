"""The transport seam: plain frozen messages in and out, and the protocol every adapter implements.

No transport object (wechaty or otherwise) crosses this seam.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True, eq=False)
class Address:
    """Where a message came from or goes: a room (by the transport's id and/or the org's topic) or a
    person (1:1). One equality for "the same place": two rooms are the same when their ids match, or,
    when either has no id yet (a room not bound), when their topics match; a person is the same person."""

    room_id: str | None = None
    room_topic: str | None = None
    person: str | None = None

    @classmethod
    def room(cls, room_id: str | None, room_topic: str | None) -> Address | None:
        return cls(room_id=room_id, room_topic=room_topic) if room_id or room_topic else None

    @classmethod
    def of_person(cls, contact_id: str) -> Address:
        return cls(person=contact_id)

    @property
    def is_room(self) -> bool:
        return self.person is None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Address):
            return NotImplemented
        if self.person is not None or other.person is not None:
            return self.person == other.person
        if self.room_id and other.room_id:
            return self.room_id == other.room_id
        return bool(self.room_topic) and self.room_topic == other.room_topic

    __hash__ = None  # equality by id or topic has no consistent hash


@dataclass(frozen=True, slots=True)
class ForwardedItem:
    """One line of a forwarded chat record (WeChat "聊天记录")."""

    name: str
    text: str


@dataclass(frozen=True, slots=True)
class Incoming:
    msg_id: str
    sender_id: str
    text: str
    sender_name: str = ""
    room_id: str | None = None          # None: a 1:1 chat with the bot
    room_topic: str | None = None
    mentions: tuple[str, ...] = ()
    kind: str = "text"                  # text | image | file | chat_history
    items: tuple[ForwardedItem, ...] = ()
    attachment: str | None = None       # image/file: where the transport saved it on disk

    @property
    def address(self) -> Address:
        """Where to answer: the room it was said in, or the sender (1:1)."""
        return Address.room(self.room_id, self.room_topic) or Address.of_person(self.sender_id)


@dataclass(frozen=True, slots=True)
class Outgoing:
    text: str
    room_id: str | None = None          # a room: its id, its topic (or both); a person: `to`
    to: str | None = None
    mentions: tuple[str, ...] = ()
    room_topic: str | None = None       # an unbound room is found by topic; also for display and replay
    urgent: bool = False
    file_path: str | None = None        # send this file (e.g. an Excel export) after the text

    @classmethod
    def at(cls, address: Address, text: str, mentions: tuple[str, ...] = (), urgent: bool = False,
           file_path: str | None = None) -> Outgoing:
        """A message to `address`; mentions only mean something in a room."""
        if not address.is_room:
            return cls(text=text, to=address.person, urgent=urgent, file_path=file_path)
        return cls(text=text, room_id=address.room_id, room_topic=address.room_topic, mentions=mentions,
                   urgent=urgent, file_path=file_path)

    @property
    def address(self) -> Address:
        return Address.of_person(self.to) if self.to else Address(self.room_id, self.room_topic)


# What no text may carry into the bot: NUL and other control characters (PostgreSQL refuses NUL,
# Excel refuses the rest) and lone surrogates (they cannot be encoded, so every write would fail).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
MAX_ID = 200              # ids, names and topics longer than this are cut (WeChat's own are far shorter)
MAX_ITEMS = 200           # a forwarded chat record is read up to this many items,
MAX_ITEM_TEXT = 2000      # each item up to this many characters,
MAX_RECORD_TEXT = 20_000  # and up to this many characters in all (classifying more would hold the queue)


def clean_text(text: str, limit: int | None = None) -> str:
    """Text safe to store, log-free of control characters and encodable: CR/LF → LF, controls dropped,
    lone surrogates → U+FFFD; cut at `limit` characters when given."""
    text = _SURROGATE.sub("\ufffd", _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))
    return text if limit is None else text[:limit]


def _clean_id(value: str | None) -> str | None:
    return None if value is None else clean_text(value, MAX_ID).replace("\n", " ")


def _clean_items(items: tuple[ForwardedItem, ...]) -> tuple[ForwardedItem, ...]:
    kept, budget = [], MAX_RECORD_TEXT
    for item in items[:MAX_ITEMS]:
        if budget <= 0:
            break
        text = clean_text(item.text, min(MAX_ITEM_TEXT, budget))
        budget -= len(text)
        kept.append(ForwardedItem(_clean_id(item.name), text))
    return tuple(kept)


def _clean_msg_id(value: str) -> str:
    cleaned = clean_text(value)
    if len(cleaned) <= MAX_ID and cleaned == value:
        return value
    # Two different raw ids must stay two messages: a changed or over-long id keeps a digest of the raw one.
    digest = hashlib.sha1(value.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{cleaned[:MAX_ID - 41]}~{digest}"


def clean_incoming(msg: Incoming) -> Incoming:
    """The one gate every incoming message passes (Bot.dispatch), whatever the transport."""
    return replace(
        msg, msg_id=_clean_msg_id(msg.msg_id), sender_id=_clean_id(msg.sender_id), sender_name=_clean_id(msg.sender_name),
        room_id=_clean_id(msg.room_id), room_topic=_clean_id(msg.room_topic), text=clean_text(msg.text),
        mentions=tuple(_clean_id(m) for m in msg.mentions[:MAX_ITEMS]),
        items=_clean_items(msg.items),
        attachment=msg.attachment and clean_text(msg.attachment))


class TransportUnavailable(Exception):
    """The transport cannot send right now (disconnected); the message stays queued for later."""


Dispatch = Callable[[Incoming], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RoomInfo:
    """A group the bot's account sits in, as the transport found it at login."""

    room_id: str
    topic: str


@dataclass(frozen=True, slots=True)
class Hooks:
    """What the bot offers a transport besides `dispatch`; a transport calls those it has a use for.

    - `tick(at)`: do everything due up to `at` (replay's lines and ticks, the demo's /time);
    - `login(rooms)`: the account logged in and sits in `rooms` (bind them, send what waited);
    - `end()`: the input is over; let what is queued go out at its paced times (replay).
    """

    tick: Callable[[datetime], Awaitable[None]] | None = None
    login: Callable[[list[RoomInfo]], Awaitable[None]] | None = None
    end: Callable[[], Awaitable[None]] | None = None


class Transport(Protocol):
    async def start(self, dispatch: Dispatch, hooks: Hooks = Hooks()) -> None:
        """Deliver incoming messages to `dispatch` until the source ends or stop() is called."""

    async def send(self, out: Outgoing) -> None: ...

    async def stop(self) -> None: ...
