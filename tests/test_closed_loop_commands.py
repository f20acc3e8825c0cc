"""The closed loop's commands (SPEC §5.1) through chat: #指派 #合并 #督办 #延期 #同意延期 #驳回延期 #重开 —
each allowed, refused with the reason, and given bad input, an unknown ticket or the wrong status,
with what each person sees read from the messages the bot sends."""
from datetime import datetime, timedelta

import pytest

from tests.harness import at, to_room

HOUSEHOLD = "5栋王建国中心户邻里群"
GRID = "城南社区第3网格群"
GRID4 = "城南社区第4网格群"
COMMUNITY = "城南社区党组织工作群"
COUNTY = "遂川县红网格指挥中心"
VILLAGE = "上坪村两委工作群"
RESIDENT = "wxid_res_zhang"
LIUFANG = "wxid_liufang"
CHENMIN = "wxid_chenmin"
POLICE = "wxid_zhoujq"
HU = "wxid_cn_zhuren"          # the community's admin, above 第3网格 and 第4网格
CHEN = "wxid_chen_zr"          # the county's admin
VILLAGE_ADMIN = "wxid_sp_shuji"
POWER_CUT = "5栋2单元从早上开始就没电了，冰箱都停了"
STREET_LAMPS = "村里的路灯全都不亮了，晚上黑灯瞎火的"


@pytest.fixture
async def reported(harness):
    """T1: a power cut reported in a household group of 第3网格, assigned to 网格员刘芳."""
    await harness.say(RESIDENT, POWER_CUT, HOUSEHOLD, name="张阿姨")
    assert harness.ticket("T1")["assignee"] == LIUFANG
    return harness


async def only(harness, sender, text, room):
    """The one reply a command gets (nothing else sent)."""
    reply, = await harness.say(sender, text, room)
    return reply.text


# ---- #指派 -----------------------------------------------------------------------------------
async def test_county_assigns_a_report_without_a_grid_to_a_grid_and_its_worker_is_alerted(harness):
    await harness.say("wxid_stranger", STREET_LAMPS, None)
    assert harness.ticket("T1")["node"] == "遂川县" and harness.ticket("T1")["assignee"] is None

    sent = await harness.say(CHEN, "#指派 T1 第4网格", COUNTY)
    reply, = to_room(sent, COUNTY)
    assert reply.text == "已把工单 T1 指派给第4网格 网格员陈敏，已通知对方受理。"
    alert, = to_room(sent, GRID4)
    assert alert.mentions == (CHENMIN,) and "@网格员陈敏" in alert.text and "#受理 T1" in alert.text
    assert "路灯" in alert.text and "（指挥中心陈主任指派）" in alert.text
    assert len(sent) == 2
    ticket = harness.ticket("T1")
    assert ticket["assignee"] == CHENMIN and ticket["node"].endswith("城南社区/第4网格")

    detail = await only(harness, CHENMIN, "#查询 T1", GRID4)          # the grid's worker now reads it
    assert detail.startswith("工单 T1") and "处理人：网格员陈敏" in detail and "指派" in detail
    await harness.say(CHENMIN, "#受理 T1", GRID4)
    assert harness.ticket("T1")["status"] == "accepted"


async def test_assigning_gives_a_fresh_accept_deadline_and_its_reminder(harness):
    await harness.say("wxid_stranger", STREET_LAMPS, None)
    # The county room is told of the accept deadline passing; then the county hands it over.
    await harness.tick(at(2026, 11, 25, 14, 0))
    await harness.say(CHEN, "#指派 T1 第4网格", COUNTY)
    accept_by = datetime.fromisoformat(harness.ticket("T1")["accept_by"])
    assert accept_by == at(2026, 11, 25, 18, 1)
    sent = await harness.tick(at(2026, 11, 25, 18, 2))
    reminder, = [o for o in to_room(sent, GRID4) if "已超过受理时限" in o.text]
    assert reminder.mentions == (CHENMIN,)


