"""The Python client of the HubBoard contract (contracts/IHubBoard.sol).

    board = BoardClient(w3, address)
    board.members(), board.rules(), board.proposal(3), board.state(3), board.receipt(3, account)

    signed = board.sign_ballot(member_key, 3, VoteType.FOR, "reason", deadline=board.chain_time() + 600)
    receipt = relayer.send(board.cast_vote_by_sig(signed))        # service.chain.sender.TransactionSender

Views return frozen dataclasses and raise the domain errors of service.errors (a reverted view becomes
ChainRejected with the decoded custom error, e.g. BoardUnknownProposal). Transactions are *built*, not
sent: each builder returns a tx dict `{"to", "data"}` for TransactionSender.send, which estimates gas,
decodes a revert into ChainRejected, and serialises nonces. Members need no ether: their proposals,
ballots and recusals are EIP-712 typed data (readable in a wallet) that the relayer submits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cached_property
from typing import Any, Self, cast

from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import BadFunctionCallOutput, ContractLogicError, Web3Exception
from web3.logs import DISCARD
from web3.types import BlockIdentifier, TxReceipt

from service.chain.artifacts import load_artifact
from service.chain.errors import decode_revert
from service.credentials.signature import eip712_typed_data, sign_typed_data
from service.errors import ChainRejected, ChainUnavailable

DOMAIN_NAME = "IT Hub Hoogeveen Board"
DOMAIN_VERSION = "1"
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ZERO32 = b"\x00" * 32


class _Slugged(IntEnum):
    """An enum the API names by `slug`: the member's name in lower case, words joined by "-"."""

    @property
    def slug(self) -> str:
        return self.name.lower().replace("_", "-")

    @classmethod
    def from_slug(cls, slug: str) -> Self:
        return cls[slug.upper().replace("-", "_")]


class ActionKind(_Slugged):
    """What a proposal decides (IHubBoard.ActionKind)."""

    RESOLUTION = 0
    ADD_MEMBER = 1
    REMOVE_MEMBER = 2
    ACCREDIT_ISSUER = 3
    SUSPEND_ISSUER = 4
    CHANGE_RULES = 5
    ROTATE_ISSUER_KEY = 6

    @property
    def uses_subject(self) -> bool:
        return self in (
            ActionKind.ADD_MEMBER,
            ActionKind.REMOVE_MEMBER,
            ActionKind.ACCREDIT_ISSUER,
            ActionKind.SUSPEND_ISSUER,
            ActionKind.ROTATE_ISSUER_KEY,
        )

    @property
    def uses_name(self) -> bool:
        return self in (ActionKind.ADD_MEMBER, ActionKind.ACCREDIT_ISSUER)

    @property
    def uses_key(self) -> bool:
        """The kinds that name an issuer's signing key (`keyHash`)."""
        return self in (ActionKind.ACCREDIT_ISSUER, ActionKind.ROTATE_ISSUER_KEY)

    @property
    def uses_rules(self) -> bool:
        return self is ActionKind.CHANGE_RULES


class ProposalState(_Slugged):
    """The lifecycle of a proposal (IHubBoard.ProposalState); `label` as the contract's errors name it."""

    ACTIVE = 0
    DEFEATED = 1
    SUCCEEDED = 2
    EXECUTED = 3
    EXPIRED = 4

    @property
    def label(self) -> str:
        return self.name.capitalize()


class VoteType(_Slugged):
    """A ballot's choice (IHubBoard.VoteType, OpenZeppelin GovernorCountingSimple numbering)."""

    AGAINST = 0
    FOR = 1
    ABSTAIN = 2


