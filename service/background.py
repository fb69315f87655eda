"""One background thread per long-lived worker (event indexer, chain head watcher, anchoring worker, leader)."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class BackgroundWorker:
    """Runs `_run` in a daemon thread between `start()` and `stop()`.

    Subclasses call `super().__init__(name)`, implement `_run` (loop until `self._stopping` is set) and
    may override `_wake` to interrupt a blocking wait when asked to stop.

    Each thread has a stop event of its own, which `self._stopping` gives inside it: a thread that did not stop in
    time (stuck in a call to the node) still sees itself stopped after a later `start()`, so two threads of one
    worker never run on together.
    """

    def __init__(self, thread_name: str, stop_timeout: float = 10) -> None:
        self._thread_name = thread_name
        self._stop_timeout = stop_timeout
        self._current = threading.Event()  # the stop event of the thread started last
        self._events: dict[int, threading.Event] = {}  # thread ident -> its stop event
        self._thread: threading.Thread | None = None

    @property
    def _stopping(self) -> threading.Event:
        """The calling thread's stop event (the newest thread's, outside the worker's threads)."""
        return self._events.get(threading.get_ident(), self._current)

    def start(self) -> None:
        """Start the thread (no-op when it runs and was not asked to stop)."""
        if self._thread is not None and self._thread.is_alive() and not self._current.is_set():
            return
        event = self._current = threading.Event()
        self._thread = threading.Thread(target=self._run_with, args=(event,), name=self._thread_name, daemon=True)
        self._thread.start()

    def _run_with(self, event: threading.Event) -> None:
        self._events[threading.get_ident()] = event
        try:
            self._run()
        finally:
            self._events.pop(threading.get_ident(), None)

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to stop and wait for it (no-op when it does not run)."""
        self._current.set()
        self._wake()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(self._stop_timeout if timeout is None else timeout)
            if thread.is_alive():
                log.warning("%s did not stop in time; it stops after the call in hand", self._thread_name)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._current.is_set()

    def _wake(self) -> None:
        """Interrupt a blocking wait of `_run` (nothing to do for loops that wait on `_stopping`)."""

    def _run(self) -> None:
        raise NotImplementedError
