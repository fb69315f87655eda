"""The event indexer against a real chain (anvil and ganache): everything done on chain directly shows up,
a restart resumes from the cursor, pages cover every block once, re-reading changes nothing; several
indexers on one database store each event once; an event that cannot be stored as it is is kept readable
and raw; a reorg (evm_revert on both chains, anvil_reorg on anvil) removes what the lost blocks held.

The hub is deployed once per chain with the demo board; each test starts from that state (`isolate`)
with an empty database of its own: SQLite, or for the tests marked BOTH_DATABASES also PostgreSQL (the
session's `postgres` cluster, tests/postgres.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from hexbytes import HexBytes
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker
from web3 import Web3

from service.chain.artifacts import load_artifact
from service.chain.board import Action, BoardClient, VoteType, document_hash
from service.chain.deployment import Deployment, deploy_hub
from service.chain.devchain import DevChain
from service.chain.indexer import Indexer
from service.chain.transactions import send
from service.db.migrate import migrate
from service.db.models import BoardBallot, BoardMember, BoardProposal, ChainEvent, IndexCursor, IndexedBlock
from service.db.session import make_engine, make_sessionmaker, transaction
from service.demo import ORGANISATIONS, dev_board
from service.issuing.signing_keys import dev_signing_key, key_hash
from tests.chain import propose_calldata, revert_to, rpc, snapshot

ISSUER_INDEX = 13  # NHL Stenden's issuing key in service.demo
MEMBER_INDEXES = [org.board_account for org in ORGANISATIONS]  # 1..6
CAST_VOTE = "castVote(uint256,uint8,string)"


@pytest.fixture(scope="module")
def deployment(chain: DevChain, accounts: list[LocalAccount]) -> Deployment:
    return deploy_hub(chain.w3, accounts[0], dev_board())


@pytest.fixture
def sessions(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """An empty migrated database: SQLite, or PostgreSQL when parametrized so (BOTH_DATABASES)."""
    if getattr(request, "param", "sqlite") == "postgresql":
        url = request.getfixturevalue("postgres").new_database()
    else:
        url = f"sqlite:///{tmp_path / 'index.db'}"
    engine = make_engine(url)
    migrate(engine)
    yield make_sessionmaker(engine)
    engine.dispose()


BOTH_DATABASES = pytest.mark.parametrize("sessions", ["sqlite", "postgresql"], indirect=True)


def other_process(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Sessions of their own engine (a pool of its own) on the same database, as another process has."""
    url = sessions.kw["bind"].url.render_as_string(hide_password=False)
    return make_sessionmaker(make_engine(url))


def make_indexer(chain: DevChain, sessions: sessionmaker[Session], deployment: Deployment, **options: Any) -> Indexer:
    return Indexer(
        chain.w3,
        sessions,
        registry=deployment.registry.address,
        board=deployment.board.address,
        start_block=deployment.registry.block,
        **options,
    )


