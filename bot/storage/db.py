"""Engines, sessions and schema migrations from an SQLAlchemy URL (SQLite by default, PostgreSQL in
production). A new database gets the current schema at once; an older one is migrated."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, inspect
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session, SQLModel, create_engine

from bot.storage import models  # noqa: F401  (registers the tables)

DEFAULT_URL = "sqlite:///gridbot.db"
MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str = DEFAULT_URL, *, migrate: bool = True) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    if migrate:
        upgrade(engine)
    return engine


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Bring the schema to the newest migration. An empty database gets the whole schema in one step
    and is stamped (Alembic's recipe for building a database from scratch); others run migrations.
    Concurrent starters on PostgreSQL serialise on an advisory lock."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(74657)")   # "gridbot schema"
        config = alembic_config(conn)
        current = MigrationContext.configure(conn).get_current_revision()
        if current is None and not inspect(conn).has_table("ticket"):
            SQLModel.metadata.create_all(conn)
            command.stamp(config, "head")
        elif current != head_revision():
            command.upgrade(config, "head")
    return head_revision()


def session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)
