"""The transport seam: plain frozen messages in and out, and the protocol every adapter implements.

No transport object (wechaty or otherwise) crosses this seam.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol


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


@dataclass(frozen=True, slots=True)
class Outgoing:
    text: str
    room_id: str | None = None          # exactly one of room_id / to is set
    to: str | None = None
    mentions: tuple[str, ...] = ()
    room_topic: str | None = None       # for display and replay output
    urgent: bool = False
    file_path: str | None = None        # send this file (e.g. an Excel export) after the text


class TransportUnavailable(Exception):
    """The transport cannot send right now (disconnected); the message stays queued for later."""


Dispatch = Callable[[Incoming], Awaitable[None]]


class Transport(Protocol):
    async def start(self, dispatch: Dispatch) -> None:
        """Deliver incoming messages to `dispatch` until the source ends or stop() is called."""

    async def send(self, out: Outgoing) -> None: ...

    async def stop(self) -> None: ...
