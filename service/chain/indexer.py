"""The event indexer: follows the CredentialRegistry and the HubBoard into the database.

Every event of both contracts becomes a ChainEvent row (decoded with the contracts' ABIs; the registry's
BatchAnchored, a log without topics that is not in the ABI, by service.chain.anchor_log). The board's events
also maintain its projections: BoardMember (MemberAdded/MemberRemoved), BoardProposal (ProposalCreated,
ProposalExecuted) and BoardBallot (VoteCast, Recused, and MeetingRecorded: one row per ballot of a meeting).
The chain stays the source of truth; the projections make lists cheap and survive restarts, and they include
what was done on chain directly, not through the API.

Reading. Logs of both contracts are read with one eth_getLogs per page of `page_blocks` blocks, up to the
latest block less `confirmations`. Both contracts' cursors (IndexCursor.last_block) move together. Each page
is written in one database transaction together with the cursors, so a crash or restart neither loses nor
skips a page. A poll asks the node for its latest block (all an idle poll costs), then per page for the logs
and for the headers of the page's blocks within the reorg window: a poll that finds one new block costs two
calls.

Several processes. Any number of processes may index into one database. Event rows are written with
INSERT ... ON CONFLICT DO NOTHING on (tx_hash, log_index) and an event's projection is applied only by the
transaction that inserted its row, so an event read twice (by two processes, or after a restart) is stored
and projected once. A cursor is only moved forward (`WHERE last_block < :last`). Page transactions take a
lock first (a transaction-level advisory lock on PostgreSQL, SQLite's write lock), so they do not deadlock
on each other's rows, and check under it that the page still continues the stored index.

Nothing stalls the index. An event that cannot be stored as the chain has it - a `string` argument that is
not UTF-8 or holds NUL characters (PostgreSQL refuses them), one longer than its column in a projection,
arguments that do not decode - is stored in a readable form (invalid bytes as U+FFFD, NUL as the four
characters `\\x00`, projected strings cut to their column) with ChainEvent.problem saying why and
ChainEvent.raw_log holding the log as it is; a warning is logged. Should a page still fail to store, its
events are written one by one, and one that fails again is kept unprojected (or only as its raw log).

Reorgs. The hashes of the last `reorg_window` blocks read are kept (IndexedBlock). Each catch-up first checks
that the newest kept block is still the chain's: against the latest block when it is that block, through
the next page's first block (its parent hash) when it is the cursor, otherwise by asking the node. Kept
blocks above the node's head are not judged (the node may be behind another process's; a chain that got
shorter is judged once it has grown back). Each page is also checked to continue the kept hashes, its own
headers and logs to agree. When the chain has changed, the indexer walks back over the kept hashes to the
newest block that still is the chain's, removes the events from the blocks after it (the fork), undoes
their projections (proposals and ballots from those blocks are deleted, executions from them cleared, the
members they touched replayed from the remaining events), moves the cursors back to fork - 1, logs a warning,
calls the listeners added with `add_reorg_listener(callback)` with the fork block, and reads again. A reorg
deeper than the kept hashes cannot be located: it is logged as an error and the index is rewound by a whole
window (to min(cursor, head) - reorg_window) and read again from there; blocks below that are not checked.

`catch_up()` indexes everything there is now, synchronously, under a lock: a route calls it after its
own transaction so that its answer already shows it. `start()` runs catch_up every `interval` seconds
in a background thread until `stop()`. `last_indexed` and `head_lag()` tell how far the index is.

After each catch-up (the loop's or a caller's), the listeners added with `add_catch_up_listener(callback)`
are called with the last block indexed, outside the index's lock: what is built from the index (the status
lists, service.issuing.status_lists) follows it within one interval. What a listener raises is logged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address
from eth_utils.abi import collapse_if_tuple
from hexbytes import HexBytes
from sqlalchemy import CursorResult, String, delete, false, func, null, select, update
from sqlalchemy.exc import InterfaceError, InternalError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3
from web3.contract.contract import ContractEvent
from web3.exceptions import BlockNotFound
from web3.types import LogReceipt

from service.background import BackgroundWorker
from service.chain.anchor_log import EVENT_NAME, decode_batch_anchored
from service.chain.artifacts import load_artifact
from service.chain.board import Action, MeetingChoice, VoteType
from service.db.models import Base, BoardBallot, BoardMember, BoardProposal, ChainEvent, IndexCursor, IndexedBlock
from service.db.session import dialect_insert, transaction

log = logging.getLogger(__name__)

# The key of the advisory lock that page transactions take on PostgreSQL ("hub_indx" in ASCII).
ADVISORY_LOCK_KEY = 0x6875625F696E6478
DIALECTS = ("postgresql", "sqlite")  # the databases with INSERT ... ON CONFLICT that SQLAlchemy writes
MEMBERSHIP_EVENTS = ("MemberAdded", "MemberRemoved")
MAX_RESTARTS = 5  # catch-up attempts when the chain changes under a page, before giving up until the next poll

# Failures of the database or its connection, not of one event: a page that meets one is tried again later.
_OUTAGES = (OperationalError, InterfaceError, InternalError, PoolTimeout)


class ChainMoved(RuntimeError):
    """The chain changed while a page was read (a reorg), or another process rewound the index: read again."""


@dataclass(frozen=True)
class FollowedContract:
    """A contract the indexer follows: its address and its events by topic."""

    name: str
    address: ChecksumAddress
    events: dict[bytes, ContractEvent]


@dataclass(frozen=True)
class BlockHeader:
    number: int
    hash: str
    parent_hash: str | None  # None when the head came from the head watcher (which does not keep it)
    time: datetime


@dataclass(frozen=True)
class Page:
    """Blocks first..last as read from the node: both contracts' logs, in chain order, and their blocks' times;
    the headers of its first and last block when they are within the reorg window (their hashes are kept, with
    those of the blocks its logs are in)."""

    first: int
    last: int
    logs: list[LogReceipt]
    times: dict[int, datetime]
    headers: dict[int, BlockHeader]


@dataclass(frozen=True)
class Record:
    """One log as it is stored: the event's name, its arguments as JSON, and why it is not stored as is."""

    name: str
    args: dict[str, Any]
    problem: str | None
    raw_log: dict[str, Any]
    decoded: bool  # False: not even a readable form could be decoded (args is empty, nothing is projected)


