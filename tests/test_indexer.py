"""The event indexer against a real chain (anvil and ganache): everything done on chain directly shows up,
a restart resumes from the cursor, pages cover every block once, re-reading changes nothing.

The hub is deployed once per chain with the demo board; each test starts from that state (`isolate`)
with an empty database of its own.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from service.chain.sender import TransactionSender
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3

from service.chain.artifacts import load_artifact
from service.chain.board import Action, BoardClient, VoteType, document_hash
from service.chain.deployment import Deployment, deploy_hub
from service.chain.devchain import DevChain
from service.chain.indexer import Indexer
from service.db.migrate import migrate
from service.db.models import BoardBallot, BoardMember, BoardProposal, ChainEvent, IndexCursor
from service.db.session import make_engine, make_sessionmaker, transaction
from service.demo import ORGANISATIONS, dev_board

ISSUER_INDEX = 13  # NHL Stenden's issuing key in service.demo
MEMBER_INDEXES = [org.board_account for org in ORGANISATIONS]  # 1..6


@pytest.fixture(scope="module")
def deployment(chain: DevChain, accounts: list[LocalAccount]) -> Deployment:
    return deploy_hub(chain.w3, accounts[0], dev_board())


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'index.db'}")
    migrate(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


def make_indexer(chain: DevChain, sessions: sessionmaker[Session], deployment: Deployment, **options: Any) -> Indexer:
    return Indexer(chain.w3, sessions, registry=deployment.registry.address, board=deployment.board.address,
                   start_block=deployment.registry.block, **options)


class OnChain:
    """Board and registry actions sent straight to the chain, each from its own account (no API)."""

    def __init__(self, w3: Web3, deployment: Deployment, accounts: list[LocalAccount]) -> None:
        self.w3 = w3
        self.accounts = accounts
        self.board = BoardClient(w3, deployment.board.address)
        self.registry = w3.eth.contract(address=deployment.registry.address,
                                        abi=load_artifact("CredentialRegistry").abi)
        self._errors = load_artifact("HubBoard").error_abis() + load_artifact("CredentialRegistry").error_abis()

    def send(self, index: int, tx: dict[str, Any]) -> Any:
        return TransactionSender(self.w3, self.accounts[index], error_abis=self._errors).send(tx)

    def member(self, seat: int) -> LocalAccount:
        return self.accounts[MEMBER_INDEXES[seat]]

    def propose(self, seat: int, action: Action, title: str = "Besluit") -> int:
        receipt = self.send(MEMBER_INDEXES[seat], self.board.propose(action, title, document_hash(title)))
        return self.board.created_proposal_id(receipt)

    def vote(self, seat: int, proposal_id: int, support: VoteType = VoteType.FOR, reason: str = "") -> None:
        self.send(MEMBER_INDEXES[seat], self.board.cast_vote(proposal_id, support, reason))

    def recuse(self, seat: int, proposal_id: int, reason: str) -> None:
        self.send(MEMBER_INDEXES[seat], self.board.recuse(proposal_id, reason))

    def execute(self, proposal_id: int, action: Action, title: str = "Besluit") -> None:
        self.send(0, self.board.execute(proposal_id, action, document_hash(title)))

    def decide(self, action: Action, title: str, voters: int) -> int:
        proposal_id = self.propose(0, action, title)
        for seat in range(voters):
            self.vote(seat, proposal_id)
        self.execute(proposal_id, action, title)
        return proposal_id

    def anchor_and_revoke(self, digest: bytes) -> bytes:
        """Anchor a one-credential cohort as NHL Stenden's issuing key, then revoke that credential."""
        root = keccak(keccak(digest))  # a single leaf is the root (abi.encode of one bytes32 is itself)
        issuer = ISSUER_INDEX
        self.send(issuer, {"to": self.registry.address,
                           "data": self.registry.encode_abi("anchor", args=[root, 1, b"\x00" * 32])})
        self.send(issuer, {"to": self.registry.address,
                           "data": self.registry.encode_abi("revoke", args=[root, digest, [], 7])})
        return root


@pytest.fixture
def on_chain(chain: DevChain, deployment: Deployment, accounts: list[LocalAccount], isolate: None) -> OnChain:
    return OnChain(chain.w3, deployment, accounts)


def count(sessions: sessionmaker[Session], model: Any) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)))


def event_names(sessions: sessionmaker[Session]) -> Counter[str]:
    with sessions() as session:
        return Counter(session.scalars(select(ChainEvent.name)))


