"""The relayer: sends the hub's transactions from one account and follows each until it is final.

One transaction per nonce, for good. The life of a transaction is one enum and one table of transitions
(`TxState`, `TRANSITIONS`); every transition is stored (models.RelayerTransaction) and logged, so an operator
reads the story of a batch from one table:

    signed ──► submitted ──► included ──► confirmed
       │            │  ▲         │  ▲          │
       │            │  └─ reorg ─┘  └── reorg ──┘
       │            ├──► reverted        (mined with status 0: the nonce is used, the call did nothing)
       └────────────┴──► failed          (the nonce was used by another transaction of the account)

- **Nonces from the chain and the database, never a counter in memory.** The next nonce is the larger of
  the account's mined transaction count and one more than the highest nonce stored. It is taken under a lock
  that holds across processes (a PostgreSQL advisory transaction lock; one process on SQLite), together with
  the nonce of the partner or member whose EIP-712 request the call carries (`Call.signer`): signed requests
  go out in the order of the relayer's nonces, so they are mined in the order they were signed.
- **Signed and stored before it is sent.** A crash after signing loses nothing: the stored bytes are sent
  again. A node that refuses them (no funds, unreachable) leaves the transaction `signed`; it is retried.
- **Replaced, never duplicated.** A transaction not mined within `replace_after` seconds is signed again at
  the same nonce with both fee fields at least 12.5% higher (service.chain.fees), up to the cap: another
  attempt of the same row. There is never a second transaction at another nonce for the same work while an
  earlier one can still be mined.
- **Followed to the depth asked.** `included` once mined, `confirmed` once `confirmations` blocks deep with
  its block still canonical; a reorg that removes it (found here or by the indexer, `reorged(fork)`) puts it
  back to `submitted` and its bytes are sent again.

`submit` stores and sends (any process); `step` advances every open transaction (the leader's worker);
`wait` follows one transaction until it is final or a time is up (reading what the worker stored).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address
from hexbytes import HexBytes
from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker
from web3 import Web3
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError
from web3.types import TxParams, TxReceipt

from service.chain.errors import DecodedRevert, decode_revert
from service.chain.fees import FeeOracle, Fees
from service.chain.transactions import gas_limit
from service.db.models import RelayerAttempt, RelayerTransaction
from service.db.session import transaction
from service.errors import ChainRejected, ChainUnavailable

log = logging.getLogger(__name__)

NONCE_LOCK_KEY = 0x4855_4252_454C_4159  # "HUBRELAY": the advisory lock that orders nonces across processes
FALLBACK_GAS = 300_000  # a signed request behind an earlier one of the same signer cannot be estimated yet
LOCK_TIMEOUT_MS = 15_000  # the longest a send waits for the nonce lock before it gives up (and is retried)
REORG_WATCH = 30.0  # seconds after it is mined that a transaction is watched for a reorg that drops it (later
# ones are the indexer's: by then it has indexed that block and reports a reorg below its cursor)
REORG_CHECK_EVERY = 5.0  # seconds between those checks while nothing else is open
CHAIN_COUNT_TTL = 1.0  # seconds a nonce read from the chain is reused: the database covers what was sent since


class TxState(StrEnum):
    SIGNED = "signed"  # nonce taken, signed and stored; no node has accepted it yet
    SUBMITTED = "submitted"  # a node accepted an attempt; not mined (or no longer, after a reorg)
    INCLUDED = "included"  # mined with status 1, fewer than `confirmations` blocks deep
    CONFIRMED = "confirmed"  # mined `confirmations` deep, its block canonical when checked
    REVERTED = "reverted"  # mined with status 0: the nonce is used, the call changed nothing
    FAILED = "failed"  # can never be mined: another transaction of the account used its nonce


OPEN = frozenset({TxState.SIGNED, TxState.SUBMITTED, TxState.INCLUDED})
TRANSITIONS: dict[TxState, frozenset[TxState]] = {
    TxState.SIGNED: frozenset(
        {TxState.SUBMITTED, TxState.INCLUDED, TxState.CONFIRMED, TxState.REVERTED, TxState.FAILED}
    ),
    TxState.SUBMITTED: frozenset({TxState.INCLUDED, TxState.CONFIRMED, TxState.REVERTED, TxState.FAILED}),
    TxState.INCLUDED: frozenset({TxState.CONFIRMED, TxState.SUBMITTED, TxState.REVERTED}),
    TxState.CONFIRMED: frozenset({TxState.SUBMITTED}),
    TxState.REVERTED: frozenset({TxState.SUBMITTED}),
    TxState.FAILED: frozenset(),
}


class RelayerError(RuntimeError):
    """A relayed transaction did not do its work (yet); `sent` is its stored state."""

    def __init__(self, message: str, sent: Sent) -> None:
        super().__init__(message)
        self.sent = sent


class TransactionReverted(RelayerError):
    """Mined with status 0; `revert` is the contract's reason when the call could be replayed."""

    def __init__(self, sent: Sent, revert: DecodedRevert | None) -> None:
        reason = f" ({revert})" if revert else ""
        super().__init__(f"transaction {sent.tx_hash} reverted in block {sent.block_number}{reason}", sent)
        self.revert = revert


