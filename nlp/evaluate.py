"""Scores the classifier on labelled JSON lines.

    python -m nlp.evaluate [FILE_OR_DIR ...] [--cv K] [--cache-dir DIR] [--lexicon PATH ...] [--json]

Each line: {"id", "text", "is_issue", "department", "also", "urgency"}; `also` lists other
acceptable departments; an `urgency` of null on a problem means "either is acceptable".
Without FILE, the bundled corpus (nlp/corpus/). With --cv K, K-fold cross-validation: the
weights are learned on K-1 parts and every message is scored by a model that never saw it;
without it, the bundled weights are scored (which were trained on the corpus itself).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol


class Prediction(Protocol):
    is_issue: bool
    department: str | None
    urgency: str


@dataclass(frozen=True, slots=True)
class Miss:
    id: str
    kind: str  # false_positive | false_negative | wrong_department | missed_urgent | false_urgent
    text: str
    expected: str
    got: str


@dataclass(slots=True)
class Report:
    messages: int = 0
    problems: int = 0
    non_problems: int = 0
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    routed_right: int = 0
    urgent_labelled: int = 0
    urgent_found: int = 0
    urgent_predicted: int = 0
    urgent_predicted_right: int = 0
    misses: list[Miss] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return _ratio(self.true_positives, self.true_positives + self.false_positives)

    @property
    def recall(self) -> float:
        return _ratio(self.true_positives, self.true_positives + self.false_negatives)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 0.0 if p + r == 0 else 2 * p * r / (p + r)

    @property
    def false_positive_rate(self) -> float:
        """Share of non-problems the classifier would open a ticket for."""
        return _ratio(self.false_positives, self.non_problems, empty=0.0)

    @property
    def routing_accuracy(self) -> float:
        """Right department among the problems that were detected."""
        return _ratio(self.routed_right, self.true_positives)

    @property
    def routing_accuracy_all(self) -> float:
        """Right department among all labelled problems (a missed problem counts as wrong)."""
        return _ratio(self.routed_right, self.problems)

    @property
    def urgent_recall(self) -> float:
        return _ratio(self.urgent_found, self.urgent_labelled)

    @property
    def urgent_precision(self) -> float:
        return _ratio(self.urgent_predicted_right, self.urgent_predicted)

    def figures(self) -> dict[str, float | int]:
        return {
            "messages": self.messages,
            "problems": self.problems,
            "non_problems": self.non_problems,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "false_positive_rate": round(self.false_positive_rate, 4),
            "routing_accuracy": round(self.routing_accuracy, 4),
            "routing_accuracy_all": round(self.routing_accuracy_all, 4),
            "urgent_recall": round(self.urgent_recall, 4),
            "urgent_precision": round(self.urgent_precision, 4),
        }


def _ratio(num: int, den: int, empty: float = 1.0) -> float:
    return num / den if den else empty


def score(records: Sequence[dict[str, Any]], predictions: Sequence[Prediction]) -> Report:
    """Compare labelled records with predictions (same order). Pure; no I/O."""
    if len(records) != len(predictions):
        raise ValueError(f"{len(records)} records but {len(predictions)} predictions")
    report = Report()
    for record, pred in zip(records, predictions):
        report.messages += 1
        rid = str(record.get("id", report.messages))
        text = record.get("text", "")
        labelled_issue = bool(record.get("is_issue"))
        got = _describe(pred)
        if not labelled_issue:
            report.non_problems += 1
            if pred.is_issue:
                report.false_positives += 1
                report.misses.append(Miss(rid, "false_positive", text, "not a problem", got))
                if pred.urgency == "urgent":
                    report.urgent_predicted += 1
            continue

        report.problems += 1
        accepted = {record.get("department"), *(record.get("also") or [])} - {None}
        label_urgency = record.get("urgency")
        expected = f"{record.get('department')}/{label_urgency or 'any'}"
        if label_urgency == "urgent":
            report.urgent_labelled += 1
        if not pred.is_issue:
            report.false_negatives += 1
            report.misses.append(Miss(rid, "false_negative", text, expected, got))
            if label_urgency == "urgent":
                report.misses.append(Miss(rid, "missed_urgent", text, expected, got))
            continue

        report.true_positives += 1
        if pred.department in accepted:
            report.routed_right += 1
        else:
            report.misses.append(Miss(rid, "wrong_department", text, expected, got))
        predicted_urgent = pred.urgency == "urgent"
        if label_urgency == "urgent":
            if predicted_urgent:
                report.urgent_found += 1
            else:
                report.misses.append(Miss(rid, "missed_urgent", text, expected, got))
        if predicted_urgent and label_urgency is not None:
            report.urgent_predicted += 1
            if label_urgency == "urgent":
                report.urgent_predicted_right += 1
            else:
                report.misses.append(Miss(rid, "false_urgent", text, expected, got))
    return report


def per_department(records: Sequence[dict[str, Any]], predictions: Sequence[Prediction]) -> list[str]:
    """One line per department: recall (labelled there, detected and routed there) and
    precision (routed there, and acceptable there)."""
    labelled: Counter[str] = Counter()
    found: Counter[str] = Counter()
    routed: Counter[str] = Counter()
    routed_right: Counter[str] = Counter()
    for record, pred in zip(records, predictions):
        accepted = {record.get("department"), *(record.get("also") or [])} - {None} if record.get("is_issue") else set()
        if record.get("is_issue") and record.get("department"):
            labelled[record["department"]] += 1
            if pred.is_issue and pred.department in accepted:
                found[record["department"]] += 1
        if pred.is_issue and pred.department:
            routed[pred.department] += 1
            routed_right[pred.department] += pred.department in accepted
    lines = [f"{'department':14} {'labelled':>8} {'recall':>7} {'routed':>7} {'precision':>9}"]
    for code in sorted(labelled.keys() | routed.keys()):
        lines.append(
            f"{code:14} {labelled[code]:8d} {_ratio(found[code], labelled[code]):7.3f}"
            f" {routed[code]:7d} {_ratio(routed_right[code], routed[code]):9.3f}"
        )
    return lines


def cross_validated(classifier: Any, records: Sequence[dict[str, Any]], folds: int) -> list[Prediction]:
    """Predictions for every record by weights learned without its fold (stratified by the
    department label, shuffled with a fixed seed: the same folds every run)."""
    from sklearn.model_selection import StratifiedKFold

    from nlp.classifier import DEPARTMENTS
    from nlp.train import department_label, fit
    from nlp.weights import WeightTable

    features = [classifier.features(str(r.get("text", ""))) for r in records]  # weights play no part
    labels = [department_label(r) for r in records]
    predictions: list[Prediction | None] = [None] * len(records)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for train_index, test_index in splitter.split(labels, labels):
        rows = fit([features[i] for i in train_index], [records[i] for i in train_index], DEPARTMENTS)
        fold = classifier.with_weights(WeightTable(DEPARTMENTS, rows))
        for i in test_index:
            predictions[i] = fold.classify(str(records[i].get("text", "")))
    return predictions  # type: ignore[return-value]


def _describe(pred: Prediction) -> str:
    return f"{pred.department}/{pred.urgency}" if pred.is_issue else "not a problem"


def read_records(paths: Sequence[str]) -> list[dict[str, Any]]:
    """Records from JSONL files and directories of them; the bundled corpus when none is given."""
    from nlp.train import CORPUS_DIR, read_corpus

    return read_corpus(paths or [CORPUS_DIR])


def read_jsonl(path: str) -> list[dict[str, Any]]:
    records = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise SystemExit(f"{path}:{lineno}: not JSON ({exc})") from exc
    return records


def format_report(report: Report, details: Sequence[str] = ()) -> str:
    """The figures, then `details` (such as `per_department` lines), then every miss."""
    f = report.figures()
    lines = [
        f"messages {f['messages']}  (problems {f['problems']}, non-problems {f['non_problems']})",
        f"detection   precision {f['precision']:.3f}  recall {f['recall']:.3f}  F1 {f['f1']:.3f}",
        f"false positives on non-problems  {report.false_positives}/{report.non_problems} = {f['false_positive_rate']:.1%}",
        f"routing accuracy  {f['routing_accuracy']:.3f} of detected problems"
        f"  ({f['routing_accuracy_all']:.3f} of all problems)",
        f"urgent      recall {f['urgent_recall']:.3f} ({report.urgent_found}/{report.urgent_labelled})"
        f"  precision {f['urgent_precision']:.3f} ({report.urgent_predicted_right}/{report.urgent_predicted})",
    ]
    if details:
        lines.append("")
        lines.extend(details)
    if report.misses:
        lines.append("")
        lines.append(f"misses ({len(report.misses)}):")
        for miss in report.misses:
            lines.append(f"  {miss.id}  {miss.kind:16}  expected {miss.expected:24} got {miss.got:24} {miss.text}")
    return "\n".join(lines)


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlp.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="labelled JSON lines, files or directories (default: nlp/corpus/)")
    parser.add_argument("--cv", type=int, metavar="K", help="K-fold cross-validation: learn the weights on the other folds")
    parser.add_argument("--cache-dir", help="jieba cache directory (default: ~/.cache/gridbot)")
    parser.add_argument("--lexicon", action="append", default=[], help="extra lexicon file or directory")
    parser.add_argument("--json", action="store_true", help="print the figures and misses as JSON")
    args = parser.parse_args(list(argv) if argv is not None else None)

    import nlp

    classifier = nlp.load(args.cache_dir, extra_lexicon=args.lexicon)
    records = read_records(args.files)
    if args.cv:
        predictions = cross_validated(classifier, records, args.cv)
    else:
        predictions = [classifier.classify(str(r.get("text", ""))) for r in records]
    report = score(records, predictions)
    if args.json:
        out = {"figures": report.figures(), "misses": [asdict(m) for m in report.misses]}
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        how = f"{args.cv}-fold cross-validation" if args.cv else "the bundled weights"
        print(f"scored with {how}")
        print(format_report(report, per_department(records, predictions)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
