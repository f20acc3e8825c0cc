"""Keyword classifier for chat messages: is it a problem, whose is it, how urgent.

Text in, a Classification out. All knowledge lives in the lexicon files under
nlp/lexicon/ (and those a county adds); this module only weighs the cues found.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jieba

from nlp.lexdata import BUNDLED_DIR, LexiconData, Term, read_lexicon
from nlp.location import LocationFinder

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

# Decision thresholds, tuned on the dev set; see nlp/README_SECTION.md.
MIN_DEPT_SCORE = 2.0
MIN_EVIDENCE = 2.5
MIN_URGENT_SCORE = 3.0
EVIDENCE_CAP = 4.0
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
# A WeChat quoted reply: 「name：quoted text」, a dashed rule, then the reply itself.
_QUOTED_REPLY = re.compile(r"^「(?P<quote>[^」]*)」\s*(?:-\s*){3,}(?P<reply>.*)$", re.S)
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


NOT_AN_ISSUE = Classification(False, None, "normal", (), None)


@dataclass(slots=True)
class _Weights:
    """What one cue contributes: (section, weight) pairs; a section is a dept code or a cue kind."""

    term: str
    contributions: list[tuple[str, float]]


@dataclass(slots=True)
class _Pattern:
    """A gapped pattern, matched as the regex A(?:gap)B… would be: shortest gaps first, alternatives in order.

    `head` is that regex for the first two parts (at most 13 gap lengths to try). Over more
    parts one regex would try every combination of gap lengths (13 ** gaps from each start),
    so the rest is walked here instead, remembering each (part, position) that led nowhere.
    """

    parts: tuple[tuple[str, ...], ...]
    weights: _Weights
    head: re.Pattern[str]

    def end_of_match(self, text: str, pos: int, head: re.Match[str], dead_ends: set[tuple[int, int, int]]) -> int | None:
        """Where a match starting at `pos` ends, or None, given that `head` matched there
        (checked first by the caller: most tries end with it)."""
        if len(self.parts) <= 2:
            return head.end()
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


class _Matcher:
    """Finds every lexicon cue in a text in one left-to-right pass.

    Literals are looked up by their first two characters; a gapped pattern is tried only
    where its first part occurs, so the cost grows with the text, not with the lexicon.
    """

    def __init__(self) -> None:
        self._by_bigram: dict[str, list[tuple[str, object]]] = {}
        self._by_char: dict[str, list[tuple[str, object]]] = {}
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
                self._compile_pattern(text, weights)
        else:
            weights = self._literals.get(text)
            if weights is None:
                weights = self._literals[text] = _Weights(text, [])
                self._index(text, ("lit", weights))
        weights.contributions.append((section, term.weight))

    def _compile_pattern(self, text: str, weights: _Weights) -> None:
        anchored = text.startswith("^")
        parts = text.lstrip("^").split("*")
        alternatives = tuple(tuple(p.split("|")) for p in parts)
        head = re.compile(_GAP.join("(?:" + "|".join(map(re.escape, alts)) + ")" for alts in alternatives[:2]))
        pattern = _Pattern(alternatives, weights, head)
        if anchored:
            self._anchored.append(pattern)
            return
        for alt in parts[0].split("|"):
            bucket = self._anchors.get(alt)
            if bucket is None:
                bucket = self._anchors[alt] = []
                self._index(alt, ("anchor", bucket))
            bucket.append(pattern)

    def _index(self, text: str, entry: tuple[str, object]) -> None:
        table, key = (self._by_bigram, text[:2]) if len(text) >= 2 else (self._by_char, text)
        bucket = table.setdefault(key, [])
        bucket.append((text, entry))
        bucket.sort(key=lambda item: -len(item[0]))

    @property
    def literal_words(self) -> list[str]:
        return list(self._literals)

    def scan(self, text: str) -> list[tuple[int, int, _Weights, bool]]:
        """All hits as (start, end, weights, is_literal); a literal counts only on jieba word boundaries."""
        hits: list[tuple[int, int, _Weights, bool]] = []
        dead_ends: set[tuple[int, int, int]] = set()
        for pattern in self._anchored:
            head = pattern.head.match(text)
            end = None if head is None else pattern.end_of_match(text, 0, head, dead_ends)
            if end is not None:
                hits.append((0, end, pattern.weights, False))
        by_bigram = self._by_bigram.get
        by_char = self._by_char.get
        seen_patterns: set[int] = set()
        for i in range(len(text)):
            for table_get, key in ((by_bigram, text[i : i + 2]), (by_char, text[i])):
                bucket = table_get(key)
                if not bucket:
                    continue
                for word, (kind, payload) in bucket:
                    if not text.startswith(word, i):
                        continue
                    if kind == "lit":
                        end = i + len(word)
                        if word.isascii() and word.isalnum() and _inside_number(text, i, end):
                            continue  # "110" inside a phone number
                        hits.append((i, end, payload, True))
                        continue
                    for pattern in payload:
                        if id(pattern) in seen_patterns:
                            continue
                        head = pattern.head.match(text, i)
                        end = None if head is None else pattern.end_of_match(text, i, head, dead_ends)
                        if end is not None:
                            seen_patterns.add(id(pattern))
                            hits.append((i, end, pattern.weights, False))
        return hits


class Classifier:
    """Ready-to-use classifier; build it with nlp.load()."""

    def __init__(self, data: LexiconData, tokenizer: jieba.Tokenizer) -> None:
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

    @property
    def tokenizer(self) -> jieba.Tokenizer:
        return self._tokenizer

    def classify(self, text: str) -> Classification:
        try:
            return self._classify(text)
        except Exception:  # the bot calls this for every message; it must never take it down
            log.exception("classifier failed on a message of %d chars", len(text) if isinstance(text, str) else -1)
            return NOT_AN_ISSUE

    def route(self, text: str) -> str | None:
        """The department a text is most about, whether or not it reads as a problem.

        For an explicit report (``#上报 <内容>``), which opens a ticket regardless of
        `classify`: notice, question or "solved" cues do not matter here, only department
        evidence, and the same threshold as `classify` (so when `classify` finds a problem,
        both name the same department). A leading ``#上报`` is ignored. None when nothing
        points to a department ("3栋那边有点情况"). Never raises.
        """
        try:
            body = _REPORT_COMMAND.sub("", self.normalize(text), count=1)
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
        """The best department of a normalised text, after any forwarding prefix."""
        forwarded = self._forward.match(text)
        if forwarded:
            text = text[forwarded.end():].lstrip(" :：,，")
        if not text:
            return None
        scores, _ = self._score(text)
        return _best_department(scores)[1]

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
        text = "".join(_clean_char(ch) for ch in text)
        text = _SPACES.sub(" ", text).strip().lower()
        for variant, canonical in self._normalize:
            if variant in text:
                text = text.replace(variant, canonical)
        return text[:MAX_CHARS]

    def _classify(self, raw: str) -> Classification:
        text = self.normalize(raw)
        quoted = _split_quote(text)
        if quoted is None:
            return self._judge(text)
        # A quoted reply is judged on the reply. The quoted message only lends its subject
        # to a reply that adds a sign of trouble but names nothing ("我们这边也是，整条街都黑的");
        # a reply saying it is handled or received ("收到，已经报给城管了") stays what it is.
        quote, reply = quoted
        result = self._judge(reply)
        if result.is_issue or not quote or not reply or self._ack.fullmatch(reply):
            return result
        reply_scores, _ = self._score(reply)
        if reply_scores.get("not_issue", 0.0) > 0 or reply_scores.get("issue", 0.0) <= 0:
            return result
        return self._judge(f"{quote}。{reply}")

    def _judge(self, text: str) -> Classification:
        if not text or self._ack.fullmatch(text):
            return NOT_AN_ISSUE
        forwarded = self._forward.match(text)
        if forwarded:
            text = text[forwarded.end():].lstrip(" :：,，")
            if not text:
                return NOT_AN_ISSUE

        scores, found = self._score(text)
        if not scores:
            return NOT_AN_ISSUE
        best_score, department = _best_department(scores)
        urgent = scores.get("urgent", 0.0) - scores.get("calm", 0.0)
        # Capped so that a strong "already solved" or notice cue outweighs many problem words.
        evidence = (
            min(best_score, EVIDENCE_CAP)
            + scores.get("issue", 0.0)
            + min(max(urgent, 0.0), EVIDENCE_CAP)
            - scores.get("not_issue", 0.0)
        )
        if department is None or evidence < MIN_EVIDENCE:
            return NOT_AN_ISSUE

        is_urgent = urgent >= MIN_URGENT_SCORE
        keywords = _keywords(found.get(department, []) + (found.get("urgent", []) if is_urgent else []))
        return Classification(
            is_issue=True,
            department=department,
            urgency="urgent" if is_urgent else "normal",
            keywords=keywords,
            location=self._locations.find(text),
        )

    def _cues(self, text: str) -> list[tuple[int, int, _Weights]]:
        """The cues that count, in text order: each term once, literals on jieba word boundaries."""
        hits = self._matcher.scan(text)
        if not hits:
            return []
        spans = self._token_spans(text)
        cues = []
        counted: set[int] = set()
        # The furthest end of a counted literal, per section: hits come sorted by start, so
        # a literal lies inside an earlier one exactly when it ends no further than that.
        reach: dict[str, int] = {}
        for start, end, weights, is_literal in sorted(hits, key=lambda h: (h[0], -h[1])):
            if is_literal:
                if not _respects_words(spans, start, end):
                    continue
                # Inside a longer literal of the same section, the longer one speaks for it:
                # 快没电 hides 没电, 打不着火 (dept_fire 0) hides 着火; 在打老婆 (urgent) does not
                # hide 打老婆 (police). A not-a-problem literal hides every word inside it:
                # 防溺水 is a slogan, not a drowning; 停电通知 is a notice, not a power cut.
                sections = {section for section, _ in weights.contributions}
                if any(end <= reach.get(section, -1) for section in sections | _HIDES_ALL):
                    continue
                for section in sections:
                    reach[section] = max(reach.get(section, -1), end)
            if id(weights) in counted:
                continue
            counted.add(id(weights))
            cues.append((start, end, weights))
        return cues

    def _score(self, text: str) -> tuple[dict[str, float], dict[str, list[tuple[int, str]]]]:
        scores: dict[str, float] = {}
        found: dict[str, list[tuple[int, str]]] = {}
        for start, end, weights in self._cues(text):
            negated = _negated(text, start)
            for section, weight in weights.contributions:
                if negated and section in _NEGATABLE and weight > 0:
                    # 没来水了, 还没修好, 不是误会: a resolution that did not happen is a
                    # sign of a problem, not of its end.
                    section, weight = "issue", NEGATED_RESOLUTION
                scores[section] = scores.get(section, 0.0) + weight
                if weight > 0:
                    found.setdefault(section, []).append((start, _keyword(weights.term, text[start:end])))
        return scores, found

    def explain(self, raw: str) -> dict[str, object]:
        """The cues that counted and the section scores: for people tuning a lexicon."""
        text = self.normalize(raw)
        forwarded = self._forward.match(text)
        if forwarded:
            text = text[forwarded.end():].lstrip(" :：,，")
        scores, _ = self._score(text)
        return {
            "text": text,
            "tokens": self._tokenizer.lcut(text, HMM=False),
            "cues": [(text[s:e], w.term, w.contributions) for s, e, w in self._cues(text)],
            "scores": scores,
        }

    def _token_spans(self, text: str) -> tuple[list[int], list[int]]:
        """For each character: where its jieba token starts and ends."""
        start_of = [0] * len(text)
        end_of = [0] * len(text)
        pos = 0
        for token in self._tokenizer.cut(text, HMM=False):
            end = pos + len(token)
            for i in range(pos, end):
                start_of[i] = pos
                end_of[i] = end
            pos = end
        return start_of, end_of


def _split_quote(text: str) -> tuple[str, str] | None:
    """(quoted text without its author, reply) of a WeChat quoted reply, else None."""
    m = _QUOTED_REPLY.match(text)
    if m is None:
        return None
    quote = _QUOTE_AUTHOR.sub("", m.group("quote").strip(), count=1)
    return quote, m.group("reply").strip()


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


def _respects_words(spans: tuple[list[int], list[int]], start: int, end: int) -> bool:
    """A literal found in the text counts unless jieba says it straddles two words
    (着火 in 打不着|火); a single character must be a word of its own (偷 but not 偷偷)."""
    start_of, end_of = spans
    if end - start == 1:
        return start_of[start] == start and end_of[start] == end
    crosses_left = start_of[start] < start and end_of[start] < end
    crosses_right = end_of[end - 1] > end and start_of[end - 1] > start
    return not (crosses_left or crosses_right)


def _clean_char(ch: str) -> str:
    if ch.isspace():
        return " "
    category = unicodedata.category(ch)
    if category[0] == "C" or category in ("So", "Sk", "Mn", "Me"):
        return ""  # control characters, emoji, variation selectors
    return ch


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
            tokenizer.initialize()
            _BASE_TOKENIZERS[cache_dir] = tokenizer
        return tokenizer


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
) -> Classifier:
    """Initialise jieba once (cache file in `cache_dir`), read the bundled lexicon plus the
    county's `extra_lexicon` files/directories, and return a ready classifier."""
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    data = read_lexicon([BUNDLED_DIR, *extra_lexicon], DEPARTMENTS)
    classifier_words = _all_literals(data)
    tokenizer = _domain_tokenizer(_base_tokenizer(cache.resolve()), data, classifier_words)
    return Classifier(data, tokenizer)


def _all_literals(data: LexiconData) -> list[str]:
    words: list[str] = list(data.places)
    for terms in [*data.departments.values(), *data.weighted.values()]:
        for term in terms:
            if not any(ch in term.text for ch in "*|^"):
                words.append(term.text)
    return words
