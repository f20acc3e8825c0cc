"""The web board's login and API (SPEC §5.1 #登录, §6.4) through the ASGI app, with login codes asked
for through the real dispatch path and the bot's virtual clock."""
from datetime import timedelta

from bot.domain.org import OrgDirectory
from bot.domain.tickets import TicketService
from bot.outbox import Outbox
from bot.storage.db import session
from bot.storage.models import BoardLogin, Ticket
from sqlmodel import select
from tests.board_support import (COUNTY_ADMIN, GRID3_ROOM, GRID4_ROOM, GRID3_WORKER, GRID4_WORKER, HOUSEHOLD_ROOM, TOWN2_ADMIN,
                                 client, logged_in, login_code, report_in_both_towns)
from tests.harness import to_room

PAGES = ["/", "/screen", "/tickets", "/tickets/T1", "/notices/N1", "/rankings", "/partials/overview"]
API = ["/api/tickets", "/api/tickets/T1", "/api/summary"]


async def test_login_code_sent_one_to_one_lets_the_admin_in_with_a_safe_cookie(harness):
    async with client(harness) as c:
        code = await login_code(harness, COUNTY_ADMIN)
        r = await c.post("/login", data={"contact_id": COUNTY_ADMIN, "code": code})
        assert r.status_code == 303 and r.headers["location"] == "/"
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert (await c.get("/api/tickets")).status_code == 200
        with session(harness.engine) as s:         # only a hash is kept, and it is gone once used
            row = s.get(BoardLogin, COUNTY_ADMIN)
            assert row.code_hash is None


async def test_login_in_a_group_says_to_ask_privately_and_gives_no_code(harness):
    sent = await harness.say(COUNTY_ADMIN, "#登录", "遂川县红网格指挥中心")
    assert len(sent) == 1 and "私聊" in sent[0].text
    assert not any(ch.isdigit() for ch in sent[0].text)


async def test_a_resident_gets_no_code_and_no_board(harness):
    sent = await harness.say("wxid_res_a", "#登录")
    assert sent[0].text == "只有管理员或网格员可以登录指挥看板。"
    async with client(harness) as c:
        r = await c.post("/login", data={"contact_id": "wxid_res_a", "code": "123456"})
        assert r.status_code == 401 and "set-cookie" not in r.headers
        assert (await c.get("/api/tickets")).status_code == 401


async def test_a_used_code_is_refused_the_second_time(harness):
    code = await login_code(harness, COUNTY_ADMIN)
    async with client(harness) as first, client(harness) as second:
        assert (await first.post("/login", data={"contact_id": COUNTY_ADMIN, "code": code})).status_code == 303
        r = await second.post("/login", data={"contact_id": COUNTY_ADMIN, "code": code})
        assert r.status_code == 401 and "已用过" in r.text
        assert (await second.get("/api/summary")).status_code == 401


async def test_a_code_expires_after_ten_minutes(harness):
    code = await login_code(harness, GRID3_WORKER)
    await harness.tick(harness.clock.now() + timedelta(minutes=10, seconds=1))
    async with client(harness) as c:
        r = await c.post("/login", data={"contact_id": GRID3_WORKER, "code": code})
        assert r.status_code == 401 and "过期" in r.text


async def test_five_wrong_codes_lock_the_contact_for_fifteen_minutes(harness):
    code = await login_code(harness, COUNTY_ADMIN)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    async with client(harness) as c:
        for left in (4, 3, 2, 1):
            r = await c.post("/login", data={"contact_id": COUNTY_ADMIN, "code": wrong})
            assert r.status_code == 401 and f"还可再试{left}次" in r.text
        r = await c.post("/login", data={"contact_id": COUNTY_ADMIN, "code": wrong})
        assert "锁定15分钟" in r.text
        # Locked: even the right code does not open, and #登录 says until when.
        r = await c.post("/login", data={"contact_id": COUNTY_ADMIN, "code": code})
        assert r.status_code == 401 and "锁定" in r.text
        sent = await harness.say(COUNTY_ADMIN, "#登录")
        assert "锁定" in sent[0].text and "09:" in sent[0].text
        await harness.tick(harness.clock.now() + timedelta(minutes=15))
        fresh = await login_code(harness, COUNTY_ADMIN)
        assert (await c.post("/login", data={"contact_id": COUNTY_ADMIN, "code": fresh})).status_code == 303


async def test_without_a_session_pages_go_to_login_and_the_api_answers_401(harness):
    await report_in_both_towns(harness)
    async with client(harness) as c:
        for path in PAGES:
            r = await c.get(path)
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
        for path in API:
            assert (await c.get(path)).status_code == 401, path
        c.cookies.set("gridbot_board", "forged.cookie")
        assert (await c.get("/api/tickets")).status_code == 401
        login = await c.get("/login")
        assert login.status_code == 200 and "#登录" in login.text and "http" not in login.text.split("<body")[1]


