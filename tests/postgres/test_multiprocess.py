"""Several bot processes on one PostgreSQL database: unique numbers, every message sent by exactly
one process, the sweep lease changing hands, a fan-out killed with SIGKILL completed once, and the
room whose notice was being printed at the kill still taking its receipt."""
import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.clock import VirtualClock
from bot.storage.db import make_engine
from scheduler.due import DueWork
from tests.harness import ORG_SMALL
from tests.live import LineReader

COUNTY = "遂川县红网格指挥中心"
ROOMS = ["5栋王建国中心户邻里群", "5栋孙丽中心户邻里群", "幸福小区6栋楼栋群", "李春生中心户联系群"]
BELOW_COUNTY = 13
# Who answers 收到 for each room below the county: someone listed at its node or below (a room whose
# subtree lists nobody: the people of the nearest node above that lists someone).
ANSWERS_FOR = {
    "泉江城市社区党工委工作群": "wxid_qj_shuji", "雩田镇红网格工作群": "wxid_yt_zhenzhang",
    "城南社区党组织工作群": "wxid_cn_zhuren", "上坪村两委工作群": "wxid_sp_shuji",
    "城南社区第3网格群": "wxid_liufang", "城南社区第4网格群": "wxid_chenmin", "上坪村第1网格群": "wxid_sp_wgy",
    "幸福小区5栋楼栋群": "wxid_zhao_zz", "幸福小区6栋楼栋群": "wxid_liufang", "上坪村4组村民群": "wxid_sp4_zuzhang",
    "5栋孙丽中心户邻里群": "wxid_sunli", "5栋王建国中心户邻里群": "wxid_wangjg", "李春生中心户联系群": "wxid_sp4_zuzhang",
}
# The live processes run on the wall clock from a fixed daytime moment, so quiet hours (22:00–07:00)
# never hold the notice back whatever hour the suite runs at.
DAYTIME, RESTART = "2026-11-25T10:00:00+08:00", "2026-11-25T10:05:00+08:00"


