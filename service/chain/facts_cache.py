"""The verifier's chain facts, cached per block: what `POST /verify` asks the registry.

The registry's `verify(issuer, root, digest, proof)` view answers every chain fact of a credential in one
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
share one eth_call. Both reach the node through `JsonRpc` (service.chain.jsonrpc) and `RegistryView`
(service.chain.registry_view), not web3.py: the registry's answer decoded from one raw eth_call costs about
0.3 ms of CPU, web3's contract call about 6. The head comes from service.chain.head's watcher.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address

from service.chain.head import DEFAULT_INTERVAL, DEFAULT_MAX_AGE, BlockHead, Head
from service.chain.jsonrpc import JsonRpc
from service.chain.registry_view import Key, RegistryView, checksummed
from service.credentials.facts import ChainSnapshot, RegistryTrust
from service.credentials.receipt import AnchorReceipt, ReceiptCache
from service.errors import ChainRejected, ChainUnavailable

log = logging.getLogger(__name__)

DEFAULT_MAX_ENTRIES = 100_000  # answers kept per block; beyond that answers are read but not kept


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

    def __init__(
        self, registry: RegistryView, head: BlockHead, *, chain_id: int, max_entries: int = DEFAULT_MAX_ENTRIES
    ) -> None:
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
    def for_hub(
        cls,
        rpc_url: str,
        registry_address: str,
        chain_id: int,
        *,
        interval: float = DEFAULT_INTERVAL,
        max_age: float = DEFAULT_MAX_AGE,
    ) -> VerificationCache:
        """The cache of a hub: its registry on its chain (the node at `rpc_url`), with a head watcher
        (not started)."""
        rpc = JsonRpc(rpc_url)
        return cls(
            RegistryView(rpc, registry_address),
            BlockHead.of(rpc, interval=interval, max_age=max_age),
            chain_id=chain_id,
        )

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

    def _lookup(
        self, issuer: str, root: bytes, digest: bytes, path: Sequence[bytes]
    ) -> tuple[Key, Head | None, int, ChainSnapshot | None]:
        """The key, the fresh head (None when stale), the cache generation and the cached answer (a hit or
        None; a miss at a fresh head is counted), for __call__ and ask."""
        key = (checksummed(issuer), bytes(root), bytes(digest), tuple(bytes(node) for node in path))
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

    def _keep(self, generation: int, head: Head, key: Key, snapshot: ChainSnapshot) -> ChainSnapshot:
        """Cache `snapshot`, read at `head`, unless the head moved on or clear() ran since `generation`."""
        with self._lock:
            if (
                generation == self._generation
                and self._block_hash == head.hash
                and len(self._entries) < self.max_entries
            ):
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
        return ChainSnapshot(
            chain_id=self.chain_id,
            registry=self.registry,
            block_number=head.number,
            block_timestamp=head.timestamp,
            status=status,
        )

    def _read(self, head: Head, key: Key) -> ChainSnapshot:
        issuer, root, digest, path = key
        try:
            status = self.client.verify(issuer, root, digest, path, block=head.number)
        except ChainRejected as exc:  # the view never reverts: this is not a CredentialRegistry
            raise ChainUnavailable(f"{self.registry} is not a CredentialRegistry: {exc}") from exc
        return ChainSnapshot(
            chain_id=self.chain_id,
            registry=self.registry,
            block_number=head.number,
            block_timestamp=head.timestamp,
            status=status,
        )
