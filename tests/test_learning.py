"""Learning from the grid (SPEC §6.5, issue 11 items 4-5): corrections recorded as labelled
examples, `gridbot train --db` and the database's own weights, and the 待确认 list."""
import json
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.cli import main
from bot.domain import learning
from bot.storage.db import make_engine, session
from bot.storage.models import Correction, CountyWeights, UnsureMessage
from tests.harness import ORG_SMALL

GRID = "城南社区第3网格群"
WORKER = "wxid_liufang"
RESIDENT = "wxid_res_li"
ADMIN = "wxid_chen_zr"
# A county's own word: 陂头 (a weir for irrigation) reads as water supply or as nothing to the
# bundled weights; the grid says it belongs to 自然资源.
LOCAL_REPORTS = ["后山的陂头漏水了", "陂头漏水，田里都干了", "陂头垮了一角，水都流走了"]
NEXT_REPORT = "新修的陂头又漏了"


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def lines(day: int, *messages: tuple[str, str]) -> str:
    """Replay lines in the grid's room on 2026-11-`day`, from 09:00 a minute apart."""
    out = []
    for minute, (sender, text) in enumerate(messages):
        out.append(json.dumps({"at": f"2026-11-{day}T09:{minute:02d}:00+08:00", "room": GRID, "from": sender,
                               "name": "李大姐" if sender == RESIDENT else "", "text": text,
                               "id": f"m{day}-{minute}"}, ensure_ascii=False))
    return "\n".join(out) + "\n"


@pytest.fixture(autouse=True)
def jieba_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDBOT_CACHE_DIR", str(tmp_path / "cache"))


def test_a_local_word_corrected_three_times_is_routed_right_after_training(capsys, new_db, tmp_path, monkeypatch):
    db = new_db("county")
    before = tmp_path / "before.jsonl"
    before.write_text(lines(25, *[m for i, text in enumerate(LOCAL_REPORTS, 1)
                                 for m in ((RESIDENT, text), (WORKER, f"#转派 T{i} 自然资源"))]), encoding="utf-8")
    code, out, err = run(capsys, "replay", before, "--org", ORG_SMALL, "--db", db)
    assert code == 0, err
    code, out, _ = run(capsys, "tickets", "--db", db, "--json")
    assert [t["department"] for t in json.loads(out)] == ["land", "land", "land"]

    monkeypatch.setattr("sys.stdin", _Stdin(json.dumps({"id": "p", "text": NEXT_REPORT}, ensure_ascii=False)))
    code, out, _ = run(capsys, "classify", "--db", db)     # no weights of its own yet: the bundled ones
    assert json.loads(out)["department"] != "land"

    code, out, err = run(capsys, "train", "--db", db)
    assert code == 0, err
    assert "本地纠正 3 条" in out

    after = tmp_path / "after.jsonl"
    # Two days on, so that it is a new ticket rather than the same problem reported again.
    after.write_text(lines(27, (RESIDENT, NEXT_REPORT)), encoding="utf-8")
    code, out, err = run(capsys, "replay", after, "--org", ORG_SMALL, "--db", db)
    assert code == 0, err
    sent = [json.loads(line) for line in out.splitlines()]
    assert any(o["room"] == "县自然资源局工单群" and "【工单派发 T4" in o["text"] for o in sent)
    code, out, _ = run(capsys, "tickets", "--db", db, "--json")
    assert json.loads(out)[-1]["department"] == "land"


def test_classify_reads_the_databases_own_weights(capsys, new_db, monkeypatch, tmp_path):
    db = new_db("weights")
    engine = make_engine(db)
    with session(engine) as s:
        for text in LOCAL_REPORTS:
            learning.record(s, _Clock(), learning.TRANSFER, text, WORKER, department="land")
        s.commit()
    assert run(capsys, "train", "--db", db)[0] == 0
    monkeypatch.setattr("sys.stdin", _Stdin(json.dumps({"id": 1, "text": NEXT_REPORT}, ensure_ascii=False)))
    code, out, _ = run(capsys, "classify", "--db", db)
    assert json.loads(out)["department"] == "land"
    # Without --db and with no database file where it runs: the bundled weights, and no file made.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.stdin", _Stdin(json.dumps({"id": 1, "text": NEXT_REPORT}, ensure_ascii=False)))
    code, out, _ = run(capsys, "classify")
    assert json.loads(out)["department"] != "land"
    assert not (tmp_path / "gridbot.db").exists()


def test_training_on_the_same_corrections_gives_the_same_weights(new_db, classifier):
    engine = make_engine(new_db("twice"))
    with session(engine) as s:
        for text in LOCAL_REPORTS:
            learning.record(s, _Clock(), learning.TRANSFER, text, WORKER, department="land")
        s.commit()
    tables = []
    for _ in range(2):
        learning.train(engine, classifier, _Clock())
        with session(engine) as s:
            tables.append(s.get(CountyWeights, 1).weights)
    assert tables[0] == tables[1] and "陂头" in tables[0]


