"""A ticket's whole life through chat: report → ack/alerts → accept → resolve → rating → closed."""
from datetime import datetime, timedelta

from tests.harness import TZ, to_room

HOUSEHOLD = "5栋王建国中心户邻里群"
GRID = "城南社区第3网格群"
POWER = "县供电公司工单群"
COUNTY = "遂川县红网格指挥中心"
LIUFANG = "wxid_liufang"
RESIDENT = "wxid_res_zhang"
POWER_CUT_TEXT = "5栋2单元从早上开始就没电了，冰箱都停了"


async def test_full_life_report_to_closed(harness):
    sent = await harness.say(RESIDENT, "5栋2单元从早上开始就没电了，冰箱都停了", HOUSEHOLD, name="张阿姨")
    ack, = to_room(sent, HOUSEHOLD)
    assert "T1" in ack.text and "供电" in ack.text and "网格员刘芳" in ack.text
    alert, = to_room(sent, GRID)
    assert alert.mentions == (LIUFANG,) and "@网格员刘芳" in alert.text and "T1" in alert.text
    dispatch, = to_room(sent, POWER)
    assert "T1" in dispatch.text and "没电" in dispatch.text
    assert not to_room(sent, COUNTY)            # not urgent

    assert await harness.say("wxid_res_li", "收到", HOUSEHOLD) == []

    sent = await harness.say(LIUFANG, "#受理 T1", GRID)
    assert [o.room_topic for o in sent] == [HOUSEHOLD, GRID]
    assert "已受理" in sent[0].text
    assert harness.ticket("T1")["status"] == "accepted"

    sent = await harness.say(LIUFANG, "#办结 T1 供电所已更换保险丝，恢复供电", GRID)
    rate_request, = to_room(sent, HOUSEHOLD)
    assert rate_request.mentions == (RESIDENT,) and "#评价 T1" in rate_request.text
    assert harness.ticket("T1")["status"] == "resolved"

    sent = await harness.say(RESIDENT, "#评价 T1 满意", HOUSEHOLD)
    assert "已归档" in sent[0].text
    ticket = harness.ticket("T1")
    assert ticket["status"] == "closed"
    assert ticket["department"] == "power" and ticket["reporter"] == RESIDENT and ticket["assignee"] == LIUFANG
    assert ticket["node"] == "遂川县/泉江镇城市社区党工委/城南社区/第3网格/幸福小区5栋/王建国中心户"

    history, = await harness.say(RESIDENT, "#查询 T1", HOUSEHOLD)
    for step in ("上报", "受理", "办结", "评价：满意", "归档"):
        assert step in history.text


async def test_unsatisfied_rating_reopens(harness):
    await harness.say(RESIDENT, "楼道里的水管爆了，水流得到处都是", HOUSEHOLD)
    await harness.say(LIUFANG, "#办结 T1 已关阀门", GRID)
    sent = await harness.say(RESIDENT, "#评价 T1 不满意 还在漏", HOUSEHOLD)
    assert "重新交办" in sent[0].text
    reopened, = to_room(sent, GRID)
    assert reopened.mentions == (LIUFANG,) and "还在漏" in reopened.text
    assert harness.ticket("T1")["status"] == "accepted"
    history, = await harness.say(RESIDENT, "#查询 T1", HOUSEHOLD)
    assert "重新办理" in history.text
    # and it can be resolved again
    await harness.say(LIUFANG, "#办结 T1 已换新管", GRID)
    assert harness.ticket("T1")["status"] == "resolved"


async def test_urgent_ticket_goes_to_county_at_once(harness):
    sent = await harness.say(RESIDENT, "5栋楼下着火了，浓烟很大，快来人", HOUSEHOLD)
    ticket = harness.ticket("T1")
    assert ticket["urgency"] == "urgent" and ticket["department"] == "fire"
    assert to_room(sent, COUNTY) and "紧急" in to_room(sent, COUNTY)[0].text
    created = datetime.fromisoformat(ticket["created_at"])
    assert datetime.fromisoformat(ticket["accept_by"]) - created == timedelta(minutes=10)
    assert datetime.fromisoformat(ticket["resolve_by"]) - created == timedelta(hours=2)


async def test_normal_deadlines_follow_working_days(harness):
    await harness.say(RESIDENT, "小区门口的路灯坏了好几天了，晚上黑乎乎的", HOUSEHOLD)
    ticket = harness.ticket("T1")
    created = datetime.fromisoformat(ticket["created_at"])
    assert datetime.fromisoformat(ticket["accept_by"]) - created == timedelta(hours=4)
    # Opened Wednesday 2026-11-25: Thu, Fri, (weekend), Mon → 18:00 Monday 30th.
    assert datetime.fromisoformat(ticket["resolve_by"]) == datetime(2026, 11, 30, 18, 0, tzinfo=TZ)