def snapshot_of_index(sessions: sessionmaker[Session]) -> dict[str, Any]:
    """Everything the indexer wrote, without database ids, to compare two indexes."""
    with sessions() as session:
        return {
            "events": sorted((e.contract, e.name, e.block_number, e.tx_hash, e.log_index, str(e.args))
                             for e in session.scalars(select(ChainEvent))),
            "members": sorted((m.address, m.name, m.added_block, m.removed_block)
                              for m in session.scalars(select(BoardMember))),
            "proposals": sorted((p.id, p.title, p.executed_tx) for p in session.scalars(select(BoardProposal))),
            "ballots": sorted((b.proposal_id, b.member, b.choice, b.reason)
                              for b in session.scalars(select(BoardBallot))),
        }


# ---------------------------------------------------------------- what is indexed


def test_changes_made_on_chain_directly_are_indexed(chain: DevChain, sessions: sessionmaker[Session],
                                                    deployment: Deployment, on_chain: OnChain) -> None:
    issuer = on_chain.accounts[ISSUER_INDEX].address
    accredit = Action.accredit_issuer(issuer, "NHL Stenden")
    first = on_chain.propose(0, accredit, "Accreditatie NHL Stenden")
    on_chain.vote(0, first, VoteType.FOR, "voldoet")
    on_chain.vote(1, first, VoteType.FOR)
    on_chain.vote(2, first, VoteType.AGAINST, "te vroeg")
    on_chain.recuse(3, first, "partner in het programma")
    on_chain.vote(4, first, VoteType.FOR)  # 3 for, 1 against of 5: succeeded
    on_chain.execute(first, accredit, "Accreditatie NHL Stenden")
    root = on_chain.anchor_and_revoke(b"\x11" * 32)
    alfa = on_chain.member(5).address
    removed = on_chain.decide(Action.remove_member(alfa), "Alfa-college treedt terug", voters=5)

    indexer = make_indexer(chain, sessions, deployment)
    head = indexer.catch_up()

    assert head == chain.w3.eth.block_number
    assert indexer.cursor(deployment.board.address) == head
    assert indexer.cursor(deployment.registry.address) == head
    names = event_names(sessions)
    assert names["MemberAdded"] == 6 and names["RulesChanged"] == 1 and names["MemberRemoved"] == 1
    assert names["ProposalCreated"] == 2 and names["ProposalExecuted"] == 2
    assert names["VoteCast"] == 4 + 5 and names["Recused"] == 1
    assert names["IssuerAccredited"] == 1 and names["BatchAnchored"] == 1 and names["CredentialRevoked"] == 1

    with sessions() as session:
        members = {m.address: m for m in session.scalars(select(BoardMember))}
        assert len(members) == 6 and members[alfa].removed_block is not None
        assert members[on_chain.member(0).address].name == "TVM verzekeringen"
        assert members[on_chain.member(0).address].removed_block is None

        proposal = session.get(BoardProposal, first)
        assert (proposal.kind, proposal.subject, proposal.name, proposal.title) == (
            3, issuer, "NHL Stenden", "Accreditatie NHL Stenden")
        assert proposal.document_hash == "0x" + document_hash("Accreditatie NHL Stenden").hex()
        assert (proposal.eligible, proposal.quorum_bps, proposal.threshold_bps) == (6, 5000, 5000)
        assert proposal.executed_tx is not None and proposal.executed_block > proposal.created_block
        assert session.get(BoardProposal, removed).executed_tx is not None

        ballots = {(b.member, b.choice, b.reason) for b in
                   session.scalars(select(BoardBallot).where(BoardBallot.proposal_id == first))}
        assert ballots == {(on_chain.member(0).address, "for", "voldoet"), (on_chain.member(1).address, "for", ""),
                           (on_chain.member(2).address, "against", "te vroeg"),
                           (on_chain.member(3).address, "recused", "partner in het programma"),
                           (on_chain.member(4).address, "for", "")}

        registry_events = {e.name: e for e in session.scalars(
            select(ChainEvent).where(ChainEvent.contract == deployment.registry.address))}
        assert registry_events["IssuerAccredited"].args == {"issuer": issuer, "name": "NHL Stenden"}
        assert registry_events["BatchAnchored"].args == {
            "root": "0x" + root.hex(), "issuer": issuer, "count": 1, "metadataHash": "0x" + "00" * 32,
            "relayer": issuer}
        assert registry_events["CredentialRevoked"].args == {
            "root": "0x" + root.hex(), "credentialDigest": "0x" + "11" * 32, "issuer": issuer, "reason": 7}
        revoked = registry_events["CredentialRevoked"]
        assert revoked.tx_hash == chain.w3.eth.get_block(revoked.block_number)["transactions"][0].to_0x_hex()

        created = session.scalar(select(ChainEvent).where(ChainEvent.name == "ProposalCreated"))
        assert created.args["action"] == {"kind": 3, "subject": issuer, "name": "NHL Stenden",
                                          "rules": {"quorumBps": 0, "majorityBps": 0, "supermajorityBps": 0,
                                                    "votingPeriod": 0, "executionPeriod": 0}}


