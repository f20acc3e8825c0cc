"""Test databases: a fresh SQLite file per test, or — with GRIDBOT_TEST_DB=postgresql — a fresh
PostgreSQL database per test, created and dropped here (PostgreSQL on 127.0.0.1:5432 by default,
GRIDBOT_TEST_PG_URL to change)."""
from __future__ import annotations

import os
import uuid

import pytest

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

BACKEND = os.environ.get("GRIDBOT_TEST_DB", "sqlite")
PG_ADMIN_URL = os.environ.get("GRIDBOT_TEST_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/postgres")


class PostgresUnavailable(RuntimeError):
    pass


def unavailable(reason: str) -> None:
    """A service or optional package the test needs is missing: a skip on a developer's machine,
    a failure in CI (CI=true), where PostgreSQL, Node and the wechaty SDK are always installed."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"required in CI: {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)     # also from a module that needs it to import


def database_factory(tmp_path, backend: str = BACKEND):
    """A pytest fixture body: yields new(name) → URL of a fresh database; drops them afterwards."""
    databases = Databases(tmp_path, backend)

    def new(name: str = "bot") -> str:
        try:
            return databases.new(name)
        except PostgresUnavailable as err:
            unavailable(str(err))

    yield new
    databases.drop_all()


class Databases:
    def __init__(self, tmp_path, backend: str = BACKEND) -> None:
        self.tmp_path = tmp_path
        self.backend = backend
        self.created: list[str] = []

    def new(self, name: str = "bot") -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp_path / (name + '.db')}"
        db = f"gridbot_test_{uuid.uuid4().hex[:12]}"
        try:
            admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{db}"'))
            admin.dispose()
        except Exception as err:                          # noqa: BLE001 — reported as unavailable
            raise PostgresUnavailable(f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {err}") from err
        self.created.append(db)
        return make_url(PG_ADMIN_URL).set(database=db).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for db in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()
