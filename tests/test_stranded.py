"""A 1:1 report from someone not in the org: the bot asks where they live, moves the ticket to the
grid named, or leaves it with the county, which is reminded and escalated like any other."""
from datetime import timedelta

from tests.harness import at, to_room

COUNTY = "遂川县红网格指挥中心"
GRID = "城南社区第3网格群"
COMMUNITY = "城南社区党组织工作群"
POWER = "县供电公司工单群"
STRANGER = "wxid_res_stranger"
LAMP = "小区门口的路灯坏了好几天了，晚上黑乎乎的"


async def test_a_private_report_from_a_stranger_asks_once_where_they_live(harness):
    sent = await harness.say(STRANGER, LAMP, None, name="老李")
    to_me = [o.text for o in sent if o.to == STRANGER]
    assert len(to_me) == 2 and "T1" in to_me[0]
    assert "住在哪个" in to_me[1] and "城南社区" in to_me[1]
    assert harness.ticket("T1")["node"] == "遂川县" and harness.ticket("T1")["assignee"] is None
    alert, = to_room(sent, COUNTY)
    assert "@指挥中心陈主任" in alert.text and "上报人：居民「老李」" in alert.text


async def test_the_answer_moves_the_ticket_to_that_grid_and_its_worker_is_alerted(harness):
    await harness.say(STRANGER, LAMP, None, name="老李")
    sent = await harness.say(STRANGER, "我住城南社区第三网格", None, name="老李")
    reply, = [o for o in sent if o.to == STRANGER]
    assert "T1" in reply.text and "网格员刘芳" in reply.text
    alert, = to_room(sent, GRID)
    assert alert.mentions == ("wxid_liufang",) and "#受理 T1" in alert.text
    told, = to_room(sent, COUNTY)
    assert "T1" in told.text and "城南社区第3网格" in told.text
    ticket = harness.ticket("T1")
    assert ticket["node"] == "遂川县/泉江镇城市社区党工委/城南社区/第3网格"
    assert ticket["assignee"] == "wxid_liufang"
    # The worker of that grid now handles it; a later private message is no longer an answer.
    await harness.say("wxid_liufang", "#受理 T1", GRID)
    assert harness.ticket("T1")["status"] == "accepted"
    assert [o for o in await harness.say(STRANGER, "城南社区", None) if "T1" in o.text] == []


async def test_short_forms_of_place_names_are_understood(harness):
    await harness.say(STRANGER, LAMP, None, name="老李")
    await harness.say(STRANGER, "上坪", None)
    assert harness.ticket("T1")["node"] == "遂川县/雩田镇/上坪村"
    await harness.say("wxid_res_other", LAMP, None)
    await harness.say("wxid_res_other", "第4网格", None)
    assert harness.ticket("T2")["node"] == "遂川县/泉江镇城市社区党工委/城南社区/第4网格"
    assert harness.ticket("T2")["assignee"] == "wxid_chenmin"


async def test_a_community_without_grid_goes_to_its_admins(harness):
    await harness.say(STRANGER, LAMP, None)
    sent = await harness.say(STRANGER, "城南", None)
    alert, = to_room(sent, COMMUNITY)
    assert "@城南社区胡主任" in alert.text and alert.mentions == ("wxid_cn_zhuren",)
    assert harness.ticket("T1")["node"] == "遂川县/泉江镇城市社区党工委/城南社区"


async def test_an_answer_that_matches_nothing_is_asked_again_once_then_the_county_keeps_it(harness):
    await harness.say(STRANGER, LAMP, None)
    assert await harness.say(STRANGER, "好的，谢谢", None) == []          # courtesy is no answer
    again, = await harness.say(STRANGER, "就在老街那边", None)
    assert "没有找到" in again.text and "例如" in again.text
    last, = await harness.say(STRANGER, "不知道", None)
    assert "指挥中心安排" in last.text
    assert harness.ticket("T1")["node"] == "遂川县"
    assert await harness.say(STRANGER, "不知道", None) == []
    assert harness.ticket("T1")["node"] == "遂川县"


