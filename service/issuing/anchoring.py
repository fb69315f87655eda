"""Stage 3, anchoring: one relayed transaction per batch, exactly once, driven by the leader's worker.

Partners need no ether. Onboarding, a partner authorises the hub's relayer once (an EIP-712 `SetRelayer` signed
with its own key, service.chain.keys.Signers, sent with setRelayerBySig: `authorise_relayer`); from then on the
relayer (service.chain.relayer.Relayer) anchors its batches with `anchorFor`, the registry's cheapest path, and the
partner's EIP-712 `Anchor` signature goes into every credential's proof (`relayed_anchor`), where verifiers check
it. A partner not onboarded yet gets its first batch anchored with `anchorBySig` (its signature checked on chain)
and the authorisation sent right after. A batch is this partner's only when the registry holds the root under this
partner's address: batches are keyed by (issuer, root), so another account anchoring the same root neither finishes
nor blocks ours. The batch follows its transaction (service.issuing.states.BatchStatus): each round of the worker

1. sends the pending batches: one whose root the registry already holds (anchored by this partner) is finished
   from the chain; the others are signed and handed to the relayer (the batch is `submitted` in the same
   database transaction that stores the relayer's transaction, so a crash cannot send it twice);
2. advances the relayer's open transactions (mined, confirmed, replaced at the same nonce, reorged);
3. moves each batch with its newest transaction: included; anchored once confirmed (every credential gets its
   proof); back to pending when its transaction reverted for a reason that may pass (the partner's nonce
   moved on, the deadline passed) or a reorg took its block; failed only when the registry refuses for good.

A batch is never failed because the chain is slow: a transaction that can still be mined is followed (and
replaced with higher fees) for as long as it takes, and a batch whose root appears on chain is finished
whenever that is seen. The API processes only store batches and wake (or wait for) this worker.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import Any, cast

from hexbytes import HexBytes
from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from service.background import BackgroundWorker
from service.chain.keys import Signers
from service.chain.registry import Batch as ChainBatch
from service.chain.registry import Issuer, RegistryClient
from service.chain.relayer import Call, Relayer, Sent, TransactionPending, TxState
from service.credentials.batch import Anchoring
from service.credentials.canonical import from_hex32
from service.credentials.facts import AnchorMode
from service.credentials.signature import SignedAnchor
from service.db import models
from service.db.session import transaction
from service.errors import ChainRejected, ChainUnavailable, Forbidden, HubError
from service.issuing import pipeline
from service.issuing.states import BatchStatus

log = logging.getLogger(__name__)


class NotPending(RuntimeError):
    """The batch was sent meanwhile (by another thread or process): nothing is signed for it again."""


# seconds a partner's "accredited, relayer authorised" is taken as read: a burst of its batches asks the
# registry once; a suspension meanwhile is still refused when the transaction is estimated, before sending
ISSUER_TTL = 10.0
SEND_SECONDS = 1.0  # of sending per round: a burst is followed (and finished) while it is being sent

# Refusals that cannot pass by signing again: the batch fails with the registry's reason.
FINAL_REVERTS = frozenset({"RegistryIssuerNotAccredited", "RegistryEmptyBatch", "RegistryInvalidRoot"})


class AnchoringWorker(BackgroundWorker):
    """Anchors stored batches; `run_once` is one round (see the module docstring), the thread repeats it."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        registry: RegistryClient,
        relayer: Relayer,
        signers: Signers,
        *,
        start_block: int = 0,
        page_blocks: int = 2_000,
        interval: float = 0.5,
        signature_ttl: int = 86_400,
        retry_interval: float = 5.0,
        max_backoff: float = 300.0,
    ) -> None:
        super().__init__("hub-anchoring")
        self.sessions = sessions
        self.registry = registry
        self.relayer = relayer
        self.signers = signers
        self.start_block = start_block
        self.page_blocks = page_blocks
        self.interval = interval
        self.signature_ttl = signature_ttl
        self.retry_interval = retry_interval
        self.max_backoff = max_backoff
        self._wakeup = threading.Event()
        self._guard = threading.Lock()
        self._next_try: dict[str, tuple[float, int]] = {}  # batch id -> (monotonic due time, failures)
        self._ready: dict[str, tuple[float, Issuer]] = {}  # partner -> (monotonic time read, accredited+authorised)
        # batch id -> the cohort it was persisted from, until finished: finishing then needs no rebuild from the
        # store (seconds for a large cohort). Only in the process that stored it; others rebuild.
        self._cohorts: dict[str, pipeline.PreparedCohort] = {}
        self._block_times: dict[int, int] = {}

    # ---------------------------------------------------------------- API processes

    def remember(self, batch_id: str, cohort: pipeline.PreparedCohort) -> None:
        """Keep the cohort `batch_id` was stored from, to finish it without reading it back (only while this
        process leads: another process's worker rebuilds it from the store)."""
        if self.running:
            with self._guard:
                self._cohorts[batch_id] = cohort

    def wake(self) -> None:
        """A batch was stored: start a round now (in this process; other processes' leaders poll)."""
        self._wakeup.set()

    # ---------------------------------------------------------------- a round

    def run_once(self) -> None:
        """Send pending batches, advance the relayer, move batches with their transactions. Each phase, and in
        it each batch or transaction, stands on its own: one that fails (and is retried later) holds up no other.

        :raises Exception: the first phase's failure, after all three ran; nothing is half-written."""
        failures = []
        for phase in (self._send_pending, self.relayer.step, self._follow):
            try:
                phase()
            except Exception as exc:  # noqa: BLE001 - the next phase runs anyway; the loop logs it
                failures.append(exc)
        if failures:
            raise failures[0]

    def reorged(self, fork_block: int) -> None:
        """Blocks from `fork_block` on left the chain (the indexer found a reorg; called in its thread): their
        transactions are followed again, a batch anchored there without a transaction of ours is looked at
        again, and the worker is woken to do it (only the worker moves batches)."""
        self.relayer.reorged(fork_block)
        with transaction(self.sessions) as session:
            session.execute(
                update(models.Batch)
                .where(
                    models.Batch.status == BatchStatus.ANCHORED,
                    models.Batch.block_number >= fork_block,
                    ~select(models.RelayerTransaction.id)
                    .where(models.RelayerTransaction.batch_id == models.Batch.id)
                    .exists(),
                )
                .values(status=BatchStatus.PENDING, error=f"its block left the chain (reorg from block {fork_block})")
            )
        self.wake()

    def _run(self) -> None:
        failing = False
        while not self._stopping.is_set():
            try:
                self.run_once()
                if failing:
                    log.info("anchoring: working again")
                failing = False
            except Exception:  # noqa: BLE001 - the loop must survive a node or database outage
                if not failing:
                    log.warning("anchoring: a round failed; retrying every %.1f s", self.interval, exc_info=True)
                failing = True
            self._wakeup.wait(self.interval)
            self._wakeup.clear()

    def _wake(self) -> None:
        self._wakeup.set()

    # ---------------------------------------------------------------- 1. send pending batches

    def _send_pending(self) -> None:
        with self.sessions() as session:
            rows = session.execute(
                select(
                    models.Batch.id,
                    models.Batch.issuer_address,
                    models.Batch.root,
                    models.Batch.count,
                    models.Batch.attempts,
                    models.Batch.error,
                )
                .where(models.Batch.status == BatchStatus.PENDING)
                .order_by(models.Batch.created_at)
            ).all()
        deadline: int | None = None
        started = time.monotonic()
        for batch_id, issuer, root_hex, count, attempts, error in rows:
            if not self._due(batch_id):
                continue
            if time.monotonic() - started > SEND_SECONDS:  # the rest next round, after following what was sent
                self._wakeup.set()
                break
            root = from_hex32(root_hex)
            try:
                # a batch never sent and never refused cannot be on chain yet: no need to ask
                if attempts or error:
                    on_chain = self.registry.batch(issuer, root)
                    if on_chain.anchored:
                        self._finish_from_chain(batch_id, issuer, root, on_chain)
                        continue
                if deadline is None:
                    deadline = self._chain_time() + self.signature_ttl
                self._submit(batch_id, issuer, root, count, deadline)
            except ChainRejected as exc:
                self._ready.pop(issuer, None)  # ask the registry again about this partner
                if exc.revert.name in FINAL_REVERTS:
                    self._fail(batch_id, f"{exc.revert.name}: {exc.detail}")
                else:  # e.g. anchored meanwhile: the next round finishes it from the chain
                    self._back_off(batch_id, f"{exc.revert.name}: {exc.detail}")
            except Forbidden as exc:  # no key signs for the partner (any more): an operator must act
                self._fail(batch_id, exc.detail)
            except HubError as exc:
                self._back_off(batch_id, exc.detail)
            except Exception as exc:  # noqa: BLE001 - e.g. the node's JSON-RPC error: this batch waits, others go on
                log.warning("anchoring: batch %s could not be sent", batch_id, exc_info=True)
                self._back_off(batch_id, f"{type(exc).__name__}: {exc}")

    def _submit(self, batch_id: str, issuer: str, root: bytes, count: int, deadline: int) -> None:
        key = self.signers.for_address(issuer)
        state = self._issuer(issuer)
        if not state.accredited:  # as the registry would refuse it: nothing is sent
            self._fail(batch_id, f"RegistryIssuerNotAccredited: {issuer} is not an accredited issuer now")
            return
        authorised = state.relayer == self.relayer.address

        def relayed(_nonce: int | None) -> dict[str, object]:  # the hub's path: no signature or nonce on chain
            return self.registry.anchor_for_tx(issuer, root, count)

        def signed(nonce: int | None) -> dict[str, object]:  # before the authorisation: checked on chain
            request = self.registry.anchor_request(root, count, issuer, deadline, nonce=nonce)
            return self.registry.anchor_by_sig_tx(SignedAnchor(request, request.sign(key.key)))

        def stored(session: Session, row: models.RelayerTransaction) -> None:
            # in the transaction that takes the nonce: a batch that is no longer pending (another thread or
            # process sent it) refuses, and the nonce is not taken
            moved = cast(
                CursorResult[Any],
                session.execute(
                    update(models.Batch)
                    .where(models.Batch.id == batch_id, models.Batch.status == BatchStatus.PENDING)
                    .values(status=BatchStatus.SUBMITTED, error=None, attempts=models.Batch.attempts + 1)
                ),
            ).rowcount
            if moved != 1:
                raise NotPending(batch_id)

        call = (
            Call("anchor", relayed, batch_id=batch_id, scope=self.registry.address, reference=f"anchor:{batch_id}")
            if authorised
            else Call(
                "anchor",
                signed,
                signer=issuer,
                signer_nonce=lambda: self.registry.nonce(issuer),
                batch_id=batch_id,
                scope=self.registry.address,
                reference=f"anchor:{batch_id}",
            )
        )
        try:
            sent = self.relayer.submit(call, stored=stored)
        except NotPending:
            log.info("anchoring: batch %s was sent meanwhile by another worker", batch_id)
            return
        self._next_try.pop(batch_id, None)
        if sent.error:  # stored and signed, but the node refused it (e.g. no funds): the relayer retries
            self._note(batch_id, sent.error)
        if not authorised:
            try:
                self._authorise_relayer(issuer, key.key, deadline)
            except Exception:  # noqa: BLE001 - the batch is on its way; the next batch tries again
                log.warning("anchoring: the relayer's authorisation for %s could not be sent", issuer, exc_info=True)

    def _issuer(self, issuer: str) -> Issuer:
        """The partner as the registry has it; only "accredited, our relayer authorised" is kept (ISSUER_TTL)."""
        now = time.monotonic()
        ready = self._ready.get(issuer)
        if ready is not None and now - ready[0] <= ISSUER_TTL:
            return ready[1]
        state = self.registry.issuer(issuer)
        if state.accredited and state.relayer == self.relayer.address:
            self._ready[issuer] = (now, state)
        else:
            self._ready.pop(issuer, None)
        return state

    def authorise_relayer(self, issuer: str, *, timeout: float) -> bool:
        """Onboarding a partner: have it authorise the hub's relayer now (signed with its key, sent and paid by the
        relayer, waited for up to `timeout` s), so that even its first batch goes by anchorFor. False when it
        had authorised it already.

        :raises Forbidden: no key signs for `issuer`.
        :raises ChainRejected, RelayerError: the registry refused, or the transaction was not mined in time.
        """
        if self.registry.issuer(issuer).relayer == self.relayer.address:
            return False
        key = self.signers.for_address(issuer)
        self._authorise_relayer(issuer, key.key, self._chain_time() + self.signature_ttl, wait=timeout)
        return True

    def _authorise_relayer(self, issuer: str, key: object, deadline: int, *, wait: float | None = None) -> None:
        """Send the partner's signed authorisation of the hub's relayer (once: while it is open or mined, asking
        again returns the same transaction)."""
        relayer = self.relayer.address

        def build(nonce: int | None) -> dict[str, object]:
            request = self.registry.set_relayer_request(issuer, relayer, deadline, nonce=nonce)
            return self.registry.set_relayer_by_sig_tx(request, request.sign(key))

        call = Call(
            "authorise",
            build,
            signer=issuer,
            signer_nonce=lambda: self.registry.nonce(issuer),
            scope=self.registry.address,
            reference=f"relayer:{issuer}:{relayer}",
        )
        sent = self.relayer.submit(call)
        if wait is not None:  # mined is enough: anchorFor can be estimated and sent from the next block on
            give_up = time.monotonic() + wait
            while True:  # advanced here too: onboarding may run before (or without) the worker
                self.relayer.step()
                try:
                    self.relayer.wait(sent, timeout=0.1, until=frozenset({TxState.INCLUDED, TxState.CONFIRMED}))
                    return
                except TransactionPending:
                    if time.monotonic() >= give_up:
                        raise

    # ---------------------------------------------------------------- 3. follow submitted batches

    def _follow(self) -> None:
        newest = (
            select(models.RelayerTransaction.batch_id, func.max(models.RelayerTransaction.id).label("tx_id"))
            .where(models.RelayerTransaction.batch_id.is_not(None))
            .group_by(models.RelayerTransaction.batch_id)
            .subquery()
        )
        followed = [TxState.SIGNED, TxState.SUBMITTED, TxState.INCLUDED]  # an anchored batch: only after a reorg
        with self.sessions() as session:
            rows = session.execute(
                select(models.Batch.id, models.Batch.status, newest.c.tx_id)
                .join(newest, newest.c.batch_id == models.Batch.id)
                .join(models.RelayerTransaction, models.RelayerTransaction.id == newest.c.tx_id)
                .where(
                    models.Batch.status.in_([BatchStatus.SUBMITTED, BatchStatus.INCLUDED, BatchStatus.ANCHORED]),
                    (models.Batch.status != BatchStatus.ANCHORED) | models.RelayerTransaction.state.in_(followed),
                )
            ).all()
        stored = self.relayer.get_many([tx_id for _, _, tx_id in rows]) if rows else {}
        for batch_id, status, tx_id in rows:
            try:
                self._move(batch_id, BatchStatus(status), stored[tx_id])
            except Exception:  # noqa: BLE001 - this batch is looked at again next round; the others go on
                log.warning("anchoring: batch %s could not be followed now", batch_id, exc_info=True)

    def _move(self, batch_id: str, status: BatchStatus, sent: Sent) -> None:
        state = sent.state
        if state in (TxState.SIGNED, TxState.SUBMITTED):
            if status != BatchStatus.SUBMITTED:
                self._set(
                    batch_id,
                    BatchStatus.SUBMITTED,
                    sent.error or "its transaction is being mined again (its block left the chain)",
                )
            elif sent.error:
                self._note(batch_id, sent.error)
        elif state == TxState.INCLUDED:
            if status != BatchStatus.INCLUDED:
                self._set(batch_id, BatchStatus.INCLUDED, None, block_number=sent.block_number, tx_hash=sent.tx_hash)
        elif state == TxState.CONFIRMED:
            self._finish_from_transaction(batch_id, sent)
        else:  # reverted, or its nonce was used by another transaction: what does the chain hold?
            self._after_failure(batch_id, sent)

    def _after_failure(self, batch_id: str, sent: Sent) -> None:
        with self.sessions() as session:
            batch = session.get(models.Batch, batch_id)
            assert batch is not None
            issuer, root = batch.issuer_address, from_hex32(batch.root)
        on_chain = self.registry.batch(issuer, root)
        if on_chain.anchored:
            self._finish_from_chain(batch_id, issuer, root, on_chain)
            return
        revert = self.relayer.revert_reason(sent) if sent.state == TxState.REVERTED else None
        if revert is not None and revert.name in FINAL_REVERTS:
            self._fail(batch_id, f"{revert.name}: transaction {sent.tx_hash} was refused ({revert})")
            return
        why = f"transaction {sent.tx_hash} {sent.state}{f' ({revert})' if revert else ''}: it is signed and sent again"
        log.warning("anchoring: batch %s: %s", batch_id, why)
        self._set(batch_id, BatchStatus.PENDING, why)

    # ---------------------------------------------------------------- finishing

    def _finish_from_transaction(self, batch_id: str, sent: Sent) -> None:
        """Its anchorBySig was mined with status 1 and is final: it anchored the root for the batch's issuer (the
        call does that or reverts), at its block's time."""
        with self.sessions() as session:
            batch = session.get(models.Batch, batch_id)
            assert batch is not None
            issuer, root = batch.issuer_address, from_hex32(batch.root)
        assert sent.tx_hash is not None and sent.block_number is not None
        if sent.signer_nonce is not None:  # an anchorBySig sent before the relayer was authorised
            signed = self.registry.signed_anchor_from_call(sent.data, sent.signer_nonce)
        else:
            on_chain = self.registry.batch(issuer, root)
            if not on_chain.anchored:  # its block was reorged away meanwhile: the next round looks again
                raise ChainUnavailable(
                    f"batch {batch_id}: its transaction is final but the registry does not "
                    "hold the root; looked at again",
                    batch_id=batch_id,
                )
            signed = self.registry.relayed_anchor(on_chain, self.signers.for_address(issuer).key)
        self._finish(
            batch_id,
            issuer,
            from_hex32(sent.tx_hash),
            signed,
            sent.block_number,
            sent.block_hash,
            self._block_time(sent.block_number),
        )

    def _finish_from_chain(self, batch_id: str, issuer: str, root: bytes, on_chain: ChainBatch) -> None:
        """This partner's batch `root` is anchored: find the transaction that did it (this partner's BatchAnchored
        event, not another account's anchoring of the same root) and finish the batch from it."""
        event = self.registry.find_anchoring(issuer, root, from_block=self.start_block, page_blocks=self.page_blocks)
        if event is not None and (event.issuer != issuer or event.root != root):
            raise ChainUnavailable(f"batch {batch_id}: the node answered with another batch's event", batch_id=batch_id)
        if event is None:
            raise ChainUnavailable(
                f"batch {batch_id} is anchored, but the node returns no BatchAnchored event for it yet; it is retried",
                batch_id=batch_id,
            )
        block = self.registry.w3.eth.get_block(event.block_number)
        if int(self.registry.w3.eth.block_number) - event.block_number < self.relayer.confirmations:
            raise ChainUnavailable(
                f"batch {batch_id} is anchored in block {event.block_number}, not yet "
                f"{self.relayer.confirmations} blocks deep",
                batch_id=batch_id,
            )
        if on_chain.mode == AnchorMode.RELAYED:
            signed: SignedAnchor | None = self.registry.relayed_anchor(on_chain, self.signers.for_address(issuer).key)
        else:
            signed = self.registry.signed_anchor_of(event)
        self._finish(
            batch_id,
            issuer,
            event.transaction_hash,
            signed,
            event.block_number,
            HexBytes(block["hash"]).to_0x_hex(),
            on_chain.anchored_at,
        )

    def _finish(
        self,
        batch_id: str,
        issuer: str,
        tx_hash: bytes,
        signed: SignedAnchor | None,
        block_number: int,
        block_hash: str | None,
        anchored_at: int,
    ) -> None:
        anchoring = Anchoring(
            chain_id=self.registry.chain_id,
            registry=self.registry.address,
            issuer=issuer,
            transaction_hash=tx_hash,
            signed=signed,
        )
        with self._guard:
            cohort = self._cohorts.get(batch_id)
        if pipeline.finish(
            self.sessions,
            batch_id,
            anchoring,
            block_number=block_number,
            block_hash=block_hash,
            anchored_at=anchored_at,
            cohort=cohort,
        ):
            log.info("anchoring: batch %s anchored in block %s (0x%s)", batch_id, block_number, tx_hash.hex())
        with self._guard:
            self._cohorts.pop(batch_id, None)
        self._next_try.pop(batch_id, None)

    # ---------------------------------------------------------------- plumbing

    def _block_time(self, number: int) -> int:
        """A block's timestamp (remembered: a round finishes many batches of few blocks)."""
        if number not in self._block_times:
            if len(self._block_times) > 1024:
                self._block_times.clear()
            try:
                self._block_times[number] = int(self.registry.w3.eth.get_block(number)["timestamp"])
            except (OSError, ValueError) as exc:
                raise ChainUnavailable.no_answer(exc, f"block {number}") from exc
        return self._block_times[number]

    def _chain_time(self) -> int:
        try:
            return int(self.registry.w3.eth.get_block("latest")["timestamp"])
        except (OSError, ValueError) as exc:
            raise ChainUnavailable.no_answer(exc, "the latest block") from exc

    def _set(
        self,
        batch_id: str,
        status: BatchStatus,
        error: str | None,
        *,
        block_number: int | None = None,
        tx_hash: str | None = None,
    ) -> None:
        with transaction(self.sessions) as session:
            batch = session.get(models.Batch, batch_id)
            if batch is None or batch.status == BatchStatus.FAILED:
                return
            log.info("anchoring: batch %s: %s -> %s", batch_id, batch.status, status)
            batch.status, batch.error = status, error
            batch.block_number, batch.tx_hash = block_number, tx_hash
            if status != BatchStatus.ANCHORED:
                batch.anchored_at = None
                batch.block_hash = None

    def _note(self, batch_id: str, error: str) -> None:
        with transaction(self.sessions) as session:
            batch = session.get(models.Batch, batch_id)
            if batch is not None and batch.error != error:
                batch.error = error

    def _fail(self, batch_id: str, reason: str) -> None:
        log.warning("anchoring: batch %s failed: %s", batch_id, reason)
        pipeline.mark_failed(self.sessions, batch_id, reason)
        with self._guard:
            self._cohorts.pop(batch_id, None)
        self._next_try.pop(batch_id, None)

    def _due(self, batch_id: str) -> bool:
        planned = self._next_try.get(batch_id)
        return planned is None or planned[0] <= time.monotonic()

    def _back_off(self, batch_id: str, reason: str) -> None:
        _due, failures = self._next_try.get(batch_id, (0.0, 0))
        delay = min(self.retry_interval * 2**failures, self.max_backoff) * random.uniform(0.8, 1.2)  # noqa: S311
        self._next_try[batch_id] = (time.monotonic() + delay, failures + 1)
        log.warning("anchoring: batch %s stays pending (%s); next try in %.0f s", batch_id, reason, delay)
        pipeline.record_error(self.sessions, batch_id, reason)
