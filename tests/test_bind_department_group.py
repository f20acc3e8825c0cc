"""#绑定 for a department's group (WeCom groups have no name the bot can read, so a department's group
is bound by the org file's room name or the department's name), through the ordinary dispatch path."""
from __future__ import annotations

from tests.harness import to_room

POWER_ROOM = "县供电公司工单群"


async def test_a_county_admin_binds_a_group_as_a_departments_and_dispatches_go_there(harness):
    sent = await harness.say("wxid_chen_zr", f"#绑定 {POWER_ROOM}", room_id="wrk_power", room="wrk_power")
    assert sent[0].text == "已将本群绑定到：供电工单群。群名以后改了也不影响。"
    sent = await harness.say("wxid_wangjg", "小区5栋整栋楼停电了，电梯也停了", room="5栋王建国中心户邻里群")
    dispatched = [o for o in sent if o.room_id == "wrk_power"]
    assert len(dispatched) == 1 and "T1" in dispatched[0].text


async def test_binding_a_department_group_needs_a_county_admin_and_a_known_department(harness):
    sent = await harness.say("wxid_cn_zhuren", f"#绑定 {POWER_ROOM}", room_id="wrk_power", room="wrk_power")
    assert sent[0].text == "只有县级管理员可以把群绑定为部门工单群。"
    sent = await harness.say("wxid_chen_zr", "#绑定 县气象局工单群", room_id="wrk_x", room="wrk_x")
    assert "未找到节点" in sent[0].text
    sent = await harness.say("wxid_wangjg", "小区5栋整栋楼停电了，电梯也停了", room="5栋王建国中心户邻里群")
    assert not [o for o in sent if o.room_id == "wrk_power"]
    assert to_room(sent, POWER_ROOM)          # still the org file's group, found by its name