async def test_grid_worker_hands_a_ticket_to_a_named_member_mentioned_in_the_grid_room(reported):
    sent = await reported.say(LIUFANG, "#指派 T1 网格快警周警官", GRID)
    alert, = sent                                  # the alert is the reply in the room it was typed in
    assert alert.room_topic == GRID and alert.mentions == (POLICE,) and "@网格快警周警官" in alert.text
    assert reported.ticket("T1")["assignee"] == POLICE
    assert reported.ticket("T1")["node"].endswith("王建国中心户")   # still inside the grid: the node stays


async def test_reassigning_to_another_grid_tells_the_old_grid_room(reported):
    sent = await reported.say(HU, "#指派 T1 第4网格", COMMUNITY)
    assert to_room(sent, GRID4)[0].mentions == (CHENMIN,)
    old, = to_room(sent, GRID)
    assert old.text == "工单 T1 已由城南社区胡主任改派给第4网格网格员陈敏，本群无需再处理。"
    assert reported.ticket("T1")["status"] == "open"


@pytest.mark.parametrize("sender, room, expected", [
    (RESIDENT, HOUSEHOLD, "只有工单所在节点或上级的管理员、所在网格的网格员可以指派工单 T1。"),
    (CHENMIN, GRID4, "只有工单所在节点或上级的管理员、所在网格的网格员可以指派工单 T1。"),
    (VILLAGE_ADMIN, VILLAGE, "只有工单所在节点或上级的管理员、所在网格的网格员可以指派工单 T1。"),
    (HU, COMMUNITY, "“上坪第1网格”不在您的管辖范围内，请上级管理员指派。"),
    (LIUFANG, GRID, "“第4网格”不在您的管辖范围内，请上级管理员指派。"),
])
async def test_assigning_is_refused_outside_ones_reach(reported, sender, room, expected):
    target = "上坪第1网格" if sender == HU else "第4网格"
    assert await only(reported, sender, f"#指派 T1 {target}", room) == expected
    assert reported.ticket("T1")["assignee"] == LIUFANG


@pytest.mark.parametrize("text, expected", [
    ("#指派 T1", "缺少参数。用法：#指派 T12 <网格名、节点路径或联系人>，如 #指派 T12 第4网格"),
    ("#指派", "缺少参数。用法：#指派 T12 <网格名、节点路径或联系人>，如 #指派 T12 第4网格"),
    ("#指派 T999 第4网格", "未找到工单 T999"),
    ("#指派 T1 火星网格", "找不到“火星网格”：请写网格名（如 第4网格）、节点路径或组织架构里的联系人姓名。"),
    ("#指派 T1 城南社区", "城南社区不是网格，请指派到网格或具体人员。"),
    ("#指派 T1 第3网格", "工单 T1 已由网格员刘芳负责。"),
])
async def test_assign_bad_input_gets_a_clear_reply(reported, text, expected):
    assert await only(reported, CHEN, text, COUNTY) == expected
    assert reported.ticket("T1")["assignee"] == LIUFANG


async def test_assigning_a_resolved_ticket_is_refused(reported):
    await reported.say(LIUFANG, "#办结 T1 已恢复供电", GRID)
    assert await only(reported, HU, "#指派 T1 第4网格", COMMUNITY) == "工单 T1 当前状态为“已办结”，不能指派。"


# ---- #合并 -----------------------------------------------------------------------------------
async def test_merged_tickets_reporter_follows_the_other_and_is_never_asked_to_rate_it(reported):
    await reported.say("wxid_res_wu", "我家这边也停电了，整栋楼都黑了", GRID4, name="吴大姐")
    assert reported.ticket("T2")["status"] == "open"

    sent = await reported.say(HU, "#合并 T2 T1", COMMUNITY)
    assert to_room(sent, COMMUNITY)[0].text == "已把工单 T2 并入 T1，T2 的上报人和关注人已转为 T1 的关注人。"
    told, = to_room(sent, GRID4)                   # T2's reporter and its grid room: one message
    assert told.mentions == ("wxid_res_wu",) and "已并入 T1" in told.text and "#查询 T1" in told.text
    assert to_room(sent, GRID)[0].text == "工单 T2 已由城南社区胡主任并入工单 T1，请在 T1 中跟进。"
    assert reported.ticket("T2")["status"] == "merged"
    assert reported.ticket("T1")["followers"] == ["wxid_res_wu"]
    detail = await only(reported, "wxid_res_wu", "#查询 T2", GRID4)
    assert "已合并" in detail and "已并入工单 T1" in detail

    # T2's deadlines stop: nothing about T2 when its accept deadline passes.
    sent = await reported.tick(at(2026, 11, 25, 13, 30))
    assert not [o for o in sent if "T2" in o.text]

    sent = await reported.say(LIUFANG, "#办结 T1 已更换保险丝", GRID)
    follower, = to_room(sent, GRID4)
    assert follower.text.endswith("工单 T1 已由网格员刘芳办结：已更换保险丝") and "#评价" not in follower.text
    assert "#评价 T1" in to_room(sent, HOUSEHOLD)[0].text
    assert await only(reported, "wxid_res_wu", "#评价 T2 满意", GRID4) == "工单 T2 当前状态为“已合并”，不能评价。"


