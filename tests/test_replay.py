"""The CLI's replay and tickets verbs (SPEC §6.2/§6.3), and org import, as a user runs them."""
import json

import pytest

from bot.cli import main
from tests.harness import DATA, ORG_SMALL

SCENARIO = DATA / "example_scenario.jsonl"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def replay(capsys, scenario, db) -> list[dict]:
    code, out, err = run(capsys, "replay", scenario, "--org", ORG_SMALL, "--db", db)
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def tickets(capsys, db) -> list[dict]:
    code, out, _ = run(capsys, "tickets", "--db", db, "--json")
    assert code == 0
    return json.loads(out)


@pytest.fixture
def db(new_db, tmp_path) -> str:
    return new_db("replay")


@pytest.fixture(autouse=True)
def jieba_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDBOT_CACHE_DIR", str(tmp_path / "cache"))


def test_example_scenario(capsys, db):
    out = replay(capsys, SCENARIO, db)
    first = out[:3]
    assert {o["room"] for o in first} == {"5栋王建国中心户邻里群", "城南社区第3网格群", "县供电公司工单群"}
    # Paced: one message every 1.5 s per bot account.
    assert [o["at"] for o in first] == ["2026-11-25T09:00:00+08:00", "2026-11-25T09:00:01.500+08:00",
                                        "2026-11-25T09:00:03+08:00"]
    assert all(o["to"] is None for o in first)
    grid_alert = next(o for o in first if o["room"] == "城南社区第3网格群")
    assert grid_alert["mentions"] == ["wxid_liufang"] and "@网格员刘芳" in grid_alert["text"]
    assert not [o for o in out if o["at"].startswith("2026-11-25T09:02")]     # nothing for 收到
    rate = next(o for o in out if "#评价 T1" in o["text"])
    assert rate["mentions"] == ["wxid_res_zhang"]
    private = [o for o in out if o["to"] == "wxid_wangjg"]
    assert private and private[0]["room"] is None and "T2" in private[0]["text"]

    t1, t2 = tickets(capsys, db)
    assert t1["no"] == "T1" and t1["status"] == "closed" and t1["department"] == "power"
    assert t2["no"] == "T2" and t2["department"] == "urban_mgmt" and "邻居老周" in t2["text"]
    assert t2["reporter"] == "wxid_wangjg" and t2["assignee"] == "wxid_liufang"
    assert set(t1) == {"no", "status", "department", "urgency", "node", "reporter", "assignee", "followers",
                       "created_at", "accept_by", "resolve_by", "escalation_level", "text"}
    assert t1["created_at"] == "2026-11-25T09:00:00+08:00"


