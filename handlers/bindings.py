"""#绑定: an admin binds the current WeChat group to a node at runtime (the org's groups are bound by
topic at login, see bot/domain/bindings.py)."""
from __future__ import annotations

import re

from bot.dispatch import Context, Router
from bot.domain.bindings import BindingMove, binding_move
from bot.domain.departments import department_name, find_department
from bot.domain.permissions import ADMIN_ROLES
from bot.errors import UserError

router = Router("bindings")

USAGE_BIND = "#绑定 <节点路径>"
CONFIRM = "确认"
IN_ROOM_ONLY = "请在要绑定的群里发送 #绑定，私聊里没有可绑定的群。"
NOT_ADMIN = "只有该节点（或其上级）的管理员可以绑定群。"
NOT_COUNTY_ADMIN = "只有县级管理员可以把群绑定为部门工单群。"


def _unknown_path(path: str, example: str) -> str:
    return f"未找到节点“{path}”。路径从县开始、用 / 分隔，例如：#绑定 {example}"


def _confirm_move(path: str, name: str, move: BindingMove) -> str:
    """Binding here would move another binding: say which, and how to go ahead. Rooms are named by
    their topic, never by an id."""
    lines = []
    if move.node_has_other_room:
        where = f"「{move.node_room}」" if move.node_room else "另一个群"
        lines.append(f"{name}现在绑定的是{where}，改绑到本群后那个群将不再收到{name}的工单、提醒和通知。")
    if move.room_node is not None:
        lines.append(f"本群现在绑定的是{move.room_node.path}，改绑后{move.room_node.name}将没有工作群。")
    if move.room_department is not None:
        lines.append(f"本群现在是{department_name(move.room_department)}的工单群，改绑后该部门将收不到派单。")
    lines.append(f"确认改绑请发：#绑定 {path} {CONFIRM}")
    return "\n".join(lines)


def _bound(path: str, before: str | None) -> str:
    moved = f"（原来绑定的是 {before}）" if before and before != path else ""
    return f"已将本群绑定到：{path}{moved}。群名以后改了也不影响。"


@router.command("绑定", usage=USAGE_BIND, summary="把本群绑定到组织节点")
async def bind(ctx: Context, args: str) -> str:
    if ctx.msg.room_id is None:
        raise UserError(IN_ROOM_ONLY)
    words = args.split()
    confirmed = len(words) > 1 and words[-1] == CONFIRM
    if confirmed:
        args = args.strip()[:-len(CONFIRM)]
    path = re.sub(r"\s*[/／]\s*", "/", args.strip()).strip("/")
    if not path:
        raise UserError(f"缺少参数。用法：{USAGE_BIND}")
    node = ctx.org.node_by_path(path)
    if node is None:
        return _bind_department(ctx, args.strip(), path)
    if not ctx.org.holds_role(ctx.actor.contact_id, ADMIN_ROLES, node):
        raise UserError(NOT_ADMIN)
    move = binding_move(node, ctx.msg.address, ctx.room)
    if move.room_node is not None and not ctx.org.holds_role(ctx.actor.contact_id, ADMIN_ROLES, move.room_node):
        raise UserError(f"本群现在绑定的是{move.room_node.path}，只有{move.room_node.name}（或其上级）的管理员可以改绑本群。")
    if move.moves and not confirmed:
        return _confirm_move(node.path, node.name, move)
    before = ctx.room.node.path if ctx.room.node is not None else None
    ctx.org.bind_room(ctx.msg.room_id, node_path=node.path, account=ctx.account)
    return _bound(node.path, before)


def _bind_department(ctx: Context, name: str, path: str) -> str:
    """`#绑定 县供电公司工单群` (the org file's room name, or the department's name): a department's group.
    WeCom groups have no name the bot can read, so this is how they are bound."""
    rooms = {room.room_topic: room.code for room in ctx.org.department_rooms() if room.room_topic}
    code = rooms.get(name) or (find_department(name) if "/" not in path else None)   # a path is never a department
    if code is None or ctx.org.department_room(code) is None:
        raise UserError(_unknown_path(path, ctx.org.example_path()))
    if not ctx.org.holds_role(ctx.actor.contact_id, ADMIN_ROLES, ctx.org.root()):
        raise UserError(NOT_COUNTY_ADMIN)
    before = ctx.room.node.path if ctx.room.node is not None else (
        department_name(ctx.room.department) if ctx.room.department else None)
    ctx.org.bind_room(ctx.msg.room_id, department=code, account=ctx.account)
    return _bound(f"{department_name(code)}工单群", before)
