"""Chinese time expressions: parse_time / split_time against fixed base times."""

import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

try:
    from nlp.timeexpr import TimeExprError, parse_time, split_time
except ModuleNotFoundError:  # running without the project root on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from nlp.timeexpr import TimeExprError, parse_time, split_time

SH = ZoneInfo("Asia/Shanghai")
BASE = datetime(2026, 11, 25, 10, 0, tzinfo=SH)        # Wednesday 10:00
YEAR_END = datetime(2026, 12, 30, 10, 0, tzinfo=SH)    # Wednesday 10:00, two days before 2027


def at(y, mo, d, h=9, mi=0, s=0):
    return datetime(y, mo, d, h, mi, s, tzinfo=SH)


CASES = [
    # relative days
    ("明天9点", at(2026, 11, 26, 9)),
    ("明天上午9点", at(2026, 11, 26, 9)),
    ("今天下午3点", at(2026, 11, 25, 15)),
    ("今晚8点", at(2026, 11, 25, 20)),
    ("明早8点半", at(2026, 11, 26, 8, 30)),
    ("明晚7点", at(2026, 11, 26, 19)),
    ("后天10点", at(2026, 11, 27, 10)),
    ("大后天", at(2026, 11, 28, 9)),
    ("明天", at(2026, 11, 26, 9)),
    ("明天下午", at(2026, 11, 26, 14)),
    ("今晚", at(2026, 11, 25, 20)),
    ("明早", at(2026, 11, 26, 8)),
    ("明天 下午 3点", at(2026, 11, 26, 15)),
    ("今天晚上12点", at(2026, 11, 26, 0)),
    # exact offsets
    ("30分钟后", at(2026, 11, 25, 10, 30)),
    ("半小时后", at(2026, 11, 25, 10, 30)),
    ("1个半小时后", at(2026, 11, 25, 11, 30)),
    ("两小时后", at(2026, 11, 25, 12)),
    ("两个小时以后", at(2026, 11, 25, 12)),
    ("1小时30分钟后", at(2026, 11, 25, 11, 30)),
    ("一刻钟后", at(2026, 11, 25, 10, 15)),
    ("九十分钟之后", at(2026, 11, 25, 11, 30)),
    # day offsets are dates (09:00 unless a time follows)
    ("三天后", at(2026, 11, 28, 9)),
    ("3天后", at(2026, 11, 28, 9)),
    ("3天后下午3点", at(2026, 11, 28, 15)),
    ("一周后", at(2026, 12, 2, 9)),
    ("两个星期后", at(2026, 12, 9, 9)),
    ("三个月后", at(2027, 2, 25, 9)),
    ("半个月后", at(2026, 12, 10, 9)),
    # weekdays (base is Wednesday)
    ("周五18点", at(2026, 11, 27, 18)),
    ("星期五下午6点", at(2026, 11, 27, 18)),
    ("礼拜三", at(2026, 12, 2, 9)),                  # today's 09:00 has passed
    ("周三下午3点", at(2026, 11, 25, 15)),          # still ahead today
    ("下周一上午9点", at(2026, 11, 30, 9)),
    ("下下周二", at(2026, 12, 8, 9)),
    ("本周日", at(2026, 11, 29, 9)),
    ("这周五", at(2026, 11, 27, 9)),
    ("下个礼拜三", at(2026, 12, 2, 9)),
    ("周日", at(2026, 11, 29, 9)),
    ("周天", at(2026, 11, 29, 9)),
    ("下周", at(2026, 11, 30, 9)),
    ("周末", at(2026, 11, 28, 9)),
    ("下周末", at(2026, 12, 5, 9)),
    ("周五前", at(2026, 11, 27, 18)),
    # month-day and full dates
    ("11月30日18:00", at(2026, 11, 30, 18)),
    ("11月30号下午6点", at(2026, 11, 30, 18)),
    ("12月1日", at(2026, 12, 1, 9)),
    ("十二月一日", at(2026, 12, 1, 9)),
    ("2027年1月5日9:30", at(2027, 1, 5, 9, 30)),
    ("二〇二七年一月五日", at(2027, 1, 5, 9)),
    ("2026-12-01 08:00", at(2026, 12, 1, 8)),
    ("2026-12-01T08:00", at(2026, 12, 1, 8)),
    ("2026/12/1", at(2026, 12, 1, 9)),
    ("12/1", at(2026, 12, 1, 9)),                    # month/day, Chinese order
    ("1/12", at(2027, 1, 12, 9)),                    # 1月12日, not 1 December
    ("12/1 18:00", at(2026, 12, 1, 18)),
    ("5月1日", at(2027, 5, 1, 9)),                   # half a year back → next year
    ("11月27日（周五）18点", at(2026, 11, 27, 18)),
    ("11月30日前", at(2026, 11, 30, 18)),
    ("今年12月1日", at(2026, 12, 1, 9)),
    ("明年11月25日", at(2027, 11, 25, 9)),           # exactly within one year
    ("28号", at(2026, 11, 28, 9)),
    ("廿八号", at(2026, 11, 28, 9)),
    ("5号", at(2026, 12, 5, 9)),                     # the 5th has passed → next month
    ("下个月5号", at(2026, 12, 5, 9)),
    ("下个月31号", at(2026, 12, 31, 9)),
    ("下个月", at(2026, 12, 1, 9)),
    # month / year ends
    ("月底前", at(2026, 11, 30, 18)),
    ("月底", at(2026, 11, 30, 18)),
    ("月末", at(2026, 11, 30, 18)),
    ("月底9点", at(2026, 11, 30, 9)),
    ("月初", at(2026, 12, 1, 9)),
    ("月中", at(2026, 12, 15, 9)),
    ("下个月底", at(2026, 12, 31, 18)),
    ("年底前", at(2026, 12, 31, 18)),
    ("年底", at(2026, 12, 31, 18)),
    # clock only: today if ahead, else tomorrow
    ("18:00", at(2026, 11, 25, 18)),
    ("18点", at(2026, 11, 25, 18)),
    ("１８：００", at(2026, 11, 25, 18)),
    ("18时30分", at(2026, 11, 25, 18, 30)),
    ("十八时三十分", at(2026, 11, 25, 18, 30)),
    ("晚上8点", at(2026, 11, 25, 20)),
    ("中午12点", at(2026, 11, 25, 12)),
    ("中午1点", at(2026, 11, 25, 13)),
    ("下午12点", at(2026, 11, 25, 12)),
    ("傍晚6点", at(2026, 11, 25, 18)),
    ("凌晨2点", at(2026, 11, 26, 2)),
    ("9点一刻", at(2026, 11, 26, 9, 15)),
    ("9点三刻", at(2026, 11, 26, 9, 45)),
    ("9点半", at(2026, 11, 26, 9, 30)),
    ("9点05", at(2026, 11, 26, 9, 5)),
    ("九点零五", at(2026, 11, 26, 9, 5)),
    ("9点30分", at(2026, 11, 26, 9, 30)),
    ("九点三十五分", at(2026, 11, 26, 9, 35)),
    ("9点钟", at(2026, 11, 26, 9)),
    ("9点整", at(2026, 11, 26, 9)),
    ("十点", at(2026, 11, 26, 10)),                  # 10:00 is not *after* now
    ("十一点", at(2026, 11, 25, 11)),
    ("十二点半", at(2026, 11, 25, 12, 30)),
    ("二十三点", at(2026, 11, 25, 23)),
    ("两点", at(2026, 11, 26, 2)),                   # bare hours are 24-hour
    ("24点", at(2026, 11, 26, 0)),
    ("晚上12点", at(2026, 11, 26, 0)),
    ("18点前", at(2026, 11, 25, 18)),
    ("18:00:30", at(2026, 11, 25, 18, 0, 30)),
    ("  明天9点  ", at(2026, 11, 26, 9)),
]