async def test_a_session_ends_after_twelve_hours_of_the_bots_clock(harness):
    async with logged_in(harness, COUNTY_ADMIN) as c:
        assert (await c.get("/api/tickets")).status_code == 200
        await harness.tick(harness.clock.now() + timedelta(hours=11, minutes=59))
        assert (await c.get("/api/tickets")).status_code == 200
        await harness.tick(harness.clock.now() + timedelta(minutes=2))
        assert (await c.get("/api/tickets")).status_code == 401
        r = await c.get("/")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")


def readable_by(harness, contact_id: str) -> list[str]:
    """What TicketService.may_read lets the person see, ticket by ticket."""
    with session(harness.engine) as s:
        org = OrgDirectory(s)
        service = TicketService(s, harness.clock, org, Outbox(s, harness.clock))
        return [t.no for t in s.exec(select(Ticket).order_by(Ticket.id)).all() if service.may_read(t, contact_id)]


async def test_api_tickets_lists_exactly_the_tickets_the_person_may_read(harness):
    await report_in_both_towns(harness)
    # A grid-4 worker who reported in grid 3 reads that one ticket there too.
    await harness.say(GRID4_WORKER, "#上报 第3网格5栋门口路灯坏了", HOUSEHOLD_ROOM)
    expected = {COUNTY_ADMIN: ["T1", "T2", "T3", "T4"], GRID3_WORKER: ["T1", "T2", "T4"], GRID4_WORKER: ["T4"],
                TOWN2_ADMIN: ["T3"]}
    for person, numbers in expected.items():
        assert readable_by(harness, person) == numbers
        async with logged_in(harness, person) as c:
            data = (await c.get("/api/tickets")).json()
            assert [t["no"] for t in data] == numbers, person
    async with logged_in(harness, COUNTY_ADMIN) as c:
        t1 = (await c.get("/api/tickets")).json()[0]
    assert t1 == harness.ticket("T1")             # the objects of `gridbot tickets --json`


async def test_a_grid_worker_cannot_open_another_grids_ticket(harness):
    await report_in_both_towns(harness)
    async with logged_in(harness, GRID4_WORKER) as c:
        r = await c.get("/api/tickets/T1")
        assert r.status_code == 403 and r.json() == {"error": "无权查看工单 T1"}
        page = await c.get("/tickets/T1")
        assert page.status_code == 403 and "无权查看工单 T1" in page.text
        assert (await c.get("/api/tickets/T99")).json() == {"error": "未找到工单 T99"}
        overview = await c.get("/")
        assert "T1" not in overview.text and "第4网格" in overview.text


async def test_api_ticket_has_its_events_who_when_what(harness):
    await report_in_both_towns(harness)
    await harness.say(GRID3_WORKER, "#受理 T1", GRID3_ROOM)
    async with logged_in(harness, COUNTY_ADMIN) as c:
        data = (await c.get("/api/tickets/T1")).json()
    assert data["no"] == "T1" and data["status"] == "accepted" and data["department"] == "power"
    assert [(e["who"], e["what"]) for e in data["events"]] == [("wxid_res_a", "opened"), (GRID3_WORKER, "accepted")]
    assert data["events"][1]["when"] == "2026-11-25T09:04:00+08:00"


async def test_api_summary_counts_the_reach_by_status_overdue_department_and_child(harness):
    await report_in_both_towns(harness)
    await harness.say(GRID3_WORKER, "#受理 T1", GRID3_ROOM)
    # 4 h later T2 and T3 passed accept_by while open; T1 was accepted.
    await harness.tick(harness.clock.now() + timedelta(hours=4, minutes=5))
    async with logged_in(harness, COUNTY_ADMIN) as c:
        data = (await c.get("/api/summary")).json()
    assert data["total"] == 3 and data["by_status"] == {"accepted": 1, "open": 2}
    assert data["overdue_accept"] == 2 and data["overdue_resolve"] == 0
    assert data["by_department"]["power"]["by_status"] == {"accepted": 1}
    assert data["by_department"]["urban_mgmt"]["overdue_accept"] == 1
    assert {path: child["total"] for path, child in data["by_child"].items()} == {
        "遂川县/泉江镇城市社区党工委": 2, "遂川县/雩田镇": 1}
    async with logged_in(harness, TOWN2_ADMIN) as c:
        town = (await c.get("/api/summary")).json()
    assert town["reach"] == ["遂川县/雩田镇"] and town["total"] == 1 and town["overdue_accept"] == 1
    assert list(town["by_child"]) == ["遂川县/雩田镇/上坪村"]