class Indexer(BackgroundWorker):
    """Follows `registry` and `board` from `start_block` on; see the module docstring."""

    def __init__(
        self,
        w3: Web3,
        sessions: sessionmaker[Session],
        *,
        registry: str,
        board: str,
        start_block: int = 0,
        page_blocks: int = 2_000,
        interval: float = 1.0,
        confirmations: int = 0,
        reorg_window: int = 128,
        latest: Callable[[], tuple[int, bytes, int] | None] | None = None,
    ) -> None:
        if page_blocks < 1:
            raise ValueError("page_blocks must be at least 1")
        if reorg_window < 1:
            raise ValueError("reorg_window must be at least 1")
        bind = sessions.kw.get("bind")
        if bind is not None and bind.dialect.name not in DIALECTS:
            raise ValueError(
                f"the indexer writes with INSERT ... ON CONFLICT: {' or '.join(DIALECTS)}, not {bind.dialect.name}"
            )
        super().__init__("hub-indexer")
        self.w3 = w3
        self.sessions = sessions
        self.start_block = max(0, start_block)
        self.page_blocks = page_blocks
        self.interval = interval
        self.confirmations = confirmations
        self.reorg_window = reorg_window
        self._latest_seen = latest  # the head watcher's fresh head (number, hash, timestamp): no call of our own
        self.contracts = [self._follow("CredentialRegistry", registry), self._follow("HubBoard", board)]
        self.registry_address = self.contracts[0].address
        self.board_address = self.contracts[1].address
        self._addresses = [followed.address for followed in self.contracts]
        self._by_address = {followed.address: followed for followed in self.contracts}
        self._lock = threading.Lock()
        self._reorg_listeners: list[Callable[[int], None]] = []
        self._catch_up_listeners: list[Callable[[int], None]] = []
        self._last_indexed: int | None = None
        self._last_head: int | None = None
        self._verified: tuple[str, int, str] | None = None  # (latest block's hash, block number, hash) checked

    def _follow(self, artifact: str, address: str) -> FollowedContract:
        contract = self.w3.eth.contract(address=to_checksum_address(address), abi=load_artifact(artifact).abi)
        events = {bytes(HexBytes(event.topic)): event for event in contract.all_events()}
        return FollowedContract(artifact, contract.address, events)

    # ---------------------------------------------------------------- public

    def catch_up(self) -> int:
        """Index every confirmed block there is now; return the last block indexed.

        Thread-safe: a second caller waits for the running catch-up, then reads what is left.

        :raises ChainMoved: the chain kept changing under the pages being read.
        :raises Exception: the node's or the database's errors (nothing is lost or doubled: a page is written in
            one transaction with the cursors, or event by event before them, each write idempotent).
        """
        with self._lock:
            last = self._catch_up(lambda: False, ask=True)  # the caller's own write must be in what is read
        self._caught_up(last)
        return last

    def cursor(self, address: str) -> int | None:
        """The last block indexed for the contract at `address` (None before the first page)."""
        with self.sessions() as session:
            row = session.get(IndexCursor, to_checksum_address(address))
            return None if row is None else row.last_block

    def add_catch_up_listener(self, callback: Callable[[int], None]) -> None:
        """Call `callback(last_block)` after each catch-up, outside the index's lock (it may read the index,
        not call `catch_up()`); what it raises is logged."""
        self._catch_up_listeners.append(callback)

    def _caught_up(self, last: int) -> None:
        for listener in list(self._catch_up_listeners):
            try:
                listener(last)
            except Exception:  # one listener's failure must stop neither the others nor the index
                log.exception("indexer: catch-up listener %r failed", listener)

    def add_reorg_listener(self, callback: Callable[[int], None]) -> None:
        """Call `callback(fork_block)` after each rewind for a reorg, before the blocks from `fork_block` on are
        read again. It runs in the indexing thread and must not call `catch_up()`; what it raises is logged."""
        self._reorg_listeners.append(callback)

    @property
    def last_indexed(self) -> int | None:
        """The last block indexed, as this process's latest catch-up left it (None before the first one)."""
        return self._last_indexed

    def head_lag(self) -> int | None:
        """Blocks between the chain's head at the latest catch-up and `last_indexed` (confirmations included);
        None before the first catch-up. From memory: no node or database is asked."""
        if self._last_indexed is None or self._last_head is None:
            return None
        return max(0, self._last_head - self._last_indexed)

    # ---------------------------------------------------------------- the loop

    def _run(self) -> None:
        failing = False
        while not self._stopping.is_set():
            try:
                with self._lock:
                    last = self._catch_up(self._stopping.is_set)
                self._caught_up(last)
                if failing:
                    log.info("indexer: caught up again")
                failing = False
            except Exception:  # the loop must survive a node or database outage
                if not failing:
                    log.warning("indexer: catch-up failed; retrying every %.1f s", self.interval, exc_info=True)
                failing = True
            self._stopping.wait(self.interval)

    def _catch_up(self, should_stop: Callable[[], bool], *, ask: bool = False) -> int:
        latest_from_node = ask  # the latest block from the node, not the head watcher's
        ask = False  # whether to ask the node for the kept blocks' hashes even when the next page would tell
        for attempt in range(MAX_RESTARTS):
            latest = self._latest(ask=latest_from_node or attempt > 0)
            self._last_head = latest.number
            head = latest.number - self.confirmations
            cursor = self._last_indexed = self._verified_cursor(latest, head, ask=ask)
            try:
                while cursor < head and not should_stop():
                    last = min(cursor + self.page_blocks, head)
                    self._write_page(self._read_page(cursor + 1, last, head, latest))
                    cursor = self._last_indexed = last
            except ChainMoved as moved:
                log.info("indexer: %s; reading again", moved)
                ask = True
                continue
            return cursor
        raise ChainMoved(f"the chain kept changing under the index ({MAX_RESTARTS} attempts)")

    def _latest(self, *, ask: bool) -> BlockHeader:
        """The latest block: the head watcher's when it saw one recently (no call), else the node's."""
        seen = None if ask or self._latest_seen is None else self._latest_seen()
        if seen is None:
            return self._header("latest")
        number, block_hash, timestamp = seen
        return BlockHeader(number, HexBytes(block_hash).to_0x_hex(), None, datetime.fromtimestamp(timestamp, UTC))

    def _header(self, block: int | str) -> BlockHeader:
        """:raises BlockNotFound: no such block (any more)."""
        found = self.w3.eth.get_block(cast(Any, block))
        return BlockHeader(
            int(found["number"]),
            HexBytes(found["hash"]).to_0x_hex(),
            HexBytes(found["parentHash"]).to_0x_hex(),
            datetime.fromtimestamp(int(found["timestamp"]), UTC),
        )

    def _cursor(self, session: Session) -> int:
        """The last block indexed: the lower of the contracts' cursors (they move together)."""
        rows = dict(
            session.execute(
                select(IndexCursor.contract, IndexCursor.last_block).where(IndexCursor.contract.in_(self._addresses))
            ).all()
        )
        return min(rows.get(address, self.start_block - 1) for address in self._addresses)

    # ---------------------------------------------------------------- reorgs

    def _verified_cursor(self, latest: BlockHeader, head: int, *, ask: bool) -> int:
        """The cursor, once the newest block kept is known to be still the chain's (rewound if it is not).

        Kept blocks above the node's head are not judged: the node may be behind another process's, and a
        chain that got shorter (evm_revert) is judged once it has grown back to them.
        """
        with self.sessions() as session:
            cursor = self._cursor(session)
            kept = session.execute(
                select(IndexedBlock.number, IndexedBlock.hash)
                .where(IndexedBlock.number <= min(cursor, latest.number))
                .order_by(IndexedBlock.number.desc())
            ).all()
        if not kept:
            return cursor  # nothing to compare (a first run, or an index that stopped far below the head)
        newest, newest_hash = kept[0]
        if (latest.hash, newest, newest_hash) == self._verified:
            return cursor  # the chain's tip has not changed since that block was found on it
        if newest == latest.number and newest_hash == latest.hash:
            self._verified = (latest.hash, newest, newest_hash)
            return cursor
        if not ask and newest == cursor and head - self.reorg_window < cursor < head:
            return cursor  # the next page's first block tells: its parent hash must be this block's (_check_page)
        for position, (number, known) in enumerate(kept):
            if (latest.hash if number == latest.number else self._block_hash(number)) == known:
                if position == 0:
                    self._verified = (latest.hash, newest, newest_hash)
                    return cursor
                fork = number + 1
                break
        else:
            fork = max(self.start_block, min(cursor, head) - self.reorg_window + 1)
            log.error(
                "indexer: none of the %d block hashes kept (blocks %d-%d) is the chain's any more: a reorg "
                "deeper than reorg_window=%d; rewinding to block %d and reading again from there (blocks "
                "below it are not checked)",
                len(kept),
                kept[-1][0],
                kept[0][0],
                self.reorg_window,
                fork - 1,
            )
        self._rewind(fork, cursor)
        return fork - 1

    def _block_hash(self, number: int) -> str | None:
        try:
            return HexBytes(self.w3.eth.get_block(number)["hash"]).to_0x_hex()
        except BlockNotFound:
            return None  # gone since the head was read: the chain got shorter meanwhile

    def _rewind(self, fork: int, cursor: int) -> None:
        with transaction(self.sessions) as session:
            self._lock_index(session)
            removed = self._remove_from(session, fork)
        log.warning(
            "indexer: the chain was reorganised from block %d on (the index stood at %d): %d events "
            "removed, reading again from block %d",
            fork,
            cursor,
            removed,
            fork,
        )
        for listener in list(self._reorg_listeners):
            try:
                listener(fork)
            except Exception:  # one listener's failure must stop neither the others nor the index
                log.exception("indexer: reorg listener %r failed", listener)

    def _remove_from(self, session: Session, fork: int) -> int:
        """Remove what the index holds from blocks >= `fork`; return the number of events removed."""
        board_events = (ChainEvent.contract == self.board_address, ChainEvent.block_number >= fork)
        touched = {
            str(args["member"])
            for args in session.scalars(
                select(ChainEvent.args).where(*board_events, ChainEvent.name.in_(MEMBERSHIP_EVENTS))
            )
            if "member" in args
        }
        removed = cast(
            CursorResult[Any],
            session.execute(
                delete(ChainEvent).where(ChainEvent.contract.in_(self._addresses), ChainEvent.block_number >= fork)
            ),
        ).rowcount
        # every projected row or field comes from one event, except a member's (replayed below)
        session.execute(delete(BoardBallot).where(BoardBallot.block_number >= fork))
        session.execute(delete(BoardProposal).where(BoardProposal.created_block >= fork))
        session.execute(
            update(BoardProposal)
            .where(BoardProposal.executed_block >= fork)
            .values(executed_block=None, executed_log_index=None, executed_tx=None, executed_at=None)
        )
        for address in sorted(touched):
            self._replay_member(session, address)
        session.execute(delete(IndexedBlock).where(IndexedBlock.number >= fork))
        session.execute(
            update(IndexCursor)
            .where(IndexCursor.contract.in_(self._addresses), IndexCursor.last_block >= fork)
            .values(last_block=fork - 1)
        )
        return int(removed)

    def _replay_member(self, session: Session, address: str) -> None:
        session.execute(delete(BoardMember).where(BoardMember.address == address))
        events = session.scalars(
            select(ChainEvent)
            .where(ChainEvent.contract == self.board_address, ChainEvent.name.in_(MEMBERSHIP_EVENTS))
            .order_by(ChainEvent.block_number, ChainEvent.log_index)
        )
        for event in events:
            if event.args.get("member") == address:
                project_board_event(
                    session,
                    event.name,
                    event.args,
                    block=event.block_number,
                    log_index=event.log_index,
                    tx_hash=event.tx_hash,
                    at=event.block_time,
                )

    # ---------------------------------------------------------------- reading a page

    def _read_page(self, first: int, last: int, head: int, latest: BlockHeader) -> Page:
        logs = self.w3.eth.get_logs({"address": self._addresses, "fromBlock": first, "toBlock": last})
        headers: dict[int, BlockHeader] = {}
        # the first block (its parent must be the block indexed last) and the last (the next page's parent):
        # two headers at most per page, however many blocks it spans
        for number in sorted({first, last} & set(range(max(first, head - self.reorg_window + 1), last + 1))):
            # the watcher's head has no parent hash: the first block of a page needs its own (one call)
            watched = number == latest.number and (number != first or latest.parent_hash is not None)
            try:
                headers[number] = latest if watched else self._header(number)
            except BlockNotFound as exc:
                raise ChainMoved(f"block {number} is gone") from exc
            previous = headers.get(number - 1)
            parent = headers[number].parent_hash
            if previous is not None and parent is not None and parent != previous.hash:
                raise ChainMoved(f"block {number} no longer follows block {number - 1}")
        ordered = sorted(
            (entry for entry in logs if not entry.get("removed")),
            key=lambda entry: (int(entry["blockNumber"]), int(entry["logIndex"])),
        )
        times: dict[int, datetime] = {}
        for entry in ordered:
            number = int(entry["blockNumber"])
            header = headers.get(number)
            if header is not None and HexBytes(entry["blockHash"]).to_0x_hex() != header.hash:
                raise ChainMoved(f"a log of block {number} is from another version of that block")
            if number not in times:
                times[number] = header.time if header is not None else self._block_time(entry)
        return Page(first, last, ordered, times, headers)

    def _block_time(self, entry: LogReceipt) -> datetime:
        # anvil and recent geth include it; ganache does not. Not in LogReceipt: web3 passes it on unformatted
        stamp = cast(int | str | None, entry.get("blockTimestamp"))
        if stamp is None:
            stamp = self.w3.eth.get_block(int(entry["blockNumber"]))["timestamp"]
        return datetime.fromtimestamp(int(stamp, 16) if isinstance(stamp, str) else int(stamp), UTC)

    # ---------------------------------------------------------------- writing a page

    def _write_page(self, page: Page) -> None:
        warnings: list[str] = []
        try:
            with transaction(self.sessions) as session:
                self._lock_index(session)
                self._check_page(session, page)
                for entry in page.logs:
                    self._write_entry(session, page, entry, warnings)
                self._finish_page(session, page)
        except (*_OUTAGES, ChainMoved):
            raise
        except Exception as exc:  # one event the database (or a projection) refuses: store them one by one
            log.warning(
                "indexer: blocks %d-%d could not be stored in one transaction (%s: %s); storing their "
                "events one by one",
                page.first,
                page.last,
                type(exc).__name__,
                exc,
            )
            self._write_page_by_event(page)
            return
        for warning in warnings:
            log.warning("%s", warning)

    def _write_page_by_event(self, page: Page) -> None:
        for entry in page.logs:
            failure: Exception | None = None
            for attempt in ("as decoded", "unprojected", "raw"):
                warnings: list[str] = []
                try:
                    with transaction(self.sessions) as session:
                        self._lock_index(session)
                        self._check_page(session, page)
                        self._write_entry(session, page, entry, warnings, failure=failure, keep_args=attempt != "raw")
                except (*_OUTAGES, ChainMoved):
                    raise
                except Exception as exc:  # try the next, plainer form
                    failure = exc
                    continue
                for warning in warnings:
                    log.warning("%s", warning)
                break
            else:
                assert failure is not None
                raise failure
        with transaction(self.sessions) as session:
            self._lock_index(session)
            self._check_page(session, page)
            self._finish_page(session, page)

    def _lock_index(self, session: Session) -> None:
        """Take the index's write lock for this transaction: page transactions of all processes in turn."""
        if session.get_bind().dialect.name == "postgresql":
            session.execute(select(func.pg_advisory_xact_lock(ADVISORY_LOCK_KEY)))
        else:  # a write as the first statement takes SQLite's write lock now, before anything is read
            session.execute(
                update(IndexCursor)
                .where(false())
                .values(last_block=IndexCursor.last_block)
                .execution_options(synchronize_session=False)
            )

    def _check_page(self, session: Session, page: Page) -> None:
        """Ensure the page continues the index as it is stored now: no rewind since, the same blocks kept."""
        cursor = self._cursor(session)
        if cursor < page.first - 1:
            raise ChainMoved(f"the index was rewound to block {cursor} (a reorg, seen by another process)")
        kept = dict(
            session.execute(
                select(IndexedBlock.number, IndexedBlock.hash).where(
                    IndexedBlock.number.between(page.first - 1, page.last)
                )
            ).all()
        )
        for number, header in page.headers.items():
            if kept.get(number, header.hash) != header.hash:
                raise ChainMoved(f"block {number} is not the one indexed before")
            if header.parent_hash is not None and kept.get(number - 1, header.parent_hash) != header.parent_hash:
                raise ChainMoved(f"block {number} does not follow the block {number - 1} indexed before")

    def _finish_page(self, session: Session, page: Page) -> None:
        insert = dialect_insert(session)
        kept = {
            int(entry["blockNumber"]): HexBytes(entry["blockHash"]).to_0x_hex()
            for entry in page.logs
            if int(entry["blockNumber"]) > page.last - self.reorg_window
        }
        kept.update({number: header.hash for number, header in page.headers.items()})
        if kept:
            session.execute(
                insert(IndexedBlock)
                .values([{"number": number, "hash": block_hash} for number, block_hash in sorted(kept.items())])
                .on_conflict_do_nothing(index_elements=[IndexedBlock.number])
            )
        session.execute(delete(IndexedBlock).where(IndexedBlock.number <= page.last - self.reorg_window))
        session.execute(
            insert(IndexCursor)
            .values([{"contract": address, "last_block": page.last} for address in self._addresses])
            .on_conflict_do_nothing(index_elements=[IndexCursor.contract])
        )
        # forward only: another process may have indexed further already
        session.execute(
            update(IndexCursor)
            .where(IndexCursor.contract.in_(self._addresses), IndexCursor.last_block < page.last)
            .values(last_block=page.last)
        )

    def _write_entry(
        self,
        session: Session,
        page: Page,
        entry: LogReceipt,
        warnings: list[str],
        *,
        failure: Exception | None = None,
        keep_args: bool = True,
    ) -> None:
        """Store one log (and project it) unless stored before. After a `failure` to store it: unprojected."""
        followed = self._by_address.get(to_checksum_address(entry["address"]))
        record = None if followed is None else self._record(followed, entry)
        if followed is None or record is None:
            log.debug("indexer: unknown log %s#%s", HexBytes(entry["transactionHash"]).to_0x_hex(), entry["logIndex"])
            return
        problems = [record.problem] if record.problem else []
        if failure is not None:
            problems.append(f"could not be stored: {_describe(failure)}")
        problem = "; ".join(problems) or None
        tx_hash = HexBytes(entry["transactionHash"]).to_0x_hex()
        log_index, block = int(entry["logIndex"]), int(entry["blockNumber"])
        at = page.times[block]
        args = record.args if keep_args else {}
        statement = dialect_insert(session)(ChainEvent).values(
            contract=followed.address,
            name=record.name,
            block_number=block,
            block_time=at,
            tx_hash=tx_hash,
            log_index=log_index,
            args=args,
            problem=problem,
            raw_log=record.raw_log if problem else null(),
        )
        inserted = session.scalar(
            statement.on_conflict_do_nothing(index_elements=[ChainEvent.tx_hash, ChainEvent.log_index]).returning(
                ChainEvent.id
            )
        )
        if inserted is None:
            return  # stored before (a re-read range, or another process): the projections have it too
        if problem:
            warnings.append(
                f"indexer: {record.name} of {followed.name} in block {block} (tx {tx_hash}, log "
                f"{log_index}) is not stored as is: {problem}"
            )
        if followed.address == self.board_address and record.decoded and failure is None:
            project_board_event(session, record.name, args, block=block, log_index=log_index, tx_hash=tx_hash, at=at)

    # ---------------------------------------------------------------- decoding

    def _record(self, followed: FollowedContract, entry: LogReceipt) -> Record | None:
        """The log as it is stored, or None for a log that is none of the contract's events."""
        topics = entry["topics"]
        raw_log = {
            "topics": [HexBytes(topic).to_0x_hex() for topic in topics],
            "data": HexBytes(entry["data"]).to_0x_hex(),
        }
        if not topics and followed.address == self.registry_address:
            # the registry's BatchAnchored: no topics, issuer and root as data (service.chain.anchor_log)
            anchored = decode_batch_anchored([], bytes(HexBytes(entry["data"])))
            if anchored is None:
                return None
            return Record(EVENT_NAME, {"issuer": anchored[0], "root": "0x" + anchored[1].hex()}, None, raw_log, True)
        event = followed.events.get(bytes(HexBytes(topics[0]))) if topics else None
        if event is None:
            return None
        name = str(event.abi["name"])
        problems: list[str] = []
        try:
            args = jsonable(dict(event.process_log(entry)["args"]))
        except Exception as exc:  # whatever the decoder refuses: read it with `string` as `bytes`
            problems.append(f"does not decode ({_describe(exc)})")
            try:
                args = jsonable(_decode_leniently(self.w3, cast(dict[str, Any], event.abi), entry))
            except Exception as again:  # not even that: the raw log is all there is
                problems.append(f"nor with its strings as bytes ({_describe(again)})")
                return Record(name, {}, "; ".join(problems), raw_log, decoded=False)
            problems.append("its strings read as UTF-8 with invalid bytes replaced by U+FFFD")
        args = _escape_nul(args, "", problems)
        if followed.address == self.board_address:
            problems += _oversized(name, args)
        return Record(name, args, "; ".join(problems) or None, raw_log, decoded=True)


