"""The event indexer: follows the CredentialRegistry and the HubBoard into the database.

Every event of both contracts becomes a ChainEvent row (decoded with the contracts' ABIs; unique on
(tx_hash, log_index), so writing one twice changes nothing). The board's events also maintain its
projections: BoardMember (MemberAdded/MemberRemoved), BoardProposal (ProposalCreated, ProposalExecuted)
and BoardBallot (VoteCast, Recused). The chain stays the source of truth; the projections make lists
cheap and survive restarts, and they include what was done on chain directly, not through the API.

Each contract has its own cursor (IndexCursor.last_block). Logs are read with eth_getLogs in pages of
`page_blocks` blocks, up to the latest block less `confirmations`; each page is written in one database
transaction together with the cursor, so a crash or restart neither loses nor repeats a page.

`catch_up()` indexes everything there is now, synchronously, under a lock: a route calls it after its
own transaction so that its answer already shows it. `start()` runs catch_up every `interval` seconds
in a background thread until `stop()`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from eth_utils import to_checksum_address
from hexbytes import HexBytes
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3
from web3.contract.contract import ContractEvent
from web3.types import LogReceipt

from service.background import BackgroundWorker
from service.chain.artifacts import load_artifact
from service.chain.board import Action, VoteType
from service.db.models import BoardBallot, BoardMember, BoardProposal, ChainEvent, IndexCursor
from service.db.session import transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FollowedContract:
    """A contract the indexer follows: its address and its events by topic."""

    name: str
    address: str
    events: dict[bytes, ContractEvent]


class Indexer(BackgroundWorker):
    """Follows `registry` and `board` from `start_block` on; see the module docstring."""

    def __init__(self, w3: Web3, sessions: sessionmaker[Session], *, registry: str, board: str,
                 start_block: int = 0, page_blocks: int = 2_000, interval: float = 1.0,
                 confirmations: int = 0) -> None:
        if page_blocks < 1:
            raise ValueError("page_blocks must be at least 1")
        super().__init__("hub-indexer")
        self.w3 = w3
        self.sessions = sessions
        self.start_block = max(0, start_block)
        self.page_blocks = page_blocks
        self.interval = interval
        self.confirmations = confirmations
        self.contracts = [self._follow("CredentialRegistry", registry), self._follow("HubBoard", board)]
        self.board_address = self.contracts[1].address
        self._lock = threading.Lock()

    def _follow(self, artifact: str, address: str) -> FollowedContract:
        contract = self.w3.eth.contract(address=to_checksum_address(address), abi=load_artifact(artifact).abi)
        events = {bytes(HexBytes(event.topic)): event for event in contract.all_events()}
        return FollowedContract(artifact, contract.address, events)

    # ---------------------------------------------------------------- public

    def catch_up(self) -> int:
        """Index every confirmed block there is now; return the last block indexed.

        Thread-safe: a second caller waits for the running catch-up, then reads what is left.

        :raises Exception: the node's or the database's errors (nothing is half-written: pages are atomic).
        """
        with self._lock:
            return self._catch_up(lambda: False)

    def cursor(self, address: str) -> int | None:
        """The last block indexed for the contract at `address` (None before the first page)."""
        with self.sessions() as session:
            row = session.get(IndexCursor, to_checksum_address(address))
            return None if row is None else row.last_block

    # ---------------------------------------------------------------- the loop

    def _run(self) -> None:
        failing = False
        while not self._stopping.is_set():
            try:
                with self._lock:
                    self._catch_up(self._stopping.is_set)
                if failing:
                    log.info("indexer: caught up again")
                failing = False
            except Exception:  # noqa: BLE001 - the loop must survive a node or database outage
                if not failing:
                    log.warning("indexer: catch-up failed; retrying every %.1f s", self.interval, exc_info=True)
                failing = True
            self._stopping.wait(self.interval)

    def _catch_up(self, should_stop: Callable[[], bool]) -> int:
        head = int(self.w3.eth.block_number) - self.confirmations
        for followed in self.contracts:
            cursor = self._cursor(followed.address)
            while cursor < head:
                if should_stop():
                    return cursor
                last = min(cursor + self.page_blocks, head)
                logs = self.w3.eth.get_logs({"address": Web3.to_checksum_address(followed.address),
                                             "fromBlock": cursor + 1, "toBlock": last})
                self._write_page(followed, logs, last)
                cursor = last
        return head

    def _cursor(self, address: str) -> int:
        with self.sessions() as session:
            row = session.get(IndexCursor, address)
            return self.start_block - 1 if row is None else row.last_block

    # ---------------------------------------------------------------- one page

    def _write_page(self, followed: FollowedContract, logs: list[LogReceipt], last_block: int) -> None:
        times: dict[int, datetime] = {}
        with transaction(self.sessions) as session:
            for entry in sorted(logs, key=lambda item: (int(item["blockNumber"]), int(item["logIndex"]))):
                if entry.get("removed"):
                    continue
                event = followed.events.get(bytes(HexBytes(entry["topics"][0]))) if entry["topics"] else None
                if event is None:
                    log.debug("indexer: unknown log %s#%s of %s", entry["transactionHash"], entry["logIndex"],
                              followed.name)
                    continue
                self._write_event(session, followed, event.process_log(entry), self._block_time(entry, times))
            cursor = session.get(IndexCursor, followed.address)
            if cursor is None:
                session.add(IndexCursor(contract=followed.address, last_block=last_block))
            else:
                cursor.last_block = last_block

    def _block_time(self, entry: LogReceipt, cache: dict[int, datetime]) -> datetime:
        number = int(entry["blockNumber"])
        if number not in cache:
            # anvil and recent geth include it; ganache does not. Not in LogReceipt: web3 passes it on unformatted
            stamp = cast(int | str | None, entry.get("blockTimestamp"))
            if stamp is None:
                stamp = self.w3.eth.get_block(number)["timestamp"]
            cache[number] = datetime.fromtimestamp(int(stamp, 16) if isinstance(stamp, str) else int(stamp), UTC)
        return cache[number]

    def _write_event(self, session: Session, followed: FollowedContract, decoded: Any, at: datetime) -> None:
        tx_hash = HexBytes(decoded["transactionHash"]).to_0x_hex()
        log_index = int(decoded["logIndex"])
        seen = session.scalar(select(ChainEvent.id).where(ChainEvent.tx_hash == tx_hash,
                                                          ChainEvent.log_index == log_index))
        if seen is not None:
            return  # indexed before (a re-read range): the projections have it too
        args = {key: value for key, value in decoded["args"].items()}
        block = int(decoded["blockNumber"])
        session.add(ChainEvent(contract=followed.address, name=decoded["event"], block_number=block, block_time=at,
                               tx_hash=tx_hash, log_index=log_index, args=jsonable(args)))
        if followed.address == self.board_address:
            project_board_event(session, decoded["event"], args, block=block, log_index=log_index,
                                tx_hash=tx_hash, at=at)
        session.flush()


def project_board_event(session: Session, name: str, args: dict[str, Any], *, block: int, log_index: int,
                        tx_hash: str, at: datetime) -> None:
    """Apply one HubBoard event to the board projections (members, proposals, ballots, executions)."""
    if name == "MemberAdded":
        address = to_checksum_address(args["member"])
        member = session.get(BoardMember, address)
        if member is None:
            session.add(BoardMember(address=address, name=args["name"], added_block=block, removed_block=None))
        else:  # a former member added again
            member.name, member.added_block, member.removed_block = args["name"], block, None
    elif name == "MemberRemoved":
        member = session.get(BoardMember, to_checksum_address(args["member"]))
        if member is not None:
            member.removed_block = block
    elif name == "ProposalCreated":
        action = Action.from_struct(args["action"])
        session.add(BoardProposal(
            id=int(args["proposalId"]), proposer=to_checksum_address(args["proposer"]), kind=int(action.kind),
            subject=action.subject, name=action.name, rules=_rules_json(action), title=args["title"],
            document_hash=HexBytes(args["documentHash"]).to_0x_hex(), vote_end=int(args["voteEnd"]),
            executable_until=int(args["executableUntil"]), quorum_bps=int(args["quorumBps"]),
            threshold_bps=int(args["thresholdBps"]), eligible=int(args["eligible"]), created_block=block,
            created_log_index=log_index, created_tx=tx_hash, created_at=at))
        session.flush()  # ballots in the same page refer to it
    elif name in ("VoteCast", "Recused"):
        voter = to_checksum_address(args["voter"] if name == "VoteCast" else args["member"])
        choice = VoteType(int(args["support"])).slug if name == "VoteCast" else "recused"
        session.add(BoardBallot(proposal_id=int(args["proposalId"]), member=voter, choice=choice,
                                reason=args["reason"], block_number=block, tx_hash=tx_hash, cast_at=at))
    elif name == "ProposalExecuted":
        proposal = session.get(BoardProposal, int(args["proposalId"]))
        if proposal is not None:
            proposal.executed_block, proposal.executed_log_index = block, log_index
            proposal.executed_tx, proposal.executed_at = tx_hash, at


def _rules_json(action: Action) -> dict[str, int]:
    rules = action.rules
    return {"quorum_bps": rules.quorum_bps, "majority_bps": rules.majority_bps,
            "supermajority_bps": rules.supermajority_bps, "voting_period": rules.voting_period,
            "execution_period": rules.execution_period}


def jsonable(value: Any) -> Any:
    """Decoded event arguments as JSON: bytes as 0x-hex, structs as objects with the ABI's field names."""
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if hasattr(value, "keys"):
        return {str(key): jsonable(value[key]) for key in value}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value
