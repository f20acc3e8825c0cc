"""Notices down the tree (SPEC §4): reach, scope, receipts, the receipt deadline, refusals, a fan-out
surviving a restart, urgent alerts overtaking it, and masking of what is relayed."""
from datetime import timedelta

import pytest

from tests.harness import at, Harness, to_room

COUNTY = "遂川县红网格指挥中心"
GRID = "城南社区第3网格群"
COMMUNITY = "城南社区党组织工作群"
CHEN = "wxid_chen_zr"
BELOW_COUNTY = [  # every room under the county, top-down (level, then path)
    "泉江城市社区党工委工作群", "雩田镇红网格工作群",
    "城南社区党组织工作群", "上坪村两委工作群",
    "城南社区第3网格群", "城南社区第4网格群", "上坪村第1网格群",
    "幸福小区5栋楼栋群", "幸福小区6栋楼栋群", "上坪村4组村民群",
    "5栋孙丽中心户邻里群", "5栋王建国中心户邻里群", "李春生中心户联系群",
]


def notices(sent, no="N1"):
    return [o for o in sent if o.text.startswith(f"【通知 {no}】")]


@pytest.fixture
def paced(tmp_path, new_db, classifier) -> Harness:
    return Harness(new_db("n"), classifier, at(2026, 11, 25, 9, 0),
                   pace=timedelta(seconds=1.5))


async def test_county_notice_reaches_every_room_below_once_in_order(paced):
    sent = await paced.say(CHEN, "#通知 明天上午9点各村召开防汛会议，请做好准备", COUNTY)
    reply = sent[0]
    assert reply.room_topic == COUNTY
    assert reply.text.startswith(f"通知 N1 将发往下级 {len(BELOW_COUNTY)} 个群") and "#回执 N1" in reply.text
    assert "预计11月25日 09:01前" not in reply.text
    out = notices(sent)
    assert [o.room_topic for o in out] == sorted(BELOW_COUNTY, key=BELOW_COUNTY.index)
    assert "防汛会议" in out[0].text and "收到" in out[0].text
    # paced one every 1.5 s: the reply first, then 13 rooms
    assert paced.clock.now() - at(2026, 11, 25, 9, 1) == timedelta(seconds=1.5 * len(BELOW_COUNTY))


async def test_notice_scope_by_level(harness):
    sent = await harness.say(CHEN, "#通知 到社区 本周五前上报防汛物资", COUNTY)
    assert {o.room_topic for o in notices(sent)} == {"泉江城市社区党工委工作群", "雩田镇红网格工作群",
                                                     "城南社区党组织工作群", "上坪村两委工作群"}
    sent = await harness.say("wxid_cn_zhuren", "#通知 到网格 网格员今晚入户排查", COMMUNITY)
    assert {o.room_topic for o in notices(sent, "N2")} == {GRID, "城南社区第4网格群"}


async def test_receipts_and_the_missing_list(harness):
    await harness.say("wxid_cn_zhuren", "#通知 请各网格周五前报送独居老人名单", COMMUNITY)
    assert await harness.say("wxid_liufang", "收到！", GRID) == []          # recorded silently, no ticket
    assert await harness.say("wxid_zhao_zz", "好的收到👌", "幸福小区5栋楼栋群") == []
    assert harness.tickets() == []
    reply, = await harness.say("wxid_cn_zhuren", "#回执 N1", COMMUNITY)
    assert "共 6 个群，已送达 6，已回执 2，未回执 4" in reply.text
    assert "城南社区第4网格群" in reply.text and GRID not in reply.text.split("未回执：")[1]
    # Without a number: this room's latest notice.
    again, = await harness.say("wxid_cn_zhuren", "#回执", COMMUNITY)
    assert again.text == reply.text


async def test_receipt_deadline_reminds_missing_rooms_once_and_tells_the_sender(harness):
    await harness.say("wxid_cn_zhuren", "#通知 到网格 请核对辖区户数 截止明天17点", COMMUNITY)
    await harness.say("wxid_liufang", "收到", GRID)
    sent = await harness.tick(at(2026, 11, 26, 17, 0))
    reminders = [o for o in sent if o.text.startswith("【回执提醒】")]
    assert [o.room_topic for o in reminders] == ["城南社区第4网格群"]
    missing, = [o for o in to_room(sent, COMMUNITY) if "未回复" in o.text]
    assert "城南社区第4网格群" in missing.text and GRID not in missing.text
    later = await harness.tick(at(2026, 11, 28, 17, 0))
    assert not [o for o in later if "回执" in o.text]


