"""`#统计 … 图` (issue 16): besides the figures, a chart image — new and resolved per day, 超期未办结 by
child node, new by department — checked as a person would look at it: its size, that it is not blank,
and its bars counted by colour."""
import json
from datetime import timedelta

import numpy as np
from PIL import Image

from bot.cli import main
from bot.domain.charts import DEPARTMENT_COLOUR, NEW_COLOUR, OVERDUE_COLOUR, RESOLVED_COLOUR
from tests.harness import ORG_SMALL, Harness, at

COUNTY = "遂川县红网格指挥中心"


def pixels(path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.format == "PNG"
        return np.asarray(image.convert("RGB"))


def _runs(line: np.ndarray) -> int:
    """Separate stretches of True in a row or column of pixels."""
    return int(np.count_nonzero(line[1:] & ~line[:-1]) + bool(line[0]))


def bars(image: np.ndarray, colour: str, vertical: bool) -> int:
    """How many bars of exactly this colour the picture shows. Bars of a series share their base, so
    the stretches of the colour along the pixel row nearest the base (vertical bars: the lowest row
    that has the colour; horizontal bars: the leftmost column) are the bars, and the legend above the
    plot is not counted."""
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.uint8)
    mask = np.all(image == rgb, axis=2)
    lines = [line for line in (mask[::-1] if vertical else mask.T) if line.any()]
    return _runs(lines[0]) if lines else 0


async def test_stats_with_a_picture_sends_the_figures_and_a_chart_of_the_month(new_db, classifier, tmp_path):
    # Monday 2 November: four reports over the week in both towns, one resolved.
    harness = Harness(new_db(), classifier, at(2026, 11, 2, 9, 0), export_dir=str(tmp_path / "exports"))
    await harness.say("wxid_res_a", "5栋2单元从早上开始就没电了", "5栋王建国中心户邻里群")
    await harness.say("wxid_res_b", "村口的井盖翻了，晚上看不见", "上坪村4组村民群")
    await harness.say("wxid_res_c", "家里水管爆了，厨房一直漏水", "5栋孙丽中心户邻里群", after=timedelta(days=1))
    await harness.say("wxid_sp_wgy", "#办结 T2 已经盖好", "上坪村第1网格群", after=timedelta(days=1))
    await harness.say("wxid_res_d", "村里的路灯坏了好几天了", "上坪村4组村民群", after=timedelta(days=1))
    tickets = harness.tickets()
    assert len(tickets) == 4

    # Thursday 12 November: T1, T3 (泉江) and T4 (雩田) are past their resolve deadline.
    await harness.tick(at(2026, 11, 12, 10, 0))
    reply, = await harness.say("wxid_chen_zr", "#统计 本月 图", COUNTY, after=timedelta(0))
    plain, = await harness.say("wxid_chen_zr", "#统计 本月", COUNTY, after=timedelta(0))
    assert reply.room_topic == COUNTY and reply.text == plain.text and plain.file_path is None
    assert "新增 4" in reply.text and "超期未办结 3" in reply.text
    assert reply.file_path.endswith(".png") and reply.file_path.startswith(str(tmp_path / "exports"))

    image = pixels(reply.file_path)
    assert image.shape == (1000, 1000, 3)
    colours = np.unique(image.reshape(-1, 3), axis=0)
    assert len(colours) > 20                                   # text, axes and four colours of bars
    assert np.mean(np.any(image < 250, axis=2)) > 0.05         # not a blank page
    assert bars(image, NEW_COLOUR, vertical=True) == 3         # reports on the 2nd, 3rd and 5th
    assert bars(image, RESOLVED_COLOUR, vertical=True) == 1    # T2 on the 4th
    assert bars(image, OVERDUE_COLOUR, vertical=False) == 2    # both towns have overdue tickets
    assert bars(image, DEPARTMENT_COLOUR, vertical=False) == len({t["department"] for t in tickets})


async def test_a_chart_for_today_or_the_week_and_an_empty_one_still_shows(new_db, classifier, tmp_path):
    harness = Harness(new_db(), classifier, at(2026, 11, 25, 9, 0), export_dir=str(tmp_path))
    empty, = await harness.say("wxid_cn_zhuren", "#统计 图", "城南社区党组织工作群")
    assert empty.text.startswith("【城南社区｜今天统计】") and empty.file_path
    blank = pixels(empty.file_path)
    assert blank.shape == (1000, 1000, 3) and np.mean(np.any(blank < 250, axis=2)) > 0.01
    assert all(bars(blank, c, vertical=v) == 0 for c, v in ((NEW_COLOUR, True), (OVERDUE_COLOUR, False),
                                                           (DEPARTMENT_COLOUR, False)))

    await harness.say("wxid_res_a", "5栋2单元从早上开始就没电了", "5栋王建国中心户邻里群")
    today, = await harness.say("wxid_liufang", "#统计 今天图", "城南社区第3网格群")
    assert today.text.startswith("【第3网格｜今天统计】")
    assert bars(pixels(today.file_path), NEW_COLOUR, vertical=True) == 1
    week, = await harness.say("wxid_cn_zhuren", "#统计 本周 图表", "城南社区党组织工作群")
    assert week.text.startswith("【城南社区｜本周统计】") and week.file_path != today.file_path
    assert bars(pixels(week.file_path), DEPARTMENT_COLOUR, vertical=False) == 1
    bad, = await harness.say("wxid_cn_zhuren", "#统计 去年 图", "城南社区党组织工作群")
    assert bad.file_path is None and bad.text.startswith("统计时段只能是 今天、本周、本月")
    refused, = await harness.say("wxid_wangjg", "#统计 本月 图", "城南社区第3网格群")
    assert refused.file_path is None and refused.text == "只有第3网格或上级的管理员或网格员可以查看统计。"


def test_replay_prints_the_chart_file(new_db, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GRIDBOT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)                   # exports/ is made in the working directory
    lines = [{"at": "2026-11-25T09:00:00+08:00", "room": "5栋王建国中心户邻里群", "from": "wxid_res_a",
              "text": "5栋2单元从早上开始就没电了"},
             {"at": "2026-11-25T10:00:00+08:00", "room": COUNTY, "from": "wxid_chen_zr", "text": "#统计 本月 图"}]
    scenario = tmp_path / "chart.jsonl"
    scenario.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines), encoding="utf-8")
    assert main(["replay", str(scenario), "--org", str(ORG_SMALL), "--db", new_db("replay")]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    chart, = [o for o in out if "file" in o]
    assert chart["room"] == COUNTY and chart["text"].startswith("【遂川县｜本月统计】")
    assert chart["file"].endswith(".png") and pixels(chart["file"]).shape == (1000, 1000, 3)
    assert all("file" not in o for o in out if o is not chart)
