"""Crashes and several processes on SQLite: a notice in flight when the process died still takes its
room's receipt; a second bot process on one SQLite file is refused (and one killed with SIGKILL never
blocks a restart); concurrent org imports and replays never crash and never send a message twice."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import text

from bot.storage.db import make_engine
from bot.transport import Incoming
from tests.harness import ORG_SMALL, Harness, at, to_room
from tests.live import LineReader

COUNTY = "遂川县红网格指挥中心"
CHEN = "wxid_chen_zr"
ROOMS_BELOW_COUNTY = 13
IN_FLIGHT = "城南社区第3网格群"         # the 5th room of the county's fan-out, top-down
DAYTIME = "2026-11-25T10:00:00+08:00"  # live processes start at a working morning, whatever the hour
REFUSED = ("错误：已有另一个 gridbot 进程在使用 one.db；SQLite 只支持一个进程，"
           "多进程请用 PostgreSQL（--db postgresql+psycopg://…）\n")


class KilledWhilePrinting:
    """A transport whose process is killed while it hands the `nth` notice to its room: the room has
    the message, its outbox row is left `sending`."""

    def __init__(self, inner, nth: int) -> None:
        self.inner = inner
        self.nth = nth

    async def send(self, out):
        await self.inner.send(out)
        if out.text.startswith("【通知"):
            self.nth -= 1
            if self.nth == 0:
                raise SystemExit("killed")

    async def start(self, dispatch):
        pass

    async def stop(self):
        pass


async def crash_during_a_county_notice(db, classifier) -> Harness:
    """Send a county notice, kill the process at its 5th room, restart; the restarted bot."""
    first = Harness(db, classifier, at(2026, 11, 25, 9, 0))
    first.bot.delivery.transport = KilledWhilePrinting(first.transport, 5)
    with pytest.raises(SystemExit):
        await first.bot.dispatch(Incoming(msg_id="n1", sender_id=CHEN, text="#通知 今晚防汛值班，请收到回复",
                                          room_id=COUNTY, room_topic=COUNTY))
    assert [o.room_topic for o in first.transport.sent if o.text.startswith("【通知 N1】")][-1] == IN_FLIGHT
    return Harness(db, classifier, at(2026, 11, 25, 9, 5))


async def test_a_room_whose_notice_was_in_flight_at_a_crash_still_acknowledges(new_db, classifier):
    second = await crash_during_a_county_notice(new_db("crash"), classifier)
    status, = to_room(await second.say(CHEN, "#回执 N1", COUNTY), COUNTY)   # after the rest of the fan-out
    assert "共 13 个群，已送达 12，可能已送达 1（发送时中断或正在发送），已回执 0，未回执 13。" in status.text
    assert await second.say("wxid_liufang", "收到", IN_FLIGHT) == []   # recorded silently
    status, = await second.say(CHEN, "#回执 N1", COUNTY)
    assert "共 13 个群，已送达 13，已回执 1，未回执 12。" in status.text  # a receipt proves delivery
    assert f"已回执：{IN_FLIGHT}（网格员刘芳）" in status.text and IN_FLIGHT not in status.text.split("未回执：")[1]
    sent = await second.tick(at(2026, 11, 26, 9, 30))               # past the 24 h receipt deadline
    reminded = [o.room_topic for o in sent if o.text.startswith("【回执提醒】")]
    assert len(reminded) == ROOMS_BELOW_COUNTY - 1 and IN_FLIGHT not in reminded
    missing, = [o for o in to_room(sent, COUNTY) if "未回复" in o.text]
    assert "仍有 12 个群未回复" in missing.text and IN_FLIGHT not in missing.text


async def test_a_room_whose_notice_was_in_flight_and_never_answers_is_reminded(new_db, classifier):
    second = await crash_during_a_county_notice(new_db("crash"), classifier)
    sent = await second.tick(at(2026, 11, 26, 9, 30))               # it may never have seen the notice
    assert IN_FLIGHT in [o.room_topic for o in sent if o.text.startswith("【回执提醒】")]
    assert len([o for o in sent if o.text.startswith("【回执提醒】")]) == ROOMS_BELOW_COUNTY


# ---- several real processes on one SQLite file ------------------------------------------------------

def gridbot(*args, cache: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bot", *map(str, args)],
                            env={**os.environ, "GRIDBOT_CACHE_DIR": cache}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def finished(proc: subprocess.Popen, stdin: str | None = None) -> tuple[int, str, str]:
    out, err = proc.communicate(stdin, timeout=120)
    return proc.returncode, out, err


def reports(path, process: int, count: int):
    rooms = ["5栋王建国中心户邻里群", "5栋孙丽中心户邻里群", "幸福小区6栋楼栋群", "李春生中心户联系群"]
    lines = [{"at": f"2026-11-25T10:{i // 60:02d}:{i % 60:02d}+08:00", "room": rooms[i % len(rooms)],
              "from": f"wxid_p{process}_{i}", "text": f"#上报 进程{process}第{i}号问题"} for i in range(count)]
    if process == 0:
        lines.insert(0, {"at": "2026-11-25T10:00:00+08:00", "room": COUNTY, "from": CHEN,
                         "text": "#通知 今晚防汛值班，请收到回复"})
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    return path


def outbox_statuses(db: str) -> dict[str, int]:
    engine = make_engine(db)
    with engine.connect() as conn:
        found = dict(conn.execute(text("SELECT status, count(*) FROM outboxmessage GROUP BY status")).all())
    engine.dispose()
    return found


@pytest.fixture
def one_db(tmp_path):
    """An SQLite file, whatever backend the suite runs on: these tests are about SQLite."""
    return f"sqlite:///{tmp_path / 'one.db'}"


def test_concurrent_org_imports_on_a_new_sqlite_file_never_crash(one_db, tmp_path):
    cache = str(tmp_path / "cache")
    results = [finished(p) for p in [gridbot("org", "import", ORG_SMALL, "--db", one_db, cache=cache)
                                     for _ in range(4)]]
    assert results == [(0, "已导入：14 个节点，14 个部门，28 名人员。\n", "")] * 4


def test_a_second_bot_process_on_one_sqlite_file_is_refused_until_the_first_dies(one_db, tmp_path):
    cache = str(tmp_path / "cache")
    live = gridbot("run", "--transport", "console", "--db", one_db, "--org", ORG_SMALL, "--start-at", DAYTIME,
                   cache=cache, stdin=subprocess.PIPE)
    started = LineReader(live.stdout).lines_until(lambda lines: any("你是" in line for line in lines),
                                                  time.monotonic() + 60)
    assert any("你是" in line for line in started)                   # up and holding the file
    try:
        scenario = reports(tmp_path / "r.jsonl", 0, 5)
        assert finished(gridbot("replay", scenario, "--db", one_db, cache=cache)) == (2, "", REFUSED)
        assert finished(gridbot("run", "--transport", "console", "--db", one_db, "--start-at", DAYTIME,
                                cache=cache, stdin=subprocess.PIPE), "") == (2, "", REFUSED)
        # The demo resets its database first: refused before that, it leaves the live bot's alone.
        assert finished(gridbot("demo", "--db", one_db, cache=cache, stdin=subprocess.PIPE), "") == (2, "", REFUSED)
        # Reading the database is not a bot process: it may run beside one.
        code, org, _ = finished(gridbot("org", "show", "--db", one_db, cache=cache))
        assert code == 0 and "遂川县" in org
        assert outbox_statuses(one_db) == {}                        # the refused replay handled nothing
    finally:
        live.send_signal(signal.SIGKILL)
        live.wait(timeout=10)
    code, out, err = finished(gridbot("replay", scenario, "--db", one_db, cache=cache))
    assert (code, err) == (0, "")                                    # the kernel let go of the dead one's lock
    assert len(json.loads(finished(gridbot("tickets", "--db", one_db, "--json", cache=cache))[1])) == 5


def test_replays_started_together_on_one_sqlite_file_never_send_twice(one_db, tmp_path):
    cache = str(tmp_path / "cache")
    assert finished(gridbot("org", "import", ORG_SMALL, "--db", one_db, cache=cache))[0] == 0
    results = [finished(p) for p in [gridbot("replay", reports(tmp_path / f"p{n}.jsonl", n, 20), "--db", one_db,
                                             cache=cache) for n in range(3)]]
    ran = [out for code, out, err in results if code == 0 and err == ""]
    refused = [r for r in results if r == (2, "", REFUSED)]
    assert ran and len(ran) + len(refused) == 3                      # each one ran whole or was refused
    outputs = [json.loads(line) for out in ran for line in out.splitlines()]
    assert outbox_statuses(one_db) == {"sent": len(outputs)}        # every queued message sent, each once
    keys = [(o["room"], o["to"], o["text"]) for o in outputs]
    assert len(set(keys)) == len(keys)