async def test_not_a_problem_declines_tells_the_reporter_and_teaches(harness):
    out = await harness.say(RESIDENT, "小区门口的路灯坏了好几天了", GRID, name="李大姐")
    assert any("T1" in o.text for o in out)
    out = await harness.say(WORKER, "#不受理 T1 不是问题，这盏灯是小区物业自己的，已告知物业", GRID)
    told = [o for o in out if o.room_topic == GRID]
    assert told and "不予受理" in told[0].text and "物业" in told[0].text and RESIDENT in told[0].mentions
    assert harness.tickets()[0]["status"] == "declined"
    # A declined ticket has no deadlines: nothing is sent when its accept deadline passes.
    assert await harness.say(RESIDENT, "好的", GRID, after=timedelta(hours=6)) == []
    with session(harness.engine) as s:
        examples = learning.county_examples(s)
    assert [(e["text"], e["is_issue"]) for e in examples] == [("小区门口的路灯坏了好几天了", False)]
    # A decline for another reason is not a classifier mistake.
    await harness.say(RESIDENT, "5栋门口的下水道堵了，污水往外冒", GRID, name="李大姐")
    out = await harness.say(WORKER, "#不受理 T2 已由物业处理", GRID)
    with session(harness.engine) as s:
        assert len(learning.county_examples(s)) == 1
    # Only those who may handle it can decline it, and a reason is needed.
    await harness.say(RESIDENT, "5栋楼道的灯坏了", GRID, name="李大姐")
    out = await harness.say(RESIDENT, "#不受理 T3 不是问题", GRID)
    assert "只有" in out[0].text and harness.tickets()[2]["status"] == "open"
    out = await harness.say(WORKER, "#不受理 T3", GRID)
    assert "用法" in out[0].text


async def test_reporting_a_quoted_message_the_bot_ignored_teaches_once_handled(harness):
    quiet = "村口那条圳沟又堵了，水漫到路上"
    assert await harness.say(RESIDENT, quiet, GRID, name="李大姐") == []    # the bot saw no problem
    out = await harness.say(WORKER, f"「李大姐：{quiet}」\n- - - - - - - - - - - - - - -\n#上报", GRID)
    assert any("已登记工单 T1" in o.text for o in out)
    ticket = harness.tickets()[0]
    assert ticket["text"] == quiet and ticket["reporter"] == WORKER
    with session(harness.engine) as s:
        assert s.exec(select(Correction)).one().kind == learning.MISSED
        assert learning.county_examples(s) == []          # anyone's #上报 teaches once staff take it on
    await harness.say(WORKER, "#转派 T1 城管", GRID)
    await harness.say(WORKER, "#受理 T1", GRID)
    with session(harness.engine) as s:
        assert [(e["is_issue"], e["department"]) for e in learning.county_examples(s)] == [(True, "urban_mgmt")]


async def test_an_unsure_message_waits_on_the_list_until_a_worker_opens_it(harness, monkeypatch):
    unsure = "陂头的闸门被冲坏了，田里放不了水"
    assert harness.bot.classifier.classify(unsure).unsure
    assert await harness.say(RESIDENT, unsure, GRID, name="李大姐") == []     # no ticket, no reply
    assert harness.tickets() == []
    out = await harness.say(WORKER, "#清单", GRID)
    assert "【待确认】" in out[0].text and "Q1" in out[0].text and "李大姐" in out[0].text
    # A resident cannot open it; an unknown number says so.
    out = await harness.say(RESIDENT, "#确认 Q1", GRID)
    assert "只有" in out[0].text or "没有" in out[0].text
    out = await harness.say(WORKER, "#确认 Q9", GRID)
    assert "未找到待确认消息 Q9" in out[0].text
    # The daily digest lists it for the grid too (08:30 next morning).
    out = await harness.say(WORKER, "#帮助", GRID, after=timedelta(hours=24))
    digest = [o for o in out if "每日工单提醒" in o.text]
    assert digest and "Q1" in digest[0].text
    out = await harness.say(WORKER, "#确认 Q1", GRID)
    ticket = harness.tickets()[0]
    assert ticket["reporter"] == RESIDENT and ticket["text"] == unsure
    assert any("已登记工单 T1" in o.text and o.room_topic == GRID for o in out)
    assert any("Q1" in o.text and "T1" in o.text for o in out)
    out = await harness.say(WORKER, "#确认 Q1", GRID)
    assert "已处理过" in out[0].text and len(harness.tickets()) == 1
    with session(harness.engine) as s:
        assert s.exec(select(UnsureMessage)).one().status == "opened"


async def test_dismissing_an_unsure_message_teaches_it_is_none(harness):
    await harness.say(RESIDENT, "陂头的闸门被冲坏了，田里放不了水", GRID, name="李大姐")
    out = await harness.say(WORKER, "#忽略 Q1", GRID)
    assert "已忽略" in out[0].text
    out = await harness.say(WORKER, "#清单", GRID)
    assert "待确认" not in out[0].text
    with session(harness.engine) as s:
        assert [e["is_issue"] for e in learning.county_examples(s)] == [False]


async def test_broken_weights_in_the_database_fall_back_to_the_bundled_ones(harness, caplog):
    with session(harness.engine) as s:
        s.add(CountyWeights(id=1, trained_at=harness.clock.now(), messages=1, corrections=0,
                            weights="word\t路灯\tnowhere\tnot-a-number\n"))
        s.commit()
    out = await harness.say(RESIDENT, "小区门口的路灯坏了好几天了", GRID, name="李大姐")
    assert any("已登记工单 T1" in o.text for o in out)
    assert "路灯" not in caplog.text      # logs carry no message text


class _Clock:
    def now(self):
        from datetime import UTC, datetime

        return datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


class _Stdin:
    def __init__(self, text: str) -> None:
        import io

        self.buffer = io.BytesIO((text + "\n").encode("utf-8"))
