"""Keyword classifier for chat messages: is it a problem, whose is it, how urgent.

Text in, a Classification out. Rules people can read (normalisation, acknowledgements,
forwarding prefixes, quoted replies, negation, the lexicon's cues) turn a message into
features; learned weights (nlp/weights.tsv, written by `python -m nlp.train`) decide.
"""

from __future__ import annotations

import copy
import logging
import marshal
import math
import os
import re
import threading
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple
from itertools import accumulate, repeat
from pathlib import Path

import jieba

from nlp.lexdata import BUNDLED_DIR, LexiconData, Term, read_lexicon
from nlp.location import LocationFinder
from nlp.weights import BUNDLED_WEIGHTS, Features, WeightTable, char_ngrams, read_table, sigmoid, softmax

DEPARTMENTS: tuple[str, ...] = (
    "urban_mgmt",
    "police",
    "justice",
    "market",
    "environment",
    "traffic",
    "emergency",
    "fire",
    "civil_affairs",
    "education",
    "water",
    "power",
    "land",
    "housing",
)

# The lexicon's own rule, still used where a rule is wanted: the lexicon alone may make a
# message an emergency (a missed emergency is the worst error), and `route` needs department
# evidence before it names a department. See the README's "How it decides".
MIN_DEPT_SCORE = 2.0
MIN_EVIDENCE = 2.5
MIN_URGENT_SCORE = 3.0
EVIDENCE_CAP = 4.0
# The urgency model's probability above which a problem is urgent. Below one half because a
# false urgent alert is cheap and a missed one is not.
URGENT_PROBABILITY = 0.4
# A message the department model calls "none" with a problem probability (1 - P(none)) of
# at least this is unsure: no ticket, but on the 待确认 list (README, "Unsure is not silent").
UNSURE_PROBABILITY = 0.3
# `route` names the model's best department for a text that is not a problem when that
# department holds at least this share of the departments' probability.
ROUTE_MIN_SHARE = 0.5
MAX_LEARNED_KEYWORDS = 3
_URGENT_LOGIT = math.log(URGENT_PROBABILITY / (1 - URGENT_PROBABILITY))
LEXICON_WORD_FREQ = 10000
MAX_CHARS = 3000  # a wall of text is judged on its beginning; keeps the cost bounded
MAX_KEYWORDS = 8

# A gap in a pattern ("A*B"): a few characters, not across a sentence end.
GAP_CHARS = 12
_SENTENCE_ENDS = frozenset("。！？!?\n")
_GAP = f"[^{re.escape(''.join(sorted(_SENTENCE_ENDS)))}]{{0,{GAP_CHARS}}}?"

# Sections whose literals hide every shorter cue inside them, whatever its section.
_HIDES_ALL = frozenset({"not_issue"})
# Sections whose cues are turned around by a negation just before them (没|来水了).
_NEGATABLE = frozenset({"not_issue", "calm"})
NEGATED_RESOLUTION = 1.0  # the issue weight of a negated "solved / notice / calm" cue
_NEGATORS_1 = frozenset("没未不")
_NEGATORS_2 = frozenset({"没有", "没能", "未能", "无法", "不能", "并未", "还未", "尚未"})

_BRACKET_TAG = re.compile(r"\[[\u4e00-\u9fff]{1,6}\]")
_MENTION = re.compile(r"@(?!所有人)[^\s@:：,，]{1,24}(?:[\s:：,，]|$)")
# A WeChat quoted reply: 「name：quoted text」, a rule, then the reply itself. WeChat draws the
# rule as dashes (- - -) on phones and as a long dash line (————) on some versions and on PCs.
_QUOTED_REPLY = re.compile(r"^「(?P<quote>[^」]*)」\s*(?:(?:-\s*){3,}|(?:—\s*){2,})(?P<reply>.*)$", re.S)
_QUOTE_AUTHOR = re.compile(r"^[^:：]{1,24}[:：]\s*")
_SPACES = re.compile(r"\s+")
_REPORT_COMMAND = re.compile(r"^[#/]\s*上报[\s:：,，]*")

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Classification:
    is_issue: bool
    department: str | None
    urgency: str
    keywords: tuple[str, ...]
    location: str | None
    # Not a problem, but only just: the models gave a problem at least UNSURE_PROBABILITY.
    # The bot opens no ticket for it and puts it on the grid worker's 待确认 list.
    unsure: bool = False
    # How sure the model is of the department (its probability among all classes), to choose between
    # lines of one forwarded record. Not part of what a classification says: equal results compare equal.
    confidence: float = field(default=0.0, compare=False)