def test_replay_continues_on_the_same_database(capsys, db, tmp_path):
    replay(capsys, SCENARIO, db)
    # Running the same scenario again handles nothing twice.
    assert replay(capsys, SCENARIO, db) == []
    more = tmp_path / "more.jsonl"
    more.write_text(json.dumps({"at": "2026-11-26T10:00:00+08:00", "room": "上坪村4组村民群", "from": "wxid_x",
                                "text": "村口的自来水管破了，水哗哗地往外冒"}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    out = replay(capsys, more, db)
    assert any("T3" in o["text"] for o in out)
    assert [t["no"] for t in tickets(capsys, db)] == ["T1", "T2", "T3"]


def test_bad_scenario_lines_are_reported_and_skipped(capsys, db, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([
        "not json",
        json.dumps({"at": "2026-11-25T09:00:00", "from": "x", "text": "停电了"}),
        json.dumps({"at": "2026-11-25T09:00:00+08:00", "text": "没有发送人"}),
        json.dumps({"at": "2026-11-25T09:01:00+08:00", "room": "城南社区第3网格群", "from": "wxid_liufang",
                    "text": "#帮助"}),
    ]) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "replay", bad, "--org", ORG_SMALL, "--db", db)
    assert code == 0
    assert "第1行已跳过" in err and "第2行已跳过" in err and "第3行已跳过" in err
    assert len(out.splitlines()) == 1 and "可用命令" in out


def test_org_import_and_show(capsys, db):
    code, out, _ = run(capsys, "org", "import", ORG_SMALL, "--db", db)
    assert code == 0 and "已导入" in out
    code, out, _ = run(capsys, "org", "show", "--db", db)
    assert "第3网格 [grid] 〔城南社区第3网格群〕" in out and "网格员刘芳(grid_worker)" in out


def test_broken_org_file_is_rejected_whole(capsys, db, tmp_path):
    run(capsys, "org", "import", ORG_SMALL, "--db", db)
    good = ORG_SMALL.read_text(encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(good.replace("雩田镇红网格工作群", "城南社区第3网格群").replace("name: 上坪村", "name: 上坪新村"),
                      encoding="utf-8")
    code, _, err = run(capsys, "org", "import", broken, "--db", db)
    assert code == 2 and "行" in err and "城南社区第3网格群" in err
    _, out, _ = run(capsys, "org", "show", "--db", db)
    assert "上坪新村" not in out and "上坪村" in out


def test_classify_verb(capsys, monkeypatch):
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO(
        '{"id": "a", "text": "楼下着火了，烟好大"}\n{"id": 2, "text": "收到"}\nnot json\n'))
    code, out, err = run(capsys, "classify")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["id"] for r in rows] == ["a", 2, None]        # one line per input line
    assert rows[0]["is_issue"] and rows[0]["department"] == "fire" and rows[0]["urgency"] == "urgent"
    assert rows[1] == {"id": 2, "is_issue": False, "department": None, "urgency": "normal", "keywords": []}
    assert rows[2] == {"id": None, "is_issue": False, "department": None, "urgency": "normal", "keywords": []}
    assert "第3行" in err


def test_demo_runs_in_terminal_and_exits_at_end_of_input(tmp_path):
    import os
    import subprocess
    import sys
    script = "\n".join(["/as wxid_res_zhang", "/in 5栋王建国中心户邻里群", "5栋2单元从早上开始就没电了，冰箱都停了",
                        "/as wxid_liufang", "/in 城南社区第3网格群", "#受理 T1", "/time +4h", "#查询 T1"]) + "\n"
    proc = subprocess.run([sys.executable, "-m", "bot", "demo", "--db", f"sqlite:///{tmp_path / 'demo.db'}",
                           "--send-interval", "0", "--start-at", "2026-11-25T09:00:00+08:00"],
                          input=script, capture_output=True, text=True, timeout=60, cwd=tmp_path,
                          env={**os.environ, "GRIDBOT_CACHE_DIR": str(tmp_path / "cache")})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "/time +4h" in out or "时钟快进" in out          # the help is shown on start
    assert "群「城南社区第3网格群」" in out and "T1" in out and "处置中" in out
    assert out.rstrip().endswith("再见。")


def _escalations(out: list[dict]) -> list[tuple[str, str]]:
    return [(o["at"][:16], o["room"]) for o in out if "逐级转报" in o["text"] or o["text"].startswith("⏰")]


def test_replay_across_national_day_and_the_year_change(capsys, db, tmp_path):
    scenario = tmp_path / "holidays.jsonl"
    lines = [
        {"at": "2026-09-30T10:00:00+08:00", "room": "上坪村4组村民群", "from": "wxid_cun1",
         "text": "村口的自来水管破了，水哗哗地往外冒"},
        {"at": "2026-10-13T09:00:00+08:00", "tick": True},
        {"at": "2026-12-30T10:00:00+08:00", "room": "上坪村4组村民群", "from": "wxid_cun2",
         "text": "村口那几盏路灯坏了好几天了，晚上黑乎乎的"},
        {"at": "2027-01-07T09:00:00+08:00", "tick": True},
    ]
    scenario.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    out = replay(capsys, scenario, db)
    first = [e for e in _escalations(out) if e[0] < "2026-12"]
    assert first == [
        ("2026-09-30T14:00", "上坪村第1网格群"),       # accept deadline: remind the assignee …
        ("2026-09-30T14:00", "上坪村两委工作群"),       # … and escalate to the village
        ("2026-10-09T18:00", "上坪村第1网格群"),       # 24 h before the deadline: Sat 10-10 is a working day (调休)
        ("2026-10-10T18:00", "雩田镇红网格工作群"),     # resolve deadline passed: the town
        ("2026-10-12T18:00", "遂川县红网格指挥中心"),   # next working day (Sunday skipped): the county
    ]
    second = [e for e in _escalations(out) if e[0] >= "2026-12"]
    # 12-31, 2027-01-01 (a Friday; chinese-calendar has no 2027 data: weekdays), 01-04 → resolve by 01-04 18:00
    assert second == [
        ("2026-12-30T14:00", "上坪村第1网格群"),
        ("2026-12-30T14:00", "上坪村两委工作群"),
        ("2027-01-03T18:00", "上坪村第1网格群"),
        ("2027-01-04T18:00", "雩田镇红网格工作群"),
        ("2027-01-05T18:00", "遂川县红网格指挥中心"),
    ]


def test_a_replay_decades_after_the_last_steps_only_through_its_last_quarter(capsys, db, tmp_path):
    """What stalled the dispatch fuzz: a scenario re-run on a database whose last line was in 2026, its
    first line at the end of 2099. The open ticket's grid would get a digest for each of 26,000 days;
    the days before the jump's last 92 pass as downtime does, with one digest for them."""
    first = tmp_path / "first.jsonl"
    first.write_text(json.dumps({"at": "2026-11-25T09:00:00+08:00", "room": "5栋王建国中心户邻里群",
                                 "from": "wxid_res_zhang", "text": "5栋2单元从早上开始就没电了"},
                                ensure_ascii=False) + "\n", encoding="utf-8")
    replay(capsys, first, db)
    later = tmp_path / "later.jsonl"
    later.write_text(json.dumps({"at": "2100-01-01T00:00:00+08:00", "tick": True}) + "\n", encoding="utf-8")
    digests = [o for o in replay(capsys, later, db) if "每日工单提醒" in o["text"] and "T1" in o["text"]]
    late = [d for d in digests if d["at"] >= "2099"]
    assert 90 <= len(late) <= 94 and len(digests) - len(late) <= 6      # 2026's: at the ticket's deadlines
    assert late[0]["at"].startswith("2099-10-01") and late[-1]["at"].startswith("2099-12-31T08:30")
