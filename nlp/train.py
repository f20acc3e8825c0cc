"""Learns the classifier's weights from the labelled corpus and writes the weight table.

    python -m nlp.train [--corpus DIR_OR_FILE ...] [--out nlp/weights.tsv] [--cache-dir DIR]

Two logistic regressions (scikit-learn, lbfgs) over the features `Classifier.features`
gives (jieba words, character 2-3-grams, the lexicon's section scores): one multinomial
over "none" + the 14 departments, one for urgency. The bot needs no scikit-learn: it reads
the table this writes (nlp/weights.py). Same corpus, same lexicon -> byte-identical file.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from nlp.weights import BIAS, BUNDLED_WEIGHTS, NONE, URGENT, Features, WeightTable

CORPUS_DIR = Path(__file__).with_name("corpus")

# Inverse regularisation strength of both models, chosen by 5-fold cross-validation on the
# corpus (README, "Learned weights"): 3 and 10 scored within a point of it, 1 lower.
C_DEPARTMENT = 5.0
C_URGENCY = 5.0
# A word or n-gram seen in a single training message is a name, a number or a typo more
# often than knowledge; it is left out (cues are always kept).
MIN_COUNT = 2
# Weights smaller than this are dropped: with 0.02, 0.05 and 0.1 the 5-fold figures were the
# same within 0.005 (F1 0.994-0.995, routing 0.995-0.996), and 0.05 keeps 9,815 of 23,233
# weights, which the bot reads at every start.
PRUNE_BELOW = 0.05
DECIMALS = 3
MAX_ITER = 3000
# How much more a non-problem counts than a problem in the department model: 2 kept the
# 5-fold F1 and cut false positives (README, "Training"). Weighting emergencies up in the
# urgency model (3x) changed nothing: the misses there are words no message has taught.
NONE_WEIGHT = 2.0


def read_corpus(paths: Iterable[str | Path] = (CORPUS_DIR,)) -> list[dict[str, Any]]:
    """Labelled records from JSONL files or directories of them (files in name order)."""
    records: list[dict[str, Any]] = []
    for path in map(Path, paths):
        files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
        for file in files:
            with file.open(encoding="utf-8") as fh:
                for lineno, line in enumerate(fh, start=1):
                    if not line.strip():
                        continue
                    try:
                        records.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise SystemExit(f"{file}:{lineno}: not JSON ({exc})") from exc
    return records


def department_label(record: dict[str, Any]) -> str:
    return str(record["department"]) if record.get("is_issue") and record.get("department") else NONE


def urgency_label(record: dict[str, Any]) -> int | None:
    """1 urgent, 0 not, None when the record accepts either (a problem with urgency null)."""
    if not record.get("is_issue"):
        return 0
    urgency = record.get("urgency")
    return None if urgency is None else int(urgency == "urgent")


def fit(
    features: Sequence[Features | None],
    records: Sequence[dict[str, Any]],
    departments: Sequence[str],
) -> list[tuple[str, str, str, float]]:
    """The weight table rows (kind, feature, output, weight) learned from `records`, whose
    features the classifier has already read. Records a rule decides (None) are skipped. A
    record's optional "weight" (default 1) counts it that many times (a county's corrections)."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    pairs = [(f.as_dict(), r) for f, r in zip(features, records) if f is not None]
    counts = Counter(key for doc, _ in pairs for key in doc)
    vocabulary = sorted(key for key, n in counts.items() if n >= MIN_COUNT or key[0] == "cue")
    column = {key: i for i, key in enumerate(vocabulary)}

    def matrix(docs: list[dict[tuple[str, str], float]]) -> csr_matrix:
        rows, cols, values = [], [], []
        for r, doc in enumerate(docs):
            for key in sorted(doc):  # a fixed order, so the solver sees the same matrix every time
                c = column.get(key)
                if c is not None:
                    rows.append(r)
                    cols.append(c)
                    values.append(doc[key])
        return csr_matrix((values, (rows, cols)), shape=(len(docs), len(vocabulary)), dtype=np.float64)

    classes = [NONE, *departments]
    x = matrix([doc for doc, _ in pairs])
    y = np.array([classes.index(department_label(r)) for _, r in pairs])
    sample_weight = np.array([float(r.get("weight", 1.0)) for _, r in pairs])
    none_boost = np.where(y == 0, NONE_WEIGHT, 1.0)
    graded = [(i, label) for i, (_, r) in enumerate(pairs) if (label := urgency_label(r)) is not None]
    department_model = LogisticRegression(C=C_DEPARTMENT, max_iter=MAX_ITER, solver="lbfgs")
    urgency_model = LogisticRegression(C=C_URGENCY, max_iter=MAX_ITER, solver="lbfgs")
    # One BLAS thread: the sums are done in the same order on any machine (same data, same
    # weights), and at this size threads only fight each other (4x slower on two busy cores).
    with threadpool_limits(limits=1):
        department_model.fit(x, y, sample_weight=sample_weight * none_boost)
        urgency_model.fit(x[[i for i, _ in graded]], np.array([label for _, label in graded]),
                          sample_weight=sample_weight[[i for i, _ in graded]])

    fitted = [classes[k] for k in department_model.classes_]  # a class absent from the data has no row
    out: list[tuple[str, str, str, float]] = []
    for k, output in enumerate(fitted):
        out.append((BIAS, "", output, _round(department_model.intercept_[k])))
    out.append((BIAS, "", URGENT, _round(urgency_model.intercept_[0])))
    department_coef = department_model.coef_
    urgency_coef = urgency_model.coef_[0]
    for c, (kind, feature) in enumerate(vocabulary):
        for k, output in enumerate(fitted):
            weight = _round(department_coef[k, c])
            if abs(weight) >= PRUNE_BELOW:
                out.append((kind, feature, output, weight))
        weight = _round(urgency_coef[c])
        if abs(weight) >= PRUNE_BELOW:
            out.append((kind, feature, URGENT, weight))
    # Fitted classes absent from the data keep a very low bias, so the model never picks them.
    for output in classes:
        if output not in fitted:
            out.append((BIAS, "", output, -30.0))
    return out