async def test_a_transfer_on_the_board_is_announced_as_if_typed_and_marked_in_the_history(harness):
    await report_in_both_towns(harness)
    async with logged_in(harness, COUNTY_ADMIN) as c:
        page = (await c.get("/tickets/T1")).text
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        r = await c.post("/tickets/T1/transfer", data={"csrf": csrf, "department": "water"})
        assert r.status_code == 303
        shown = (await c.get(r.headers["location"])).text
        assert "工单 T1 已由指挥中心陈主任从供电转派至供水。" in shown
        events = (await c.get("/api/tickets/T1")).json()["events"]
    assert events[-1]["what"] == "transferred" and events[-1]["who"] == COUNTY_ADMIN
    assert events[-1]["detail"] == "供电 → 供水（经指挥看板操作）"
    sent = await harness.tick(harness.clock.now())
    assert [o.text for o in to_room(sent, GRID3_ROOM)] == ["工单 T1 已由指挥中心陈主任从供电转派至供水。"]
    assert "【工单派发 T1" in to_room(sent, "县自来水公司工单群")[0].text
    assert harness.ticket("T1")["department"] == "water"


async def test_a_nudge_on_the_board_mentions_the_assignee_in_the_grid_room(harness):
    await report_in_both_towns(harness)
    async with logged_in(harness, COUNTY_ADMIN) as c:
        page = (await c.get("/tickets/T2")).text
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        await c.post("/tickets/T2/nudge", data={"csrf": csrf})
        again = await c.post("/tickets/T2/nudge", data={"csrf": csrf})
        assert "1小时内只能催办一次" in (await c.get(again.headers["location"])).text
    sent = to_room(await harness.tick(harness.clock.now()), GRID3_ROOM)
    assert len(sent) == 1 and sent[0].mentions == (GRID3_WORKER,) and "指挥中心陈主任催办工单 T2" in sent[0].text


async def test_an_assignment_on_the_board_reaches_the_new_grid_as_if_typed(harness):
    await report_in_both_towns(harness)
    async with logged_in(harness, COUNTY_ADMIN) as c:
        page = (await c.get("/tickets/T1")).text
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        r = await c.post("/tickets/T1/assign", data={"csrf": csrf, "target": "第4网格"})
        assert "已把工单 T1 指派给" in (await c.get(r.headers["location"])).text
        events = (await c.get("/api/tickets/T1")).json()["events"]
    assert events[-1]["who"] == COUNTY_ADMIN and "经指挥看板操作" in events[-1]["detail"]
    assert harness.ticket("T1")["assignee"] == GRID4_WORKER
    sent = await harness.tick(harness.clock.now())
    alert, = to_room(sent, GRID4_ROOM)
    assert "T1" in alert.text and GRID4_WORKER in alert.mentions
    assert len(to_room(sent, GRID3_ROOM)) == 1          # the old grid is told once


async def test_supervision_on_the_board_puts_the_demand_to_the_assignee(harness):
    await report_in_both_towns(harness)
    async with logged_in(harness, COUNTY_ADMIN) as c:
        page = (await c.get("/tickets/T2")).text
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        r = await c.post("/tickets/T2/supervise", data={"csrf": csrf, "demand": "今天下班前办结"})
        assert "已督办工单 T2" in (await c.get(r.headers["location"])).text
    sent, = to_room(await harness.tick(harness.clock.now()), GRID3_ROOM)
    assert "【督办】" in sent.text and "今天下班前办结" in sent.text and GRID3_WORKER in sent.mentions
    detail, = await harness.say(COUNTY_ADMIN, "#查询 T2")
    assert "督办" in detail.text


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(harness):
    await report_in_both_towns(harness)
    async with logged_in(harness, COUNTY_ADMIN) as c:
        for form in ({"department": "water"}, {"department": "water", "csrf": "forged"}):
            r = await c.post("/tickets/T1/transfer", data=form)
            assert r.status_code == 403 and "CSRF" in r.text
    assert harness.ticket("T1")["department"] == "power"
    assert to_room(await harness.tick(harness.clock.now()), GRID3_ROOM) == []


async def test_board_actions_are_for_admins_above_the_ticket(harness):
    await report_in_both_towns(harness)
    async with logged_in(harness, GRID3_WORKER) as c:
        page = (await c.get("/tickets/T1")).text
        assert 'id="transfer-form"' not in page
        csrf = page.split('name="csrf" value="')[1].split('"')[0]
        r = await c.post("/tickets/T1/transfer", data={"csrf": csrf, "department": "water"})
        assert "管理员开放" in (await c.get(r.headers["location"])).text
    async with logged_in(harness, TOWN2_ADMIN) as c:        # an admin, but of the other town
        assert (await c.get("/api/tickets/T1")).status_code == 403
    assert harness.ticket("T1")["department"] == "power"


