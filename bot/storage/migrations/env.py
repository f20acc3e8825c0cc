"""Alembic environment: gridbot runs migrations programmatically (bot.storage.db.upgrade) on the
connection it passes in; there is no alembic.ini."""
from alembic import context
from sqlmodel import SQLModel

from bot.storage import models  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata
connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=target_metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