@pytest.mark.parametrize("expr,expected", CASES, ids=[c[0] for c in CASES])
def test_parse_time(expr, expected):
    got = parse_time(expr, BASE)
    assert got == expected
    assert got.tzinfo is SH


def test_table_is_big_enough():
    assert len(CASES) >= 50


YEAR_END_CASES = [
    ("三天后", at(2027, 1, 2, 9)),
    ("下周一", at(2027, 1, 4, 9)),
    ("月初", at(2027, 1, 1, 9)),
    ("下个月5号", at(2027, 1, 5, 9)),
    ("1月5日", at(2027, 1, 5, 9)),
    ("6月1日", at(2027, 6, 1, 9)),
    ("明天", at(2026, 12, 31, 9)),
    ("后天", at(2027, 1, 1, 9)),
    ("周五", at(2027, 1, 1, 9)),
    ("本周日", at(2027, 1, 3, 9)),
    ("下下周二", at(2027, 1, 12, 9)),
    ("一周后", at(2027, 1, 6, 9)),
    ("一个月后", at(2027, 1, 30, 9)),
    ("月底", at(2026, 12, 31, 18)),
    ("下个月底", at(2027, 1, 31, 18)),
    ("年底前", at(2026, 12, 31, 18)),
    ("5号", at(2027, 1, 5, 9)),
    ("周末", at(2027, 1, 2, 9)),
    ("12/31 18:00", at(2026, 12, 31, 18)),
    ("明年1月5日", at(2027, 1, 5, 9)),
    ("48小时后", at(2027, 1, 1, 10)),
    ("9点", at(2026, 12, 31, 9)),
]


