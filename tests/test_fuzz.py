"""Fuzzing the two ways in (issue 10): messages through the real dispatch path, and replay lines.
Long repeats, lone surrogates, NUL and control characters, far dates and huge records must never
crash the bot (no apology, no exception), never leave unencodable text, and never take a second."""
import asyncio
import io
import itertools
import json
import time
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import APOLOGY
from bot.config import Config
from bot.runtime import replay_bot
from tests.harness import ORG_SMALL

ROOMS = [None, "5栋王建国中心户邻里群", "城南社区第3网格群", "城南社区党组织工作群", "遂川县红网格指挥中心",
         "县供电公司工单群", "不在组织里的群", "5栋王建国中心户邻里群\x00", "\ud800群"]
SENDERS = ["wxid_res_zhang", "wxid_liufang", "wxid_cn_zhuren", "wxid_chen_zr", "wxid_wangjg", "wxid_power_he",
           "wxid_\x00evil", "\ud800", "wxid_" + "x" * 500]
NASTY = ["1", "收", "哈", "啊", "\x00", "\x07", "\x1b", "\x0b", "\ud800", "\udfff", "😀", "，", "#", "T1 ", "１",
         "139 1234 5678", "\u200b", "\ufeff", "=", "\n", "\r\n", "@"]
COMMANDS = ["", "#查询 ", "#受理 ", "#办结 T1 ", "#通知 ", "#通知 到网格 ", "#提醒 ", "#提醒 明天9点 ", "#转派 T1 ",
            "#评价 T1 ", "#上报 ", "#统计 ", "#排行 ", "#清单", "#绑定 ", "#撤销 T", "#催办 T1", "＃帮助", "/导出",
            "#指派 T1 ", "#合并 T1 ", "#督办 T1 ", "#延期 T1 ", "#延期 T1 明天9点 ", "#同意延期 ", "#驳回延期 T1 ", "#重开 ",
            "#议事 ", "#议事 停车 选项：", "#投票 Y1 ", "#议事结果 ", "#走访 李大爷 ", "#走访台账 "]

any_char = st.characters(codec=None, exclude_categories=())         # surrogates and controls included
repeats = st.builds(lambda c, n, tail: c * n + tail, st.sampled_from(NASTY), st.integers(1, 2500),
                    st.text(any_char, max_size=5))
hostile_text = st.one_of(
    st.text(any_char, max_size=300),
    repeats,
    st.builds(lambda cmd, arg: cmd + arg, st.sampled_from(COMMANDS), st.one_of(st.text(any_char, max_size=80), repeats)),
    st.builds(lambda parts: "".join(parts), st.lists(st.sampled_from(NASTY + ["路灯坏了", "着火了", "收到"]), max_size=60)),
)
items = st.lists(st.tuples(st.text(any_char, max_size=10), st.one_of(hostile_text, st.just("井盖翻了" * 500))),
                 max_size=300)

SECOND = 1.0
EXAMPLES = itertools.count()


def utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


@pytest.fixture
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(sender=st.sampled_from(SENDERS), room=st.sampled_from(ROOMS), text=hostile_text,
       record=st.one_of(st.none(), items), msg_id=st.one_of(st.none(), st.text(any_char, max_size=300)))
def test_dispatch_never_crashes_and_answers_within_a_second(harness, loop, sender, room, text, record, msg_id):
    kind, record = ("chat_history", tuple(record)) if record is not None else ("text", ())
    started = time.process_time()      # CPU time: the bound is on work done, not on a busy machine
    sent = loop.run_until_complete(harness.say(sender, text, room, msg_id=msg_id, kind=kind, items=record))
    elapsed = time.process_time() - started
    assert elapsed < SECOND, f"{elapsed:.2f} s"
    assert not [o for o in sent if o.text == APOLOGY]
    assert all(utf8(o.text) and len(o.text) < 5000 for o in sent)


# Within a fortnight (every moment in between is stepped through, as replay must), or out of range.
moments = st.one_of(
    st.datetimes(datetime(2026, 11, 20), datetime(2026, 12, 4), timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.timezones()).filter(lambda d: not 1990 < d.year < 2110).map(lambda d: d.isoformat()),
    st.sampled_from(["9999-12-31T23:59:59+08:00", "0001-01-01T00:00:00+08:00", "bad", "", "2026-11-25",
                     "2026-11-25T09:00:00+08:00", "2100-01-01T00:00:00+08:00", "1999-12-31T23:59:59+08:00"]),
    st.integers(),
)
replay_lines = st.lists(st.one_of(
    st.fixed_dictionaries({"at": moments, "from": st.one_of(st.sampled_from(SENDERS), st.text(any_char, max_size=20)),
                           "text": hostile_text},
                          optional={"room": st.sampled_from(ROOMS), "id": st.text(any_char, max_size=40),
                                    "type": st.sampled_from(["text", "image", "chat_history", "voice"]),
                                    "items": items.map(lambda xs: [{"name": n, "text": t} for n, t in xs]),
                                    "mentions": st.lists(st.text(any_char, max_size=10), max_size=3)}),
    st.fixed_dictionaries({"at": moments, "tick": st.just(True)}),
    st.text(any_char, max_size=50),
), min_size=1, max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(lines=replay_lines)
def test_replay_never_aborts_and_each_line_takes_under_a_second(new_db, classifier, loop, lines):
    encoded = [json.dumps(x, ensure_ascii=True) if not isinstance(x, str) else x.replace("\n", " ") for x in lines]
    out, err = io.StringIO(), io.StringIO()
    # A database of its own for each example: the fixture is the test's, shared by all its examples, and
    # one example's schedules and tickets left for the next made its far `at` replay decades of digests.
    bot = replay_bot(Config(db=new_db(f"fuzz{next(EXAMPLES)}"), org=str(ORG_SMALL)), encoded, out=out, err=err,
                     classifier=classifier)
    started = time.process_time()      # CPU time: the bound is on work done, not on a busy machine
    loop.run_until_complete(bot.run())
    elapsed = time.process_time() - started
    sent = out.getvalue().splitlines()
    assert elapsed < SECOND * (len(lines) + len(sent)), f"{elapsed:.2f} s for {len(lines)} lines, {len(sent)} sent"
    for line in sent:
        record = json.loads(line)
        assert record["text"] != APOLOGY and utf8(record["text"])