NOT_AN_ISSUE = Classification(False, None, "normal", (), None)
_UNSURE = Classification(False, None, "normal", (), None, unsure=True)


@dataclass(slots=True)
class _Weights:
    """What one cue contributes: (section, weight) pairs; a section is a dept code or a cue kind."""

    term: str
    contributions: list[tuple[str, float]]
    # Worked out once per contribution added rather than at every hit: the sections the cue
    # speaks for, and the sections whose longer literal hides it (its own and _HIDES_ALL).
    sections: frozenset[str] = frozenset()
    hidden_by: frozenset[str] = _HIDES_ALL

    def add(self, section: str, weight: float) -> None:
        self.contributions.append((section, weight))
        self.sections = frozenset(s for s, _ in self.contributions)
        self.hidden_by = self.sections | _HIDES_ALL


@dataclass(slots=True, eq=False)  # compared and hashed by identity: scan() keeps sets of them
class _Pattern:
    """A gapped pattern, matched as the regex A(?:gap)B… would be: shortest gaps first, alternatives in order.

    The head regex matches the first two parts (at most 13 gap lengths to try). Over more
    parts one regex would try every combination of gap lengths (13 ** gaps from each start),
    so the rest is walked here instead, remembering each (part, position) that led nowhere.
    The head is compiled at its first use: most patterns never meet a text holding all their
    parts, and compiling the lexicon's 1,200 heads up front was a fifth of the start-up. A
    pattern of one part (A|B) needs no regex at all.
    """

    parts: tuple[tuple[str, ...], ...]
    weights: _Weights
    _head: re.Pattern[str] | None = None

    def could_match(self, text: str) -> bool:
        """Whether every part after the first occurs somewhere in the text."""
        for part in self.parts[1:]:
            for alt in part:
                if alt in text:
                    break
            else:
                return False
        return True

    def end_of_match(self, text: str, pos: int, dead_ends: set[tuple[int, int, int]]) -> int | None:
        """Where a match starting at `pos` ends, or None. The head regex is tried first: most
        tries end with it."""
        if len(self.parts) == 1:  # "A|B" has no gap: the first alternative there, as the regex would
            for alt in self.parts[0]:
                if text.startswith(alt, pos):
                    return pos + len(alt)
            return None
        head = self._head
        if head is None:
            head = self._head = re.compile(
                _GAP.join("(?:" + "|".join(map(re.escape, alts)) + ")" for alts in self.parts[:2])
            )
        matched = head.match(text, pos)
        if matched is None:
            return None
        if len(self.parts) <= 2:
            return matched.end()
        for alt in self.parts[0]:
            if text.startswith(alt, pos):
                end = self._rest(text, 1, pos + len(alt), dead_ends)
                if end is not None:
                    return end
        return None

    def _rest(self, text: str, part: int, pos: int, dead_ends: set[tuple[int, int, int]]) -> int | None:
        key = (id(self), part, pos)
        if key in dead_ends:
            return None
        last = part == len(self.parts) - 1
        for start in range(pos, min(pos + GAP_CHARS, len(text)) + 1):
            for alt in self.parts[part]:
                if text.startswith(alt, start):
                    end = start + len(alt) if last else self._rest(text, part + 1, start + len(alt), dead_ends)
                    if end is not None:
                        return end
            if start < len(text) and text[start] in _SENTENCE_ENDS:
                break  # a gap does not cross a sentence end
        dead_ends.add(key)
        return None


# What a matcher entry found at a position is: a literal; a literal of ASCII letters and
# digits, which does not count inside a longer number or word ("110" in a phone number);
# an alternative of the first part of patterns (A*B, A|B).
_LITERAL, _ALNUM_LITERAL, _ANCHOR = range(3)


