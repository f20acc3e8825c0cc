"""Notice receipts people can trust (issue 13): only the people of a room's node answer for it, #回执
says who did, the reminder comes before the deadline quoting the notice's first line (quiet hours
kept, once, across a restart), and a county notice's missing rooms are listed by town."""

from tests.harness import Harness, at, to_room

COUNTY = "遂川县红网格指挥中心"
COMMUNITY = "城南社区党组织工作群"
GRID = "城南社区第3网格群"
GRID4 = "城南社区第4网格群"
HOUSEHOLD = "5栋王建国中心户邻里群"
CHEN = "wxid_chen_zr"
HU = "wxid_cn_zhuren"


def reminders(sent):
    return [o for o in sent if "【回执提醒】" in o.text]


async def test_an_unknown_residents_receipt_does_not_count_and_receipts_say_whose(harness):
    await harness.say(HU, "#通知 请各户检查燃气阀门", COMMUNITY)
    assert await harness.say("wxid_res_zhang", "收到", HOUSEHOLD) == []        # a neighbour, not listed
    status, = await harness.say(HU, "#回执 N1", COMMUNITY)
    assert "已回执 0" in status.text and HOUSEHOLD in status.text.split("未回执：")[1]
    assert await harness.say("wxid_wangjg", "收到", HOUSEHOLD) == []           # the household head
    assert await harness.say("wxid_liufang", "收到了", GRID) == []
    status, = await harness.say(HU, "#回执 N1", COMMUNITY)
    assert "已回执 2" in status.text
    acked = status.text.split("已回执：")[1].split("未回执：")[0]
    assert f"{HOUSEHOLD}（王建国）" in acked and f"{GRID}（网格员刘芳）" in acked
    assert "wxid" not in status.text


async def test_a_grid_worker_does_not_answer_for_a_household_below_her(harness):
    await harness.say(HU, "#通知 请各户检查燃气阀门", COMMUNITY)
    await harness.say("wxid_liufang", "收到", HOUSEHOLD)
    status, = await harness.say(HU, "#回执 N1", COMMUNITY)
    assert "已回执 0" in status.text


async def test_a_group_with_nobody_listed_is_answered_for_by_the_people_above(harness):
    await harness.say(HU, "#通知 到楼栋 请各楼栋清理楼道堆物", COMMUNITY)
    await harness.say("wxid_liufang", "收到", "幸福小区6栋楼栋群")              # 6栋 lists nobody: its grid
    await harness.say("wxid_res_zhang", "收到", "幸福小区5栋楼栋群")            # 5栋 has its 楼栋长
    status, = await harness.say(HU, "#回执 N1", COMMUNITY)
    assert "幸福小区6栋楼栋群（网格员刘芳）" in status.text and "已回执 1，" in status.text


async def test_the_receipt_reminder_comes_two_hours_before_the_deadline_with_the_notices_first_line(harness):
    await harness.say(HU, "#通知 到网格 请核对辖区户数\n核对表见群文件，务必逐户核实 截止明天17点", COMMUNITY)
    await harness.say("wxid_liufang", "收到", GRID)
    assert not reminders(await harness.tick(at(2026, 11, 26, 14, 59)))
    sent = await harness.tick(at(2026, 11, 26, 15, 0))
    reminder, = reminders(sent)
    assert reminder.room_topic == GRID4
    assert reminder.text == ("【回执提醒】通知 N1「请核对辖区户数」将于11月26日 17:00截止回执，"
                             "本群尚未回复，请群负责人回复“收到”。")
    deadline = await harness.tick(at(2026, 11, 26, 17, 0))
    assert not reminders(deadline)                                            # one reminder, not two
    missing, = to_room(deadline, COMMUNITY)
    assert missing.text == "通知 N1「请核对辖区户数」回执截止，仍有 1 个群未回复：城南社区第4网格群"
    assert not [o for o in await harness.tick(at(2026, 11, 28, 17, 0)) if "N1" in o.text]


async def test_a_short_deadline_is_reminded_half_way(harness):
    await harness.say(HU, "#通知 到网格 网格员十点到社区开会 截止1小时后", COMMUNITY)   # sent 09:01
    assert not reminders(await harness.tick(at(2026, 11, 25, 9, 30)))
    sent = await harness.tick(at(2026, 11, 25, 9, 31))
    assert sorted(o.room_topic for o in reminders(sent)) == sorted([GRID, GRID4])


