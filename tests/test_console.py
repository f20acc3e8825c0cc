"""The terminal demo as a person uses it: typed lines in, every room's messages out, and /time jumps
that step through each due moment, so every message is stamped with the time it was due."""
import io

from bot.transport import Hooks
import os
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest

from bot.clock import OffsetClock, VirtualClock
from bot.config import Config
from bot.runtime import console_bot, run_live
from bot.transport.console import ConsoleDirectory, ConsoleTransport
from tests.harness import ORG_SMALL, TZ, at

COUNTY = "遂川县红网格指挥中心"
GRID = "城南社区第3网格群"
BELOW_COUNTY = 13
_MESSAGE = re.compile(r"^\[(\d\d-\d\d \d\d:\d\d)\] 🤖 → 群「(.+)」$")


def messages(out: str) -> list[tuple[str, str, str]]:
    """(stamp, room, first line of the text) of each group message, and ("now", time, "") for each
    `现在是 …` line, in the order printed."""
    lines = out.splitlines()
    found = []
    for i, line in enumerate(lines):
        if match := _MESSAGE.match(line):
            found.append((match[1], match[2], lines[i + 1].strip()))
        elif line.startswith("现在是 "):
            found.append(("now", line.removeprefix("现在是 ")[:16], ""))
    return found