class _Matcher:
    """Finds every lexicon cue in a text in one left-to-right pass.

    Literals are looked up by their first two characters; a gapped pattern is tried only
    where its first part occurs, so the cost grows with the text, not with the lexicon.
    """

    def __init__(self) -> None:
        # Entries (text, kind, payload), longest text first within a bucket.
        self._by_bigram: dict[str, list[tuple[str, int, object]]] = {}
        self._by_char: dict[str, list[tuple[str, int, object]]] = {}
        self._first_chars: set[str] = set()  # where no entry starts, the scan moves straight on
        self._starting: dict[str, tuple[tuple[str, int, object], ...]] | None = None  # see _by_start()
        self._literals: dict[str, _Weights] = {}
        self._patterns: dict[str, _Weights] = {}
        self._anchored: list[_Pattern] = []
        self._anchors: dict[str, list[_Pattern]] = {}

    def add(self, term: Term, section: str) -> None:
        text = term.text
        if "*" in text or "|" in text or text.startswith("^"):
            weights = self._patterns.get(text)
            if weights is None:
                weights = self._patterns[text] = _Weights(text, [])
                self._add_pattern(text, weights)
        else:
            weights = self._literals.get(text)
            if weights is None:
                weights = self._literals[text] = _Weights(text, [])
                kind = _ALNUM_LITERAL if text.isascii() and text.isalnum() else _LITERAL
                self._index(text, kind, weights)
        weights.add(section, term.weight)

    def _add_pattern(self, text: str, weights: _Weights) -> None:
        anchored = text.startswith("^")
        parts = text.lstrip("^").split("*")
        pattern = _Pattern(tuple(tuple(p.split("|")) for p in parts), weights)
        if anchored:
            self._anchored.append(pattern)
            return
        for alt in parts[0].split("|"):
            bucket = self._anchors.get(alt)
            if bucket is None:
                bucket = self._anchors[alt] = []
                self._index(alt, _ANCHOR, bucket)
            bucket.append(pattern)

    def _index(self, text: str, kind: int, payload: object) -> None:
        table, key = (self._by_bigram, text[:2]) if len(text) >= 2 else (self._by_char, text)
        bucket = table.setdefault(key, [])
        bucket.append((text, kind, payload))
        bucket.sort(key=lambda item: -len(item[0]))
        self._first_chars.update(text[:1])
        self._starting = None

    def _by_start(self) -> dict[str, tuple[tuple[str, int, object], ...]]:
        """The entries to try where a text starts with a key: for a bigram its own entries and
        then its first character's, so that one look-up finds both, in the order scan() tries
        them; for a character its own. Built at the first scan after the last add()."""
        starting = self._starting
        if starting is None:
            starting = {char: tuple(entries) for char, entries in self._by_char.items()}
            for bigram, entries in self._by_bigram.items():
                starting[bigram] = (*entries, *self._by_char.get(bigram[0], ()))
            self._starting = starting
        return starting

    @property
    def literal_words(self) -> list[str]:
        return list(self._literals)

    def scan(self, text: str) -> list[tuple[int, int, _Weights, bool]]:
        """All hits as (start, end, weights, is_literal); a literal counts only on jieba word boundaries."""
        hits: list[tuple[int, int, _Weights, bool]] = []
        dead_ends: set[tuple[int, int, int]] = set()
        for pattern in self._anchored:
            end = pattern.end_of_match(text, 0, dead_ends)
            if end is not None:
                hits.append((0, end, pattern.weights, False))
        starting = self._by_start().get
        first_chars = self._first_chars
        # Patterns not to try again in this text: those already found (a cue counts once)
        # and those some later part of which is nowhere in the text, checked once per pattern
        # and text, so that a common first part (有人, 水) does not try the regex at each of
        # its occurrences when the rest of the pattern is not there at all.
        done: set[_Pattern] = set()
        checked: set[_Pattern] = set()
        for i, ch in enumerate(text):
            if ch not in first_chars:
                continue
            for word, kind, payload in starting(text[i : i + 2]) or starting(ch) or ():
                if not text.startswith(word, i):
                    continue
                if kind != _ANCHOR:
                    end = i + len(word)
                    if kind == _ALNUM_LITERAL and _inside_number(text, i, end):
                        continue
                    hits.append((i, end, payload, True))
                    continue
                for pattern in payload:
                    if pattern in done:
                        continue
                    if pattern not in checked:
                        checked.add(pattern)
                        if not pattern.could_match(text):
                            done.add(pattern)
                            continue
                    end = pattern.end_of_match(text, i, dead_ends)
                    if end is not None:
                        done.add(pattern)
                        hits.append((i, end, pattern.weights, False))
        return hits


class _Reading(NamedTuple):
    """What the rules make of a judged text: its tokens, the lexicon's cues and the features."""

    scores: dict[str, float]
    found: dict[str, list[tuple[int, str]]]
    tokens: tuple[str, ...]
    features: Features


