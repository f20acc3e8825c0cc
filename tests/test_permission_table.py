"""The permission table (bot/domain/permissions.py) walked whole: every command, sent by each kind of
person from rooms at several levels, through the real dispatch path. The dispatcher refuses exactly
what the table's rule refuses, with the table's words, and #帮助 lists exactly what it lets through."""
import pytest

from bot.domain import permissions
from bot.domain.permissions import EVERYONE, OBJECT, REACH, ROLE, ROOM, RULES

COUNTY = "遂川县红网格指挥中心"
COMMUNITY = "城南社区党组织工作群"
GRID = "城南社区第3网格群"
BUILDING = "幸福小区5栋楼栋群"
OTHER_GRID = "城南社区第4网格群"
DEPARTMENT = "县供电公司工单群"
# Rooms, outermost first: a room's node is below every room before it on its own line.
ABOVE = {COUNTY: (), COMMUNITY: (COUNTY,), GRID: (COUNTY, COMMUNITY), BUILDING: (COUNTY, COMMUNITY, GRID),
         OTHER_GRID: (COUNTY, COMMUNITY), DEPARTMENT: ()}
NODE_NAMES = {COUNTY: "遂川县", COMMUNITY: "城南社区", GRID: "第3网格", BUILDING: "幸福小区5栋", OTHER_GRID: "第4网格"}

# Who, with their roles and the room of the node they hold them at (as the org file says).
PEOPLE = {
    "wxid_res_zhang": ((), None),                           # a resident, not in the org file
    "wxid_zhao_zz": (("central_household",), BUILDING),
    "wxid_liufang": (("grid_worker",), GRID),
    "wxid_zhoujq": (("police",), GRID),
    "wxid_power_he": (("liaison",), None),                  # a department's liaison
    "wxid_cn_zhuren": (("admin",), COMMUNITY),
    "wxid_chen_zr": (("admin",), COUNTY),
}


def expected_allowed(command: str, person: str, room: str) -> bool:
    """The table's meaning, spelt out from the org file rather than by calling it."""
    rule = RULES[command]
    roles, home = PEOPLE[person]
    if rule.kind in (EVERYONE, OBJECT):
        return True
    holds = bool(set(roles) & rule.roles)
    if rule.kind == ROLE or (rule.kind == REACH and room == DEPARTMENT):
        return holds
    assert rule.kind in (ROOM, REACH)
    if room == DEPARTMENT:       # not a node's room: the handler says where to send it
        return True
    return holds and (home == room or home in ABOVE[room])


def offered(command: str, person: str, room: str) -> bool:
    rule = RULES[command]
    if rule.kind == EVERYONE:
        return True
    if rule.kind == OBJECT or (rule.kind == ROOM and room == DEPARTMENT):
        return bool(set(PEOPLE[person][0]) & rule.roles)
    return expected_allowed(command, person, room)


CASES = [(person, room) for person in PEOPLE for room in (COUNTY, COMMUNITY, GRID, BUILDING, OTHER_GRID, DEPARTMENT)]


def test_every_command_has_a_rule(harness):
    assert set(harness.bot.dispatcher.commands) == set(RULES)


@pytest.mark.parametrize("person, room", CASES)
async def test_the_dispatcher_refuses_what_the_table_refuses(harness, person, room):
    for command, rule in RULES.items():
        if rule.kind not in (ROLE, ROOM, REACH):
            continue
        reply = await harness.say(person, f"#{command}", room)
        refusal = rule.refusal(None if room == DEPARTMENT else _node(harness, room))
        refused = [o for o in reply if o.text == refusal]
        assert bool(refused) != expected_allowed(command, person, room), (command, person, room, reply)


@pytest.mark.parametrize("person, room", CASES)
async def test_help_lists_what_the_table_lets_through(harness, person, room):
    reply, = await harness.say(person, "#帮助", room)
    listed = {c.name for c in harness.bot.dispatcher.commands.values() if f"{c.usage}　{c.summary}" in reply.text}
    assert listed == {command for command in RULES if offered(command, person, room)}


def test_refusals_name_the_room_and_the_roles():
    assert RULES["统计"].refusal(_Node("第3网格")) == "只有第3网格或上级的管理员或网格员可以查看统计。"
    assert RULES["提醒"].refusal(None) == "只有网格员及以上可以设置提醒。"
    assert permissions.WORKERS >= permissions.HANDLER_ROLES | permissions.ADMIN_ROLES


def _node(harness, room):
    from bot.storage.db import session
    from bot.domain.org import OrgDirectory

    with session(harness.engine) as s:
        node = OrgDirectory(s).room(None, room).node
        assert node is not None and node.name == NODE_NAMES[room]
        return _Node(node.name)


class _Node:
    def __init__(self, name: str) -> None:
        self.name = name
