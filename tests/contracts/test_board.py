"""HubBoard on a real local chain (anvil and ganache): members, proposals, votes, outcomes, execution.

Every test starts from the same deployed state (`board`): a board of the seven `board_members` with the
default rules below, governing a real CredentialRegistry deployed with the board as its governor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt
from web3.utils.address import get_create_address

from service.chain.board import Action as ClientAction
from service.chain.board import BoardClient, MeetingChoice, VoteType, eip712_types, pack_meeting_votes
from service.chain.deployment import deploy_contract
from tests.chain import advance_time, latest_timestamp, reverts, rpc

ZERO_ADDRESS = "0x" + "00" * 20
DOMAIN_NAME = "IT Hub Hoogeveen Board"
DOMAIN_VERSION = "1"
DOCUMENT = bytes.fromhex("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")  # sha256("test")
TITLE = "Accreditatie Hanzehogeschool 2025"
ISSUER_NAME = "Hanzehogeschool Groningen"
# Signing key hashes (ICredentialRegistry: keccak256(0xed01 ‖ Ed25519 key)); the board passes them on as given.
ISSUER_KEY = Web3.keccak(text="issuer signing key")
ROTATED_KEY = Web3.keccak(text="rotated signing key")
NO_KEY = b"\x00" * 32
MEMBER_NAMES = [
    "Gemeente Hoogeveen",
    "Drenthe College",
    "Hanzehogeschool Groningen",
    "Stichting IT Hub Hoogeveen",
    "Ondernemersvereniging Hoogeveen",
    "Provincie Drenthe",
    "NHL Stenden Hogeschool",
]

# ActionKind, ProposalState, VoteType
RESOLUTION, ADD_MEMBER, REMOVE_MEMBER, ACCREDIT_ISSUER, SUSPEND_ISSUER, CHANGE_RULES, ROTATE_ISSUER_KEY = range(7)
ACTIVE, DEFEATED, SUCCEEDED, EXECUTED, EXPIRED = range(5)
AGAINST, FOR, ABSTAIN = range(3)
RECUSED = 3  # a meeting ballot's recusal (IHubBoard.MEETING_RECUSAL)

DAY = 24 * 3600
VOTING_PERIOD = 7 * DAY
EXECUTION_PERIOD = 3 * DAY
# (quorumBps, majorityBps, supermajorityBps, votingPeriod, executionPeriod)
RULES = (5000, 5000, 6666, VOTING_PERIOD, EXECUTION_PERIOD)
NO_RULES = (0, 0, 0, 0, 0)

# The EIP-712 type strings of IHubBoard's NatSpec, as a wallet shows and hashes them. The tests sign with the
# types read from these, not with BoardClient's own tables, so that their signatures cross-check the client's.
BALLOT_TYPE = "Ballot(uint256 proposalId,uint8 support,string reason,address voter,uint256 nonce,uint256 deadline)"
PROPOSE_TYPE = (
    "Propose(Action action,string title,bytes32 documentHash,address proposer,uint256 nonce,"
    "uint256 deadline)Action(uint8 kind,address subject,string name,bytes32 keyHash,Rules rules)Rules(uint16 quorumBps,"
    "uint16 majorityBps,uint16 supermajorityBps,uint32 votingPeriod,uint32 executionPeriod)"
)
RECUSAL_TYPE = "Recusal(uint256 proposalId,string reason,address member,uint256 nonce,uint256 deadline)"
MEETING_BALLOT_TYPE = (
    "MeetingBallot(Propose proposal,uint8 support,string reason,address voter)"
    "Action(uint8 kind,address subject,string name,bytes32 keyHash,Rules rules)"
    + PROPOSE_TYPE[: PROPOSE_TYPE.index("Action(")]
    + PROPOSE_TYPE[PROPOSE_TYPE.index("Rules(") :]
)
BALLOT_TYPES = eip712_types(BALLOT_TYPE)
PROPOSE_TYPES = eip712_types(PROPOSE_TYPE)
RECUSAL_TYPES = eip712_types(RECUSAL_TYPE)
MEETING_BALLOT_TYPES = eip712_types(MEETING_BALLOT_TYPE)
RULES_FIELDS = [field["name"] for field in PROPOSE_TYPES["Rules"]]


# ---------------------------------------------------------------- actions


def resolution() -> tuple[Any, ...]:
    return (RESOLUTION, ZERO_ADDRESS, "", NO_KEY, NO_RULES)


def add_member(account: str, name: str) -> tuple[Any, ...]:
    return (ADD_MEMBER, account, name, NO_KEY, NO_RULES)


def remove_member(account: str) -> tuple[Any, ...]:
    return (REMOVE_MEMBER, account, "", NO_KEY, NO_RULES)


def accredit(account: str, name: str = ISSUER_NAME, key: bytes = ISSUER_KEY) -> tuple[Any, ...]:
    return (ACCREDIT_ISSUER, account, name, key, NO_RULES)


def rotate_key(account: str, key: bytes = ROTATED_KEY) -> tuple[Any, ...]:
    return (ROTATE_ISSUER_KEY, account, "", key, NO_RULES)


def suspend(account: str) -> tuple[Any, ...]:
    return (SUSPEND_ISSUER, account, "", NO_KEY, NO_RULES)


def change_rules(rules: tuple[int, ...]) -> tuple[Any, ...]:
    return (CHANGE_RULES, ZERO_ADDRESS, "", NO_KEY, rules)


def action_message(action: tuple[Any, ...]) -> dict[str, Any]:
    """An action as the EIP-712 message of a signed proposal."""
    kind, subject, name, key, rules = action
    return {
        "kind": kind,
        "subject": subject,
        "name": name,
        "keyHash": key,
        "rules": dict(zip(RULES_FIELDS, rules, strict=True)),
    }


# ---------------------------------------------------------------- chain helpers


def send(fn: Any, sender: LocalAccount | str) -> TxReceipt:
    """Transact `fn` from an unlocked node account and wait for the successful receipt."""
    address = sender if isinstance(sender, str) else sender.address
    receipt = fn.w3.eth.wait_for_transaction_receipt(fn.transact({"from": address}))
    assert receipt["status"] == 1
    return receipt


def send_raw(w3: Web3, tx: dict[str, Any], sender: LocalAccount) -> TxReceipt:
    """Transact a built tx dict ({"to", "data"}) from an unlocked node account and wait for the successful receipt."""
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(cast(Any, {**tx, "from": sender.address})))
    assert receipt["status"] == 1
    return receipt


def plain(value: Any) -> Any:
    """An event's struct argument (decoded as a mapping, in ABI order) as the tuple a call takes."""
    if isinstance(value, dict) or hasattr(value, "keys"):
        return tuple(plain(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return tuple(plain(item) for item in value)
    return value


def events(contract: Contract, name: str, receipt: TxReceipt) -> list[dict[str, Any]]:
    return [
        {key: plain(value) for key, value in event["args"].items()}
        for event in getattr(contract.events, name)().process_receipt(receipt, errors=DISCARD)
    ]


def one_event(contract: Contract, name: str, receipt: TxReceipt) -> dict[str, Any]:
    found = events(contract, name, receipt)
    assert len(found) == 1, f"expected one {name}, got {found}"
    return found[0]


def meeting_ballots(contract: Contract, receipt: TxReceipt) -> list[dict[str, Any]]:
    """The ballots of the one MeetingRecorded of `receipt`, in the order counted, as VoteCast arguments."""
    recorded = one_event(contract, "MeetingRecorded", receipt)
    reasons = recorded["reasons"] or [""] * len(recorded["voters"])
    assert len(recorded["voters"]) == len(recorded["choices"]) == len(reasons)
    return [
        {"proposalId": recorded["proposalId"], "voter": voter, "support": choice, "reason": reason}
        for voter, choice, reason in zip(recorded["voters"], recorded["choices"], reasons, strict=True)
    ]


def struct(contract: Contract, function: str, value: tuple[Any, ...]) -> dict[str, Any]:
    """A returned struct as a dict keyed by the ABI's component names."""
    abi = next(item for item in contract.abi if item.get("name") == function and item["type"] == "function")
    names = [component["name"] for component in abi["outputs"][0]["components"]]
    return dict(zip(names, value, strict=True))


def block_time(w3: Web3, receipt: TxReceipt) -> int:
    return int(w3.eth.get_block(receipt["blockNumber"])["timestamp"])


@dataclass
class Board:
    """The deployed board and registry, with shortcuts for the usual steps."""

    contract: Contract
    registry: Contract
    members: list[LocalAccount]

    @property
    def w3(self) -> Web3:
        return self.contract.w3

    @property
    def fn(self) -> Any:
        return self.contract.functions

    def propose(
        self,
        action: tuple[Any, ...],
        proposer: LocalAccount | None = None,
        title: str = TITLE,
        document: bytes = DOCUMENT,
    ) -> int:
        return self.propose_receipt(action, proposer, title, document)[0]

    def propose_receipt(
        self,
        action: tuple[Any, ...],
        proposer: LocalAccount | None = None,
        title: str = TITLE,
        document: bytes = DOCUMENT,
    ) -> tuple[int, TxReceipt]:
        receipt = send(self.fn.propose(action, title, document), proposer or self.members[0])
        return one_event(self.contract, "ProposalCreated", receipt)["proposalId"], receipt

    def vote(self, proposal_id: int, voter: LocalAccount, support: int, reason: str = "") -> TxReceipt:
        return send(self.fn.castVote(proposal_id, support, reason), voter)

    def votes(self, proposal_id: int, *supports: int) -> None:
        """Member i casts supports[i]."""
        for voter, support in zip(self.members, supports, strict=False):
            self.vote(proposal_id, voter, support)

    def decide(self, action: tuple[Any, ...], document: bytes = DOCUMENT) -> TxReceipt:
        """Propose `action`, have the current members vote For until it succeeds, execute it; return the receipt."""
        voters = [m for m in self.members if self.fn.isMember(m.address).call()]
        proposal_id = self.propose(action, proposer=voters[0], document=document)
        for voter in voters:
            if self.state(proposal_id) != ACTIVE:
                break
            self.vote(proposal_id, voter, FOR)
        assert self.state(proposal_id) == SUCCEEDED
        return send(self.fn.execute(proposal_id, action, document), voters[0])

    def state(self, proposal_id: int) -> int:
        return self.fn.state(proposal_id).call()

    def view(self, proposal_id: int) -> dict[str, Any]:
        return struct(self.contract, "proposal", self.fn.proposal(proposal_id).call())

    def receipt(self, proposal_id: int, account: str) -> dict[str, Any]:
        return struct(self.contract, "receipt", self.fn.receipt(proposal_id, account).call())

    def tally(self, proposal_id: int) -> tuple[int, int, int, int]:
        view = self.view(proposal_id)
        return view["forVotes"], view["againstVotes"], view["abstainVotes"], view["recusals"]

    def member_list(self) -> list[tuple[str, str]]:
        return [tuple(member) for member in self.fn.members().call()]

    def domain(self, *, chain_id: int | None = None, contract: str | None = None) -> dict[str, Any]:
        return {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": self.w3.eth.chain_id if chain_id is None else chain_id,
            "verifyingContract": contract or self.contract.address,
        }

    def _sign(
        self,
        key: LocalAccount,
        types: dict[str, Any],
        message: dict[str, Any],
        signer: str,
        nonce: int | None,
        deadline: int | None,
        chain_id: int | None,
        contract: str | None,
    ) -> tuple[int, bytes]:
        """Sign `message` with `signer`'s nonce (default: its current one) and `deadline` (default: in an hour).

        Built apart from BoardClient on purpose (its own domain, message and eth-account entry point), so that
        test_record_meeting_built_by_the_service_client cross-checks the client's signatures; it also signs what
        the client will not: for another signer, chain or contract."""
        deadline = latest_timestamp(self.w3) + 3600 if deadline is None else deadline
        message = {**message, "nonce": self.fn.nonces(signer).call() if nonce is None else nonce, "deadline": deadline}
        signed = Account.sign_typed_data(
            key.key,
            domain_data=self.domain(chain_id=chain_id, contract=contract),
            message_types=types,
            message_data=message,
        )
        return deadline, bytes(signed.signature)

    def sign_ballot(
        self,
        key: LocalAccount,
        proposal_id: int,
        support: int,
        *,
        reason: str = "",
        voter: str | None = None,
        nonce: int | None = None,
        deadline: int | None = None,
        chain_id: int | None = None,
        contract: str | None = None,
    ) -> tuple[Any, ...]:
        """`key`'s signed ballot for `voter` (default: the key's own address), as castVoteBySig's arguments."""
        voter = voter or key.address
        message = {"proposalId": proposal_id, "support": support, "reason": reason, "voter": voter}
        deadline, signature = self._sign(key, BALLOT_TYPES, message, voter, nonce, deadline, chain_id, contract)
        return (proposal_id, support, reason, voter, deadline, signature)

    def sign_proposal(
        self,
        key: LocalAccount,
        action: tuple[Any, ...],
        *,
        title: str = TITLE,
        document: bytes = DOCUMENT,
        proposer: str | None = None,
        nonce: int | None = None,
        deadline: int | None = None,
        chain_id: int | None = None,
        contract: str | None = None,
    ) -> tuple[Any, ...]:
        """`key`'s signed proposal for `proposer` (default: the key's own address), as proposeBySig's arguments."""
        proposer = proposer or key.address
        message = {"action": action_message(action), "title": title, "documentHash": document, "proposer": proposer}
        deadline, signature = self._sign(key, PROPOSE_TYPES, message, proposer, nonce, deadline, chain_id, contract)
        return (action, title, document, proposer, deadline, signature)

    def sign_recusal(
        self,
        key: LocalAccount,
        proposal_id: int,
        *,
        reason: str = "",
        member: str | None = None,
        nonce: int | None = None,
        deadline: int | None = None,
        chain_id: int | None = None,
        contract: str | None = None,
    ) -> tuple[Any, ...]:
        """`key`'s signed recusal for `member` (default: the key's own address), as recuseBySig's arguments."""
        member = member or key.address
        message = {"proposalId": proposal_id, "reason": reason, "member": member}
        deadline, signature = self._sign(key, RECUSAL_TYPES, message, member, nonce, deadline, chain_id, contract)
        return (proposal_id, reason, member, deadline, signature)

    def sign_meeting_ballot(
        self,
        key: LocalAccount,
        proposal: tuple[Any, ...],
        support: int,
        *,
        reason: str = "",
        voter: str | None = None,
        proposal_nonce: int | None = None,
        chain_id: int | None = None,
        contract: str | None = None,
    ) -> tuple[Any, ...]:
        """`key`'s ballot on the signed `proposal` (proposeBySig's arguments, signed with `proposal_nonce`, by
        default its proposer's current nonce), as a MeetingBallot."""
        voter = voter or key.address
        action, title, document, proposer, deadline, _signature = proposal
        nonce = self.fn.nonces(proposer).call() if proposal_nonce is None else proposal_nonce
        message = {
            "proposal": {
                "action": action_message(action),
                "title": title,
                "documentHash": document,
                "proposer": proposer,
                "nonce": nonce,
                "deadline": deadline,
            },
            "support": support,
            "reason": reason,
            "voter": voter,
        }
        signed = Account.sign_typed_data(
            key.key,
            domain_data=self.domain(chain_id=chain_id, contract=contract),
            message_types=MEETING_BALLOT_TYPES,
            message_data=message,
        )
        return (support, reason, voter, bytes(signed.signature))

    def seated(self, *args: Any) -> tuple[Any, ...]:
        """recordMeeting's arguments from proposeBySig's and a list of ballots as `sign_meeting_ballot` returns them
        (naming the voter): the board's member table now and the ballots packed with it, each naming its voter's
        seat (255, no seat, for an account that holds none), and their reasons."""
        *proposal, ballots = args
        table = self.fn.memberTable().call()
        seats = {account: seat for seat, account in enumerate(table) if int(account, 16) != 0}
        seated = [(support, reason, seats.get(voter, 255), signature) for support, reason, voter, signature in ballots]
        return (*proposal, *self.packed(table, seated))

    @staticmethod
    def packed(table: list[str], ballots: list[tuple[Any, ...]]) -> tuple[bytes, list[str]]:
        """recordMeeting's `votes` and `reasons` from a member `table` and (support, reason, seat, signature) ballots
        (no reasons when all are empty)."""
        reasons = [ballot[1] for ballot in ballots] if any(ballot[1] for ballot in ballots) else []
        if not ballots:
            return b"", reasons
        packed = pack_meeting_votes(table, [(seat, support, signature) for support, _r, seat, signature in ballots])
        return packed, reasons

    def meeting(
        self,
        action: tuple[Any, ...],
        supports: list[int],
        *,
        document: bytes = DOCUMENT,
        chair: LocalAccount | None = None,
    ) -> tuple[Any, ...]:
        """recordMeeting's arguments: `chair` (default: the first member) signs the proposal, member i signs a
        ballot supports[i] on it (reason "Akkoord" when For)."""
        chair = chair or self.members[0]
        proposal = self.sign_proposal(chair, action, document=document)
        ballots = [
            self.sign_meeting_ballot(member, proposal, support, reason="Akkoord" if support == FOR else "")
            for member, support in zip(self.members, supports, strict=False)
        ]
        return (*proposal, ballots)

    def call(self, function: str, *args: Any) -> bytes:
        """The calldata of `function(*args)`, for multicall."""
        return bytes.fromhex(self.contract.encode_abi(function, args=list(args))[2:])


def wallet_board(w3: Web3, board: Board, deployer: LocalAccount, wallet_owner: LocalAccount) -> tuple[Contract, Board]:
    """An ERC-1271 contract wallet of `wallet_owner`, and a board of two governing the same registry: `deployer`
    and the wallet (the returned Board's `members` hold the deployer only)."""
    wallet = deploy_contract(w3, "ERC1271WalletMock", wallet_owner.address, account=deployer)
    contract = deploy_contract(
        w3,
        "HubBoard",
        board.registry.address,
        [(deployer.address, "Gemeente Hoogeveen"), (wallet.address, "Multisig Drenthe College")],
        RULES,
        account=deployer,
    )
    return wallet, Board(contract, board.registry, [deployer])


def deploy_board(
    w3: Web3, deployer: LocalAccount, members: list[tuple[str, str]], rules: tuple[int, ...] = RULES
) -> tuple[Contract, Contract]:
    """A registry governed by a board of `members`: the registry is deployed first, for the board's address."""
    nonce = w3.eth.get_transaction_count(deployer.address, "pending")
    board_address = get_create_address(deployer.address, nonce + 1)
    registry = deploy_contract(w3, "CredentialRegistry", board_address, account=deployer)
    board = deploy_contract(w3, "HubBoard", registry.address, members, rules, account=deployer)
    assert board.address == board_address
    return board, registry


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def deployed(w3: Web3, deployer: LocalAccount, board_members: list[LocalAccount]) -> Board:
    """Deployed once per chain, before any snapshot."""
    members = [(account.address, name) for account, name in zip(board_members, MEMBER_NAMES, strict=True)]
    contract, registry = deploy_board(w3, deployer, members)
    return Board(contract, registry, list(board_members))


@pytest.fixture
def board(deployed: Board, isolate: None) -> Board:
    """The deployed board, with every change of the test undone afterwards."""
    return deployed


# ---------------------------------------------------------------- deployment


def test_constructor_sets_members_rules_registry_and_domain(w3: Web3, board: Board) -> None:
    assert board.member_list() == [(m.address, n) for m, n in zip(board.members, MEMBER_NAMES, strict=True)]
    assert all(board.fn.isMember(m.address).call() for m in board.members)
    assert board.fn.rules().call() == RULES
    assert board.fn.registry().call() == board.registry.address
    assert board.registry.functions.governor().call() == board.contract.address
    assert board.fn.MAX_MEMBERS().call() == 32
    assert board.fn.proposalCount().call() == 0
    fields, name, version, chain_id, contract, _salt, _extensions = board.fn.eip712Domain().call()
    assert (fields, name, version, chain_id, contract) == (
        b"\x0f",
        DOMAIN_NAME,
        DOMAIN_VERSION,
        w3.eth.chain_id,
        board.contract.address,
    )
    added = board.contract.events.MemberAdded().get_logs(from_block=0)
    assert [(e["args"]["member"], e["args"]["name"]) for e in added] == board.member_list()
    (rules_changed,) = board.contract.events.RulesChanged().get_logs(from_block=0)
    assert plain(rules_changed["args"]["rules"]) == RULES


def test_constructor_refuses_zero_registry(w3: Web3, board: Board, deployer: LocalAccount) -> None:
    with reverts(board.contract, "BoardInvalidRegistry"):
        deploy_contract(w3, "HubBoard", ZERO_ADDRESS, [(deployer.address, "Gemeente")], RULES, account=deployer)


def test_constructor_refuses_empty_board(w3: Web3, board: Board, deployer: LocalAccount) -> None:
    with reverts(board.contract, "BoardInvalidInitialMembers"):
        deploy_contract(w3, "HubBoard", board.registry.address, [], RULES, account=deployer)


@pytest.mark.parametrize("account, name", [(ZERO_ADDRESS, "Gemeente"), ("0x" + "11" * 20, "")])
def test_constructor_refuses_member_without_account_or_name(
    w3: Web3, board: Board, deployer: LocalAccount, account: str, name: str
) -> None:
    members = [(deployer.address, "Gemeente"), (Web3.to_checksum_address(account), name)]
    with reverts(board.contract, "BoardInvalidMember", account=account) as caught:
        deploy_contract(w3, "HubBoard", board.registry.address, members, RULES, account=deployer)
    assert caught.decoded is not None and caught.decoded.args["name"] == name  # `name` clashes with reverts()


def test_constructor_refuses_duplicate_member(w3: Web3, board: Board, deployer: LocalAccount) -> None:
    members = [(deployer.address, "Gemeente"), (board.members[0].address, "A"), (deployer.address, "Again")]
    with reverts(board.contract, "BoardAlreadyMember", account=deployer.address):
        deploy_contract(w3, "HubBoard", board.registry.address, members, RULES, account=deployer)


def test_constructor_refuses_invalid_rules(w3: Web3, board: Board, deployer: LocalAccount) -> None:
    bad = (5000, 4999, 6666, VOTING_PERIOD, EXECUTION_PERIOD)
    with reverts(board.contract, "BoardInvalidRules", rules=bad):
        deploy_contract(w3, "HubBoard", board.registry.address, [(deployer.address, "Gemeente")], bad, account=deployer)


def test_board_of_32_members_refuses_more_and_its_last_seat_votes(
    w3: Web3, board: Board, deployer: LocalAccount, newcomer: LocalAccount
) -> None:
    last = board.members[1]  # a real key in the last seat (31), the top bit of the uint32 masks
    seats = (
        [(deployer.address, "Member 0")]
        + [(Web3.to_checksum_address(f"0x{i:040x}"), f"Member {i}") for i in range(1, 31)]
        + [(last.address, "Member 31"), (Web3.to_checksum_address(f"0x{32:040x}"), "Member 32")]
    )
    with reverts(board.contract, "BoardTooManyMembers", max=32):
        deploy_contract(w3, "HubBoard", board.registry.address, seats, RULES, account=deployer)
    full = deploy_contract(w3, "HubBoard", board.registry.address, seats[:32], RULES, account=deployer)
    assert full.functions.MAX_MEMBERS().call() == 32
    assert [tuple(m) for m in full.functions.members().call()] == seats[:32]
    with reverts(full, "BoardTooManyMembers", max=32):
        full.functions.propose(add_member(newcomer.address, "One too many"), TITLE, DOCUMENT).call(
            {"from": deployer.address}
        )
    on_full = Board(full, board.registry, [deployer])
    proposal_id = on_full.propose(resolution(), proposer=deployer)
    send(full.functions.castVote(proposal_id, FOR, ""), last)
    send(full.functions.recuse(proposal_id, ""), deployer)
    assert on_full.view(proposal_id)["eligible"] == 32
    assert on_full.tally(proposal_id) == (1, 0, 0, 1)
    assert on_full.receipt(proposal_id, last.address) == {
        "eligible": True,
        "hasVoted": True,
        "recused": False,
        "support": FOR,
    }
    with reverts(full, "BoardAlreadyVoted", proposalId=proposal_id, voter=last.address):
        full.functions.castVote(proposal_id, AGAINST, "").transact({"from": last.address})


# ---------------------------------------------------------------- proposing


def test_propose_records_the_proposal_and_emits_everything(w3: Web3, board: Board, newcomer: LocalAccount) -> None:
    action = accredit(newcomer.address)
    proposal_id, receipt = board.propose_receipt(action, board.members[2])
    created_at = block_time(w3, receipt)
    event = one_event(board.contract, "ProposalCreated", receipt)
    assert proposal_id == 1 and board.fn.proposalCount().call() == 1
    assert event["proposer"] == board.members[2].address
    assert event["action"] == action
    assert (event["title"], event["documentHash"]) == (TITLE, DOCUMENT)
    assert event["voteEnd"] == created_at + VOTING_PERIOD
    assert event["executableUntil"] == created_at + VOTING_PERIOD + EXECUTION_PERIOD
    assert (event["quorumBps"], event["thresholdBps"], event["eligible"]) == (5000, 5000, 7)
    assert board.view(proposal_id) == {
        "kind": ACCREDIT_ISSUER,
        "state": ACTIVE,
        "proposalHash": board.fn.hashProposal(action, DOCUMENT).call(),
        "voteEnd": event["voteEnd"],
        "executableUntil": event["executableUntil"],
        "quorumBps": 5000,
        "thresholdBps": 5000,
        "eligible": 7,
        "forVotes": 0,
        "againstVotes": 0,
        "abstainVotes": 0,
        "recusals": 0,
    }
    expected_hash = Web3.keccak(
        board.w3.codec.encode(
            ["(uint8,address,string,bytes32,(uint16,uint16,uint16,uint32,uint32))", "bytes32"], [action, DOCUMENT]
        )
    )
    assert board.view(proposal_id)["proposalHash"] == expected_hash
    assert board.propose(resolution()) == 2


def test_threshold_is_majority_for_decisions_and_supermajority_for_the_board(
    board: Board, newcomer: LocalAccount
) -> None:
    cases = [
        (resolution(), 5000),
        (add_member(newcomer.address, "Nieuw lid"), 6666),
        (remove_member(board.members[6].address), 6666),
        (accredit(newcomer.address), 5000),
        (suspend(newcomer.address), 5000),
        (change_rules(RULES), 6666),
        (rotate_key(newcomer.address), 5000),
    ]
    for action, threshold in cases:
        assert board.view(board.propose(action))["thresholdBps"] == threshold


def test_propose_by_non_member_refused(board: Board, outsider: LocalAccount) -> None:
    with reverts(board.contract, "BoardUnauthorizedMember", account=outsider.address):
        board.fn.propose(resolution(), TITLE, DOCUMENT).transact({"from": outsider.address})


def test_propose_without_title_refused(board: Board) -> None:
    with reverts(board.contract, "BoardEmptyTitle"):
        board.fn.propose(resolution(), "", DOCUMENT).transact({"from": board.members[0].address})


SUBJECT = "0x" + "ab" * 20


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(
            (RESOLUTION, Web3.to_checksum_address(SUBJECT), "", NO_KEY, NO_RULES), id="resolution-with-subject"
        ),
        pytest.param((RESOLUTION, ZERO_ADDRESS, "Naam", NO_KEY, NO_RULES), id="resolution-with-name"),
        pytest.param((RESOLUTION, ZERO_ADDRESS, "", NO_KEY, RULES), id="resolution-with-rules"),
        pytest.param((ADD_MEMBER, ZERO_ADDRESS, "Naam", NO_KEY, NO_RULES), id="add-member-zero-subject"),
        pytest.param(
            (ADD_MEMBER, Web3.to_checksum_address(SUBJECT), "", NO_KEY, NO_RULES), id="add-member-without-name"
        ),
        pytest.param(
            (ADD_MEMBER, Web3.to_checksum_address(SUBJECT), "Naam", NO_KEY, RULES), id="add-member-with-rules"
        ),
        pytest.param((REMOVE_MEMBER, ZERO_ADDRESS, "", NO_KEY, NO_RULES), id="remove-member-zero-subject"),
        pytest.param((ACCREDIT_ISSUER, ZERO_ADDRESS, ISSUER_NAME, ISSUER_KEY, NO_RULES), id="accredit-zero-subject"),
        pytest.param(
            (ACCREDIT_ISSUER, Web3.to_checksum_address(SUBJECT), "", ISSUER_KEY, NO_RULES), id="accredit-without-name"
        ),
        pytest.param(
            (ACCREDIT_ISSUER, Web3.to_checksum_address(SUBJECT), ISSUER_NAME, ISSUER_KEY, RULES),
            id="accredit-with-rules",
        ),
        pytest.param((SUSPEND_ISSUER, ZERO_ADDRESS, "", NO_KEY, NO_RULES), id="suspend-zero-subject"),
        pytest.param(
            (SUSPEND_ISSUER, Web3.to_checksum_address(SUBJECT), "Naam", NO_KEY, NO_RULES), id="suspend-with-name"
        ),
        pytest.param((SUSPEND_ISSUER, Web3.to_checksum_address(SUBJECT), "", NO_KEY, RULES), id="suspend-with-rules"),
        pytest.param(
            (CHANGE_RULES, Web3.to_checksum_address(SUBJECT), "", NO_KEY, RULES), id="change-rules-with-subject"
        ),
        pytest.param((CHANGE_RULES, ZERO_ADDRESS, "Naam", NO_KEY, RULES), id="change-rules-with-name"),
        pytest.param(
            (ACCREDIT_ISSUER, Web3.to_checksum_address(SUBJECT), ISSUER_NAME, NO_KEY, NO_RULES),
            id="accredit-without-key",
        ),
        pytest.param((RESOLUTION, ZERO_ADDRESS, "", ISSUER_KEY, NO_RULES), id="resolution-with-key"),
        pytest.param(
            (ADD_MEMBER, Web3.to_checksum_address(SUBJECT), "Naam", ISSUER_KEY, NO_RULES), id="add-member-with-key"
        ),
        pytest.param(
            (SUSPEND_ISSUER, Web3.to_checksum_address(SUBJECT), "", ISSUER_KEY, NO_RULES), id="suspend-with-key"
        ),
        pytest.param((CHANGE_RULES, ZERO_ADDRESS, "", ISSUER_KEY, RULES), id="change-rules-with-key"),
        pytest.param((ROTATE_ISSUER_KEY, ZERO_ADDRESS, "", ROTATED_KEY, NO_RULES), id="rotate-key-zero-subject"),
        pytest.param(
            (ROTATE_ISSUER_KEY, Web3.to_checksum_address(SUBJECT), "", NO_KEY, NO_RULES), id="rotate-key-without-key"
        ),
        pytest.param(
            (ROTATE_ISSUER_KEY, Web3.to_checksum_address(SUBJECT), "Naam", ROTATED_KEY, NO_RULES),
            id="rotate-key-with-name",
        ),
        pytest.param(
            (ROTATE_ISSUER_KEY, Web3.to_checksum_address(SUBJECT), "", ROTATED_KEY, RULES), id="rotate-key-with-rules"
        ),
    ],
)
def test_propose_refuses_action_that_does_not_fit_its_kind(board: Board, action: tuple[Any, ...]) -> None:
    with reverts(board.contract, "BoardInvalidAction", kind=action[0]):
        board.fn.propose(action, TITLE, DOCUMENT).call({"from": board.members[0].address})


