"""Input that once aborted a whole run (issue 10.3, 10.8): far dates, lone surrogates, NUL and control
characters, a BOM, huge forwarded records, a closed pipe. Each is answered or skipped with its reason,
never aborts the run, and never reaches the database unclean."""
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import text as sql
from sqlmodel import select

from bot.app import APOLOGY
from bot.cli import main
from bot.domain.texts import RELAY_LIMIT
from bot.storage.db import session
from bot.storage.models import SeenMessage, Ticket
from tests.harness import ORG_SMALL, to_room

HOUSEHOLD = "5栋王建国中心户邻里群"
GRID = "城南社区第3网格群"
POWER = "县供电公司工单群"
RESIDENT = "wxid_res_zhang"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def jieba_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDBOT_CACHE_DIR", str(tmp_path / "cache"))


def replay(capsys, lines, tmp_path, db, *, bom: bool = False) -> tuple[int, list[dict], str]:
    scenario = tmp_path / "scenario.jsonl"
    body = "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n"
    scenario.write_bytes(("\ufeff" if bom else "").encode() + body.encode("utf-8", "surrogatepass"))
    code = main(["replay", str(scenario), "--org", str(ORG_SMALL), "--db", db])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


REPORT = {"at": "2026-11-25T09:00:00+08:00", "room": HOUSEHOLD, "from": RESIDENT, "text": "5栋2单元从早上开始就没电了"}


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59+08:00", "0001-01-01T00:00:00+08:00", "1999-12-31T23:00:00+08:00"])
def test_a_far_date_is_skipped_and_later_runs_still_work(capsys, tmp_path, new_db, at):
    db = new_db()
    far = {**REPORT, "at": at, "text": "路灯坏了", "id": "far"}
    code, out, err = replay(capsys, [far, REPORT, {"at": "2026-11-25T14:00:00+08:00", "tick": True}], tmp_path, db)
    assert code == 0
    assert "第1行已跳过：at 超出可处理的时间范围（2000–2099 年）" in err
    assert any(o["text"].startswith("已登记工单 T1") for o in out)
    assert any("已超过受理时限" in o["text"] for o in out)           # 13:00 accept deadline, seen at the tick
    # The database was not pushed to year 9999: a second run on it goes on normally.
    code, out, err = replay(capsys, [{**REPORT, "at": "2026-11-26T09:00:00+08:00", "text": "村口井盖翻了"}],
                            tmp_path, db)
    assert code == 0 and any(o["text"].startswith("已登记工单 T2") for o in out), err


def test_bad_lines_are_reported_in_chinese(capsys, tmp_path, new_db):
    lines = ['{"at": "bad", "from": "x", "text": "y"}', "not json", '{"from": "x"}', "[1]", REPORT]
    code, out, err = replay(capsys, lines, tmp_path, new_db())
    assert code == 0 and any(o["text"].startswith("已登记工单 T1") for o in out)
    assert "第1行已跳过：at 不是有效的时间：'bad'" in err
    assert "第2行已跳过：不是有效的 JSON" in err
    assert "第3行已跳过：缺少 at" in err
    assert "第4行已跳过：每行必须是一个 JSON 对象" in err
    assert "Invalid isoformat" not in err and "Expecting value" not in err


def test_a_scenario_starting_with_a_bom_keeps_its_first_line(capsys, tmp_path, new_db):
    code, out, err = replay(capsys, [REPORT], tmp_path, new_db(), bom=True)
    assert code == 0 and not err
    assert any(o["text"].startswith("已登记工单 T1") for o in out)


def test_surrogates_nul_and_controls_never_abort_and_never_reach_the_database(capsys, tmp_path, new_db):
    db = new_db()
    lines = [
        {**REPORT, "id": "m\ud800", "text": "5栋楼道灯坏了\x07好几天\x1b[31m\x0b了\x00"},
        {**REPORT, "at": "2026-11-25T09:01:00+08:00", "id": "n\x00ul", "room": HOUSEHOLD + "\x00",
         "from": "wxid_\x00x", "text": "#查询 T9\ud800"},
        {**REPORT, "at": "2026-11-25T09:02:00+08:00", "from": "wxid_liufang", "room": GRID,
         "text": "#转派 T1 \ud800不存在的部门"},                    # the refusal echoes the surrogate
        {**REPORT, "at": "2026-11-25T09:03:00+08:00", "text": "村口的井盖翻了\x00，晚上很危险"},
    ]
    code, out, err = replay(capsys, lines, tmp_path, db)
    assert code == 0, err
    texts = [o["text"] for o in out]
    assert APOLOGY not in texts
    assert any(t.startswith("已登记工单 T1") for t in texts) and any(t.startswith("已登记工单 T2") for t in texts)
    assert any("工单号格式不对：T9" in t for t in texts)
    assert any("\ufffd" in t for t in texts)                            # echoed, replaced, printable
    from bot.storage.db import make_engine
    with session(make_engine(db)) as s:
        stored = [t.text for t in s.exec(select(Ticket).order_by(Ticket.id))]
        ids = [m.msg_id for m in s.exec(select(SeenMessage))]
    assert stored[0] == "5栋楼道灯坏了好几天[31m了" and stored[1] == "村口的井盖翻了，晚上很危险"
    assert not any(c in "".join(stored + ids) for c in "\x00\x07\x1b\x0b")
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in "".join(stored + ids))