# ---------------------------------------------------------------- the board's projections


def _column_length(model: type[Base], column: str) -> int:
    length = cast(String, model.__table__.c[column].type).length
    assert length is not None
    return length


MEMBER_NAME_LENGTH = _column_length(BoardMember, "name")
PROPOSAL_NAME_LENGTH = _column_length(BoardProposal, "name")


def _fit(text: str, length: int) -> str:
    """`text` cut to `length` characters, the last of them an ellipsis when it was longer."""
    return text if len(text) <= length else text[: length - 1] + "…"


def _oversized(name: str, args: dict[str, Any]) -> list[str]:
    """What the projection of board event `name` will have to cut."""
    if name == "MemberAdded":
        path, value, length, column = "name", args.get("name"), MEMBER_NAME_LENGTH, "board_members.name"
    elif name == "ProposalCreated" and isinstance(args.get("action"), dict):
        path, value, length, column = (
            "action.name",
            args["action"].get("name"),
            PROPOSAL_NAME_LENGTH,
            "board_proposals.name",
        )
    else:
        return []
    if isinstance(value, str) and len(value) > length:
        return [f"{path} is {len(value)} characters long: cut to the {length} of {column}"]
    return []


def project_board_event(
    session: Session, name: str, args: dict[str, Any], *, block: int, log_index: int, tx_hash: str, at: datetime
) -> None:
    """Apply one HubBoard event, as stored in ChainEvent.args, to the board projections (members, proposals,
    ballots, executions). Call it once per event, in chain order: the indexer does so for the event rows it
    inserts."""
    insert = dialect_insert(session)
    if name == "MemberAdded":
        added = insert(BoardMember).values(
            address=to_checksum_address(args["member"]),
            name=_fit(args["name"], MEMBER_NAME_LENGTH),
            added_block=block,
            removed_block=None,
        )
        session.execute(
            added.on_conflict_do_update(  # a former member added again
                index_elements=[BoardMember.address],
                set_={"name": added.excluded.name, "added_block": added.excluded.added_block, "removed_block": None},
            )
        )
    elif name == "MemberRemoved":
        session.execute(
            update(BoardMember)
            .where(BoardMember.address == to_checksum_address(args["member"]))
            .values(removed_block=block)
        )
    elif name == "ProposalCreated":
        action = Action.from_struct(args["action"])
        session.execute(
            insert(BoardProposal)
            .values(
                id=int(args["proposalId"]),
                proposer=to_checksum_address(args["proposer"]),
                kind=int(action.kind),
                subject=action.subject,
                name=_fit(action.name, PROPOSAL_NAME_LENGTH),
                key_hash=HexBytes(action.key_hash).to_0x_hex() if action.kind.uses_key else None,
                rules=_rules_json(action),
                title=args["title"],
                document_hash=HexBytes(args["documentHash"]).to_0x_hex(),
                vote_end=int(args["voteEnd"]),
                executable_until=int(args["executableUntil"]),
                quorum_bps=int(args["quorumBps"]),
                threshold_bps=int(args["thresholdBps"]),
                eligible=int(args["eligible"]),
                created_block=block,
                created_log_index=log_index,
                created_tx=tx_hash,
                created_at=at,
            )
            .on_conflict_do_nothing(index_elements=[BoardProposal.id])
        )
    elif name in ("VoteCast", "Recused"):
        voter = to_checksum_address(args["voter"] if name == "VoteCast" else args["member"])
        choice = VoteType(int(args["support"])).slug if name == "VoteCast" else "recused"
        session.execute(
            insert(BoardBallot)
            .values(
                proposal_id=int(args["proposalId"]),
                member=voter,
                choice=choice,
                reason=args["reason"],
                block_number=block,
                tx_hash=tx_hash,
                cast_at=at,
            )
            .on_conflict_do_nothing(index_elements=[BoardBallot.proposal_id, BoardBallot.member])
        )
    elif name == "MeetingRecorded":
        # A meeting's ballots in one event: one BoardBallot row each, as VoteCast would have made.
        voters, reasons = list(args["voters"]), list(args["reasons"])
        choices = HexBytes(args["choices"])
        for i, voter in enumerate(voters):
            session.execute(
                insert(BoardBallot)
                .values(
                    proposal_id=int(args["proposalId"]),
                    member=to_checksum_address(voter),
                    choice=MeetingChoice(choices[i]).slug,  # a recusal is choice 3 (MEETING_RECUSAL)
                    reason=reasons[i] if reasons else "",
                    block_number=block,
                    tx_hash=tx_hash,
                    cast_at=at,
                )
                .on_conflict_do_nothing(index_elements=[BoardBallot.proposal_id, BoardBallot.member])
            )
    elif name == "ProposalExecuted":
        session.execute(
            update(BoardProposal)
            .where(BoardProposal.id == int(args["proposalId"]))
            .values(executed_block=block, executed_log_index=log_index, executed_tx=tx_hash, executed_at=at)
        )