def gridbot(*args, **kw) -> subprocess.Popen:
    env = {**os.environ, "GRIDBOT_CACHE_DIR": kw.pop("cache")}
    return subprocess.Popen([sys.executable, "-m", "bot", *map(str, args)], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def scenario(path: Path, process: int, reports: int, notice: bool) -> Path:
    lines = []
    start = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    if notice:
        lines.append({"at": start.isoformat(), "room": COUNTY, "from": "wxid_chen_zr", "text": "#通知 今晚防汛值班，请收到回复"})
    for i in range(reports):
        lines.append({"at": (start + timedelta(seconds=i)).isoformat(), "room": ROOMS[i % len(ROOMS)],
                      "from": f"wxid_p{process}_{i}", "text": f"#上报 进程{process}第{i}号问题"})
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    return path


def test_three_processes_concurrent_reports_and_a_fan_out(pg_db, tmp_path):
    db = pg_db("multi")
    cache = str(tmp_path / "cache")
    assert subprocess.run([sys.executable, "-m", "bot", "org", "import", ORG_SMALL, "--db", db],
                          capture_output=True, env={**os.environ, "GRIDBOT_CACHE_DIR": cache}).returncode == 0
    procs = [gridbot("replay", scenario(tmp_path / f"p{p}.jsonl", p, 25, notice=p == 0), "--db", db, cache=cache)
             for p in range(3)]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outputs += [json.loads(line) for line in out.splitlines()]

    tickets = json.loads(subprocess.run([sys.executable, "-m", "bot", "tickets", "--db", db, "--json"],
                                        capture_output=True, text=True, check=True).stdout)
    numbers = sorted(int(t["no"][1:]) for t in tickets)
    assert numbers == list(range(1, 76))                              # 75 reports, no gap, no collision
    acks = [o for o in outputs if o["text"].startswith("已登记工单")]
    assert sorted(int(o["text"].split("工单 T")[1].split("（")[0]) for o in acks) == numbers   # each once
    notice_rooms = [o["room"] for o in outputs if o["text"].startswith("【通知 N1】")]
    assert len(notice_rooms) == BELOW_COUNTY and len(set(notice_rooms)) == BELOW_COUNTY
    engine = make_engine(db)
    with engine.connect() as conn:
        statuses = dict(conn.exec_driver_sql("SELECT status, count(*) FROM outboxmessage GROUP BY status").all())
    assert statuses == {"sent": len(outputs)}                         # nothing lost, nothing twice


def test_sweep_lease_changes_hands_when_the_leader_dies(pg_db):
    engine = make_engine(pg_db("lease"))
    clock = VirtualClock(datetime(2026, 11, 25, 1, 0, tzinfo=UTC))
    leader, other = DueWork(engine, clock, holder="a"), DueWork(engine, clock, holder="b")
    assert leader.is_leader() and not other.is_leader()              # a holds it until 01:00:40
    clock.advance(timedelta(seconds=25))
    assert leader.is_leader() and not other.is_leader()              # past half: renewed until 01:01:05
    clock.advance(timedelta(seconds=25))                              # the leader is dead: no renewal
    assert not other.is_leader()
    clock.advance(timedelta(seconds=16))                              # 41 s after its last renewal
    assert other.is_leader() and not leader.is_leader()
    other.release()
    assert leader.is_leader()


def test_sigkill_during_a_fan_out_then_restart_completes_it_once(pg_db, tmp_path):
    db = pg_db("kill")
    cache = str(tmp_path / "cache")
    run = ["run", "--transport", "console", "--db", db, "--send-interval", "0.3"]
    first = gridbot(*run, "--start-at", DAYTIME, "--org", ORG_SMALL, cache=cache, stdin=subprocess.PIPE)
    first.stdin.write(f"/as wxid_chen_zr\n/in {COUNTY}\n#通知 请各群今晚核对值班表\n")
    first.stdin.flush()
    lines = LineReader(first.stdout).lines_until(
        lambda lines: sum("【通知 N1】" in line for line in lines) == 4, time.monotonic() + 60)
    seen = [lines[i - 1].split("群「")[1].split("」")[0] for i, line in enumerate(lines) if "【通知 N1】" in line]
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert len(seen) == 4

    second = gridbot(*run, "--start-at", RESTART, cache=cache, stdin=subprocess.PIPE)
    out, err = second.communicate("", timeout=60)
    assert second.returncode == 0, err
    lines = out.splitlines()
    rest = [lines[i - 1].split("群「")[1].split("」")[0] for i, line in enumerate(lines) if "【通知 N1】" in line]
    assert not set(seen) & set(rest)                                  # nobody got it twice
    assert len(seen) + len(rest) == BELOW_COUNTY                      # and everyone got it


def test_sigkill_while_printing_a_notice_then_its_room_acknowledges(pg_db, tmp_path):
    db = pg_db("printing")
    cache = str(tmp_path / "cache")
    run = ["run", "--transport", "console", "--db", db, "--send-interval", "0.3"]
    first = gridbot(*run, "--start-at", DAYTIME, "--org", ORG_SMALL, cache=cache, stdin=subprocess.PIPE)
    # Nobody reads the bot's output and the pipe holds less than one notice: the bot blocks inside the
    # transport printing its first notice, that row claimed (`sending`), and is killed right there.
    fcntl.fcntl(first.stdout.fileno(), fcntl.F_SETPIPE_SZ, 4096)
    capacity = fcntl.fcntl(first.stdout.fileno(), fcntl.F_GETPIPE_SZ)
    content = "请各群今晚核对值班表，" * 130
    assert len(content.encode()) > capacity
    first.stdin.write(f"/as wxid_chen_zr\n/in {COUNTY}\n#通知 {content}\n")
    first.stdin.flush()
    engine = make_engine(db)
    deadline = time.monotonic() + 60
    in_flight = []
    while not in_flight and time.monotonic() < deadline:
        # The blocked write shows in no output; the row does, and stays `sending` while it lasts.
        with engine.connect() as conn:
            in_flight = conn.exec_driver_sql(
                "SELECT room_topic FROM outboxmessage WHERE kind = 'notice' AND status = 'sending'").scalars().all()
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    room, = in_flight

    second = gridbot(*run, "--start-at", RESTART, cache=cache, stdin=subprocess.PIPE)
    out, err = second.communicate("\n".join([
        f"/as wxid_chen_zr", f"/in {COUNTY}", "#回执 N1",
        f"/as {ANSWERS_FOR[room]}", f"/in {room}", "收到",
        "/as wxid_chen_zr", f"/in {COUNTY}", "#回执 N1",
        "/time +25h",                                       # past the receipt deadline
    ]) + "\n", timeout=60)
    assert second.returncode == 0, err
    sent = messages(out)
    before, after = [text for to, text in sent if to == COUNTY and text.startswith("通知 N1（")]
    assert "可能已送达 1（发送时中断或正在发送），已回执 0，未回执 13。" in before
    assert "已回执 1，未回执 12。" in after and room not in after.split("未回执：")[1]
    reminded = [to for to, text in sent if text.startswith("【回执提醒】")]
    assert len(reminded) == BELOW_COUNTY - 1 and room not in reminded
    missing, = [text for to, text in sent if to == COUNTY and "未回复" in text]
    assert room not in missing
    notices = [to for to, text in sent if text.startswith("【通知 N1】")]
    assert room not in notices and len(set(notices)) == len(notices) == BELOW_COUNTY - 1   # never twice


def messages(console_output: str) -> list[tuple[str, str]]:
    """(room, text) of each message the console transport printed."""
    found = []
    for block in console_output.split("🤖 → ")[1:]:
        head, *lines = block.split("\n")
        body = []
        for line in lines:                  # the text's lines are indented; the console's own are not
            if not line.startswith("      "):
                break
            body.append(line.strip())
        found.append((head.removeprefix("群「").removesuffix("」"), "\n".join(body)))
    return found