async def test_merging_is_refused_to_someone_who_may_not_handle_both(reported):
    await reported.say("wxid_res_wu", "我家这边也停电了，整栋楼都黑了", GRID4)
    reply = await only(reported, LIUFANG, "#合并 T2 T1", GRID)
    assert reply == "只有该工单的处理人、所在网格的网格员、供电联络员或上级管理员可以合并工单 T2。"
    assert reported.ticket("T2")["status"] == "open"


@pytest.mark.parametrize("text, expected", [
    ("#合并 T1", "缺少参数。用法：#合并 T4 T3（把 T4 并入 T3）"),
    ("#合并 T1 T999", "未找到工单 T999"),
    ("#合并 T999 T1", "未找到工单 T999"),
    ("#合并 T1 T1", "不能把工单 T1 并入它自己。用法：#合并 T4 T3（把 T4 并入 T3）"),
    ("#合并 T1 第2张", "工单号格式不对：第2张。用法：#合并 T4 T3（把 T4 并入 T3）"),
])
async def test_merge_bad_input_gets_a_clear_reply(reported, text, expected):
    assert await only(reported, HU, text, COMMUNITY) == expected
    assert reported.ticket("T1")["status"] == "open"


async def test_merging_into_a_cancelled_ticket_is_refused(reported):
    await reported.say("wxid_res_wu", "我家这边也停电了，整栋楼都黑了", GRID4)
    await reported.say(RESIDENT, "#撤销 T1", HOUSEHOLD)
    assert await only(reported, HU, "#合并 T2 T1", COMMUNITY) == "工单 T1 当前状态为“已撤销”，不能合并。"


# ---- #督办 -----------------------------------------------------------------------------------
async def test_supervision_mentions_the_assignee_and_the_grids_admins_and_marks_the_ticket(reported):
    sent = await reported.say(CHEN, "#督办 T1 今天下班前必须恢复供电", COUNTY)
    assert to_room(sent, COUNTY)[0].text == "已督办工单 T1，已通知处理人。"
    demand, = to_room(sent, GRID)
    # 第3网格 has no admin of its own: the community's admin, who runs it, is mentioned.
    assert demand.mentions == (LIUFANG, HU)
    assert demand.text.startswith("【督办】@网格员刘芳\u2005@城南社区胡主任\u2005工单 T1")
    assert "指挥中心陈主任督办：今天下班前必须恢复供电" in demand.text
    detail = await only(reported, LIUFANG, "#查询 T1", GRID)
    assert detail.splitlines()[0].endswith("｜督办") and "督办：11月25日 09:02" in detail


async def test_a_supervised_ticket_is_marked_in_the_list_the_statistics_and_the_export(reported):
    from openpyxl import load_workbook

    await reported.say(CHEN, "#督办 T1 今天下班前必须恢复供电", COUNTY)
    lists, = await reported.say(LIUFANG, "#清单", GRID)
    line, = [line for line in lists.text.splitlines() if line.startswith("· T1｜")]
    assert line.startswith("· T1｜一般｜督办｜供电｜")
    stats, = await reported.say(LIUFANG, "#统计", GRID)
    assert "督办 1" in stats.text
    export, = await reported.say(HU, "#导出", COMMUNITY)
    rows = list(load_workbook(export.file_path).active.iter_rows(values_only=True))
    assert rows[1][rows[0].index("督办时间")] == "2026-11-25 09:02"


