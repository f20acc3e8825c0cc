"""Binding the org's groups to the transport's room ids: by topic when the bot logs in (a stored
binding, the room id, outlives a renamed group, so login never moves an existing binding), and what a
#绑定 in a group would move away from another group or node (asked before it is done)."""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.domain.org import OrgDirectory, Room
from bot.storage.db import session
from bot.storage.models import DepartmentRoom, Node
from bot.transport import Address

log = logging.getLogger("gridbot.bindings")


def bind_rooms_found(engine: Engine, rooms: Iterable[tuple[str, str]],
                     account: str | None = None) -> tuple[int, list[str]]:
    """Bind the org's unbound groups to the WeChat groups the bot is in, by topic; log the result.
    Returns (org groups the bot is in, topics of org groups it is not in)."""
    rooms = list(rooms)
    present = {room_id for room_id, _ in rooms}
    by_topic: dict[str, str] = {}
    for room_id, topic in rooms:
        if topic in by_topic and by_topic[topic] != room_id:
            log.warning("two WeChat groups are named %r; bound the first one (%s), use #绑定 in the other", topic,
                        by_topic[topic])
            continue
        by_topic.setdefault(topic, room_id)
    with session(engine) as s:
        org = OrgDirectory(s)
        if not org.is_imported():
            log.warning("no org imported: no WeChat group bound (gridbot org import ORG.yaml)")
            return 0, []
        newly = 0
        for topic in org.unbound_rooms():
            room_id = by_topic.get(topic)
            bound = org.room(room_id, None) if room_id else None
            if room_id is None or bound.node is not None or bound.department is not None:
                continue      # not in that group, or the group is already another node's (renamed)
            org.bind_room(room_id, topic, account=account)
            newly += 1
        s.commit()
        org_rooms = [(n.room_topic or n.path, n.room_id) for n in org.nodes() if n.room_topic or n.room_id]
        org_rooms += [(d.room_topic or d.code, d.room_id) for d in s.exec(select(DepartmentRoom)).all()
                      if d.room_topic or d.room_id]
    in_rooms = sum(1 for _, room_id in org_rooms if room_id in present)
    missing = sorted(name for name, room_id in org_rooms if room_id not in present)
    log.info("rooms bound %d/%d (%d new), missing %d", in_rooms, len(org_rooms), newly, len(missing))
    if missing:
        log.warning("the bot is not in these org groups (invite it, or #绑定 in the group): %s", "、".join(missing))
    return in_rooms, missing


@dataclass(frozen=True)
class BindingMove:
    """What a #绑定 here would take away from elsewhere: the node's current group (by topic; None when
    only its id is known), and the node or department this group belongs to now."""

    node_room: str | None = None
    node_has_other_room: bool = False
    room_node: Node | None = None
    room_department: str | None = None

    @property
    def moves(self) -> bool:
        return self.node_has_other_room or self.room_node is not None or self.room_department is not None


def binding_move(node: Node, here: Address, room: Room) -> BindingMove:
    """Binding `here` to `node`: which other binding it would move (a node's group is another group
    when its id or topic says so; this group's own node or department loses it)."""
    current = node.address
    other = current is not None and current != here
    return BindingMove(
        node_room=node.room_topic if other else None, node_has_other_room=other,
        room_node=room.node if room.node is not None and room.node.id != node.id else None,
        room_department=room.department)
