"""The metric computation of nlp.evaluate on small hand-made inputs."""

import json

import pytest

from nlp.classifier import Classification
from nlp.evaluate import main, read_jsonl, score


def rec(rid, is_issue, department=None, urgency=None, also=()):
    return {"id": rid, "text": f"t{rid}", "is_issue": is_issue, "department": department,
            "also": list(also), "urgency": urgency}


def pred(department=None, urgency="normal"):
    return Classification(department is not None, department, urgency, (), None)


RECORDS = [
    rec("1", True, "water", "normal"),  # TP, right
    rec("2", True, "power", "urgent"),  # TP, wrong dept, urgent found
    rec("3", True, "fire", "urgent"),  # FN (missed urgent)
    rec("4", True, "housing", "normal", also=["market"]),  # TP, right via also, false urgent
    rec("5", True, "police", None),  # TP, right, urgency "any": not counted for precision
    rec("6", False),  # TN
    rec("7", False),  # FP (urgent)
    rec("8", False),  # TN
]
PREDICTIONS = [
    pred("water"),
    pred("fire", "urgent"),
    pred(None),
    pred("market", "urgent"),
    pred("police", "urgent"),
    pred(None),
    pred("fire", "urgent"),
    pred(None),
]


def test_exact_figures():
    report = score(RECORDS, PREDICTIONS)
    assert (report.true_positives, report.false_positives, report.false_negatives) == (4, 1, 1)
    assert report.precision == pytest.approx(4 / 5)
    assert report.recall == pytest.approx(4 / 5)
    assert report.f1 == pytest.approx(0.8)
    assert report.false_positive_rate == pytest.approx(1 / 3)
    assert report.routing_accuracy == pytest.approx(3 / 4)
    assert report.routing_accuracy_all == pytest.approx(3 / 5)
    assert report.urgent_recall == pytest.approx(1 / 2)
    # predicted urgent: #2 (right), #4 (wrong), #7 (non-problem); #5 has no urgency label
    assert report.urgent_precision == pytest.approx(1 / 3)


def test_misses_list():
    kinds = [(m.id, m.kind) for m in score(RECORDS, PREDICTIONS).misses]
    assert kinds == [
        ("2", "wrong_department"),
        ("3", "false_negative"),
        ("3", "missed_urgent"),
        ("4", "false_urgent"),
        ("7", "false_positive"),
    ]
    miss = score(RECORDS, PREDICTIONS).misses[0]
    assert (miss.text, miss.expected, miss.got) == ("t2", "power/urgent", "fire/urgent")


def test_perfect_and_empty():
    perfect = score(RECORDS[:2], [pred("water"), pred("power", "urgent")])
    assert (perfect.f1, perfect.routing_accuracy, perfect.urgent_recall, perfect.urgent_precision) == (1, 1, 1, 1)
    empty = score([], [])
    assert (empty.f1, empty.false_positive_rate) == (1.0, 0.0)


def test_length_mismatch():
    with pytest.raises(ValueError):
        score(RECORDS, PREDICTIONS[:-1])


def test_command_line(tmp_path, capsys, jieba_cache):
    path = tmp_path / "mini.jsonl"
    lines = [rec("a", True, "power", "normal") | {"text": "又停电了"}, rec("b", False) | {"text": "收到"}]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    assert read_jsonl(str(path))[0]["id"] == "a"
    assert main([str(path), "--cache-dir", str(jieba_cache), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["figures"]["f1"] == 1.0 and out["misses"] == []
