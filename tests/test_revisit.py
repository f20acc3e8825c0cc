"""回访 (SPEC §5.1): a resolved ticket nobody rated gets one reminder to rate after 24 h, where it was
reported, mentioning the reporter; after 72 h it is closed as 未评价, counted apart from ratings."""
from datetime import timedelta

from openpyxl import load_workbook

from tests.harness import Harness, at, to_room

HOUSEHOLD = "5栋王建国中心户邻里群"
GRID = "城南社区第3网格群"
COMMUNITY = "城南社区党组织工作群"
RESIDENT = "wxid_res_zhang"
POWER_CUT = "5栋2单元从早上开始就没电了，冰箱都停了"
BURST_PIPE = "楼道里的水管爆了，水流得到处都是"
STREET_LAMP = "小区门口的路灯坏了好几天了，晚上黑乎乎的"


def revisits(sent):
    return [o for o in sent if o.text.startswith("【回访】")]


async def test_a_resolved_ticket_nobody_rated_gets_one_reminder_a_day_later_then_closes_as_unrated(harness):
    await harness.say(RESIDENT, POWER_CUT, HOUSEHOLD, name="张阿姨", after=timedelta(0))   # Wed 09:00
    await harness.say("wxid_liufang", "#办结 T1 已更换保险丝", GRID)                        # 09:01
    assert revisits(await harness.tick(at(2026, 11, 26, 9, 0))) == []                   # not yet a day
    sent = await harness.tick(at(2026, 11, 26, 9, 2))
    reminder, = revisits(sent)
    assert reminder.room_topic == HOUSEHOLD and reminder.mentions == (RESIDENT,)
    assert "@张阿姨" in reminder.text and "工单 T1" in reminder.text and "#评价 T1 满意" in reminder.text
    assert "11月28日 09:01前未评价的，工单将按“未评价”归档" in reminder.text

    # One reminder only; at 72 h the ticket closes quietly, with no rating.
    assert revisits(await harness.tick(at(2026, 11, 28, 9, 0))) == []
    assert harness.ticket("T1")["status"] == "resolved"
    assert await harness.tick(at(2026, 11, 28, 9, 2)) == []
    assert harness.ticket("T1")["status"] == "closed"
    late, = await harness.say(RESIDENT, "#评价 T1 满意", HOUSEHOLD)
    assert late.text == "工单 T1 当前状态为“已归档”，不能评价。"
    detail, = await harness.say(RESIDENT, "#查询 T1", HOUSEHOLD)
    assert "评价：未评价" in detail.text.splitlines()
    assert "回访提醒评价" in detail.text and "系统 归档：未评价" in detail.text


async def test_a_rating_within_the_day_means_no_reminder(harness):
    await harness.say(RESIDENT, POWER_CUT, HOUSEHOLD, after=timedelta(0))
    await harness.say("wxid_liufang", "#办结 T1 已更换保险丝", GRID)
    await harness.say(RESIDENT, "#评价 T1 满意", HOUSEHOLD, after=timedelta(hours=23))
    sent = await harness.tick(at(2026, 12, 2, 9, 0))
    assert revisits(sent) == [] and harness.ticket("T1")["status"] == "closed"


async def test_the_reminder_to_rate_waits_out_quiet_hours(new_db, classifier):
    h = Harness(new_db(), classifier, at(2026, 11, 25, 21, 30))
    await h.say(RESIDENT, STREET_LAMP, HOUSEHOLD, after=timedelta(0))
    await h.say("wxid_liufang", "#办结 T1 已换灯泡", GRID, after=timedelta(minutes=60))       # 22:30
    assert revisits(await h.tick(at(2026, 11, 27, 6, 59))) == []        # due 22:30, held overnight
    reminder, = revisits(await h.tick(at(2026, 11, 27, 7, 0)))
    assert reminder.room_topic == HOUSEHOLD and "补发" not in reminder.text


async def test_reopened_by_unsatisfied_and_resolved_again_starts_a_new_revisit(harness):
    await harness.say(RESIDENT, BURST_PIPE, HOUSEHOLD, after=timedelta(0))
    await harness.say("wxid_liufang", "#办结 T1 已关阀", GRID)                                 # Wed 09:01
    assert len(revisits(await harness.tick(at(2026, 11, 26, 9, 5)))) == 1
    await harness.say(RESIDENT, "#评价 T1 不满意 还在漏", HOUSEHOLD)                           # Thu 09:06
    await harness.say("wxid_liufang", "#办结 T1 已换新管", GRID, after=timedelta(hours=3))      # Thu 12:06
    # The first resolution's 72 h pass without closing it; the new one gets its own reminder.
    sent = await harness.tick(at(2026, 11, 28, 9, 5))
    again, = revisits(sent)
    assert "已于11月26日 12:06办结" in again.text
    assert harness.ticket("T1")["status"] == "resolved"
    await harness.tick(at(2026, 11, 29, 12, 7))
    assert harness.ticket("T1")["status"] == "closed"


