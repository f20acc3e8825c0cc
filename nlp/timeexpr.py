"""Chinese time expressions for reminders and deadlines.

    parse_time("明天9点", now)             -> datetime
    split_time("明天9点 交材料", now)      -> (datetime, "交材料")

Pure code: no I/O and no clock reads; the base time ``now`` (an *aware*
datetime, the county's local time) is always passed in, and every result is
an aware datetime in ``now.tzinfo``.  Problems are raised as
:class:`TimeExprError`, whose ``str()`` is a short Chinese sentence that can be
shown to the user as-is.

Accepted input
--------------
* Digits: Arabic, full-width (１８：００) and Chinese numerals
  (零〇一二两三…十、十一、二十三、廿五、卅一; years may be spelled 二〇二七).
* Hour markers 点 / 时 / ``:``; minutes as 半, 一刻, 三刻, N分, ``HH:MM``,
  two Arabic digits after 点 (9点30) or a Chinese number ≥ 10 or with 零
  (九点三十, 九点零五).  A single digit after 点 needs 分 ("9点3栋" is 9点 +
  "3栋").  点钟 / 点整 are accepted.
* Dates: 今天 明天 后天 大后天 大大后天, 今早 今晚 明早(=明天早上) 明晚;
  周X / 星期X / 礼拜X (X = 一…六, 日, 天, 1…7) with 本/这/下/下下 prefixes;
  周末, 下周, 下个月; M月D日/号, Y年M月D日, 今年/明年 M月D日,
  YYYY-MM-DD, YYYY/MM/DD, M/D, D号, 本月/下个月 D号; 月底 月末 月初 月中,
  下个月底, 年底 年末; N天后 N周后 N个星期后 N个月后 半个月后 N年后.
  A date may carry a weekday note which is checked: 11月27日(周五).
* Periods: 凌晨 早上 早晨 清晨 上午 中午 下午 傍晚 晚上 晚间 夜里 夜间 夜晚.
* Exact offsets: N分钟后, N小时后, 半小时后, 1个半小时后, 1小时30分钟后,
  一刻钟后 (also 以后/之后).
* A trailing 前/之前/以前 ("before", a deadline) after a clock time, a weekday,
  a date that names its month or uses 号, 月底 or 年底.
* Spaces are allowed between the date, the period and the clock
  ("2026-12-01 08:00", "明天 下午 3点").

Defaults
--------
* A date without a time of day → 09:00.  "Before"/end forms without a time
  (月底, 月底前, 月末, 年底, 年底前, 周五前, 11月30日前) → 18:00 of that day.
* A period without an hour: 早上/今早/明早 08:00, 上午 09:00, 中午 12:00,
  下午 14:00, 傍晚 18:00, 晚上/今晚/明晚 20:00.  凌晨 alone is refused (no
  sensible default).
* A bare hour is a 24-hour clock hour: "3点" is 03:00, "18点" is 18:00; no
  AM/PM guessing without a period word.  "24点" / "晚上12点" → 00:00 of the
  next day.
* 下午/晚上 with hour 1–11 → +12 (下午12点 = 12:00).  中午 12 → 12:00,
  中午 1/2/3 → 13/14/15.  凌晨 0–6 (凌晨12点 = 00:00).  上午 0–12.
  晚上 1–4 is refused as ambiguous (write 凌晨1点).  Contradictions such as
  上午15点 are refused.
* No date at all ("18点", "下午3点", "9点半") → today if still ahead, else
  tomorrow.
* Weekday without 本/这/下 ("周五", "礼拜三") → the next occurrence: today if
  that time is still ahead today, else the same weekday next week.
  本周X / 这周X → this week (weeks run Monday–Sunday; refused if past);
  下周X → the week after this one; 下下周X → two weeks on.  下周 alone →
  next Monday.  周末 → this Saturday, else this Sunday, else next Saturday.
* 月初 → the 1st, 月中 → the 15th, 月底/月末 → the last day of this month, or
  of next month when this month's has passed; 本月底 is never rolled,
  下个月底/下月初 use next month.  年底 → 12-31 18:00 of this year (next year
  when passed).  下个月 alone → the 1st of next month.
* N天后 / N周后 / N个月后 / N年后 are *dates* (09:00 of that day unless a
  time follows: "三天后下午3点").  N个月后 clamps to the month's last day
  (1月31日 + 1个月 = 2月28/29日).  N分钟后 / N小时后 are exact offsets from
  ``now`` (seconds kept).
* M月D日 without a year → the nearest occurrence among last/this/next year.
  So a date a few days or months back is refused as past (on 2026-11-25,
  "11月20日" is refused instead of silently becoming 2027-11-20), while one
  more than about half a year back rolls over (on 2026-12-30, "1月5日" →
  2027-01-05).
* D号/D日 without a month → the nearest of last/this/next month (on the 25th,
  "5号" → the 5th of next month, "24号" is refused as past).  A day this
  month does not have (11月 "31号") is refused.
* "12/1" is month/day in Chinese order (12月1日), never day/month; "1/12" is
  1月12日.  With a year: 2026/12/1 is year/month/day.

Refusals (TimeExprError)
------------------------
* past: 昨天, 前天, 上周X, 三天前, 30分钟前, or any result not after ``now``
  when the day is explicit (今天8点 at 10:00; 今天 alone after 09:00);
* impossible: 2月30日, 13月1日, 25点, 9点61分;
* more than one year after ``now``;
* empty input, gibberish, contradictions (上午15点), 晚上1点 ambiguity,
  a weekday note that does not match the date.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Iterator

__all__ = ["TimeExprError", "parse_time", "split_time"]

EXAMPLES = "可以写成 明天9点、30分钟后、周五18点"


class TimeExprError(ValueError):
    """str(err) is a short Chinese sentence for the user, e.g. '时间已经过去了：昨天9点'
    or '日期不存在：2月30日' or '看不懂的时间：xxx，可以写成 明天9点、30分钟后、周五18点'."""


# --------------------------------------------------------------------------
# normalisation and numbers
# --------------------------------------------------------------------------

def _normalize(text: str) -> str:
    """Full-width ASCII → half-width, ideographic space → space, 週 → 周.

    Every character maps to exactly one character, so positions are kept
    (split_time relies on that)."""
    out = []
    for ch in text:
        o = ord(ch)
        if 0xFF01 <= o <= 0xFF5E:
            ch = chr(o - 0xFEE0)
        elif o == 0x3000:
            ch = " "
        elif ch == "週":
            ch = "周"
        elif ch == "點":
            ch = "点"
        elif ch == "號":
            ch = "号"
        out.append(ch)
    return "".join(out)


_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
             "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_RE_CN_TENS = re.compile(r"([一二两三四五六七八九])?十([一二三四五六七八九])?")
_RE_CN_NIAN = re.compile(r"([廿卅])([一二三四五六七八九])?")


def _num(t: str | None) -> int | None:
    """'18' / '十八' / '二十三' / '廿五' / '零五' / '二〇二七' → int; None if malformed."""
    if not t:
        return None
    if t.isascii() and t.isdigit():
        return int(t)
    if all(c in _CN_DIGIT for c in t):
        if len(t) == 1:
            return _CN_DIGIT[t]
        if t[0] in "零〇" or len(t) >= 3:          # 零五, 二〇二七
            return int("".join(str(_CN_DIGIT[c]) for c in t))
        return None                                  # '一二' is not a number
    m = _RE_CN_TENS.fullmatch(t)
    if m:
        return (_CN_DIGIT[m[1]] if m[1] else 1) * 10 + (_CN_DIGIT[m[2]] if m[2] else 0)
    m = _RE_CN_NIAN.fullmatch(t)
    if m:
        return (20 if m[1] == "廿" else 30) + (_CN_DIGIT[m[2]] if m[2] else 0)
    return None


# --------------------------------------------------------------------------
# grammar (syntax only; every alternative is tried, so this is a tiny
# backtracking parser over regex "tokens")
# --------------------------------------------------------------------------

_N = r"(?:\d{1,4}|[零〇一二两三四五六七八九十廿卅]{1,4})"
_DAY = r"(?:\d{1,2}|[一二三四五六七八九十廿卅]{1,3})"
_MONTH = r"(?:\d{1,2}|[一二三四五六七八九十]{1,3})"
_WD = r"[一二三四五六日天1-7]"
_WEEK = r"(?:周|星期|礼拜)"
_WD_NUM = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
           "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6}
_WD_NAME = "一二三四五六日"


def _c(p: str) -> re.Pattern[str]:
    return re.compile(p)


# exact offsets: 30分钟后, 1个半小时后, 1小时30分钟后, 半小时后, 一刻钟后
_RE_DELTA = _c(
    r"(?:(?P<h>\d{1,4}(?:\.\d+)?|[零〇一二两三四五六七八九十廿卅]{1,4})个?(?P<hh>半)?(?:个)?(?:小时|钟头)"
    r"(?:(?P<hm>" + _N + r")分钟?)?"
    r"|(?P<half>半)个?(?:小时|钟头)"
    r"|(?P<m>" + _N + r")分钟?"
    r"|(?P<quarter>一刻钟)"
    r"|(?P<s>" + _N + r")秒钟?)"
    r"\s*(?P<dir>以后|之后|后|以前|之前|前)")

_RE_PAST = _c(r"大前天|前天|昨天|昨日|昨晚|昨夜|昨早|上上?个?" + _WEEK + _WD + r"?|上上?个?月|去年")
_RE_RELDAY = _c(r"大大后天|大后天|后天|明天|明日|今天|今日")
_RELDAY = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3, "大大后天": 4}
_RE_RELDAY_P = _c(r"今早|今晨|今晚|今夜|明早|明晨|明晚|明夜")
_RELDAY_P = {"今早": (0, "早"), "今晨": (0, "早"), "今晚": (0, "晚"), "今夜": (0, "晚"),
             "明早": (1, "早"), "明晨": (1, "早"), "明晚": (1, "晚"), "明夜": (1, "晚")}
_RE_DAYDUR = _c(r"(?P<n>" + _N + r"|半)(?P<ge>个)?(?P<u>天|日|周|星期|礼拜|月|年)"
                r"\s*(?P<dir>以后|之后|后|以前|之前|前)")
_RE_WEEKDAY = _c(r"(?P<pre>下下个?|下个?|本|这个?)?" + _WEEK + r"(?P<wd>" + _WD + r")")
_RE_WEEKEND = _c(r"(?P<pre>下个?|本|这个?)?周末")
_RE_WEEK = _c(r"(?P<pre>下下个?|下个?)" + _WEEK)
_RE_MANCHOR = _c(r"(?:(?P<pre>本|这个?|下个?)月|月)(?P<a>底|末|初|中)")
_RE_YEAREND = _c(r"(?:(?P<pre>今|明)年|年)(?:底|末)")
_RE_RELMONTH_DAY = _c(r"(?P<pre>本|这个?|下个?)月(?P<d>" + _DAY + r")(?P<suf>号|日)")
_RE_NEXTMONTH = _c(r"下个?月")
_RE_YMD_CN = _c(r"(?:(?P<y>\d{4}|[零〇一二三四五六七八九]{4}|今|明|后)年)?(?P<m>" + _MONTH
                + r")月(?P<d>" + _DAY + r")(?P<suf>日|号)")
_RE_YMD_ISO = _c(r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?:日|号)?")
_RE_MD_SLASH = _c(r"(?P<m>\d{1,2})/(?P<d>\d{1,2})")
_RE_BARE_DAY = _c(r"(?P<d>" + _DAY + r")(?P<suf>号|日)")
_RE_WD_NOTE = _c(r"[（(]?\s*" + _WEEK + r"(?P<wd>" + _WD + r")\s*[)）]?")

_RE_PERIOD = _c(r"凌晨|早上|早晨|清晨|上午|中午|下午|傍晚|晚上|晚间|夜里|夜间|夜晚")
_PERIOD = {"凌晨": "凌晨", "早上": "早", "早晨": "早", "清晨": "早", "上午": "上午",
           "中午": "中午", "下午": "下午", "傍晚": "傍晚", "晚上": "晚", "晚间": "晚",
           "夜里": "晚", "夜间": "晚", "夜晚": "晚"}
_PERIOD_DEFAULT = {"早": 8, "上午": 9, "中午": 12, "下午": 14, "傍晚": 18, "晚": 20}

_HOUR = r"(?P<h>\d{1,2}|[零〇一二两三四五六七八九十廿]{1,3})[点时]"
_RE_CLOCKS = [
    _c(r"(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?"),
    _c(_HOUR + r"(?P<half>半)"),
    _c(_HOUR + r"(?P<q>[一三13])刻"),
    _c(_HOUR + r"(?P<m>\d{1,2}|[零〇一二三四五六七八九十]{1,3})分钟?"),
    _c(_HOUR + r"(?P<m>\d{2})"),
    _c(_HOUR + r"(?P<m>[零〇][一二三四五六七八九]|[一二三四五]?十[一二三四五六七八九]?)"),
    _c(_HOUR + r"(?:钟|整)?"),
]
_RE_BEFORE = _c(r"\s*(?:之前|以前|前)")
_RE_WS = _c(r"\s*")
_RE_SEP = _c(r"T(?=\d)|\s*")                    # after a date: spaces, or ISO 'T'



@dataclass
class _Spec:
    kind: str = "none"                 # date kind, see _date_alternatives
    data: dict = field(default_factory=dict)
    period: str | None = None          # canonical period
    clock: tuple[int, int, int] | None = None   # (hour, minute, second) as written
    wd_note: int | None = None
    before: bool = False
    delta: timedelta | None = None     # exact offset form
    past: bool = False


def _match_all(pattern: re.Pattern[str], s: str, pos: int) -> Iterator[re.Match[str]]:
    m = pattern.match(s, pos)
    if m and m.end() > pos:
        yield m


def _delta_alternative(s: str) -> _Spec | None:
    m = _RE_DELTA.fullmatch(s)
    if not m:
        return None
    if m["dir"] in ("前", "以前", "之前"):
        return _Spec(kind="delta", past=True)
    if m["h"] is not None:
        if "." in m["h"]:
            if m["hh"]:
                return None
            hours = float(m["h"])
        else:
            n = _num(m["h"])
            if n is None:
                return None
            hours = n + (0.5 if m["hh"] else 0)
        minutes = hours * 60
        if m["hm"] is not None:
            mm = _num(m["hm"])
            if mm is None:
                return None
            minutes += mm
        delta = timedelta(minutes=minutes)
    elif m["half"]:
        delta = timedelta(minutes=30)
    elif m["m"] is not None:
        n = _num(m["m"])
        if n is None:
            return None
        delta = timedelta(minutes=n)
    elif m["quarter"]:
        delta = timedelta(minutes=15)
    else:
        n = _num(m["s"])
        if n is None:
            return None
        delta = timedelta(seconds=n)
    return _Spec(kind="delta", delta=delta)


def _date_alternatives(s: str, pos: int) -> Iterator[tuple[int, str, dict]]:
    """Yield (end, kind, data) for every date form that matches at pos."""
    for m in _match_all(_RE_PAST, s, pos):
        yield m.end(), "past", {}
    for m in _match_all(_RE_RELDAY_P, s, pos):
        off, period = _RELDAY_P[m[0]]
        yield m.end(), "relday", {"off": off, "period": period}
    for m in _match_all(_RE_RELDAY, s, pos):
        yield m.end(), "relday", {"off": _RELDAY[m[0]]}
    for m in _match_all(_RE_DAYDUR, s, pos):
        if m["dir"] in ("前", "以前", "之前"):
            yield m.end(), "past", {}
            continue
        u, ge = m["u"], bool(m["ge"])
        n = 0.5 if m["n"] == "半" else _num(m["n"])
        if n is None:
            continue
        if u == "月" and not ge:               # "3月后" is not "3个月后"
            continue
        if u in ("天", "日", "年") and ge:
            continue
        if n == 0.5 and u not in ("月", "年"):        # 半个月后, 半年后 (not 半天)
            continue
        yield m.end(), "daydur", {"n": n, "unit": u}
    for m in _match_all(_RE_WEEKDAY, s, pos):
        yield m.end(), "weekday", {"pre": _week_pre(m["pre"]), "wd": _WD_NUM[m["wd"]]}
    for m in _match_all(_RE_WEEKEND, s, pos):
        yield m.end(), "weekend", {"pre": _week_pre(m["pre"])}
    for m in _match_all(_RE_WEEK, s, pos):
        yield m.end(), "week", {"pre": _week_pre(m["pre"])}
    for m in _match_all(_RE_MANCHOR, s, pos):
        yield m.end(), "manchor", {"pre": _week_pre(m["pre"]), "a": m["a"]}
    for m in _match_all(_RE_YEAREND, s, pos):
        yield m.end(), "yearend", {"pre": {"今": 0, "明": 1}.get(m["pre"] or "")}
    for m in _match_all(_RE_RELMONTH_DAY, s, pos):
        d = _num(m["d"])
        if d is not None:
            yield m.end(), "reldaynum", {"pre": _week_pre(m["pre"]), "d": d, "suf": m["suf"]}
    for m in _match_all(_RE_NEXTMONTH, s, pos):
        yield m.end(), "nextmonth", {}
    for m in _match_all(_RE_YMD_CN, s, pos):
        y = m["y"]
        if y in ("今", "明", "后"):
            year: int | tuple[str, int] | None = ("rel", {"今": 0, "明": 1, "后": 2}[y])
        elif y is not None:
            year = _num(y)
            if year is None:
                continue
        else:
            year = None
        mo, d = _num(m["m"]), _num(m["d"])
        if mo is None or d is None:
            continue
        yield m.end(), "ymd", {"y": year, "m": mo, "d": d}
    for m in _match_all(_RE_YMD_ISO, s, pos):
        yield m.end(), "ymd", {"y": int(m["y"]), "m": int(m["m"]), "d": int(m["d"])}
    for m in _match_all(_RE_MD_SLASH, s, pos):
        yield m.end(), "ymd", {"y": None, "m": int(m["m"]), "d": int(m["d"])}
    for m in _match_all(_RE_BARE_DAY, s, pos):
        d = _num(m["d"])
        if d is not None:
            yield m.end(), "day", {"d": d, "suf": m["suf"]}
    yield pos, "none", {}


def _week_pre(pre: str | None) -> int | None:
    """'' → None (implicit), 本/这 → 0, 下 → 1, 下下 → 2."""
    if not pre:
        return None
    if pre.startswith("下下"):
        return 2
    if pre.startswith("下"):
        return 1
    return 0


def _clock_alternatives(s: str, pos: int) -> Iterator[tuple[int, tuple[int, int, int]]]:
    for pattern in _RE_CLOCKS:
        m = pattern.match(s, pos)
        if not m:
            continue
        h = _num(m["h"])
        if h is None:
            continue
        gd = m.groupdict()
        minute, second = 0, 0
        if gd.get("half"):
            minute = 30
        elif gd.get("q"):
            minute = 15 if m["q"] in "一1" else 45
        elif gd.get("m") is not None:
            mm = _num(m["m"])
            if mm is None:
                continue
            minute = mm
        if gd.get("s") is not None:
            second = int(m["s"])
        yield m.end(), (h, minute, second)


_BEFORE_OK = {"weekday", "ymd", "reldaynum", "yearend"}


def _scan(s: str) -> _Spec | None:
    """Parse the whole of s (already normalised and stripped); None if it is
    not a time expression."""
    if not s:
        return None
    spec = _delta_alternative(s)
    if spec is not None:
        return spec
    n = len(s)
    for p1, kind, data in _date_alternatives(s, 0):
        if kind == "past":
            # anything may follow a past date ('昨天9点'); it is refused anyway
            rest = s[p1:]
            if p1 == n or _scan_time_only(rest.strip()) is not None:
                return _Spec(kind="past", past=True)
            continue
        p = _RE_SEP.match(s, p1).end() if p1 else 0
        notes: list[tuple[int, int | None]] = [(p, None)]
        if kind in ("relday", "ymd", "reldaynum", "day"):
            m = _RE_WD_NOTE.match(s, p)
            if m and m.end() > p:
                notes.insert(0, (_RE_WS.match(s, m.end()).end(), _WD_NUM[m["wd"]]))
        for p2, note in notes:
            periods: list[tuple[int, str | None]] = [(p2, None)]
            if "period" not in data:
                m = _RE_PERIOD.match(s, p2)
                if m:
                    periods.insert(0, (_RE_WS.match(s, m.end()).end(), _PERIOD[m[0]]))
            for p3, period in periods:
                clocks: list[tuple[int, tuple[int, int, int] | None]] = list(
                    _clock_alternatives(s, p3))
                clocks.append((p3, None))
                for p4, clock in clocks:
                    if kind == "none" and period is None and clock is None:
                        continue
                    befores = [(p4, False)]
                    before_ok = (clock is not None or kind in _BEFORE_OK
                                 or (kind == "manchor" and data["a"] in "底末")
                                 or (kind == "day" and data["suf"] == "号"))
                    if before_ok:
                        m = _RE_BEFORE.match(s, p4)
                        if m:
                            befores.insert(0, (m.end(), True))
                    for p5, before in befores:
                        if p5 == n and (p5 == p4 or before):
                            return _Spec(kind=kind, data=data,
                                         period=data.get("period", period),
                                         clock=clock, wd_note=note, before=before)
    return None


def _scan_time_only(s: str) -> object | None:
    """Is s (what follows a past date such as 昨天) a period and/or clock?"""
    if not s:
        return True
    sp = _scan(s)
    return sp if sp is not None and sp.kind == "none" else None


# --------------------------------------------------------------------------
# semantics
# --------------------------------------------------------------------------

def _err_past(expr: str, defaulted: bool) -> TimeExprError:
    hint = "（没写几点时默认9点，请写明具体时间）" if defaulted else ""
    return TimeExprError(f"时间已经过去了：{expr}{hint}")


def _time_of_day(sp: _Spec, expr: str) -> tuple[int, int, int, int, bool]:
    """→ (hour, minute, second, day_shift, defaulted)."""
    period = sp.period
    if sp.clock is None:
        if period is None:
            end_form = sp.before or sp.kind == "yearend" or (
                sp.kind == "manchor" and sp.data["a"] in "底末")
            return (18 if end_form else 9), 0, 0, 0, not end_form
        if period == "凌晨":
            raise TimeExprError(f"时间不完整：{expr}，请写明几点，例如 凌晨2点")
        return _PERIOD_DEFAULT[period], 0, 0, 0, False
    h, mi, sec = sp.clock
    if h > 24 or mi > 59 or sec > 59 or (h == 24 and (mi or sec)):
        raise TimeExprError(f"时间不存在：{expr}（小时是0到23，分钟是0到59）")
    shift = 0
    bad = False
    if period is None:
        pass
    elif period == "凌晨":
        if h == 12:
            h = 0
        bad = h > 6
    elif period == "早":
        bad = h > 11
    elif period == "上午":
        bad = h > 12
    elif period == "中午":
        if 1 <= h <= 3:
            h += 12
        bad = not (11 <= h <= 15)
    elif period == "下午":
        if 1 <= h <= 11:
            h += 12
        bad = not (12 <= h <= 23)
    elif period == "傍晚":
        if 4 <= h <= 8:
            h += 12
        bad = not (16 <= h <= 20)
    elif period == "晚":
        if h in (0, 12, 24):
            h = 24
        elif 1 <= h <= 4:
            raise TimeExprError(f"时间有歧义：{expr}，半夜请写成 凌晨{h}点，白天请写成 下午{h}点")
        elif 5 <= h <= 11:
            h += 12
        bad = not (17 <= h <= 24)
    if bad:
        raise TimeExprError(f"时间自相矛盾：{expr}")
    if h == 24:
        h, shift = 0, 1
    return h, mi, sec, shift, False


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    m += 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def _month_last(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def _nearest(cands: list[date], today: date) -> date:
    return min(cands, key=lambda d: (abs((d - today).days), d < today))


def _date_candidates(sp: _Spec, today: date, expr: str) -> list[date]:
    """Dates to try in order; the first whose datetime is after now wins."""
    k, d = sp.kind, sp.data
    monday = today - timedelta(days=today.weekday())
    if k == "none":
        return [today, today + timedelta(days=1)]
    if k == "relday":
        return [today + timedelta(days=d["off"])]
    if k == "daydur":
        n, u = d["n"], d["unit"]
        if n > 1000:
            raise TimeExprError(f"时间太远了：{expr}，最多只能设一年以内")
        if u in ("天", "日"):
            return [today + timedelta(days=n)]
        if u in ("周", "星期", "礼拜"):
            return [today + timedelta(weeks=n)]
        if u == "月":
            return [today + timedelta(days=15)] if n == 0.5 else [_add_months(today, int(n))]
        return [_add_months(today, 6)] if n == 0.5 else [_add_months(today, 12 * int(n))]
    if k == "weekday":
        wd, pre = d["wd"], d["pre"]
        if pre is None:
            first = today + timedelta(days=(wd - today.weekday()) % 7)
            return [first, first + timedelta(days=7)]
        return [monday + timedelta(days=7 * pre + wd)]
    if k == "weekend":
        pre = d["pre"]
        sat = monday + timedelta(days=5)
        if pre is None:
            return [sat, sat + timedelta(days=1), sat + timedelta(days=7)]
        if pre == 0:
            return [sat, sat + timedelta(days=1)]
        return [sat + timedelta(days=7 * pre)]
    if k == "week":
        return [monday + timedelta(days=7 * d["pre"])]
    if k == "nextmonth":
        return [_add_months(today.replace(day=1), 1)]
    if k == "manchor":
        this = today.replace(day=1)
        nxt = _add_months(this, 1)
        months = {None: [this, nxt], 0: [this], 1: [nxt], 2: [_add_months(this, 2)]}[d["pre"]]
        a = d["a"]
        if a in "底末":
            return [_month_last(m.year, m.month) for m in months]
        if a == "初":
            return months
        return [m.replace(day=15) for m in months]
    if k == "yearend":
        pre = d["pre"]
        years = [today.year, today.year + 1] if pre is None else [today.year + pre]
        return [date(y, 12, 31) for y in years]
    if k == "reldaynum":
        base = _add_months(today.replace(day=1), d["pre"])
        try:
            return [base.replace(day=d["d"])]
        except ValueError:
            raise TimeExprError(f"日期不存在：{expr}（{base.month}月没有{d['d']}{d['suf']}）") from None
    if k == "day":
        day = d["d"]
        if not 1 <= day <= calendar.monthrange(today.year, today.month)[1]:
            raise TimeExprError(f"日期不存在：{expr}（{today.month}月没有{day}{d['suf']}）")
        this = today.replace(day=1)
        cands = []
        for m in (_add_months(this, -1), this, _add_months(this, 1)):
            try:
                cands.append(m.replace(day=day))
            except ValueError:
                pass
        return [_nearest(cands, today)]
    if k == "ymd":
        y, mo, day = d["y"], d["m"], d["d"]
        if not 1 <= mo <= 12:
            raise TimeExprError(f"日期不存在：{expr}（月份只有1到12月）")
        if not 1 <= day <= 31:
            raise TimeExprError(f"日期不存在：{expr}（一个月最多31天）")
        if y is None:
            cands = []
            for yy in (today.year - 1, today.year, today.year + 1):
                try:
                    cands.append(date(yy, mo, day))
                except ValueError:
                    pass
            if not cands:
                raise TimeExprError(f"日期不存在：{expr}（{mo}月没有{day}日）")
            return [_nearest(cands, today)]
        if isinstance(y, tuple):
            y = today.year + y[1]
        if not 1 <= y <= 9999:
            raise TimeExprError(f"日期不存在：{expr}")
        try:
            return [date(y, mo, day)]
        except ValueError:
            raise TimeExprError(f"日期不存在：{expr}（{y}年{mo}月没有{day}日）") from None
    raise AssertionError(k)  # pragma: no cover


def _utc(dt: datetime) -> datetime:
    # same-tzinfo comparisons in Python are wall-clock; compare instants instead
    return dt.astimezone(timezone.utc)


def _one_year_after(now: datetime) -> datetime:
    try:
        return now.replace(year=now.year + 1)
    except ValueError:                                  # 2月29日
        return now.replace(year=now.year + 1, day=28)


def _wall(d: date, h: int, mi: int, sec: int, tz) -> datetime:
    dt = datetime(d.year, d.month, d.day, h, mi, sec, tzinfo=tz)
    # round-trip through UTC so a wall time inside a DST gap becomes a real instant
    return dt.astimezone(timezone.utc).astimezone(tz)


def _resolve(sp: _Spec, now: datetime, expr: str) -> datetime:
    tz = now.tzinfo
    if sp.past:
        raise _err_past(expr, False)
    if sp.delta is not None:
        when = (now.astimezone(timezone.utc) + sp.delta).astimezone(tz)
        if _utc(when) <= _utc(now):
            raise _err_past(expr, False)
    else:
        h, mi, sec, shift, defaulted = _time_of_day(sp, expr)
        today = now.date()
        try:
            cands = _date_candidates(sp, today, expr)
        except TimeExprError:
            raise
        except (ValueError, OverflowError):       # calendar edge (year 1 / 9999)
            raise TimeExprError(f"日期超出范围：{expr}") from None
        when = None
        for day in cands:
            try:
                dt = _wall(day + timedelta(days=shift), h, mi, sec, tz)
            except OverflowError:
                raise TimeExprError(f"时间太远了：{expr}，最多只能设一年以内") from None
            if _utc(dt) > _utc(now):
                when = dt
                break
        if when is None:
            if sp.kind == "ymd" and sp.data["y"] is None:
                raise TimeExprError(f"时间已经过去了：{expr}（如果是指明年，请写上年份）")
            raise _err_past(expr, defaulted and cands[-1] == today)
        if sp.wd_note is not None and day.weekday() != sp.wd_note:
            raise TimeExprError(
                f"日期和星期对不上：{expr}（{day.month}月{day.day}日是周{_WD_NAME[day.weekday()]}）")
    if _utc(when) > _utc(_one_year_after(now)):
        raise TimeExprError(f"时间太远了：{expr}，最多只能设一年以内")
    return when


def _check_now(now: datetime) -> None:
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")


def _show(expr: str, limit: int = 20) -> str:
    expr = expr.strip()
    return expr if len(expr) <= limit else expr[:limit] + "…"


# --------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------

def parse_time(expr: str, now: datetime) -> datetime:
    """The whole `expr` is a time expression; return an aware datetime in now's tzinfo.
    Raise TimeExprError if it is not understood, is in the past, or names an impossible date."""
    _check_now(now)
    s = _normalize(expr or "").strip()
    if not s:
        raise TimeExprError(f"没有写时间，{EXAMPLES}")
    spec = _scan(s)
    if spec is None:
        raise TimeExprError(f"看不懂的时间：{_show(expr)}，{EXAMPLES}")
    return _resolve(spec, now, expr.strip())


_MAX_PREFIX = 40
_HAO_NOUNS = set("楼栋幢院室门单元床车线窗位库房厅场口岗组")
_LEAD_PUNCT = " \t\r\n\u3000,，、:：;；.。!！-—"


def split_time(text: str, now: datetime) -> tuple[datetime, str]:
    """`text` starts with a time expression followed by content, as in the command
    `#提醒 明天9点 交材料` (text = '明天9点 交材料') or `明天上午9点开会` (no space).
    Return (when, rest_stripped). Longest valid time prefix wins. Raise TimeExprError
    when no time prefix is found or it is invalid.

    "Longest" is syntactic: the longest prefix that reads as a time expression
    is taken, and if that one is impossible or past the error is raised (no
    silent fallback to a shorter prefix).  A prefix never ends inside an
    Arabic number ("明天9点30" of "明天9点305室" is not taken), and "N号"
    followed by 楼/栋/室/线… is a place, not a date ("3号楼…" has no time)."""
    _check_now(now)
    text = text or ""
    norm = _normalize(text)
    s = norm.lstrip()
    lead = len(norm) - len(s)
    if not s.strip():
        raise TimeExprError(f"没有写时间，{EXAMPLES}")
    for end in range(min(len(s), _MAX_PREFIX), 0, -1):
        if s[end - 1].isspace():
            continue
        if end < len(s) and s[end - 1].isascii() and s[end - 1].isdigit() \
                and s[end].isascii() and s[end].isdigit():
            continue
        if s[end - 1] == "号" and end < len(s) and s[end] in _HAO_NOUNS:
            continue                                  # 3号楼, 5号线: not a date
        spec = _scan(s[:end])
        if spec is None:
            continue
        when = _resolve(spec, now, text[lead:lead + end])
        rest = text[lead + end:].lstrip(_LEAD_PUNCT).strip()
        return when, rest
    raise TimeExprError(f"看不懂的时间：{_show(s)}，开头要先写时间，{EXAMPLES}")
