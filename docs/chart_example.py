"""Makes docs/chart_example.png: November on the bundled sample county, through the real dispatch
path (reports in household groups, some resolved by their grid worker, the rest left to run late),
then `#统计 本月 图` in the county room. Run from the repository root:

    python docs/chart_example.py
"""
import asyncio
import random
import shutil
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nlp  # noqa: E402
from tests.harness import Harness, at  # noqa: E402

GRID_OF = {  # a household group → its grid's room and grid worker
    "5栋王建国中心户邻里群": ("城南社区第3网格群", "wxid_liufang"),
    "7栋钟玉兰中心户邻里群": ("城南社区第4网格群", "wxid_chenmin"),
    "2栋罗建华中心户邻里群": ("城北社区第1网格群", "wxid_cb1_wgy"),
    "老街邱海燕中心户联系群": ("城北社区第2网格群", "wxid_cb2_wgy"),
    "李春生中心户联系群": ("上坪村第1网格群", "wxid_sp_wgy"),
    "上坪6组郭长贵中心户联系群": ("上坪村第2网格群", "wxid_sp2_wgy"),
    "龙溪2组黄水生中心户联系群": ("龙溪村第1网格群", "wxid_lx1_wgy"),
    "碧洲3组刘桂香中心户联系群": ("碧洲村第1网格群", "wxid_bz1_wgy"),
    "新坑村邓福生中心户联系群": ("新坑村网格群", "wxid_xk_wgy"),
}
PROBLEMS = ["{n}号楼从早上开始就没电了", "{n}号楼门口的井盖翻了", "{n}号楼家里水管爆了，一直漏水",
            "{n}号楼下垃圾堆了好几天没人清理", "{n}号楼楼上装修噪音太大，晚上也不停", "{n}号楼旁边的路灯坏了好几天了",
            "{n}号楼门口有人占道摆摊", "{n}号楼附近的河里有人倒污水"]


async def main() -> None:
    rng = random.Random(16)
    work = Path(tempfile.mkdtemp())
    harness = Harness(f"sqlite:///{work / 'example.db'}", nlp.load(cache_dir=work / "jieba"), at(2026, 11, 2, 8, 0),
                      org=ROOT / "bot" / "data" / "sample_county.yaml", export_dir=str(work))
    n = 0
    for day in range(24):
        for _ in range(rng.randint(1, 4)):
            n += 1
            await harness.say(f"wxid_res_{n}", rng.choice(PROBLEMS).format(n=n), rng.choice(list(GRID_OF)),
                              after=timedelta(minutes=rng.randint(20, 90)))
        workers = {worker: room for room, worker in GRID_OF.values()}
        for t in harness.tickets():
            if t["status"] == "open" and t["assignee"] in workers and rng.random() < 0.12:
                await harness.say(t["assignee"], f"#办结 {t['no']} 已处理", workers[t["assignee"]],
                                  after=timedelta(minutes=5))
        await harness.tick(at(2026, 11, 3 + day, 8, 0))
    for out in await harness.say("wxid_chen_zr", "#统计 本月 图", "遂川县红网格指挥中心", after=timedelta(hours=2)):
        if out.file_path:
            print(out.text)
            shutil.copy(out.file_path, ROOT / "docs" / "chart_example.png")


if __name__ == "__main__":
    asyncio.run(main())