class Classifier:
    """Ready-to-use classifier; build it with nlp.load()."""

    def __init__(self, data: LexiconData, tokenizer: jieba.Tokenizer, weights: WeightTable) -> None:
        self._tokenizer = tokenizer
        self._normalize = sorted(data.normalize, key=lambda pair: -len(pair[0]))
        self._ack = re.compile("|".join(f"(?:{r})" for r in data.regexes["ack"]) or r"(?!)")
        self._forward = re.compile("|".join(f"(?:{r})" for r in data.regexes["forward"]) or r"(?!)")
        self._matcher = _Matcher()
        for code, terms in data.departments.items():
            for term in terms:
                self._matcher.add(term, code)
        for section, terms in data.weighted.items():
            for term in terms:
                self._matcher.add(term, section)
        self._locations = LocationFinder(data.places, data.place_suffixes)
        self._weights = weights

    @property
    def tokenizer(self) -> jieba.Tokenizer:
        return self._tokenizer

    @property
    def weights(self) -> WeightTable:
        return self._weights

    def with_weights(self, weights: WeightTable) -> Classifier:
        """The same rules and lexicon with other learned weights (cross-validation, a county's own)."""
        other = copy.copy(self)
        other._weights = weights
        return other

    def classify(self, text: str) -> Classification:
        try:
            judged = self._judged_text(self.normalize(text))
            return NOT_AN_ISSUE if judged is None else self._judge(judged)
        except Exception:  # the bot calls this for every message; it must never take it down
            log.exception("classifier failed on a message of %d chars", len(text) if isinstance(text, str) else -1)
            return NOT_AN_ISSUE

    def features(self, text: str) -> Features | None:
        """What the models see of a message, or None when a rule alone decides it is not a
        problem (empty, an acknowledgement). The trainer uses this, so training and the bot
        read messages the same way."""
        judged = self._judged_text(self.normalize(text))
        return None if judged is None else self._read(judged).features

    def route(self, text: str) -> str | None:
        """The department a text is most about, whether or not it reads as a problem.

        For an explicit report (``#上报 <内容>``), which opens a ticket regardless of
        `classify`. When `classify` finds a problem, `route` names its department. Otherwise
        notice, question or "solved" wording does not matter: the model's best department
        is named when the lexicon has department evidence for the text or the model gives
        that department most of the departments' probability. A leading ``#上报`` is ignored.
        None when nothing points to a department ("3栋那边有点情况"). Never raises.
        """
        try:
            body = _REPORT_COMMAND.sub("", self.normalize(text), count=1)
            judged = self._judged_text(body)
            if judged is not None:
                result = self._judge(judged)
                if result.is_issue:
                    return result.department
            quoted = _split_quote(body)
            if quoted is not None:  # the reply speaks first, as in classify()
                quote, reply = quoted
                department = self._route_body(reply)
                if department is not None or not quote:
                    return department
                body = f"{quote}。{reply}"
            return self._route_body(body)
        except Exception:
            log.exception("routing failed on a message of %d chars", len(text) if isinstance(text, str) else -1)
            return None

    def _route_body(self, text: str) -> str | None:
        """The best department of a normalised text that is not a problem, after any forwarding prefix."""
        text = self._strip_forward(text)
        if not text:
            return None
        reading = self._read(text)
        probabilities = softmax(self._weights.logits(reading.features)[: len(self._weights.classes)])
        share, department = _best_of_departments(self._weights.classes, probabilities)
        lexicon_score, _ = _best_department(reading.scores)
        if lexicon_score >= MIN_DEPT_SCORE or share >= ROUTE_MIN_SHARE:
            return department
        return None

    def normalize(self, text: str) -> str:
        """The text the cues are matched against (also useful when writing lexicon entries)."""
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        # Twice the judged length leaves room for what cleaning drops (emoji, mentions);
        # cut again after NFKC, which can make one character eighteen (ﷺ).
        text = unicodedata.normalize("NFKC", text[: MAX_CHARS * 2])[: MAX_CHARS * 2]
        text = _BRACKET_TAG.sub(" ", text)
        stripped = _MENTION.sub(" ", text + " ")
        # "@小王路灯坏了" (no space after the name): dropping the mention would drop the report
        text = stripped if stripped.strip() or "@" not in text else text.replace("@", " ")
        text = text.translate(_CLEAN_CHARS)
        text = _SPACES.sub(" ", text).strip().lower()
        for variant, canonical in self._normalize:
            if variant in text:
                text = text.replace(variant, canonical)
        return text[:MAX_CHARS]

    def _strip_forward(self, text: str) -> str:
        forwarded = self._forward.match(text)
        return text[forwarded.end():].lstrip(" :：,，") if forwarded else text

    def _judged_text(self, text: str) -> str | None:
        """The part of a normalised message the models judge, or None when a rule says it is
        no problem: empty, or an acknowledgement (收到, 好的, 👍)."""
        quoted = _split_quote(text)
        if quoted is not None:
            # A quoted reply is judged on the reply. The quoted message only lends its subject
            # to a reply that adds a sign of trouble but names nothing ("我们这边也是，整条街都黑的");
            # a reply saying it is handled or received ("收到，已经报给城管了") stays what it is.
            quote, reply = quoted
            text = reply
            if quote and reply and not self._ack.fullmatch(reply):
                scores, _ = self._score(reply, self._token_bounds(reply))
                if (
                    scores.get("not_issue", 0.0) <= 0
                    and scores.get("issue", 0.0) > 0
                    and _best_department(scores)[1] is None
                ):
                    text = f"{quote}。{reply}"
        if not text or self._ack.fullmatch(text):
            return None
        text = self._strip_forward(text)
        return text or None

    def _read(self, text: str) -> _Reading:
        tokens = tuple(_cut(self._tokenizer, text))
        scores, found = self._score(text, _bounds_of(tokens))
        features = Features(frozenset(tokens), char_ngrams(text), tuple(scores.items()))
        return _Reading(scores, found, tokens, features)

    def _judge(self, text: str) -> Classification:
        """The learned models decide; the lexicon's own rule may add an emergency."""
        reading = self._read(text)
        weights = self._weights
        logits = weights.logits(reading.features)
        classes = len(weights.classes)
        # The most probable class is the one with the highest logit: no softmax needed here.
        best = max(range(classes), key=logits.__getitem__)  # ties: the first, "none" before any department
        lexicon_urgent = self._lexicon_urgent(reading.scores)
        if best == 0:
            if not lexicon_urgent:
                return _UNSURE if 1.0 - softmax(logits[:classes])[0] >= UNSURE_PROBABILITY else NOT_AN_ISSUE
            # The model sees no problem but the lexicon sees danger: never miss an emergency.
            best = max(range(1, classes), key=logits.__getitem__)
        department = weights.classes[best]
        is_urgent = lexicon_urgent or logits[-1] >= _URGENT_LOGIT
        found = reading.found.get(department, []) + (reading.found.get("urgent", []) if is_urgent else [])
        if not found:  # no lexicon cue: the words that weighed most for the department
            found = self._learned_keywords(reading, weights.classes.index(department))
        return Classification(
            is_issue=True,
            department=department,
            urgency="urgent" if is_urgent else "normal",
            keywords=_keywords(found),
            location=self._locations.find(text),
            confidence=softmax(logits[:classes])[best],
        )

    @staticmethod
    def _lexicon_urgent(scores: dict[str, float]) -> bool:
        """The lexicon's hand rule for an emergency: urgency cues net of calming ones reach
        MIN_URGENT_SCORE and the whole evidence (department, problem, urgency, minus
        notice/solved cues) reaches MIN_EVIDENCE."""
        urgent = scores.get("urgent", 0.0) - scores.get("calm", 0.0)
        if urgent < MIN_URGENT_SCORE:
            return False
        best_score, _ = _best_department(scores)
        evidence = (
            min(best_score, EVIDENCE_CAP)
            + scores.get("issue", 0.0)
            + min(urgent, EVIDENCE_CAP)
            - scores.get("not_issue", 0.0)
        )
        return evidence >= MIN_EVIDENCE

    def _learned_keywords(self, reading: _Reading, output: int) -> list[tuple[int, str]]:
        weighted: list[tuple[float, int, str]] = []
        pos = 0
        for token in reading.tokens:
            weight = self._weights.word_weight(token, output)
            if weight > 0 and token.strip():
                weighted.append((weight, pos, token))
            pos += len(token)
        top = sorted(weighted, key=lambda item: (-item[0], item[1]))[:MAX_LEARNED_KEYWORDS]
        return [(pos, token) for _, pos, token in top]

    def _cues(self, text: str, bounds: list[int]) -> list[tuple[int, int, _Weights]]:
        """The cues that count, in text order: each term once, literals on jieba word boundaries."""
        hits = self._matcher.scan(text)
        if not hits:
            return []
        cues = []
        counted: set[int] = set()
        # The furthest end of a counted literal, per section: hits come sorted by start, so
        # a literal lies inside an earlier one exactly when it ends no further than that.
        reach: dict[str, int] = {}
        hits.sort(key=_hit_order)
        for start, end, weights, is_literal in hits:
            if is_literal:
                if not _respects_words(bounds, start, end):
                    continue
                # Inside a longer literal of the same section, the longer one speaks for it:
                # 快没电 hides 没电, 打不着火 (dept_fire 0) hides 着火; 在打老婆 (urgent) does not
                # hide 打老婆 (police). A not-a-problem literal hides every word inside it:
                # 防溺水 is a slogan, not a drowning; 停电通知 is a notice, not a power cut.
                if end <= max(map(reach.get, weights.hidden_by, repeat(-1))):  # the furthest reach
                    continue
                for section in weights.sections:
                    reach[section] = max(reach.get(section, -1), end)
            if id(weights) in counted:
                continue
            counted.add(id(weights))
            cues.append((start, end, weights))
        return cues

    def _score(
        self, text: str, bounds: list[int]
    ) -> tuple[dict[str, float], dict[str, list[tuple[int, str]]]]:
        """Each lexicon section's summed cue weight, and the cues found per section."""
        scores: dict[str, float] = {}
        found: dict[str, list[tuple[int, str]]] = {}
        for start, end, weights in self._cues(text, bounds):
            negated = _negated(text, start)
            keyword = None
            for section, weight in weights.contributions:
                if negated and section in _NEGATABLE and weight > 0:
                    # 没来水了, 还没修好, 不是误会: a resolution that did not happen is a
                    # sign of a problem, not of its end.
                    section, weight = "issue", NEGATED_RESOLUTION
                scores[section] = scores.get(section, 0.0) + weight
                if weight > 0:
                    if keyword is None:
                        keyword = _keyword(weights.term, text[start:end])
                    found.setdefault(section, []).append((start, keyword))
        return scores, found

    def explain(self, raw: str) -> dict[str, object]:
        """What the rules found and what the models made of it: for people tuning a lexicon."""
        text = self._judged_text(self.normalize(raw)) or ""
        reading = self._read(text)
        logits = self._weights.logits(reading.features)
        probabilities = softmax(logits[: len(self._weights.classes)])
        return {
            "text": text,
            "tokens": list(reading.tokens),
            "cues": [(text[s:e], w.term, w.contributions) for s, e, w in self._cues(text, self._token_bounds(text))],
            "scores": reading.scores,
            "probabilities": {c: round(p, 4) for c, p in zip(self._weights.classes, probabilities) if p >= 0.01},
            "urgent_probability": round(sigmoid(logits[-1]), 4),
            "lexicon_urgent": self._lexicon_urgent(reading.scores),
        }

    def _token_bounds(self, text: str) -> list[int]:
        return _bounds_of(_cut(self._tokenizer, text))


