"""Create or migrate the schema to the newest revision: at start-up (HUB_MIGRATE_AT_START, the default) or as an
explicit step (`hub db upgrade`), and check that it is there (`check_at_head`, when the service does not migrate).

Several processes may start at once on one database (service replicas, `hub keys` beside the service): the
upgrade runs under a lock, so they migrate one after another and the later ones find the schema at head. On
PostgreSQL the lock is a session-level advisory lock held by the migration's connection until the upgrade is
committed; on a SQLite file it is an flock on `<database file>.migrate.lock`. An in-memory SQLite database
belongs to one process and needs none; other databases get no lock.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

# The advisory lock's key: any fixed 64-bit number that nothing else on the server uses ("hub_migr" in ASCII).
ADVISORY_LOCK_KEY = 0x6875625F6D696772


class SchemaNotAtHead(RuntimeError):
    """The database's schema is not the revision this version of the service needs."""

    def __init__(self, current: str | None, head: str, known: bool) -> None:
        self.current = current
        self.head = head
        if known:
            message = (
                f"the database schema is at revision {current or 'none (an empty database)'}, the service "
                f"needs {head}: run `hub db upgrade` (or start with HUB_MIGRATE_AT_START=true)"
            )
        else:
            message = (
                f"the database schema is at revision {current}, which this version of the service does not "
                f"know (it needs {head}): a newer version migrated it"
            )
        super().__init__(message)


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def head_revision() -> str:
    """The newest revision of the migrations: the schema this version of the service needs."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations"
    return head


def current_revision(engine: Engine) -> str | None:
    """The database's revision; None for an empty database (no alembic_version table)."""
    with engine.connect() as connection:
        return _current(connection)


def _current(connection: Connection) -> str | None:
    heads = MigrationContext.configure(connection).get_current_heads()
    return heads[0] if heads else None


def migrate(engine: Engine) -> None:
    """Bring the database at `engine` to the newest schema (creates it when empty); safe when several processes
    call it at once (see the module's docstring)."""
    config = alembic_config()
    with _alone(engine) as connection, connection.begin():
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def check_at_head(engine: Engine) -> None:
    """Refuse a database whose schema is not the newest revision.

    :raises SchemaNotAtHead: the database is empty, not yet upgraded, or migrated by a newer version.
    """
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaNotAtHead(current, head, known=current is None or _known(current))


def _known(revision: str) -> bool:
    try:
        ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except CommandError:
        return False
    return True


@contextmanager
def _alone(engine: Engine) -> Iterator[Connection]:
    """A connection to migrate on, while no other process migrates the same database."""
    database = engine.url.database
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            try:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
                connection.commit()
                yield connection  # the upgrade commits before the lock is released: the next one sees it
            finally:
                _unlock(connection)
    elif engine.dialect.name == "sqlite" and database and database != ":memory:" and not database.startswith("file:"):
        with open(f"{database}.migrate.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed, also when the process dies
            with engine.connect() as connection:
                yield connection
    else:
        with engine.connect() as connection:
            yield connection


def _unlock(connection: Connection) -> None:
    try:
        if connection.in_transaction():
            connection.rollback()
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
        connection.commit()
    except Exception:  # any failure: closing the connection is the remedy
        # a session-level lock outlives a rollback: never give this connection back to the pool holding it;
        # closed, its session ends and the server releases the lock
        log.warning("could not release the migration lock: its connection is closed instead", exc_info=True)
        connection.invalidate()
