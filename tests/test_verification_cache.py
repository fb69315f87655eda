"""The per-block cache of the verifier's chain facts (service.chain.facts_cache), with a fake node and clock."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from service.chain.facts_cache import VerificationCache
from service.chain.head import BlockHead
from service.credentials.facts import ZERO_ADDRESS, CredentialStatus, RegistryTrust
from service.errors import ChainUnavailable

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
ISSUER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
ROOT, DIGEST, PATH = b"\x01" * 32, b"\x02" * 32, [b"\x03" * 32]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeNode:
    """A chain whose head and registry answers the test sets; counts what it is asked.

    The credential is anchored from block `anchored_in` on and revoked from block `revoked_in` on
    (None: never); `verify` answers as of the block it is pinned to, like eth_call does.
    """

    number: int = 10
    fork: int = 0  # changes the block hashes: a reorganisation or evm_revert at the same height
    anchored_in: int | None = 0
    revoked_in: int | None = None
    down: bool = False
    heads_asked: int = 0
    calls: list[int] = field(default_factory=list)  # the block each verify() was pinned to
    during_call: list = field(default_factory=list)  # callables run while verify() is "on the wire"
    waiting: int = 0  # averify() calls

    @property
    def address(self) -> str:
        return REGISTRY

    def fetch(self) -> tuple[int, bytes, int]:
        self.heads_asked += 1
        if self.down:
            raise ChainUnavailable("the chain node does not answer: connection refused")
        return self.number, bytes([self.fork]) + self.number.to_bytes(31, "big"), 1_700_000_000 + self.number

    def verify(self, issuer: str, root: bytes, digest: bytes, path: Sequence[bytes], *, block: int) -> CredentialStatus:
        if self.down:
            raise ChainUnavailable("the node could not answer verify: connection refused")
        self.calls.append(block)
        for action in self.during_call:
            action()
        anchored = self.anchored_in is not None and block >= self.anchored_in
        revoked = self.revoked_in is not None and block >= self.revoked_in
        return CredentialStatus(
            included=True,
            anchored=anchored,
            issuer=ISSUER if anchored else ZERO_ADDRESS,
            issuer_name="Hanzehogeschool Groningen" if anchored else "",
            anchored_at=1_690_000_000 if anchored else 0,
            issuer_accredited_at_anchor=anchored,
            issuer_accredited_now=anchored,
            revoked=revoked,
            revoked_at=1_700_000_000 if revoked else 0,
            revocation_reason=2 if revoked else 0,
            block_number=block,
            block_timestamp=1_700_000_000 + block,
        )

    async def afetch(self) -> tuple[int, bytes, int]:
        return self.fetch()

    async def averify(
        self, issuer: str, root: bytes, digest: bytes, path: Sequence[bytes], *, block: int
    ) -> CredentialStatus:
        self.waiting += 1
        await asyncio.sleep(0)  # on the wire: other requests run meanwhile
        return self.verify(issuer, root, digest, path, block=block)

    def mine(self) -> None:
        self.number += 1

    def revoke(self) -> None:
        """A revocation transaction: mined in the next block."""
        self.mine()
        self.revoked_in = self.number

    def anchor(self) -> None:
        self.mine()
        self.anchored_in = self.number


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def node() -> FakeNode:
    return FakeNode()


@pytest.fixture
def head(node: FakeNode, clock: Clock) -> BlockHead:
    return BlockHead(node.fetch, interval=0.1, max_age=0.25, clock=clock, afetch=node.afetch)


@pytest.fixture
def cache(node: FakeNode, head: BlockHead) -> VerificationCache:
    return VerificationCache(node, head, chain_id=31337)  # type: ignore[arg-type]


def test_it_is_the_verifiers_chain_facts_for_the_configured_chain_and_registry(
    cache: VerificationCache, node: FakeNode
) -> None:
    assert (cache.chain_id, cache.registry, cache.trust) == (31337, REGISTRY, RegistryTrust.CONFIGURED)
    assert node.heads_asked == 0  # nothing is asked to know the configuration


def test_answers_are_cached_for_the_block_they_were_read_at(
    cache: VerificationCache, head: BlockHead, node: FakeNode
) -> None:
    head.poll()
    first = cache(ISSUER, ROOT, DIGEST, PATH)
    second = cache(ISSUER, ROOT, DIGEST, PATH)
    assert second is first
    assert node.calls == [10]  # one eth_call, pinned to the head's block
    assert (first.block_number, first.block_timestamp, first.chain_id, first.registry) == (
        10,
        1_700_000_010,
        31337,
        REGISTRY,
    )
    assert (cache.stats.hits, cache.stats.misses, cache.stats.live) == (1, 1, 0)


def test_each_credential_has_its_own_answer(cache: VerificationCache, head: BlockHead, node: FakeNode) -> None:
    head.poll()
    cache(ISSUER, ROOT, DIGEST, PATH)
    cache(ISSUER, ROOT, b"\x04" * 32, PATH)
    cache(ISSUER, ROOT, DIGEST, [b"\x05" * 32])
    assert len(node.calls) == 3 and len(cache) == 3


def test_a_new_block_empties_the_cache(cache: VerificationCache, head: BlockHead, node: FakeNode, clock: Clock) -> None:
    head.poll()
    assert not cache(ISSUER, ROOT, DIGEST, PATH).status.revoked
    node.revoke()
    clock.now += 0.05
    head.poll()  # the watcher sees block 11
    assert len(cache) == 0
    answer = cache(ISSUER, ROOT, DIGEST, PATH)
    assert answer.status.revoked and answer.block_number == 11
    assert node.calls == [10, 11]


def test_the_same_height_with_another_hash_empties_the_cache(
    cache: VerificationCache, head: BlockHead, node: FakeNode, clock: Clock
) -> None:
    head.poll()
    cache(ISSUER, ROOT, DIGEST, PATH)
    node.fork, node.revoked_in = 1, 10  # evm_revert and a new block 10 that revokes
    clock.now += 0.05
    head.poll()
    assert cache(ISSUER, ROOT, DIGEST, PATH).status.revoked


def test_a_stale_head_falls_back_to_a_live_read(
    cache: VerificationCache, head: BlockHead, node: FakeNode, clock: Clock
) -> None:
    head.poll()
    cache(ISSUER, ROOT, DIGEST, PATH)
    node.revoke()
    clock.now += 0.3  # the watcher has not confirmed the head for longer than max_age
    asked = node.heads_asked
    answer = cache(ISSUER, ROOT, DIGEST, PATH)
    assert answer.status.revoked and answer.block_number == 11  # never the cached block-10 answer
    assert node.heads_asked == asked + 1 and cache.stats.live == 1
    # the live read's sighting of the head refreshes it: the next request is answered from the cache
    assert cache(ISSUER, ROOT, DIGEST, PATH) is answer
    assert head.fresh() is not None and head.fresh().number == 11


def test_without_any_head_the_first_request_reads_live(cache: VerificationCache, node: FakeNode) -> None:
    answer = cache(ISSUER, ROOT, DIGEST, PATH)
    assert answer.block_number == 10 and cache.stats.live == 1 and node.calls == [10]


def test_the_freshness_counts_from_when_the_head_was_asked_for(node: FakeNode, clock: Clock) -> None:
    def slow_fetch() -> tuple[int, bytes, int]:
        clock.now += 0.2  # the node took 200 ms to answer
        return node.fetch()

    head = BlockHead(slow_fetch, interval=0.1, max_age=0.25, clock=clock)
    head.poll()
    clock.now += 0.1  # 300 ms after the question, 100 ms after the answer
    assert head.fresh() is None


def test_not_anchored_is_never_answered_from_a_sighting_nor_cached(
    cache: VerificationCache, head: BlockHead, node: FakeNode, clock: Clock
) -> None:
    node.anchored_in = None
    head.poll()
    assert not cache(ISSUER, ROOT, DIGEST, PATH).status.anchored
    assert len(cache) == 0
    node.anchor()  # the cohort is anchored in block 11; the watcher has not seen it yet
    clock.now += 0.05
    answer = cache(ISSUER, ROOT, DIGEST, PATH)
    assert answer.status.anchored and answer.block_number == 11  # read at the node's latest block
    assert node.calls == [10, 10, 10, 11]  # pinned read, then live read; twice


def test_clear_forgets_the_answers_and_every_head_seen_before(
    cache: VerificationCache, head: BlockHead, node: FakeNode, clock: Clock
) -> None:
    head.poll()
    cache(ISSUER, ROOT, DIGEST, PATH)
    node.revoke()  # through the API; the watcher has not polled since
    clock.now += 0.01
    cache.clear()
    answer = cache(ISSUER, ROOT, DIGEST, PATH)
    assert answer.status.revoked and answer.block_number == 11
    assert cache.stats.clears == 1 and cache.stats.live == 1


def test_an_answer_read_while_clear_runs_is_not_kept(cache: VerificationCache, head: BlockHead, node: FakeNode) -> None:
    head.poll()
    node.during_call.append(cache.clear)  # a revocation lands while the eth_call is on the wire
    cache(ISSUER, ROOT, DIGEST, PATH)
    node.during_call.clear()
    assert len(cache) == 0


def test_an_answer_read_at_a_head_that_moved_on_is_not_kept(
    cache: VerificationCache, head: BlockHead, node: FakeNode, clock: Clock
) -> None:
    head.poll()

    def new_block() -> None:
        node.mine()
        clock.now += 0.01
        head.poll()

    node.during_call.append(new_block)
    answer = cache(ISSUER, ROOT, DIGEST, PATH)
    node.during_call.clear()
    assert answer.block_number == 10 and len(cache) == 0


def test_the_cache_keeps_at_most_max_entries(node: FakeNode, head: BlockHead) -> None:
    small = VerificationCache(node, head, chain_id=31337, max_entries=2)  # type: ignore[arg-type]
    head.poll()
    for index in range(4):
        small(ISSUER, ROOT, bytes([index]) * 32, PATH)
    assert len(small) == 2
    assert small(ISSUER, ROOT, bytes([3]) * 32, PATH).block_number == 10  # still answered, just not kept


def test_a_programming_error_is_not_mistaken_for_a_down_chain(cache: VerificationCache, node: FakeNode) -> None:
    def broken() -> None:
        raise TypeError("a bug")

    node.during_call.append(broken)
    with pytest.raises(TypeError, match="a bug"):
        cache(ISSUER, ROOT, DIGEST, PATH)


def test_a_down_node_raises_chain_unavailable(cache: VerificationCache, node: FakeNode) -> None:
    node.down = True
    with pytest.raises(ChainUnavailable, match="does not answer"):
        cache(ISSUER, ROOT, DIGEST, PATH)


def test_an_older_sighting_does_not_replace_a_newer_one(head: BlockHead, node: FakeNode, clock: Clock) -> None:
    from service.chain.head import Head

    head.poll()
    head.observe(Head(9, b"\x09" * 32, 0, seen_at=clock.now - 1))
    assert head.head is not None and head.head.number == 10


def test_the_watcher_thread_follows_the_head_and_stops(node: FakeNode) -> None:
    watcher = BlockHead(node.fetch, interval=0.01, max_age=0.25)
    changes: list[int] = []
    watcher.on_change(lambda seen: changes.append(seen.number))
    watcher.start()
    try:
        assert watcher.wait_for(10, timeout=2) is not None
        node.mine()
        seen = watcher.wait_for(11, timeout=2)
        assert seen is not None and seen.number == 11
        assert watcher.fresh() is not None
    finally:
        watcher.stop()
    assert not watcher.running
    assert changes[:2] == [10, 11]
    asked = node.heads_asked
    time.sleep(0.05)
    assert node.heads_asked == asked  # stopped


def test_the_watcher_survives_a_down_node(node: FakeNode) -> None:
    watcher = BlockHead(node.fetch, interval=0.01, max_age=0.05)
    node.down = True
    watcher.start()
    try:
        deadline = time.monotonic() + 2
        while watcher.failures < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert watcher.failures >= 3 and watcher.fresh() is None
        node.down = False
        assert watcher.wait_for(10, timeout=2) is not None
    finally:
        watcher.stop()


def test_concurrent_requests_get_consistent_answers(
    cache: VerificationCache, head: BlockHead, node: FakeNode, clock: Clock
) -> None:
    head.poll()
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            for _ in range(200):
                answer = cache(ISSUER, ROOT, DIGEST, PATH)
                assert answer.block_number in (10, 11)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    node.mine()
    head.poll()
    for thread in threads:
        thread.join()
    assert errors == []


# ---------------------------------------------------------------- on the event loop (what the route uses)


def test_ask_answers_as_the_blocking_call_and_shares_the_cache(
    cache: VerificationCache, head: BlockHead, node: FakeNode
) -> None:
    head.poll()
    first = asyncio.run(cache.ask(ISSUER, ROOT, DIGEST, PATH))
    assert first.block_number == 10 and node.calls == [10]
    assert cache(ISSUER, ROOT, DIGEST, PATH) is first  # kept for the blocking path too
    assert asyncio.run(cache.ask(ISSUER, ROOT, DIGEST, PATH)) is first
    assert (cache.stats.hits, cache.stats.misses) == (2, 1)


def test_concurrent_asks_for_the_same_answer_share_one_eth_call(
    cache: VerificationCache, head: BlockHead, node: FakeNode
) -> None:
    head.poll()

    async def many() -> list:
        return await asyncio.gather(
            *(cache.ask(ISSUER, ROOT, DIGEST, PATH) for _ in range(20)), cache.ask(ISSUER, ROOT, b"\x09" * 32, PATH)
        )

    answers = asyncio.run(many())
    assert node.calls == [10, 10]  # one per distinct question
    assert all(answer is answers[0] for answer in answers[:20])


def test_ask_with_a_stale_head_reads_live_without_blocking(
    cache: VerificationCache, head: BlockHead, node: FakeNode, clock: Clock
) -> None:
    head.poll()
    node.revoke()
    clock.now += 1
    answer = asyncio.run(cache.ask(ISSUER, ROOT, DIGEST, PATH))
    assert answer.status.revoked and answer.block_number == 11 and cache.stats.live == 1


def test_ask_never_answers_not_anchored_from_a_sighting(
    cache: VerificationCache, head: BlockHead, node: FakeNode, clock: Clock
) -> None:
    node.anchored_in = None
    head.poll()
    node.anchor()
    clock.now += 0.05
    answer = asyncio.run(cache.ask(ISSUER, ROOT, DIGEST, PATH))
    assert answer.status.anchored and answer.block_number == 11


def test_ask_on_a_down_node_raises_chain_unavailable_to_every_waiter(cache: VerificationCache, node: FakeNode) -> None:
    node.down = True

    async def two() -> list:
        return await asyncio.gather(
            cache.ask(ISSUER, ROOT, DIGEST, PATH), cache.ask(ISSUER, ROOT, DIGEST, PATH), return_exceptions=True
        )

    assert all(isinstance(answer, ChainUnavailable) for answer in asyncio.run(two()))