def demo(tmp_path, script: list[str], start: str, *extra: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "bot", "demo", "--db", f"sqlite:///{tmp_path / 'demo.db'}",
                           "--start-at", start, *extra], input="\n".join(script) + "\n", capture_output=True,
                          text=True, timeout=120, cwd=tmp_path,
                          env={**os.environ, "GRIDBOT_CACHE_DIR": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_demo_jumps_step_through_each_due_moment(tmp_path):
    # Wednesday 09:00: the report's accept deadline is 13:00, the grid digest runs at 08:30 daily.
    out = demo(tmp_path, ["/as wxid_res_zhang", "/in 5栋王建国中心户邻里群", "5栋2单元从早上开始就没电了，冰箱都停了",
                          "/time +5h", "/time +3d", "/time 09:00"],
               "2026-11-25T09:00:00+08:00", "--send-interval", "0")
    assert "时钟从 --start-at 指定的时间开始（2026-11-25 09:00）" in out and "免打扰" not in out
    assert "补发" not in out
    seen = messages(out)
    # The clock runs with the wall clock between jumps, so only a jump to a time of day ends on the minute.
    ends = [s[1] for s in seen if s[0] == "now"]
    assert [e[:14] for e in ends[:2]] == ["2026-11-25 14:", "2026-11-28 14:"] and ends[2] == "2026-11-29 09:00"
    # Each message comes out during the jump that passes its due time, stamped with that time.
    jump_ends = [i for i, s in enumerate(seen) if s[0] == "now"]
    stamped = [(i, s) for i, s in enumerate(seen) if s[0] != "now"]
    for i, (stamp, _, _) in stamped:
        end = next(seen[j][1] for j in jump_ends if j > i)
        assert "2026-" + stamp <= end
    ack, = [s[2] for s in seen if s[2].startswith("已登记工单 T1")]
    accept_by = re.search(r"11月25日 (\d\d:\d\d)前受理", ack)[1]          # 4 h after the report
    reminder, = [s[:2] for s in seen if "已超过受理时限" in s[2]]
    escalation, = [s[:2] for s in seen if s[2].startswith("【逐级转报｜超期未受理】")]
    assert reminder == (f"11-25 {accept_by}", GRID) and escalation == (f"11-25 {accept_by}", "城南社区党组织工作群")
    digests = [s[:2] for s in seen if s[2].startswith("【每日工单提醒")]
    assert digests == [(f"11-{day} 08:30", GRID) for day in (26, 27, 28, 29)]     # once a day, at 08:30
    assert all(f"11月{s[0][3:5]}日" in s[2] for s in seen if s[2].startswith("【每日工单提醒"))


async def test_a_jump_paces_a_fan_out_on_the_stopped_clock(tmp_path, new_db, classifier):
    """At 1.5 s a message, a fan-out to 13 rooms takes 20 s of bot time: the jump steps through the
    pacing slots instead of sleeping, so it takes no real time and all of it lands inside the jump."""
    out = io.StringIO()
    script = f"/as wxid_chen_zr\n/in {COUNTY}\n#通知 今晚防汛值班，请收到回复\n/time +1h\n"
    bot = console_bot(Config(db=new_db(), org=str(ORG_SMALL), send_interval=1.5, start_at=at(2026, 11, 25, 9, 0)),
                      stdin=io.StringIO(script), stdout=out, classifier=classifier)
    started = time.monotonic()
    await run_live(bot)
    assert time.monotonic() - started < 10
    seen = messages(out.getvalue())
    jump_end = seen.index(("now", "2026-11-25 10:00", ""))
    notices = [s for s in seen[:jump_end] if s[2].startswith("【通知 N1】")]
    assert len(notices) == BELOW_COUNTY == len({s[1] for s in notices})
    assert all(s[0].startswith("11-25 09:0") for s in notices)           # 20 s of slots, not the target's 10:00
    assert not [s for s in seen[jump_end:] if s[2].startswith("【通知 N1】")]


async def test_an_urgent_ticket_s_reminder_is_stamped_when_it_was_due(new_db, classifier):
    """Before, a jump stamped everything with its end: "将于 04:15 到期" printed at 04:32."""
    out = io.StringIO()
    script = "/in 5栋王建国中心户邻里群\n5栋楼下着火了，浓烟很大，快来人\n/time +2h\n"
    bot = console_bot(Config(db=new_db(), org=str(ORG_SMALL), send_interval=0, start_at=at(2026, 11, 25, 9, 0)),
                      stdin=io.StringIO(script), stdout=out, classifier=classifier)
    await run_live(bot)
    seen = messages(out.getvalue())
    reminder, = [s for s in seen if "到期，请按时办结" in s[2]]
    resolve_by = datetime.strptime(re.search(r"将于11月25日 (\d\d:\d\d)到期", reminder[2])[1], "%H:%M")
    assert reminder[0] == f"11-25 {resolve_by - timedelta(minutes=30):%H:%M}"      # urgent: 30 min before
    assert "补发" not in out.getvalue()


@pytest.mark.parametrize("start, quiet", [(at(2026, 11, 25, 23, 30), True), (at(2026, 11, 26, 3, 0), True),
                                          (at(2026, 11, 26, 7, 0), False), (at(2026, 11, 25, 21, 50), False)])
async def test_the_demo_says_where_its_clock_starts_and_whether_that_is_quiet(new_db, classifier, start, quiet):
    out = io.StringIO()
    bot = console_bot(Config(db=new_db(), org=str(ORG_SMALL), start_at=start), stdin=io.StringIO(""), stdout=out,
                      classifier=classifier)
    await run_live(bot)
    first, second = out.getvalue().splitlines()[1:3]
    assert first == f"时钟从 --start-at 指定的时间开始（{start:%Y-%m-%d %H:%M}），随真实时间走，可用 /time 快进。"
    assert second.startswith("现在是免打扰时段（22:00–07:00）") is quiet


@pytest.mark.parametrize("arg, now, expected", [
    ("+4h", at(2026, 11, 25, 9, 0), at(2026, 11, 25, 13, 0)),
    ("+1d4h", at(2026, 11, 25, 9, 0), at(2026, 11, 26, 13, 0)),
    ("30m", at(2026, 11, 25, 9, 0), at(2026, 11, 25, 9, 30)),
    ("09:00", at(2026, 11, 25, 8, 0), at(2026, 11, 25, 9, 0)),
    ("09:00", at(2026, 11, 25, 9, 0), at(2026, 11, 26, 9, 0)),       # the next 09:00 after now
    ("09:00", at(2026, 11, 25, 23, 30), at(2026, 11, 26, 9, 0)),
    ("明天9点", at(2026, 11, 25, 15, 0), at(2026, 11, 26, 9, 0)),
    ("周五18点", at(2026, 11, 25, 15, 0), at(2026, 11, 27, 18, 0)),
])
async def test_time_jumps_by_a_duration_or_to_a_time_of_day(tmp_path, arg, now, expected):
    out = io.StringIO()
    transport = ConsoleTransport(ConsoleDirectory(county="遂川县", tz=TZ, rooms=(GRID,), people=()),
                                 OffsetClock(VirtualClock(now)), stdin=io.StringIO(f"/time {arg}\n"), stdout=out)
    targets: list[datetime] = []

    async def on_tick(target: datetime) -> None:
        targets.append(target)

    await transport.start(dispatch=None, hooks=Hooks(tick=on_tick))
    assert targets == [expected]
    assert f"现在是 {expected:%Y-%m-%d %H:%M}" in out.getvalue()


async def test_a_time_the_demo_cannot_read_is_explained():
    out = io.StringIO()
    transport = ConsoleTransport(ConsoleDirectory(county="遂川县", tz=TZ, rooms=(GRID,), people=()),
                                 OffsetClock(start=at(2026, 11, 25, 9, 0)), stdin=io.StringIO("/time 随便\n"),
                                 stdout=out)
    await transport.start(dispatch=None)
    assert "看不懂的时间：随便" in out.getvalue() and "/time 09:00" in out.getvalue()
    assert "现在是 2026-11-25 09:00" not in out.getvalue()


async def test_console_message_ids_never_repeat_across_transports():
    """The id is the de-duplication key: two terminals (processes) started in the same second on one
    database must not drop each other's messages as already seen."""
    ids: list[str] = []

    async def dispatch(msg) -> None:
        ids.append(msg.msg_id)

    for _ in range(2):
        transport = ConsoleTransport(ConsoleDirectory(county="遂川县", tz=TZ, rooms=(GRID,), people=()),
                                     OffsetClock(start=at(2026, 11, 25, 9, 0)),
                                     stdin=io.StringIO("楼道灯坏了\n收到\n/fwd 老周：井盖翻了\n"), stdout=io.StringIO())
        await transport.start(dispatch)
    assert len(ids) == 6 and len(set(ids)) == 6
