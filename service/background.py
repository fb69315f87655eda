"""One background thread per long-lived worker (event indexer, chain head watcher, anchoring worker)."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class BackgroundWorker:
    """Runs `_run` in a daemon thread between `start()` and `stop()`.

    Subclasses call `super().__init__(name)`, implement `_run` (loop until `self._stopping` is set) and
    may override `_wake` to interrupt a blocking wait when asked to stop.
    """

    def __init__(self, thread_name: str, stop_timeout: float = 10) -> None:
        self._thread_name = thread_name
        self._stop_timeout = stop_timeout
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (no-op when it runs)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to stop and wait for it (no-op when it does not run)."""
        self._stopping.set()
        self._wake()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(self._stop_timeout if timeout is None else timeout)
            if thread.is_alive():
                log.warning("%s did not stop in time", self._thread_name)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _wake(self) -> None:
        """Interrupt a blocking wait of `_run` (nothing to do for loops that wait on `_stopping`)."""

    def _run(self) -> None:
        raise NotImplementedError