def test_block_times_are_the_blocks_timestamps(chain: DevChain, sessions: sessionmaker[Session],
                                               deployment: Deployment, on_chain: OnChain) -> None:
    on_chain.propose(0, Action.resolution(), "Tijd")
    make_indexer(chain, sessions, deployment).catch_up()
    with sessions() as session:
        for event in session.scalars(select(ChainEvent)):
            stamp = int(chain.w3.eth.get_block(event.block_number)["timestamp"])
            utc = event.block_time.replace(tzinfo=UTC)  # SQLite gives naive datetimes back; they hold UTC
            assert int(utc.timestamp()) == stamp


def test_ballots_relayed_in_one_multicall_are_each_indexed(chain: DevChain, sessions: sessionmaker[Session],
                                                          deployment: Deployment, on_chain: OnChain) -> None:
    proposal_id = on_chain.propose(0, Action.resolution(), "Vergadering van 1 december")
    deadline = on_chain.board.chain_time() + 600
    ballots = [on_chain.board.sign_ballot(on_chain.member(seat), proposal_id, VoteType.FOR, f"ter vergadering {seat}",
                                          deadline=deadline) for seat in range(4)]
    receipt = on_chain.send(18, on_chain.board.cast_votes_by_sig(ballots))  # any account may relay them
    assert len(on_chain.board.events(receipt, "VoteCast")) == 4

    make_indexer(chain, sessions, deployment).catch_up()
    with sessions() as session:
        indexed = session.scalars(select(BoardBallot).order_by(BoardBallot.id)).all()
    assert [(b.member, b.reason) for b in indexed] == [
        (on_chain.member(seat).address, f"ter vergadering {seat}") for seat in range(4)]
    assert {b.tx_hash for b in indexed} == {receipt["transactionHash"].to_0x_hex()}


# ---------------------------------------------------------------- cursors, restarts, pages


def test_restart_resumes_from_the_cursor(chain: DevChain, sessions: sessionmaker[Session], deployment: Deployment,
                                         on_chain: OnChain, monkeypatch: pytest.MonkeyPatch) -> None:
    proposal_id = on_chain.propose(0, Action.resolution(), "Voor de herstart")
    first = make_indexer(chain, sessions, deployment)
    cursor = first.catch_up()
    first.stop()
    before = event_names(sessions)

    on_chain.vote(1, proposal_id, VoteType.ABSTAIN, "na de herstart")
    ranges: list[tuple[int, int]] = []
    get_logs = chain.w3.eth.get_logs

    def spy(params: Any) -> Any:
        ranges.append((int(params["fromBlock"]), int(params["toBlock"])))
        return get_logs(params)

    monkeypatch.setattr(chain.w3.eth, "get_logs", spy)
    restarted = make_indexer(chain, sessions, deployment)  # a new process: only the database is shared
    head = restarted.catch_up()

    assert ranges == [(cursor + 1, head), (cursor + 1, head)]  # registry, then board: nothing read twice
    after = event_names(sessions)
    assert after - before == Counter({"VoteCast": 1})
    with sessions() as session:
        ballot = session.scalar(select(BoardBallot))
        assert (ballot.proposal_id, ballot.choice, ballot.reason) == (proposal_id, "abstain", "na de herstart")