def _rules_json(action: Action) -> dict[str, int]:
    rules = action.rules
    return {
        "quorum_bps": rules.quorum_bps,
        "majority_bps": rules.majority_bps,
        "supermajority_bps": rules.supermajority_bps,
        "voting_period": rules.voting_period,
        "execution_period": rules.execution_period,
    }


# ---------------------------------------------------------------- arguments as JSON


def jsonable(value: Any) -> Any:
    """Decoded event arguments as JSON: bytes as 0x-hex, structs as objects with the ABI's field names,
    integers beyond 64 bits (orjson's limit) as decimal strings."""
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if hasattr(value, "keys"):
        return {str(key): jsonable(value[key]) for key in value}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**64:
        return str(value)
    return value


def _escape_nul(value: Any, path: str, problems: list[str]) -> Any:
    """`value` (JSON) with NUL characters in strings written as `\\x00` (PostgreSQL's text and JSON refuse NUL)."""
    if isinstance(value, str):
        if "\x00" in value:
            problems.append(f"NUL characters in {path or 'a string'} written as \\x00")
            return value.replace("\x00", "\\x00")
        return value
    if isinstance(value, dict):
        return {key: _escape_nul(item, f"{path}.{key}" if path else key, problems) for key, item in value.items()}
    if isinstance(value, list):
        return [_escape_nul(item, f"{path}[{index}]", problems) for index, item in enumerate(value)]
    return value


