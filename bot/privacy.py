"""Masking of phone and ID-card numbers in what the bot sends (the database keeps the original).

People write numbers every way a phone keyboard allows: `139 1234 5678`, `+86-139-1234-5678`,
full-width `１３９…`, `0796-6312345`, `ID36242419900101123Ｘ`. So the text is not matched against
one pattern per form. A single linear pattern finds each run of digits joined by separators (spaces,
dashes, dots); the run is split into its digit groups, and consecutive groups are tried, left to
right, as a mobile, a landline or an ID number, on their digits normalised to ASCII. Only a match that
covers whole groups counts, so `2026-12-04`, `3栋2单元501`, `T12`, amounts and the emergency numbers
(110/119/120/12345) are left as written, and so is everything around a masked number. A text the bot
cut short (`…`) in the middle of a number keeps only the first digits of what is left of it.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

# A separator joins two digit groups of one number: ASCII and full-width spaces, hyphens, dashes and
# dots, and the closing bracket of "(0796)6312345". Up to three of them in a row ("139 - 1234").
_SEP = r"[ \t\u00a0\u2000-\u200a\u202f\u3000\-\u2010-\u2015\u2212\uff0d.\uff0e\u00b7\u30fb)\uff09]"
# Every pattern here is checked by nlp.regexcheck (tests/test_masking.py): no nested quantifiers, no
# ambiguous repetition, so matching time is linear in the text.
_RUN = re.compile(rf"(?:[(\uff08][+\uff0b]?|[+\uff0b])?\d(?:(?:{_SEP}(?:{_SEP}{_SEP}?)?)?\d)*[XxＸｘ]?")
_GROUP = re.compile(r"\d+")
# A 7–8 digit local landline (no area code) is a phone number only when the text says so.
_PHONE_WORD = re.compile(r"(?:电话|手机|座机|固话|联系方式|tel|phone)[:：是为 ]{0,2}$", re.IGNORECASE)

MAX_DIGITS = 22          # the longest number tried: 0086 + a 12-digit landline, or an 18-digit ID
MAX_GROUPS = 6           # and the most groups it may be split into (an ID as 362424 1990 01 01 123 4)
_MOBILE_PREFIXES = ("0086", "86", "0")
CUT = "…"                # how the bot marks a text it shortened
_CUT_AFTER = re.compile(rf"{_SEP}{{0,3}}{CUT}")


@dataclass(frozen=True, slots=True)
class _Group:
    start: int       # offsets in the text
    end: int
    digits: str      # ASCII


def mask_private(text: str) -> str:
    """The text with every mobile, landline and ID-card number masked: 139****5678,
    0796-****345, 362424********1234."""
    if not any(ch.isdecimal() for ch in text):
        return text
    out: list[str] = []
    last = 0
    for run in _RUN.finditer(text):
        for start, end, masked in _mask_run(text, run):
            out.append(text[last:start])
            out.append(masked)
            last = end
    out.append(text[last:])
    return "".join(out)


def _mask_run(text: str, run: re.Match) -> list[tuple[int, int, str]]:
    span = run.group()
    groups = [_Group(run.start() + m.start(), run.start() + m.end(), _ascii(m.group()))
              for m in _GROUP.finditer(span)]
    x_end = run.end() if span[-1] in "XxＸｘ" else None
    local_ok = _PHONE_WORD.search(text, max(0, run.start() - 8), run.start()) is not None
    found: list[tuple[int, int, str]] = []
    i = tail = 0
    while i < len(groups):
        hit = _longest_from(groups, i, x_end, local_ok and i == 0)
        if hit is None:
            i += 1
            continue
        j, masked, with_x = hit
        start = run.start() if i == 0 else groups[i].start     # a leading "+" or "(" goes with it
        found.append((start, x_end if with_x else groups[j].end, masked))
        i = j + 1
        tail = i
    if tail < len(groups) and _CUT_AFTER.match(text, run.end()):
        # Cut short ("联系139 1234 5…"): what is left may be the start of a number, so keep at most
        # its first three digits.
        tail = max(tail, len(groups) - MAX_GROUPS)
        digits = "".join(g.digits for g in groups[tail:])
        if len(digits) >= 4:
            found.append((run.start() if tail == 0 else groups[tail].start, run.end(), digits[:3] + "****"))
    return found


def _longest_from(groups: list[_Group], i: int, x_end: int | None,
                  local_ok: bool) -> tuple[int, str, bool] | None:
    """The longest number made of groups i..j: (j, its masked form, whether it takes the final X)."""
    best = None
    digits = ""
    sizes: list[int] = []
    for j in range(i, min(len(groups), i + MAX_GROUPS)):
        digits += groups[j].digits
        sizes.append(len(groups[j].digits))
        if len(digits) > MAX_DIGITS:
            break
        if len(digits) < 7:
            continue
        last = j == len(groups) - 1
        if last and x_end is not None and (masked := _id_card(digits + "X", sizes[:-1] + [sizes[-1] + 1])):
            best = (j, masked, True)
            continue
        for rule in _RULES:
            if masked := rule(digits, sizes):
                best = (j, masked, False)
                break
        else:
            if local_ok and (masked := _local_landline(digits, sizes)):
                best = (j, masked, False)
    return best


def _ascii(digits: str) -> str:
    return "".join(str(unicodedata.decimal(ch)) for ch in digits)


def _plausible_split(sizes: list[int], prefix: int, shortest: int, most: int) -> bool:
    """Groups as people split a number ("139 1234 5678", "0796-631 2345"), not a list of small numbers
    ("150 200 300 40"); a country prefix may stand alone or run into the number."""
    rest = list(sizes)
    while prefix and rest:
        if rest[0] <= prefix:
            prefix -= rest.pop(0)
        else:
            rest[0] -= prefix
            prefix = 0
    return 0 < len(rest) <= most and all(size >= shortest for size in rest)


def _mobile(digits: str, sizes: list[int]) -> str | None:
    for prefix in ("", *_MOBILE_PREFIXES):
        number = digits[len(prefix):]
        if digits.startswith(prefix) and len(number) == 11 and number[0] == "1" and number[1] in "3456789":
            if _plausible_split(sizes, len(prefix), 3, 3):
                return f"{number[:3]}****{number[7:]}"
    return None


def _landline(digits: str, sizes: list[int]) -> str | None:
    """0796-6312345, 010 8888 6666, +86 796 6312345: area code, then a 7–8 digit number."""
    prefix = next((p for p in ("0086", "86") if digits.startswith(p)), "")
    number = digits[len(prefix):]
    if prefix and not number.startswith("0"):
        number = "0" + number           # dialled from abroad, the area code loses its 0
    if len(number) < 2 or number[0] != "0" or number[1] == "0":
        return None
    area = 3 if number.startswith(("010", "02")) else 4
    local = number[area:]
    if not (7 <= len(local) <= 8) or local[0] in "01" or not _plausible_split(sizes, len(prefix), 3, 3):
        return None
    return f"{number[:area]}-****{local[-(len(local) - 4):]}"


def _local_landline(digits: str, sizes: list[int]) -> str | None:
    """6312345 after 电话/座机…: a local number without its area code."""
    if 7 <= len(digits) <= 8 and digits[0] not in "01" and _plausible_split(sizes, 0, 3, 2):
        return f"****{digits[4:]}"
    return None


def _id_card(digits: str, sizes: list[int]) -> str | None:
    """18 characters (the last may be X) or the old 15 digits, with a real month and day of birth."""
    if len(digits) == 18 and digits[:17].isdigit() and digits[0] != "0":
        year, month, day = digits[6:10], digits[10:12], digits[12:14]
        if year[:2] in ("18", "19", "20") and _month_day(month, day) and _plausible_split(sizes, 0, 2, 6):
            return f"{digits[:6]}********{digits[14:]}"
    if len(digits) == 15 and digits.isdigit() and digits[0] != "0":
        if _month_day(digits[8:10], digits[10:12]) and _plausible_split(sizes, 0, 2, 5):
            return f"{digits[:6]}******{digits[12:]}"
    return None


def _month_day(month: str, day: str) -> bool:
    return "01" <= month <= "12" and "01" <= day <= "31"


_RULES: tuple[Callable[[str, list[int]], str | None], ...] = (_id_card, _mobile, _landline)