def _hit_order(hit: tuple[int, int, _Weights, bool]) -> tuple[int, int]:
    """Hits by start, the longest first at one start (a stable sort keeps ties in scan order)."""
    return hit[0], -hit[1]


def _split_quote(text: str) -> tuple[str, str] | None:
    """(quoted text without its author, reply) of a WeChat quoted reply, else None."""
    m = _QUOTED_REPLY.match(text)
    if m is None:
        return None
    quote = _QUOTE_AUTHOR.sub("", m.group("quote").strip(), count=1)
    return quote, m.group("reply").strip()


split_quote = _split_quote  # public: the dispatcher reads a quoted command (「…」- - - #上报) the same way


def _bounds_of(tokens: Iterable[str]) -> list[int]:
    """Where jieba's tokens start, and the end of the text: 0, len(t1), len(t1)+len(t2), …"""
    return list(accumulate(map(len, tokens), initial=0))


def _best_of_departments(classes: tuple[str, ...], probabilities: list[float]) -> tuple[float, str]:
    """The most probable department (not "none") and its share of the departments' probability."""
    best = max(range(1, len(classes)), key=lambda i: (probabilities[i], -i))
    rest = sum(probabilities[1:])
    return (probabilities[best] / rest if rest > 0 else 0.0), classes[best]


