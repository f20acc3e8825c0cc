"""Which WeChat group is which node: #绑定 binds the current group at runtime, and `bind_rooms_found`
binds the org's groups by topic when the bot logs in. A stored binding (the room id) outlives a
renamed group, so login never moves an existing binding."""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.dispatch import Context, Router
from bot.domain.org import ADMIN_ROLES, OrgDirectory
from bot.errors import UserError
from bot.storage.db import session
from bot.storage.models import DepartmentRoom

router = Router("bindings")
log = logging.getLogger("gridbot.bindings")

USAGE_BIND = "#绑定 <节点路径>"
IN_ROOM_ONLY = "请在要绑定的群里发送 #绑定，私聊里没有可绑定的群。"
NOT_ADMIN = "只有该节点（或其上级）的管理员可以绑定群。"


def _unknown_path(path: str, example: str) -> str:
    return f"未找到节点“{path}”。路径从县开始、用 / 分隔，例如：#绑定 {example}"


def _bound(path: str, before: str | None) -> str:
    moved = f"（原来绑定的是 {before}）" if before and before != path else ""
    return f"已将本群绑定到：{path}{moved}。群名以后改了也不影响。"


@router.command("绑定", usage=USAGE_BIND, summary="把本群绑定到组织节点", roles={"admin"})
async def bind(ctx: Context, args: str) -> str:
    if ctx.msg.room_id is None:
        raise UserError(IN_ROOM_ONLY)
    path = re.sub(r"\s*[/／]\s*", "/", args.strip()).strip("/")
    if not path:
        raise UserError(f"缺少参数。用法：{USAGE_BIND}")
    nodes = {n.path: n for n in ctx.org.nodes()}
    root = ctx.org.root()
    node = nodes.get(path) or nodes.get(f"{root.path}/{path}")
    if node is None:
        example = next((p for p in sorted(nodes, key=lambda p: (p.count("/"), p)) if p.count("/") >= 2), root.path)
        raise UserError(_unknown_path(path, example))
    if not ctx.org.holds_role(ctx.actor.contact_id, ADMIN_ROLES, node):
        raise UserError(NOT_ADMIN)
    before = ctx.room.node.path if ctx.room.node is not None else None
    ctx.org.bind_room(ctx.msg.room_id, node_path=node.path)
    return _bound(node.path, before)


def bind_rooms_found(engine: Engine, rooms: Iterable[tuple[str, str]]) -> tuple[int, list[str]]:
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
            org.bind_room(room_id, topic)
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
