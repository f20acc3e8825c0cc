"""Lists people can act on: each #清单 line says where, what, who, how urgent and how overdue; the
Monday digest says nothing where nothing happened; #排行 credits whoever resolved the ticket; one
broken ticket row leaves only itself out."""
import logging
from datetime import timedelta

from sqlalchemy import create_engine, text

from tests.harness import at, to_room

HOUSEHOLD = "5栋王建国中心户邻里群"
GRID = "城南社区第3网格群"
COMMUNITY = "城南社区党组织工作群"
COUNTY = "遂川县红网格指挥中心"
RESIDENT = "wxid_res_zhang"
POWER_CUT = "5栋2单元从早上开始就没电了，冰箱都停了"
BURST_PIPE = "楼道里的水管爆了，水流得到处都是"
STREET_LAMP = "小区门口的路灯坏了好几天了，晚上黑乎乎的"
LONG_TALE = "小区门口的路灯坏了好几天了，晚上黑乎乎的，老人出门散步都不敢走，上周还有人摔了一跤"


def line_of(text: str, no: str) -> str:
    return next(line for line in text.splitlines() if line.startswith(f"· {no}｜"))


def edit_database(url: str, sql: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(sql))
    engine.dispose()


async def test_each_list_line_gives_place_summary_assignee_urgency_and_overdue(harness):
    await harness.say(RESIDENT, LONG_TALE, HOUSEHOLD, after=timedelta(0))          # T1, accept by 13:00
    await harness.say("wxid_res_b", "幸福小区5栋楼道着火了，浓烟很大", HOUSEHOLD)      # T2, urgent
    await harness.say("wxid_zhoujq", "#受理 T2", GRID)
    *_, lists = await harness.say("wxid_cn_zhuren", "#清单", COMMUNITY, after=timedelta(hours=5))
    first = line_of(lists.text, "T1").split("｜")
    assert first[1:4] == ["一般", "城管", "待受理"]
    assert first[4].startswith("王建国中心户")
    assert first[5] == "小区门口的路灯坏了好几天了，晚上黑乎乎的…"          # a glimpse, not the whole tale
    assert first[6] == "网格员刘芳" and first[-1] == "⚠超期未受理"
    urgent = line_of(lists.text, "T2").split("｜")
    assert urgent[1] == "紧急" and urgent[3] == "处置中" and urgent[-1] == "⚠超期未办结"


async def test_the_solved_list_names_who_resolved_it(harness):
    await harness.say(RESIDENT, BURST_PIPE, HOUSEHOLD, after=timedelta(0))
    await harness.say("wxid_water_li", "#办结 T1 已关阀换管", "县自来水公司工单群")
    lists, = await harness.say("wxid_liufang", "#清单", GRID)
    done = line_of(lists.text.split("【解决清单】")[1], "T1")
    assert "供水-李工" in done and "评价：待评价" in done


async def test_ranking_credits_whoever_resolved_the_ticket_not_the_grid_worker(harness):
    await harness.say(RESIDENT, BURST_PIPE, HOUSEHOLD, after=timedelta(0))          # T1 water
    await harness.say("wxid_res_b", STREET_LAMP, HOUSEHOLD)                         # T2 urban_mgmt
    await harness.say("wxid_res_c", POWER_CUT, HOUSEHOLD)                           # T3 power
    await harness.say("wxid_water_li", "#办结 T1 已关阀换管", "县自来水公司工单群")      # the liaison
    await harness.say("wxid_cn_zhuren", "#办结 T2 已联系城管换灯", COMMUNITY)          # the admin
    await harness.say(RESIDENT, "#评价 T1 满意", HOUSEHOLD)
    ranking, = await harness.say("wxid_chen_zr", "#排行", COUNTY)
    # 网格员刘芳 is the assignee of all three, and resolved none.
    assert ranking.text.splitlines() == ["【遂川县｜本月办结排行】（按办结人：办结数｜按时率｜满意度）",
                                         "1. 供水-李工：1件｜100%｜100分(1评)", "2. 城南社区胡主任：1件｜100%｜—"]
    await harness.say("wxid_liufang", "#办结 T3 已修复线路", GRID)
    ranking, = await harness.say("wxid_chen_zr", "#排行", COUNTY)
    assert "网格员刘芳：1件" in ranking.text


async def test_the_monday_digest_says_nothing_where_nothing_happened(harness):
    sent = await harness.tick(at(2026, 11, 30, 9, 30))                               # a quiet week
    assert [o for o in sent if "每周清单" in o.text] == []
    await harness.say(RESIDENT, BURST_PIPE, HOUSEHOLD)
    sent = await harness.tick(at(2026, 12, 7, 9, 30))
    weekly = {o.room_topic: o.text for o in sent if "每周清单" in o.text}
    assert set(weekly) == {COMMUNITY, "泉江城市社区党工委工作群", COUNTY}
    assert "⚠超期未受理、超期未办结" in line_of(weekly[COUNTY], "T1")


async def test_one_broken_ticket_row_leaves_only_itself_out_of_lists_and_digests(harness, caplog):
    url = str(harness.engine.url.render_as_string(hide_password=False))
    await harness.say(RESIDENT, BURST_PIPE, HOUSEHOLD, after=timedelta(0))
    await harness.say("wxid_res_b", STREET_LAMP, HOUSEHOLD)
    edit_database(url, "UPDATE ticket SET urgency = 'bogus' WHERE no = 'T1'")      # a bad hand edit
    caplog.set_level(logging.ERROR)
    lists, = await harness.say("wxid_liufang", "#清单", GRID)
    assert "【问题清单】第3网格 未办结 2 件" in lists.text
    assert "· T1｜" not in lists.text and line_of(lists.text, "T2")
    sent = await harness.tick(at(2026, 11, 26, 8, 30))
    daily, = [o for o in to_room(sent, GRID) if "每日工单提醒" in o.text]
    assert "· T1｜" not in daily.text and line_of(daily.text, "T2")
    left_out = [r.getMessage() for r in caplog.records if "digest line" in r.getMessage()]
    assert left_out and all("ticket=T1" in m for m in left_out)
    assert "水管" not in caplog.text