class MeetingChoice(_Slugged):
    """A meeting ballot's choice: a VoteType, or RECUSED (IHubBoard.MEETING_RECUSAL): the member declares a conflict
    of interest and does not take part; recorded as a recusal, with its reason."""

    AGAINST = 0
    FOR = 1
    ABSTAIN = 2
    RECUSED = 3

    @property
    def slug(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Rules:
    """The board's rules (IHubBoard.Rules); periods in seconds. All zero in actions that are not ChangeRules."""

    quorum_bps: int = 0
    majority_bps: int = 0
    supermajority_bps: int = 0
    voting_period: int = 0
    execution_period: int = 0

    def as_tuple(self) -> tuple[int, int, int, int, int]:
        return (self.quorum_bps, self.majority_bps, self.supermajority_bps, self.voting_period, self.execution_period)

    def as_struct(self) -> dict[str, int]:
        """The struct with the contract's field names (EIP-712 message, event arguments)."""
        return {
            "quorumBps": self.quorum_bps,
            "majorityBps": self.majority_bps,
            "supermajorityBps": self.supermajority_bps,
            "votingPeriod": self.voting_period,
            "executionPeriod": self.execution_period,
        }

    @classmethod
    def from_struct(cls, value: Any) -> Rules:
        """From a decoded struct: a mapping with the contract's field names, or a tuple in ABI order."""
        if hasattr(value, "keys"):
            return cls(
                int(value["quorumBps"]),
                int(value["majorityBps"]),
                int(value["supermajorityBps"]),
                int(value["votingPeriod"]),
                int(value["executionPeriod"]),
            )
        return cls(*(int(item) for item in value))


NO_RULES = Rules()
NO_KEY = b"\0" * 32


@dataclass(frozen=True)
class Action:
    """The decision a proposal carries (IHubBoard.Action). Build it with the constructors below."""

    kind: ActionKind
    subject: str = ZERO_ADDRESS
    name: str = ""
    key_hash: bytes = NO_KEY  # an issuer's signing key, multikey.key_hash (AccreditIssuer, RotateIssuerKey)
    rules: Rules = NO_RULES

    @classmethod
    def resolution(cls) -> Action:
        return cls(ActionKind.RESOLUTION)

    @classmethod
    def add_member(cls, account: str, name: str) -> Action:
        return cls(ActionKind.ADD_MEMBER, to_checksum_address(account), name)

    @classmethod
    def remove_member(cls, account: str) -> Action:
        return cls(ActionKind.REMOVE_MEMBER, to_checksum_address(account))

    @classmethod
    def accredit_issuer(cls, account: str, name: str, key_hash: bytes) -> Action:
        """Accredit `account` as issuer `name`, with the signing key whose `multikey.key_hash` is `key_hash`."""
        return cls(ActionKind.ACCREDIT_ISSUER, to_checksum_address(account), name, bytes(key_hash))

    @classmethod
    def rotate_issuer_key(cls, account: str, key_hash: bytes) -> Action:
        """Make the key whose `multikey.key_hash` is `key_hash` the signing key of the issuer `account`."""
        return cls(ActionKind.ROTATE_ISSUER_KEY, to_checksum_address(account), key_hash=bytes(key_hash))

    @classmethod
    def suspend_issuer(cls, account: str) -> Action:
        return cls(ActionKind.SUSPEND_ISSUER, to_checksum_address(account))

    @classmethod
    def change_rules(cls, rules: Rules) -> Action:
        return cls(ActionKind.CHANGE_RULES, rules=rules)

    def as_tuple(self) -> tuple[Any, ...]:
        """The struct as a contract call takes it."""
        return (
            int(self.kind),
            to_checksum_address(self.subject),
            self.name,
            bytes(self.key_hash),
            self.rules.as_tuple(),
        )

    def as_struct(self) -> dict[str, Any]:
        """The struct with the contract's field names (the EIP-712 message)."""
        return {
            "kind": int(self.kind),
            "subject": to_checksum_address(self.subject),
            "name": self.name,
            "keyHash": bytes(self.key_hash),
            "rules": self.rules.as_struct(),
        }

    @classmethod
    def from_struct(cls, value: Any) -> Action:
        """From a decoded struct (ProposalCreated's `action`): a mapping or a tuple in ABI order."""
        if hasattr(value, "keys"):
            return cls(
                ActionKind(int(value["kind"])),
                to_checksum_address(value["subject"]),
                str(value["name"]),
                bytes(HexBytes(value.get("keyHash") or NO_KEY)),  # JSON (ChainEvent.args) holds 0x-hex
                Rules.from_struct(value["rules"]),
            )
        kind, subject, name, key_hash, rules = value
        return cls(
            ActionKind(int(kind)),
            to_checksum_address(subject),
            str(name),
            bytes(HexBytes(key_hash)),
            Rules.from_struct(rules),
        )


@dataclass(frozen=True)
class Member:
    """A board member (IHubBoard.Member)."""

    account: str
    name: str


@dataclass(frozen=True)
class Proposal:
    """A proposal with its tally, as the contract reports it now (IHubBoard.ProposalView)."""

    id: int
    kind: ActionKind
    state: ProposalState
    proposal_hash: bytes  # hashProposal(action, documentHash)
    vote_end: int  # unix seconds, inclusive
    executable_until: int  # unix seconds, inclusive
    quorum_bps: int
    threshold_bps: int
    eligible: int
    for_votes: int
    against_votes: int
    abstain_votes: int
    recusals: int

    @property
    def votes(self) -> int:
        return self.for_votes + self.against_votes + self.abstain_votes

    @property
    def remaining(self) -> int:
        """Eligible members that have neither voted nor recused (a member removed since included)."""
        return self.eligible - self.votes - self.recusals


@dataclass(frozen=True)
class Receipt:
    """What one account did on one proposal (IHubBoard.Receipt); `support` is None when it did not vote."""

    eligible: bool
    has_voted: bool
    recused: bool
    support: VoteType | None


@dataclass(frozen=True)
class SignedBallot:
    """A ballot `voter` signed (EIP-712 Ballot) for anyone to relay with castVoteBySig."""

    proposal_id: int
    support: VoteType
    reason: str
    voter: str
    deadline: int
    signature: bytes


@dataclass(frozen=True)
class SignedProposal:
    """A proposal `proposer` signed (EIP-712 Propose) for anyone to relay with proposeBySig or recordMeeting;
    `nonce` is the one it was signed with (meeting ballots name it)."""

    action: Action
    title: str
    document_hash: bytes
    proposer: str
    deadline: int
    signature: bytes
    nonce: int

    def as_struct(self) -> dict[str, Any]:
        """The signed EIP-712 Propose message, as a MeetingBallot names it."""
        return {
            "action": self.action.as_struct(),
            "title": self.title,
            "documentHash": bytes(self.document_hash),
            "proposer": to_checksum_address(self.proposer),
            "nonce": int(self.nonce),
            "deadline": int(self.deadline),
        }


def pack_meeting_votes(table: Sequence[str], ballots: Iterable[tuple[int, int, bytes]]) -> bytes:
    """recordMeeting's `votes`: the number of seats in the member `table` and the number of ballots (one byte
    each), the table (20 bytes an account, the zero address for a free seat), then each ballot (seat, support)
    as one byte each, its signature's length as two bytes (big-endian) and the signature."""
    ballots = list(ballots)
    packed = bytearray([len(table), len(ballots)])
    for account in table:
        packed += bytes.fromhex(account[2:])
    for seat, support, signature in ballots:
        packed += bytes([seat, support]) + len(signature).to_bytes(2, "big") + bytes(signature)
    return bytes(packed)


@dataclass(frozen=True)
class SignedMeetingBallot:
    """A ballot `voter` signed (EIP-712 MeetingBallot) on a signed proposal that is not on chain yet, for the
    recordMeeting that relays that proposal. It has no nonce nor deadline of its own: the proposal's hold."""

    support: MeetingChoice
    reason: str
    voter: str
    signature: bytes


@dataclass(frozen=True)
class SignedRecusal:
    """A recusal `member` signed (EIP-712 Recusal) for anyone to relay with recuseBySig."""

    proposal_id: int
    reason: str
    member: str
    deadline: int
    signature: bytes


@dataclass(frozen=True)
class BoardEvent:
    """One decoded event of a transaction receipt."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)
    log_index: int = 0


# ---------------------------------------------------------------- EIP-712


def eip712_types(encoded: str) -> dict[str, list[dict[str, str]]]:
    """The struct types of an EIP-712 type string (the primary type first), as typed data lists them:
    "Recusal(uint256 proposalId,...)" -> {"Recusal": [{"name": "proposalId", "type": "uint256"}, ...]}."""
    types = {}
    for struct in encoded.removesuffix(")").split(")"):
        name, members = struct.split("(")
        types[name] = [
            {"name": member, "type": kind}
            for kind, member in (declaration.split(" ") for declaration in members.split(","))
        ]
    return types


# The signed types, as IHubBoard's NatSpec and HubBoard's type hashes spell them.
ACTION_TYPE = (
    "Action(uint8 kind,address subject,string name,bytes32 keyHash,Rules rules)"
    "Rules(uint16 quorumBps,uint16 majorityBps,uint16 supermajorityBps,uint32 votingPeriod,uint32 executionPeriod)"
)
BALLOT_TYPES = eip712_types(
    "Ballot(uint256 proposalId,uint8 support,string reason,address voter,uint256 nonce,uint256 deadline)"
)
PROPOSE_TYPES = eip712_types(
    "Propose(Action action,string title,bytes32 documentHash,address proposer,uint256 nonce,uint256 deadline)"
    + ACTION_TYPE
)
MEETING_BALLOT_TYPES = eip712_types(
    "MeetingBallot(Propose proposal,uint8 support,string reason,address voter)"
    "Action(uint8 kind,address subject,string name,bytes32 keyHash,Rules rules)"
    "Propose(Action action,string title,bytes32 documentHash,address proposer,uint256 nonce,uint256 deadline)"
    "Rules(uint16 quorumBps,uint16 majorityBps,uint16 supermajorityBps,uint32 votingPeriod,uint32 executionPeriod)"
)
RECUSAL_TYPES = eip712_types("Recusal(uint256 proposalId,string reason,address member,uint256 nonce,uint256 deadline)")


def typed_data_digest(message: dict[str, Any]) -> bytes:
    """The EIP-712 digest a signer signs: keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(message))."""
    return bytes(_hash_eip191_message(encode_typed_data(full_message=message)))


def recover_typed_data_signer(message: dict[str, Any], signature: bytes) -> str:
    """The address whose key made `signature` of `message` (EOA signatures only)."""
    return to_checksum_address(Account.recover_message(encode_typed_data(full_message=message), signature=signature))


def document_hash(text: str) -> bytes:
    """A proposal's documentHash: the sha256 of its decision text, UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).digest()