@pytest.mark.parametrize("sender, room, expected", [
    ("wxid_liufang", GRID, "只有第3网格或上级的管理员可以在这个群发通知。"),     # a grid worker
    ("wxid_sp_shuji", COMMUNITY, "只有城南社区或上级的管理员可以在这个群发通知。"),  # another subtree's admin
    ("wxid_res_zhang", "5栋王建国中心户邻里群", "只有王建国中心户或上级的管理员可以在这个群发通知。"),
    ("wxid_cn_zhuren", None, "请在本级工作群里发通知，机器人按这个群所在的层级往下发。"),
])
async def test_notice_refusals(harness, sender, room, expected):
    reply, = await harness.say(sender, "#通知 测试通知", room)
    assert reply.text == expected
    assert not [o for o in harness.transport.sent if o.text.startswith("【通知")]
    reply, = await harness.say(CHEN, "#回执 N9", COUNTY)
    assert reply.text == "未找到通知 N9"


async def test_non_admin_cannot_see_receipts(harness):
    await harness.say("wxid_cn_zhuren", "#通知 到网格 测试", COMMUNITY)
    reply, = await harness.say("wxid_liufang", "#回执 N1", GRID)
    assert reply.text == "只有城南社区或上级的管理员可以查看通知 N1 的回执。"


async def test_fan_out_interrupted_by_restart_completes_without_duplicates(tmp_path, new_db, classifier):
    db = new_db("fan")
    first = Harness(db, classifier, at(2026, 11, 25, 9, 0), pace=timedelta(seconds=1.5))
    from bot.transport import Incoming
    await first.bot.dispatch(Incoming(msg_id="n1", sender_id=CHEN, text="#通知 防汛值班安排已下发，请查收",
                                      room_id=COUNTY, room_topic=COUNTY))
    await first.tick(at(2026, 11, 25, 9, 0, 6))               # the process dies ~6 s into the fan-out
    delivered_before = [o.room_topic for o in notices(first.transport.sent)]
    assert 0 < len(delivered_before) < len(BELOW_COUNTY)

    second = Harness(db, classifier, at(2026, 11, 25, 9, 5), pace=timedelta(seconds=1.5))
    await second.tick(at(2026, 11, 25, 9, 10))
    delivered_after = [o.room_topic for o in notices(second.transport.sent)]
    assert sorted(delivered_before + delivered_after) == sorted(BELOW_COUNTY)


async def test_urgent_alert_overtakes_a_fan_out(paced):
    from bot.transport import Incoming
    await paced.bot.dispatch(Incoming(msg_id="n1", sender_id=CHEN, text="#通知 防汛值班安排已下发，请查收",
                                      room_id=COUNTY, room_topic=COUNTY))
    await paced.tick(at(2026, 11, 25, 9, 0, 3))
    await paced.bot.dispatch(Incoming(msg_id="fire", sender_id="wxid_res_zhang", text="5栋楼下着火了，浓烟很大，快来人",
                                      room_id="5栋王建国中心户邻里群", room_topic="5栋王建国中心户邻里群"))
    await paced.tick(at(2026, 11, 25, 9, 2))
    sent = paced.transport.sent
    first_fire = next(i for i, o in enumerate(sent) if "T1" in o.text)
    fire_msgs = [i for i, o in enumerate(sent) if "T1" in o.text]
    notice_after = [i for i, o in enumerate(sent) if o.text.startswith("【通知 N1】") and i > first_fire]
    assert notice_after and max(fire_msgs) < min(notice_after)     # all urgent messages went first
    assert len(fire_msgs) == 4                                      # ack, grid, department, county


async def test_phone_and_id_numbers_masked_when_relayed(harness):
    text = "我家楼下水管爆了，联系电话13912345678，身份证362427199001011234"
    sent = await harness.say("wxid_res_zhang", text, "5栋王建国中心户邻里群")
    relayed = [o for o in sent if o.room_topic in (GRID, "县自来水公司工单群")]
    assert len(relayed) == 2
    for o in relayed:
        assert "139****5678" in o.text and "13912345678" not in o.text
        assert "362427********1234" in o.text and "199001011234" not in o.text
    assert harness.ticket("T1")["text"] == text                # the database keeps the original
    detail, = await harness.say("wxid_liufang", "#查询 T1", GRID)
    assert "13912345678" not in detail.text


@pytest.mark.parametrize("hour, minute", [(8, 34), (15, 22)])
async def test_notice_by_day_goes_out_at_once_and_says_nothing_of_quiet_hours(new_db, classifier, hour, minute):
    # A running clock, as live: the answer must not compare two readings of it.
    h = Harness(new_db("day"), classifier, at(2026, 11, 25, hour, minute), running=True)
    sent = await h.say("wxid_cn_zhuren", "#通知 到网格 明早8点集合", COMMUNITY, after=timedelta(0))
    reply, = to_room(sent, COMMUNITY)
    assert "免打扰" not in reply.text and f"预计11月25日 {hour:02}:{minute:02}发完" in reply.text
    assert {o.room_topic for o in notices(sent)} == {GRID, "城南社区第4网格群"}