async def test_a_reminder_due_in_quiet_hours_waits_for_seven_or_comes_the_evening_before(new_db, classifier):
    h = Harness(new_db("quiet"), classifier, at(2026, 11, 25, 19, 0))
    await h.say(HU, "#通知 到网格 明早集合 截止明天8点", COMMUNITY)            # 2 h before: 06:00, quiet
    await h.say(HU, "#通知 到网格 明早早点到 截止明天7点10分", COMMUNITY)      # 05:10, and 07:00 is too late
    sent = await h.tick(at(2026, 11, 25, 21, 29))
    assert not reminders(sent)
    evening = reminders(await h.tick(at(2026, 11, 25, 21, 30)))
    assert {o.room_topic for o in evening} == {GRID, GRID4} and all("N2" in o.text for o in evening)
    assert not reminders(await h.tick(at(2026, 11, 26, 6, 59)))
    morning = reminders(await h.tick(at(2026, 11, 26, 7, 0)))
    assert {o.room_topic for o in morning} == {GRID, GRID4} and all("N1" in o.text for o in morning)


async def test_a_reminder_falling_due_while_the_bot_was_down_goes_out_once(new_db, classifier):
    db = new_db("restart")
    first = Harness(db, classifier, at(2026, 11, 25, 9, 0))
    await first.say(HU, "#通知 到网格 请核对辖区户数 截止今天17点", COMMUNITY)
    await first.tick(at(2026, 11, 25, 14, 0))                                   # stopped before 15:00
    second = Harness(db, classifier, at(2026, 11, 25, 16, 30))
    sent = reminders(await second.tick(at(2026, 11, 25, 16, 30)))
    assert sorted(o.room_topic for o in sent) == sorted([GRID, GRID4])
    assert all("补发：原定 11月25日 15:00" in o.text for o in sent)
    later = await second.tick(at(2026, 11, 25, 18, 0))
    assert not reminders(later) and len(to_room(later, COMMUNITY)) == 1


async def test_down_over_the_whole_reminder_window_the_deadline_still_reminds_once(new_db, classifier):
    db = new_db("down")
    first = Harness(db, classifier, at(2026, 11, 25, 9, 0))
    await first.say(HU, "#通知 到网格 请核对辖区户数 截止今天17点", COMMUNITY)
    second = Harness(db, classifier, at(2026, 11, 25, 18, 0))
    sent = await second.tick(at(2026, 11, 25, 18, 0))
    assert sorted(o.room_topic for o in reminders(sent)) == sorted([GRID, GRID4])
    assert all("已到截止时间" in o.text for o in reminders(sent))
    assert len(to_room(sent, COMMUNITY)) == 1
    assert not reminders(await second.tick(at(2026, 11, 27, 18, 0)))


async def test_the_missing_rooms_of_a_county_notice_are_listed_by_town(harness):
    await harness.say(CHEN, "#通知 请各级做好防汛准备", COUNTY)
    await harness.say("wxid_liufang", "收到", GRID)
    await harness.say("wxid_yt_zhenzhang", "收到", "雩田镇红网格工作群")
    sent = await harness.tick(at(2026, 11, 26, 9, 1))
    missing, = to_room(sent, COUNTY)
    head, *lines = missing.text.splitlines()
    assert head == "通知 N1「请各级做好防汛准备」回执截止，仍有 11 个群未回复："
    assert lines == [
        "· 泉江镇城市社区党工委（7）：泉江城市社区党工委工作群、城南社区党组织工作群、幸福小区5栋楼栋群、"
        "5栋孙丽中心户邻里群、5栋王建国中心户邻里群、幸福小区6栋楼栋群、城南社区第4网格群",
        "· 雩田镇（4）：上坪村两委工作群、上坪村第1网格群、上坪村4组村民群、李春生中心户联系群",
    ]
    status, = await harness.say(CHEN, "#回执 N1", COUNTY)
    assert "· 雩田镇（1）：雩田镇红网格工作群（雩田镇罗镇长）" in status.text
    assert "· 雩田镇（4）：上坪村两委工作群" in status.text