def test_propose_remove_member_with_name_refused(board: Board) -> None:
    action = (REMOVE_MEMBER, board.members[1].address, "Naam", NO_KEY, NO_RULES)
    with reverts(board.contract, "BoardInvalidAction", kind=REMOVE_MEMBER):
        board.fn.propose(action, TITLE, DOCUMENT).call({"from": board.members[0].address})


def test_propose_adding_a_member_refused(board: Board) -> None:
    existing = board.members[3].address
    with reverts(board.contract, "BoardAlreadyMember", account=existing):
        board.fn.propose(add_member(existing, "Twee keer"), TITLE, DOCUMENT).call({"from": board.members[0].address})


def test_propose_removing_a_non_member_refused(board: Board, outsider: LocalAccount) -> None:
    with reverts(board.contract, "BoardNotMember", account=outsider.address):
        board.fn.propose(remove_member(outsider.address), TITLE, DOCUMENT).call({"from": board.members[0].address})


@pytest.mark.parametrize(
    "rules",
    [
        pytest.param((0, 5000, 6666, DAY, DAY), id="quorum-zero"),
        pytest.param((10001, 5000, 6666, DAY, DAY), id="quorum-above-100%"),
        pytest.param((5000, 4999, 6666, DAY, DAY), id="majority-below-50%"),
        pytest.param((5000, 10000, 10000, DAY, DAY), id="majority-100%-cannot-pass"),
        pytest.param((5000, 6000, 5999, DAY, DAY), id="supermajority-below-majority"),
        pytest.param((5000, 5000, 10000, DAY, DAY), id="supermajority-100%-cannot-pass"),
        pytest.param((5000, 5000, 6666, 59, DAY), id="voting-period-too-short"),
        pytest.param((5000, 5000, 6666, 365 * DAY + 1, DAY), id="voting-period-too-long"),
        pytest.param((5000, 5000, 6666, DAY, 59), id="execution-period-too-short"),
        pytest.param((5000, 5000, 6666, DAY, 365 * DAY + 1), id="execution-period-too-long"),
    ],
)
def test_propose_refuses_rules_out_of_range(board: Board, rules: tuple[int, ...]) -> None:
    with reverts(board.contract, "BoardInvalidRules", rules=rules):
        board.fn.propose(change_rules(rules), TITLE, DOCUMENT).call({"from": board.members[0].address})