async def test_supervision_in_the_grid_room_is_one_message(reported):
    sent = await reported.say(HU, "#督办 T1", GRID)
    demand, = sent
    assert demand.mentions == (LIUFANG,) and "请加快办理" in demand.text


@pytest.mark.parametrize("sender, room", [(LIUFANG, GRID), (RESIDENT, HOUSEHOLD), (VILLAGE_ADMIN, VILLAGE)])
async def test_supervision_is_only_for_admins_above(reported, sender, room):
    assert await only(reported, sender, "#督办 T1 快点", room) == "只有工单所在节点或上级的管理员可以督办工单 T1。"
    assert "督办" not in (await only(reported, LIUFANG, "#查询 T1", GRID)).splitlines()[0]


@pytest.mark.parametrize("text, expected", [
    ("#督办", "缺少参数。用法：#督办 T12 [要求]"),
    ("#督办 T999 快点", "未找到工单 T999"),
    ("#督办 X1", "工单号格式不对：X1。用法：#督办 T12 [要求]"),
])
async def test_supervise_bad_input_gets_a_clear_reply(reported, text, expected):
    assert await only(reported, CHEN, text, COUNTY) == expected


async def test_supervising_a_closed_ticket_is_refused(reported):
    await reported.say(LIUFANG, "#办结 T1 已恢复供电", GRID)
    await reported.say(RESIDENT, "#评价 T1 满意", HOUSEHOLD)
    assert await only(reported, CHEN, "#督办 T1", COUNTY) == "工单 T1 当前状态为“已归档”，不能督办。"


# ---- #延期 #同意延期 #驳回延期 -------------------------------------------------------------------
EXTEND = "#延期 T1 12月4日18点 需等变压器配件到货"


async def test_extension_asked_in_the_grid_goes_to_the_community_admins_who_approve_it(reported):
    sent = await reported.say(LIUFANG, EXTEND, GRID)
    assert to_room(sent, GRID)[0].text == "已提交工单 T1 的延期申请（延至12月4日 18:00），等待城南社区管理员审批。"
    request, = to_room(sent, COMMUNITY)
    assert request.mentions == (HU,)
    assert "从11月30日 18:00延至12月4日 18:00" in request.text and "需等变压器配件到货" in request.text
    assert "#同意延期 T1" in request.text
    assert "延期申请：延至12月4日 18:00，待审批" in await only(reported, LIUFANG, "#查询 T1", GRID)

    sent = await reported.say(HU, "#同意延期 T1", COMMUNITY)
    assert to_room(sent, COMMUNITY)[0].text == "已同意工单 T1 延期，办结时限改为12月4日 18:00，已告知处理人。"
    told, = to_room(sent, GRID)
    assert told.mentions == (LIUFANG,) and "办结时限改为12月4日 18:00" in told.text
    assert datetime.fromisoformat(reported.ticket("T1")["resolve_by"]) == at(2026, 12, 4, 18, 0)

    # The timers follow the new deadline: nothing at the old one, the reminder a day before the new one.
    await reported.say(LIUFANG, "#受理 T1", GRID)
    deadline_work = ("到期", "逐级转报")
    sent = await reported.tick(at(2026, 12, 1, 9, 0))
    assert not [o for o in sent if "T1" in o.text and any(w in o.text for w in deadline_work)]
    sent = await reported.tick(at(2026, 12, 3, 18, 1))
    reminder, = [o for o in sent if "T1" in o.text and any(w in o.text for w in deadline_work)]
    assert reminder.room_topic == GRID and "将于12月4日 18:00到期" in reminder.text


async def test_a_rejected_extension_tells_the_assignee_why_and_keeps_the_deadline(reported):
    await reported.say(LIUFANG, EXTEND, GRID)
    sent = await reported.say(HU, "#驳回延期 T1 配件可以从邻镇调", COMMUNITY)
    assert to_room(sent, COMMUNITY)[0].text == "已驳回工单 T1 延期至12月4日 18:00的申请，已告知处理人。"
    told, = to_room(sent, GRID)
    assert told.mentions == (LIUFANG,) and "理由：配件可以从邻镇调" in told.text and "11月30日 18:00前办结" in told.text
    assert datetime.fromisoformat(reported.ticket("T1")["resolve_by"]) == at(2026, 11, 30, 18, 0)
    assert await only(reported, HU, "#同意延期 T1", COMMUNITY) == "工单 T1 没有待审批的延期申请。"