async def test_a_new_problem_instead_of_an_answer_is_a_new_report(harness):
    await harness.say(STRANGER, LAMP, None)
    await harness.say(STRANGER, "家里水管爆了，水流得到处都是", None)
    assert [t["no"] for t in harness.tickets()] == ["T1", "T2"]


async def test_a_ticket_at_the_county_is_reminded_and_escalated_there(harness):
    await harness.say(STRANGER, LAMP, None)                 # 09:01, accept by 13:01
    await harness.say(STRANGER, "不知道", None)
    await harness.say(STRANGER, "不知道", None)
    sent = await harness.tick(at(2026, 11, 25, 13, 5))
    reminder, = to_room(sent, COUNTY)
    assert "T1" in reminder.text and "超过受理时限" in reminder.text and "#指派 T1" in reminder.text
    assert reminder.mentions == ("wxid_chen_zr",)
    assert harness.ticket("T1")["escalation_level"] == 1
    # The next morning's digest lists it in the county room.
    sent = await harness.tick(at(2026, 11, 26, 9, 0))
    assert any("T1" in o.text and "每日工单提醒" in o.text for o in to_room(sent, COUNTY))
    lists, = await harness.say("wxid_chen_zr", "#清单", COUNTY)
    assert "T1" in lists.text
    # Past the resolve deadline nothing climbs above the county.
    sent = await harness.tick(at(2026, 12, 2, 9, 0))
    assert harness.ticket("T1")["escalation_level"] == 1


async def test_a_town_room_report_is_reminded_in_the_town_room_and_escalated_to_the_county(harness):
    await harness.say("wxid_res_zhang", "镇政府门口的路灯坏了好几天了", "雩田镇红网格工作群")
    sent = await harness.tick(at(2026, 11, 25, 13, 5))
    reminder, = to_room(sent, "雩田镇红网格工作群")
    assert reminder.mentions == ("wxid_yt_zhenzhang",) and "T1" in reminder.text
    escalation, = to_room(sent, COUNTY)
    assert "逐级转报" in escalation.text


async def test_answers_in_a_bigger_county_find_the_one_place_they_name(new_db, classifier):
    from pathlib import Path

    from tests.harness import Harness

    sample = Path(__file__).parent.parent / "bot" / "data" / "sample_county.yaml"
    bot = Harness(new_db(), classifier, at(2026, 11, 25, 9, 0), org=sample)
    answers = {"城北社区第1网格": "遂川县/泉江镇城市社区党工委/城北社区/城北第1网格",
               "城南3网格": "遂川县/泉江镇城市社区党工委/城南社区/第3网格",
               "我住在幸福小区7栋": "遂川县/泉江镇城市社区党工委/城南社区/第4网格/幸福小区7栋",
               "泉江": "遂川县/泉江镇城市社区党工委"}
    for i, (answer, path) in enumerate(answers.items(), start=1):
        await bot.say(f"wxid_res_{i}", LAMP, None)
        await bot.say(f"wxid_res_{i}", answer, None)
        assert bot.ticket(f"T{i}")["node"] == path, answer
    # Several communities have a 第1网格: which one is asked again.
    await bot.say("wxid_res_x", LAMP, None)
    again, = await bot.say("wxid_res_x", "第1网格", None)
    assert "没有找到" in again.text and bot.ticket("T5")["node"] == "遂川县"


async def test_a_stranger_forwarding_two_problems_is_asked_once_and_one_answer_places_both(harness):
    items = (("邻居老周", "楼下的井盖翻了，晚上看不见容易摔"), ("邻居小李", "5栋2单元从早上开始就没电了"))
    sent = await harness.say(STRANGER, "", None, kind="chat_history", items=items)
    assert len([o for o in sent if "住在哪个" in o.text]) == 1
    await harness.say(STRANGER, "城南社区第3网格", None)
    assert {t["node"] for t in harness.tickets()} == {"遂川县/泉江镇城市社区党工委/城南社区/第3网格"}


async def test_a_long_odd_answer_is_answered_at_once(harness):
    import time

    await harness.say(STRANGER, LAMP, None)
    for answer in ("嗯" * 1999 + "？", "三" * 1999):
        started = time.process_time()
        reply, = await harness.say(STRANGER, answer, None)
        assert time.process_time() - started < 1.0 and "工单 T1" in reply.text