def test_propose_accepts_rules_at_the_limits(board: Board) -> None:
    for rules in [(1, 5000, 5000, 60, 60), (10000, 9999, 9999, 365 * DAY, 365 * DAY)]:
        board.propose(change_rules(rules))


def test_unknown_proposal_refused_everywhere(board: Board) -> None:
    member = board.members[0].address
    for call in [
        board.fn.state(1),
        board.fn.proposal(1),
        board.fn.receipt(1, member),
        board.fn.castVote(1, FOR, ""),
        board.fn.recuse(1, ""),
        board.fn.execute(1, resolution(), DOCUMENT),
    ]:
        with reverts(board.contract, "BoardUnknownProposal", proposalId=1):
            call.call({"from": member})
    board.propose(resolution())
    with reverts(board.contract, "BoardUnknownProposal", proposalId=0):
        board.fn.state(0).call()


# ---------------------------------------------------------------- voting


def test_cast_vote_counts_and_emits(board: Board) -> None:
    proposal_id = board.propose(resolution())
    receipt = board.vote(proposal_id, board.members[1], FOR, "Goed voor de regio")
    assert one_event(board.contract, "VoteCast", receipt) == {
        "proposalId": proposal_id,
        "voter": board.members[1].address,
        "support": FOR,
        "reason": "Goed voor de regio",
    }
    board.vote(proposal_id, board.members[2], AGAINST)
    board.vote(proposal_id, board.members[3], ABSTAIN)
    assert board.tally(proposal_id) == (1, 1, 1, 0)
    assert board.receipt(proposal_id, board.members[1].address) == {
        "eligible": True,
        "hasVoted": True,
        "recused": False,
        "support": FOR,
    }
    assert board.receipt(proposal_id, board.members[2].address)["support"] == AGAINST
    assert board.receipt(proposal_id, board.members[3].address)["support"] == ABSTAIN
    assert board.receipt(proposal_id, board.members[4].address) == {
        "eligible": True,
        "hasVoted": False,
        "recused": False,
        "support": AGAINST,
    }
    assert board.state(proposal_id) == ACTIVE


def test_double_vote_refused(board: Board) -> None:
    proposal_id = board.propose(resolution())
    board.vote(proposal_id, board.members[1], FOR)
    with reverts(board.contract, "BoardAlreadyVoted", proposalId=proposal_id, voter=board.members[1].address):
        board.fn.castVote(proposal_id, AGAINST, "").transact({"from": board.members[1].address})


def test_vote_type_3_refused(board: Board) -> None:
    proposal_id = board.propose(resolution())
    with reverts(board.contract, "BoardInvalidVoteType", support=3):
        board.fn.castVote(proposal_id, 3, "").transact({"from": board.members[1].address})


def test_vote_by_non_member_refused(board: Board, outsider: LocalAccount) -> None:
    proposal_id = board.propose(resolution())
    with reverts(board.contract, "BoardNotEligible", proposalId=proposal_id, account=outsider.address):
        board.fn.castVote(proposal_id, FOR, "").transact({"from": outsider.address})


def test_eligibility_is_fixed_at_creation_even_when_a_seat_is_reused(board: Board, newcomer: LocalAccount) -> None:
    leaving = board.members[2]
    earlier = board.propose(resolution())
    board.vote(earlier, leaving, FOR)
    unvoted = board.propose(resolution())
    board.decide(remove_member(leaving.address))
    received = board.decide(add_member(newcomer.address, "Nieuwkomer BV"))
    assert one_event(board.contract, "MemberAdded", received) == {"member": newcomer.address, "name": "Nieuwkomer BV"}
    # The newcomer takes the seat freed by the removal (2), so it is listed in that place.
    listing = board.member_list()
    assert listing[2] == (newcomer.address, "Nieuwkomer BV") and len(listing) == 7
    assert (leaving.address, MEMBER_NAMES[2]) not in listing

    # The removed member's vote stays counted, but it casts no more.
    assert board.tally(earlier) == (1, 0, 0, 0)
    assert board.receipt(earlier, leaving.address) == {
        "eligible": True,
        "hasVoted": True,
        "recused": False,
        "support": FOR,
    }
    with reverts(board.contract, "BoardNotEligible", proposalId=unvoted, account=leaving.address):
        board.fn.castVote(unvoted, FOR, "").transact({"from": leaving.address})
    # The newcomer holds seat 2, which is eligible on the earlier proposals, but joined after them.
    for proposal_id in (earlier, unvoted):
        assert board.receipt(proposal_id, newcomer.address)["eligible"] is False
        with reverts(board.contract, "BoardNotEligible", proposalId=proposal_id, account=newcomer.address):
            board.fn.castVote(proposal_id, FOR, "").transact({"from": newcomer.address})
    # On a proposal made after it joined, the newcomer votes and the removed member does not.
    later = board.propose(resolution())
    board.vote(later, newcomer, AGAINST)
    assert board.view(later)["eligible"] == 7 and board.tally(later) == (0, 1, 0, 0)
    assert board.receipt(later, leaving.address)["eligible"] is False
    with reverts(board.contract, "BoardNotEligible", proposalId=later, account=leaving.address):
        board.fn.castVote(later, FOR, "").transact({"from": leaving.address})


def test_removed_member_that_did_not_vote_keeps_the_proposal_open_until_vote_end(board: Board) -> None:
    """Its removal does not close a proposal early: it still counts as a possible voter."""
    proposal_id = board.propose(resolution())
    board.decide(remove_member(board.members[6].address))
    board.votes(proposal_id, FOR, FOR, FOR, AGAINST, AGAINST, AGAINST)  # the seventh cannot vote any more
    assert board.state(proposal_id) == ACTIVE
    advance_time(board.w3, VOTING_PERIOD + 1)
    assert board.state(proposal_id) == DEFEATED  # 3 For, 3 Against: no majority


def test_recusal_lowers_the_quorum_base(board: Board) -> None:
    # 7 eligible, quorum 50%: 3 votes of 7 is not a quorum ...
    without = board.propose(resolution())
    board.votes(without, FOR, FOR, FOR)
    # ... but with 2 recusals, 3 votes of 5 is, and 3 For against at most 2 Against is a sure majority.
    with_recusals = board.propose(resolution())
    receipt = send(board.fn.recuse(with_recusals, "Bestuurder is ook docent"), board.members[5])
    assert one_event(board.contract, "Recused", receipt) == {
        "proposalId": with_recusals,
        "member": board.members[5].address,
        "reason": "Bestuurder is ook docent",
    }
    send(board.fn.recuse(with_recusals, ""), board.members[6])
    board.votes(with_recusals, FOR, FOR)
    assert board.state(with_recusals) == ACTIVE  # 2 votes of 5: no quorum yet
    board.vote(with_recusals, board.members[2], FOR)
    assert board.state(with_recusals) == SUCCEEDED
    assert board.tally(with_recusals) == (3, 0, 0, 2)
    assert board.receipt(with_recusals, board.members[5].address) == {
        "eligible": True,
        "hasVoted": False,
        "recused": True,
        "support": AGAINST,
    }
    assert board.state(without) == ACTIVE
    advance_time(board.w3, VOTING_PERIOD + 1)
    assert board.state(without) == EXPIRED
    assert board.state(with_recusals) == SUCCEEDED


def test_recused_member_cannot_vote_nor_recuse_again(board: Board) -> None:
    proposal_id = board.propose(resolution())
    member = board.members[1].address
    send(board.fn.recuse(proposal_id, "Belang"), member)
    with reverts(board.contract, "BoardAlreadyRecused", proposalId=proposal_id, member=member):
        board.fn.castVote(proposal_id, FOR, "").transact({"from": member})
    with reverts(board.contract, "BoardAlreadyRecused", proposalId=proposal_id, member=member):
        board.fn.recuse(proposal_id, "").transact({"from": member})


def test_member_that_voted_cannot_recuse(board: Board, outsider: LocalAccount) -> None:
    proposal_id = board.propose(resolution())
    board.vote(proposal_id, board.members[1], AGAINST)
    with reverts(board.contract, "BoardAlreadyVoted", proposalId=proposal_id, voter=board.members[1].address):
        board.fn.recuse(proposal_id, "").transact({"from": board.members[1].address})
    with reverts(board.contract, "BoardNotEligible", proposalId=proposal_id, account=outsider.address):
        board.fn.recuse(proposal_id, "").transact({"from": outsider.address})


def test_every_member_recused_expires(board: Board) -> None:
    proposal_id = board.propose(resolution())
    for member in board.members:
        send(board.fn.recuse(proposal_id, ""), member)
    assert board.state(proposal_id) == ACTIVE
    advance_time(board.w3, VOTING_PERIOD + 1)
    assert board.state(proposal_id) == EXPIRED


# ---------------------------------------------------------------- outcomes


def test_succeeds_early_once_the_majority_is_certain_then_records_later_votes(board: Board) -> None:
    proposal_id = board.propose(resolution())
    board.votes(proposal_id, FOR, FOR, FOR)
    assert board.state(proposal_id) == ACTIVE  # 3 of 7: no quorum
    board.vote(proposal_id, board.members[3], FOR)  # 4 For against at most 3 Against
    assert board.state(proposal_id) == SUCCEEDED
    # Closed early: the outcome is final, but later votes and recusals still go on record.
    receipt = board.vote(proposal_id, board.members[4], AGAINST, "Te duur")
    assert one_event(board.contract, "VoteCast", receipt) == {
        "proposalId": proposal_id,
        "voter": board.members[4].address,
        "support": AGAINST,
        "reason": "Te duur",
    }
    send(board.fn.recuse(proposal_id, "Belang"), board.members[5])
    assert board.tally(proposal_id) == (4, 1, 0, 1)
    assert board.receipt(proposal_id, board.members[4].address) == {
        "eligible": True,
        "hasVoted": True,
        "recused": False,
        "support": AGAINST,
    }
    assert board.state(proposal_id) == SUCCEEDED
    # Once executed, the proposal takes no more votes or recusals.
    send(board.fn.execute(proposal_id, resolution(), DOCUMENT), board.members[0])
    late = board.members[6].address
    with reverts(
        board.contract, "BoardUnexpectedProposalState", proposalId=proposal_id, current=EXECUTED, expected=ACTIVE
    ):
        board.fn.castVote(proposal_id, AGAINST, "").transact({"from": late})
    with reverts(
        board.contract, "BoardUnexpectedProposalState", proposalId=proposal_id, current=EXECUTED, expected=ACTIVE
    ):
        board.fn.recuse(proposal_id, "").transact({"from": late})
    assert board.tally(proposal_id) == (4, 1, 0, 1)


def test_defeated_early_once_the_majority_is_impossible_then_records_later_votes(board: Board) -> None:
    proposal_id = board.propose(resolution())
    board.votes(proposal_id, AGAINST, AGAINST, AGAINST)
    assert board.state(proposal_id) == ACTIVE
    board.vote(proposal_id, board.members[3], AGAINST)  # at most 3 For against 4 Against
    assert board.state(proposal_id) == DEFEATED
    with reverts(
        board.contract, "BoardUnexpectedProposalState", proposalId=proposal_id, current=DEFEATED, expected=SUCCEEDED
    ):
        board.fn.execute(proposal_id, resolution(), DOCUMENT).transact({"from": board.members[0].address})
    # Later votes and recusals are recorded and counted, and the outcome stays.
    board.vote(proposal_id, board.members[4], FOR, "Toch voor")
    send(board.fn.recuse(proposal_id, ""), board.members[5])
    board.vote(proposal_id, board.members[6], FOR)
    assert board.tally(proposal_id) == (2, 4, 0, 1)
    assert board.receipt(proposal_id, board.members[6].address)["support"] == FOR
    assert board.state(proposal_id) == DEFEATED
    advance_time(board.w3, VOTING_PERIOD + 1)
    assert board.state(proposal_id) == DEFEATED


def test_late_recusals_never_change_a_decided_outcome(board: Board, newcomer: LocalAccount) -> None:
    """A recusal lowers the quorum base (quorum stays reached) and the number of members left to vote (the
    worst case the early decision was made against only narrows): Succeeded and Defeated stay."""
    action = add_member(newcomer.address, "Nieuwkomer BV")  # two-thirds of 7
    passed = board.propose(action)
    board.votes(passed, FOR, FOR, FOR, FOR, FOR)  # 5 For against at most 2 Against: 50000 > 6666 * 7
    failed = board.propose(action)
    board.votes(failed, AGAINST, AGAINST, AGAINST, ABSTAIN)  # at best 3 For, 3 Against: 30000 <= 6666 * 6
    assert (board.state(passed), board.state(failed)) == (SUCCEEDED, DEFEATED)
    for member in board.members[5:]:
        send(board.fn.recuse(passed, "Belang"), member)
    for member in board.members[4:]:
        send(board.fn.recuse(failed, "Belang"), member)
    assert board.tally(passed) == (5, 0, 0, 2) and board.tally(failed) == (0, 3, 1, 3)
    assert (board.state(passed), board.state(failed)) == (SUCCEEDED, DEFEATED)
    advance_time(board.w3, VOTING_PERIOD + 1)
    assert (board.state(passed), board.state(failed)) == (SUCCEEDED, DEFEATED)


