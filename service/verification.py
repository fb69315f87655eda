"""The verifier's chain facts, cached per block: what `POST /verify` asks the registry.

The registry's `verify(root, digest, proof)` view answers every chain fact of a credential in one
`eth_call`; its answer can change only with a new block. So the answers are cached per block:

    cache = VerificationCache.for_hub(rpc_url, registry_address, chain_id)
    cache.start()                        # a thread polls the latest block every `interval` seconds
    verify_credential(raw, cache)        # the cache is the verifier's ChainFacts provider

Freshness. The cache is keyed by the hash of the head block (a new block, a reorganisation or a test
chain's `evm_revert` all change it) and emptied when the head changes. An answer is served from the
cache only while the watcher has seen that head within `max_age` seconds (the time counts from when
the question was *sent*, the conservative end); otherwise the request asks the node itself (the live
fallback: one `eth_getBlockByNumber` and one `eth_call`) and its sighting of the head refreshes the
watcher. So an answer never reflects a head older than `max_age` (the service's HUB_HEAD_MAX_AGE, 5 s by
default, with the head polled every HUB_HEAD_INTERVAL, 2 s: at most about one block of a 2 s chain, and under
one call a second of idle load; lower both for a tighter bound). `clear()` (called after a revocation made
through the API) empties the cache at once *and* refuses every head seen before it, so the very next
request reads the chain after the revocation.

Only answers for anchored batches are cached. "Not anchored" is always read at the node's latest block
at request time, so a cohort anchored just before is never reported as not anchored; what can change
for an anchored credential within `max_age` is a revocation made outside the hub.

Each answer is read pinned to the head's block number and reports that block and its timestamp (chain
time for the validity window), exactly as a live `RegistryChainFacts` does.

Two ways in: `cache(root, digest, path)` blocks (threads, the ChainFacts protocol), `await cache.ask(...)`
runs on the event loop (POST /verify), where concurrent requests for the same answer at the same head
share one eth_call. Both reach the node through `JsonRpc` and `RegistryView` below, not web3.py: the
registry's answer decoded from one raw eth_call costs about 0.3 ms of CPU, web3's contract call about 6.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import re
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlsplit

import aiohttp
import eth_abi
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from service.background import BackgroundWorker
from service.chain.artifacts import load_artifact
from service.credentials.facts import AnchorMode, ChainSnapshot, CredentialStatus, RegistryTrust
from service.credentials.receipt import AnchorReceipt, ReceiptCache
from service.errors import ChainRejected, ChainUnavailable

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 0.1  # seconds between two polls of the head
DEFAULT_MAX_AGE = 0.25  # seconds a sighting of the head stays good enough to answer from the cache
DEFAULT_MAX_ENTRIES = 100_000  # answers kept per block; beyond that answers are read but not kept
RPC_TIMEOUT = 10.0  # seconds for one JSON-RPC request of the verifier

Clock = Callable[[], float]


class JsonRpc:
    """A lean JSON-RPC client over HTTP(S) keep-alive: one `http.client` connection per thread, and an
    aiohttp pool for the event loop (`acall`).

    The verifier's two questions (the head, and the registry's `verify` view) go through it rather than
    through web3.py, whose provider costs about 1 ms of CPU a request and whose contract call about
    6 ms (encoding, middleware, formatters); this costs about 0.2 ms.
    """

    def __init__(self, url: str, *, timeout: float = RPC_TIMEOUT) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) JSON-RPC URL: {url}")
        self.url = url
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if parts.username is not None:
            import base64

            credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            self._headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode()
        self.timeout = timeout
        self._local = threading.local()
        self._connections: list[http.client.HTTPConnection] = []
        self._connections_lock = threading.Lock()
        self._ids = iter(range(1, 2**62))
        self._async_session: aiohttp.ClientSession | None = None
        self._async_loop: asyncio.AbstractEventLoop | None = None

    def call(self, method: str, params: list[Any]) -> Any:
        """The `result` of one JSON-RPC request (blocking: from a thread, not the event loop).

        :raises ChainUnavailable: when the node cannot be reached, answers with an HTTP error or
            something that is not JSON-RPC.
        :raises JsonRpcError: when the node answers with a JSON-RPC error.
        """
        body = self._body(method, params)
        for attempt in (1, 2):  # a kept-alive connection the node closed meanwhile fails once
            connection = self._connection()
            try:
                connection.request("POST", self._path, body=body, headers=self._headers)
                response = connection.getresponse()
                data = response.read()
                status = response.status
                break
            except (OSError, http.client.HTTPException) as exc:
                self._discard(connection)
                if attempt == 2 or isinstance(exc, TimeoutError):
                    raise ChainUnavailable.no_answer(exc, method) from exc
        return self._result(method, status, data)

    async def acall(self, method: str, params: list[Any]) -> Any:
        """The same, on the event loop (aiohttp, a keep-alive pool per loop): no thread, no GIL hand-offs.

        :raises ChainUnavailable: as `call`.
        :raises JsonRpcError: as `call`.
        """
        body = self._body(method, params)
        session = self._session()
        try:
            async with session.post(self.url, data=body, headers=self._headers) as response:
                data = await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise ChainUnavailable.no_answer(exc, method) from exc
        return self._result(method, status, data)

    async def aclose(self) -> None:
        """Close the event loop's connections (in the app's lifespan)."""
        session, self._async_session = self._async_session, None
        if session is not None and not session.closed:
            await session.close()

    def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._async_session
        if session is None or session.closed or self._async_loop is not loop:
            session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout),
                                            connector=aiohttp.TCPConnector(limit=64))
            self._async_session, self._async_loop = session, loop
        return session

    def _body(self, method: str, params: list[Any]) -> bytes:
        return json.dumps({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}).encode()

    @staticmethod
    def _result(method: str, status: int, data: bytes) -> Any:
        if status != 200:
            raise ChainUnavailable(f"the chain node answered {method} with HTTP {status}")
        try:
            answer = json.loads(data)
        except ValueError as exc:
            raise ChainUnavailable(f"the chain node's answer to {method} is not JSON") from exc
        if not isinstance(answer, dict):
            raise ChainUnavailable(f"the chain node's answer to {method} is not JSON-RPC")
        if answer.get("error"):
            error = answer["error"]
            message = error.get("message", str(error)) if isinstance(error, dict) else str(error)
            raise JsonRpcError(f"{method}: {message}")
        if "result" not in answer:
            raise ChainUnavailable(f"the chain node's answer to {method} has no result")
        return answer["result"]

    def close(self) -> None:
        """Close every thread's connection (at shutdown: a call under way in another thread fails)."""
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()

    def _discard(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        self._local.connection = None
        with self._connections_lock:
            if connection in self._connections:
                self._connections.remove(connection)

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            connection = kind(self._host, self._port, timeout=self.timeout)
            self._local.connection = connection
            with self._connections_lock:
                self._connections.append(connection)
        return connection


class JsonRpcError(ChainUnavailable):
    """The node answered with a JSON-RPC error (for the `verify` view, which never reverts: no registry)."""


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


@lru_cache(maxsize=1024)
def _checksummed(address: str) -> str:
    return str(to_checksum_address(address))


Key = tuple[str, bytes, bytes, tuple[bytes, ...]]  # the verifier's question: (issuer, root, digest, Merkle path)


class RegistryView:
    """The registry's `verify(issuer, root, credentialDigest, proof)` view as one raw `eth_call` (see JsonRpc).

    Calldata and answer are encoded and decoded with eth_abi from the committed ABI
    (artifacts/CredentialRegistry.json); the answer is the same CredentialStatus as
    RegistryClient.verify gives (tests/api/test_verify_api.py compares them on a node).
    """

    def __init__(self, rpc: JsonRpc, address: str) -> None:
        self.rpc = rpc
        self.address = to_checksum_address(address)
        function = next(item for item in load_artifact("CredentialRegistry").abi
                        if item.get("type") == "function" and item.get("name") == "verify")
        self._inputs = [item["type"] for item in function["inputs"]]
        self._selector = function_signature_to_4byte_selector(f"verify({','.join(self._inputs)})")
        (output,) = function["outputs"]
        self._components = [item["type"] for item in output["components"]]
        self._output = "(" + ",".join(self._components) + ")"
        known = {item.name for item in fields(CredentialStatus)}
        self._names = [_snake(item["name"]) for item in output["components"]]
        missing = known - set(self._names)
        if missing:
            raise ValueError(f"the ABI's verify() answer lacks {sorted(missing)}")

    def verify(self, issuer: str, root: bytes, digest: bytes, proof: Sequence[bytes], *,
               block: int | str = "latest") -> CredentialStatus:
        """The registry's answer for one credential at `block` (a number, or "latest").

        :raises ChainUnavailable: when the node does not answer, or there is no registry at the address.
        """
        params = self._params(issuer, root, digest, proof, block)
        try:
            result = self.rpc.call("eth_call", params)
        except JsonRpcError as exc:
            raise ChainUnavailable(f"{self.address} is not a CredentialRegistry ({exc})") from exc
        return self._decode(result)

    def _decode_fast(self, raw: bytes) -> tuple[Any, ...] | None:
        """The answer tuple decoded by hand when it holds only bool, address, uintN and one string (as
        CredentialStatus does), with the checks eth_abi's strict decoder makes; None for other shapes."""
        types = self._components
        if not all(kind in ("bool", "address", "string") or re.fullmatch(r"uint(8|16|32|48|64|128|256)", kind)
                   for kind in types) or len(raw) < 32 * (1 + len(types)):
            return None
        if int.from_bytes(raw[:32], "big") != 32:  # the tuple is dynamic: its offset comes first
            raise ValueError("unexpected offset of the answer")
        head = raw[32:]
        values: list[Any] = []
        for index, kind in enumerate(types):
            word = head[32 * index:32 * index + 32]
            number = int.from_bytes(word, "big")
            if kind == "bool":
                if number > 1:
                    raise ValueError("not a bool")
                values.append(bool(number))
            elif kind == "address":
                if number >> 160:
                    raise ValueError("not an address")
                values.append("0x" + word[12:].hex())
            elif kind == "string":
                if number % 32 or number + 32 > len(head):
                    raise ValueError("bad string offset")
                length = int.from_bytes(head[number:number + 32], "big")
                if number + 32 + length > len(head):
                    raise ValueError("string runs past the answer")
                values.append(head[number + 32:number + 32 + length].decode("utf-8"))
            else:
                if number >> int(kind[4:]):
                    raise ValueError(f"not a {kind}")
                values.append(number)
        return tuple(values)

    async def averify(self, issuer: str, root: bytes, digest: bytes, proof: Sequence[bytes], *,
                      block: int | str = "latest") -> CredentialStatus:
        """The same, on the event loop.

        :raises ChainUnavailable: as `verify`.
        """
        params = self._params(issuer, root, digest, proof, block)
        try:
            result = await self.rpc.acall("eth_call", params)
        except JsonRpcError as exc:
            raise ChainUnavailable(f"{self.address} is not a CredentialRegistry ({exc})") from exc
        return self._decode(result)

    def _params(self, issuer: str, root: bytes, digest: bytes, proof: Sequence[bytes], block: int | str
                ) -> list[Any]:
        address = bytes.fromhex(issuer[2:]) if issuer.startswith("0x") and len(issuer) == 42 else b""
        if self._inputs == ["address", "bytes32", "bytes32", "bytes32[]"] and len(address) == 20 and all(
                len(item) == 32 for item in (root, digest, *proof)):
            # the ABI encoding written out: three words, the array's offset (4 words) and length, its words
            data = b"".join((self._selector, address.rjust(32, b"\x00"), root, digest, (128).to_bytes(32, "big"),
                             len(proof).to_bytes(32, "big"), *proof))
        else:
            data = self._selector + eth_abi.encode(self._inputs, [issuer, root, digest, list(proof)])
        return [{"to": self.address, "data": "0x" + data.hex()}, hex(block) if isinstance(block, int) else block]

    def _decode(self, result: Any) -> CredentialStatus:
        raw = bytes.fromhex(result[2:]) if isinstance(result, str) and result.startswith("0x") else b""
        if not raw:
            raise ChainUnavailable(f"no CredentialRegistry at {self.address}")
        try:
            values = self._decode_fast(raw)
            if values is None:
                (values,) = eth_abi.decode([self._output], raw)
        except Exception as exc:  # noqa: BLE001 - eth_abi raises several types for malformed data
            raise ChainUnavailable(f"{self.address} is not a CredentialRegistry: {exc}") from exc
        answer = dict(zip(self._names, values, strict=True))
        answer["issuer"] = _checksummed(answer["issuer"])
        answer["anchor_mode"] = AnchorMode(answer["anchor_mode"])
        return CredentialStatus(**{item.name: answer[item.name] for item in fields(CredentialStatus)})


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

    def __init__(self, fetch: Callable[[], tuple[int, bytes, int]], *, interval: float = DEFAULT_INTERVAL,
                 max_age: float = DEFAULT_MAX_AGE, clock: Clock = time.monotonic,
                 afetch: Callable[[], Awaitable[tuple[int, bytes, int]]] | None = None) -> None:
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
            log.warning("the node took longer than max_age (%.2f s) to give its head: answers will rarely come "
                        "from the cache; raise HUB_HEAD_MAX_AGE above the node's round trip", self.max_age)

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


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0  # read from the node pinned to the head the watcher saw (kept when anchored)
    live: int = 0  # read at the node's latest block: no fresh head (the fallback), or "not anchored"
    clears: int = 0  # explicit clear() calls
    blocks: int = 0  # head changes that emptied the cache


class VerificationCache:
    """The verifier's `ChainFacts` for the hub's own chain and registry, cached per block.

    It answers `verify(root, digest, proof)` like service.chain.registry.RegistryChainFacts does (one
    `eth_call`, with the block number and timestamp it was read at), from the cache while the head is
    fresh. See the module docstring for the freshness guarantee.
    """

    trust = RegistryTrust.CONFIGURED

    def __init__(self, registry: RegistryView, head: BlockHead, *, chain_id: int,
                 max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self.client = registry
        self.head = head
        self.chain_id = chain_id  # the hub's configured chain: no question to the node
        self.registry = to_checksum_address(registry.address)
        self.max_entries = max_entries
        self.stats = CacheStats()
        self._lock = threading.Lock()
        self._entries: dict[Key, ChainSnapshot] = {}
        self._block_hash: bytes | None = None
        self._generation = 0  # bumped by clear(): an answer read before it is never kept
        self._cleared_at = float("-inf")  # heads seen before this moment are not trusted
        self._in_flight: dict[Any, asyncio.Future[ChainSnapshot]] = {}  # reads under way (event loop only)
        head.on_change(self._head_changed)
        self._receipts: ReceiptCache | None = None

    @property
    def receipts(self) -> ReceiptCache:
        """Receipts of credentials' transactionHash, for the verifier's anchor_transaction check."""
        if self._receipts is None:
            self._receipts = ReceiptCache(self.client.rpc)
        return self._receipts

    def anchor_receipt(self, transaction_hash: str) -> AnchorReceipt:
        """The receipt of a credential's transactionHash, for the verifier (blocking)."""
        return self.receipts(transaction_hash)

    @classmethod
    def for_hub(cls, rpc_url: str, registry_address: str, chain_id: int, *, interval: float = DEFAULT_INTERVAL,
                max_age: float = DEFAULT_MAX_AGE) -> VerificationCache:
        """The cache of a hub: its registry on its chain (the node at `rpc_url`), with a head watcher
        (not started)."""
        rpc = JsonRpc(rpc_url)
        return cls(RegistryView(rpc, registry_address), BlockHead.of(rpc, interval=interval, max_age=max_age),
                   chain_id=chain_id)

    def start(self) -> None:
        """Start watching the head (in the app's lifespan)."""
        self.head.start()

    def stop(self) -> None:
        """Stop watching the head and close the blocking connections to the node."""
        self.head.stop()
        rpc = getattr(self.client, "rpc", None)
        if rpc is not None:
            rpc.close()

    async def aclose(self) -> None:
        """Close the event loop's connections to the node (in the app's lifespan, on its loop)."""
        rpc = getattr(self.client, "rpc", None)
        if rpc is not None:
            await rpc.aclose()

    def clear(self) -> None:
        """Forget every answer now, and every head seen until now: the next request reads the chain.

        Call it after a transaction that changes what `verify` answers (a revocation through the API).
        """
        with self._lock:
            self._entries.clear()
            self._generation += 1
            self._cleared_at = self.head.now()
            self.stats.clears += 1

    def __len__(self) -> int:
        return len(self._entries)

    # ---------------------------------------------------------------- ChainFacts

    def __call__(self, issuer: str, root: bytes, digest: bytes, path: Sequence[bytes]) -> ChainSnapshot:
        """The registry's answer for one credential (`issuer`'s batch `root`), from the cache when the head is
        fresh.

        :raises ChainUnavailable: when the node must be asked and does not answer.
        """
        key, head, generation, found = self._lookup(issuer, root, digest, path)
        if found is not None:
            return found
        if head is not None:
            snapshot = self._read(head, key)
            if snapshot.status.anchored:
                return self._keep(generation, head, key, snapshot)
            # "not anchored" may be a batch anchored after the head was seen: never answer it from a
            # sighting, ask at the node's latest block
        with self._lock:
            self.stats.live += 1
        head = self._live_head()
        snapshot = self._read(head, key)
        return self._keep(generation, head, key, snapshot) if snapshot.status.anchored else snapshot

    async def ask(self, issuer: str, root: bytes, digest: bytes, path: Sequence[bytes]) -> ChainSnapshot:
        """`self(issuer, root, digest, path)` on the event loop: the node is asked with asyncio I/O, and concurrent
        requests for the same answer at the same head share one eth_call.

        :raises ChainUnavailable: when the node must be asked and does not answer.
        """
        key, head, generation, found = self._lookup(issuer, root, digest, path)
        if found is not None:
            return found
        if head is not None:
            snapshot = await self._shared_read(head, key)
            if snapshot.status.anchored:
                return self._keep(generation, head, key, snapshot)
        with self._lock:
            self.stats.live += 1
        head = await self.head.apoll()
        with self._lock:
            self._switch_to(head.hash)
        snapshot = await self._shared_read(head, key)
        return self._keep(generation, head, key, snapshot) if snapshot.status.anchored else snapshot

    def _lookup(self, issuer: str, root: bytes, digest: bytes, path: Sequence[bytes]
                ) -> tuple[Key, Head | None, int, ChainSnapshot | None]:
        """The key, the fresh head (None when stale), the cache generation and the cached answer (a hit or
        None; a miss at a fresh head is counted), for __call__ and ask."""
        key = (_checksummed(issuer), bytes(root), bytes(digest), tuple(bytes(node) for node in path))
        with self._lock:
            head = self.head.fresh(since=self._cleared_at)
            generation = self._generation
            found = None
            if head is not None:
                self._switch_to(head.hash)
                found = self._entries.get(key)
                if found is not None:
                    self.stats.hits += 1
                else:
                    self.stats.misses += 1
        return key, head, generation, found

    # ---------------------------------------------------------------- plumbing

    def _head_changed(self, head: Head) -> None:
        with self._lock:
            self._switch_to(head.hash)

    def _switch_to(self, block_hash: bytes) -> None:
        """Key the cache to `block_hash`, emptying it when that is a new head (lock held)."""
        if self._block_hash != block_hash:
            if self._entries:
                self._entries.clear()
            self._block_hash = block_hash
            self.stats.blocks += 1

    def _keep(self, generation: int, head: Head, key: Key,
              snapshot: ChainSnapshot) -> ChainSnapshot:
        """Cache `snapshot`, read at `head`, unless the head moved on or clear() ran since `generation`."""
        with self._lock:
            if (generation == self._generation and self._block_hash == head.hash
                    and len(self._entries) < self.max_entries):
                self._entries[key] = snapshot
        return snapshot

    def _live_head(self) -> Head:
        """Ask the node for its head (the fallback); the sighting refreshes the watcher."""
        head = self.head.poll()
        with self._lock:
            self._switch_to(head.hash)
        return head

    async def _shared_read(self, head: Head, key: Key) -> ChainSnapshot:
        """One eth_call per (head, question) however many requests wait for it."""
        flight = (head.hash, key)
        future = self._in_flight.get(flight)
        if future is None:
            future = asyncio.ensure_future(self._aread(head, key))
            self._in_flight[flight] = future

            def forget(done: asyncio.Future[ChainSnapshot]) -> None:
                self._in_flight.pop(flight, None)
                if not done.cancelled():
                    done.exception()  # retrieved: waiters that went away do not leave it unread

            future.add_done_callback(forget)
        return await asyncio.shield(future)

    async def _aread(self, head: Head, key: Key) -> ChainSnapshot:
        issuer, root, digest, path = key
        try:
            status = await self.client.averify(issuer, root, digest, path, block=head.number)
        except ChainRejected as exc:  # the view never reverts: this is not a CredentialRegistry
            raise ChainUnavailable(f"{self.registry} is not a CredentialRegistry: {exc}") from exc
        return ChainSnapshot(chain_id=self.chain_id, registry=self.registry, block_number=head.number,
                             block_timestamp=head.timestamp, status=status)

    def _read(self, head: Head, key: Key) -> ChainSnapshot:
        issuer, root, digest, path = key
        try:
            status = self.client.verify(issuer, root, digest, path, block=head.number)
        except ChainRejected as exc:  # the view never reverts: this is not a CredentialRegistry
            raise ChainUnavailable(f"{self.registry} is not a CredentialRegistry: {exc}") from exc
        return ChainSnapshot(chain_id=self.chain_id, registry=self.registry, block_number=head.number,
                             block_timestamp=head.timestamp, status=status)
