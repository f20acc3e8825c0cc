"""The small things that erode trust (issue 13): the #查询 list's heading, #绑定 asking before it
moves a binding, a hello for 1:1 chatter, a reply to a message over the length limit, and long reports
relayed as a summary with a pointer to #查询."""
from datetime import timedelta

from bot.dispatch import MAX_TEXT
from bot.domain.texts import HELLO, RELAY_LIMIT
from tests.harness import at, to_room

RESIDENT = "wxid_res_zhang"
LIUFANG = "wxid_liufang"
HU = "wxid_cn_zhuren"                    # admin of 城南社区
HOUSEHOLD = "5栋王建国中心户邻里群"
GRID = "城南社区第3网格群"
COMMUNITY = "城南社区党组织工作群"
TOWN = "泉江城市社区党工委工作群"
POWER = "县供电公司工单群"
GRID3_PATH = "遂川县/泉江镇城市社区党工委/城南社区/第3网格"


# ---- #查询 without a number ----------------------------------------------------------------------

async def test_own_ticket_list_is_headed_in_progress_and_awaiting_rating_with_a_hint_to_rate(harness):
    await harness.say(RESIDENT, "5栋2单元从早上开始就没电了", HOUSEHOLD)
    await harness.say(RESIDENT, "楼道里的水管爆了，水流得到处都是", HOUSEHOLD)
    await harness.say(LIUFANG, "#办结 T1 已更换保险丝", GRID)
    reply, = await harness.say(RESIDENT, "#查询", HOUSEHOLD)
    head, *lines = reply.text.splitlines()
    assert head == "您的工单（进行中及待评价）：" and "未办结" not in reply.text
    t1, = [line for line in lines if "T1" in line and line.startswith("· ")]
    t2, = [line for line in lines if "T2" in line and line.startswith("· ")]
    assert "已办结，待评价" in t1 and "前办结" in t2
    assert lines[-1] == "已办结的请评价：#评价 T1 满意 / 基本满意 / 不满意"
    # The assignee sees both too, but rating is the reporter's: no hint for her.
    worker, = await harness.say(LIUFANG, "#查询", GRID)
    assert "T1" in worker.text and "T2" in worker.text and "#评价" not in worker.text
    await harness.say(RESIDENT, "#评价 T1 满意", HOUSEHOLD)
    after, = await harness.say(RESIDENT, "#查询", HOUSEHOLD)
    assert "T1" not in after.text and "#评价" not in after.text


async def test_nobody_with_no_tickets_is_told_so_plainly(harness):
    reply, = await harness.say("wxid_chenmin", "#查询", "城南社区第4网格群")
    assert reply.text == "您目前没有进行中或待评价的工单。"


# ---- #绑定 -----------------------------------------------------------------------------------------

async def test_binding_a_node_that_has_a_group_asks_first_and_names_that_group(harness):
    ask, = await harness.say(HU, f"#绑定 {GRID3_PATH}", COMMUNITY)
    assert "第3网格现在绑定的是「城南社区第3网格群」" in ask.text
    assert "本群现在绑定的是遂川县/泉江镇城市社区党工委/城南社区" in ask.text
    assert ask.text.endswith(f"确认改绑请发：#绑定 {GRID3_PATH} 确认")
    assert "wxid" not in ask.text
    # Nothing moved: a report still alerts the grid's own group.
    sent = await harness.say(RESIDENT, "5栋2单元从早上开始就没电了", HOUSEHOLD)
    assert to_room(sent, GRID) and not to_room(sent, COMMUNITY)

    done, = await harness.say(HU, f"#绑定 {GRID3_PATH} 确认", COMMUNITY)
    assert done.text.startswith(f"已将本群绑定到：{GRID3_PATH}（原来绑定的是 遂川县/泉江镇城市社区党工委/城南社区）")
    sent = await harness.say(RESIDENT, "楼道里的水管爆了，水流得到处都是", HOUSEHOLD)
    alert, = [o for o in sent if o.room_id == COMMUNITY and "【新工单" in o.text]   # the grid's group is now here
    assert "T2" in alert.text and not [o for o in sent if o.room_topic == GRID and o.room_id != COMMUNITY]


async def test_binding_a_group_with_no_other_binding_needs_no_confirmation(harness):
    path = "遂川县/泉江镇城市社区党工委/城南社区/第3网格/幸福小区6栋"
    ask, = await harness.say(HU, f"#绑定 {path}", "6栋新群")
    assert "「幸福小区6栋楼栋群」" in ask.text and "确认改绑" in ask.text
    done, = await harness.say(HU, f"#绑定 {path} 确认", "6栋新群")
    assert done.text.startswith(f"已将本群绑定到：{path}。")
    again, = await harness.say(HU, f"#绑定 {path}", "6栋新群")       # the same binding: nothing to move
    assert again.text.startswith(f"已将本群绑定到：{path}。")


