"""The chain's head, followed by a background thread: the freshness bound of the verifier's cache."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from service.background import BackgroundWorker
from service.chain.jsonrpc import JsonRpc
from service.errors import ChainUnavailable

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 0.1  # seconds between two polls of the head
DEFAULT_MAX_AGE = 0.25  # seconds a sighting of the head stays good enough to answer from the cache

Clock = Callable[[], float]


@dataclass(frozen=True)
class Head:
    """The latest block as seen at `seen_at` (this process's monotonic clock, when the question was sent)."""

    number: int
    hash: bytes
    timestamp: int
    seen_at: float


def fetch_head(rpc: JsonRpc) -> tuple[int, bytes, int]:
    """The latest block's number, hash and timestamp: one `eth_getBlockByNumber("latest", false)`.

    :raises ChainUnavailable: when the node does not answer.
    """
    return _head_of(rpc.call("eth_getBlockByNumber", ["latest", False]))


async def afetch_head(rpc: JsonRpc) -> tuple[int, bytes, int]:
    """The same, on the event loop."""
    return _head_of(await rpc.acall("eth_getBlockByNumber", ["latest", False]))


def _head_of(block: Any) -> tuple[int, bytes, int]:
    if not isinstance(block, dict):
        raise ChainUnavailable("the chain node gave no latest block")
    return int(block["number"], 16), bytes.fromhex(block["hash"][2:]), int(block["timestamp"], 16)


class BlockHead(BackgroundWorker):
    """Follows the chain's head: a daemon thread polls it every `interval` seconds (start/stop).

    `fresh()` is the head when it was seen within `max_age` seconds, else None: a caller that gets
    None must ask the node itself (and may report what it saw with `observe`). Listeners registered
    with `on_change` are called (in the observing thread) when the head's hash changes.
    """

    def __init__(
        self,
        fetch: Callable[[], tuple[int, bytes, int]],
        *,
        interval: float = DEFAULT_INTERVAL,
        max_age: float = DEFAULT_MAX_AGE,
        clock: Clock = time.monotonic,
        afetch: Callable[[], Awaitable[tuple[int, bytes, int]]] | None = None,
    ) -> None:
        if interval <= 0 or max_age <= 0:
            raise ValueError("interval and max_age must be positive")
        super().__init__("hub-block-head", stop_timeout=5)
        self._fetch = fetch
        self._afetch = afetch
        self.interval = interval
        self.max_age = max_age
        self._clock = clock
        self._head: Head | None = None
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._listeners: list[Callable[[Head], None]] = []
        self.failures = 0  # polls in a row that failed
        self._slow_warned = False

    @classmethod
    def of(cls, rpc: JsonRpc, **options: Any) -> BlockHead:
        """A watcher of the chain `rpc` talks to."""
        return cls(lambda: fetch_head(rpc), afetch=lambda: afetch_head(rpc), **options)

    # ---------------------------------------------------------------- reading

    @property
    def head(self) -> Head | None:
        """The last head seen, however old."""
        return self._head

    def fresh(self, since: float | None = None) -> Head | None:
        """The head, when it was seen within `max_age` seconds (and not before `since`); else None."""
        head = self._head
        if head is None:
            return None
        if self._clock() - head.seen_at > self.max_age or (since is not None and head.seen_at < since):
            return None
        return head

    def now(self) -> float:
        return self._clock()

    # ---------------------------------------------------------------- observing

    def poll(self) -> Head:
        """Ask the node for the head now, record and return it.

        :raises ChainUnavailable: when the node does not answer.
        """
        sent_at = self._clock()
        number, block_hash, timestamp = self._fetch()
        head = Head(number, block_hash, timestamp, sent_at)
        self.observe(head)
        self._check_round_trip(sent_at)
        return head

    def _check_round_trip(self, sent_at: float) -> None:
        if self._clock() - sent_at > self.max_age and not self._slow_warned:
            self._slow_warned = True
            log.warning(
                "the node took longer than max_age (%.2f s) to give its head: answers will rarely come "
                "from the cache; raise HUB_HEAD_MAX_AGE above the node's round trip",
                self.max_age,
            )

    async def apoll(self) -> Head:
        """`poll`, on the event loop.

        :raises ChainUnavailable: when the node does not answer.
        """
        if self._afetch is None:
            return await asyncio.to_thread(self.poll)
        sent_at = self._clock()
        number, block_hash, timestamp = await self._afetch()
        head = Head(number, block_hash, timestamp, sent_at)
        self.observe(head)
        return head

    def observe(self, head: Head) -> None:
        """Record a sighting of the head; an older sighting than the one held is ignored."""
        with self._lock:
            current = self._head
            if current is not None and head.seen_at < current.seen_at:
                return
            self._head = head
            changed = current is None or current.hash != head.hash
            listeners = list(self._listeners) if changed else []
            if changed:
                self._changed.notify_all()
        for listener in listeners:
            listener(head)

    def on_change(self, listener: Callable[[Head], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def wait_for(self, number: int, timeout: float = 5.0) -> Head | None:
        """Wait until a head at `number` or later was seen; return it, or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._head is None or self._head.number < number:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(remaining)
            return self._head

    # ---------------------------------------------------------------- the thread

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.poll()
                self.failures = 0
            except Exception as exc:  # noqa: BLE001 - keep watching; requests fall back to live calls
                self.failures += 1
                if self.failures in (1, 10) or self.failures % 600 == 0:
                    log.warning("the block head watcher cannot read the chain (%s in a row): %s", self.failures, exc)
            self._stopping.wait(self.interval)