def test_small_pages_cover_every_block_once(chain: DevChain, sessions: sessionmaker[Session], tmp_path: Path,
                                           deployment: Deployment, on_chain: OnChain,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    proposal_id = on_chain.propose(0, Action.resolution(), "Veel blokken")
    for seat in range(1, 5):
        on_chain.vote(seat, proposal_id, VoteType.FOR, f"stem {seat}")
    reference = make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'reference.db'}"))
    migrate(reference.kw["bind"])
    make_indexer(chain, reference, deployment).catch_up()

    ranges: list[tuple[str, int, int]] = []
    get_logs = chain.w3.eth.get_logs

    def spy(params: Any) -> Any:
        ranges.append((params["address"], int(params["fromBlock"]), int(params["toBlock"])))
        return get_logs(params)

    monkeypatch.setattr(chain.w3.eth, "get_logs", spy)
    head = make_indexer(chain, sessions, deployment, page_blocks=2).catch_up()

    for address in (deployment.registry.address, deployment.board.address):
        pages = [(start, end) for who, start, end in ranges if who == address]
        assert len(pages) > 3
        assert pages[0][0] == deployment.registry.block
        assert pages[-1][1] == head
        assert all(end - start + 1 <= 2 for start, end in pages)
        # no gap, no overlap
        assert all(later[0] == earlier[1] + 1 for earlier, later in zip(pages, pages[1:], strict=False))
    assert snapshot_of_index(sessions) == snapshot_of_index(reference)
    assert count(sessions, BoardBallot) == 4


def test_a_failed_page_keeps_what_came_before_and_the_next_run_completes(
        chain: DevChain, sessions: sessionmaker[Session], deployment: Deployment, on_chain: OnChain,
        monkeypatch: pytest.MonkeyPatch) -> None:
    proposal_id = on_chain.propose(0, Action.resolution(), "Storing")
    for seat in range(1, 4):
        on_chain.vote(seat, proposal_id)
    indexer = make_indexer(chain, sessions, deployment, page_blocks=1)
    get_logs = chain.w3.eth.get_logs
    calls = 0

    def flaky(params: Any) -> Any:
        nonlocal calls
        calls += 1
        if params["address"] == deployment.board.address and int(params["fromBlock"]) == chain.w3.eth.block_number:
            raise ConnectionError("node went away")
        return get_logs(params)

    monkeypatch.setattr(chain.w3.eth, "get_logs", flaky)
    with pytest.raises(ConnectionError):
        indexer.catch_up()
    head = chain.w3.eth.block_number
    assert indexer.cursor(deployment.board.address) == head - 1  # every page before the failure is kept
    assert count(sessions, BoardBallot) == 2

    monkeypatch.setattr(chain.w3.eth, "get_logs", get_logs)
    assert indexer.catch_up() == head
    assert count(sessions, BoardBallot) == 3


def test_reading_a_range_again_changes_nothing(chain: DevChain, sessions: sessionmaker[Session],
                                               deployment: Deployment, on_chain: OnChain) -> None:
    proposal_id = on_chain.propose(0, Action.resolution(), "Twee keer gelezen")
    on_chain.vote(1, proposal_id, VoteType.AGAINST, "nee")
    indexer = make_indexer(chain, sessions, deployment)
    indexer.catch_up()
    once = snapshot_of_index(sessions)
    with transaction(sessions) as session:  # e.g. a cursor restored from an older backup
        session.execute(update(IndexCursor).values(last_block=deployment.registry.block - 1))
    indexer.catch_up()
    assert snapshot_of_index(sessions) == once


def test_confirmations_hold_back_the_newest_blocks(chain: DevChain, sessions: sessionmaker[Session],
                                                   deployment: Deployment, on_chain: OnChain) -> None:
    proposal_id = on_chain.propose(0, Action.resolution(), "Bevestigd")
    on_chain.vote(1, proposal_id)  # the newest block
    indexer = make_indexer(chain, sessions, deployment, confirmations=1)
    assert indexer.catch_up() == chain.w3.eth.block_number - 1
    assert count(sessions, BoardProposal) == 1 and count(sessions, BoardBallot) == 0


def test_background_thread_follows_the_chain_until_stopped(chain: DevChain, sessions: sessionmaker[Session],
                                                           deployment: Deployment, on_chain: OnChain) -> None:
    indexer = make_indexer(chain, sessions, deployment, interval=0.05)
    indexer.start()
    try:
        proposal_id = on_chain.propose(0, Action.resolution(), "Op de achtergrond")
        on_chain.vote(2, proposal_id, VoteType.FOR, "gezien")
        deadline = time.monotonic() + 10
        while count(sessions, BoardBallot) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert count(sessions, BoardBallot) == 1
    finally:
        indexer.stop()
    assert not indexer.running
    indexer.start()  # a stopped indexer starts again (the app's lifespan may run twice)
    assert indexer.running
    indexer.stop()