async def test_a_lower_admin_cannot_take_over_a_higher_nodes_group(harness):
    reply, = await harness.say(HU, f"#绑定 {GRID3_PATH} 确认", TOWN)
    assert reply.text == "本群现在绑定的是遂川县/泉江镇城市社区党工委，只有泉江镇城市社区党工委（或其上级）的管理员可以改绑本群。"
    sent = await harness.say(RESIDENT, "5栋2单元从早上开始就没电了", HOUSEHOLD)
    assert to_room(sent, GRID)


# ---- 1:1 chatter -----------------------------------------------------------------------------------

async def test_a_greeting_in_private_chat_gets_a_hello_with_how_to_report_once_in_a_few_minutes(harness):
    hello, = await harness.say(RESIDENT, "你好")
    assert hello.to == RESIDENT and hello.text == HELLO
    assert "#查询" in hello.text and "楼道灯坏了" in hello.text
    assert await harness.say(RESIDENT, "在吗？", after=timedelta(minutes=2)) == []      # no ping-pong
    assert await harness.say(RESIDENT, "😊", after=timedelta(minutes=2)) == []
    again, = await harness.say(RESIDENT, "😊", after=timedelta(minutes=5))
    assert again.text == HELLO
    assert harness.tickets() == []


async def test_an_emoji_alone_in_private_chat_gets_the_hello(harness):
    hello, = await harness.say("wxid_res_li", "🌹🌹")
    assert hello.text == HELLO and hello.to == "wxid_res_li"


async def test_thanks_and_acknowledgements_in_private_chat_get_no_answer(harness):
    ack, *_ = await harness.say(RESIDENT, "5栋2单元从早上开始就没电了")
    assert "T1" in ack.text
    for text in ("谢谢", "好的", "收到", "👍", "[抱拳]", "好的，谢谢！"):
        assert await harness.say(RESIDENT, text, after=timedelta(minutes=10)) == [], text


async def test_group_chatter_stays_unanswered(harness):
    assert await harness.say(RESIDENT, "大家好", HOUSEHOLD) == []
    assert await harness.say(RESIDENT, "😊", GRID) == []


# ---- over the length limit -------------------------------------------------------------------------

async def test_a_private_message_over_the_limit_gets_a_clear_reply_and_opens_nothing(harness):
    text = "今天天气不错。" * 300
    reply, = await harness.say(RESIDENT, text)
    assert reply.to == RESIDENT
    assert reply.text.startswith(f"消息太长了（{len(text)}字，超过{MAX_TEXT}字），机器人没有登记。")
    assert harness.tickets() == []


async def test_a_long_report_in_a_group_gets_the_reply_and_long_chatter_does_not(harness):
    report = "5栋2单元从早上开始就没电了，冰箱里的东西都要坏了，" * 90
    assert len(report) > MAX_TEXT
    reply, = await harness.say(RESIDENT, report, HOUSEHOLD)
    assert reply.room_topic == HOUSEHOLD and "消息太长了" in reply.text
    article = "今天天气不错，大家周末愉快。" * 200
    assert await harness.say(RESIDENT, article, HOUSEHOLD) == []
    assert harness.tickets() == []


# ---- relaying a long report ------------------------------------------------------------------------

LONG_REPORT = ("5栋2单元从早上开始就没电了，联系电话13912345678。家里有老人，冰箱里的药也要坏了，请尽快派人来看看。"
               + "我们已经打过好几次电话，一直说在处理，可到现在也没有人来，楼里的住户都很着急，晚上孩子还要写作业。" * 25)


async def test_a_long_report_is_relayed_as_a_summary_with_a_pointer_to_query(harness):
    sent = await harness.say(RESIDENT, LONG_REPORT, HOUSEHOLD)
    ack, = to_room(sent, HOUSEHOLD)
    alert, = to_room(sent, GRID)
    dispatch, = to_room(sent, POWER)
    for relayed in (alert, dispatch):
        content = relayed.text.split("内容：")[1].split("\n")[0]
        assert content.endswith(f"…（共{len(LONG_REPORT)}字，详见 #查询 T1）")
        summary = content.split("…（共")[0]
        assert summary.endswith("。") and len(summary) <= RELAY_LIMIT      # cut at a sentence end
        assert "139****5678" in summary and "13912345678" not in relayed.text
    assert "T1" in ack.text
    later = await harness.tick(at(2026, 11, 25, 13, 30))                  # past the accept deadline
    escalation, = [o for o in to_room(later, COMMUNITY) if "逐级转报" in o.text]
    assert "详见 #查询 T1" in escalation.text and len(escalation.text) < 400
    detail, = await harness.say(RESIDENT, "#查询 T1", HOUSEHOLD)          # the whole text, masked
    assert LONG_REPORT.replace("13912345678", "139****5678") in detail.text


async def test_a_short_report_is_relayed_whole(harness):
    text = "5栋2单元从早上开始就没电了，冰箱都停了"
    sent = await harness.say(RESIDENT, text, HOUSEHOLD)
    alert, = to_room(sent, GRID)
    assert f"内容：{text}\n" in alert.text and "详见" not in alert.text