def test_hopeless_proposal_without_quorum_stays_active_then_expires(board: Board, newcomer: LocalAccount) -> None:
    # Two-thirds: 3 Against leave at best 4 For of 7 (40000 <= 6666 * 7), but 3 of 7 is no quorum.
    proposal_id = board.propose(add_member(newcomer.address, "Nieuwkomer BV"))
    board.votes(proposal_id, AGAINST, AGAINST, AGAINST)
    assert board.state(proposal_id) == ACTIVE
    advance_time(board.w3, VOTING_PERIOD + 1)
    assert board.state(proposal_id) == EXPIRED


def test_two_thirds_for_membership_simple_majority_for_decisions(board: Board, newcomer: LocalAccount) -> None:
    # 4 For, 2 Against: 4 * 10000 = 40000 > 6666 * 6 = 39996, so a membership change passes.
    passes = board.propose(add_member(newcomer.address, "Nieuwkomer BV"))
    board.votes(passes, FOR, FOR, FOR, FOR, AGAINST, AGAINST)
    assert board.state(passes) == ACTIVE  # the seventh could still make it 4 For, 3 Against
    board.vote(passes, board.members[6], ABSTAIN)
    assert board.state(passes) == SUCCEEDED
    # 3 For, 2 Against: 30000 <= 6666 * 5 = 33330 fails two-thirds, but 30000 > 5000 * 5 is a majority.
    membership = board.propose(add_member(newcomer.address, "Nieuwkomer BV"))
    decision = board.propose(accredit(newcomer.address))
    for proposal_id in (membership, decision):
        board.votes(proposal_id, FOR, FOR, FOR, AGAINST, AGAINST, ABSTAIN, ABSTAIN)
        assert board.tally(proposal_id) == (3, 2, 2, 0)
    assert board.state(membership) == DEFEATED
    assert board.state(decision) == SUCCEEDED


def test_tie_is_not_a_majority(board: Board) -> None:
    proposal_id = board.propose(resolution())
    board.votes(proposal_id, FOR, FOR, FOR, AGAINST, AGAINST, AGAINST, ABSTAIN)
    assert board.state(proposal_id) == DEFEATED


def test_abstentions_count_for_quorum_but_not_for_the_threshold(board: Board) -> None:
    # 1 For alone is no quorum; with 3 abstentions (4 of 7) it is, and 1 For, 0 Against is a majority.
    alone = board.propose(resolution())
    board.votes(alone, FOR)
    with_abstentions = board.propose(resolution())
    board.votes(with_abstentions, FOR, ABSTAIN, ABSTAIN, ABSTAIN)
    assert board.state(with_abstentions) == ACTIVE  # 3 Against could still defeat it
    advance_time(board.w3, VOTING_PERIOD + 1)
    assert board.state(alone) == EXPIRED
    assert board.state(with_abstentions) == SUCCEEDED


def test_all_abstain_is_defeated(board: Board) -> None:
    proposal_id = board.propose(resolution())
    board.votes(proposal_id, *[ABSTAIN] * 6)
    assert board.state(proposal_id) == ACTIVE  # the last one could still vote For
    board.vote(proposal_id, board.members[6], ABSTAIN)
    assert board.state(proposal_id) == DEFEATED
    assert board.tally(proposal_id) == (0, 0, 7, 0)


def test_vote_and_recusal_after_vote_end_refused(board: Board) -> None:
    expired = board.propose(resolution())
    board.votes(expired, FOR, FOR)
    passed = board.propose(resolution())
    board.votes(passed, FOR, FOR, FOR, FOR)
    advance_time(board.w3, VOTING_PERIOD + 1)
    assert board.state(expired) == EXPIRED
    for proposal_id, current in ((expired, EXPIRED), (passed, SUCCEEDED)):
        with reverts(
            board.contract, "BoardUnexpectedProposalState", proposalId=proposal_id, current=current, expected=ACTIVE
        ):
            board.fn.castVote(proposal_id, FOR, "").transact({"from": board.members[4].address})
        with reverts(
            board.contract, "BoardUnexpectedProposalState", proposalId=proposal_id, current=current, expected=ACTIVE
        ):
            board.fn.recuse(proposal_id, "").transact({"from": board.members[5].address})


def test_decided_at_vote_end_by_the_votes_cast(board: Board) -> None:
    passed = board.propose(resolution())
    board.votes(passed, FOR, FOR, FOR, AGAINST)  # 3 left: could still be 3-4
    failed = board.propose(resolution())
    board.votes(failed, AGAINST, AGAINST, FOR, FOR)
    assert board.state(passed) == ACTIVE and board.state(failed) == ACTIVE
    advance_time(board.w3, VOTING_PERIOD + 1)
    assert board.state(passed) == SUCCEEDED
    assert board.state(failed) == DEFEATED


def test_succeeded_but_not_executed_in_time_expires(board: Board) -> None:
    proposal_id = board.propose(resolution())
    board.votes(proposal_id, FOR, FOR, FOR, FOR)
    assert board.state(proposal_id) == SUCCEEDED
    advance_time(board.w3, VOTING_PERIOD + EXECUTION_PERIOD - 600)
    assert board.state(proposal_id) == SUCCEEDED
    advance_time(board.w3, 1200)
    assert board.state(proposal_id) == EXPIRED
    assert board.view(proposal_id)["state"] == EXPIRED
    with reverts(
        board.contract, "BoardUnexpectedProposalState", proposalId=proposal_id, current=EXPIRED, expected=SUCCEEDED
    ):
        board.fn.execute(proposal_id, resolution(), DOCUMENT).transact({"from": board.members[0].address})


def test_quorum_reached_at_exactly_the_quorum_share(w3: Web3, board: Board, deployer: LocalAccount) -> None:
    """The quorum is `>=`: on a board of six, three taking part is exactly 50% and reaches it; two do not."""
    six = [(member.address, name) for member, name in zip(board.members[:6], MEMBER_NAMES, strict=False)]
    contract, _ = deploy_board(w3, deployer, six)
    small = Board(contract, board.registry, board.members[:6])
    exactly_half = small.propose(resolution())
    small.votes(exactly_half, FOR, FOR, AGAINST)  # 3 of 6 take part: 30000 >= 5000 * 6
    below = small.propose(resolution())
    small.votes(below, FOR, FOR)  # 2 of 6: 20000 < 30000
    # Open until voteEnd either way: three members may still vote (2-1 can still become 2-4).
    assert small.state(exactly_half) == ACTIVE and small.state(below) == ACTIVE
    advance_time(w3, VOTING_PERIOD + 1)
    assert small.state(exactly_half) == SUCCEEDED  # quorum, and 2 For against 1 Against is a majority
    assert small.state(below) == EXPIRED  # no quorum
    # The same boundary on the board of seven through a recusal: 3 of the 6 left take part.
    recused = board.propose(resolution())
    send(board.fn.recuse(recused, ""), board.members[6])
    board.votes(recused, FOR, FOR, AGAINST)
    assert board.state(recused) == ACTIVE
    advance_time(w3, VOTING_PERIOD + 1)
    assert board.state(recused) == SUCCEEDED


def set_next_block_timestamp(w3: Web3, timestamp: int) -> None:
    """The next block's timestamp, to the second (anvil only: ganache 7 has no evm_setNextBlockTimestamp)."""
    assert "anvil" in w3.client_version.lower(), "anvil_only: ganache 7 has no evm_setNextBlockTimestamp"
    rpc(w3, "evm_setNextBlockTimestamp", timestamp)


def send_at(w3: Web3, timestamp: int, fn: Any, sender: LocalAccount) -> TxReceipt:
    """Send `fn` from `sender` in a block of `timestamp` (gas given: no estimate at another time), whatever its
    status."""
    set_next_block_timestamp(w3, timestamp)
    tx_hash = fn.transact({"from": sender.address, "gas": 500_000})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash)
    assert block_time(w3, receipt) == timestamp
    return receipt


@pytest.mark.parametrize(
    "after_deadline, executed",
    [pytest.param(0, True, id="at-the-deadline-second"), pytest.param(1, False, id="one-second-after")],
)
@pytest.mark.anvil_only("sets the next block's timestamp to the second (evm_setNextBlockTimestamp)")
def test_execution_window_ends_at_executable_until_inclusive(
    w3: Web3, board: Board, after_deadline: int, executed: bool
) -> None:
    """`executableUntil` is the last second a succeeded proposal can be executed (`<=`), on chain time."""
    proposal_id = board.propose(resolution())
    board.votes(proposal_id, FOR, FOR, FOR, FOR)
    deadline = board.view(proposal_id)["executableUntil"]
    receipt = send_at(
        w3, deadline + after_deadline, board.fn.execute(proposal_id, resolution(), DOCUMENT), board.members[0]
    )
    assert receipt["status"] == int(executed)
    assert len(events(board.contract, "ProposalExecuted", receipt)) == int(executed)
    assert board.state(proposal_id) == (EXECUTED if executed else EXPIRED)
    if not executed:
        with reverts(
            board.contract, "BoardUnexpectedProposalState", proposalId=proposal_id, current=EXPIRED, expected=SUCCEEDED
        ):
            board.fn.execute(proposal_id, resolution(), DOCUMENT).call(
                {"from": board.members[0].address}, block_identifier=receipt["blockNumber"]
            )


# ---------------------------------------------------------------- signed ballots


def test_cast_vote_by_sig_relayed(board: Board, relayer: LocalAccount) -> None:
    proposal_id = board.propose(resolution())
    voter = board.members[4]
    ballot = board.sign_ballot(voter, proposal_id, FOR, reason="Akkoord")
    receipt = send(board.fn.castVoteBySig(*ballot), relayer)
    assert receipt["from"] == relayer.address
    assert one_event(board.contract, "VoteCast", receipt) == {
        "proposalId": proposal_id,
        "voter": voter.address,
        "support": FOR,
        "reason": "Akkoord",
    }
    assert board.fn.nonces(voter.address).call() == 1
    assert board.receipt(proposal_id, voter.address)["hasVoted"] is True


def test_same_signature_twice_refused(board: Board, relayer: LocalAccount) -> None:
    proposal_id = board.propose(resolution())
    voter = board.members[4].address
    ballot = board.sign_ballot(board.members[4], proposal_id, FOR)
    send(board.fn.castVoteBySig(*ballot), relayer)
    # The nonce is used: the same signature no longer matches, before any double-vote check.
    with reverts(board.contract, "BoardInvalidSignature", signer=voter):
        board.fn.castVoteBySig(*ballot).transact({"from": relayer.address})
    # A signature with the used nonce for another proposal is refused too.
    other = board.propose(resolution())
    replay = board.sign_ballot(board.members[4], other, FOR, nonce=0)
    with reverts(board.contract, "BoardInvalidSignature", signer=voter):
        board.fn.castVoteBySig(*replay).transact({"from": relayer.address})


def test_signature_for_another_chain_or_contract_refused(board: Board, relayer: LocalAccount) -> None:
    proposal_id = board.propose(resolution())
    voter = board.members[4]
    for ballot in [
        board.sign_ballot(voter, proposal_id, FOR, chain_id=board.w3.eth.chain_id + 1),
        board.sign_ballot(voter, proposal_id, FOR, contract=board.registry.address),
    ]:
        with reverts(board.contract, "BoardInvalidSignature", signer=voter.address):
            board.fn.castVoteBySig(*ballot).transact({"from": relayer.address})


def test_signature_after_deadline_refused(board: Board, relayer: LocalAccount) -> None:
    proposal_id = board.propose(resolution())
    deadline = latest_timestamp(board.w3) + 60
    ballot = board.sign_ballot(board.members[4], proposal_id, FOR, deadline=deadline)
    advance_time(board.w3, 120)
    with reverts(board.contract, "BoardExpiredSignature", deadline=deadline):
        board.fn.castVoteBySig(*ballot).transact({"from": relayer.address})


def test_signature_by_the_wrong_key_or_of_another_ballot_refused(board: Board, relayer: LocalAccount) -> None:
    proposal_id = board.propose(resolution())
    voter = board.members[4].address
    by_other_key = board.sign_ballot(board.members[5], proposal_id, FOR, voter=voter)
    tampered = list(board.sign_ballot(board.members[4], proposal_id, AGAINST))
    tampered[1] = FOR  # the relayer flips the choice
    for ballot in (by_other_key, tuple(tampered)):
        with reverts(board.contract, "BoardInvalidSignature", signer=voter):
            board.fn.castVoteBySig(*ballot).transact({"from": relayer.address})
    assert board.tally(proposal_id) == (0, 0, 0, 0)


def test_signed_ballot_obeys_the_voting_rules(board: Board, relayer: LocalAccount, outsider: LocalAccount) -> None:
    proposal_id = board.propose(resolution())
    with reverts(board.contract, "BoardNotEligible", proposalId=proposal_id, account=outsider.address):
        board.fn.castVoteBySig(*board.sign_ballot(outsider, proposal_id, FOR)).transact({"from": relayer.address})
    with reverts(board.contract, "BoardInvalidVoteType", support=3):
        board.fn.castVoteBySig(*board.sign_ballot(board.members[1], proposal_id, 3)).transact({"from": relayer.address})


def test_signatures_from_an_erc1271_wallet_member(
    w3: Web3, board: Board, deployer: LocalAccount, wallet_owner: LocalAccount, relayer: LocalAccount
) -> None:
    wallet, other = wallet_board(w3, board, deployer, wallet_owner)
    small = other.contract
    proposal_id = other.propose(resolution())
    ballot = other.sign_ballot(wallet_owner, proposal_id, AGAINST, voter=wallet.address)
    send(small.functions.castVoteBySig(*ballot), relayer)
    assert other.receipt(proposal_id, wallet.address)["hasVoted"] is True
    assert other.tally(proposal_id) == (0, 1, 0, 0)
    # The wallet proposes and recuses itself by signature too.
    receipt = send(
        small.functions.proposeBySig(*other.sign_proposal(wallet_owner, resolution(), proposer=wallet.address)), relayer
    )
    created = one_event(small, "ProposalCreated", receipt)
    assert created["proposer"] == wallet.address
    send(
        small.functions.recuseBySig(*other.sign_recusal(wallet_owner, created["proposalId"], member=wallet.address)),
        relayer,
    )
    assert other.receipt(created["proposalId"], wallet.address)["recused"] is True
    assert small.functions.nonces(wallet.address).call() == 3


def test_multicall_counts_seven_signed_ballots_in_one_transaction(board: Board, relayer: LocalAccount) -> None:
    proposal_id = board.propose(resolution())
    supports = [FOR, AGAINST, FOR, AGAINST, FOR, ABSTAIN, FOR]  # decided by the last ballot only
    ballots = [
        board.sign_ballot(m, proposal_id, s, reason=f"stem {i}")
        for i, (m, s) in enumerate(zip(board.members, supports, strict=True))
    ]
    receipt = send(board.fn.multicall([board.call("castVoteBySig", *ballot) for ballot in ballots]), relayer)
    cast = events(board.contract, "VoteCast", receipt)
    assert [(e["voter"], e["support"], e["reason"]) for e in cast] == [
        (m.address, s, f"stem {i}") for i, (m, s) in enumerate(zip(board.members, supports, strict=True))
    ]
    assert board.tally(proposal_id) == (4, 2, 1, 0)
    assert board.state(proposal_id) == SUCCEEDED


