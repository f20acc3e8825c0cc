"""Picks a location phrase out of a message: 幸福小区3栋2单元, 上坪村4组, 人民路, 7栋402."""

from __future__ import annotations

import re
from collections.abc import Iterable

_DIGIT = "[0-9一二三四五六七八九十百零两]"
_NUM = rf"{_DIGIT}+"
# Units that follow a place: 3栋2单元402, 4组, 12号, 1-6组.
_UNITS = rf"(?:{_NUM}(?:-{_NUM})?(?:号楼|栋|幢|单元|号|组|楼|层|室|户)(?:{_NUM}(?!号楼|栋|幢|单元|组))?)"
# Characters that never belong inside a place name; they end the name on the left. Measure words,
# quantities and question words make a phrase about things, not a place: 那几盏路灯 is no 几盏路,
# 这几条街 no 几条街, 回家路上 no 回家路.
_NOT_NAME = set("的了在是我你他她们这那个有没不也都就还和跟与及到从去来说看把被给让对向往住离要想会能说叫帮请"
                "几盏些条根只段排辆台块片棵张哪啥么回走过经沿整")
_LEADING = ("我们", "咱们", "你们", "他们", "我家", "隔壁", "对面", "附近", "旁边", "就在", "整个", "一个", "这边", "那边")
_BAD_NAMES = {"马", "公", "道", "走", "上", "半", "一", "出", "小", "大", "老", "新", "本", "该", "每", "各", "全", "城", "同"}
_REJECT = {"马路", "公路", "道路", "走路", "上路", "半路", "一路", "出路", "小路", "大路", "老路", "新路", "村组", "小组", "全村", "本村", "同村", "各村", "全镇", "本镇", "城乡", "乡镇", "村镇", "每组", "各组"}


class LocationFinder:
    def __init__(self, places: Iterable[str], suffixes: Iterable[str]) -> None:
        self._places = sorted({p for p in places if p}, key=len, reverse=True)
        suffix_list = sorted({s for s in suffixes if s}, key=len, reverse=True)
        suffix_re = "|".join(map(re.escape, suffix_list)) or r"(?!)"
        # A suffix that begins a thing's name is no place's ending: 路灯, 街灯 (小区门口路灯坏了).
        self._named = re.compile(rf"([\u4e00-\u9fffA-Za-z0-9]{{1,8}}?)({suffix_re})(?!灯)({_UNITS}*)")
        # Only from the start of a number: tried inside a long run of digits, every start
        # would read the rest of the run again (quadratic), and finds nothing the first does not.
        self._units_only = re.compile(rf"(?<!{_DIGIT}){_UNITS}{{1,3}}")
        self._known = re.compile("|".join(map(re.escape, self._places))) if self._places else None

    def find(self, text: str) -> str | None:
        if self._known is not None:
            m = self._known.search(text)
            if m:
                units = re.match(f"{_UNITS}*", text[m.end():])
                return m.group(0) + (units.group(0) if units else "")
        best: str | None = None
        for m in self._named.finditer(text):
            name = _trim(m.group(1))
            if len(name) < 2 and not m.group(3):
                name = ""
            if not name or name in _BAD_NAMES:
                continue
            phrase = name + m.group(2) + m.group(3)
            if phrase in _REJECT or (name + m.group(2)) in _REJECT:
                continue
            if m.group(3):
                return phrase
            if best is None:
                best = phrase
        if best is not None:
            return best
        m = self._units_only.search(text)
        if m and re.search(r"栋|幢|单元|组|号楼", m.group(0)):
            return m.group(0)
        return None


def _trim(name: str) -> str:
    for i in range(len(name) - 1, -1, -1):
        if name[i] in _NOT_NAME or not ("\u4e00" <= name[i] <= "\u9fff" or name[i].isalnum()):
            name = name[i + 1 :]
            break
    changed = True
    while changed and name:
        changed = False
        for lead in _LEADING:
            if name.startswith(lead):
                name = name[len(lead) :]
                changed = True
    return name
