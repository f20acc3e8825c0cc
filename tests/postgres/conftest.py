"""These tests are about PostgreSQL itself (several bot processes on one database), so they use it
whatever GRIDBOT_TEST_DB says. Without PostgreSQL they skip, except in CI, where that is a failure."""
import os

import pytest

from tests.databases import Databases, PostgresUnavailable


@pytest.fixture
def pg_db(tmp_path):
    databases = Databases(tmp_path, backend="postgresql")

    def new(name: str = "bot") -> str:
        try:
            return databases.new(name)
        except PostgresUnavailable as err:
            if os.environ.get("CI") == "true":
                raise
            pytest.skip(str(err))

    yield new
    databases.drop_all()