async def test_notice_in_quiet_hours_waits_until_seven(new_db, classifier):
    h = Harness(new_db("night"), classifier, at(2026, 11, 25, 23, 10), running=True)
    reply, = await h.say("wxid_cn_zhuren", "#通知 到网格 明早8点集合", COMMUNITY, after=timedelta(0))
    assert "免打扰时段，11月26日 07:00开始发送" in reply.text
    assert notices(await h.tick(at(2026, 11, 26, 6, 59))) == []
    sent = await h.tick(at(2026, 11, 26, 7, 0))
    assert {o.room_topic for o in notices(sent)} == {GRID, "城南社区第4网格群"}


async def test_quote_of_the_notice_counts_as_receipt(harness):
    await harness.say("wxid_cn_zhuren", "#通知 到网格 请核对辖区户数", COMMUNITY)
    quoted = "「城南社区党组织工作群：【通知 N1】请核对辖区户数」\n- - - - - - - - - - - - - - -\n收到，马上核对"
    assert await harness.say("wxid_chenmin", quoted, "城南社区第4网格群") == []
    reply, = await harness.say("wxid_cn_zhuren", "#回执 N1", COMMUNITY)
    assert "已回执 1" in reply.text


@pytest.mark.parametrize("text, ack", [
    ("收到", True), ("已收到", True), ("收到了", True), ("好的收到", True), ("收到！👍", True),
    ("@城南社区胡主任 收到", True), ("收到，谢谢", True),
    ("收到了吗？", False), ("没收到通知", False), ("收到的快递是坏的", False),
])
def test_acknowledgement_words(text, ack):
    from nlp.courtesy import is_acknowledgement
    assert is_acknowledgement(text) is ack


async def test_live_fan_out_does_not_hold_up_the_next_message(new_db, classifier):
    """Live, pacing sleeps in a background worker: a report is handled while a fan-out is waiting."""
    import asyncio

    from bot.transport import Incoming

    gate = asyncio.Event()

    async def paced_sleep(seconds: float) -> None:
        await gate.wait()                 # the pacing pause lasts until the test lets it go
        paced.clock.advance(timedelta(seconds=seconds))

    paced = Harness(new_db("n"), classifier, at(2026, 11, 25, 9, 0), pace=timedelta(seconds=1.5), sleep=paced_sleep)
    await paced.bot.dispatch(Incoming(msg_id="n1", sender_id=CHEN, text="#通知 防汛值班安排已下发，请查收",
                                      room_id=COUNTY, room_topic=COUNTY))
    await paced.bot.dispatch(Incoming(msg_id="r1", sender_id="wxid_res_zhang", text="5栋楼下着火了，浓烟很大，快来人",
                                      room_id="5栋王建国中心户邻里群", room_topic="5栋王建国中心户邻里群"))
    assert paced.ticket("T1")["urgency"] == "urgent"        # handled while the fan-out is queued
    for _ in range(10):
        await asyncio.sleep(0)                              # let the worker run up to its first pause
    assert len(paced.transport.sent) == 1                   # one message, then the pacing pause
    gate.set()
    await paced.bot.delivery.drained()
    sent = paced.transport.sent
    fire = [i for i, o in enumerate(sent) if "T1" in o.text]
    notice = [i for i, o in enumerate(sent) if o.text.startswith("【通知 N1】")]
    assert len(notice) == len(BELOW_COUNTY) and max(fire) < min(notice)


async def test_live_sweep_with_messages_waiting_logs_no_error(new_db, classifier, caplog):
    import asyncio
    import logging

    from bot.transport import Incoming

    async def paced_sleep(seconds: float) -> None:
        paced.clock.advance(timedelta(seconds=seconds))
        await asyncio.sleep(0)

    paced = Harness(new_db("n"), classifier, at(2026, 11, 25, 9, 0), pace=timedelta(seconds=1.5), sleep=paced_sleep)
    await paced.bot.dispatch(Incoming(msg_id="n1", sender_id=CHEN, text="#通知 防汛值班安排已下发，请查收",
                                      room_id=COUNTY, room_topic=COUNTY))
    with caplog.at_level(logging.ERROR):
        await paced.bot.tick()                       # the sweep while the fan-out is still queued
        await paced.bot.delivery.drained()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(notices(paced.transport.sent)) == len(BELOW_COUNTY)