def _decode_leniently(w3: Web3, event_abi: dict[str, Any], entry: LogReceipt) -> dict[str, Any]:
    """The log's arguments decoded with every `string` read as `bytes` (the same encoding), then as UTF-8 with
    invalid bytes replaced by U+FFFD. Indexed arguments of dynamic types stay their topic (a hash)."""
    inputs = event_abi.get("inputs", [])
    topics = iter(entry["topics"][1:])
    data_inputs = [item for item in inputs if not item.get("indexed")]
    data = iter(
        w3.codec.decode([collapse_if_tuple(_strings_as_bytes(item)) for item in data_inputs], HexBytes(entry["data"]))
    )
    args: dict[str, Any] = {}
    for item in inputs:
        if not item.get("indexed"):
            args[item["name"]] = _readable(next(data), item)
        elif item["type"] in ("string", "bytes", "tuple") or item["type"].endswith("]"):
            args[item["name"]] = HexBytes(next(topics))
        else:
            args[item["name"]] = _readable(w3.codec.decode([item["type"]], HexBytes(next(topics)))[0], item)
    return args


def _strings_as_bytes(item: dict[str, Any]) -> dict[str, Any]:
    swapped = {**item, "type": item["type"].replace("string", "bytes")}
    if "components" in item:
        swapped["components"] = [_strings_as_bytes(component) for component in item["components"]]
    return swapped


def _readable(value: Any, item: dict[str, Any]) -> Any:
    """A value decoded with `string` as `bytes`, as web3 gives it: text, checksum addresses, named structs."""
    kind = item["type"]
    if kind.endswith("]"):
        inner = {**item, "type": kind[: kind.rindex("[")]}
        return [_readable(element, inner) for element in cast(Iterable[Any], value)]
    if kind == "string":
        return bytes(value).decode("utf-8", errors="replace")
    if kind == "address":
        return to_checksum_address(value)
    if kind == "tuple":
        return {
            component["name"]: _readable(element, component)
            for component, element in zip(item["components"], value, strict=True)
        }
    return value


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".replace("\x00", "\\x00")
    return text if len(text) <= 500 else text[:499] + "…"