class TransactionPending(RelayerError):
    """Not final within the time waited; the worker keeps following (and replacing) it."""


class TransactionFailed(RelayerError):
    """Its nonce was used by another transaction of the relayer account: it can never be mined."""


@dataclass(frozen=True)
class Call:
    """A contract call to relay. `build(signer_nonce)` gives {"to", "data"}; with a `signer`, the call carries
    that account's EIP-712 request, signed with the nonce given (`signer_nonce()` reads the chain's)."""

    purpose: str  # anchor | revoke | board
    build: Callable[[int | None], dict[str, Any]]
    signer: str | None = None
    signer_nonce: Callable[[], int] | None = None
    batch_id: str | None = None
    # the work it does (e.g. "revoke:<credential id>"): while a transaction for it is open or done, submitting
    # the same work again returns that transaction instead of sending a second one
    reference: str | None = None
    # the contract that keeps the signer's nonces (registry or board): nonces of one scope are counted together
    scope: str | None = None


@dataclass(frozen=True)
class Sent:
    """A relayer transaction as stored."""

    id: int
    nonce: int
    purpose: str
    state: TxState
    tx_hash: str | None  # the mined attempt, else the newest
    block_number: int | None
    block_hash: str | None
    fees: Fees | None
    attempts: int
    error: str | None
    batch_id: str | None
    signer_nonce: int | None
    data: str
    since: datetime | None = None  # when its newest attempt was sent (or signed, when never sent)

    @classmethod
    def of(cls, row: RelayerTransaction) -> Sent:
        newest = row.attempts[-1] if row.attempts else None
        since = (newest.sent_at or newest.created_at) if newest else None
        return cls(
            id=row.id,
            nonce=row.nonce,
            purpose=row.purpose,
            state=TxState(row.state),
            tx_hash=row.tx_hash or (newest.tx_hash if newest else None),
            block_number=row.block_number,
            block_hash=row.block_hash,
            fees=Fees(int(newest.max_fee), None if newest.priority_fee is None else int(newest.priority_fee))
            if newest
            else None,
            attempts=len(row.attempts),
            error=row.error,
            batch_id=row.batch_id,
            signer_nonce=row.signer_nonce,
            data=row.data,
            since=since if since is None or since.tzinfo else since.replace(tzinfo=UTC),
        )

    @property
    def final(self) -> bool:
        return self.state in (TxState.CONFIRMED, TxState.REVERTED, TxState.FAILED)