def test_multicall_is_all_or_nothing(board: Board, relayer: LocalAccount, outsider: LocalAccount) -> None:
    proposal_id = board.propose(resolution())
    supports = [FOR, AGAINST, FOR, AGAINST, FOR, ABSTAIN]
    calls = [
        board.call("castVoteBySig", *board.sign_ballot(m, proposal_id, s))
        for m, s in zip(board.members, supports, strict=False)
    ]
    bad_voter = board.members[6].address
    bad = board.call("castVoteBySig", *board.sign_ballot(board.members[0], proposal_id, FOR, voter=bad_voter))
    # The batch reverts with the failing call's own error, bubbled up unchanged.
    with reverts(board.contract, "BoardInvalidSignature", signer=bad_voter):
        board.fn.multicall(calls + [bad]).transact({"from": relayer.address})
    # A ballot counted earlier in the batch makes a repeated one fail too.
    with reverts(board.contract, "BoardInvalidSignature", signer=board.members[1].address):
        board.fn.multicall(calls[:2] + [calls[1]]).transact({"from": relayer.address})
    not_a_member = board.call("castVoteBySig", *board.sign_ballot(outsider, proposal_id, FOR))
    with reverts(board.contract, "BoardNotEligible", proposalId=proposal_id, account=outsider.address):
        board.fn.multicall(calls[:3] + [not_a_member]).transact({"from": relayer.address})
    assert board.tally(proposal_id) == (0, 0, 0, 0)
    assert all(board.fn.nonces(m.address).call() == 0 for m in board.members)


def test_multicall_calls_as_its_sender(board: Board, relayer: LocalAccount) -> None:
    first, second, third = (board.propose(resolution()) for _ in range(3))
    member = board.members[2]
    receipt = send(
        board.fn.multicall(
            [
                board.call("castVote", first, FOR, ""),
                board.call("castVote", second, AGAINST, "Nee"),
                board.call("recuse", third, "Belang"),
            ]
        ),
        member,
    )
    assert [(e["proposalId"], e["voter"], e["support"]) for e in events(board.contract, "VoteCast", receipt)] == [
        (first, member.address, FOR),
        (second, member.address, AGAINST),
    ]
    assert one_event(board.contract, "Recused", receipt) == {
        "proposalId": third,
        "member": member.address,
        "reason": "Belang",
    }
    # A direct call in the relayer's batch is the relayer's own, and it is no member.
    with reverts(board.contract, "BoardNotEligible", proposalId=first, account=relayer.address):
        board.fn.multicall([board.call("castVote", first, FOR, "")]).transact({"from": relayer.address})


# ---------------------------------------------------------------- signed proposals and recusals


def test_signed_types_are_the_documented_eip712_types(board: Board) -> None:
    """The contract's type hashes are those of IHubBoard's type strings, and eth-account (as a wallet) encodes a
    proposal and a meeting ballot as EIP-712 nests structs: the Action's struct hash, holding the Rules' struct
    hash."""
    action_type, rules_type = (
        PROPOSE_TYPE[PROPOSE_TYPE.index("Action(") :],
        PROPOSE_TYPE[PROPOSE_TYPE.index("Rules(") :],
    )
    assert board.fn.BALLOT_TYPEHASH().call() == Web3.keccak(text=BALLOT_TYPE)
    assert board.fn.PROPOSE_TYPEHASH().call() == Web3.keccak(text=PROPOSE_TYPE)
    assert board.fn.ACTION_TYPEHASH().call() == Web3.keccak(text=action_type)
    assert board.fn.RULES_TYPEHASH().call() == Web3.keccak(text=rules_type)
    assert board.fn.RECUSAL_TYPEHASH().call() == Web3.keccak(text=RECUSAL_TYPE)
    assert board.fn.MEETING_BALLOT_TYPEHASH().call() == Web3.keccak(text=MEETING_BALLOT_TYPE)
    encode = board.w3.codec.encode
    domain_separator = Web3.keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [
                Web3.keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                Web3.keccak(text=DOMAIN_NAME),
                Web3.keccak(text=DOMAIN_VERSION),
                board.w3.eth.chain_id,
                board.contract.address,
            ],
        )
    )
    proposer, nonce, deadline = board.members[3].address, 5, 2**40
    for action in (accredit(Web3.to_checksum_address(SUBJECT)), change_rules((7500, 6000, 7500, 2 * DAY, DAY))):
        kind, subject, name, key, rules = action
        rules_hash = Web3.keccak(encode(["bytes32"] + ["uint256"] * 5, [Web3.keccak(text=rules_type), *rules]))
        action_hash = Web3.keccak(
            encode(
                ["bytes32", "uint8", "address", "bytes32", "bytes32", "bytes32"],
                [Web3.keccak(text=action_type), kind, subject, Web3.keccak(text=name), key, rules_hash],
            )
        )
        struct_hash = Web3.keccak(
            encode(
                ["bytes32", "bytes32", "bytes32", "bytes32", "address", "uint256", "uint256"],
                [
                    Web3.keccak(text=PROPOSE_TYPE),
                    action_hash,
                    Web3.keccak(text=TITLE),
                    DOCUMENT,
                    proposer,
                    nonce,
                    deadline,
                ],
            )
        )
        message = {
            "action": action_message(action),
            "title": TITLE,
            "documentHash": DOCUMENT,
            "proposer": proposer,
            "nonce": nonce,
            "deadline": deadline,
        }
        signable = encode_typed_data(domain_data=board.domain(), message_types=PROPOSE_TYPES, message_data=message)
        assert (signable.header, signable.body) == (domain_separator, struct_hash)
        # A meeting ballot nests the same Propose struct hash, nonce and deadline included.
        ballot = {"proposal": message, "support": FOR, "reason": "Akkoord", "voter": board.members[4].address}
        signable = encode_typed_data(
            domain_data=board.domain(), message_types=MEETING_BALLOT_TYPES, message_data=ballot
        )
        assert signable.body == Web3.keccak(
            encode(
                ["bytes32", "bytes32", "uint8", "bytes32", "address"],
                [
                    Web3.keccak(text=MEETING_BALLOT_TYPE),
                    struct_hash,
                    FOR,
                    Web3.keccak(text="Akkoord"),
                    board.members[4].address,
                ],
            )
        )
    recusal = {"proposalId": 7, "reason": "Belang", "member": proposer, "nonce": nonce, "deadline": deadline}
    signable = encode_typed_data(domain_data=board.domain(), message_types=RECUSAL_TYPES, message_data=recusal)
    assert signable.body == Web3.keccak(
        encode(
            ["bytes32", "uint256", "bytes32", "address", "uint256", "uint256"],
            [Web3.keccak(text=RECUSAL_TYPE), 7, Web3.keccak(text="Belang"), proposer, nonce, deadline],
        )
    )


@pytest.mark.parametrize(
    "action",
    [
        pytest.param(accredit(Web3.to_checksum_address(SUBJECT)), id="accredit-issuer"),
        pytest.param(change_rules((7500, 6000, 7500, 2 * DAY, DAY)), id="change-rules"),
    ],
)
def test_propose_by_sig_relayed(board: Board, relayer: LocalAccount, action: tuple[Any, ...]) -> None:
    proposer = board.members[2]
    assert board.fn.isMember(relayer.address).call() is False
    signed = board.sign_proposal(proposer, action, title="Besluit via de relayer")
    assert board.fn.proposeBySig(*signed).call({"from": relayer.address}) == 1
    receipt = send(board.fn.proposeBySig(*signed), relayer)
    assert receipt["from"] == relayer.address
    event = one_event(board.contract, "ProposalCreated", receipt)
    assert (event["proposalId"], event["proposer"], event["action"], event["title"], event["documentHash"]) == (
        1,
        proposer.address,
        action,
        "Besluit via de relayer",
        DOCUMENT,
    )
    assert event["voteEnd"] == block_time(board.w3, receipt) + VOTING_PERIOD
    view = board.view(1)
    assert view["proposalHash"] == board.fn.hashProposal(action, DOCUMENT).call()
    assert (view["state"], view["eligible"], view["thresholdBps"]) == (
        ACTIVE,
        7,
        6666 if action[0] == CHANGE_RULES else 5000,
    )
    assert board.fn.nonces(proposer.address).call() == 1


def test_propose_by_sig_same_signature_twice_refused(board: Board, relayer: LocalAccount) -> None:
    proposer = board.members[1]
    signed = board.sign_proposal(proposer, resolution())
    send(board.fn.proposeBySig(*signed), relayer)
    with reverts(board.contract, "BoardInvalidSignature", signer=proposer.address):
        board.fn.proposeBySig(*signed).transact({"from": relayer.address})
    # Proposals, ballots and recusals share the nonce: a ballot signed with the used one is refused too.
    ballot = board.sign_ballot(proposer, 1, FOR, nonce=0)
    with reverts(board.contract, "BoardInvalidSignature", signer=proposer.address):
        board.fn.castVoteBySig(*ballot).transact({"from": relayer.address})
    assert board.fn.proposalCount().call() == 1


def test_propose_by_sig_for_another_chain_or_contract_refused(board: Board, relayer: LocalAccount) -> None:
    proposer = board.members[1]
    for signed in [
        board.sign_proposal(proposer, resolution(), chain_id=board.w3.eth.chain_id + 1),
        board.sign_proposal(proposer, resolution(), contract=board.registry.address),
    ]:
        with reverts(board.contract, "BoardInvalidSignature", signer=proposer.address):
            board.fn.proposeBySig(*signed).transact({"from": relayer.address})
    assert board.fn.proposalCount().call() == 0


def test_propose_by_sig_after_deadline_refused(board: Board, relayer: LocalAccount) -> None:
    deadline = latest_timestamp(board.w3) + 60
    signed = board.sign_proposal(board.members[1], resolution(), deadline=deadline)
    advance_time(board.w3, 120)
    with reverts(board.contract, "BoardExpiredSignature", deadline=deadline):
        board.fn.proposeBySig(*signed).transact({"from": relayer.address})


def test_propose_by_sig_by_the_wrong_key_or_changed_since_signing_refused(
    board: Board, relayer: LocalAccount, newcomer: LocalAccount, outsider: LocalAccount
) -> None:
    proposer = board.members[1].address
    by_other_key = board.sign_proposal(board.members[2], resolution(), proposer=proposer)
    action, title, document, _, deadline, signature = board.sign_proposal(board.members[1], accredit(newcomer.address))
    changed = [
        (accredit(outsider.address), title, document),  # another issuer
        (accredit(newcomer.address, "Andere naam"), title, document),
        (action, "Andere titel", document),
        (action, title, b"\x01" * 32),
    ]
    for signed in [by_other_key] + [(*fields, proposer, deadline, signature) for fields in changed]:
        with reverts(board.contract, "BoardInvalidSignature", signer=proposer):
            board.fn.proposeBySig(*signed).transact({"from": relayer.address})
    assert board.fn.proposalCount().call() == 0


def test_propose_by_sig_obeys_the_proposal_rules(board: Board, relayer: LocalAccount, outsider: LocalAccount) -> None:
    with reverts(board.contract, "BoardUnauthorizedMember", account=outsider.address):
        board.fn.proposeBySig(*board.sign_proposal(outsider, resolution())).transact({"from": relayer.address})
    with reverts(board.contract, "BoardEmptyTitle"):
        board.fn.proposeBySig(*board.sign_proposal(board.members[1], resolution(), title="")).transact(
            {"from": relayer.address}
        )


def test_nonce_survives_removal_and_return(board: Board, relayer: LocalAccount) -> None:
    """An account removed and added again keeps its nonce: a spent signature (here a proposal, which names no
    proposal id) cannot be replayed after its return."""
    member = board.members[6]
    signed = board.sign_proposal(member, resolution())
    send(board.fn.proposeBySig(*signed), relayer)
    board.decide(remove_member(member.address))
    assert board.fn.nonces(member.address).call() == 1
    board.decide(add_member(member.address, MEMBER_NAMES[6]))
    assert board.fn.isMember(member.address).call() is True
    assert board.fn.nonces(member.address).call() == 1
    with reverts(board.contract, "BoardInvalidSignature", signer=member.address):
        board.fn.proposeBySig(*signed).transact({"from": relayer.address})
    send(board.fn.proposeBySig(*board.sign_proposal(member, resolution())), relayer)
    assert board.fn.nonces(member.address).call() == 2
    assert board.fn.proposalCount().call() == 4  # 1 signed, 2 decisions, 1 signed


def test_recuse_by_sig_relayed(board: Board, relayer: LocalAccount) -> None:
    proposal_id = board.propose(resolution())
    member = board.members[5]
    receipt = send(
        board.fn.recuseBySig(*board.sign_recusal(member, proposal_id, reason="Bestuurder is ook docent")), relayer
    )
    assert receipt["from"] == relayer.address
    assert one_event(board.contract, "Recused", receipt) == {
        "proposalId": proposal_id,
        "member": member.address,
        "reason": "Bestuurder is ook docent",
    }
    assert board.receipt(proposal_id, member.address) == {
        "eligible": True,
        "hasVoted": False,
        "recused": True,
        "support": AGAINST,
    }
    assert board.tally(proposal_id) == (0, 0, 0, 1)
    assert board.fn.nonces(member.address).call() == 1
    # The recusal rules hold as for a direct recusal: no ballot afterwards.
    with reverts(board.contract, "BoardAlreadyRecused", proposalId=proposal_id, member=member.address):
        board.fn.castVoteBySig(*board.sign_ballot(member, proposal_id, FOR)).transact({"from": relayer.address})


def test_recuse_by_sig_replay_refused(board: Board, relayer: LocalAccount, outsider: LocalAccount) -> None:
    proposal_id, other = board.propose(resolution()), board.propose(resolution())
    member = board.members[5]
    signed = board.sign_recusal(member, proposal_id)
    send(board.fn.recuseBySig(*signed), relayer)
    tampered = list(board.sign_recusal(member, other, reason="Belang"))
    tampered[1] = "Geen belang"
    refused = [
        signed,  # the same signature twice: its nonce is used
        board.sign_recusal(member, other, nonce=0),  # the used nonce, for another proposal
        board.sign_recusal(member, other, chain_id=board.w3.eth.chain_id + 1),
        board.sign_recusal(member, other, contract=board.registry.address),
        board.sign_recusal(board.members[6], other, member=member.address),  # the wrong key
        tuple(tampered),
    ]
    for recusal in refused:
        with reverts(board.contract, "BoardInvalidSignature", signer=member.address):
            board.fn.recuseBySig(*recusal).transact({"from": relayer.address})
    deadline = latest_timestamp(board.w3) + 60
    late = board.sign_recusal(member, other, deadline=deadline)
    advance_time(board.w3, 120)
    with reverts(board.contract, "BoardExpiredSignature", deadline=deadline):
        board.fn.recuseBySig(*late).transact({"from": relayer.address})
    with reverts(board.contract, "BoardNotEligible", proposalId=other, account=outsider.address):
        board.fn.recuseBySig(*board.sign_recusal(outsider, other)).transact({"from": relayer.address})
    assert board.tally(other) == (0, 0, 0, 0)
    assert board.fn.nonces(member.address).call() == 1


# ---------------------------------------------------------------- a meeting's decision as a multicall (ballots by id)


def meeting_batch(
    board: Board, action: tuple[Any, ...], supports: list[int], execute_action: tuple[Any, ...] | None = None
) -> tuple[int, list[bytes]]:
    """The chair's signed proposal, every member's signed ballot and the execution, as multicall's calls.

    The ballots are signed before the proposal exists, for the id it will get: proposalCount() + 1. The chair
    signs its ballot with the nonce after the one its proposal uses."""
    proposal_id = board.fn.proposalCount().call() + 1
    chair = board.members[0]
    proposal = board.sign_proposal(chair, action)
    ballots = [
        board.sign_ballot(
            member,
            proposal_id,
            support,
            reason="Akkoord" if support == FOR else "",
            nonce=board.fn.nonces(member.address).call() + (member is chair),
        )
        for member, support in zip(board.members, supports, strict=True)
    ]
    calls = [board.call("proposeBySig", *proposal)] + [board.call("castVoteBySig", *ballot) for ballot in ballots]
    calls.append(board.call("execute", proposal_id, execute_action or action, DOCUMENT))
    return proposal_id, calls


