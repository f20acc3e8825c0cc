"""The county's fourteen departments, loaded once from bot/data/departments.yaml,
and the lookup that turns what a person types for a department into its code."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

DEPARTMENTS_FILE = Path(__file__).resolve().parent.parent / "data" / "departments.yaml"


@dataclass(frozen=True, slots=True)
class Department:
    code: str
    name: str
    full_name: str


def _load(path: Path) -> dict[str, Department]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    departments: dict[str, Department] = {}
    for entry in raw["departments"]:
        dept = Department(code=str(entry["code"]), name=str(entry["name"]),
                          full_name=str(entry["full_name"]))
        if dept.code in departments:
            raise ValueError(f"{path}: duplicate department code {dept.code!r}")
        departments[dept.code] = dept
    return departments


DEPARTMENTS: dict[str, Department] = _load(DEPARTMENTS_FILE)

# What people actually type in a chat for each department, beyond its name and full
# name: office names (…局/…所/…大队), older names (国土, 安监, 工商) and emergency numbers.
# Keep every alias unique to one department; tests check it.
ALIASES: dict[str, tuple[str, ...]] = {
    "urban_mgmt": ("城管局", "城管执法", "城市管理", "综合执法", "综合行政执法", "环卫", "环卫所", "市政"),
    "police": ("公安局", "派出所", "警察", "民警", "村警", "快警", "110"),
    "justice": ("司法局", "司法所", "人民调解", "调解", "调解委员会", "法律援助", "社区矫正"),
    "market": ("市监局", "市场监管", "市场监管局", "市场监督", "市场监督局", "工商", "工商局", "食药监", "质监", "12315"),
    "environment": ("环保局", "生态环境", "生态环境局", "环境保护", "环境局", "环保分局"),
    "traffic": ("交警队", "交警大队", "交管", "交管局", "交通管理", "交通警察", "122"),
    "emergency": ("应急局", "应急管理", "应急办", "安监", "安监局", "安全生产"),
    "fire": ("消防队", "消防大队", "消防救援", "消防救援队", "119"),
    "civil_affairs": ("民政局", "民政所", "民政办"),
    "education": ("教育局", "教体局", "教育体育局", "学校"),
    "water": ("自来水", "自来水公司", "供水公司", "水务", "水务公司", "水厂", "水司"),
    "power": ("供电所", "供电公司", "供电局", "电力", "电力公司", "电业局", "国家电网", "国网", "电网"),
    "land": ("自然资源局", "国土", "国土局", "国土资源", "国土所", "林业", "林业局", "林业站", "自然资源所"),
    "housing": ("住建", "住建局", "住房", "住房保障局", "住保", "房管", "房管局", "住房和城乡建设局"),
}

# Reverse substring matches ("自来" inside "自来水") shorter than this are too vague.
_MIN_PARTIAL = 2
_STRIP = re.compile(r"[\s\"'“”‘’「」『』《》<>【】\[\]()（）,，.。:：;；!！?？、]+")


def _normalise(text: str) -> str:
    return _STRIP.sub("", text).lower().replace("-", "_")


def _bare(full_name: str) -> str:
    """公安局（含派出所、…） → 公安局: the words in brackets are aliases, not part of the name."""
    return re.sub(r"[（(].*?[）)]", "", full_name)


def _build_keys() -> dict[str, str]:
    keys: dict[str, str] = {}
    for code, dept in DEPARTMENTS.items():
        names = (code, dept.name, _bare(dept.full_name), *ALIASES.get(code, ()))
        for key in names:
            norm = _normalise(key)
            owner = keys.setdefault(norm, code)
            if owner != code:
                raise ValueError(f"department alias {key!r} names both {owner} and {code}")
    return keys


_KEYS: dict[str, str] = _build_keys()
# The full names with their brackets only ever match exactly: matching a fragment of
# "（含派出所、网格村警、网格快警）" would send 网格 to the police.
_FULL_NAMES: dict[str, str] = {_normalise(d.full_name): c for c, d in DEPARTMENTS.items()}


def department_name(code: str) -> str:
    """The short name people see (供水); an unknown code is returned as it is."""
    dept = DEPARTMENTS.get(code)
    return dept.name if dept else code


def find_department(text: str) -> str | None:
    """Map what a user typed for a department to its code, or None when unknown or ambiguous.

    Tries, in order: an exact code, name, full name or alias; then the longest key the
    text contains (县城管局 → urban_mgmt); then keys that contain the text (自来 → water).
    A tie between two departments at any step means "ambiguous" and gives None.
    """
    norm = _normalise(text or "")
    if not norm:
        return None
    exact = _KEYS.get(norm) or _FULL_NAMES.get(norm)
    if exact:
        return exact

    contained = [(len(key), code) for key, code in _KEYS.items() if key in norm]
    if contained:
        longest = max(length for length, _ in contained)
        codes = {code for length, code in contained if length == longest}
        return codes.pop() if len(codes) == 1 else None

    if len(norm) >= _MIN_PARTIAL:
        codes = {code for key, code in _KEYS.items() if norm in key}
        if len(codes) == 1:
            return codes.pop()
    return None
