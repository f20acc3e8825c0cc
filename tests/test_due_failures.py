"""One error path for messages and due work: a due item that raises (a ticket row pointing at a node
that no longer exists, a digest over a broken ticket) is rolled back, reported once, retried with
back-off and listed by `gridbot doctor`, while every other reminder, notice and digest goes out; a
crashing handler is logged without the user's text."""
import json
import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from bot.app import APOLOGY
from bot.cli import main
from bot.storage.db import current_revision, head_revision, make_engine
from tests.harness import ORG_SMALL, at, to_room

HOUSEHOLD = "5栋王建国中心户邻里群"
GRID = "城南社区第3网格群"
COMMUNITY = "城南社区党组织工作群"
VILLAGE_GROUP = "上坪村4组村民群"
VILLAGE_GRID = "上坪村第1网格群"
VILLAGE = "上坪村两委工作群"
RESIDENT = "wxid_res_zhang"
POWER_CUT = "5栋2单元从早上开始就没电了，冰箱都停了"
BURST_PIPE = "村口的自来水管破了，水哗哗地往外冒"
MISSING_NODE = 987654
# What a row pointing at a missing node raises: on SQLite the org lookup fails; PostgreSQL refuses the
# ticket's update first (its foreign key is checked once the transaction has touched the row).
BROKEN_ROW = r"(LookupError|IntegrityError)"


def edit_database(url: str, sql: str, **params) -> None:
    """Change rows behind the bot's back, as a hand edit or a bad restore does: foreign keys unchecked."""
    engine = create_engine(url)          # not make_engine: no foreign-key pragma on SQLite
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.execute(text(sql), params)
    engine.dispose()


