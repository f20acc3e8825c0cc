"""#统计 / #排行 / #清单 / #导出 on a seeded database, scoped to the room's subtree; the export verb."""
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from bot.cli import main
from tests.harness import at, Harness

HOUSEHOLD = "5栋王建国中心户邻里群"
GRID = "城南社区第3网格群"
COMMUNITY = "城南社区党组织工作群"
COUNTY = "遂川县红网格指挥中心"
VILLAGE_GROUP = "上坪村4组村民群"


@pytest.fixture
async def seeded(tmp_path, new_db, classifier) -> Harness:
    """Wed 2026-11-25: three urban tickets (one resolved on time and rated, one overdue), one rural."""
    h = Harness(new_db("stats"), classifier, at(2026, 11, 23, 9, 0),
                export_dir=str(tmp_path / "exports"))
    await h.say("wxid_res_a", "楼道里的水管爆了，水流得到处都是", HOUSEHOLD)                      # T1 water, Mon
    await h.say("wxid_res_b", "小区门口的路灯坏了好几天了，晚上黑乎乎的", HOUSEHOLD,
                after=timedelta(days=2))                                                      # T2 Wed
    await h.say("wxid_liufang", "#办结 T2 已换灯泡", GRID)
    await h.say("wxid_res_b", "#评价 T2 满意", HOUSEHOLD)
    await h.say("wxid_res_c", "村口的自来水管破了，水哗哗地往外冒", VILLAGE_GROUP)               # T3 rural water
    await h.say("wxid_res_d", "5栋门口有人占道经营摆摊，堵得走不了路", HOUSEHOLD)                 # T4 urban_mgmt
    await h.tick(at(2026, 11, 25, 18, 0))
    return h


async def test_summary_for_the_community_today_and_this_week(seeded):
    reply, = await seeded.say("wxid_cn_zhuren", "#统计", COMMUNITY)
    assert reply.text.splitlines()[0] == "【城南社区｜今天统计】"
    assert "新增 2，未办结 2，办结 1，超期未受理 2，超期未办结 0，按时办结率 100%" in reply.text
    reply, = await seeded.say("wxid_cn_zhuren", "#统计 本周", COMMUNITY)
    assert "新增 3，未办结 2，办结 1" in reply.text and "供水 1" in reply.text and "城管 2" in reply.text
    county, = await seeded.say("wxid_chen_zr", "#统计 本周", COUNTY)
    assert "新增 4，未办结 3" in county.text and "供水 2" in county.text


async def test_overdue_counted(seeded):
    *_, reply = await seeded.say("wxid_cn_zhuren", "#统计 本月", COMMUNITY, after=timedelta(days=5, hours=1))
    assert reply.room_topic == COMMUNITY and reply.text.startswith("【城南社区｜本月统计】")
    assert "超期未办结 2" in reply.text


async def test_ranking_and_lists(seeded):
    reply, = await seeded.say("wxid_chen_zr", "#排行", COUNTY)
    assert "1. 网格员刘芳：1件｜100%｜100分(1评)" in reply.text
    lists, = await seeded.say("wxid_liufang", "#清单", GRID)
    assert "【问题清单】第3网格 未办结 2 件" in lists.text and "T3" not in lists.text
    assert "T2" in lists.text.split("【解决清单】")[1]


@pytest.mark.parametrize("sender, room, text, expected", [
    ("wxid_res_a", HOUSEHOLD, "#统计", "只有王建国中心户或上级的管理员或网格员可以查看统计。"),
    ("wxid_liufang", GRID, "#排行", "只有第3网格或上级的管理员可以查看排行。"),
    ("wxid_sp_shuji", COMMUNITY, "#统计", "只有城南社区或上级的管理员或网格员可以查看统计。"),
    ("wxid_cn_zhuren", COMMUNITY, "#统计 去年", "统计时段只能是 今天、本周、本月。用法：#统计 [今天/本周/本月]"),
    ("wxid_cn_zhuren", None, "#清单", "请在本级工作群里查看清单，统计范围就是这个群所在的层级及以下。"),
])
async def test_stats_refusals(seeded, sender, room, text, expected):
    reply, = await seeded.say(sender, text, room)
    assert reply.text == expected


async def test_export_by_message_writes_the_subtree(seeded, tmp_path):
    reply, = await seeded.say("wxid_cn_zhuren", "#导出", COMMUNITY)
    assert reply.text.startswith("已导出 3 张工单到 ") and reply.file_path and reply.file_path.endswith(".xlsx")
    rows = list(load_workbook(reply.file_path).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("工单号", "状态", "紧急程度", "所属部门")
    assert [r[0] for r in rows[1:]] == ["T1", "T2", "T4"]
    assert rows[2][1] == "已归档" and rows[2][-1] == "满意"


def test_export_verb(tmp_path, new_db, capsys, classifier):
    import asyncio
    db = new_db("e")
    h = Harness(db, classifier, at(2026, 11, 25, 9, 0))
    asyncio.run(h.say("wxid_res_a", "楼道里的水管爆了，联系电话13912345678", HOUSEHOLD))
    out = tmp_path / "t.xlsx"
    assert main(["export", "tickets", "--db", db, "--out", str(out)]) == 0
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert len(rows) == 2 and "13912345678" in rows[1][6]          # the file keeps the original
    assert main(["export", "tickets", "--db", db, "--out", str(out),
                 "--since", "2026-11-26"]) == 0
    assert len(list(load_workbook(out).active.iter_rows())) == 1
    assert main(["export", "tickets", "--db", db, "--out", str(out),
                 "--since", "明天"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
