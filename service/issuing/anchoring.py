"""Stage 3, anchoring: one transaction per batch, exactly once, and the background worker.

The partner signs the EIP-712 `Anchor` request with its own key (service.chain.keys.Signers) and the
hub's relayer sends `anchorBySig` (service.chain.sender.TransactionSender), so partners need no ether.

Exactly once. A batch is stored (pending, with its root) before anything is sent. Anchoring a batch:

1. asks the registry whether the root is anchored (`batch(root)`); if it is, finds its BatchAnchored
   event (a topic filter on the root), reads the signed request back from that transaction, and finishes;
2. otherwise signs a new request with the partner's current nonce and relays it;
3. when the registry refuses because the root is already anchored, or the transaction reverts once
   mined (another attempt of the same batch got in first), goes back to 1.

The registry refuses a root anchored twice and a signature whose nonce was used, so however often
step 2 runs (a retry, a restart while an earlier transaction still waits in the mempool) at most one
transaction anchors the root, and step 1 then finds it. Only this is retried; a refusal that cannot
change by retrying (the partner is not accredited) marks the batch failed.

One signature at a time per partner: anchorBySig and revokeBySig consume the same per-partner nonce, so
a partner's requests are signed, sent and mined in turn (`signing_as`). Different partners run in
parallel, the relayer keeps its own nonces in order.

At start the worker reconciles every pending batch as above (a crash between "stored" and "mined"),
then anchors the batches queued by POST /credentials/batch, and retries pending batches with back-off.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from web3.exceptions import Web3RPCError

from service.background import BackgroundWorker
from service.chain.registry import Batch as ChainBatch
from service.chain.registry import RegistryClient
from service.chain.sender import SendFailed
from service.credentials.batch import Anchoring
from service.credentials.canonical import from_hex32
from service.credentials.signature import SignedAnchor
from service.db import models
from service.errors import ChainRejected, ChainUnavailable, Conflict, Forbidden, HubError
from service.issuing import pipeline

if TYPE_CHECKING:
    from service.hub import Hub

log = logging.getLogger(__name__)

ANCHOR_TTL = 3600  # seconds of chain time a signed anchoring request stays valid
MAX_ATTEMPTS = 8  # anchoring transactions per batch before it is marked failed
ROUNDS_PER_CALL = 3  # sign-and-send rounds within one call of `anchor`
# A nonce raced (a request signed elsewhere meanwhile) or a deadline passed: sign again and resend.
RETRYABLE_REVERTS = frozenset({"RegistryInvalidSignature", "RegistryExpiredSignature"})


class Anchorer(BackgroundWorker):
    """Anchors the hub's pending batches; `anchor` synchronously, or the worker thread in the background."""

    def __init__(self, hub: Hub, *, retry_interval: float = 5.0, max_backoff: float = 300.0) -> None:
        super().__init__("hub-anchoring")
        self.hub = hub
        self.registry = RegistryClient(hub.w3, hub.registry_address)
        self.retry_interval = retry_interval
        self.max_backoff = max_backoff
        self._signing_locks: defaultdict[str, threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()
        self._in_flight: dict[str, threading.Event] = {}
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._next_try: dict[str, tuple[float, int]] = {}  # batch id -> (monotonic due time, failures)
        # batch id -> the cohort it was persisted from, until it is finished: finishing then needs no
        # rebuild from the store (seconds for a large cohort). After a restart, the store is used.
        self._cohorts: dict[str, pipeline.PreparedCohort] = {}

    # ---------------------------------------------------------------- signing, one at a time per partner

    @contextmanager
    def signing_as(self, issuer: str) -> Iterator[None]:
        """Hold the partner's registry nonce: sign, send and wait for mining before the next request."""
        with self._guard:
            lock = self._signing_locks[issuer]
        with lock:
            yield

    def chain_time(self) -> int:
        try:
            return int(self.hub.w3.eth.get_block("latest")["timestamp"])
        except (OSError, ValueError) as exc:
            raise ChainUnavailable.no_answer(exc, "the latest block") from exc

    # ---------------------------------------------------------------- anchoring one batch

    def anchor(self, batch_id: str, *, wait: bool = True, cohort: pipeline.PreparedCohort | None = None) -> str:
        """Anchor the stored batch `batch_id` and finish it; return its status (anchored, failed, pending).

        When another thread is anchoring it already, wait for that (or, with wait=False, return "pending").
        `cohort`: the prepared cohort it was persisted from (see `submit`).

        :raises ChainRejected: the registry refuses for good (e.g. the partner is not accredited now); the
            batch is marked failed.
        :raises Conflict: the root was anchored by another account, or too many transactions did not anchor
            it; the batch is marked failed.
        :raises Forbidden: the service holds no key for the partner (any more); the batch is marked failed.
        :raises ChainUnavailable: the chain does not answer, or the transaction was not mined in time; the
            batch stays pending and the worker retries it.
        """
        with self._guard:
            if cohort is not None:
                self._cohorts[batch_id] = cohort
            running = self._in_flight.get(batch_id)
            if running is None:
                done = self._in_flight[batch_id] = threading.Event()
        if running is not None:
            if wait:
                running.wait()
            return self._status(batch_id)
        status = "pending"
        try:
            status = self._anchor(batch_id)
            return status
        finally:
            try:
                settled = status != "pending" or self._status(batch_id) != "pending"
            except Exception:  # noqa: BLE001 - the store is gone: keep the cohort for the retry
                settled = False
            with self._guard:
                del self._in_flight[batch_id]
                if settled:
                    self._cohorts.pop(batch_id, None)  # finished or failed: not needed any more
            done.set()

    def _status(self, batch_id: str) -> str:
        with self.hub.sessions() as session:
            batch = session.get(models.Batch, batch_id)
            if batch is None:
                raise LookupError(f"no batch {batch_id}")
            return batch.status

    def _anchor(self, batch_id: str) -> str:
        with self.hub.sessions() as session:
            batch = session.get(models.Batch, batch_id)
            if batch is None:
                raise LookupError(f"no batch {batch_id}")
            issuer, root, count = batch.issuer_address, from_hex32(batch.root), batch.count
            if batch.status != "pending":
                return batch.status
        with self.signing_as(issuer):
            for round_number in range(ROUNDS_PER_CALL + 1):
                status = self._status(batch_id)
                if status != "pending":
                    return status
                on_chain = self.registry.batch(root)
                if on_chain.anchored:
                    return self._finish_from_chain(batch_id, issuer, root, on_chain)
                if round_number == ROUNDS_PER_CALL:
                    break  # the last round only looks
                attempts = pipeline.record_attempt(self.hub.sessions, batch_id)
                if attempts > MAX_ATTEMPTS:
                    reason = f"gave up after {MAX_ATTEMPTS} anchoring transactions that did not anchor it"
                    pipeline.mark_failed(self.hub.sessions, batch_id, reason)
                    raise Conflict(f"batch {batch_id}: {reason}", batch_id=batch_id)
                try:
                    signed = self._sign(issuer, root, count)
                except Forbidden as exc:  # the partner's key is gone (keystore removed): an operator must act
                    pipeline.mark_failed(self.hub.sessions, batch_id, exc.detail)
                    raise
                try:
                    receipt = self.hub.relayer.send(self.registry.anchor_by_sig_tx(signed))
                except ChainRejected as exc:
                    name = exc.revert.name
                    if name == "RegistryBatchAlreadyAnchored":
                        continue  # anchored meanwhile (an earlier attempt): found and finished in the next round
                    if name in RETRYABLE_REVERTS:
                        pipeline.record_error(self.hub.sessions, batch_id, exc.detail)
                        continue
                    pipeline.mark_failed(self.hub.sessions, batch_id, exc.detail)
                    exc.extra["batch_id"] = batch_id
                    raise
                except Web3RPCError as exc:  # e.g. the relayer has no ether left: retried, the operator is warned
                    pipeline.record_error(self.hub.sessions, batch_id, f"the node refused the relayer's transaction: "
                                                                      f"{exc}")
                    raise ChainUnavailable(f"the node refused the relayer's transaction for batch {batch_id}: {exc}; "
                                           "it is retried", batch_id=batch_id) from exc
                except SendFailed as exc:
                    pipeline.record_error(self.hub.sessions, batch_id, str(exc))
                    if "reverted" in str(exc):
                        continue  # e.g. an earlier attempt was mined first: the next round finds it
                    raise ChainUnavailable(f"the anchoring transaction of batch {batch_id} was not mined in time; "
                                           "it is retried", batch_id=batch_id) from exc
                block_number = int(receipt["blockNumber"])
                anchored_at = int(self.hub.w3.eth.get_block(block_number)["timestamp"])
                self._finish(batch_id, issuer, bytes(receipt["transactionHash"]), signed, block_number, anchored_at)
                return "anchored"
        raise ChainUnavailable(f"batch {batch_id} could not be anchored yet (the partner's nonce kept changing); "
                               "it is retried", batch_id=batch_id)

    def _sign(self, issuer: str, root: bytes, count: int) -> SignedAnchor:
        key = self.hub.signers.for_address(issuer)
        request = self.registry.anchor_request(root, count, issuer, deadline=self.chain_time() + ANCHOR_TTL)
        return SignedAnchor(request, request.sign(key.key))

    def _finish_from_chain(self, batch_id: str, issuer: str, root: bytes, on_chain: ChainBatch) -> str:
        """The root is anchored: find the transaction that did it and finish the batch from it."""
        if on_chain.issuer != issuer:
            reason = f"its root was anchored by another account, {on_chain.issuer}"
            pipeline.mark_failed(self.hub.sessions, batch_id, reason)
            raise Conflict(f"batch {batch_id}: {reason}", batch_id=batch_id)
        event = self.registry.find_anchoring(root, from_block=self.hub.indexer.start_block,
                                            page_blocks=self.hub.settings.index_page_blocks)
        if event is None:
            raise ChainUnavailable(f"batch {batch_id} is anchored, but the node returns no BatchAnchored event "
                                   "for it yet; it is retried", batch_id=batch_id)
        signed = self.registry.signed_anchor_of(event)
        self._finish(batch_id, issuer, event.transaction_hash, signed, event.block_number, on_chain.anchored_at)
        return "anchored"

    def _finish(self, batch_id: str, issuer: str, tx_hash: bytes, signed: SignedAnchor | None, block_number: int,
                anchored_at: int) -> None:
        anchoring = Anchoring(chain_id=self.hub.chain_id, registry=self.hub.registry_address, issuer=issuer,
                              transaction_hash=tx_hash, signed=signed)
        with self._guard:
            cohort = self._cohorts.get(batch_id)
        if pipeline.finish(self.hub.sessions, batch_id, anchoring, block_number=block_number,
                           anchored_at=anchored_at, cohort=cohort):
            log.info("batch %s anchored in block %s (0x%s)", batch_id, block_number, tx_hash.hex())
        self._next_try.pop(batch_id, None)

    # ---------------------------------------------------------------- the worker

    def submit(self, batch_id: str, cohort: pipeline.PreparedCohort | None = None) -> None:
        """Queue a stored batch for the worker; `cohort`, the prepared cohort it was persisted from, spares
        rebuilding it from the store when it is finished."""
        if cohort is not None:
            with self._guard:
                self._cohorts[batch_id] = cohort
        self._queue.put(batch_id)

    def reconcile(self) -> dict[str, str]:
        """Bring every pending batch in line with the chain now (finish it, or anchor it); batch id -> status.
        A batch that cannot be anchored now stays pending and is retried."""
        return {batch_id: self._process(batch_id) for batch_id in self._pending() if not self._stopping.is_set()}

    def _wake(self) -> None:
        """Unblock the worker waiting on its queue; it stops after the batch in hand (a transaction waiting
        to be mined is reconciled at the next start)."""
        self._queue.put(None)

    def _run(self) -> None:
        try:
            self.reconcile()
        except Exception:  # noqa: BLE001 - e.g. the database at start: the periodic pass retries
            log.warning("anchoring: reconciling pending batches failed; retrying", exc_info=True)
        while not self._stopping.is_set():
            try:
                batch_id = self._queue.get(timeout=self.retry_interval)
            except queue.Empty:
                batch_id = None
                try:
                    for pending in self._pending(due_only=True):
                        if self._stopping.is_set():
                            break
                        self._process(pending)
                except Exception:  # noqa: BLE001 - the loop must survive a database outage
                    log.warning("anchoring: the retry pass failed", exc_info=True)
            if batch_id is not None and not self._stopping.is_set():
                try:
                    self._process(batch_id)
                except Exception:  # noqa: BLE001 - e.g. the database is gone: the retry pass tries again
                    log.warning("anchoring: batch %s could not be processed", batch_id, exc_info=True)

    def _pending(self, *, due_only: bool = False) -> list[str]:
        with self.hub.sessions() as session:
            rows = session.execute(select(models.Batch.id, models.Batch.updated_at)
                                   .where(models.Batch.status == "pending").order_by(models.Batch.created_at)).all()
        if not due_only:
            return [batch_id for batch_id, _ in rows]
        now, wall = time.monotonic(), datetime.now(UTC)
        due = []
        for batch_id, updated_at in rows:
            planned = self._next_try.get(batch_id)
            if planned is not None:
                if planned[0] <= now:
                    due.append(batch_id)
            else:  # not tried by the worker: leave fresh ones to the request that stored them
                updated = updated_at if updated_at.tzinfo else updated_at.replace(tzinfo=UTC)
                if (wall - updated).total_seconds() >= self.retry_interval:
                    due.append(batch_id)
        return due

    def _process(self, batch_id: str) -> str:
        try:
            status = self.anchor(batch_id, wait=False)
        except HubError as exc:
            if self._status(batch_id) == "failed":
                log.warning("anchoring: batch %s failed: %s", batch_id, exc.detail)
                self._next_try.pop(batch_id, None)
                return "failed"
            self._back_off(batch_id, exc.detail)
            return "pending"
        except Exception as exc:  # noqa: BLE001 - keep the worker alive; the batch stays pending
            log.warning("anchoring: batch %s not anchored yet", batch_id, exc_info=True)
            self._back_off(batch_id, str(exc))
            return "pending"
        if status != "pending":
            self._next_try.pop(batch_id, None)
        return status

    def _back_off(self, batch_id: str, reason: str) -> None:
        _due, failures = self._next_try.get(batch_id, (0.0, 0))
        delay = min(self.retry_interval * 2 ** failures, self.max_backoff)
        self._next_try[batch_id] = (time.monotonic() + delay, failures + 1)
        log.warning("anchoring: batch %s stays pending (%s); next try in %.0f s", batch_id, reason, delay)