class OnChain:
    """Board and registry actions sent straight to the chain, each from its own account (no API)."""

    def __init__(self, w3: Web3, deployment: Deployment, accounts: list[LocalAccount]) -> None:
        self.w3 = w3
        self.accounts = accounts
        self.board = BoardClient(w3, deployment.board.address)
        self.registry = w3.eth.contract(
            address=deployment.registry.address, abi=load_artifact("CredentialRegistry").abi
        )

    def send(self, index: int, tx: dict[str, Any]) -> Any:
        return send(self.w3, {**tx, "gasPrice": self.w3.eth.gas_price}, self.accounts[index])

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

    def propose_raw(
        self,
        seat: int,
        title: bytes,
        kind: int = 0,
        subject: str = "0x" + "00" * 20,
        name: bytes = b"",
        key_hash: bytes = b"\x00" * 32,
    ) -> int:
        """propose() with calldata encoded by hand: `title` and the action's `name` are any bytes, UTF-8 or
        not (web3's contract functions only take text). The proposal id comes from the log's first topic,
        which needs no decoding."""
        receipt = self.send(
            MEMBER_INDEXES[seat],
            {
                "to": self.board.address,
                "data": propose_calldata(title, kind=kind, subject=subject, name=name, key_hash=key_hash),
            },
        )
        created = self.board.contract.events.ProposalCreated().topic
        [entry] = [entry for entry in receipt["logs"] if HexBytes(entry["topics"][0]) == HexBytes(created)]
        return int.from_bytes(entry["topics"][1], "big")

    def vote_raw(self, seat: int, proposal_id: int, reason: bytes) -> None:
        """castVote(proposal_id, For, reason) with `reason` any bytes."""
        arguments = abi_encode(["uint256", "uint8", "bytes"], [proposal_id, int(VoteType.FOR), reason])
        self.send(
            MEMBER_INDEXES[seat],
            {"to": self.board.address, "data": "0x" + (keccak(text=CAST_VOTE)[:4] + arguments).hex()},
        )

    def anchor_and_revoke(self, digest: bytes) -> bytes:
        """Anchor a one-credential cohort as NHL Stenden's issuing key, then revoke that credential."""
        root = keccak(keccak(digest))  # a single leaf is the root (abi.encode of one bytes32 is itself)
        issuer = ISSUER_INDEX
        self.send(
            issuer,
            {"to": self.registry.address, "data": self.registry.encode_abi("anchor", args=[root, 1, b"\x00" * 32])},
        )
        self.send(
            issuer,
            {"to": self.registry.address, "data": self.registry.encode_abi("revoke", args=[root, digest, [], 7])},
        )
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
            "events": sorted(
                (e.contract, e.name, e.block_number, e.tx_hash, e.log_index, str(e.args))
                for e in session.scalars(select(ChainEvent))
            ),
            "members": sorted(
                (m.address, m.name, m.added_block, m.removed_block) for m in session.scalars(select(BoardMember))
            ),
            "proposals": sorted((p.id, p.title, p.executed_tx) for p in session.scalars(select(BoardProposal))),
            "ballots": sorted(
                (b.proposal_id, b.member, b.choice, b.reason) for b in session.scalars(select(BoardBallot))
            ),
        }


# ---------------------------------------------------------------- what is indexed


def test_changes_made_on_chain_directly_are_indexed(
    chain: DevChain, sessions: sessionmaker[Session], deployment: Deployment, on_chain: OnChain
) -> None:
    issuer = on_chain.accounts[ISSUER_INDEX].address
    accredit = Action.accredit_issuer(issuer, "NHL Stenden", key_hash(dev_signing_key(issuer)))
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
            3,
            issuer,
            "NHL Stenden",
            "Accreditatie NHL Stenden",
        )
        assert proposal.document_hash == "0x" + document_hash("Accreditatie NHL Stenden").hex()
        assert (proposal.eligible, proposal.quorum_bps, proposal.threshold_bps) == (6, 5000, 5000)
        assert proposal.executed_tx is not None and proposal.executed_block > proposal.created_block
        assert session.get(BoardProposal, removed).executed_tx is not None

        ballots = {
            (b.member, b.choice, b.reason)
            for b in session.scalars(select(BoardBallot).where(BoardBallot.proposal_id == first))
        }
        assert ballots == {
            (on_chain.member(0).address, "for", "voldoet"),
            (on_chain.member(1).address, "for", ""),
            (on_chain.member(2).address, "against", "te vroeg"),
            (on_chain.member(3).address, "recused", "partner in het programma"),
            (on_chain.member(4).address, "for", ""),
        }

        registry_events = {
            e.name: e
            for e in session.scalars(select(ChainEvent).where(ChainEvent.contract == deployment.registry.address))
        }
        signing_key = "0x" + key_hash(dev_signing_key(issuer)).hex()
        assert registry_events["IssuerAccredited"].args == {
            "issuer": issuer,
            "name": "NHL Stenden",
            "keyHash": signing_key,
        }
        assert proposal.key_hash == signing_key
        assert registry_events["BatchAnchored"].args == {"root": "0x" + root.hex(), "issuer": issuer}
        assert registry_events["CredentialRevoked"].args == {
            "root": "0x" + root.hex(),
            "credentialDigest": "0x" + "11" * 32,
            "issuer": issuer,
            "reason": 7,
        }
        revoked = registry_events["CredentialRevoked"]
        assert revoked.tx_hash == chain.w3.eth.get_block(revoked.block_number)["transactions"][0].to_0x_hex()

        created = session.scalar(select(ChainEvent).where(ChainEvent.name == "ProposalCreated"))
        assert created.args["action"] == {
            "kind": 3,
            "subject": issuer,
            "name": "NHL Stenden",
            "keyHash": signing_key,
            "rules": {"quorumBps": 0, "majorityBps": 0, "supermajorityBps": 0, "votingPeriod": 0, "executionPeriod": 0},
        }


