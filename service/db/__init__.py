"""Persistence: SQLAlchemy 2 models, engine and sessions, schema migrations (alembic)."""