def node_of(url: str, no: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        node_id = conn.execute(text("SELECT node_id FROM ticket WHERE no = :no"), {"no": no}).scalar_one()
    engine.dispose()
    return node_id


def due_failure_logs(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith("due work failed")]


def doctor(capsys, url: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["doctor", "--db", url])
    return code, capsys.readouterr().out


@pytest.fixture(autouse=True)
def jieba_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDBOT_CACHE_DIR", str(tmp_path / "cache"))


def scenario(tmp_path, name: str, *lines: dict):
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return path


def replay(capsys, path, db) -> list[dict]:
    code = main(["replay", str(path), "--org", str(ORG_SMALL), "--db", db])
    out, err = capsys.readouterr()
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def test_replay_with_a_broken_ticket_row_sends_every_other_due_message(capsys, caplog, new_db, tmp_path):
    db = new_db("replay")
    replay(capsys, scenario(tmp_path, "day1",
        {"at": "2026-11-25T09:00:00+08:00", "room": HOUSEHOLD, "from": RESIDENT, "text": POWER_CUT},
        {"at": "2026-11-25T09:05:00+08:00", "room": VILLAGE_GROUP, "from": "wxid_x", "text": BURST_PIPE},
        {"at": "2026-11-25T09:10:00+08:00", "room": COMMUNITY, "from": "wxid_cn_zhuren",
         "text": "#通知 到网格 请各网格报送独居老人名单 截止今天17点"}), db)
    # T1's row now points at a node that no longer exists: its deadline work raises LookupError.
    edit_database(db, "UPDATE ticket SET node_id = :node WHERE no = 'T1'", node=MISSING_NODE)

    out = replay(capsys, scenario(tmp_path, "day2", {"at": "2026-11-26T09:00:00+08:00", "tick": True}), db)

    def sent(room: str, words: str) -> list[str]:
        return [o["at"] for o in out if o["room"] == room and words in o["text"]]

    # T2 is reminded and escalated at its accept deadline (4 h after 09:05) …
    assert sent(VILLAGE_GRID, "T2")[:1] == ["2026-11-25T13:05:00+08:00"]
    assert sent(VILLAGE, "T2") and "超期未受理" in next(o["text"] for o in out if o["room"] == VILLAGE)
    # … the notice reminds both grid rooms two hours before its receipt deadline and lists them to the
    # sender's room at the deadline …
    assert sent(GRID, "N1") == ["2026-11-25T15:00:00+08:00"] and sent("城南社区第4网格群", "N1")
    assert sent(COMMUNITY, "N1") == ["2026-11-25T17:00:00+08:00"]
    assert "未回复" in next(o["text"] for o in out if o["room"] == COMMUNITY)
    # … and the morning digest lists the open tickets, T1 included, at 08:30 (paced 1.5 s apart).
    digests = sent(GRID, "每日工单提醒") + sent(VILLAGE_GRID, "每日工单提醒")
    assert len(digests) == 2 and all(d.startswith("2026-11-26T08:30:0") for d in digests)
    assert "T1" in next(o["text"] for o in out if o["room"] == GRID and "每日工单提醒" in o["text"])
    # T1's own reminder and escalation never went out (rolled back), and nothing half-done either.
    assert not [o for o in out if "T1" in o["text"] and "每日工单提醒" not in o["text"]]

    # Retried about twenty times overnight, reported once, with its context and no message text.
    report, = due_failure_logs(caplog)
    line = report.getMessage()
    assert re.search(BROKEN_ROW + r" at bot/domain/\S+\.py:\d+ in \w+; kind=ticket item=T1 ", line)
    assert "due=2026-11-25T13:00+08:00" in line and "attempt=1" in line
    assert "没电" not in caplog.text and "独居老人" not in caplog.text

    code, listing = doctor(capsys, db)
    assert code == 1
    failing, = [line for line in listing.splitlines() if "工单 T1" in line]
    assert failing.startswith("✗ 工单 T1 的到期处理（提醒、升级）已连续失败 ")
    assert re.search(BROKEN_ROW, failing) and "自动重试" in failing


async def test_a_failing_ticket_is_retried_with_back_off_and_succeeds_once_fixed(harness, capsys, caplog):
    url = str(harness.engine.url.render_as_string(hide_password=False))
    await harness.say(RESIDENT, POWER_CUT, HOUSEHOLD, after=timedelta(0))     # T1: accept by 13:00
    home = node_of(url, "T1")
    edit_database(url, "UPDATE ticket SET node_id = :node WHERE no = 'T1'", node=MISSING_NODE)

    # The production sweep runs every 15 s: 44 sweeps from 12:59 to 13:10 …
    sweep = at(2026, 11, 25, 12, 59)
    sent = []
    while sweep <= at(2026, 11, 25, 13, 10):
        sent += await harness.tick(sweep)
        sweep += timedelta(seconds=15)
    assert timed(sent) == []
    # … tried it three times: at 13:00, after 1 minute and after 5 more; next after 30 more (13:36).
    code, listing = doctor(capsys, url)
    assert code == 1 and re.search("✗ 工单 T1 的到期处理（提醒、升级）已连续失败 3 次（最近一次 11月25日 13:06："
                                   + BROKEN_ROW, listing)
    assert "机器人会在 11月25日 13:36 自动重试" in listing
    assert len(due_failure_logs(caplog)) == 1

    edit_database(url, "UPDATE ticket SET node_id = :node WHERE no = 'T1'", node=home)
    assert timed(await harness.tick(at(2026, 11, 25, 13, 35, 59))) == []
    sent = await harness.tick(at(2026, 11, 25, 13, 36))
    remind, = to_room(sent, GRID)
    assert "超过受理时限" in remind.text and remind.mentions == ("wxid_liufang",)
    up, = to_room(sent, COMMUNITY)
    assert "T1" in up.text and "超期未受理" in up.text
    assert harness.ticket("T1")["escalation_level"] == 1
    assert any("succeeded after 3 failed attempts" in r.getMessage() for r in caplog.records)

    code, listing = doctor(capsys, url)
    assert code == 0 and "工单 T1" not in listing
    # Done once: nothing is sent again for it.
    assert timed(await harness.tick(at(2026, 11, 25, 18, 0))) == []


async def test_a_permanently_failing_item_does_not_make_a_jump_step_through_its_retries(harness, capsys):
    url = str(harness.engine.url.render_as_string(hide_password=False))
    await harness.say(RESIDENT, POWER_CUT, HOUSEHOLD, after=timedelta(0))
    edit_database(url, "UPDATE ticket SET node_id = :node WHERE no = 'T1'", node=MISSING_NODE)
    # A month at once (replay's clock jumps as far as the next line says). Hourly retries as steps
    # would be 720 of them; the item is tried at its due moment, then only at the other due moments
    # on the way once its retry time has passed: each day's 03:17 housekeeping and 08:30 digest (the
    # Monday 09:00 lists and the end at 09:00 come before its retry an hour after the digest).
    sent = await harness.tick(at(2026, 12, 25, 9, 0))
    assert sum("每日工单提醒" in o.text for o in sent) == 30
    code, listing = doctor(capsys, url)
    attempts = int(re.search(r"工单 T1 的到期处理（提醒、升级）已连续失败 (\d+) 次", listing).group(1))
    assert code == 1 and attempts == 1 + 30 + 30


def timed(sent):
    return [o for o in sent if "⏰" in o.text or "逐级转报" in o.text]


async def test_a_broken_ticket_and_a_failing_notice_hold_nothing_else_and_the_digest_leaves_only_it_out(
        harness, capsys, caplog):
    url = str(harness.engine.url.render_as_string(hide_password=False))
    await harness.say(RESIDENT, POWER_CUT, HOUSEHOLD, after=timedelta(0))       # T1 (第3网格), 09:00
    await harness.say("wxid_x", BURST_PIPE, VILLAGE_GROUP)                     # T2 (上坪第1网格), 09:01
    await harness.say("wxid_cn_zhuren", "#通知 到网格 请各网格报送独居老人名单 截止今天17点", COMMUNITY)
    # T1's grid and one of the notice's target rooms vanish from under their rows.
    edit_database(url, "UPDATE ticket SET grid_id = :node WHERE no = 'T1'", node=MISSING_NODE)
    edit_database(url, "UPDATE noticetarget SET node_id = :node WHERE room_topic = '城南社区第4网格群'",
                  node=MISSING_NODE)

    sent = await harness.tick(at(2026, 11, 28, 9, 0))        # three mornings later (Saturday)
    # T1's timers and the notice's deadline fail; T2's timers still act, and each morning's digest
    # reaches the village grid, leaving out only the broken T1 (logged by number, never its text).
    assert [o.room_topic for o in timed(sent)] == [VILLAGE_GRID, VILLAGE]
    assert not [o for o in sent if "N1" in o.text or "T1" in o.text]
    digests = [o for o in sent if "每日工单提醒" in o.text]
    assert [o.room_topic for o in digests] == [VILLAGE_GRID] * 3 and all("T2" in o.text for o in digests)
    assert sorted(r.getMessage().split("item=")[1].split()[0] for r in due_failure_logs(caplog)) == ["N1", "T1"]
    left_out = [r.getMessage() for r in caplog.records if "daily digest (grid left out)" in r.getMessage()]
    assert left_out and all("tickets=T1" in m for m in left_out)
    assert "没电" not in caplog.text
    code, listing = doctor(capsys, url)
    assert code == 1
    assert "✗ 通知 N1 的回执截止处理已连续失败" in listing and "定时任务" not in listing

    # The grid comes back: at its next retry (hourly by now) T1's overdue reminder and escalation act.
    edit_database(url, "UPDATE ticket SET grid_id = (SELECT id FROM node WHERE name = '第3网格') WHERE no = 'T1'")
    sent = await harness.tick(at(2026, 11, 28, 11, 0))
    assert not [o for o in sent if "每日工单提醒" in o.text]
    assert [o.room_topic for o in timed(sent)] == [GRID, COMMUNITY]
    code, listing = doctor(capsys, url)
    assert "工单 T1" not in listing and "✗ 通知 N1" in listing


async def test_a_crashing_handler_is_logged_without_the_users_text(harness, caplog):
    url = str(harness.engine.url.render_as_string(hide_password=False))
    await harness.say("wxid_x", BURST_PIPE, VILLAGE_GROUP, after=timedelta(0))     # T1
    # A bad restore set the ticket counter back: the next ticket number collides with T1, and the
    # database's error quotes the INSERT's parameters — the report's text among them.
    edit_database(url, "UPDATE counter SET value = 0 WHERE name = 'T'")
    sent = await harness.say("wxid_y", "5栋楼道灯坏了好几天", HOUSEHOLD)
    assert [o.text for o in sent] == [APOLOGY]
    assert [t["no"] for t in harness.tickets()] == ["T1"]

    failed, = [r for r in caplog.records if r.getMessage().startswith("handler failed")]
    assert "IntegrityError at bot/domain/tickets.py" in failed.getMessage()
    assert "msg_id=m2" in failed.getMessage() and f"room={HOUSEHOLD}" in failed.getMessage()
    assert "Traceback (most recent call last)" in failed.getMessage()
    assert failed.exc_info is None
    assert "楼道灯" not in caplog.text and "楼道灯" not in failed.getMessage()


def test_a_database_of_the_first_release_is_migrated(new_db):
    from alembic import command

    from bot.storage.db import alembic_config

    url = new_db("old")
    engine = make_engine(url, migrate=False)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
    assert current_revision(engine) == "0001"
    assert current_revision(make_engine(url)) == head_revision()
