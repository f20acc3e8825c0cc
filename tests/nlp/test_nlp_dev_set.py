"""The whole labelled dev set against the project's targets."""

from pathlib import Path

from nlp.evaluate import format_report, read_jsonl, score

DEV = Path(__file__).resolve().parents[1] / "data" / "dev_messages.jsonl"


def test_dev_set_meets_targets(classifier):
    records = read_jsonl(str(DEV))
    assert len(records) == 384
    report = score(records, [classifier.classify(r["text"]) for r in records])
    summary = format_report(report)
    assert report.f1 >= 0.95, summary
    assert report.false_positive_rate <= 0.03, summary
    assert report.routing_accuracy >= 0.92, summary
    assert report.routing_accuracy_all >= 0.92, summary
    assert report.urgent_recall >= 0.95, summary
