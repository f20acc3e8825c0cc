"""Messages the domain wants sent. They are collected during a unit of work and handed to the
transport only after the database transaction commits, so a rolled-back change sends nothing."""
from __future__ import annotations

from bot.storage.models import DepartmentRoom, Node
from bot.transport import Outgoing


class Outbox:
    def __init__(self) -> None:
        self.pending: list[Outgoing] = []

    def post(self, out: Outgoing) -> None:
        self.pending.append(out)

    def to_room(self, room: Node | DepartmentRoom, text: str, mentions: tuple[str, ...] = (),
                urgent: bool = False) -> bool:
        """Post to a node's or department's room; False when it has no room."""
        if room.room_topic is None and room.room_id is None:
            return False
        self.post(Outgoing(text=text, room_id=room.room_id or room.room_topic, room_topic=room.room_topic,
                           mentions=mentions, urgent=urgent))
        return True

    def drain(self) -> list[Outgoing]:
        out, self.pending = self.pending, []
        return out