@pytest.mark.parametrize("sender, room, text, expected", [
    (RESIDENT, HOUSEHOLD, EXTEND, "只有工单 T1 的处理人或所在网格的网格员可以申请延期。"),
    (CHENMIN, GRID4, EXTEND, "只有工单 T1 的处理人或所在网格的网格员可以申请延期。"),
    (LIUFANG, GRID, "#同意延期 T1", "只有工单 T1 所在网格上级节点的管理员可以同意延期。"),
    (VILLAGE_ADMIN, VILLAGE, "#驳回延期 T1 不行", "只有工单 T1 所在网格上级节点的管理员可以驳回延期。"),
])
async def test_extension_is_asked_and_decided_only_by_whom_it_is_for(reported, sender, room, text, expected):
    if "延期 T1 12月" not in text:
        await reported.say(LIUFANG, EXTEND, GRID)
    assert await only(reported, sender, text, room) == expected
    assert datetime.fromisoformat(reported.ticket("T1")["resolve_by"]) == at(2026, 11, 30, 18, 0)


@pytest.mark.parametrize("text, expected", [
    ("#延期 T1", "缺少参数。用法：#延期 T12 <时间> <理由>，如 #延期 T12 下周五18点 需等配件到货"),
    ("#延期 T1 明天9点", "请写上延期理由。用法：#延期 T12 <时间> <理由>，如 #延期 T12 下周五18点 需等配件到货"),
    ("#延期 T1 11月27日18点 人手不够", "延期后的时间要晚于工单 T1 现在的办结时限（11月30日 18:00）。"),
    ("#延期 T999 明天9点 等配件", "未找到工单 T999"),
    ("#同意延期", "缺少参数。用法：#同意延期 T12"),
    ("#驳回延期 T1", "缺少参数。用法：#驳回延期 T12 <理由>"),
    ("#同意延期 T999", "未找到工单 T999"),
])
async def test_extension_bad_input_gets_a_clear_reply(reported, text, expected):
    sender, room = (LIUFANG, GRID) if text.startswith("#延期") else (HU, COMMUNITY)
    assert await only(reported, sender, text, room) == expected


async def test_an_extension_without_a_time_says_what_time_it_could_not_read(reported):
    reply = await only(reported, LIUFANG, "#延期 T1 等配件到了再说", GRID)
    assert reply.endswith("用法：#延期 T12 <时间> <理由>，如 #延期 T12 下周五18点 需等配件到货")
    assert reply != "未找到工单 T1"


async def test_a_second_extension_request_waits_for_the_first(reported):
    await reported.say(LIUFANG, EXTEND, GRID)
    reply = await only(reported, LIUFANG, "#延期 T1 12月7日18点 再等等", GRID)
    assert reply == "工单 T1 已有延期申请（延至12月4日 18:00）待审批，请等候上级答复。"


async def test_deciding_an_extension_of_a_resolved_ticket_is_refused(reported):
    await reported.say(LIUFANG, EXTEND, GRID)
    await reported.say(LIUFANG, "#办结 T1 已恢复供电", GRID)
    assert await only(reported, HU, "#同意延期 T1", COMMUNITY) == "工单 T1 当前状态为“已办结”，不能同意延期。"
    assert await only(reported, HU, "#驳回延期 T1 不必了", COMMUNITY) == "工单 T1 当前状态为“已办结”，不能驳回延期。"


async def test_extending_a_resolved_ticket_is_refused(reported):
    await reported.say(LIUFANG, "#办结 T1 已恢复供电", GRID)
    assert await only(reported, LIUFANG, EXTEND, GRID) == "工单 T1 当前状态为“已办结”，不能申请延期。"


