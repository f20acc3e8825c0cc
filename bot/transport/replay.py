"""Replay (SPEC §6.3): JSON lines in, on a virtual clock; one JSON line out per message sent."""
from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from typing import TextIO

from bot.clock import VirtualClock
from bot.transport import Dispatch, ForwardedItem, Hooks, Incoming, Outgoing



class ReplayError(ValueError):
    pass


# The bot plans deadlines, digests and quiet hours days ahead of a message: a moment near the ends of
# what datetime holds (year 1 or 9999) would overflow there, so replay takes times in a sane window.
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def parse_at(value) -> datetime:
    """A line's `at` → an aware datetime within [EARLIEST, LATEST). Raises ReplayError in Chinese."""
    if not isinstance(value, str):
        raise ReplayError("缺少 at（ISO 8601 时间，如 2026-11-25T09:00:00+08:00）")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise ReplayError(f"at 不是有效的时间：{value[:40]!r}（应为 ISO 8601，如 2026-11-25T09:00:00+08:00）") from None
    if at.tzinfo is None:
        raise ReplayError("at 必须带时区偏移，如 2026-11-25T09:00:00+08:00")
    try:
        in_window = EARLIEST <= at < LATEST
    except OverflowError:
        in_window = False
    if not in_window:
        raise ReplayError(f"at 超出可处理的时间范围（{EARLIEST.year}–{LATEST.year - 1} 年）：{value[:40]}")
    return at


def parse_line(data: dict) -> Incoming:
    """One scenario line (already JSON-decoded) → Incoming. Raises ReplayError with a Chinese reason."""
    if not isinstance(data.get("from"), str) or not data["from"]:
        raise ReplayError("缺少 from（发送人 id）")
    text = data.get("text", "")
    if not isinstance(text, str):
        raise ReplayError("text 必须是字符串")
    room = data.get("room")
    if room is not None and not isinstance(room, str):
        raise ReplayError("room 必须是字符串")
    kind = data.get("type", "text")
    if kind not in ("text", "image", "chat_history"):
        raise ReplayError(f"未知的消息类型 {kind}")
    items = data.get("items") or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ReplayError("items 必须是 [{name, text}] 列表")
    mentions = data.get("mentions") or []
    if not isinstance(mentions, list):
        raise ReplayError("mentions 必须是列表")
    msg_id = data.get("id")
    if msg_id is None:
        # No id given: derive one from the content, so rerunning a scenario on the same database
        # does not handle its lines twice.
        content = json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8", "surrogatepass")
        msg_id = "replay:" + hashlib.sha1(content).hexdigest()
    attachment = None
    if kind == "image":
        # Replay carries no file: the image is recorded under a name that says where it came from.
        attachment = f"{msg_id}-replay-image.jpg"
    return Incoming(
        attachment=attachment,
        msg_id=str(msg_id), sender_id=data["from"], sender_name=str(data.get("name") or ""), text=text,
        room_id=room, room_topic=room, mentions=tuple(str(m) for m in mentions), kind=kind,
        items=tuple(ForwardedItem(name=str(i.get("name") or ""), text=str(i.get("text") or "")) for i in items),
    )


class ReplayTransport:
    def __init__(self, lines: Iterable[str], clock: VirtualClock, out: TextIO | None = None,
                 err: TextIO | None = None) -> None:
        self.lines = lines
        self.clock = clock
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.tz: tzinfo | None = None
        self.sent: list[dict] = []

    async def start(self, dispatch: Dispatch, hooks: Hooks = Hooks()) -> None:
        for lineno, line in enumerate(self.lines, 1):
            if not line.strip():
                continue
            try:
                try:
                    data = json.loads(line)
                except ValueError:
                    raise ReplayError("不是有效的 JSON") from None
                if not isinstance(data, dict):
                    raise ReplayError("每行必须是一个 JSON 对象")
                at = parse_at(data.get("at"))
                incoming = None if data.get("tick") else parse_line(data)
            except ReplayError as err:
                print(f"第{lineno}行已跳过：{err}", file=self.err)
                continue
            self.tz = at.tzinfo
            if hooks.tick is not None:
                await hooks.tick(at)
            self.clock.advance_to(at)
            if incoming is not None:
                await dispatch(incoming)
        if hooks.end is not None:
            await hooks.end()

    async def send(self, out: Outgoing) -> None:
        now = self.clock.now().astimezone(self.tz)
        record = {
            "at": now.isoformat(timespec="milliseconds" if now.microsecond else "seconds"),
            "room": out.room_topic if out.to is None else None,
            "to": out.to,
            "text": out.text,
            "mentions": list(out.mentions),
        }
        if out.file_path:
            record["file"] = out.file_path          # SPEC §6.3: an export, a chart image
        self.sent.append(record)
        print(json.dumps(record, ensure_ascii=False), file=self.out, flush=True)

    async def stop(self) -> None:
        pass
