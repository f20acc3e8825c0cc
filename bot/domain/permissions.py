"""Who may use which command (SPEC §2, §5): one table, enforced by the dispatcher before a handler
runs and asked by #帮助 with the same function.

Four kinds of rule:
- everyone: no role needed (a resident reports, asks, rates …);
- role: the sender holds one of the roles somewhere (#走访: a visit is logged at the sender's node);
- room: the sender holds one of the roles at the room's node or above — the command acts on the
  room's subtree (#统计, #通知 …). Outside a node's room the handler says where to send it;
- reach: as room in a node's room (roles reach their subtree: a grid worker of 第4网格 sets no
  reminder in the county's room), as role elsewhere (1:1, a department's room) (#提醒).
Rules about one ticket, notice, node or message (may this person accept T12?) are not here: they
stay in the domain services, and the table says only who the command is for.
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.domain.org import OrgDirectory
from bot.storage.models import Node

ADMIN_ROLES = frozenset({"admin"})
HANDLER_ROLES = frozenset({"grid_worker", "police"})              # who handles a grid's tickets
TICKET_STAFF = HANDLER_ROLES | {"liaison"} | ADMIN_ROLES           # may take on a ticket
ADMINS_AND_WORKERS = frozenset({"admin", "grid_worker"})
WORKERS = TICKET_STAFF                                             # "grid_worker and above"
DECIDERS = HANDLER_ROLES | ADMIN_ROLES                             # decide a 待确认 message
# Staff of a node: whoever holds a role there other than resident (SPEC §5.1 "staff whose reach
# contains its node" may read its tickets).
NODE_STAFF = frozenset({"admin", "grid_worker", "police", "central_household"})
VOTE_OPENERS = frozenset({"admin", "grid_worker", "central_household"})     # 议事 (SPEC §5.2)
VISITORS = frozenset({"grid_worker", "police", "central_household"})        # 走访, 上门

EVERYONE, ROLE, ROOM, REACH, OBJECT = "everyone", "role", "room", "reach", "object"


@dataclass(frozen=True)
class Rule:
    kind: str
    roles: frozenset[str] | None = None
    who: str = ""          # the roles as the refusal names them
    what: str = ""         # what the refusal says they may do

    def refusal(self, node: Node | None) -> str:
        where = f"{node.name}或上级的" if self.kind in (ROOM, REACH) and node is not None else ""
        return f"只有{where}{self.who}可以{self.what}。"


_OPEN = Rule(EVERYONE)
_TICKET = Rule(OBJECT, TICKET_STAFF)     # the ticket service decides (assignee, grid, liaison, admin above)

RULES: dict[str, Rule] = {
    "帮助": _OPEN, "上报": _OPEN, "查询": _OPEN, "评价": _OPEN, "撤销": _OPEN, "催办": _OPEN,
    "受理": _TICKET, "转派": _TICKET, "不受理": _TICKET, "办结": _TICKET, "合并": _TICKET,
    # SPEC §5.1; the ticket service checks the ticket's node, grid and assignee.
    "指派": Rule(OBJECT, ADMINS_AND_WORKERS),    # admins above the ticket's node, the grid's worker
    "督办": Rule(OBJECT, ADMIN_ROLES),           # admins above the ticket's node
    "重开": Rule(OBJECT, ADMIN_ROLES),
    "延期": Rule(OBJECT, HANDLER_ROLES),         # the assignee, the grid's worker
    "同意延期": Rule(OBJECT, ADMIN_ROLES),       # admins of the grid's parent node or above
    "驳回延期": Rule(OBJECT, ADMIN_ROLES),
    "提醒": Rule(REACH, WORKERS, "网格员及以上", "设置提醒"),
    "通知": Rule(ROOM, ADMIN_ROLES, "管理员", "在这个群发通知"),
    "回执": Rule(OBJECT, ADMIN_ROLES),           # admins of the notice's node or above
    "统计": Rule(ROOM, ADMINS_AND_WORKERS, "管理员或网格员", "查看统计"),
    "排行": Rule(ROOM, ADMIN_ROLES, "管理员", "查看排行"),
    "清单": Rule(ROOM, ADMINS_AND_WORKERS, "管理员或网格员", "查看清单"),
    "导出": Rule(ROOM, ADMIN_ROLES, "管理员", "导出工单"),
    "绑定": Rule(OBJECT, ADMIN_ROLES),           # admins of the node bound to
    "确认": Rule(OBJECT, DECIDERS),              # staff whose reach holds the message's node
    "忽略": Rule(OBJECT, DECIDERS),
    "议事": Rule(ROOM, VOTE_OPENERS, "管理员、网格员或中心户", "在这个群发起议事"),
    "投票": _OPEN, "议事结果": _OPEN,          # the vote service: in the vote's room (results: admins above too)
    "走访": Rule(ROLE, VISITORS, "网格员、网格警或中心户", "登记走访"),
    "走访台账": Rule(ROOM, ADMINS_AND_WORKERS, "管理员或网格员", "查看走访台账"),
    "登录": Rule(ROLE, ADMINS_AND_WORKERS, "管理员或网格员", "登录指挥看板"),
}


def refusal(command: str, org: OrgDirectory, contact_id: str, node: Node | None) -> str | None:
    """Why the sender may not use `command` here, or None when the table lets it through."""
    rule = RULES[command]
    if rule.kind in (EVERYONE, OBJECT):
        return None
    if rule.kind in (ROOM, REACH) and node is not None:
        return None if org.holds_role(contact_id, rule.roles, node) else rule.refusal(node)
    if rule.kind == ROOM:
        return None          # not in a node's room: the handler says where to send it
    return None if org.role_names(contact_id) & rule.roles else rule.refusal(node)


def offered(command: str, org: OrgDirectory, contact_id: str, node: Node | None) -> bool:
    """Whether #帮助 lists the command for the sender here: the dispatcher's rule as a dry run, and
    for a command about one object, whether the sender holds a role it is for."""
    rule = RULES[command]
    if rule.kind == OBJECT:
        return bool(org.role_names(contact_id) & rule.roles)
    if rule.kind == ROOM and node is None:
        return bool(org.role_names(contact_id) & rule.roles)
    return refusal(command, org, contact_id, node) is None