@pytest.mark.parametrize("expr,expected", YEAR_END_CASES, ids=[c[0] for c in YEAR_END_CASES])
def test_parse_time_across_new_year(expr, expected):
    assert parse_time(expr, YEAR_END) == expected


def test_year_end_rolls_over_when_passed():
    late = datetime(2026, 12, 31, 19, 0, tzinfo=SH)
    assert parse_time("年底", late) == at(2027, 12, 31, 18)
    assert parse_time("月底", late) == at(2027, 1, 31, 18)


def test_weekend_on_sunday_means_next_saturday():
    sunday = datetime(2026, 11, 29, 10, 0, tzinfo=SH)
    assert parse_time("周末", sunday) == at(2026, 12, 5, 9)
    assert parse_time("下周一", sunday) == at(2026, 11, 30, 9)   # weeks start on Monday


def test_month_offset_clamps_to_month_end():
    jan31 = datetime(2027, 1, 31, 8, 0, tzinfo=SH)
    assert parse_time("一个月后", jan31) == at(2027, 2, 28, 9)


# (expression, words the message must contain)
REFUSALS = [
    ("昨天9点", ["过去", "昨天9点"]),
    ("前天", ["过去", "前天"]),
    ("昨晚8点", ["过去"]),
    ("上周五", ["过去", "上周五"]),
    ("三天前", ["过去"]),
    ("30分钟前", ["过去"]),
    ("今天8点", ["过去", "今天8点"]),
    ("今天", ["过去", "默认9点"]),
    ("本周一", ["过去"]),
    ("11月20日", ["过去", "年份"]),        # a few days back is a mistake, not next year
    ("24号", ["过去"]),
    ("2月30日", ["日期不存在", "2月30日"]),
    ("2月29日", ["日期不存在"]),
    ("13月1日", ["日期不存在", "13月1日"]),
    ("2026-13-01", ["日期不存在"]),
    ("31号", ["日期不存在", "31号"]),         # November has no 31st
    ("2027年2月29日", ["日期不存在"]),
    ("25点", ["时间不存在", "25点"]),
    ("9点61分", ["时间不存在", "9点61分"]),
    ("明天24:30", ["时间不存在"]),
    ("", ["没有写时间"]),
    ("   ", ["没有写时间"]),
    ("abc", ["看不懂", "abc"]),
    ("随便什么时候", ["看不懂"]),
    ("明天吧", ["看不懂"]),
    ("2028年1月1日", ["太远", "一年"]),
    ("明年11月26日", ["太远"]),
    ("2年后", ["太远"]),
    ("400天后", ["太远"]),
    ("上午15点", ["矛盾", "上午15点"]),
    ("晚上1点", ["歧义", "凌晨1点"]),
    ("凌晨", ["几点"]),
    ("11月27日（周四）", ["星期", "周五"]),
]


@pytest.mark.parametrize("expr,words", REFUSALS, ids=[r[0] or "<empty>" for r in REFUSALS])
def test_refusals(expr, words):
    with pytest.raises(TimeExprError) as info:
        parse_time(expr, BASE)
    msg = str(info.value)
    assert re.search(r"[\u4e00-\u9fff]", msg), msg       # Chinese sentence
    for w in words:
        assert w in msg, msg
    assert isinstance(info.value, ValueError)


def test_gibberish_message_gives_examples():
    with pytest.raises(TimeExprError, match="可以写成 明天9点、30分钟后、周五18点"):
        parse_time("xxx", BASE)


def test_naive_now_is_a_programming_error():
    with pytest.raises(ValueError):
        parse_time("明天9点", datetime(2026, 11, 25, 10, 0))