def test_multicall_meeting_decision_in_one_transaction(
    board: Board, relayer: LocalAccount, issuer: LocalAccount
) -> None:
    action = accredit(issuer.address)
    assert board.fn.isMember(relayer.address).call() is False
    balances = [board.w3.eth.get_balance(m.address) for m in board.members]
    proposal_id, calls = meeting_batch(board, action, [FOR] * 7)
    results = board.fn.multicall(calls).call({"from": relayer.address})
    assert board.w3.codec.decode(["uint256"], results[0]) == (proposal_id,)
    assert [bytes(result) for result in results[1:]] == [b""] * 8

    receipt = send(board.fn.multicall(calls), relayer)
    assert receipt["from"] == relayer.address
    created = one_event(board.contract, "ProposalCreated", receipt)
    assert (created["proposalId"], created["proposer"], created["action"]) == (
        proposal_id,
        board.members[0].address,
        action,
    )
    # Every member's vote is recorded, also those cast after the proposal had succeeded (the fourth For).
    assert [(e["proposalId"], e["voter"], e["support"]) for e in events(board.contract, "VoteCast", receipt)] == [
        (proposal_id, m.address, FOR) for m in board.members
    ]
    assert one_event(board.contract, "ProposalExecuted", receipt) == {
        "proposalId": proposal_id,
        "kind": ACCREDIT_ISSUER,
        "subject": issuer.address,
    }
    assert one_event(board.registry, "IssuerAccredited", receipt) == {
        "issuer": issuer.address,
        "name": ISSUER_NAME,
        "keyHash": ISSUER_KEY,
    }
    name, accredited, _since, _relayer, _keys = board.registry.functions.issuer(issuer.address).call()
    assert (name, accredited) == (ISSUER_NAME, True)
    assert board.state(proposal_id) == EXECUTED
    assert board.tally(proposal_id) == (7, 0, 0, 0)
    assert [board.fn.nonces(m.address).call() for m in board.members] == [2, 1, 1, 1, 1, 1, 1]
    assert [board.w3.eth.get_balance(m.address) for m in board.members] == balances  # the relayer paid


def test_multicall_ballots_for_a_predicted_id_count_on_whichever_proposal_takes_it(
    board: Board, relayer: LocalAccount, issuer: LocalAccount
) -> None:
    """Why a meeting goes through recordMeeting: a castVoteBySig ballot names an id, not a content. Ballots signed
    for the id a batch expects are counted on another proposal that takes the id first."""
    action = accredit(issuer.address)
    proposal_id, calls = meeting_batch(board, action, [FOR] * 7)
    other = board.propose(resolution(), proposer=board.members[6])  # takes the expected id first
    assert other == proposal_id
    with reverts(board.contract, "BoardActionMismatch", proposalId=proposal_id):
        board.fn.multicall(calls).transact({"from": relayer.address})
    ballots = calls[2:-1]  # the members' castVoteBySig after the chair's (its nonce follows the unused proposal's)
    send(board.fn.multicall(ballots), relayer)
    assert board.tally(other) == (6, 0, 0, 0) and board.state(other) == SUCCEEDED


def test_multicall_meeting_with_a_failing_step_changes_nothing(
    board: Board, relayer: LocalAccount, issuer: LocalAccount
) -> None:
    action = accredit(issuer.address)
    wrong = accredit(issuer.address, "Andere naam")
    proposal_id, calls = meeting_batch(board, action, [FOR] * 7, execute_action=wrong)
    with reverts(
        board.contract,
        "BoardActionMismatch",
        proposalId=proposal_id,
        expected=board.fn.hashProposal(action, DOCUMENT).call(),
        given=board.fn.hashProposal(wrong, DOCUMENT).call(),
    ):
        board.fn.multicall(calls).transact({"from": relayer.address})
    assert board.fn.proposalCount().call() == 0
    assert all(board.fn.nonces(m.address).call() == 0 for m in board.members)
    assert board.registry.functions.issuer(issuer.address).call()[1] is False
    # The same signatures go through in a corrected batch.
    send(board.fn.multicall(calls[:-1] + [board.call("execute", proposal_id, action, DOCUMENT)]), relayer)
    assert board.state(proposal_id) == EXECUTED


# ---------------------------------------------------------------- a meeting's decision: recordMeeting


def test_record_meeting_decides_and_executes_in_one_transaction(
    board: Board, relayer: LocalAccount, issuer: LocalAccount
) -> None:
    action = accredit(issuer.address)
    assert board.fn.isMember(relayer.address).call() is False
    balances = [board.w3.eth.get_balance(m.address) for m in board.members]
    meeting = board.meeting(action, [FOR] * 7)
    assert board.fn.recordMeeting(*board.seated(*meeting)).call({"from": relayer.address}) == [1, EXECUTED]

    receipt = send(board.fn.recordMeeting(*board.seated(*meeting)), relayer)
    assert receipt["from"] == relayer.address
    created = one_event(board.contract, "ProposalCreated", receipt)
    assert (
        created["proposalId"],
        created["proposer"],
        created["action"],
        created["title"],
        created["documentHash"],
        created["eligible"],
    ) == (1, board.members[0].address, action, TITLE, DOCUMENT, 7)
    # Every member's vote is on record, also those after the fourth For had decided it: in one event.
    assert events(board.contract, "VoteCast", receipt) == []
    assert [
        (e["proposalId"], e["voter"], e["support"], e["reason"]) for e in meeting_ballots(board.contract, receipt)
    ] == [(1, m.address, FOR, "Akkoord") for m in board.members]
    assert one_event(board.contract, "ProposalExecuted", receipt) == {
        "proposalId": 1,
        "kind": ACCREDIT_ISSUER,
        "subject": issuer.address,
    }
    assert one_event(board.registry, "IssuerAccredited", receipt) == {
        "issuer": issuer.address,
        "name": ISSUER_NAME,
        "keyHash": ISSUER_KEY,
    }
    # The events of the separate calls, in their order: proposal, ballots, execution, then the registry's.
    board_topics = {
        bytes(Web3.keccak(text=signature)): name
        for name, signature in [
            (
                "ProposalCreated",
                "ProposalCreated(uint256,address,(uint8,address,string,bytes32,(uint16,uint16,uint16,uint32,"
                "uint32)),string,bytes32,uint48,uint48,uint16,uint16,uint8)",
            ),
            ("MeetingRecorded", "MeetingRecorded(uint256,address[],bytes,string[])"),
            ("ProposalExecuted", "ProposalExecuted(uint256,uint8,address)"),
            ("IssuerAccredited", "IssuerAccredited(address,string,bytes32)"),
        ]
    }
    assert [board_topics[bytes(log["topics"][0])] for log in receipt["logs"]] == [
        "ProposalCreated",
        "MeetingRecorded",
        "ProposalExecuted",
        "IssuerAccredited",
    ]
    name, accredited, _since, _relayer, _keys = board.registry.functions.issuer(issuer.address).call()
    assert (name, accredited) == (ISSUER_NAME, True)
    assert board.state(1) == EXECUTED and board.tally(1) == (7, 0, 0, 0)
    # Executed with the action it was created from, in this call: no commitment is stored, and it is never
    # executed again.
    assert board.view(1)["proposalHash"] == bytes(32)
    with reverts(board.contract, "BoardUnexpectedProposalState", proposalId=1, current=EXECUTED, expected=SUCCEEDED):
        board.fn.execute(1, action, DOCUMENT).transact({"from": relayer.address})
    assert all(
        board.receipt(1, m.address) == {"eligible": True, "hasVoted": True, "recused": False, "support": FOR}
        for m in board.members
    )
    # Only the proposal consumed a nonce: the ballots name it and consume none.
    assert [board.fn.nonces(m.address).call() for m in board.members] == [1, 0, 0, 0, 0, 0, 0]
    assert [board.w3.eth.get_balance(m.address) for m in board.members] == balances  # the relayer paid


@pytest.mark.parametrize(
    "supports, tally",
    [
        pytest.param([FOR, FOR, FOR], (3, 0, 0), id="no-quorum"),
        pytest.param([FOR, FOR, AGAINST, AGAINST, ABSTAIN], (2, 2, 1), id="quorum-but-open"),
    ],
)
def test_record_meeting_that_does_not_decide_leaves_the_proposal_open(
    board: Board, relayer: LocalAccount, issuer: LocalAccount, supports: list[int], tally: tuple[int, int, int]
) -> None:
    action = accredit(issuer.address)
    meeting = board.meeting(action, supports)
    assert board.fn.recordMeeting(*board.seated(*meeting)).call({"from": relayer.address}) == [1, ACTIVE]
    receipt = send(board.fn.recordMeeting(*board.seated(*meeting)), relayer)
    assert [e["support"] for e in meeting_ballots(board.contract, receipt)] == supports
    assert events(board.contract, "ProposalExecuted", receipt) == []
    assert events(board.registry, "IssuerAccredited", receipt) == []
    assert board.state(1) == ACTIVE and board.tally(1) == (*tally, 0)
    assert board.registry.functions.issuer(issuer.address).call()[1] is False
    # Left open: its commitment is stored, as for any proposal, and checked at execution.
    assert board.view(1)["proposalHash"] == board.fn.hashProposal(action, DOCUMENT).call()
    # The members that were not there vote later, directly or signed; then anyone executes.
    absent = board.members[len(supports) :]
    board.vote(1, absent[0], FOR)
    send(board.fn.castVoteBySig(*board.sign_ballot(absent[1], 1, FOR)), relayer)
    assert board.state(1) == SUCCEEDED
    with reverts(board.contract, "BoardActionMismatch", proposalId=1):
        board.fn.execute(1, action, b"\x01" * 32).transact({"from": relayer.address})
    send(board.fn.execute(1, action, DOCUMENT), relayer)
    assert board.state(1) == EXECUTED
    assert board.registry.functions.issuer(issuer.address).call()[1] is True


@pytest.mark.parametrize(
    "supports, tally, outcome",
    [
        pytest.param([FOR, AGAINST, ABSTAIN, AGAINST, FOR, AGAINST, AGAINST], (2, 4, 1), DEFEATED, id="defeated"),
        pytest.param([ABSTAIN] * 7, (0, 0, 7), DEFEATED, id="all-abstain"),
        pytest.param([FOR, AGAINST, FOR, ABSTAIN, AGAINST, FOR, FOR], (4, 2, 1), EXECUTED, id="passed-4-2-1"),
    ],
)
def test_record_meeting_with_mixed_ballots(
    board: Board,
    relayer: LocalAccount,
    issuer: LocalAccount,
    supports: list[int],
    tally: tuple[int, int, int],
    outcome: int,
) -> None:
    action = accredit(issuer.address)
    meeting = board.meeting(action, supports)
    assert board.fn.recordMeeting(*board.seated(*meeting)).call({"from": relayer.address}) == [1, outcome]
    receipt = send(board.fn.recordMeeting(*board.seated(*meeting)), relayer)
    assert [(e["support"], e["reason"]) for e in meeting_ballots(board.contract, receipt)] == [
        (support, "Akkoord" if support == FOR else "") for support in supports
    ]
    # The reasons are in the event only when any was given (here with the For ballots).
    assert (one_event(board.contract, "MeetingRecorded", receipt)["reasons"] == ()) is (FOR not in supports)
    assert board.tally(1) == (*tally, 0)
    assert board.state(1) == outcome
    assert board.view(1)["proposalHash"] == (
        bytes(32) if outcome == EXECUTED else board.fn.hashProposal(action, DOCUMENT).call()
    )
    assert len(events(board.contract, "ProposalExecuted", receipt)) == (outcome == EXECUTED)
    assert board.registry.functions.issuer(issuer.address).call()[1] is (outcome == EXECUTED)
    if outcome == DEFEATED:
        with reverts(
            board.contract, "BoardUnexpectedProposalState", proposalId=1, current=DEFEATED, expected=SUCCEEDED
        ):
            board.fn.execute(1, action, DOCUMENT).transact({"from": relayer.address})
        advance_time(board.w3, VOTING_PERIOD + 1)
        assert board.state(1) == DEFEATED


def test_record_meeting_without_ballots_is_a_signed_proposal(board: Board, relayer: LocalAccount) -> None:
    receipt = send(board.fn.recordMeeting(*board.seated(*board.meeting(resolution(), []))), relayer)
    assert one_event(board.contract, "ProposalCreated", receipt)["proposer"] == board.members[0].address
    assert events(board.contract, "MeetingRecorded", receipt) == []
    assert board.state(1) == ACTIVE and board.tally(1) == (0, 0, 0, 0)


def test_record_meeting_ballot_signed_for_another_proposal_refused(
    board: Board, relayer: LocalAccount, issuer: LocalAccount, other_issuer: LocalAccount
) -> None:
    """A meeting ballot names the signed proposal (content, title, proposer, nonce, deadline): it counts on no
    other proposal, not even one of the same content."""
    action = accredit(issuer.address)
    *proposal, ballots = board.meeting(action, [FOR] * 7)
    chair, voter = board.members[0], board.members[3]
    others = [  # (a signed proposal, its nonce)
        (board.sign_proposal(chair, accredit(other_issuer.address)), 0),  # another issuer
        (board.sign_proposal(chair, accredit(issuer.address, "Andere naam")), 0),
        (board.sign_proposal(chair, suspend(issuer.address)), 0),
        (board.sign_proposal(chair, action, document=b"\x01" * 32), 0),  # another document
        (board.sign_proposal(chair, action, title="Andere titel"), 0),
        (board.sign_proposal(board.members[1], action), 0),  # another proposer
        (board.sign_proposal(chair, action, nonce=1), 1),  # the chair's next proposal
        (board.sign_proposal(chair, action, deadline=proposal[4] + 1), 0),
    ]
    other_ballots = [
        board.sign_meeting_ballot(voter, other, FOR, reason="Akkoord", proposal_nonce=nonce) for other, nonce in others
    ]
    tampered = list(ballots[3])
    tampered[0] = AGAINST  # the relayer flips the choice
    tampered_reason = list(ballots[3])
    tampered_reason[1] = "Niet akkoord"
    by_other_key = board.sign_meeting_ballot(
        board.members[4], tuple(proposal), FOR, reason="Akkoord", voter=voter.address
    )
    for ballot in [*other_ballots, tuple(tampered), tuple(tampered_reason), by_other_key]:
        with reverts(board.contract, "BoardInvalidSignature", signer=voter.address):
            board.fn.recordMeeting(*board.seated(*proposal, [*ballots[:3], ballot, *ballots[4:]])).transact(
                {"from": relayer.address}
            )
    # A ballot signed for the id the proposal is expected to get (castVoteBySig's Ballot) does not count here ...
    by_id = board.sign_ballot(voter, 1, FOR)
    by_id_struct = (by_id[1], by_id[2], by_id[3], by_id[5])
    with reverts(board.contract, "BoardInvalidSignature", signer=voter.address):
        board.fn.recordMeeting(*board.seated(*proposal, [*ballots[:3], by_id_struct, *ballots[4:]])).transact(
            {"from": relayer.address}
        )
    # ... and a meeting ballot does not count on an existing proposal.
    board.propose(action)
    support, reason, _voter, signature = ballots[3]
    with reverts(board.contract, "BoardInvalidSignature", signer=voter.address):
        board.fn.castVoteBySig(1, support, reason, voter.address, proposal[4], signature).transact(
            {"from": relayer.address}
        )
    assert board.fn.proposalCount().call() == 1 and board.tally(1) == (0, 0, 0, 0)