def test_block_times_are_the_blocks_timestamps(
    chain: DevChain, sessions: sessionmaker[Session], deployment: Deployment, on_chain: OnChain
) -> None:
    on_chain.propose(0, Action.resolution(), "Tijd")
    make_indexer(chain, sessions, deployment).catch_up()
    with sessions() as session:
        for event in session.scalars(select(ChainEvent)):
            stamp = int(chain.w3.eth.get_block(event.block_number)["timestamp"])
            utc = event.block_time.replace(tzinfo=UTC)  # SQLite gives naive datetimes back; they hold UTC
            assert int(utc.timestamp()) == stamp


def test_ballots_relayed_in_one_multicall_are_each_indexed(
    chain: DevChain, sessions: sessionmaker[Session], deployment: Deployment, on_chain: OnChain
) -> None:
    proposal_id = on_chain.propose(0, Action.resolution(), "Vergadering van 1 december")
    deadline = on_chain.board.chain_time() + 600
    ballots = [
        on_chain.board.sign_ballot(
            on_chain.member(seat), proposal_id, VoteType.FOR, f"ter vergadering {seat}", deadline=deadline
        )
        for seat in range(4)
    ]
    receipt = on_chain.send(18, on_chain.board.cast_votes_by_sig(ballots))  # any account may relay them
    assert len(on_chain.board.events(receipt, "VoteCast")) == 4

    make_indexer(chain, sessions, deployment).catch_up()
    with sessions() as session:
        indexed = session.scalars(select(BoardBallot).order_by(BoardBallot.id)).all()
    assert [(b.member, b.reason) for b in indexed] == [
        (on_chain.member(seat).address, f"ter vergadering {seat}") for seat in range(4)
    ]
    assert {b.tx_hash for b in indexed} == {receipt["transactionHash"].to_0x_hex()}


@pytest.mark.parametrize(
    "reasons",
    [
        pytest.param(["akkoord", "", "tegen de kosten", "", ""], id="some-reasons"),
        pytest.param([""] * 5, id="no-reasons"),
    ],
)
def test_a_recorded_meeting_is_indexed_as_one_ballot_per_member(
    chain: DevChain, sessions: sessionmaker[Session], deployment: Deployment, on_chain: OnChain, reasons: list[str]
) -> None:
    """recordMeeting logs its ballots in one MeetingRecorded (its reasons only when any is given); the indexer
    makes of it the same BoardBallot rows as one VoteCast per ballot would have."""
    board = on_chain.board
    title = "Vergadering van 4 december"
    proposal = board.sign_proposal(
        on_chain.member(0), Action.resolution(), title, document_hash(title), deadline=board.chain_time() + 600
    )
    supports = [VoteType.FOR, VoteType.ABSTAIN, VoteType.AGAINST, VoteType.FOR, VoteType.FOR]
    ballots = [
        board.sign_meeting_ballot(on_chain.member(seat), proposal, support, reason)
        for seat, (support, reason) in enumerate(zip(supports, reasons, strict=True))
    ]
    receipt = on_chain.send(18, board.record_meeting(proposal, ballots))
    assert board.events(receipt, "VoteCast") == []
    proposal_id = board.created_proposal_id(receipt)

    make_indexer(chain, sessions, deployment).catch_up()
    with sessions() as session:
        indexed = session.scalars(select(BoardBallot).order_by(BoardBallot.id)).all()
    assert [(b.proposal_id, b.member, b.choice, b.reason) for b in indexed] == [
        (proposal_id, on_chain.member(seat).address, support.slug, reason)
        for seat, (support, reason) in enumerate(zip(supports, reasons, strict=True))
    ]
    assert {b.tx_hash for b in indexed} == {receipt["transactionHash"].to_0x_hex()}
    assert event_names(sessions)["MeetingRecorded"] == 1


# ---------------------------------------------------------------- cursors, restarts, pages