async def test_forwarded_chat_record_in_private_chat(harness):
    sent = await harness.say("wxid_wangjg", "", None, kind="chat_history",
                             items=(("邻居老周", "楼下的井盖翻了，晚上看不见容易摔"), ("邻居小李", "是的")))
    ticket = harness.ticket("T1")
    assert ticket["reporter"] == "wxid_wangjg" and ticket["department"] == "urban_mgmt"
    assert "邻居老周" in ticket["text"] and "井盖" in ticket["text"]
    assert ticket["node"].endswith("王建国中心户")
    ack = [o for o in sent if o.to == "wxid_wangjg"]
    assert ack and "T1" in ack[0].text
    assert to_room(sent, GRID) and to_room(sent, "县城管局红网格工单群")


async def test_transfer_dispatches_to_new_department(harness):
    await harness.say(RESIDENT, "小区门口的路灯坏了好几天了，晚上黑乎乎的", HOUSEHOLD)
    sent = await harness.say(LIUFANG, "#转派 T1 供电", GRID)
    assert "转派至供电" in to_room(sent, GRID)[0].text
    assert to_room(sent, POWER)
    assert harness.ticket("T1")["department"] == "power"


async def test_cancel_by_reporter(harness):
    await harness.say(RESIDENT, "小区门口的路灯坏了好几天了，晚上黑乎乎的", HOUSEHOLD)
    sent = await harness.say(RESIDENT, "#撤销 T1", HOUSEHOLD)
    assert "已由" in sent[0].text and "撤销" in sent[0].text
    assert harness.ticket("T1")["status"] == "cancelled"
    sent = await harness.say(LIUFANG, "#受理 T1", GRID)
    assert "不能受理" in sent[0].text


async def test_same_message_id_is_one_message(harness):
    await harness.say(RESIDENT, "楼道里的水管爆了，水流得到处都是", HOUSEHOLD, msg_id="dup-1")
    assert await harness.say(RESIDENT, "楼道里的水管爆了，水流得到处都是", HOUSEHOLD, msg_id="dup-1") == []
    assert len(harness.tickets()) == 1


async def test_explicit_report_opens_a_ticket_the_classifier_would_not(harness):
    assert await harness.say(RESIDENT, "3栋那边有点情况", HOUSEHOLD) == []
    sent = await harness.say(RESIDENT, "#上报 3栋那边有点情况，麻烦来看看", HOUSEHOLD)
    assert "T1" in to_room(sent, HOUSEHOLD)[0].text
    assert harness.ticket("T1")["text"] == "3栋那边有点情况，麻烦来看看"


async def test_query_without_number_lists_own_tickets(harness):
    await harness.say(RESIDENT, "楼道里的水管爆了，水流得到处都是", HOUSEHOLD)
    reply, = await harness.say(RESIDENT, "#查询", HOUSEHOLD)
    assert "T1" in reply.text
    reply, = await harness.say(LIUFANG, "#查询", GRID)
    assert "T1" in reply.text                  # assigned to her
    reply, = await harness.say("wxid_chenmin", "#查询", "城南社区第4网格群")
    assert "没有" in reply.text


async def test_explicit_report_is_routed_by_its_strongest_evidence(harness):
    sent = await harness.say(RESIDENT, "#上报 路灯不亮", HOUSEHOLD)
    assert "城管" in to_room(sent, HOUSEHOLD)[0].text
    assert harness.ticket("T1")["department"] == "urban_mgmt"


async def test_report_without_a_grid_alerts_the_nearest_room_up_the_tree(harness):
    sent = await harness.say("wxid_stranger", "村里的路灯全都不亮了，晚上黑灯瞎火的", None)
    assert harness.ticket("T1")["node"] == "遂川县" and harness.ticket("T1")["assignee"] is None
    alert, = to_room(sent, COUNTY)
    assert alert.mentions == ("wxid_chen_zr",) and "#受理 T1" in alert.text
    # Reported in that very room: the acknowledgement there is the alert; no second message.
    sent = await harness.say("wxid_res_x", "镇上菜市场门口的井盖丢了，好危险", "泉江城市社区党工委工作群")
    ack, = to_room(sent, "泉江城市社区党工委工作群")
    assert "T2" in ack.text


async def test_image_after_a_report_is_kept_as_evidence(harness):
    await harness.say(RESIDENT, POWER_CUT_TEXT, HOUSEHOLD)
    reply, = await harness.say(RESIDENT, "", HOUSEHOLD, kind="image", attachment="m9-photo.jpg")
    assert reply.text == "已把照片附到工单 T1，处理人查询工单时可以看到。"
    # someone else's photo, or one long after the report, is just a photo
    assert await harness.say("wxid_res_li", "", HOUSEHOLD, kind="image", attachment="m10-cat.jpg") == []
    assert await harness.say(RESIDENT, "", HOUSEHOLD, kind="image", attachment="m11-x.jpg",
                             after=timedelta(minutes=11)) == []


async def test_ratings_in_everyday_words(harness):
    await harness.say(RESIDENT, "楼道里的水管爆了，水流得到处都是", HOUSEHOLD)
    await harness.say(LIUFANG, "#办结 T1 已关阀门", GRID)
    sent = await harness.say(RESIDENT, "#评价 T1 非常满意，谢谢网格员", HOUSEHOLD)
    assert "评价为“满意”" in sent[0].text
    history, = await harness.say(RESIDENT, "#查询 T1", HOUSEHOLD)
    assert "评价：满意 谢谢网格员" in history.text
