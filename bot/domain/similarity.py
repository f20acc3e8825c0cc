"""Whether two reports are about the same problem (for joining duplicates, SPEC §3). The caller
has already matched grid, department and time window; this only compares the texts."""
from __future__ import annotations

import re
from functools import lru_cache

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
MIN_OVERLAP = 0.2

# The same problem in other words (停电 / 没电 / 黑了 / 断电 …). Two reports naming the same problem
# are one; two naming only different ones (停电 vs 电线冒火花) are two, however alike the rest.
PROBLEMS: dict[str, tuple[str, ...]] = {
    "停电": ("停电", "没电", "断电", "黑了", "跳闸", "没有电", "电停了", "停了电", "没得电", "来电", "一片漆黑"),
    "停水": ("停水", "没水", "断水", "没有水", "水停了", "不出水"),
    "漏水": ("漏水", "渗水", "爆管", "水管爆", "水管破", "水管裂"),
    "路灯": ("路灯", "街灯"),
    "井盖": ("井盖", "窨井", "下水井", "井口", "掉进井", "掉井里", "井里"),
    "垃圾": ("垃圾",),
    "下水道": ("下水道", "污水", "化粪池", "排水沟"),
    "噪音": ("噪音", "太吵", "吵得", "扰民"),
    "燃气": ("燃气", "煤气", "天然气", "液化气"),
    "火情": ("着火", "起火", "失火", "火花", "浓烟", "冒烟"),
    "电线": ("电线", "电缆", "电线杆", "线路老化", "飞线"),
    "摆摊": ("摆摊", "占道", "乱摆", "摊贩"),
    "犬只": ("狗", "犬"),
}


@lru_cache(maxsize=512)
def _bigrams(text: str) -> frozenset[str]:
    clean = _NOISE.sub("", text)
    return frozenset(clean[i:i + 2] for i in range(len(clean) - 1))


def similar(text_a: str, location_a: str | None, keywords_a: set[str],
            text_b: str, location_b: str | None, keywords_b: set[str]) -> bool:
    # Two different places (5栋 vs 8栋) are two problems, however alike the words.
    if location_a and location_b and location_a not in location_b and location_b not in location_a:
        return False
    problems_a, problems_b = problems(text_a), problems(text_b)
    if problems_a & problems_b:
        return True
    if problems_a and problems_b:
        return False
    if keywords_a & keywords_b:
        return True
    a, b = _bigrams(text_a), _bigrams(text_b)
    if not a or not b:
        return False
    return len(a & b) / min(len(a), len(b)) >= MIN_OVERLAP


@lru_cache(maxsize=512)
def problems(text: str) -> frozenset[str]:
    """The problems a text names, by the table above."""
    return frozenset(name for name, words in PROBLEMS.items() if any(w in text for w in words))


def different_problems(text_a: str, location_a: str | None, text_b: str, location_b: str | None) -> bool:
    """Two texts that name different places, or only different problems of the table."""
    if location_a and location_b and location_a not in location_b and location_b not in location_a:
        return True
    a, b = problems(text_a), problems(text_b)
    return bool(a and b and not a & b)
