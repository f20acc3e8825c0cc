"""The learned weight table: read from TSV, scored with plain dictionary look-ups.

`python -m nlp.train` writes it (scikit-learn is needed only there); the bot reads it and
adds up the weights of the features a message has, so classifying stays as fast as jieba.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import NamedTuple
from pathlib import Path

BUNDLED_WEIGHTS = Path(__file__).with_name("weights.tsv")

NONE = "none"  # the department model's class for "not a problem"
URGENT = "urgent"  # the urgency model's one output

# Feature kinds, the first column of the table.
BIAS = "bias"
WORD = "word"  # a jieba token of the judged text
CHARS = "chars"  # a character 2-3-gram of it
CUE = "cue"  # a lexicon section's score (dept code, issue, not_issue, urgent, calm)
KINDS = (BIAS, WORD, CHARS, CUE)
# Character 2- and 3-grams. A single character counts where jieba makes it a word of its
# own (偷, 砸); all 1-grams were measured too and cost a quarter of the scoring time for no
# better cross-validated figure (README, "Learned weights").
NGRAM_SIZES = (2, 3)

_Dense = tuple[float, ...]


class WeightsError(ValueError):
    """A weight table that cannot be used; the message names the file and line."""


class Features(NamedTuple):
    """What the models see of one judged text. Words and n-grams count once (presence)."""

    words: frozenset[str]
    chars: frozenset[str]
    cues: tuple[tuple[str, float], ...]

    def as_dict(self) -> dict[tuple[str, str], float]:
        """(kind, feature) -> value, the form the trainer vectorises."""
        out: dict[tuple[str, str], float] = {(WORD, w): 1.0 for w in self.words}
        out.update({(CHARS, c): 1.0 for c in self.chars})
        out.update({(CUE, name): value for name, value in self.cues if value})
        return out


def char_ngrams(text: str) -> frozenset[str]:
    # From a list: a list comprehension is faster than a generator expression; same order.
    return frozenset([text[i : i + n] for n in NGRAM_SIZES for i in range(len(text) - n + 1)])


class WeightTable:
    """Logits of the department model (none + 14 codes) and of the urgency model."""

    def __init__(self, departments: Sequence[str], rows: Iterable[tuple[str, str, str, float]], source: str = "") -> None:
        self.classes: tuple[str, ...] = (NONE, *departments)
        self.outputs: tuple[str, ...] = (*self.classes, URGENT)
        self.source = source
        index = {name: i for i, name in enumerate(self.outputs)}
        width = len(self.outputs)
        tables: dict[str, dict[str, list[float]]] = {kind: {} for kind in KINDS}
        self._rows = 0
        for kind, feature, output, weight in rows:
            table = tables[kind]
            row = table.get(feature)
            if row is None:
                row = table[feature] = [0.0] * width
            row[index[output]] = weight
            self._rows += 1
        self._bias: _Dense = tuple(tables[BIAS].get("", [0.0] * width))
        # Dense rows, so that summing the present features' rows is one transposition and a
        # built-in sum per output, both in C (a Python loop per weight was 4x slower).
        self._words: dict[str, _Dense] = {f: tuple(w) for f, w in tables[WORD].items()}
        self._chars: dict[str, _Dense] = {f: tuple(w) for f, w in tables[CHARS].items()}
        self._cues: dict[str, _Dense] = {f: tuple(w) for f, w in tables[CUE].items()}

    def __len__(self) -> int:
        """How many weights the table file gave."""
        return self._rows

    def logits(self, features: Features) -> list[float]:
        """Bias plus the weights of every feature present: one list, indexed like `outputs`."""
        rows = [
            self._bias,
            *filter(None, map(self._words.get, features.words)),
            *filter(None, map(self._chars.get, features.chars)),
        ]
        cues = self._cues
        for name, value in features.cues:
            row = cues.get(name)
            if row is not None and value:
                rows.append([weight * value for weight in row])
        return list(map(sum, zip(*rows)))

    def word_weight(self, word: str, output: int) -> float:
        """The learned weight of a word for one output (0 when the table has none)."""
        row = self._words.get(word)
        return row[output] if row is not None else 0.0


def softmax(logits: Sequence[float]) -> list[float]:
    top = max(logits)
    exps = [math.exp(x - top) for x in logits]
    total = sum(exps)
    return [e / total for e in exps]


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def read_table(path: str | Path, departments: Sequence[str]) -> WeightTable:
    """Read a TSV weight table file (see `parse_table`)."""
    path = Path(path)
    return parse_table(path.read_text(encoding="utf-8"), departments, source=str(path))


def parse_table(text: str, departments: Sequence[str], source: str = "weights") -> WeightTable:
    """A weight table from its TSV text: kind, feature, output, weight per line; # starts a
    comment. `source` names it in errors (a file, or a database's own weights)."""
    kinds = frozenset(KINDS)
    outputs = frozenset({NONE, URGENT, *departments})
    rows: list[tuple[str, str, str, float]] = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line or line[0] == "#":
            continue
        try:
            kind, feature, output, weight = line.split("\t")
            rows.append((kind, feature, output, float(weight)))
        except ValueError:
            raise WeightsError(f"{source}:{lineno}: expected kind, feature, output and a number, tab-separated") from None
        if kind not in kinds or output not in outputs:
            raise WeightsError(f"{source}:{lineno}: unknown feature kind {kind!r} or output {output!r}")
    return WeightTable(departments, rows, source=source)