def test_restart_resumes_from_the_cursor(
    chain: DevChain,
    sessions: sessionmaker[Session],
    deployment: Deployment,
    on_chain: OnChain,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
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

    assert ranges == [(cursor + 1, head)]  # one eth_getLogs for both contracts: nothing read twice
    assert restarted.catch_up() == head and len(ranges) == 1  # nothing new: no eth_getLogs at all
    after = event_names(sessions)
    assert after - before == Counter({"VoteCast": 1})
    with sessions() as session:
        ballot = session.scalar(select(BoardBallot))
        assert (ballot.proposal_id, ballot.choice, ballot.reason) == (proposal_id, "abstain", "na de herstart")


def test_small_pages_cover_every_block_once(
    chain: DevChain,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    deployment: Deployment,
    on_chain: OnChain,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proposal_id = on_chain.propose(0, Action.resolution(), "Veel blokken")
    for seat in range(1, 5):
        on_chain.vote(seat, proposal_id, VoteType.FOR, f"stem {seat}")
    reference = make_sessionmaker(make_engine(f"sqlite:///{tmp_path / 'reference.db'}"))
    migrate(reference.kw["bind"])
    make_indexer(chain, reference, deployment).catch_up()

    ranges: list[tuple[list[str], int, int]] = []
    get_logs = chain.w3.eth.get_logs

    def spy(params: Any) -> Any:
        ranges.append((params["address"], int(params["fromBlock"]), int(params["toBlock"])))
        return get_logs(params)

    monkeypatch.setattr(chain.w3.eth, "get_logs", spy)
    head = make_indexer(chain, sessions, deployment, page_blocks=2).catch_up()

    assert all(who == [deployment.registry.address, deployment.board.address] for who, _, _ in ranges)
    pages = [(start, end) for _, start, end in ranges]
    assert len(pages) > 3
    assert pages[0][0] == deployment.registry.block
    assert pages[-1][1] == head
    assert all(end - start + 1 <= 2 for start, end in pages)
    # no gap, no overlap
    assert all(later[0] == earlier[1] + 1 for earlier, later in zip(pages, pages[1:], strict=False))
    assert snapshot_of_index(sessions) == snapshot_of_index(reference)
    assert count(sessions, BoardBallot) == 4


def test_a_failed_page_keeps_what_came_before_and_the_next_run_completes(
    chain: DevChain,
    sessions: sessionmaker[Session],
    deployment: Deployment,
    on_chain: OnChain,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proposal_id = on_chain.propose(0, Action.resolution(), "Storing")
    for seat in range(1, 4):
        on_chain.vote(seat, proposal_id)
    indexer = make_indexer(chain, sessions, deployment, page_blocks=1)
    get_logs = chain.w3.eth.get_logs
    calls = 0

    def flaky(params: Any) -> Any:
        nonlocal calls
        calls += 1
        if int(params["fromBlock"]) == chain.w3.eth.block_number:
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


def test_reading_a_range_again_changes_nothing(
    chain: DevChain, sessions: sessionmaker[Session], deployment: Deployment, on_chain: OnChain
) -> None:
    proposal_id = on_chain.propose(0, Action.resolution(), "Twee keer gelezen")
    on_chain.vote(1, proposal_id, VoteType.AGAINST, "nee")
    indexer = make_indexer(chain, sessions, deployment)
    indexer.catch_up()
    once = snapshot_of_index(sessions)
    with transaction(sessions) as session:  # e.g. a cursor restored from an older backup
        session.execute(update(IndexCursor).values(last_block=deployment.registry.block - 1))
    indexer.catch_up()
    assert snapshot_of_index(sessions) == once


def test_confirmations_hold_back_the_newest_blocks(
    chain: DevChain, sessions: sessionmaker[Session], deployment: Deployment, on_chain: OnChain
) -> None:
    proposal_id = on_chain.propose(0, Action.resolution(), "Bevestigd")
    on_chain.vote(1, proposal_id)  # the newest block
    indexer = make_indexer(chain, sessions, deployment, confirmations=1)
    assert indexer.last_indexed is None and indexer.head_lag() is None
    assert indexer.catch_up() == chain.w3.eth.block_number - 1
    assert count(sessions, BoardProposal) == 1 and count(sessions, BoardBallot) == 0
    assert indexer.last_indexed == chain.w3.eth.block_number - 1 and indexer.head_lag() == 1


def test_background_thread_follows_the_chain_until_stopped(
    chain: DevChain, sessions: sessionmaker[Session], deployment: Deployment, on_chain: OnChain
) -> None:
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


# ---------------------------------------------------------------- several processes on one database


def index_in_threads(indexers: list[Indexer]) -> list[BaseException]:
    """Run each indexer's catch_up in a thread of its own, all starting at once; what they raised."""
    start = threading.Barrier(len(indexers))
    errors: list[BaseException] = []

    def run(indexer: Indexer) -> None:
        try:
            start.wait()
            indexer.catch_up()
        except Exception as exc:  # reported to the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(indexer,)) for indexer in indexers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def reference_index(chain: DevChain, deployment: Deployment, tmp_path: Path, name: str = "reference") -> Any:
    """What one indexer on a fresh SQLite database makes of the chain as it is now."""
    reference = make_sessionmaker(make_engine(f"sqlite:///{tmp_path / (name + '.db')}"))
    migrate(reference.kw["bind"])
    make_indexer(chain, reference, deployment).catch_up()
    return snapshot_of_index(reference)


@BOTH_DATABASES
def test_two_indexers_on_one_database_store_each_event_once(
    chain: DevChain, sessions: sessionmaker[Session], tmp_path: Path, deployment: Deployment, on_chain: OnChain
) -> None:
    proposal_id = on_chain.propose(0, Action.resolution(), "Twee processen")
    for seat in range(1, 4):
        on_chain.vote(seat, proposal_id, VoteType.FOR, f"stem {seat}")
    on_chain.decide(Action.remove_member(on_chain.member(5).address), "Alfa-college treedt terug", voters=5)
    second = other_process(sessions)
    indexers = [
        make_indexer(chain, sessions, deployment, page_blocks=1),
        make_indexer(chain, second, deployment, page_blocks=1),
    ]

    assert index_in_threads(indexers) == []

    head = chain.w3.eth.block_number
    assert [indexer.last_indexed for indexer in indexers] == [head, head]
    assert indexers[0].cursor(deployment.board.address) == indexers[0].cursor(deployment.registry.address) == head
    assert snapshot_of_index(sessions) == reference_index(chain, deployment, tmp_path)  # each event once
    assert count(sessions, BoardBallot) == 3 + 5
    second.kw["bind"].dispose()


def test_an_indexer_behind_another_neither_repeats_nor_moves_the_cursor_back(
    chain: DevChain,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    deployment: Deployment,
    on_chain: OnChain,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proposal_id = on_chain.propose(0, Action.resolution(), "Ingehaald")
    for seat in range(1, 5):
        on_chain.vote(seat, proposal_id, VoteType.AGAINST, f"stem {seat}")
    head = chain.w3.eth.block_number
    ahead = make_indexer(chain, other_process(sessions), deployment)
    behind = make_indexer(chain, sessions, deployment, page_blocks=3)
    get_logs = chain.w3.eth.get_logs
    overtaken = False

    def slow(params: Any) -> Any:
        nonlocal overtaken
        logs = get_logs(params)
        if not overtaken:  # while `behind` holds its first page, another process indexes everything
            overtaken = True
            assert ahead.catch_up() == head
        return logs

    monkeypatch.setattr(chain.w3.eth, "get_logs", slow)
    write_page = behind._write_page
    cursors: list[int | None] = []

    def watched(page: Any) -> None:
        write_page(page)
        cursors.append(behind.cursor(deployment.board.address))

    monkeypatch.setattr(behind, "_write_page", watched)
    assert behind.catch_up() == head

    assert len(cursors) > 1 and set(cursors) == {head}  # never moved back by the pages `behind` wrote late
    assert snapshot_of_index(sessions) == reference_index(chain, deployment, tmp_path)
    ahead.sessions.kw["bind"].dispose()


# ---------------------------------------------------------------- events that cannot be stored as they are


@BOTH_DATABASES
def test_events_that_cannot_be_stored_as_they_are_are_kept_readable_and_raw(
    chain: DevChain,
    sessions: sessionmaker[Session],
    deployment: Deployment,
    on_chain: OnChain,
    caplog: pytest.LogCaptureFixture,
) -> None:
    accredit = 3  # ActionKind.ACCREDIT_ISSUER
    not_utf8 = on_chain.propose_raw(0, b"\xff\xfe Besluit")
    with_nul = on_chain.propose_raw(1, b"Nul\x00teken")
    long_name = "Hogeschool " + "x" * 239  # 250 characters; board_proposals.name holds 200
    too_long = on_chain.propose_raw(
        2,
        b"Lange naam",
        kind=accredit,
        subject=on_chain.accounts[ISSUER_INDEX].address,
        name=long_name.encode(),
        key_hash=key_hash(dev_signing_key(on_chain.accounts[ISSUER_INDEX].address)),
    )
    bad_name = on_chain.propose_raw(
        3,
        b"Naam",
        kind=accredit,
        subject=on_chain.accounts[14].address,
        name=b"NHL \xc3\x28",
        key_hash=key_hash(dev_signing_key(on_chain.accounts[14].address)),
    )
    on_chain.vote_raw(4, not_utf8, b"ja \xff")
    normal = on_chain.propose(0, Action.resolution(), "Gewoon besluit")  # the next one is indexed as ever
    on_chain.vote(1, normal, VoteType.FOR, "gewoon")

    indexer = make_indexer(chain, sessions, deployment)
    with caplog.at_level(logging.WARNING, logger="service.chain.indexer"):
        head = indexer.catch_up()

    assert head == chain.w3.eth.block_number and indexer.cursor(deployment.board.address) == head
    with sessions() as session:
        proposals = {p.id: p for p in session.scalars(select(BoardProposal))}
        assert proposals[not_utf8].title == "\ufffd\ufffd Besluit"
        assert proposals[with_nul].title == "Nul\\x00teken"
        assert proposals[too_long].name == long_name[:199] + "…" and len(proposals[too_long].name) == 200
        assert proposals[bad_name].name == "NHL \ufffd("
        assert proposals[normal].title == "Gewoon besluit"
        ballots = {(b.proposal_id, b.reason) for b in session.scalars(select(BoardBallot))}
        assert ballots == {(not_utf8, "ja \ufffd"), (normal, "gewoon")}

        events = {
            (e.name, e.args["proposalId"]): e
            for e in session.scalars(select(ChainEvent))
            if e.name in ("ProposalCreated", "VoteCast")
        }
        created = {proposal: event for (name, proposal), event in events.items() if name == "ProposalCreated"}
        assert "does not decode" in created[not_utf8].problem and "U+FFFD" in created[not_utf8].problem
        assert "NUL characters in title" in created[with_nul].problem
        assert "action.name is 250 characters long" in created[too_long].problem
        assert created[too_long].args["action"]["name"] == long_name  # the event row keeps it whole
        assert created[bad_name].args["action"]["name"] == "NHL \ufffd("
        assert "does not decode" in events[("VoteCast", not_utf8)].problem
        assert events[("VoteCast", not_utf8)].args["reason"] == "ja \ufffd"
        for proposal in (not_utf8, with_nul, too_long, bad_name):  # the raw log: exactly what the chain holds
            raw = created[proposal].raw_log
            log = next(
                item
                for item in chain.w3.eth.get_logs(
                    {
                        "address": deployment.board.address,
                        "fromBlock": created[proposal].block_number,
                        "toBlock": created[proposal].block_number,
                    }
                )
                if int(item["logIndex"]) == created[proposal].log_index
            )
            assert raw == {
                "topics": [HexBytes(topic).to_0x_hex() for topic in log["topics"]],
                "data": HexBytes(log["data"]).to_0x_hex(),
            }
        title = abi_decode(
            ["(uint8,address,bytes,(uint16,uint16,uint16,uint32,uint32))", "bytes"],
            HexBytes(created[not_utf8].raw_log["data"]),
        )[1]
        assert title == b"\xff\xfe Besluit"
        assert created[normal].problem is None and created[normal].raw_log is None
        assert events[("VoteCast", normal)].problem is None

    warnings = [record for record in caplog.records if "is not stored as is" in record.getMessage()]
    assert len(warnings) == 5


@BOTH_DATABASES
def test_an_event_the_database_refuses_is_kept_unprojected_and_the_index_moves_on(
    chain: DevChain, sessions: sessionmaker[Session], deployment: Deployment, on_chain: OnChain
) -> None:
    before = on_chain.propose(0, Action.resolution(), "Voor de start")
    start = chain.w3.eth.block_number + 1
    on_chain.vote(1, before, VoteType.FOR, "na de start")  # its proposal is not in the index: no ballot row
    later = on_chain.propose(2, Action.resolution(), "Na de start")
    on_chain.vote(3, later, VoteType.FOR, "ook na de start")
    indexer = Indexer(
        chain.w3, sessions, registry=deployment.registry.address, board=deployment.board.address, start_block=start
    )

    assert indexer.catch_up() == chain.w3.eth.block_number
    with sessions() as session:
        orphan = session.scalar(select(ChainEvent).where(ChainEvent.block_number == start))
        assert (orphan.name, orphan.args["reason"]) == ("VoteCast", "na de start")
        assert orphan.problem.startswith("could not be stored: IntegrityError") and orphan.raw_log is not None
        assert [p.id for p in session.scalars(select(BoardProposal))] == [later]
        assert [(b.proposal_id, b.member) for b in session.scalars(select(BoardBallot))] == [
            (later, on_chain.member(3).address)
        ]


# ---------------------------------------------------------------- reorgs


def test_a_reorg_removes_what_the_lost_blocks_held_and_reads_the_new_ones(
    chain: DevChain, sessions: sessionmaker[Session], tmp_path: Path, deployment: Deployment, on_chain: OnChain
) -> None:
    alfa = on_chain.member(5).address
    removal = Action.remove_member(alfa)
    removal_id = on_chain.propose(0, removal, "Alfa-college treedt terug")
    for seat in range(4):
        on_chain.vote(seat, removal_id)
    kept = chain.w3.eth.block_number
    fork_point = snapshot(chain.w3)
    on_chain.vote(4, removal_id)
    on_chain.execute(removal_id, removal, "Alfa-college treedt terug")  # MemberRemoved, ProposalExecuted
    lost = on_chain.propose(1, Action.resolution(), "Verloren besluit")
    indexer = make_indexer(chain, sessions, deployment)
    forks: list[int] = []
    indexer.add_reorg_listener(forks.append)
    indexer.catch_up()
    with sessions() as session:
        assert session.get(BoardMember, alfa).removed_block is not None
        assert session.get(BoardProposal, lost).title == "Verloren besluit"

    revert_to(chain.w3, fork_point)  # the chain as another fork has it: other blocks at the same heights
    replacement = on_chain.propose(2, Action.resolution(), "Nieuw besluit")
    on_chain.vote(3, replacement, VoteType.AGAINST, "nee")
    on_chain.vote(5, removal_id, VoteType.AGAINST, "blijf")
    head = indexer.catch_up()

    assert forks == [kept + 1]
    assert head == chain.w3.eth.block_number == kept + 3
    assert indexer.cursor(deployment.board.address) == indexer.cursor(deployment.registry.address) == head
    with sessions() as session:
        assert replacement == lost and session.get(BoardProposal, replacement).title == "Nieuw besluit"
        assert session.get(BoardMember, alfa).removed_block is None
        assert session.get(BoardProposal, removal_id).executed_tx is None
        assert "MemberRemoved" not in Counter(session.scalars(select(ChainEvent.name)))
    assert snapshot_of_index(sessions) == reference_index(chain, deployment, tmp_path)


@pytest.mark.parametrize("chain", ["anvil"], indirect=True)  # anvil_reorg is anvil's
def test_anvil_reorg_replaces_two_blocks(
    chain: DevChain, sessions: sessionmaker[Session], tmp_path: Path, deployment: Deployment, on_chain: OnChain
) -> None:
    proposal_id = on_chain.propose(0, Action.resolution(), "Blijft")
    on_chain.vote(1, proposal_id, VoteType.FOR, "blijft ook")
    on_chain.vote(2, proposal_id, VoteType.AGAINST, "verdwijnt")  # block head - 1
    on_chain.propose(3, Action.resolution(), "Verdwijnt")  # block head
    indexer = make_indexer(chain, sessions, deployment)
    forks: list[int] = []
    indexer.add_reorg_listener(forks.append)
    head = indexer.catch_up()
    assert count(sessions, BoardProposal) == 2

    abstain = {
        "from": on_chain.member(4).address,
        "to": deployment.board.address,
        "gas": hex(500_000),
        "data": on_chain.board.cast_vote(proposal_id, VoteType.ABSTAIN, "in de plaats")["data"],
    }
    rpc(chain.w3, "anvil_reorg", 2, [[abstain, 0]])  # blocks head-1 and head replaced, the vote in the first
    assert chain.w3.eth.block_number == head
    assert indexer.catch_up() == head

    assert forks == [head - 1]
    assert indexer.cursor(deployment.board.address) == head
    with sessions() as session:
        assert [p.id for p in session.scalars(select(BoardProposal))] == [proposal_id]
        assert {(b.member, b.choice) for b in session.scalars(select(BoardBallot))} == {
            (on_chain.member(1).address, "for"),
            (on_chain.member(4).address, "abstain"),
        }
    assert snapshot_of_index(sessions) == reference_index(chain, deployment, tmp_path)

    on_chain.vote(2, proposal_id, VoteType.AGAINST, "alsnog")  # and the index goes on
    assert indexer.catch_up() == chain.w3.eth.block_number
    assert count(sessions, BoardBallot) == 3 and forks == [head - 1]


def test_a_reorg_deeper_than_the_kept_hashes_rewinds_a_whole_window(
    chain: DevChain,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    deployment: Deployment,
    on_chain: OnChain,
    caplog: pytest.LogCaptureFixture,
) -> None:
    proposal_id = on_chain.propose(0, Action.resolution(), "Diep")
    base = chain.w3.eth.block_number
    fork_point = snapshot(chain.w3)
    for seat in range(1, 5):  # blocks base+1 .. base+4
        on_chain.vote(seat, proposal_id, VoteType.FOR, "oud")
    indexer = make_indexer(chain, sessions, deployment, reorg_window=2)
    forks: list[int] = []
    indexer.add_reorg_listener(forks.append)
    indexer.catch_up()
    with sessions() as session:  # only the window's hashes are kept
        assert list(session.scalars(select(IndexedBlock.number).order_by(IndexedBlock.number))) == [base + 3, base + 4]

    revert_to(chain.w3, fork_point)
    rpc(chain.w3, "evm_mine")
    rpc(chain.w3, "evm_mine")
    on_chain.vote(5, proposal_id, VoteType.AGAINST, "nieuw")  # base+3
    on_chain.vote(0, proposal_id, VoteType.AGAINST, "nieuw")  # base+4
    with caplog.at_level(logging.ERROR, logger="service.chain.indexer"):
        head = indexer.catch_up()

    assert "deeper than reorg_window=2" in caplog.text
    assert head == base + 4 and forks == [base + 3]  # rewound to min(cursor, head) - window
    reference = reference_index(chain, deployment, tmp_path)
    new_blocks = [event for event in snapshot_of_index(sessions)["events"] if event[2] >= base + 3]
    assert new_blocks == [event for event in reference["events"] if event[2] >= base + 3]
    with sessions() as session:
        assert {
            (b.member, b.reason)
            for b in session.scalars(select(BoardBallot).where(BoardBallot.block_number >= base + 3))
        } == {(on_chain.member(5).address, "nieuw"), (on_chain.member(0).address, "nieuw")}


def test_a_chain_that_got_shorter_is_judged_once_it_has_grown_back(
    chain: DevChain, sessions: sessionmaker[Session], tmp_path: Path, deployment: Deployment, on_chain: OnChain
) -> None:
    proposal_id = on_chain.propose(0, Action.resolution(), "Korter")
    fork_point = snapshot(chain.w3)
    on_chain.vote(1, proposal_id, VoteType.FOR, "oud")
    on_chain.vote(2, proposal_id, VoteType.FOR, "oud")
    indexer = make_indexer(chain, sessions, deployment)
    forks: list[int] = []
    indexer.add_reorg_listener(forks.append)
    cursor = indexer.catch_up()

    revert_to(chain.w3, fork_point)  # two blocks fewer: as a node behind another process's node looks
    assert indexer.catch_up() == cursor and forks == []  # nothing is judged (or rewound) above the node's head
    on_chain.vote(3, proposal_id, VoteType.AGAINST, "nieuw")
    on_chain.vote(4, proposal_id, VoteType.AGAINST, "nieuw")
    assert indexer.catch_up() == cursor and forks == [cursor - 1]
    assert snapshot_of_index(sessions) == reference_index(chain, deployment, tmp_path)
