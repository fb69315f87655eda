"""A throwaway PostgreSQL cluster for the test session: the `postgres` fixture (registered in tests/conftest.py).

    def test_something(postgres: Postgres) -> None:
        url = postgres.new_database()   # a fresh empty database: postgresql+psycopg://postgres@127.0.0.1:<port>/hub_<n>

initdb into a temporary directory (trust authentication), pg_ctl start on a free port on 127.0.0.1 with its
unix socket in that directory, pg_ctl stop -m fast at the end of the session. PostgreSQL refuses to run as root,
so as root the cluster belongs to and runs as the `postgres` user of the Debian package. It accepts
MAX_CONNECTIONS connections: enough for several service processes (each with its pool) and the tests.
PostgreSQL comes from the system (`apt-get install postgresql`, scripts/setup does it as root). Without it the
tests that take `postgres` are skipped, except in CI (CI set), where they fail.

Outside pytest (bench/network.py): `with cluster() as postgres: ...` (raises PostgresUnavailable without it).
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import NoReturn

import pytest

MAX_CONNECTIONS = 200
AS_ROOT = os.geteuid() == 0


class Postgres:
    """A running cluster: `postgres` may connect to any database of it without a password."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._names = itertools.count(1)

    def url(self, database: str, driver: str = "postgresql+psycopg") -> str:
        """The SQLAlchemy URL of `database` (driver "postgresql" gives a libpq URL, for psycopg itself)."""
        return f"{driver}://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create a new empty database; its SQLAlchemy URL (postgresql+psycopg)."""
        import psycopg

        name = f"hub_{next(self._names)}"
        with psycopg.connect(self.url("postgres", "postgresql"), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL is required in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def _bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin with initdb and pg_ctl."""
    found = [
        Path(d)
        for d in glob.glob("/usr/lib/postgresql/*/bin")
        if (Path(d) / "initdb").exists() and (Path(d) / "pg_ctl").exists()
    ]
    found.sort(key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0)
    return found[-1] if found else None


def _run(*command: str | Path) -> None:
    argv = [str(part) for part in command]
    if AS_ROOT:
        argv = ["runuser", "-u", "postgres", "--", *argv]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server or driver on this machine; the message says what to install."""


@contextmanager
def cluster() -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (a free port), trust authentication for `postgres`; stopped and
    removed at the end.

    :raises PostgresUnavailable: no server under /usr/lib/postgresql/*/bin, or no psycopg.
    """
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise PostgresUnavailable("no PostgreSQL server under /usr/lib/postgresql/*/bin: apt-get install -y postgresql")
    try:
        import psycopg  # noqa: F401 - only whether the driver is there
    except ImportError as exc:
        raise PostgresUnavailable("no PostgreSQL driver: pip install -e '.[dev]' (psycopg[binary])") from exc
    root = Path(tempfile.mkdtemp(prefix="hub-pg-"))  # not under pytest's tmp: that is private to root
    data, sockets, log = root / "data", root / "sockets", root / "postgresql.log"
    sockets.mkdir()
    if AS_ROOT:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(sockets, "postgres", "postgres")
    port = _free_port()
    try:
        _run(
            bin_dir / "initdb",
            "-D",
            data,
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} -c fsync=off -c full_page_writes=off "
            f"-c max_connections={MAX_CONNECTIONS}"
        )
        _run(bin_dir / "pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "-t", "60", "start")
    except BaseException:
        if log.exists():
            print(log.read_text())
        shutil.rmtree(root, ignore_errors=True)
        raise
    try:
        yield Postgres(port)
    finally:
        _run(bin_dir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (a free port), trust authentication for `postgres`."""
    with ExitStack() as stack:
        try:
            running = stack.enter_context(cluster())
        except PostgresUnavailable as exc:
            _unavailable(str(exc))
        yield running
