"""Shared fixtures: the classifier (jieba loaded once per run), fresh databases on the chosen backend
(SQLite, or PostgreSQL with GRIDBOT_TEST_DB=postgresql), and a fresh bot per test."""
from datetime import datetime

import pytest

import nlp
from tests.databases import BACKEND, database_factory
from tests.harness import TZ, Harness


def pytest_report_header(config):
    return f"gridbot test database: {BACKEND}"


@pytest.fixture(scope="session")
def classifier(tmp_path_factory):
    return nlp.load(cache_dir=tmp_path_factory.mktemp("jieba-cache"))


@pytest.fixture
def new_db(tmp_path):
    """new_db("name") → the URL of a fresh, empty database on the chosen backend."""
    yield from database_factory(tmp_path)


@pytest.fixture
def harness(new_db, classifier) -> Harness:
    # Wednesday 2026-11-25 09:00 in the county.
    return Harness(new_db(), classifier, datetime(2026, 11, 25, 9, 0, tzinfo=TZ))
