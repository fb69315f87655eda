"""Engine and sessions. SQLite by default (WAL, foreign keys on); any SQLAlchemy URL by setting."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import orjson
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

# JSON columns (credential documents) written and read by orjson: the same JSON, a 10,000 cohort's
# documents in a fraction of the standard library's time.
_JSON: dict[str, Any] = {
    "json_serializer": lambda value: orjson.dumps(value).decode(),
    "json_deserializer": orjson.loads,
}


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **_JSON)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    # TCP keepalives on both ends of each PostgreSQL connection: the client notices a server gone, and the server
    # (its session settings, passed as options) a process gone in a network partition within about a minute: its
    # session ends and the leader's advisory lock with it, instead of after hours of the system's TCP timeout.
    # A pool of 10 (+10 in bursts) per process: several processes stay under PostgreSQL's 100 connections.
    keepalive = {
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        "options": "-c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3",
    }
    if url.startswith("postgresql"):
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, connect_args=keepalive, **_JSON)
    return create_engine(url, pool_pre_ping=True, **_JSON)


class DatabaseInUse(RuntimeError):
    """A SQLite database file is served by another process already."""


def claim_sqlite(engine: Engine) -> IO[str] | None:
    """SQLite serves one service process: claim the database file for this one (a POSIX record lock beside it,
    held until the returned file is closed or the process ends). None for an in-memory database or PostgreSQL.

    :raises DatabaseInUse: another process holds it (its pid in the message)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    path = Path(database).with_name(Path(database).name + ".process")
    handle = open(path, "a+")  # noqa: SIM115 - held open while the service runs
    try:
        fcntl.lockf(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise DatabaseInUse(
            f"the SQLite database {database} is served by process {holder} already: SQLite serves one service "
            "process; to run several (API replicas, `hub worker`), use PostgreSQL (HUB_DATABASE_URL="
            "postgresql+psycopg://...)"
        ) from exc
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits at the end of the block, or rolls back on an exception."""
    with factory() as session, session.begin():
        yield session


def database_ok(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - health reports any failure as "not ok"
        return False


def dialect_insert(session: Session) -> Callable[[Any], Any]:
    """The INSERT with ON CONFLICT of the session's database (PostgreSQL's or SQLite's)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"no INSERT ... ON CONFLICT for {dialect}")
