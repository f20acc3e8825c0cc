"""Engines, sessions and schema migrations from an SQLAlchemy URL (SQLite by default, PostgreSQL in
production). A new database gets the current schema at once; an older one is migrated."""
from __future__ import annotations

import fcntl
import os
import weakref
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, inspect
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlmodel import Session, SQLModel, create_engine

from bot.storage import models  # noqa: F401  (registers the tables)

DEFAULT_URL = "sqlite:///gridbot.db"
MIGRATIONS = Path(__file__).with_name("migrations")
SCHEMA_LOCK, ORG_IMPORT_LOCK = 74657, 74658      # PostgreSQL advisory lock keys ("gridbot schema", "… org")


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
    Concurrent starters serialise (see `serialise`)."""
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # A batch migration may rebuild a table (copy, drop, rename): with foreign keys enforced,
            # dropping a table other rows point to fails. Off for the migration (SQLite ignores the
            # pragma inside a transaction, so before it begins), checked and on again after.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin():
                serialise(conn, SCHEMA_LOCK)
                config = alembic_config(conn)
                current = MigrationContext.configure(conn).get_current_revision()
                if current is None and not inspect(conn).has_table("ticket"):
                    SQLModel.metadata.create_all(conn)
                    command.stamp(config, "head")
                elif current != head_revision():
                    command.upgrade(config, "head")
                    if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                        raise RuntimeError("database upgrade left rows pointing to missing rows")
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()
    return head_revision()


def session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


def serialise(conn: Connection, key: int) -> None:
    """Make the rest of this transaction run alone among the transactions that serialise on `key`,
    across processes, so that what it reads first is still true when it writes. PostgreSQL: the
    advisory lock `key`, held until commit. SQLite: the database's write lock, taken now with
    BEGIN IMMEDIATE rather than at the first write (pysqlite begins a transaction only before a
    write, so one already begun holds that lock)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({key})")
    elif conn.dialect.name == "sqlite" and not conn.connection.dbapi_connection.in_transaction:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


# Bot processes on one SQLite file: at most one. Row locks (`FOR UPDATE`, `SKIP LOCKED`) that keep a
# command in one process from interleaving with the sweep in another do nothing on SQLite, and SQLite
# runs one writer at a time anyway; several processes need PostgreSQL. The guard is an exclusive OS
# lock on `<file>.lock`, which the kernel drops when the process dies (SIGKILL included), so a restart
# is never refused by a dead process. Within one process it is shared: tests run several bots on one
# file, one after another or side by side. lock file → [fd, holders]
_SOLE_USERS: dict[str, list[int]] = {}


def hold_sole_use(db: str | URL, holder: object | None = None) -> None:
    """Reserve an SQLite database file for this process while `holder` lives (without one: for the
    rest of the process); raises ConfigError with the Chinese sentence to show when another process
    has it. Other backends: nothing."""
    url = make_url(db)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    lock = os.path.realpath(url.database) + ".lock"
    held = _SOLE_USERS.get(lock)
    if held is None:
        Path(lock).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            from bot.config import ConfigError    # bot.config imports this module

            raise ConfigError(f"已有另一个 gridbot 进程在使用 {Path(url.database).name}；SQLite 只支持一个进程，"
                              "多进程请用 PostgreSQL（--db postgresql+psycopg://…）") from None
        held = _SOLE_USERS[lock] = [fd, 0]
    held[1] += 1
    if holder is not None:
        weakref.finalize(holder, _give_up_sole_use, lock)


def _give_up_sole_use(lock: str) -> None:
    held = _SOLE_USERS[lock]
    held[1] -= 1
    if held[1] == 0:
        os.close(held[0])
        del _SOLE_USERS[lock]