def train_table(classifier: Any, records: Sequence[dict[str, Any]]) -> str:
    """The TSV weight table learned from `records`, read by `classifier`'s rules and lexicon
    (its own weights play no part in reading)."""
    from nlp.classifier import DEPARTMENTS

    rows = fit([classifier.features(str(r.get("text", ""))) for r in records], records, DEPARTMENTS)
    return format_table(rows, len(records))


def _round(value: float) -> float:
    rounded = round(float(value), DECIMALS)
    return 0.0 if rounded == 0 else rounded  # no "-0.0" in the file


def format_table(rows: Sequence[tuple[str, str, str, float]], corpus_size: int) -> str:
    header = [
        "# gridbot classifier weights, written by `python -m nlp.train`; do not edit by hand.",
        f"# trained on {corpus_size} labelled messages; columns: kind, feature, output, weight.",
        "# kind: bias | word (jieba token) | chars (character 2-3-gram) | cue (lexicon section score);",
        "# output: none or a department code (the department model's logits) | urgent (the urgency model's).",
    ]
    body = [f"{kind}\t{feature}\t{output}\t{weight:g}" for kind, feature, output, weight in rows]
    return "\n".join(header + body) + "\n"


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlp.train", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", action="append", help=f"JSONL file or directory (default: {CORPUS_DIR})")
    parser.add_argument("--out", default=str(BUNDLED_WEIGHTS), help="weight table to write")
    parser.add_argument("--cache-dir", help="jieba cache directory (default: ~/.cache/gridbot)")
    parser.add_argument("--lexicon", action="append", default=[], help="extra lexicon file or directory")
    args = parser.parse_args(list(argv) if argv is not None else None)

    import nlp
    from nlp.classifier import DEPARTMENTS

    # The rules and lexicon that read the messages do not depend on the weights; an empty
    # table is enough to read the corpus with, and training works before any table exists.
    classifier = nlp.load(args.cache_dir, extra_lexicon=args.lexicon, weights=WeightTable(DEPARTMENTS, []))
    records = read_corpus(args.corpus or [CORPUS_DIR])
    table = train_table(classifier, records)
    Path(args.out).write_text(table, encoding="utf-8")
    weights = sum(1 for line in table.splitlines() if line and not line.startswith("#"))
    print(f"{len(records)} messages -> {weights} weights in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