def test_result_keeps_tzinfo_of_now():
    fixed = timezone(timedelta(hours=8))
    now = datetime(2026, 11, 25, 10, 0, tzinfo=fixed)
    got = parse_time("明天9点", now)
    assert got.tzinfo is fixed and got == datetime(2026, 11, 26, 9, tzinfo=fixed)


def test_exact_offset_keeps_seconds():
    now = datetime(2026, 11, 25, 10, 0, 37, tzinfo=SH)
    assert parse_time("30分钟后", now) == datetime(2026, 11, 25, 10, 30, 37, tzinfo=SH)


def test_exact_offset_is_real_elapsed_time_across_dst():
    ny = ZoneInfo("America/New_York")
    now = datetime(2026, 3, 8, 1, 30, tzinfo=ny)          # DST starts at 02:00
    got = parse_time("1小时后", now)
    assert got.astimezone(timezone.utc) - now.astimezone(timezone.utc) == timedelta(hours=1)
    assert (got.hour, got.minute) == (3, 30)


SPLITS = [
    ("明天9点 交材料", at(2026, 11, 26, 9), "交材料"),
    ("明天上午9点开会", at(2026, 11, 26, 9), "开会"),
    ("明天9点 3栋开会", at(2026, 11, 26, 9), "3栋开会"),
    ("明天9点3栋开会", at(2026, 11, 26, 9), "3栋开会"),      # one digit after 点 needs 分
    ("明天9点30开会", at(2026, 11, 26, 9, 30), "开会"),       # longest prefix
    ("明天9点半开会", at(2026, 11, 26, 9, 30), "开会"),
    ("明天9点305室检查", at(2026, 11, 26, 9), "305室检查"),   # never split a number
    ("明天 3号楼巡查", at(2026, 11, 26, 9), "3号楼巡查"),
    ("明天9点 3号楼", at(2026, 11, 26, 9), "3号楼"),
    ("周五 5号楼消防检查", at(2026, 11, 27, 9), "5号楼消防检查"),
    ("30分钟后提醒大家3点开会", at(2026, 11, 25, 10, 30), "提醒大家3点开会"),
    ("两小时后开会", at(2026, 11, 25, 12), "开会"),
    ("周五 18:00 交表", at(2026, 11, 27, 18), "交表"),
    ("明天 下午 3点 开会", at(2026, 11, 26, 15), "开会"),
    ("明天早点到", at(2026, 11, 26, 9), "早点到"),
    ("12/1 交材料", at(2026, 12, 1, 9), "交材料"),
    ("2026-12-01 08:00 例会", at(2026, 12, 1, 8), "例会"),
    ("２０２６－１２－０１　０８：００　开会", at(2026, 12, 1, 8), "开会"),
    ("月底前 交台账", at(2026, 11, 30, 18), "交台账"),
    ("周五前，报送月报", at(2026, 11, 27, 18), "报送月报"),
    ("11月30号下午6点前 交 3 份材料", at(2026, 11, 30, 18), "交 3 份材料"),
    ("下周一上午9点到社区", at(2026, 11, 30, 9), "到社区"),
    ("明早8点半集合", at(2026, 11, 26, 8, 30), "集合"),
    ("明天9点：交材料", at(2026, 11, 26, 9), "交材料"),
    ("  明天9点 交材料  ", at(2026, 11, 26, 9), "交材料"),
    ("明天", at(2026, 11, 26, 9), ""),
]


@pytest.mark.parametrize("text,when,rest", SPLITS, ids=[s[0] for s in SPLITS])
def test_split_time(text, when, rest):
    assert split_time(text, BASE) == (when, rest)


SPLIT_REFUSALS = [
    ("开会 明天", "看不懂"),
    ("3号楼明天巡查", "看不懂"),
    ("", "没有写时间"),
    ("今天8点 开会", "过去"),               # the longest prefix is past: no fallback
    ("昨天 开会", "过去"),
    ("2月30日 开会", "日期不存在"),
    ("明天9点61分 开会", "时间不存在"),
    ("明天25点开会", "时间不存在"),
]


@pytest.mark.parametrize("text,word", SPLIT_REFUSALS, ids=[s[0] or "<empty>" for s in SPLIT_REFUSALS])
def test_split_time_refusals(text, word):
    with pytest.raises(TimeExprError) as info:
        split_time(text, BASE)
    assert word in str(info.value)


def test_split_time_rest_keeps_original_characters():
    # full-width content after the time is returned untouched
    when, rest = split_time("明天9点 交３份材料", BASE)
    assert when == at(2026, 11, 26, 9) and rest == "交３份材料"
