"""These tests are about PostgreSQL itself (several bot processes on one database), so they use it
whatever GRIDBOT_TEST_DB says. Without PostgreSQL they skip, except in CI, where that is a failure."""
import pytest

from tests.databases import database_factory


@pytest.fixture
def pg_db(tmp_path):
    yield from database_factory(tmp_path, backend="postgresql")
