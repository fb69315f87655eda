"""One leader across the service's processes: the process that runs the background work (indexer, relayer,
anchoring) while the others only store and enqueue.

On PostgreSQL the leader holds a session advisory lock (`pg_try_advisory_lock`) on a connection of its own:
when the process dies its connection closes, the lock is free, and another process takes it at its next try
(every `interval` seconds). On SQLite, which serves one process, a file lock beside the database plays the same
part (so a second process by mistake never sends transactions too).

    leadership = leadership_for(engine)
    worker = LeaderWorker(leadership, on_gain=start_work, on_loss=stop_work, interval=1.0)
    worker.start() ... worker.stop()
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, Engine, text

from service.background import BackgroundWorker

log = logging.getLogger(__name__)

LEADER_LOCK_KEY = 0x4855_424C_4541_4452  # "HUBLEADR"


class Leadership(Protocol):
    def try_acquire(self) -> bool:
        """Become (or stay) the leader: True while this process holds leadership."""
        ...

    def release(self) -> None: ...


def leadership_for(engine: Engine) -> Leadership:
    """An advisory lock on PostgreSQL, a file lock beside a SQLite file, always the leader in memory."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        return FileLock(Path(database).with_name(Path(database).name + ".leader"))
    return AlwaysLeader()


class AdvisoryLock:
    """Leadership as a PostgreSQL session advisory lock on a dedicated connection."""

    def __init__(self, engine: Engine, key: int = LEADER_LOCK_KEY) -> None:
        self.engine = engine
        self.key = key
        self._connection: Connection | None = None

    def try_acquire(self) -> bool:
        if self._connection is not None:
            try:  # still holding it? (the connection may have died with the server or the network)
                self._connection.execute(text("SELECT 1"))
                return True
            except Exception:  # noqa: BLE001 - any failure means the lock is lost with the connection
                log.warning("leadership: the connection holding the lock was lost")
                self._drop()
        try:  # autocommit: the lock is the session's, and the connection never sits idle in a transaction
            connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except Exception:  # noqa: BLE001 - the database is down: not the leader now
            return False
        try:
            held = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar())
        except Exception:  # noqa: BLE001
            connection.close()
            return False
        if not held:
            connection.close()
            return False
        self._connection = connection
        return True

    def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # closing the connection releases it too
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            self._drop()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.invalidate()
                connection.close()
            except Exception:  # noqa: BLE001
                pass


class FileLock:
    """Leadership as an exclusive flock on a file (one host, e.g. beside a SQLite database)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] | None = None

    def try_acquire(self) -> bool:
        if self._file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held open while leading
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None


class AlwaysLeader:
    """One process by construction (an in-memory database)."""

    def try_acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


class LeaderWorker(BackgroundWorker):
    """Tries to lead every `interval` seconds; calls `on_gain()` when it becomes the leader, `on_loss()` when it
    stops being one (and at stop)."""

    def __init__(
        self, leadership: Leadership, *, on_gain: Callable[[], None], on_loss: Callable[[], None], interval: float = 1.0
    ) -> None:
        super().__init__("hub-leader")
        self.leadership = leadership
        self.on_gain = on_gain
        self.on_loss = on_loss
        self.interval = interval
        self.leading = False

    def stop(self, timeout: float | None = None) -> None:
        super().stop(timeout)
        self._lose()

    def _run(self) -> None:
        while not self._stopping.is_set():
            held = self.leadership.try_acquire()
            if held and not self.leading:
                log.info("leadership: this process (pid %s) leads the background work now", os.getpid())
                self.leading = True
                try:
                    self.on_gain()
                except Exception:  # noqa: BLE001 - give it up: another process (or the next try) does better
                    log.exception("leadership: starting the background work failed")
                    self._lose()
            elif not held and self.leading:
                log.warning("leadership: lost; the background work stops in this process")
                self._lose()
            self._stopping.wait(self.interval)

    def _lose(self) -> None:
        if self.leading:
            self.leading = False
            try:
                self.on_loss()
            finally:
                self.leadership.release()