# ---- #重开 -----------------------------------------------------------------------------------
async def test_reopening_a_resolved_ticket_puts_it_back_in_hand_with_new_deadlines(reported):
    await reported.say(LIUFANG, "#受理 T1", GRID)
    await reported.say(LIUFANG, "#办结 T1 已恢复供电", GRID)
    await reported.say(RESIDENT, "#评价 T1 满意", HOUSEHOLD)
    reopened_at = at(2026, 11, 26, 10, 0)
    await reported.tick(reopened_at - timedelta(minutes=1))
    sent = await reported.say(CHEN, "#重开 T1 居民反映又停电了", COUNTY)
    assert to_room(sent, COUNTY)[0].text == "工单 T1 已重开（处置中），办结时限12月1日 18:00，已通知处理人。"
    grid, = to_room(sent, GRID)
    assert grid.mentions == (LIUFANG,) and "理由：居民反映又停电了" in grid.text and "#办结 T1" in grid.text
    assert "重新交办" in to_room(sent, HOUSEHOLD)[0].text
    ticket = reported.ticket("T1")
    assert ticket["status"] == "accepted" and ticket["escalation_level"] == 0
    assert datetime.fromisoformat(ticket["resolve_by"]) == at(2026, 12, 1, 18, 0)
    assert "重新办理：居民反映又停电了" in await only(reported, LIUFANG, "#查询 T1", GRID)
    # The timers run again: the reminder a day before the new deadline.
    sent = await reported.tick(at(2026, 11, 30, 18, 1))
    assert [o for o in to_room(sent, GRID) if "将于12月1日 18:00到期" in o.text]
    # … and the reporter is asked to rate again after the next resolution.
    sent = await reported.say(LIUFANG, "#办结 T1 更换了变压器", GRID)
    assert "#评价 T1" in to_room(sent, HOUSEHOLD)[0].text


async def test_reopening_a_declined_ticket_puts_it_back_to_be_accepted(reported):
    await reported.say(LIUFANG, "#不受理 T1 已由供电公司统一检修", GRID)
    sent = await reported.say(HU, "#重开 T1", COMMUNITY)
    grid, = to_room(sent, GRID)
    assert grid.mentions == (LIUFANG,) and "#受理 T1" in grid.text
    assert reported.ticket("T1")["status"] == "open"
    await reported.say(LIUFANG, "#受理 T1", GRID)
    assert reported.ticket("T1")["status"] == "accepted"


async def test_reopening_a_merged_ticket_takes_it_out_of_the_other(reported):
    await reported.say("wxid_res_wu", "我家这边也停电了，整栋楼都黑了", GRID4)
    await reported.say(HU, "#合并 T2 T1", COMMUNITY)
    await reported.say(HU, "#重开 T2 不是同一处停电", COMMUNITY)
    assert reported.ticket("T2")["status"] == "open"
    assert "已并入" not in await only(reported, CHENMIN, "#查询 T2", GRID4)


@pytest.mark.parametrize("sender, room", [(LIUFANG, GRID), (RESIDENT, HOUSEHOLD), (VILLAGE_ADMIN, VILLAGE)])
async def test_reopening_is_only_for_admins_above(reported, sender, room):
    await reported.say(LIUFANG, "#办结 T1 已恢复供电", GRID)
    assert await only(reported, sender, "#重开 T1", room) == "只有工单所在节点或上级的管理员可以重开工单 T1。"
    assert reported.ticket("T1")["status"] == "resolved"


@pytest.mark.parametrize("text, expected", [
    ("#重开", "缺少参数。用法：#重开 T12 [理由]"),
    ("#重开 T999", "未找到工单 T999"),
    ("#重开 T1", "工单 T1 当前状态为“待受理”，不能重开。"),
])
async def test_reopen_bad_input_and_open_tickets_get_a_clear_reply(reported, text, expected):
    assert await only(reported, CHEN, text, COUNTY) == expected
    assert reported.ticket("T1")["status"] == "open"


async def test_help_lists_the_closed_loop_commands_for_whom_they_are(reported):
    admin = await only(reported, HU, "#帮助", COMMUNITY)
    for usage in ("#指派 T12", "#督办 T12", "#同意延期 T12", "#驳回延期 T12", "#重开 T12", "#合并 T4 T3"):
        assert usage in admin
    worker = await only(reported, LIUFANG, "#帮助", GRID)
    assert "#指派 T12" in worker and "#延期 T12" in worker and "#督办 T12" not in worker
    resident = await only(reported, RESIDENT, "#帮助", HOUSEHOLD)
    assert "#指派" not in resident and "#延期" not in resident