def _best_department(scores: dict[str, float]) -> tuple[float, str | None]:
    """The highest-scoring department (ties go to the earlier one in DEPARTMENTS), or None
    below MIN_DEPT_SCORE."""
    best_score, _, department = max((scores.get(code, 0.0), -rank, code) for rank, code in enumerate(DEPARTMENTS))
    return best_score, (department if best_score >= MIN_DEPT_SCORE else None)


def _negated(text: str, start: int) -> bool:
    """Whether a cue at `start` is directly preceded by a negation (没, 还没有, 未能 …)."""
    if start == 0:
        return False
    return text[start - 1] in _NEGATORS_1 or text[max(0, start - 2) : start] in _NEGATORS_2


def _respects_words(bounds: list[int], start: int, end: int) -> bool:
    """A literal found in the text counts unless jieba says it straddles two words
    (着火 in 打不着|火); a single character must be a word of its own (偷 but not 偷偷).
    `bounds` are the token boundaries (0, end of token 1, …, len(text))."""
    first = bisect_right(bounds, start) - 1  # the token holding the literal's first character
    first_start, first_end = bounds[first], bounds[first + 1]
    if end - start == 1:
        return first_start == start and first_end == end
    last = bisect_right(bounds, end - 1) - 1  # … and its last
    last_start, last_end = bounds[last], bounds[last + 1]
    crosses_left = first_start < start and first_end < end
    crosses_right = last_end > end and last_start > start
    return not (crosses_left or crosses_right)


