"""Shared fixtures: the classifier (jieba loaded once per run) and a fresh bot per test."""
from datetime import datetime

import pytest

import nlp
from tests.harness import TZ, Harness


@pytest.fixture(scope="session")
def classifier(tmp_path_factory):
    return nlp.load(cache_dir=tmp_path_factory.mktemp("jieba-cache"))


@pytest.fixture
def harness(tmp_path, classifier) -> Harness:
    # Wednesday 2026-11-25 09:00 in the county.
    return Harness(f"sqlite:///{tmp_path / 'bot.db'}", classifier, datetime(2026, 11, 25, 9, 0, tzinfo=TZ))