async def test_a_restarted_bot_sends_the_reminder_to_rate_once(new_db, classifier):
    url = new_db()
    first = Harness(url, classifier, at(2026, 11, 25, 9, 0))
    await first.say(RESIDENT, POWER_CUT, HOUSEHOLD, after=timedelta(0))
    await first.say("wxid_liufang", "#办结 T1 已更换保险丝", GRID)
    assert len(revisits(await first.tick(at(2026, 11, 26, 10, 0)))) == 1
    first.engine.dispose()
    second = Harness(url, classifier, at(2026, 11, 26, 10, 0))
    assert revisits(await second.tick(at(2026, 11, 27, 10, 0))) == []
    reply, = await second.say(RESIDENT, "#查询 T1", HOUSEHOLD, msg_id="second-1")
    assert reply.text.count("回访提醒评价") == 1
    await second.tick(at(2026, 11, 28, 10, 0))
    assert second.ticket("T1")["status"] == "closed"


async def test_statistics_count_unrated_apart_from_ratings_and_the_export_says_unrated(new_db, classifier, tmp_path):
    h = Harness(new_db(), classifier, at(2026, 11, 23, 9, 0), export_dir=str(tmp_path / "exports"))   # Monday
    await h.say(RESIDENT, POWER_CUT, HOUSEHOLD, after=timedelta(0))                 # T1: never rated
    await h.say("wxid_res_b", BURST_PIPE, HOUSEHOLD)                                # T2: 满意
    await h.say("wxid_res_c", STREET_LAMP, HOUSEHOLD)                               # T3: 不满意, reopened
    for no in ("T1", "T2", "T3"):
        await h.say("wxid_liufang", f"#办结 {no} 已处理", GRID)
    await h.say("wxid_res_b", "#评价 T2 满意", HOUSEHOLD)
    await h.say("wxid_res_c", "#评价 T3 不满意 灯还是不亮", HOUSEHOLD)
    await h.tick(at(2026, 11, 27, 9, 0))                                            # Friday: T1 closed
    stats, = await h.say("wxid_cn_zhuren", "#统计 本周", COMMUNITY)
    # Satisfaction over the two ratings given; T1's silence is not a bad rating.
    assert "评价 2 次，满意率 50%（满意、基本满意）；未评价归档 1" in stats.text
    export, = await h.say("wxid_cn_zhuren", "#导出", COMMUNITY)
    rows = list(load_workbook(export.file_path).active.iter_rows(values_only=True))
    rating = rows[0].index("群众评价")
    assert {r[0]: r[rating] for r in rows[1:]} == {"T1": "未评价", "T2": "满意", "T3": "不满意"}
    lists, = await h.say("wxid_liufang", "#清单", GRID)
    done = lists.text.split("【解决清单】")[1]
    assert "T1｜" in done and "评价：未评价" in done and "评价：满意" in done
    assert to_room(await h.tick(at(2026, 11, 27, 10, 0)), HOUSEHOLD) == []


async def test_after_the_upgrade_old_resolved_tickets_credit_their_resolver_and_get_their_revisit(new_db, classifier):
    from alembic import command
    from sqlalchemy import create_engine, text

    from bot.storage.db import alembic_config

    url = new_db()
    before = Harness(url, classifier, at(2026, 11, 25, 9, 0))
    await before.say(RESIDENT, BURST_PIPE, HOUSEHOLD, after=timedelta(0))
    await before.say("wxid_water_li", "#办结 T1 已关阀换管", "县自来水公司工单群")
    before.engine.dispose()
    # Back to the schema before 0004, as the previous version left it: no resolver, nothing planned.
    engine = create_engine(url)          # foreign keys unchecked while SQLite rebuilds the table
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0003")
        conn.execute(text("UPDATE ticket SET next_action_at = NULL"))
    engine.dispose()

    after = Harness(url, classifier, at(2026, 11, 25, 9, 5))              # upgrades on start
    ranking, = await after.say("wxid_chen_zr", "#排行", "遂川县红网格指挥中心", msg_id="after-1")
    assert "1. 供水-李工：1件" in ranking.text
    reminder, = revisits(await after.tick(at(2026, 11, 26, 9, 5)))
    assert reminder.room_topic == HOUSEHOLD and "工单 T1" in reminder.text


async def test_reminders_to_rate_held_by_the_same_night_reach_the_room_as_one_message(new_db, classifier):
    h = Harness(new_db(), classifier, at(2026, 11, 25, 21, 0))
    await h.say(RESIDENT, STREET_LAMP, HOUSEHOLD, name="张阿姨", after=timedelta(0))
    await h.say("wxid_res_b", BURST_PIPE, HOUSEHOLD, name="李大爷")
    await h.say("wxid_liufang", "#办结 T1 已换灯泡", GRID, after=timedelta(minutes=70))      # 22:11
    await h.say("wxid_liufang", "#办结 T2 已关阀", GRID, after=timedelta(minutes=30))        # 22:41
    sent = await h.tick(at(2026, 11, 27, 7, 30))
    reminder, = revisits(sent)
    lines = reminder.text.splitlines()
    assert lines[0] == "【回访】共2件工单已办结、尚未评价："
    assert lines[1].startswith("1. @张阿姨") and "工单 T1" in lines[1]
    assert any(line.startswith("2. @李大爷") and "工单 T2" in line for line in lines)
    assert set(reminder.mentions) == {RESIDENT, "wxid_res_b"}
