"""The labelled corpus (nlp/corpus/*.jsonl): well-formed, one batch per file, provenance kept."""

import json
from collections import Counter

from nlp import DEPARTMENTS
from nlp.train import CORPUS_DIR, read_corpus

FIELDS = {"id", "text", "is_issue", "department", "also", "urgency", "source", "batch"}


def test_every_line_is_a_labelled_message_with_its_origin():
    files = sorted(CORPUS_DIR.glob("*.jsonl"))
    assert files
    for path in files:
        with path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                record = json.loads(line)
                where = f"{path.name}:{lineno}"
                assert set(record) >= FIELDS, where
                assert record["batch"] == path.stem, where  # one batch per file
                assert record["source"], where
                assert isinstance(record["text"], str) and record["text"].strip(), where
                if record["is_issue"]:
                    assert record["department"] in DEPARTMENTS, where
                    assert set(record["also"]) <= set(DEPARTMENTS), where
                    assert record["urgency"] in ("urgent", "normal", None), where
                else:
                    assert record["department"] is None and record["also"] == [], where


def test_ids_are_unique_and_every_department_is_taught():
    records = read_corpus()
    ids = Counter(r["id"] for r in records)
    assert [i for i, n in ids.items() if n > 1] == []
    per_department = Counter(r["department"] for r in records if r["is_issue"])
    assert set(per_department) == set(DEPARTMENTS)
    assert min(per_department.values()) >= 50
    assert sum(not r["is_issue"] for r in records) >= 500
    assert sum(r.get("urgency") == "urgent" for r in records) >= 150
