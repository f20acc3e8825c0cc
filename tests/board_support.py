"""Helpers for the board's tests: a login code asked for with #登录 through the real dispatch path, and
an HTTP client on the board app (in process for the API tests, a served port for the browser)."""
from __future__ import annotations

import re
from contextlib import asynccontextmanager

import httpx

from bot.board.app import create_app

GRID3_ROOM = "城南社区第3网格群"
GRID4_ROOM = "城南社区第4网格群"
HOUSEHOLD_ROOM = "5栋王建国中心户邻里群"
VILLAGE_ROOM = "上坪村4组村民群"
COUNTY_ADMIN = "wxid_chen_zr"
GRID3_WORKER = "wxid_liufang"
GRID4_WORKER = "wxid_chenmin"
TOWN2_ADMIN = "wxid_yt_zhenzhang"      # 雩田镇


async def login_code(harness, contact_id: str) -> str:
    """The six digits the bot answers to #登录 sent 1:1."""
    sent = await harness.say(contact_id, "#登录")
    found = [m for o in sent if o.to == contact_id for m in re.findall(r"(?<!\d)\d{6}(?!\d)", o.text)]
    assert found, [o.text for o in sent]
    return found[0]


def client(harness) -> httpx.AsyncClient:
    app = create_app(harness.engine, harness.clock)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@asynccontextmanager
async def logged_in(harness, contact_id: str):
    """A client with the person's board session, logged in with a code from #登录."""
    async with client(harness) as c:
        code = await login_code(harness, contact_id)
        r = await c.post("/login", data={"contact_id": contact_id, "code": code})
        assert r.status_code == 303, r.text
        yield c


async def report_in_both_towns(harness) -> None:
    """T1 (power) in 第3网格, T2 (urban_mgmt) in 第3网格, T3 in 上坪 (雩田镇)."""
    await harness.say("wxid_res_a", "5栋2单元从早上开始就没电了", HOUSEHOLD_ROOM)
    await harness.say("wxid_res_b", "小区门口的井盖翻了，晚上很危险", HOUSEHOLD_ROOM)
    await harness.say("wxid_res_c", "村里的自来水管爆了，到处是水", VILLAGE_ROOM)
    assert [t["no"] for t in harness.tickets()] == ["T1", "T2", "T3"]