def test_classify_keeps_every_line_whatever_the_ids_and_text(tmp_path):
    lines = [json.dumps({"id": "m\ud800", "text": "路灯坏了\x07"}), json.dumps({"id": 2, "text": "x\x00y"}),
             "\ufeffbroken", json.dumps({"id": 3, "text": "1" * 40 + "啊"}), json.dumps({"id": 4, "text": "井盖没了"})]
    proc = subprocess.run([sys.executable, "-m", "bot", "classify"], input="\n".join(lines).encode("utf-8", "surrogatepass"),
                          capture_output=True, timeout=60, cwd=ROOT, env={"GRIDBOT_CACHE_DIR": str(tmp_path), "PATH": ""})
    assert proc.returncode == 0, proc.stderr.decode()
    rows = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert [r["id"] for r in rows] == ["m\ud800", 2, None, 3, 4]
    assert rows[0]["is_issue"] and rows[4]["is_issue"] and not rows[2]["is_issue"]


async def test_a_huge_forwarded_record_is_relayed_capped(harness):
    items = tuple(("邻居老周", f"楼下的井盖翻了第{i}次" + "很危险" * 660) for i in range(300))
    started = time.process_time()
    sent = await harness.say("wxid_wangjg", "", HOUSEHOLD, kind="chat_history", items=items)
    assert time.process_time() - started < 1.0                        # 600,000 characters, judged in bounds
    assert sent and all(len(o.text) <= RELAY_LIMIT + 300 for o in sent)
    alert, = [o for o in to_room(sent, GRID)]
    assert "详见 #查询 T1" in alert.text
    reply, = await harness.say("wxid_liufang", "#查询 T1", GRID)
    assert len(reply.text) < 4000 and "工单 T1" in reply.text


async def test_export_survives_control_characters_and_formulas_in_old_rows(harness, tmp_path):
    await harness.say(RESIDENT, "5栋2单元从早上开始就没电了", HOUSEHOLD)
    with session(harness.engine) as s:                # a row written before input was cleaned
        s.exec(sql("UPDATE ticket SET text = :t"), params={"t": "=HYPERLINK(\"x\")\x07\x1b\x0b灯坏了"})
        s.commit()
    reply, = await harness.say("wxid_cn_zhuren", "#导出", "城南社区党组织工作群")
    assert reply.text.startswith("已导出 1 张工单"), reply.text
    row = list(load_workbook(reply.file_path).active.iter_rows(values_only=True))[1]
    assert row[6] == "=HYPERLINK(\"x\")灯坏了"                   # kept as text, not a formula
    out = tmp_path / "cli.xlsx"
    assert main(["export", "tickets", "--db", str(harness.engine.url.render_as_string(hide_password=False)),
                 "--out", str(out)]) == 0


def test_org_show_into_a_closed_pipe_ends_quietly(tmp_path, new_db):
    db = new_db()
    # More output than a pipe holds, so the writer is still writing when `head` goes away.
    org = ["county: 遂川县", "nodes:", "  - {name: 遂川县, level: county, children: [{name: 泉江镇, level: town, children: ["]
    org += [f"      {{name: 第{i}号很长名字的社区党组织, level: community}}," for i in range(3000)] + ["  ]}]}"]
    (tmp_path / "big.yaml").write_text("\n".join(org) + "\n", encoding="utf-8")
    assert main(["org", "import", str(tmp_path / "big.yaml"), "--db", db]) == 0
    # Exactly what a user types: `head -1` reads one line and goes away, closing the pipe.
    piped = subprocess.run(["sh", "-c", f'"{sys.executable}" -m bot org show --db "{db}" | head -1'], cwd=ROOT,
                           capture_output=True, timeout=60)
    assert piped.stdout.decode().startswith("遂川县")
    assert b"Traceback" not in piped.stderr and b"BrokenPipe" not in piped.stderr


def test_doctor_without_arguments_creates_no_database(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["doctor"]) == 1
    assert "✗ 数据库文件 gridbot.db 不存在" in capsys.readouterr().out
    assert not (tmp_path / "gridbot.db").exists()


def test_doctor_marks_unbound_rooms_as_a_note_not_a_tick(new_db, capsys):
    db = new_db()
    assert main(["org", "import", str(ORG_SMALL), "--db", db]) == 0
    capsys.readouterr()
    assert main(["doctor", "--db", db]) == 0
    out = capsys.readouterr().out
    assert any(line.startswith("· ") and "个群尚未绑定微信群 id" in line for line in out.splitlines())
    assert not any(line.startswith("✓") and "尚未绑定" in line for line in out.splitlines())