# ---------------------------------------------------------------- the client


class BoardClient:
    """A HubBoard at `address` on `w3`'s chain."""

    def __init__(self, w3: Web3, address: str) -> None:
        self.w3 = w3
        self.address = to_checksum_address(address)
        self._artifact = load_artifact("HubBoard")
        self.contract: Contract = w3.eth.contract(address=self.address, abi=self._artifact.abi)

    def __repr__(self) -> str:
        return f"BoardClient({self.address})"

    @cached_property
    def chain_id(self) -> int:
        """The chain id of the node (asked once).

        :raises ChainUnavailable: the node does not answer.
        """
        try:
            return int(self.w3.eth.chain_id)
        except (OSError, Web3Exception, ValueError) as exc:
            raise ChainUnavailable.no_answer(exc) from exc

    # ---------------------------------------------------------------- views

    def members(self) -> list[Member]:
        """The current members, in seat order.

        :raises ChainUnavailable: the node does not answer, or there is no board at the address.
        """
        return [Member(to_checksum_address(account), str(name)) for account, name in self._view("members")]

    def is_member(self, account: str) -> bool:
        """Whether `account` is a member now.

        :raises ChainUnavailable: as `members`.
        """
        return bool(self._view("isMember", to_checksum_address(account)))

    def rules(self) -> Rules:
        """The rules in force for new proposals.

        :raises ChainUnavailable: as `members`.
        """
        return Rules.from_struct(self._view("rules"))

    def proposal_count(self) -> int:
        """How many proposals were made (the id of the last one).

        :raises ChainUnavailable: as `members`.
        """
        return int(self._view("proposalCount"))

    def proposal(self, proposal_id: int, block_identifier: BlockIdentifier = "latest") -> Proposal:
        """Proposal `proposal_id` with its state and tally now (or as of block `block_identifier`).

        :raises ChainRejected: BoardUnknownProposal (HTTP 404).
        :raises ChainUnavailable: as `members`.
        """
        return _proposal(proposal_id, self._view("proposal", proposal_id, block_identifier=block_identifier))

    def proposals(self, proposal_ids: Sequence[int], block_identifier: BlockIdentifier = "latest") -> list[Proposal]:
        """Several existing proposals in one JSON-RPC batch (one round trip), now or as of `block_identifier`.

        :raises ChainRejected: BoardUnknownProposal when one of them does not exist.
        :raises ChainUnavailable: as `members`.
        """
        if not proposal_ids:
            return []
        if len(proposal_ids) == 1:
            return [self.proposal(proposal_ids[0], block_identifier)]
        try:
            with self.w3.batch_requests() as batch:
                for proposal_id in proposal_ids:
                    # inside the batch, call() only describes the request
                    batch.add(self.contract.functions.proposal(proposal_id).call(block_identifier=block_identifier))
                # execute() is annotated list[RPCResponse], but each response has been through the call's
                # result formatters: it is the decoded return value, like proposal(...).call()
                raw = cast(list[Sequence[Any]], batch.execute())
        except ContractLogicError as exc:
            raise self._rejected(exc) from exc
        except (OSError, Web3Exception, ValueError) as exc:
            raise ChainUnavailable.no_answer(exc, "proposal()") from exc
        return [_proposal(proposal_id, item) for proposal_id, item in zip(proposal_ids, raw, strict=True)]

    def state(self, proposal_id: int) -> ProposalState:
        """The lifecycle state of `proposal_id` now.

        :raises ChainRejected: BoardUnknownProposal (HTTP 404).
        :raises ChainUnavailable: as `members`.
        """
        return ProposalState(int(self._view("state", proposal_id)))

    def receipt(self, proposal_id: int, account: str) -> Receipt:
        """What `account` did on `proposal_id`.

        :raises ChainRejected: BoardUnknownProposal (HTTP 404).
        :raises ChainUnavailable: as `members`.
        """
        eligible, has_voted, recused, support = self._view("receipt", proposal_id, to_checksum_address(account))
        return Receipt(
            eligible=bool(eligible),
            has_voted=bool(has_voted),
            recused=bool(recused),
            support=VoteType(int(support)) if has_voted else None,
        )

    def hash_proposal(self, action: Action, document_hash: bytes) -> bytes:
        """The commitment the contract stores for a proposal: keccak256(abi.encode(action, documentHash)).

        :raises ChainUnavailable: as `members`.
        """
        return bytes(self._view("hashProposal", action.as_tuple(), bytes(document_hash)))

    def meeting_commitment(self, proposal_id: int, created_tx: str) -> bytes | None:
        """The commitment of a proposal executed in its recordMeeting, which stores none (its `proposal_hash` is
        zero): hashProposal of the action and document its ProposalCreated logged, in `created_tx`, the
        transaction that also logged its ProposalExecuted. None when `created_tx` holds no such pair.

        :raises ChainUnavailable: as `members`.
        """
        try:
            receipt = self.w3.eth.get_transaction_receipt(HexBytes(created_tx))
        except (OSError, Web3Exception, ValueError) as exc:
            raise ChainUnavailable.no_answer(exc, "eth_getTransactionReceipt") from exc
        created = [e for e in self.events(receipt, "ProposalCreated") if int(e.args["proposalId"]) == proposal_id]
        executed = [e for e in self.events(receipt, "ProposalExecuted") if int(e.args["proposalId"]) == proposal_id]
        if receipt["status"] != 1 or len(created) != 1 or len(executed) != 1:
            return None
        action = Action.from_struct(created[0].args["action"])
        return self.hash_proposal(action, bytes(created[0].args["documentHash"]))

    def nonce(self, account: str) -> int:
        """The next nonce of `account` for its signatures (proposals, ballots and recusals share it).

        :raises ChainUnavailable: as `members`.
        """
        return int(self._view("nonces", to_checksum_address(account)))

    def registry(self) -> str:
        """The CredentialRegistry this board governs.

        :raises ChainUnavailable: as `members`.
        """
        return to_checksum_address(self._view("registry"))

    def chain_time(self) -> int:
        """The latest block's timestamp: the clock signature deadlines are checked against.

        :raises ChainUnavailable: the node does not answer.
        """
        try:
            return int(self.w3.eth.get_block("latest")["timestamp"])
        except (OSError, Web3Exception, ValueError) as exc:
            raise ChainUnavailable.no_answer(exc) from exc

    def block_number(self) -> int:
        """The latest block's number.

        :raises ChainUnavailable: the node does not answer.
        """
        try:
            return int(self.w3.eth.block_number)
        except (OSError, Web3Exception, ValueError) as exc:
            raise ChainUnavailable.no_answer(exc) from exc

    # ---------------------------------------------------------------- EIP-712 typed data and signing

    def ballot_typed_data(
        self, proposal_id: int, support: VoteType, reason: str, voter: str, *, nonce: int, deadline: int
    ) -> dict[str, Any]:
        """The EIP-712 Ballot `voter` signs to vote `support` on `proposal_id` (for castVoteBySig)."""
        return self._typed_data(
            BALLOT_TYPES,
            {
                "proposalId": int(proposal_id),
                "support": int(support),
                "reason": reason,
                "voter": to_checksum_address(voter),
            },
            nonce=nonce,
            deadline=deadline,
        )

    def propose_typed_data(
        self, action: Action, title: str, document_hash: bytes, proposer: str, *, nonce: int, deadline: int
    ) -> dict[str, Any]:
        """The EIP-712 Propose `proposer` signs to propose `action` (for proposeBySig)."""
        return self._typed_data(
            PROPOSE_TYPES,
            {
                "action": action.as_struct(),
                "title": title,
                "documentHash": bytes(document_hash),
                "proposer": to_checksum_address(proposer),
            },
            nonce=nonce,
            deadline=deadline,
        )

    def meeting_ballot_typed_data(
        self, proposal: SignedProposal, support: VoteType | MeetingChoice, reason: str, voter: str
    ) -> dict[str, Any]:
        """The EIP-712 MeetingBallot `voter` signs to vote `support` (or recuse itself: MeetingChoice.RECUSED) on
        the signed `proposal`, before it is on chain (for record_meeting). No nonce and no deadline: those of the
        proposal it names."""
        return eip712_typed_data(
            MEETING_BALLOT_TYPES,
            "MeetingBallot",
            {
                "proposal": proposal.as_struct(),
                "support": int(support),
                "reason": reason,
                "voter": to_checksum_address(voter),
            },
            name=DOMAIN_NAME,
            version=DOMAIN_VERSION,
            chain_id=self.chain_id,
            verifying_contract=self.address,
        )

    def recusal_typed_data(
        self, proposal_id: int, reason: str, member: str, *, nonce: int, deadline: int
    ) -> dict[str, Any]:
        """The EIP-712 Recusal `member` signs to recuse itself from `proposal_id` (for recuseBySig)."""
        return self._typed_data(
            RECUSAL_TYPES,
            {"proposalId": int(proposal_id), "reason": reason, "member": to_checksum_address(member)},
            nonce=nonce,
            deadline=deadline,
        )

    def sign_ballot(
        self,
        account: LocalAccount,
        proposal_id: int,
        support: VoteType,
        reason: str,
        *,
        deadline: int,
        nonce: int | None = None,
    ) -> SignedBallot:
        """`account`'s signed ballot, with its current nonce unless `nonce` is given.

        :raises ChainUnavailable: reading the nonce failed.
        """
        signature = self._sign(
            account, self.ballot_typed_data, proposal_id, support, reason, nonce=nonce, deadline=deadline
        )
        return SignedBallot(int(proposal_id), VoteType(support), reason, account.address, int(deadline), signature)

    def sign_proposal(
        self,
        account: LocalAccount,
        action: Action,
        title: str,
        document_hash: bytes,
        *,
        deadline: int,
        nonce: int | None = None,
    ) -> SignedProposal:
        """`account`'s signed proposal, with its current nonce unless `nonce` is given.

        :raises ChainUnavailable: reading the nonce failed.
        """
        nonce = self.nonce(account.address) if nonce is None else nonce
        signature = sign_typed_data(
            account.key,
            self.propose_typed_data(action, title, document_hash, account.address, nonce=nonce, deadline=deadline),
        )
        return SignedProposal(
            action, title, bytes(document_hash), account.address, int(deadline), signature, int(nonce)
        )

    def sign_meeting_ballot(
        self, account: LocalAccount, proposal: SignedProposal, support: VoteType | MeetingChoice, reason: str
    ) -> SignedMeetingBallot:
        """`account`'s meeting ballot on the signed `proposal`: a vote, or a recusal (MeetingChoice.RECUSED). Valid
        only in the recordMeeting that relays that very proposal; it consumes none of the account's nonces."""
        signature = sign_typed_data(
            account.key, self.meeting_ballot_typed_data(proposal, support, reason, account.address)
        )
        return SignedMeetingBallot(MeetingChoice(int(support)), reason, account.address, signature)

    def sign_recusal(
        self, account: LocalAccount, proposal_id: int, reason: str, *, deadline: int, nonce: int | None = None
    ) -> SignedRecusal:
        """`account`'s signed recusal, with its current nonce unless `nonce` is given.

        :raises ChainUnavailable: reading the nonce failed.
        """
        signature = self._sign(account, self.recusal_typed_data, proposal_id, reason, nonce=nonce, deadline=deadline)
        return SignedRecusal(int(proposal_id), reason, account.address, int(deadline), signature)

    # ---------------------------------------------------------------- transactions (tx dicts to send)

    def propose(self, action: Action, title: str, document_hash: bytes) -> dict[str, Any]:
        """propose(action, title, documentHash) as the sender, who must be a member.

        The contract refuses with BoardUnauthorizedMember, BoardEmptyTitle, BoardInvalidAction,
        BoardAlreadyMember, BoardTooManyMembers, BoardNotMember, BoardLastMember or BoardInvalidRules.
        """
        return self._tx("propose", action.as_tuple(), title, bytes(document_hash))

    def propose_by_sig(self, signed: SignedProposal) -> dict[str, Any]:
        """proposeBySig: relay `signed.proposer`'s signed proposal.

        The contract refuses with BoardExpiredSignature or BoardInvalidSignature, then as `propose`.
        """
        return self._tx("proposeBySig", *self._proposal_args(signed))

    def cast_vote(self, proposal_id: int, support: VoteType, reason: str = "") -> dict[str, Any]:
        """castVote as the sender.

        The contract refuses with BoardInvalidVoteType, BoardUnknownProposal, BoardUnexpectedProposalState,
        BoardNotEligible, BoardAlreadyRecused or BoardAlreadyVoted.
        """
        return self._tx("castVote", int(proposal_id), int(support), reason)

    def cast_vote_by_sig(self, signed: SignedBallot) -> dict[str, Any]:
        """castVoteBySig: relay `signed.voter`'s signed ballot.

        The contract refuses with BoardExpiredSignature or BoardInvalidSignature, then as `cast_vote`.
        """
        return self._tx("castVoteBySig", *self._ballot_args(signed))

    def cast_votes_by_sig(self, ballots: Iterable[SignedBallot]) -> dict[str, Any]:
        """Relay several signed ballots in one transaction (multicall): all are counted or none.

        The contract refuses with the first failing ballot's error, as `cast_vote_by_sig`.
        """
        calls = [
            HexBytes(self.contract.encode_abi("castVoteBySig", args=self._ballot_args(ballot))) for ballot in ballots
        ]
        return self._tx("multicall", calls)

    def record_meeting(self, proposal: SignedProposal, ballots: Iterable[SignedMeetingBallot]) -> dict[str, Any]:
        """recordMeeting: a meeting's decision in one transaction (anyone may send it): create `proposal`, count
        the `ballots` in order, and execute it if they decide it. All or nothing.

        The ballots are packed with the board's member table (read from the chain now) as `pack_meeting_votes`
        does, each voter named by its seat: a ballot of an account that holds no seat raises ValueError before
        anything is sent. The contract refuses as `propose_by_sig`, then with BoardMemberTableMismatch (the board
        changed since the table was read), then per ballot with BoardNotEligible, BoardInvalidSignature,
        BoardInvalidVoteType or BoardAlreadyVoted, then as `execute`.
        """
        return self._tx("recordMeeting", *self._record_meeting_args(self.member_table(), proposal, ballots))

    def record_meetings(
        self, meetings: Sequence[tuple[SignedProposal, Iterable[SignedMeetingBallot]]]
    ) -> dict[str, Any]:
        """A meeting on several proposals in one transaction: multicall of one recordMeeting per (proposal,
        ballots), counted and executed in order. One proposal goes as `record_meeting` (no multicall). Each call's
        member table is the board as the calls before it leave it: read from the chain with the earlier calls
        simulated (an eth_call of multicall(earlier calls, memberTable)), so a membership decided earlier in the
        meeting holds for the later proposals. A ballot of an account with no seat then raises ValueError before
        anything is sent; a simulated call that reverts raises ChainRejected with its decoded error.
        """
        meetings = list(meetings)
        if len(meetings) == 1:
            return self.record_meeting(*meetings[0])
        calls: list[HexBytes] = []
        for proposal, ballots in meetings:
            table = self._member_table_after(calls)
            args = self._record_meeting_args(table, proposal, ballots)
            calls.append(HexBytes(self.contract.encode_abi("recordMeeting", args=list(args))))
        return self._tx("multicall", calls)

    def _member_table_after(self, calls: Sequence[HexBytes]) -> list[str]:
        """The member table once `calls` (encoded board calls) are applied, simulated with an eth_call."""
        if not calls:
            return self.member_table()
        table_call = HexBytes(self.contract.encode_abi("memberTable", args=[]))
        results = self._view("multicall", [*calls, table_call])
        (table,) = self.w3.codec.decode(["address[]"], results[-1])
        return [to_checksum_address(account) for account in table]

    def _record_meeting_args(
        self, table: Sequence[str], proposal: SignedProposal, ballots: Iterable[SignedMeetingBallot]
    ) -> tuple[Any, ...]:
        seats = {account: seat for seat, account in enumerate(table) if int(account, 16) != 0}
        ballots = list(ballots)
        for ballot in ballots:
            if to_checksum_address(ballot.voter) not in seats:
                raise ValueError(f"{to_checksum_address(ballot.voter)} holds no seat on the board: not a member")
        seated = [(seats[to_checksum_address(b.voter)], int(b.support), bytes(b.signature)) for b in ballots]
        reasons = [ballot.reason for ballot in ballots] if any(ballot.reason for ballot in ballots) else []
        return (*self._proposal_args(proposal), pack_meeting_votes(table, seated), reasons)

    def member_table(self) -> list[str]:
        """The board's member table as recordMeeting takes it: the account holding each seat from 0 to the highest
        seat held, the zero address for a free seat."""
        return [to_checksum_address(account) for account in self.contract.functions.memberTable().call()]

    def recuse(self, proposal_id: int, reason: str) -> dict[str, Any]:
        """recuse as the sender.

        The contract refuses with BoardUnknownProposal, BoardUnexpectedProposalState, BoardNotEligible,
        BoardAlreadyRecused or BoardAlreadyVoted.
        """
        return self._tx("recuse", int(proposal_id), reason)

    def recuse_by_sig(self, signed: SignedRecusal) -> dict[str, Any]:
        """recuseBySig: relay `signed.member`'s signed recusal.

        The contract refuses with BoardExpiredSignature or BoardInvalidSignature, then as `recuse`.
        """
        return self._tx(
            "recuseBySig",
            signed.proposal_id,
            signed.reason,
            to_checksum_address(signed.member),
            signed.deadline,
            signed.signature,
        )

    def execute(self, proposal_id: int, action: Action, document_hash: bytes) -> dict[str, Any]:
        """execute: apply succeeded proposal `proposal_id` (anyone may send it).

        The contract refuses with BoardUnknownProposal, BoardUnexpectedProposalState, BoardActionMismatch,
        the action's own errors (BoardAlreadyMember, BoardNotMember, BoardLastMember, ...) or the
        registry's (RegistryIssuerAlreadyAccredited, RegistryIssuerNotAccredited).
        """
        return self._tx("execute", int(proposal_id), action.as_tuple(), bytes(document_hash))

    # ---------------------------------------------------------------- receipts

    def events(self, receipt: TxReceipt, name: str) -> list[BoardEvent]:
        """The board's `name` events in `receipt` (other contracts' logs are skipped)."""
        event = getattr(self.contract.events, name)()
        return [
            BoardEvent(name, dict(item["args"]), int(item["logIndex"]))
            for item in event.process_receipt(receipt, errors=DISCARD)
            if item["address"] == self.address
        ]

    def created_proposal_id(self, receipt: TxReceipt) -> int:
        """The id of the proposal a propose/proposeBySig transaction created.

        :raises ValueError: the receipt holds no ProposalCreated of this board.
        """
        created = self.events(receipt, "ProposalCreated")
        if not created:
            raise ValueError("the transaction created no proposal")
        return int(created[0].args["proposalId"])

    # ---------------------------------------------------------------- plumbing

    def _typed_data(
        self, types: dict[str, list[dict[str, str]]], message: dict[str, Any], *, nonce: int, deadline: int
    ) -> dict[str, Any]:
        """`message` of the first of `types`, completed with its signer's `nonce` and `deadline`, in this board's
        domain."""
        primary_type = next(iter(types))
        return eip712_typed_data(
            types,
            primary_type,
            {**message, "nonce": int(nonce), "deadline": int(deadline)},
            name=DOMAIN_NAME,
            version=DOMAIN_VERSION,
            chain_id=self.chain_id,
            verifying_contract=self.address,
        )

    def _sign(
        self,
        account: LocalAccount,
        typed_data_of: Callable[..., dict[str, Any]],
        *args: Any,
        nonce: int | None,
        deadline: int,
    ) -> bytes:
        """`account`'s signature of `typed_data_of(*args, account.address, nonce=..., deadline=...)` (one of the
        *_typed_data builders above), with its current nonce unless `nonce` is given."""
        nonce = self.nonce(account.address) if nonce is None else nonce
        return sign_typed_data(account.key, typed_data_of(*args, account.address, nonce=nonce, deadline=deadline))

    @staticmethod
    def _proposal_args(signed: SignedProposal) -> list[Any]:
        """proposeBySig's arguments, which recordMeeting's start with."""
        return [
            signed.action.as_tuple(),
            signed.title,
            signed.document_hash,
            to_checksum_address(signed.proposer),
            signed.deadline,
            signed.signature,
        ]

    @staticmethod
    def _vote_args(signed: SignedBallot) -> tuple[Any, ...]:
        """A ballot's (support, reason, voter, deadline, signature): castVoteBySig's arguments after the proposal
        id."""
        return (
            int(signed.support),
            signed.reason,
            to_checksum_address(signed.voter),
            int(signed.deadline),
            bytes(signed.signature),
        )

    @classmethod
    def _ballot_args(cls, signed: SignedBallot) -> list[Any]:
        return [int(signed.proposal_id), *cls._vote_args(signed)]

    def _tx(self, name: str, *args: Any) -> dict[str, Any]:
        return {"to": self.address, "data": self.contract.encode_abi(name, args=list(args))}

    def _rejected(self, exc: ContractLogicError) -> Exception:
        decoded = decode_revert(exc, self._artifact.error_abis())
        if decoded is None:
            return exc
        return ChainRejected(decoded)

    def _view(self, name: str, *args: Any, block_identifier: BlockIdentifier = "latest") -> Any:
        try:
            return getattr(self.contract.functions, name)(*args).call(block_identifier=block_identifier)
        except BadFunctionCallOutput as exc:
            raise ChainUnavailable(f"no HubBoard at {self.address} on chain {self.chain_id}") from exc
        except ContractLogicError as exc:
            raise self._rejected(exc) from exc
        except (OSError, Web3Exception, ValueError) as exc:
            raise ChainUnavailable.no_answer(exc, f"{name}()") from exc


def _proposal(proposal_id: int, raw: Sequence[Any]) -> Proposal:
    (
        kind,
        state,
        proposal_hash,
        vote_end,
        executable_until,
        quorum_bps,
        threshold_bps,
        eligible,
        for_votes,
        against_votes,
        abstain_votes,
        recusals,
    ) = raw
    return Proposal(
        id=int(proposal_id),
        kind=ActionKind(int(kind)),
        state=ProposalState(int(state)),
        proposal_hash=bytes(proposal_hash),
        vote_end=int(vote_end),
        executable_until=int(executable_until),
        quorum_bps=int(quorum_bps),
        threshold_bps=int(threshold_bps),
        eligible=int(eligible),
        for_votes=int(for_votes),
        against_votes=int(against_votes),
        abstain_votes=int(abstain_votes),
        recusals=int(recusals),
    )