class Relayer:
    """Sends from `account`; see the module docstring."""

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        sessions: sessionmaker[Session],
        fees: FeeOracle,
        *,
        error_abis: list[dict[str, Any]] | None = None,
        confirmations: int = 0,
        replace_after: float = 30.0,
        poll_interval: float = 0.5,
    ) -> None:
        self.w3 = w3
        self.account = account
        self.sessions = sessions
        self.fees = fees
        self.error_abis = list(error_abis or [])
        self.confirmations = confirmations
        self.replace_after = replace_after
        self.poll_interval = poll_interval
        self._local = threading.Lock()  # one allocation at a time in this process (all of them on SQLite)
        self.on_submit: Callable[[], None] | None = None  # e.g. wake this process's worker to follow it now
        self._chain_id: int | None = None
        self._chain_counts: dict[tuple[str, ...], tuple[float, int]] = {}
        self._reorg_checked = 0.0  # monotonic time of the last check for dropped transactions
        self._missing: set[int] = set()  # transactions whose nonce is used but whose receipt was not found once
        self._postgres = sessions.kw["bind"].dialect.name == "postgresql"

    @property
    def address(self) -> ChecksumAddress:
        return self.account.address

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self.w3.eth.chain_id)
        return self._chain_id

    # ---------------------------------------------------------------- submit

    def submit(self, call: Call, *, stored: Callable[[Session, RelayerTransaction], None] | None = None) -> Sent:
        """Take the next nonce, sign, store and send `call`; `stored(session, row)` runs in the same database
        transaction (e.g. to mark a batch submitted). The node refusing the bytes leaves it `signed` (retried).

        :raises ChainRejected: the contract refuses the call (gas estimation reverts); nothing is stored.
        :raises ChainUnavailable: the node does not answer before anything is stored.
        """
        try:
            row_id, new = self._sign_and_store(call, stored)
        except (OSError, ConnectionError) as exc:
            raise ChainUnavailable.no_answer(exc, "the relayer's nonce and fees") from exc
        sent = self._broadcast(row_id) if new else self.get(row_id)
        if self.on_submit is not None:
            self.on_submit()
        return sent

    def send(self, call: Call, *, timeout: float) -> TxReceipt:
        """Submit `call` and wait until it is final (`confirmations` deep); its receipt.

        :raises ChainRejected: the contract refuses the call; nothing is sent.
        :raises TransactionReverted, TransactionFailed, TransactionPending: see `wait`.
        """
        sent = self.wait(self.submit(call), timeout=timeout)
        assert sent.tx_hash is not None
        return self.w3.eth.get_transaction_receipt(HexBytes(sent.tx_hash))

    def _sign_and_store(
        self, call: Call, stored: Callable[[Session, RelayerTransaction], None] | None
    ) -> tuple[int, bool]:
        # A call already sent for its reference is that transaction: found before anything asks the node (its gas
        # estimate would now fail on the nonce the first one used); looked up again under the lock for a race.
        if call.reference is not None:
            with self.sessions() as session:
                earlier = self._earlier(session, call.reference)
            if earlier is not None:
                return earlier, False
        # What asks the node happens before the lock (that every process's sends wait for): fees, the chain's
        # nonces, and the gas estimate of the call signed with the signer's nonce as it looks now. Under the lock
        # only the database is read; a signer nonce taken meanwhile means signing again (the estimate holds).
        fees = self.fees.suggest()
        mined = self._chain_count(("relayer",), lambda: self.w3.eth.get_transaction_count(self.address, "latest"))
        with self.sessions() as session:
            provisional, behind = self._signer_nonce(session, call)
        draft = call.build(provisional)
        gas = (
            FALLBACK_GAS if behind else self._gas({**draft, "from": self.address, "value": 0, "chainId": self.chain_id})
        )
        with self._local, transaction(self.sessions) as session:
            if self._postgres:
                session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'"))
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": NONCE_LOCK_KEY})
            if call.reference is not None:
                earlier = self._earlier(session, call.reference)
                if earlier is not None:
                    return earlier, False
            nonce = max(
                mined,
                (
                    session.scalar(
                        select(func.max(RelayerTransaction.nonce)).where(RelayerTransaction.sender == self.address)
                    )
                    or -1
                )
                + 1,
            )
            signer_nonce, _behind = self._signer_nonce(session, call)
            body = draft if signer_nonce == provisional else call.build(signer_nonce)
            tx = {**body, "from": self.address, "value": 0, "chainId": self.chain_id, "nonce": nonce, "gas": gas}
            signed = self.account.sign_transaction({**tx, **fees.fields()})
            row = RelayerTransaction(
                sender=self.address,
                nonce=nonce,
                purpose=call.purpose,
                batch_id=call.batch_id,
                reference=call.reference,
                signer=call.signer,
                signer_nonce=signer_nonce,
                to=tx["to"],
                data=HexBytes(tx["data"]).to_0x_hex(),
                gas=tx["gas"],
                state=TxState.SIGNED,
            )
            row.attempts.append(
                RelayerAttempt(
                    attempt=0,
                    tx_hash=HexBytes(signed.hash).to_0x_hex(),
                    raw=HexBytes(signed.raw_transaction).to_0x_hex(),
                    max_fee=fees.max_fee,
                    priority_fee=fees.priority_fee,
                )
            )
            session.add(row)
            session.flush()
            if stored is not None:
                stored(session, row)
            log.info(
                "relayer: %s transaction %s signed at nonce %s (%s)", call.purpose, row.attempts[0].tx_hash, nonce, fees
            )
            return row.id, True

    @staticmethod
    def _earlier(session: Session, reference: str) -> int | None:
        """The transaction sent for `reference` that may still take effect (not reverted, not failed), if any."""
        earlier = session.scalar(
            select(RelayerTransaction.id)
            .where(
                RelayerTransaction.reference == reference,
                RelayerTransaction.state.not_in([TxState.REVERTED, TxState.FAILED]),
            )
            .order_by(RelayerTransaction.id.desc())
            .limit(1)
        )
        return None if earlier is None else int(earlier)

    def _signer_nonce(self, session: Session, call: Call) -> tuple[int | None, int]:
        """The signer's next request nonce and how many of its requests are not mined yet (then the call cannot be
        estimated on the chain's state: it is valid once they are mined).

        The next nonce is the larger of the chain's (read at most every CHAIN_COUNT_TTL seconds: its age does not
        matter) and one more than the highest the relayer stored for this signer and contract, except those that
        did not execute (reverted, failed): a request mined since the chain was read is in the database."""
        if call.signer is None or call.signer_nonce is None:
            return None, 0
        read = call.signer_nonce
        on_chain = self._chain_count(("signer", call.scope or "", call.signer), read)
        mine: list[ColumnElement[bool]] = [
            RelayerTransaction.signer == call.signer,
            RelayerTransaction.state.not_in([TxState.REVERTED, TxState.FAILED]),
            RelayerTransaction.signer_nonce >= on_chain,
        ]
        if call.scope is not None:
            mine.append(RelayerTransaction.to == call.scope)
        highest = session.scalar(select(func.max(RelayerTransaction.signer_nonce)).where(*mine))
        behind = session.scalar(
            select(func.count())
            .select_from(RelayerTransaction)
            .where(*mine, RelayerTransaction.state.in_([TxState.SIGNED, TxState.SUBMITTED]))
        )
        return (on_chain if highest is None else max(on_chain, int(highest) + 1)), int(behind or 0)

    def _chain_count(self, key: tuple[str, ...], read: Callable[[], int]) -> int:
        """A nonce read from the chain, reused for CHAIN_COUNT_TTL seconds (under the allocation lock)."""
        cached = self._chain_counts.get(key)
        if cached is not None and time.monotonic() - cached[0] < CHAIN_COUNT_TTL:
            return cached[1]
        value = int(read())
        self._chain_counts[key] = (time.monotonic(), value)
        return value

    def _gas(self, tx: dict[str, Any]) -> int:
        """The gas limit of `tx` by estimation.

        :raises ChainRejected: the contract refuses the call (its decoded custom error). A signed request whose
            nonce another thread took meanwhile is refused for its signature: the caller tries again later."""
        try:
            return gas_limit(self.w3.eth.estimate_gas(cast(TxParams, {k: v for k, v in tx.items() if k != "nonce"})))
        except ContractLogicError as exc:
            decoded = decode_revert(exc, self.error_abis)
            if decoded is None:
                raise
            raise ChainRejected(decoded) from exc

    # ---------------------------------------------------------------- follow

    def wait(self, sent: Sent, *, timeout: float, until: frozenset[TxState] | None = None) -> Sent:
        """Follow `sent` (advanced by the worker) until it is final, or in `until`, or `timeout` seconds pass.

        :raises TransactionReverted: it was mined with status 0.
        :raises TransactionFailed: its nonce was used by another transaction.
        :raises TransactionPending: not final in time (it goes on; the answer says where it stands).
        """
        wanted = until or frozenset({TxState.CONFIRMED})
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            current = self.get(sent.id)
            if current.state == TxState.REVERTED:
                raise TransactionReverted(current, self.revert_reason(current))
            if current.state == TxState.FAILED:
                raise TransactionFailed(current.error or "its nonce was used by another transaction", current)
            if current.state in wanted or current.final:
                return current
            if time.monotonic() >= deadline:
                raise TransactionPending(
                    f"transaction {current.tx_hash} is {current.state} (nonce {current.nonce}"
                    f"{', ' + current.error if current.error else ''}); the relayer keeps following it",
                    current,
                )
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, self.poll_interval)

    def get(self, tx_id: int) -> Sent:
        with self.sessions() as session:
            row = session.get(RelayerTransaction, tx_id)
            if row is None:
                raise LookupError(f"no relayer transaction {tx_id}")
            return Sent.of(row)

    def get_many(self, tx_ids: list[int]) -> dict[int, Sent]:
        """The stored transactions `tx_ids`, read in one go (with their attempts)."""
        with self.sessions() as session:
            rows = session.scalars(
                select(RelayerTransaction)
                .options(selectinload(RelayerTransaction.attempts))
                .where(RelayerTransaction.id.in_(tx_ids))
            )
            return {row.id: Sent.of(row) for row in rows}

    def open_count(self) -> int:
        with self.sessions() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(RelayerTransaction)
                    .where(RelayerTransaction.sender == self.address, RelayerTransaction.state.in_(list(OPEN)))
                )
                or 0
            )

    def step(self) -> list[Sent]:
        """Advance every open transaction one step (the worker calls this); return those whose state changed.

        :raises OSError, Web3RPCError: the node does not answer (nothing is half-written)."""
        watch_since = datetime.now(UTC) - timedelta(seconds=REORG_WATCH)
        with self.sessions() as session:
            ids = list(
                session.scalars(
                    select(RelayerTransaction.id)
                    .where(RelayerTransaction.sender == self.address, RelayerTransaction.state.in_(list(OPEN)))
                    .order_by(RelayerTransaction.nonce)
                )
            )
            # mined lately: a reorg may still undo them (an idle relayer with nothing recent asks the node nothing)
            recent = session.scalar(
                select(func.max(RelayerTransaction.nonce)).where(
                    RelayerTransaction.sender == self.address,
                    RelayerTransaction.updated_at >= watch_since,
                    RelayerTransaction.state.in_([TxState.CONFIRMED, TxState.REVERTED]),
                )
            )
        if not ids and (recent is None or time.monotonic() - self._reorg_checked < REORG_CHECK_EVERY):
            return []
        self._reorg_checked = time.monotonic()
        mined_count = int(self.w3.eth.get_transaction_count(self.address, "latest"))
        self._chain_counts[("relayer",)] = (time.monotonic(), mined_count)
        if recent is not None and mined_count <= recent:  # seen mined, its nonce unused again: a reorg
            with self.sessions() as session:
                ids += list(
                    session.scalars(
                        select(RelayerTransaction.id).where(
                            RelayerTransaction.sender == self.address,
                            RelayerTransaction.nonce >= mined_count,
                            RelayerTransaction.state.in_([TxState.CONFIRMED, TxState.REVERTED]),
                        )
                    )
                )
        if not ids:
            return []
        head = int(self.w3.eth.block_number)
        changed = []
        stored = self.get_many(ids)
        for tx_id in ids:
            try:
                before = stored[tx_id]
                after = self._advance(before, mined_count, head)
            except Exception:  # noqa: BLE001 - this one is looked at again next step; the others go on
                log.warning("relayer: transaction %s could not be followed now", tx_id, exc_info=True)
                continue
            if after.state != before.state:
                changed.append(after)
        return changed

    def reorged(self, fork_block: int) -> int:
        """Blocks from `fork_block` on are no longer canonical (the indexer found a reorg): every transaction
        mined there is followed again from `submitted`. Returns how many."""
        with transaction(self.sessions) as session:
            rows = list(
                session.scalars(
                    select(RelayerTransaction).where(
                        RelayerTransaction.sender == self.address,
                        RelayerTransaction.block_number >= fork_block,
                        RelayerTransaction.state.in_([TxState.INCLUDED, TxState.CONFIRMED, TxState.REVERTED]),
                    )
                )
            )
            for row in rows:
                self._move(row, TxState.SUBMITTED, f"its block {row.block_number} left the chain (reorg)")
                row.block_number = row.block_hash = row.tx_hash = None
        return len(rows)

    def revert_reason(self, sent: Sent) -> DecodedRevert | None:
        """The contract's reason for a reverted transaction: its call replayed on the state before its block."""
        if sent.block_number is None:
            return None
        try:
            self.w3.eth.call(
                cast(TxParams, {"from": self.address, "to": self._to(sent), "data": sent.data}),
                block_identifier=max(sent.block_number - 1, 0),
            )
        except ContractLogicError as exc:
            return decode_revert(exc, self.error_abis)
        except (OSError, Web3RPCError, ValueError):
            return None
        return None

    # ---------------------------------------------------------------- one step of one transaction

    def _advance(self, sent: Sent, mined_count: int, head: int) -> Sent:
        if sent.nonce < mined_count:  # its nonce is used: by one of its attempts, or by another transaction
            return self._settle(sent, head)
        if sent.state in (TxState.INCLUDED, TxState.CONFIRMED, TxState.REVERTED):  # mined once, not now: a reorg
            with transaction(self.sessions) as session:
                row = self._row(session, sent.id)
                self._move(row, TxState.SUBMITTED, f"its block {row.block_number} left the chain (reorg)")
                row.block_number = row.block_hash = row.tx_hash = None
            return self._broadcast(sent.id)
        if sent.state == TxState.SIGNED:
            sent = self._broadcast(sent.id)
            if sent.state == TxState.SIGNED and not _fee_refusal(sent.error):
                return sent  # e.g. no funds: the same bytes are sent again at the next step
        return self._replace_if_stuck(sent, mined_count)

    def _settle(self, sent: Sent, head: int) -> Sent:
        receipt = self._receipt_of_any(sent.id)
        with transaction(self.sessions) as session:
            row = self._row(session, sent.id)
            if receipt is None:
                # not found although its nonce is used: a node behind its peers, or another transaction took it.
                # Only a second look in a later step (and never for one seen mined) makes it failed.
                if row.state in (TxState.INCLUDED, TxState.CONFIRMED, TxState.REVERTED) or row.id not in self._missing:
                    self._missing.add(row.id)
                    return Sent.of(row)
                self._missing.discard(row.id)
                self._move(
                    row,
                    TxState.FAILED,
                    f"nonce {row.nonce} was used by another transaction of "
                    f"{self.address}; none of its {len(row.attempts)} attempts was mined",
                )
                return Sent.of(row)
            self._missing.discard(row.id)
            block, block_hash = int(receipt["blockNumber"]), HexBytes(receipt["blockHash"]).to_0x_hex()
            row.tx_hash, row.block_number, row.block_hash = (
                HexBytes(receipt["transactionHash"]).to_0x_hex(),
                block,
                block_hash,
            )
            if receipt["status"] != 1:
                if row.state != TxState.REVERTED:
                    self._move(row, TxState.REVERTED, f"reverted in block {block}")
            elif head - block >= self.confirmations and self._canonical(block, block_hash):
                if row.state != TxState.CONFIRMED:
                    self._move(row, TxState.CONFIRMED, f"{head - block} blocks deep in block {block}")
            elif row.state != TxState.INCLUDED:
                self._move(row, TxState.INCLUDED, f"mined in block {block}")
            return Sent.of(row)

    def _receipt_of_any(self, tx_id: int) -> TxReceipt | None:
        with self.sessions() as session:
            hashes = [attempt.tx_hash for attempt in reversed(self._row(session, tx_id).attempts)]
        for tx_hash in hashes:
            try:
                return self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
            except TransactionNotFound:
                continue
        return None

    def _canonical(self, number: int, block_hash: str) -> bool:
        if self.confirmations == 0:
            return True  # the receipt just read names the block the node holds now
        return HexBytes(self.w3.eth.get_block(number)["hash"]).to_0x_hex() == block_hash

    def _replace_if_stuck(self, sent: Sent, mined_count: int) -> Sent:
        """After `replace_after` seconds unmined: a replacement with higher fees when its fees are what holds it
        (it is the next nonce to be mined, or offers less than a transaction needs now, or a node refused it for
        its fee); else the same bytes again (a node that dropped them takes them back)."""
        if sent.since is not None and (datetime.now(UTC) - sent.since).total_seconds() < self.replace_after:
            return sent  # not stuck yet: no need to read more
        with self.sessions() as session:
            row = self._row(session, sent.id)
            newest = row.attempts[-1]
            previous = Fees(int(newest.max_fee), None if newest.priority_fee is None else int(newest.priority_fee))
            number = newest.attempt
        held_by_fees = (
            sent.nonce == mined_count or _fee_refusal(sent.error) or previous.max_fee < self.fees.suggest().max_fee
        )
        higher = self.fees.replacement(previous) if held_by_fees and not _funds_refusal(sent.error) else None
        if higher is None:  # not its fees, or at the cap: the same bytes again
            return self._broadcast(sent.id)
        tx: dict[str, Any] = {
            "to": self._to(sent),
            "data": sent.data,
            "value": 0,
            "gas": self._row_gas(sent.id),
            "nonce": sent.nonce,
            "chainId": self.chain_id,
            **higher.fields(),
        }
        signed = self.account.sign_transaction(tx)
        try:
            with transaction(self.sessions) as session:
                row = self._row(session, sent.id)
                row.attempts.append(
                    RelayerAttempt(
                        attempt=number + 1,
                        tx_hash=HexBytes(signed.hash).to_0x_hex(),
                        raw=HexBytes(signed.raw_transaction).to_0x_hex(),
                        max_fee=higher.max_fee,
                        priority_fee=higher.priority_fee,
                    )
                )
        except IntegrityError:  # another worker replaced it just now
            return self.get(sent.id)
        log.warning(
            "relayer: transaction at nonce %s not mined after %.0f s: replaced by %s (%s, was %s)",
            sent.nonce,
            self.replace_after,
            HexBytes(signed.hash).to_0x_hex(),
            higher,
            previous,
        )
        return self._broadcast(sent.id)

    def _broadcast(self, tx_id: int) -> Sent:
        """Send the newest attempt's bytes; a node that refuses them leaves the error on the row."""
        with self.sessions() as session:
            row = self._row(session, tx_id)
            newest = row.attempts[-1]
            raw, tx_hash, attempt_id = newest.raw, newest.tx_hash, newest.id
        error = None
        try:
            self.w3.eth.send_raw_transaction(HexBytes(raw))
        except Web3RPCError as exc:
            text_ = str(exc).lower()
            if not any(marker in text_ for marker in _KNOWN):
                error = f"the node refused {tx_hash}: {_rpc_message(exc)}"
        except (OSError, ConnectionError) as exc:
            error = f"the node did not answer when {tx_hash} was sent ({type(exc).__name__})"
        with transaction(self.sessions) as session:
            row = self._row(session, tx_id)
            if error is None:
                session.get(RelayerAttempt, attempt_id).sent_at = datetime.now(UTC)  # type: ignore[union-attr]
                row.error = None
                if row.state == TxState.SIGNED:
                    self._move(row, TxState.SUBMITTED, f"sent as {tx_hash}")
            else:
                if row.error != error:
                    log.warning("relayer: %s", error)
                row.error = error
            return Sent.of(row)

    # ---------------------------------------------------------------- plumbing

    def _move(self, row: RelayerTransaction, to: TxState, why: str) -> None:
        current = TxState(row.state)
        if to not in TRANSITIONS[current]:
            raise RuntimeError(f"relayer transaction {row.id}: no transition from {current} to {to}")
        log.info("relayer: %s transaction at nonce %s: %s -> %s (%s)", row.purpose, row.nonce, current, to, why)
        row.state = to
        row.error = None if to in (TxState.INCLUDED, TxState.CONFIRMED) else row.error

    @staticmethod
    def _row(session: Session, tx_id: int) -> RelayerTransaction:
        row = session.get(RelayerTransaction, tx_id)
        if row is None:
            raise LookupError(f"no relayer transaction {tx_id}")
        return row

    def _row_gas(self, tx_id: int) -> int:
        with self.sessions() as session:
            return int(self._row(session, tx_id).gas)

    def _to(self, sent: Sent) -> str:
        with self.sessions() as session:
            return to_checksum_address(self._row(session, sent.id).to)


# A node's answers that mean "it has these bytes (or this nonce) already": not an error when sending again.
_KNOWN = (
    "already known",
    "already imported",
    "nonce too low",
    "replacement transaction underpriced",
    "known transaction",
    "nonce has already been used",
    "the tx doesn't have the correct nonce",
    "transaction already imported",
)


def _fee_refusal(error: str | None) -> bool:
    """A node refused the bytes for their fees (base fee above the max fee, underpriced): a replacement helps."""
    return error is not None and any(word in error.lower() for word in ("fee", "underpriced", "gas price"))


def _funds_refusal(error: str | None) -> bool:
    """A node refused the bytes because the relayer cannot pay: higher fees would not help."""
    return error is not None and "funds" in error.lower()


def _rpc_message(exc: Web3RPCError) -> str:
    message = getattr(exc, "rpc_response", None)
    if isinstance(message, dict) and isinstance(message.get("error"), dict):
        return str(message["error"].get("message", exc))
    return str(exc)