async def test_a_number_on_the_overview_leads_to_its_tickets(harness):
    await report_in_both_towns(harness)
    await harness.say(GRID3_WORKER, "#受理 T1", GRID3_ROOM)
    await harness.tick(harness.clock.now() + timedelta(hours=4, minutes=5))
    async with logged_in(harness, COUNTY_ADMIN) as c:
        overview = (await c.get("/")).text
        assert 'id="overdue-accept">2<' in overview
        listed = (await c.get("/tickets?f=overdue_accept")).text
        assert "/tickets/T2" in listed and "/tickets/T3" in listed and "/tickets/T1" not in listed
        town = overview.split('class="drill" href="/?node=')[1].split('"')[0]
        drilled = (await c.get(f"/?node={town}")).text
        assert "泉江镇城市社区党工委 · 总览" in drilled and "城南社区" in drilled
    async with logged_in(harness, GRID4_WORKER) as c:     # above their reach: refused
        r = await c.get(f"/?node={town}")
        assert r.status_code == 403 and "无权查看" in r.text


async def test_the_notice_page_shows_receipts_and_the_missing_rooms_by_town(harness):
    await harness.say(COUNTY_ADMIN, "#通知 到网格 周五前报送独居老人名单", "遂川县红网格指挥中心")
    await harness.tick(harness.clock.now() + timedelta(minutes=5))
    await harness.say(GRID3_WORKER, "收到", GRID3_ROOM)
    async with logged_in(harness, COUNTY_ADMIN) as c:
        page = (await c.get("/notices/N1")).text
    total = page.split('id="total">')[1].split("<")[0]
    assert page.split('id="confirmed">')[1].split("<")[0] == "1"
    assert page.split('id="missing-count">')[1].split("<")[0] == str(int(total) - 1)
    assert "雩田镇（" in page and "上坪村第1网格群" in page and "城南社区第4网格群" in page
    async with logged_in(harness, GRID4_WORKER) as c:
        assert (await c.get("/notices/N1")).status_code == 403


def test_gridbot_board_serves_on_localhost_and_logs_in_with_a_code_from_chat(harness):
    """`gridbot board` as its own process beside the bot's database (SPEC §6.4)."""
    import os
    import re
    import subprocess
    import sys
    import time

    import httpx

    from tests.live import LineReader

    db = harness.engine.url.render_as_string(hide_password=False)
    proc = subprocess.Popen([sys.executable, "-m", "bot", "board", "--db", db, "--port", "0"],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        lines = LineReader(proc.stderr).lines_until(lambda ls: any("指挥看板" in line for line in ls),
                                                    time.monotonic() + 60)
        url = re.search(r"http://127\.0\.0\.1:\d+", "".join(lines)).group(0)
        with httpx.Client(base_url=url, timeout=30) as c:
            assert c.get("/api/tickets").status_code == 401
            assert "#登录" in c.get("/login").text
            with session(harness.engine) as s:         # what #登录 would have stored (the process has the real clock)
                from bot.clock import SystemClock
                from bot.domain.board_login import BoardLogins

                code, _ = BoardLogins(s, SystemClock(), OrgDirectory(s)).issue(COUNTY_ADMIN)
                s.commit()
            assert c.post("/login", data={"contact_id": COUNTY_ADMIN, "code": code}).status_code == 303
            assert c.get("/api/summary").json()["reach"] == ["遂川县"]
    finally:
        proc.terminate()
        proc.wait(30)


async def test_a_grid_added_by_a_later_import_counts_for_its_town(harness, tmp_path):
    from tests.harness import ORG_SMALL
    from bot.runtime import import_org

    worker = "                  - {id: wxid_chenmin, name: 网格员陈敏, role: grid_worker}\n"
    text = ORG_SMALL.read_text(encoding="utf-8")
    assert worker in text
    grown = tmp_path / "grown.yaml"
    grown.write_text(text.replace(worker, worker + (
        "              - name: 第5网格\n                level: grid\n                room: 城南社区第5网格群\n"
        "                members:\n                  - {id: wxid_grid5, name: 网格员吴五, role: grid_worker}\n")),
        encoding="utf-8")
    await report_in_both_towns(harness)
    import_org(harness.engine, str(grown), harness.clock)       # the new grid's node id comes after 雩田镇's
    await harness.say("wxid_res_f", "第5网格这边下水道堵了，污水漫出来", "城南社区第5网格群")
    async with logged_in(harness, COUNTY_ADMIN) as c:
        page = (await c.get("/?f=x")).text
        summary = (await c.get("/api/summary")).json()
    assert 'data-value="3"' in page.split('id="chart-children"')[1].split("</svg>")[0]
    assert {p: v["total"] for p, v in summary["by_child"].items()} == {"遂川县/泉江镇城市社区党工委": 3, "遂川县/雩田镇": 1}