class _CleanChars(dict[int, str]):
    """str.translate table that works out each character once: spaces become " ", control
    characters, emoji and variation selectors go. Looked up in C, unlike a call per character."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if ch.isspace():
            out = " "
        else:
            category = unicodedata.category(ch)
            out = "" if category[0] == "C" or category in ("So", "Sk", "Mn", "Me") else ch
        if len(self) < 65536:  # bounded: a flood of distinct characters must not grow it forever
            self[code] = out
        return out


_CLEAN_CHARS = _CleanChars()


def _inside_number(text: str, start: int, end: int) -> bool:
    return (start > 0 and text[start - 1].isalnum()) or (end < len(text) and text[end].isalnum())


def _keyword(term: str, matched: str) -> str:
    """A literal is its own keyword; a pattern (A*B) reports the parts it matched: A…B."""
    if "*" not in term:
        return matched
    parts = term.lstrip("^").split("*")
    first = next((alt for alt in parts[0].split("|") if matched.startswith(alt)), parts[0])
    last = next((alt for alt in parts[-1].split("|") if matched.endswith(alt)), parts[-1])
    return f"{first}…{last}"


def _keywords(found: list[tuple[int, str]]) -> tuple[str, ...]:
    out: list[str] = []
    for _, word in sorted(found):
        if word not in out:
            out.append(word)
    return tuple(out[:MAX_KEYWORDS])


# ---------------------------------------------------------------------------
# Tokenizing

# jieba's own expressions, so that its rules for what is cut and what passes through stay its own.
_JIEBA_BLOCK = jieba.re_han_default  # a run of Chinese, letters, digits and +#&._%- is cut
_JIEBA_SKIP = jieba.re_skip_default  # elsewhere, spaces pass through and each other character is a token
_ASCII_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def _cut(tokenizer: jieba.Tokenizer, text: str) -> list[str]:
    """The tokens of `tokenizer.cut(text, HMM=False)`, worked out in half the time.

    The same algorithm on the same dictionary (tokenizer.FREQ and .total, read at each call):
    the most probable route through the words jieba knows, ties to the longer word, runs of
    single ASCII letters and digits joined. jieba builds a dict of candidate lists and a
    generator of tuples per character for it; here one backward pass does both.
    tests/nlp/test_speed_equivalence.py compares the two on the corpus.
    """
    freq = tokenizer.FREQ.get
    log_total = math.log(tokenizer.total)
    tokens: list[str] = []
    for block in _JIEBA_BLOCK.split(text):
        if not block:
            continue
        if _JIEBA_BLOCK.match(block):
            _cut_block(block, freq, log_total, tokens)
        else:
            for piece in _JIEBA_SKIP.split(block):
                if _JIEBA_SKIP.match(piece):
                    tokens.append(piece)
                else:
                    tokens.extend(piece)
    return tokens


def _cut_block(block: str, freq: Callable[[str], int | None], log_total: float, tokens: list[str]) -> None:
    """Appends the tokens of one block (jieba's __cut_DAG_NO_HMM)."""
    n = len(block)
    # score[k]: the log probability of the best route through block[k:]; end[k]: where the
    # first word of that route ends (inclusive). Where jieba knows no word, the character is
    # one, counted once (log 1 = 0.0), as jieba counts it.
    score = [0.0] * (n + 1)
    end = list(range(n))
    log_ = math.log
    for k in range(n - 1, -1, -1):
        best = None
        i = k
        count = freq(block[k])
        while count is not None:  # jieba's dictionary holds every prefix of its words (count 0)
            if count:
                candidate = log_(count) - log_total + score[i + 1]
                if best is None or candidate >= best:  # ">=": the longer word wins a tie
                    best = candidate
                    end[k] = i
            i += 1
            if i == n:
                break
            count = freq(block[k : i + 1])
        score[k] = 0.0 - log_total + score[k + 1] if best is None else best
    x = 0
    letters = ""
    while x < n:
        y = end[x] + 1
        if y - x == 1 and block[x] in _ASCII_ALNUM:
            letters += block[x]
        else:
            if letters:
                tokens.append(letters)
                letters = ""
            tokens.append(block[x:y])
        x = y
    if letters:
        tokens.append(letters)


# ---------------------------------------------------------------------------
# Loading

_JIEBA_LOCK = threading.Lock()
_BASE_TOKENIZERS: dict[Path, jieba.Tokenizer] = {}


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gridbot"


def _base_tokenizer(cache_dir: Path) -> jieba.Tokenizer:
    """jieba's main dictionary, loaded once per cache directory and process."""
    with _JIEBA_LOCK:
        tokenizer = _BASE_TOKENIZERS.get(cache_dir)
        if tokenizer is None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.tmp_dir = str(cache_dir)
            tokenizer.cache_file = "jieba.cache"
            if not _read_jieba_cache(tokenizer, cache_dir / tokenizer.cache_file):
                tokenizer.initialize()  # builds the dictionary and writes the cache file
            _BASE_TOKENIZERS[cache_dir] = tokenizer
        return tokenizer


def _read_jieba_cache(tokenizer: jieba.Tokenizer, path: Path) -> bool:
    """Loads jieba's cache file into `tokenizer` as jieba would, but in one read: jieba's
    marshal.load() on the open file reads it piece by piece, four times slower (0.95 s
    against 0.23 s for 9 MB). False when the file is missing or unusable (partly written,
    another Python's marshal format): then jieba builds the dictionary and the file itself."""
    try:
        freq, total = marshal.loads(path.read_bytes())
    except Exception:
        return False
    if not isinstance(freq, dict) or not isinstance(total, int):
        return False
    tokenizer.FREQ, tokenizer.total = freq, total
    tokenizer.initialized = True
    return True


def _domain_tokenizer(base: jieba.Tokenizer, data: LexiconData, words: Iterable[str]) -> jieba.Tokenizer:
    """A tokenizer sharing nothing mutable with `base`, plus the domain words."""
    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = base.tmp_dir
    tokenizer.cache_file = base.cache_file
    tokenizer.FREQ = dict(base.FREQ)
    tokenizer.total = base.total
    tokenizer.initialized = True
    for word, freq, tag in data.userdict:
        tokenizer.add_word(word, freq, tag)
    for word in words:
        if len(word) >= 2:
            # Frequent enough to win against an everyday word that overlaps it (路|灯不亮).
            tokenizer.add_word(word, max(tokenizer.suggest_freq(word), LEXICON_WORD_FREQ))
    return tokenizer


def load(
    cache_dir: str | os.PathLike | None = None,
    extra_lexicon: Iterable[str | os.PathLike] = (),
    weights: str | os.PathLike | WeightTable | None = None,
) -> Classifier:
    """Initialise jieba once (cache file in `cache_dir`), read the bundled lexicon plus the
    county's `extra_lexicon` files/directories and the learned `weights` (a table or a TSV
    path; default the bundled nlp/weights.tsv), and return a ready classifier."""
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    data = read_lexicon([BUNDLED_DIR, *extra_lexicon], DEPARTMENTS)
    classifier_words = _all_literals(data)
    tokenizer = _domain_tokenizer(_base_tokenizer(cache.resolve()), data, classifier_words)
    if not isinstance(weights, WeightTable):
        weights = read_table(BUNDLED_WEIGHTS if weights is None else weights, DEPARTMENTS)
    return Classifier(data, tokenizer, weights)


def _all_literals(data: LexiconData) -> list[str]:
    words: list[str] = list(data.places)
    for terms in [*data.departments.values(), *data.weighted.values()]:
        for term in terms:
            if not any(ch in term.text for ch in "*|^"):
                words.append(term.text)
    return words
