"""Reading the classifier's lexicon files: the bundled ones and those a county adds.

Every lexicon file is UTF-8 text made of sections. A line ``[name]`` starts a
section; lines before the first header belong to the section named after the
file (``dept_water.txt`` -> ``dept_water``). ``#`` starts a comment. The section
names and line formats are documented in the README ("Extending the lexicon for a county").
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from nlp.regexcheck import UnsafeRegex, check_regex

BUNDLED_DIR = Path(__file__).with_name("lexicon")

DEPT_PREFIX = "dept_"

# Sections whose lines are "term [weight]". A tuple, not a set: the order of a message's cue
# features follows it, and a set's order would change with each process's hash seed.
WEIGHTED_SECTIONS = ("issue", "not_issue", "urgent", "calm")
# Sections whose lines are one regular expression each.
REGEX_SECTIONS = {"ack", "forward"}
KNOWN_SECTIONS = frozenset(WEIGHTED_SECTIONS) | REGEX_SECTIONS | {
    "normalize",
    "userdict",
    "places",
    "place_suffix",
}

_HEADER = re.compile(r"^\[\s*([A-Za-z_][A-Za-z0-9_]*)\s*\]$")


class LexiconError(ValueError):
    """A lexicon file that cannot be used; the message names the file and line."""


@dataclass(slots=True)
class Term:
    """One weighted cue: a literal word or a gapped pattern (``A*B``)."""

    text: str
    weight: float
    source: str


@dataclass(slots=True)
class LexiconData:
    """Everything read from a set of lexicon files, merged in load order."""

    departments: dict[str, list[Term]] = field(default_factory=dict)
    weighted: dict[str, list[Term]] = field(default_factory=lambda: {s: [] for s in WEIGHTED_SECTIONS})
    regexes: dict[str, list[str]] = field(default_factory=lambda: {s: [] for s in REGEX_SECTIONS})
    normalize: list[tuple[str, str]] = field(default_factory=list)
    userdict: list[tuple[str, int | None, str | None]] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    place_suffixes: list[str] = field(default_factory=list)


def lexicon_files(paths: Iterable[str | os.PathLike]) -> Iterator[Path]:
    """Expand files and directories (their *.txt files, sorted) in the order given."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.glob("*.txt") if p.is_file())
        elif path.is_file():
            yield path
        else:
            raise LexiconError(f"{path}: no such lexicon file or directory")


def read_lexicon(paths: Iterable[str | os.PathLike], known_departments: Iterable[str]) -> LexiconData:
    data = LexiconData()
    departments = set(known_departments)
    for code in departments:
        data.departments.setdefault(code, [])
    for path in lexicon_files(paths):
        _read_file(path, data, departments)
    return data


def _read_file(path: Path, data: LexiconData, departments: set[str]) -> None:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LexiconError(f"{path}: cannot read ({exc})") from exc
    section = path.stem
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw).strip()
        if not line:
            continue
        header = _HEADER.match(line)
        if header:
            section = header.group(1)
            continue
        where = f"{path}:{lineno}"
        _check_section(section, departments, where)
        _add_line(section, line, data, where)


def _strip_comment(line: str) -> str:
    # A "#" inside a regex would be rare; "\#" keeps a literal one.
    out = []
    escaped = False
    for ch in line:
        if ch == "#" and not escaped:
            break
        escaped = ch == "\\" and not escaped
        out.append(ch)
    return "".join(out).replace("\\#", "#")


def _check_section(section: str, departments: set[str], where: str) -> None:
    if section.startswith(DEPT_PREFIX):
        code = section[len(DEPT_PREFIX):]
        if code not in departments:
            raise LexiconError(f"{where}: unknown department code {code!r}")
    elif section not in KNOWN_SECTIONS:
        raise LexiconError(f"{where}: unknown section [{section}]")


def _add_line(section: str, line: str, data: LexiconData, where: str) -> None:
    if section.startswith(DEPT_PREFIX):
        data.departments[section[len(DEPT_PREFIX):]].append(_term(line, where))
    elif section in WEIGHTED_SECTIONS:
        data.weighted[section].append(_term(line, where))
    elif section in REGEX_SECTIONS:
        try:
            re.compile(line)
        except re.error as exc:
            raise LexiconError(f"{where}: bad regular expression ({exc})") from exc
        except RecursionError as exc:
            raise LexiconError(f"{where}: bad regular expression (groups nested too deeply)") from exc
        try:
            check_regex(line)
        except UnsafeRegex as exc:
            raise LexiconError(f"{where}: regular expression refused, its matching time could explode ({exc})") from exc
        data.regexes[section].append(line)
    elif section == "normalize":
        parts = line.split()
        if len(parts) != 2:
            raise LexiconError(f"{where}: expected 'variant canonical'")
        data.normalize.append((parts[0], parts[1]))
    elif section == "userdict":
        parts = line.split()
        freq = None
        tag = None
        if len(parts) >= 2:
            if parts[1].isdigit():
                freq = int(parts[1])
                tag = parts[2] if len(parts) >= 3 else None
            else:
                tag = parts[1]
        data.userdict.append((parts[0], freq, tag))
    elif section == "places":
        data.places.append(line.split()[0])
    elif section == "place_suffix":
        data.place_suffixes.append(line.split()[0])


def _term(line: str, where: str) -> Term:
    parts = line.split()
    weight = 1.0
    if len(parts) >= 2:
        try:
            weight = float(parts[-1])
        except ValueError as exc:
            raise LexiconError(f"{where}: weight must be a number, got {parts[-1]!r}") from exc
        if len(parts) > 2:
            raise LexiconError(f"{where}: expected 'term [weight]'")
    term = parts[0]
    if any(not alt for part in term.lstrip("^").split("*") for alt in part.split("|")):
        raise LexiconError(f"{where}: empty part in {term!r}")
    return Term(term, weight, where)