def test_record_meeting_ballot_of_a_non_member_refused(
    board: Board, relayer: LocalAccount, issuer: LocalAccount, outsider: LocalAccount
) -> None:
    action = accredit(issuer.address)
    *proposal, ballots = board.meeting(action, [FOR] * 6)
    outsider_ballot = board.sign_meeting_ballot(outsider, tuple(proposal), FOR)
    # A ballot names its voter by seat: an outsider holds none (255), and the seventh seat is free on a board of six
    # voters ... the table has seven seats: the seat past its end is no member's either.
    table = board.fn.memberTable().call()
    assert len(table) == 7
    for seat in (255, 7):
        with reverts(board.contract, "BoardNotEligible", proposalId=1, account=ZERO_ADDRESS):
            board.fn.recordMeeting(
                *proposal,
                *board.packed(
                    table,
                    [
                        *[(s, r, i, sig) for i, (s, r, _v, sig) in enumerate(ballots)],
                        (FOR, "", seat, outsider_ballot[3]),
                    ],
                ),
            ).transact({"from": relayer.address})
    # Nor does its ballot count in a member's seat: it is that member's signature that is checked.
    for seat in (0, 6):
        with reverts(board.contract, "BoardInvalidSignature", signer=table[seat]):
            board.fn.recordMeeting(*proposal, *board.packed(table, [(FOR, "", seat, outsider_ballot[3])])).transact(
                {"from": relayer.address}
            )
    # The service client refuses to name a seat for it.
    client = BoardClient(board.w3, board.contract.address)
    proposal_client = client.sign_proposal(
        board.members[0],
        ClientAction.accredit_issuer(issuer.address, ISSUER_NAME, ISSUER_KEY),
        TITLE,
        DOCUMENT,
        deadline=latest_timestamp(board.w3) + 600,
    )
    with pytest.raises(ValueError, match=f"{outsider.address} holds no seat"):
        client.record_meeting(
            proposal_client, [client.sign_meeting_ballot(outsider, proposal_client, VoteType(FOR), "")]
        )
    # Nor may a non-member propose: checked before any ballot.
    with reverts(board.contract, "BoardUnauthorizedMember", account=outsider.address):
        board.fn.recordMeeting(*board.seated(*board.sign_proposal(outsider, action), ballots[1:])).transact(
            {"from": relayer.address}
        )
    assert board.fn.proposalCount().call() == 0


def test_record_meeting_eligibility_is_the_board_at_creation(
    board: Board, relayer: LocalAccount, issuer: LocalAccount
) -> None:
    """A member removed before the meeting is recorded cannot vote in it, although it signed its ballot in time."""
    leaving = board.members[6]
    action = accredit(issuer.address)
    *proposal, ballots = board.meeting(action, [FOR] * 7)
    stale = board.fn.memberTable().call()
    board.decide(remove_member(leaving.address))  # proposal 1, decided directly: no nonce is used
    # Its seat is free now: a ballot naming it is no member's (the table the board keeps says so) ...
    table = board.fn.memberTable().call()
    assert table == stale[:6] and len(stale) == 7
    with reverts(board.contract, "BoardNotEligible", proposalId=2, account=ZERO_ADDRESS):
        board.fn.recordMeeting(*board.seated(*proposal, [ballots[6]])).transact({"from": relayer.address})
    # ... and the table from before the removal, naming it, is not the board's any more.
    with reverts(board.contract, "BoardMemberTableMismatch"):
        board.fn.recordMeeting(*proposal, *board.packed(stale, [(FOR, "Akkoord", 6, ballots[6][3])])).transact(
            {"from": relayer.address}
        )
    receipt = send(board.fn.recordMeeting(*board.seated(*proposal, ballots[1:6])), relayer)  # 5 For of 6: decided
    assert one_event(board.contract, "ProposalExecuted", receipt)["proposalId"] == 2
    assert board.view(2)["eligible"] == 6


def test_record_meeting_member_table_is_the_boards(
    board: Board, relayer: LocalAccount, issuer: LocalAccount, newcomer: LocalAccount, outsider: LocalAccount
) -> None:
    """recordMeeting reads its voters from the member table it is given, checked against the one the board keeps
    at every addition and removal: a forged table (an outsider in a member's seat) is refused, and a member added
    since takes the lowest free seat and votes in the next meeting."""
    action = accredit(issuer.address)
    *proposal, ballots = board.meeting(action, [FOR] * 7)
    table = board.fn.memberTable().call()
    assert table == [m.address for m in board.members]
    outsider_ballot = board.sign_meeting_ballot(outsider, tuple(proposal), FOR)
    forged = [*table[:3], outsider.address, *table[4:]]
    for given in (forged, table[:6], [*table, outsider.address], []):
        with reverts(board.contract, "BoardMemberTableMismatch"):
            board.fn.recordMeeting(*proposal, *board.packed(given, [(FOR, "", 3, outsider_ballot[3])])).transact(
                {"from": relayer.address}
            )
    # A member removed frees its seat (zero in the table); a member added takes the lowest free one.
    board.decide(remove_member(board.members[2].address))
    assert board.fn.memberTable().call() == [*table[:2], ZERO_ADDRESS, *table[3:]]
    board.decide(add_member(newcomer.address, "Nieuw lid"))
    assert board.fn.memberTable().call() == [*table[:2], newcomer.address, *table[3:]]
    meeting = board.sign_proposal(board.members[0], action)
    voters = [*board.members[:2], newcomer, *board.members[3:]]
    new_ballots = [board.sign_meeting_ballot(voter, meeting, FOR) for voter in voters]
    receipt = send(board.fn.recordMeeting(*board.seated(*meeting, new_ballots)), relayer)
    assert [e["voter"] for e in meeting_ballots(board.contract, receipt)] == [v.address for v in voters]
    assert board.state(3) == EXECUTED


def test_record_meeting_votes_packed_as_documented(board: Board, relayer: LocalAccount, issuer: LocalAccount) -> None:
    """recordMeeting's packed `votes` are read exactly: a truncated table or ballot, bytes after the last ballot,
    a ballot count that is not the ballots', and reasons that are neither one per ballot nor none are refused."""
    action = accredit(issuer.address)
    *proposal, ballots = board.meeting(action, [FOR] * 4)
    votes, reasons = board.seated(*proposal, ballots)[-2:]
    assert reasons == ["Akkoord"] * 4 and votes[:2] == bytes([7, 4]) and len(votes) == 2 + 7 * 20 + 4 * (4 + 65)
    more, fewer = bytes([7, 5]) + votes[2:], bytes([7, 3]) + votes[2:]
    for bad in (votes[:1], votes[:100], votes[:-1], votes + b"\x00", more, fewer):
        with reverts(board.contract, "BoardInvalidMeetingVotes"):
            board.fn.recordMeeting(*proposal, bad, reasons).transact({"from": relayer.address})
    for bad_reasons in (reasons[:3], [*reasons, ""], []):
        with reverts(board.contract, "BoardInvalidMeetingVotes" if bad_reasons else "BoardInvalidSignature"):
            board.fn.recordMeeting(*proposal, votes, bad_reasons).transact({"from": relayer.address})
    with reverts(board.contract, "BoardInvalidMeetingVotes"):
        board.fn.recordMeeting(*proposal, b"", reasons).transact({"from": relayer.address})
    assert board.fn.proposalCount().call() == 0
    receipt = send(board.fn.recordMeeting(*proposal, votes, reasons), relayer)
    assert [(e["voter"], e["reason"]) for e in meeting_ballots(board.contract, receipt)] == [
        (m.address, "Akkoord") for m in board.members[:4]
    ]


def test_record_meeting_duplicate_voter_refused(board: Board, relayer: LocalAccount, issuer: LocalAccount) -> None:
    action = accredit(issuer.address)
    *proposal, ballots = board.meeting(action, [FOR] * 4)
    voter = board.members[2]
    # The same ballot twice, or two ballots of one voter: the second is a second vote.
    second = board.sign_meeting_ballot(voter, tuple(proposal), AGAINST)
    for again in (ballots[2], second):
        with reverts(board.contract, "BoardAlreadyVoted", proposalId=1, voter=voter.address):
            board.fn.recordMeeting(*board.seated(*proposal, [*ballots, again])).transact({"from": relayer.address})
    assert board.fn.proposalCount().call() == 0
    assert all(board.fn.nonces(m.address).call() == 0 for m in board.members)


def test_record_meeting_records_a_recusal_with_its_reason(
    board: Board, relayer: LocalAccount, issuer: LocalAccount
) -> None:
    assert board.fn.MEETING_RECUSAL().call() == RECUSED
    action = accredit(issuer.address)
    *proposal, ballots = board.meeting(action, [FOR, FOR, AGAINST])
    conflicted = board.members[3]
    recusal = board.sign_meeting_ballot(conflicted, tuple(proposal), RECUSED, reason="Ik werk bij deze partner")
    receipt = send(board.fn.recordMeeting(*board.seated(*proposal, [*ballots, recusal])), relayer)
    assert [(e["voter"], e["support"], e["reason"]) for e in meeting_ballots(board.contract, receipt)] == [
        (board.members[0].address, FOR, "Akkoord"),
        (board.members[1].address, FOR, "Akkoord"),
        (board.members[2].address, AGAINST, ""),
        (conflicted.address, RECUSED, "Ik werk bij deze partner"),
    ]
    # Recorded as a recusal is: out of the quorum base, no Recused or VoteCast event of its own.
    assert events(board.contract, "Recused", receipt) == [] and events(board.contract, "VoteCast", receipt) == []
    assert board.tally(1) == (2, 1, 0, 1)
    assert board.receipt(1, conflicted.address) == {"eligible": True, "hasVoted": False, "recused": True, "support": 0}
    # 3 of the 6 left take part: quorum (50%) reached, and still open (3 members to come).
    assert board.state(1) == ACTIVE
    # The recused member cannot vote on it afterwards, nor recuse again.
    with reverts(board.contract, "BoardAlreadyRecused", proposalId=1, member=conflicted.address):
        board.fn.castVote(1, FOR, "").transact({"from": conflicted.address})
    with reverts(board.contract, "BoardAlreadyRecused", proposalId=1, member=conflicted.address):
        board.fn.recuse(1, "").transact({"from": conflicted.address})
    # The others decide it; the recusal kept the quorum base at six.
    for member in board.members[4:6]:
        board.vote(1, member, FOR)
    assert board.state(1) == SUCCEEDED and board.tally(1) == (4, 1, 0, 1)


def test_record_meeting_vote_and_recusal_of_one_member_refused(
    board: Board, relayer: LocalAccount, issuer: LocalAccount
) -> None:
    *proposal, ballots = board.meeting(accredit(issuer.address), [FOR] * 4)
    voter = board.members[1]
    recusal = board.sign_meeting_ballot(voter, tuple(proposal), RECUSED, reason="Conflict")
    for both in ([*ballots, recusal], [recusal, *ballots]):
        with reverts(board.contract, "BoardAlreadyVoted", proposalId=1, voter=voter.address):
            board.fn.recordMeeting(*board.seated(*proposal, both)).transact({"from": relayer.address})
    # A choice past the recusal is no choice.
    beyond = board.sign_meeting_ballot(board.members[4], tuple(proposal), RECUSED + 1)
    with reverts(board.contract, "BoardInvalidVoteType", support=RECUSED + 1):
        board.fn.recordMeeting(*board.seated(*proposal, [*ballots, beyond])).transact({"from": relayer.address})
    assert board.fn.proposalCount().call() == 0


def test_meeting_on_several_proposals_in_one_transaction(
    board: Board, relayer: LocalAccount, issuer: LocalAccount, newcomer: LocalAccount
) -> None:
    """The service client's record_meetings: a multicall of recordMeeting, each with the member table the earlier
    ones leave, so a member added by the first decision votes on the second."""
    client = BoardClient(board.w3, board.contract.address)
    deadline = latest_timestamp(board.w3) + 600
    chair = board.members[0]
    first = client.sign_proposal(
        chair, ClientAction.add_member(newcomer.address, "Nieuw lid"), TITLE, DOCUMENT, deadline=deadline
    )
    second = client.sign_proposal(
        chair,
        ClientAction.accredit_issuer(issuer.address, ISSUER_NAME, ISSUER_KEY),
        TITLE,
        DOCUMENT,
        deadline=deadline,
        nonce=first.nonce + 1,
    )
    first_ballots = [client.sign_meeting_ballot(m, first, VoteType.FOR, "") for m in board.members[:5]]
    second_ballots = [
        client.sign_meeting_ballot(m, second, VoteType.FOR, "Akkoord") for m in [*board.members[:4], newcomer]
    ] + [client.sign_meeting_ballot(board.members[6], second, MeetingChoice.RECUSED, "Belang bij de partner")]
    block = board.w3.eth.block_number
    receipt = send_raw(board.w3, client.record_meetings([(first, first_ballots), (second, second_ballots)]), relayer)
    # One transaction for both decisions.
    assert (
        board.w3.eth.block_number == block + 1
        and len(board.w3.eth.get_block(receipt["blockNumber"])["transactions"]) == 1
    )
    assert [e["proposalId"] for e in events(board.contract, "ProposalCreated", receipt)] == [1, 2]
    assert [e["proposalId"] for e in events(board.contract, "ProposalExecuted", receipt)] == [1, 2]
    assert board.fn.isMember(newcomer.address).call() is True
    assert board.registry.functions.issuer(issuer.address).call()[1] is True
    assert board.tally(2) == (5, 0, 0, 1) and board.receipt(2, newcomer.address)["hasVoted"] is True
    assert board.receipt(2, board.members[6].address)["recused"] is True
    # A ballot of an account that holds no seat at its turn is refused before anything is sent.
    third = client.sign_proposal(chair, ClientAction.resolution(), TITLE, DOCUMENT, deadline=deadline + 60)
    with pytest.raises(ValueError, match="holds no seat"):
        client.record_meetings([(third, [client.sign_meeting_ballot(issuer, third, VoteType.FOR, "")])] * 2)


def test_record_meeting_after_the_proposal_deadline_refused(
    board: Board, relayer: LocalAccount, issuer: LocalAccount
) -> None:
    """The signed proposal's deadline bounds its ballots too: they are valid with that proposal only."""
    action = accredit(issuer.address)
    deadline = latest_timestamp(board.w3) + 60
    late_proposal = board.sign_proposal(board.members[0], action, deadline=deadline)
    late_ballots = [board.sign_meeting_ballot(member, late_proposal, FOR) for member in board.members]
    advance_time(board.w3, 120)
    with reverts(board.contract, "BoardExpiredSignature", deadline=deadline):
        board.fn.recordMeeting(*board.seated(*late_proposal, late_ballots)).transact({"from": relayer.address})
    # Under a fresh proposal of the same content (the same nonce: the late one was never accepted), they fail.
    fresh = board.sign_proposal(board.members[0], action)
    with reverts(board.contract, "BoardInvalidSignature", signer=board.members[0].address):
        board.fn.recordMeeting(*board.seated(*fresh, late_ballots)).transact({"from": relayer.address})
    assert board.fn.proposalCount().call() == 0


