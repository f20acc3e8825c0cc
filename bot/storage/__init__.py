"""Storage: SQLModel tables and database sessions (SQLite by default, any SQLAlchemy URL)."""