def test_record_meeting_replay_refused(board: Board, relayer: LocalAccount, issuer: LocalAccount) -> None:
    action = resolution()
    meeting = board.meeting(action, [FOR] * 7)
    send(board.fn.recordMeeting(*board.seated(*meeting)), relayer)
    # The whole meeting again: the proposal's nonce is spent.
    with reverts(board.contract, "BoardInvalidSignature", signer=board.members[0].address):
        board.fn.recordMeeting(*board.seated(*meeting)).transact({"from": relayer.address})
    # The same ballots under a fresh proposal of the same content, by the same chair or another member: they
    # name the spent proposal.
    for chair in (board.members[0], board.members[1]):
        fresh = board.sign_proposal(chair, action, deadline=meeting[4])
        with reverts(board.contract, "BoardInvalidSignature", signer=board.members[0].address):
            board.fn.recordMeeting(*board.seated(*fresh, meeting[-1])).transact({"from": relayer.address})
        with reverts(board.contract, "BoardInvalidSignature", signer=board.members[2].address):
            board.fn.recordMeeting(*board.seated(*fresh, [meeting[-1][2]])).transact({"from": relayer.address})
    # A signed proposal is accepted once, by either proposeBySig or recordMeeting.
    signed = board.sign_proposal(board.members[3], action)
    send(board.fn.proposeBySig(*signed), relayer)
    with reverts(board.contract, "BoardInvalidSignature", signer=board.members[3].address):
        board.fn.recordMeeting(*board.seated(*signed, [])).transact({"from": relayer.address})
    assert board.fn.proposalCount().call() == 2


def test_record_meeting_signatures_for_another_chain_or_contract_refused(
    board: Board, relayer: LocalAccount, issuer: LocalAccount
) -> None:
    action = accredit(issuer.address)
    *proposal, ballots = board.meeting(action, [FOR] * 7)
    voter, chair = board.members[4], board.members[0]
    wheres: list[dict[str, Any]] = [{"chain_id": board.w3.eth.chain_id + 1}, {"contract": board.registry.address}]
    for where in wheres:
        ballot = board.sign_meeting_ballot(voter, tuple(proposal), FOR, **where)
        with reverts(board.contract, "BoardInvalidSignature", signer=voter.address):
            board.fn.recordMeeting(*board.seated(*proposal, [*ballots[:4], ballot, *ballots[5:]])).transact(
                {"from": relayer.address}
            )
        with reverts(board.contract, "BoardInvalidSignature", signer=chair.address):
            board.fn.recordMeeting(*board.seated(*board.sign_proposal(chair, action, **where), ballots)).transact(
                {"from": relayer.address}
            )
    assert board.fn.proposalCount().call() == 0


def test_record_meeting_is_all_or_nothing_when_the_execution_fails(
    board: Board, relayer: LocalAccount, issuer: LocalAccount
) -> None:
    action = accredit(issuer.address)
    board.decide(action)  # accredited already: the meeting's execution will fail in the registry
    count, nonces = board.fn.proposalCount().call(), [board.fn.nonces(m.address).call() for m in board.members]
    meeting = board.meeting(action, [FOR] * 7)
    with reverts(board.registry, "RegistryIssuerAlreadyAccredited", issuer=issuer.address):
        board.fn.recordMeeting(*board.seated(*meeting)).transact({"from": relayer.address})
    assert board.fn.proposalCount().call() == count
    assert [board.fn.nonces(m.address).call() for m in board.members] == nonces
    # The same ballots, fewer of them, do not decide it: the meeting is recorded, the proposal stays open.
    assert board.fn.recordMeeting(*board.seated(*meeting[:-1], meeting[-1][:3])).call({"from": relayer.address}) == [
        count + 1,
        ACTIVE,
    ]


def test_record_meeting_built_by_the_service_client(board: Board, relayer: LocalAccount, issuer: LocalAccount) -> None:
    """service.chain.board signs the same MeetingBallot and builds the same recordMeeting call."""
    client = BoardClient(board.w3, board.contract.address)
    action = ClientAction.accredit_issuer(issuer.address, ISSUER_NAME, ISSUER_KEY)
    assert action.as_tuple() == accredit(issuer.address)
    deadline = latest_timestamp(board.w3) + 600
    chair = board.members[0]
    proposal = client.sign_proposal(chair, action, TITLE, DOCUMENT, deadline=deadline)
    assert proposal.nonce == 0
    ballots = [client.sign_meeting_ballot(member, proposal, VoteType(FOR), "Akkoord") for member in board.members[:4]]
    proposal_args = (accredit(issuer.address), TITLE, DOCUMENT, chair.address, deadline, proposal.signature)
    assert proposal.signature == board.sign_proposal(chair, accredit(issuer.address), deadline=deadline)[5]
    assert ballots[1].signature == board.sign_meeting_ballot(board.members[1], proposal_args, FOR, reason="Akkoord")[3]
    tx = client.record_meeting(proposal, ballots)
    receipt = send_raw(board.w3, tx, relayer)
    assert client.created_proposal_id(receipt) == 1
    assert [e["voter"] for e in meeting_ballots(board.contract, receipt)] == [m.address for m in board.members[:4]]
    assert board.state(1) == EXECUTED


def test_record_meeting_with_an_erc1271_wallet_member(
    w3: Web3, board: Board, deployer: LocalAccount, wallet_owner: LocalAccount, relayer: LocalAccount
) -> None:
    wallet, other = wallet_board(w3, board, deployer, wallet_owner)
    small = other.contract
    action = resolution()
    proposal = other.sign_proposal(wallet_owner, action, proposer=wallet.address)
    ballots = [
        other.sign_meeting_ballot(wallet_owner, proposal, FOR, voter=wallet.address),
        other.sign_meeting_ballot(deployer, proposal, FOR),
    ]
    receipt = send(small.functions.recordMeeting(*other.seated(*proposal, ballots)), relayer)
    assert one_event(small, "ProposalCreated", receipt)["proposer"] == wallet.address
    assert [e["voter"] for e in meeting_ballots(small, receipt)] == [wallet.address, deployer.address]
    assert other.state(1) == EXECUTED
    assert small.functions.nonces(wallet.address).call() == 1


# ---------------------------------------------------------------- execution


def test_execute_with_another_action_or_document_refused(
    board: Board, newcomer: LocalAccount, outsider: LocalAccount
) -> None:
    action = accredit(newcomer.address)
    proposal_id = board.propose(action)
    board.votes(proposal_id, FOR, FOR, FOR, FOR)
    expected = board.view(proposal_id)["proposalHash"]
    for given_action, document in [
        (accredit(outsider.address), DOCUMENT),
        (accredit(newcomer.address, "Ander"), DOCUMENT),
        (action, b"\x01" * 32),
    ]:
        given = board.fn.hashProposal(given_action, document).call()
        with reverts(board.contract, "BoardActionMismatch", proposalId=proposal_id, expected=expected, given=given):
            board.fn.execute(proposal_id, given_action, document).transact({"from": board.members[0].address})


def test_execute_before_success_refused(board: Board) -> None:
    proposal_id = board.propose(resolution())
    with reverts(
        board.contract, "BoardUnexpectedProposalState", proposalId=proposal_id, current=ACTIVE, expected=SUCCEEDED
    ):
        board.fn.execute(proposal_id, resolution(), DOCUMENT).transact({"from": board.members[0].address})


def test_execute_resolution_by_anyone_and_only_once(board: Board, outsider: LocalAccount) -> None:
    proposal_id = board.propose(resolution())
    board.votes(proposal_id, FOR, FOR, FOR, FOR)
    receipt = send(board.fn.execute(proposal_id, resolution(), DOCUMENT), outsider)
    assert one_event(board.contract, "ProposalExecuted", receipt) == {
        "proposalId": proposal_id,
        "kind": RESOLUTION,
        "subject": ZERO_ADDRESS,
    }
    assert board.state(proposal_id) == EXECUTED
    with reverts(
        board.contract, "BoardUnexpectedProposalState", proposalId=proposal_id, current=EXECUTED, expected=SUCCEEDED
    ):
        board.fn.execute(proposal_id, resolution(), DOCUMENT).transact({"from": outsider.address})
    advance_time(board.w3, VOTING_PERIOD + EXECUTION_PERIOD + 1)
    assert board.state(proposal_id) == EXECUTED


def test_execute_add_member(board: Board, newcomer: LocalAccount) -> None:
    receipt = board.decide(add_member(newcomer.address, "Nieuwkomer BV"))
    assert one_event(board.contract, "ProposalExecuted", receipt)["subject"] == newcomer.address
    assert one_event(board.contract, "MemberAdded", receipt) == {"member": newcomer.address, "name": "Nieuwkomer BV"}
    assert board.fn.isMember(newcomer.address).call() is True
    assert board.member_list()[-1] == (newcomer.address, "Nieuwkomer BV")
    proposal_id = board.propose(resolution(), proposer=newcomer)
    assert board.view(proposal_id)["eligible"] == 8


def test_execute_remove_member(board: Board) -> None:
    leaving = board.members[0]
    receipt = board.decide(remove_member(leaving.address))
    assert one_event(board.contract, "MemberRemoved", receipt) == {"member": leaving.address}
    assert board.fn.isMember(leaving.address).call() is False
    assert board.member_list() == [(m.address, n) for m, n in zip(board.members[1:], MEMBER_NAMES[1:], strict=True)]
    with reverts(board.contract, "BoardUnauthorizedMember", account=leaving.address):
        board.fn.propose(resolution(), TITLE, DOCUMENT).transact({"from": leaving.address})
    assert board.view(board.propose(resolution(), proposer=board.members[1]))["eligible"] == 6


def test_execute_accredit_and_suspend_issuer_in_the_registry(board: Board, issuer: LocalAccount) -> None:
    receipt = board.decide(accredit(issuer.address))
    assert one_event(board.registry, "IssuerAccredited", receipt) == {
        "issuer": issuer.address,
        "name": ISSUER_NAME,
        "keyHash": ISSUER_KEY,
    }
    name, accredited, _since, _relayer, _keys = board.registry.functions.issuer(issuer.address).call()
    assert (name, accredited) == (ISSUER_NAME, True)
    receipt = board.decide(suspend(issuer.address))
    assert one_event(board.registry, "IssuerSuspended", receipt) == {"issuer": issuer.address}
    assert one_event(board.contract, "ProposalExecuted", receipt) == {
        "proposalId": 2,
        "kind": SUSPEND_ISSUER,
        "subject": issuer.address,
    }
    assert board.registry.functions.issuer(issuer.address).call()[1] is False


def test_execute_rotate_issuer_key_in_the_registry_keeps_the_history(board: Board, issuer: LocalAccount) -> None:
    accredited_at = block_time(board.w3, board.decide(accredit(issuer.address)))
    advance_time(board.w3, 60)
    receipt = board.decide(rotate_key(issuer.address))
    rotated_at = block_time(board.w3, receipt)
    assert one_event(board.registry, "IssuerKeyRotated", receipt) == {
        "issuer": issuer.address,
        "previousKeyHash": ISSUER_KEY,
        "keyHash": ROTATED_KEY,
    }
    assert one_event(board.contract, "ProposalExecuted", receipt) == {
        "proposalId": 2,
        "kind": ROTATE_ISSUER_KEY,
        "subject": issuer.address,
    }
    assert board.registry.functions.issuer(issuer.address).call()[4] == [
        (ISSUER_KEY, accredited_at),
        (ROTATED_KEY, rotated_at),
    ]
    assert board.registry.functions.issuer(issuer.address).call()[1] is True


def test_rotate_issuer_key_outside_a_board_decision_refused(
    board: Board, issuer: LocalAccount, outsider: LocalAccount
) -> None:
    board.decide(accredit(issuer.address))
    # not even a board member (nor the issuer) may change the registry's key directly: only the board contract
    for sender in (board.members[0], issuer, outsider):
        with reverts(board.registry, "RegistryUnauthorizedGovernor", caller=sender.address):
            board.registry.functions.rotateIssuerKey(issuer.address, ROTATED_KEY).transact({"from": sender.address})
    assert [key for key, _ in board.registry.functions.issuer(issuer.address).call()[4]] == [ISSUER_KEY]


def test_execute_rotate_key_of_a_suspended_issuer_bubbles_up_the_registry_error(
    board: Board, issuer: LocalAccount
) -> None:
    action = rotate_key(issuer.address)
    proposal_id = board.propose(action)
    board.votes(proposal_id, *[FOR] * 4)
    with reverts(board.registry, "RegistryIssuerNotAccredited", issuer=issuer.address):
        board.fn.execute(proposal_id, action, DOCUMENT).transact({"from": board.members[0].address})
    assert board.state(proposal_id) == SUCCEEDED


def test_execute_change_rules_applies_to_new_proposals_only(board: Board, newcomer: LocalAccount) -> None:
    before = board.propose(resolution())
    new_rules = (7500, 6000, 7500, 2 * DAY, DAY)
    receipt = board.decide(change_rules(new_rules))
    assert one_event(board.contract, "RulesChanged", receipt)["rules"] == new_rules
    assert board.fn.rules().call() == new_rules
    after_id, after_receipt = board.propose_receipt(add_member(newcomer.address, "Nieuwkomer BV"))
    after = board.view(after_id)
    assert (after["quorumBps"], after["thresholdBps"]) == (7500, 7500)
    assert after["voteEnd"] == block_time(board.w3, after_receipt) + 2 * DAY
    assert after["executableUntil"] == after["voteEnd"] + DAY
    assert (board.view(before)["quorumBps"], board.view(before)["thresholdBps"]) == (5000, 5000)


def test_execute_rechecks_the_action_against_the_board_now(board: Board, newcomer: LocalAccount) -> None:
    action = add_member(newcomer.address, "Nieuwkomer BV")
    first, second = board.propose(action), board.propose(action)
    board.votes(first, *[FOR] * 5)  # 5 of 7 is a sure two-thirds: the proposal closes
    board.votes(second, *[FOR] * 5)
    send(board.fn.execute(first, action, DOCUMENT), board.members[0])
    with reverts(board.contract, "BoardAlreadyMember", account=newcomer.address):
        board.fn.execute(second, action, DOCUMENT).transact({"from": board.members[0].address})
    assert board.state(second) == SUCCEEDED  # still executable, should the newcomer leave in time


def test_execute_bubbles_up_registry_errors(board: Board, issuer: LocalAccount) -> None:
    action = accredit(issuer.address)
    first, second = board.propose(action), board.propose(action)
    board.votes(first, *[FOR] * 4)
    board.votes(second, *[FOR] * 4)
    send(board.fn.execute(first, action, DOCUMENT), board.members[0])
    with reverts(board.registry, "RegistryIssuerAlreadyAccredited", issuer=issuer.address):
        board.fn.execute(second, action, DOCUMENT).transact({"from": board.members[0].address})
    assert board.state(second) == SUCCEEDED


def test_last_member_cannot_be_removed(w3: Web3, board: Board, deployer: LocalAccount, outsider: LocalAccount) -> None:
    pair = [deployer, outsider]
    contract = deploy_contract(
        w3,
        "HubBoard",
        board.registry.address,
        [(deployer.address, "Gemeente Hoogeveen"), (outsider.address, "Drenthe College")],
        RULES,
        account=deployer,
    )
    small = Board(contract, board.registry, pair)
    remove_first, remove_second = remove_member(deployer.address), remove_member(outsider.address)
    first, second = small.propose(remove_first), small.propose(remove_second)
    small.votes(first, FOR, FOR)
    small.votes(second, FOR, FOR)
    send(contract.functions.execute(first, remove_first, DOCUMENT), outsider)
    assert small.member_list() == [(outsider.address, "Drenthe College")]
    with reverts(contract, "BoardLastMember", member=outsider.address):
        contract.functions.execute(second, remove_second, DOCUMENT).transact({"from": outsider.address})
    with reverts(contract, "BoardLastMember", member=outsider.address):
        contract.functions.propose(remove_second, TITLE, DOCUMENT).transact({"from": outsider.address})
