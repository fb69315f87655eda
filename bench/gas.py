#!/usr/bin/env python
"""Gas benchmark: our CredentialRegistry and HubBoard against DocumentStore, EAS, an OpenZeppelin Governor and a Safe.

    .venv/bin/python bench/gas.py [--chain anvil|ganache] [--out bench/results/gas.md]

One run starts a local development chain, deploys our contracts from artifacts/ (production wiring:
the registry's governor is the board) and the peers, compiled here with the same compiler and
settings: the Ethereum Attestation Service 1.9.0 (SchemaRegistry + EAS) and an OpenZeppelin 5.3
Governor with seven one-vote seats (bench/contracts/). Each system does the same work; gasUsed is read
from the receipts. The script prints a table and writes it, with the ratios, to --out.

Targets:
  (a) EAS `attest` / our gas per credential at a 1,000-credential cohort >= 1,000;
  (b) our full decision of a 7-member board (propose + 7 votes + execute) <= 0.5x the Governor's;
  (c) the service's anchoring transaction (anchorFor, as RegistryClient builds it) <= 1.0x OpenAttestation's
      DocumentStore `issue(root)` (2.6.1, its npm build);
  (d) our recorded 7-member meeting (recordMeeting) <= 1.5x a Safe 1.4.1 4-of-7 execTransaction of the same
      accreditIssuer call (Safe compiled here from its npm sources with our settings).

The decision comparison is like for like: every decision flow, ours and the Governor's, runs on a
fresh deployment of its system (the same starting state), accredits the same issuer under the same
25-character name in a fresh CredentialRegistry of the current artifact that the system governs, under
the same title/description, with empty reasons, the ballots cast in the same order: seven For (the
reference decision), or 4-3.

Our ballots and proposals are signed and our transactions built by the service's own client
(service.chain.board.BoardClient, service.chain.registry.RegistryClient), and the cohorts are the
service's Merkle trees (service.credentials.merkle), so the figures are those of production calldata.

This is a measurement, not a test: it asserts only what it needs to trust its own figures (the
decisions passed or failed as expected, the issuer was accredited, the Merkle proof verifies on chain).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from eth_abi import encode as abi_encode  # noqa: E402
from eth_account.signers.local import LocalAccount  # noqa: E402
from eth_utils import keccak  # noqa: E402
from web3 import Web3  # noqa: E402
from web3.contract import Contract  # noqa: E402
from web3.exceptions import ContractLogicError  # noqa: E402
from web3.logs import DISCARD  # noqa: E402
from web3.types import TxReceipt  # noqa: E402

from service.chain.artifacts import ARTIFACTS_DIR, load_artifact  # noqa: E402
from service.chain.board import Action, BoardClient, ProposalState, VoteType  # noqa: E402
from service.chain.deployment import deploy_contract, deploy_hub  # noqa: E402
from service.chain.devchain import HARDFORK, DevChain, dev_accounts, start_chain  # noqa: E402
from service.chain.errors import decode_revert  # noqa: E402
from service.chain.registry import RegistryClient  # noqa: E402
from service.chain.transactions import send  # noqa: E402
from service.credentials.merkle import CohortTree, leaf_hash, verify_inclusion  # noqa: E402
from service.credentials.signature import SignedAnchor  # noqa: E402

DEFAULT_OUT = ROOT / "bench" / "results" / "gas.md"
EAS_DIR = "@ethereum-attestation-service/eas-contracts"
OZ_DIR = "@openzeppelin/contracts"
SAFE_DIR = "@safe-global/safe-contracts"
DOCUMENT_STORE_DIR = "@govtechsg/document-store"
# OpenAttestation's DocumentStore: the npm package (2.6.1, the last with `issue(bytes32)` on an Ownable store)
# ships no Solidity sources, only its build: the bytecode of its typechain factory is deployed as it is.
DOCUMENT_STORE_FACTORY = (
    ROOT / "node_modules" / DOCUMENT_STORE_DIR / "src" / "contracts" / "factories" / "DocumentStore__factory.ts"
)
DOCUMENT_STORE_ABI = [
    {
        "type": "constructor",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "_name", "type": "string"}, {"name": "owner", "type": "address"}],
    },
    {
        "type": "function",
        "name": "issue",
        "stateMutability": "nonpayable",
        "outputs": [],
        "inputs": [{"name": "document", "type": "bytes32"}],
    },
    {
        "type": "function",
        "name": "isIssued",
        "stateMutability": "view",
        "outputs": [{"name": "", "type": "bool"}],
        "inputs": [{"name": "document", "type": "bytes32"}],
    },
]
SAFE_OWNERS = 7
SAFE_THRESHOLD = 4

# The peers are compiled with the settings scripts/compile.py uses for our contracts (shanghai: EAS
# 1.9.0 and OpenZeppelin 5.3 need nothing newer, and ganache 7.9 runs nothing newer).
PEER_UNITS = {
    f"{EAS_DIR}/contracts/SchemaRegistry.sol": ROOT / "node_modules" / EAS_DIR / "contracts" / "SchemaRegistry.sol",
    f"{EAS_DIR}/contracts/EAS.sol": ROOT / "node_modules" / EAS_DIR / "contracts" / "EAS.sol",
    "bench/contracts/BenchSeats.sol": ROOT / "bench" / "contracts" / "BenchSeats.sol",
    "bench/contracts/BenchGovernor.sol": ROOT / "bench" / "contracts" / "BenchGovernor.sol",
    "bench/contracts/BenchBatch.sol": ROOT / "bench" / "contracts" / "BenchBatch.sol",
    f"{SAFE_DIR}/contracts/Safe.sol": ROOT / "node_modules" / SAFE_DIR / "contracts" / "Safe.sol",
    f"{SAFE_DIR}/contracts/proxies/SafeProxyFactory.sol": ROOT
    / "node_modules"
    / SAFE_DIR
    / "contracts"
    / "proxies"
    / "SafeProxyFactory.sol",
}

ZERO_ADDRESS = "0x" + "00" * 20
ZERO_BYTES32 = b"\x00" * 32

# ---------------------------------------------------------------- the work

COHORTS = (1, 30, 1_000)
LARGE_COHORT = 1_000
BOARD_SIZE = 7
MEMBER_NAMES = (
    "TVM verzekeringen",
    "Unigarant",
    "Hanzehogeschool Groningen",
    "Rijksuniversiteit Groningen",
    "NHL Stenden",
    "Alfa-college",
    "Gemeente Hoogeveen",
)
# Every decision accredits the same issuer under this name (25 characters: one storage slot), on both systems.
ISSUER_NAME = "Hanzehogeschool Groningen"
ISSUER_KEY = bytes(Web3.keccak(text="the issuer's credential signing key"))  # a key hash: opaque to the contracts
TITLE = f"Accredit {ISSUER_NAME} as credential issuer"  # our title, the Governor's description
DOCUMENT_HASH = keccak(text=f"minutes: {TITLE}")  # the sha256 of the decision text in production
RECUSAL_REASON = "conflict of interest: partner of the issuer"

AGAINST, FOR, ABSTAIN = 0, 1, 2  # GovernorCountingSimple's numbering, shared by IHubBoard.VoteType
UNANIMOUS = (FOR,) * BOARD_SIZE  # the reference decision of target (b)
# A 4-3 decision, alternating so that the outcome stays open until the seventh ballot on both systems.
SPLIT = (FOR, AGAINST, FOR, AGAINST, FOR, AGAINST, FOR)

BOARD_RULES = (5_000, 5_000, 6_666, 7 * 86_400, 14 * 86_400)  # quorum, majority, two-thirds, 7 d vote, 14 d execute

GOVERNOR_VOTING_DELAY = 1  # blocks
GOVERNOR_VOTING_PERIOD = 50  # blocks
GOVERNOR_PROPOSAL_THRESHOLD = 1  # only seat holders propose, as only members propose on the board
GOVERNOR_QUORUM_PERCENT = 50

EAS_SCHEMA = "bytes32 credentialDigest"
REVOCATION_REASON = 1

TARGET_CREDENTIAL_RATIO = 1_000  # (a) EAS attest / ours per credential
TARGET_DECISION_RATIO = 0.5  # (b) ours / Governor
TARGET_ANCHOR_RATIO = 1.0  # (c) the service's anchoring transaction / DocumentStore issue(root)
TARGET_SAFE_RATIO = 1.5  # (d) our recorded 7-member meeting / a Safe 4-of-7 execTransaction
INTRINSIC_GAS = 21_000


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Row:
    """One measured operation: the gasUsed of its transactions, summed."""

    system: str
    operation: str
    gas: int
    txs: int = 1
    credentials: int = 0  # credentials the operation covers, for the per-credential column
    note: str = ""

    @property
    def per_credential(self) -> float | None:
        return self.gas / self.credentials if self.credentials else None


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    by_key: dict[str, Row] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, key: str, row: Row) -> Row:
        self.rows.append(row)
        self.by_key[key] = row
        print(
            f"  {row.system:<12} {row.operation:<78} {row.gas:>11,}"
            + (f"  ({row.per_credential:,.1f}/credential)" if row.per_credential is not None else ""),
            flush=True,
        )
        return row

    def __getitem__(self, key: str) -> Row:
        return self.by_key[key]

    def __contains__(self, key: str) -> bool:
        return key in self.by_key


def gas_of(receipts: Sequence[TxReceipt]) -> int:
    return sum(int(r["gasUsed"]) for r in receipts)


@dataclass
class Decision:
    """The receipts of one decision: its proposal, its ballots (one receipt per transaction), its execution."""

    proposed: TxReceipt
    ballots: list[TxReceipt]
    executed: TxReceipt

    @property
    def receipts(self) -> list[TxReceipt]:
        return [self.proposed, *self.ballots, self.executed]

    @property
    def gas(self) -> int:
        return gas_of(self.receipts)

    def ballot_note(self) -> str:
        return "ballots " + ", ".join(f"{int(r['gasUsed']):,}" for r in self.ballots)


# ---------------------------------------------------------------- chain helpers


def rpc(w3: Web3, method: str, *params: Any) -> Any:
    response = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    if "error" in response:
        raise RuntimeError(f"{method} failed: {response['error']}")
    return response["result"]


def mine_blocks(w3: Web3, count: int) -> None:
    for _ in range(count):
        rpc(w3, "evm_mine")


def latest_timestamp(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["timestamp"])


def block_gas_limit(w3: Web3) -> int:
    return int(w3.eth.get_block("latest")["gasLimit"])


def send_tx(w3: Web3, tx: dict[str, Any], account: LocalAccount, *abis: Sequence[Any]) -> TxReceipt:
    """Send `tx` ({"to", "data"}) from `account`; a revert is decoded with the errors of `abis`."""
    try:
        estimate = w3.eth.estimate_gas(cast(Any, {**tx, "from": account.address}))
    except ContractLogicError as exc:
        decoded = decode_revert(exc, [item for abi in abis for item in abi if item["type"] == "error"])
        raise RuntimeError(f"the transaction would revert: {decoded or exc}") from exc
    gas = min(estimate * 12 // 10 + 10_000, block_gas_limit(w3))
    return send(w3, {**tx, "gas": gas, "gasPrice": w3.eth.gas_price}, account)


def transact(w3: Web3, contract: Contract, function: str, *args: Any, account: LocalAccount) -> TxReceipt:
    """Call `function` of `contract` in a transaction from `account`."""
    tx = {"to": contract.address, "data": contract.encode_abi(function, args=list(args))}
    return send_tx(w3, tx, account, contract.abi)


def deploy_compiled(w3: Web3, compiled: dict[str, Any], *args: Any, account: LocalAccount) -> Contract:
    factory = w3.eth.contract(abi=compiled["abi"], bytecode=compiled["bytecode"])
    receipt = send(w3, factory.constructor(*args).build_transaction({"from": account.address}), account)
    return w3.eth.contract(address=Web3.to_checksum_address(str(receipt["contractAddress"])), abi=compiled["abi"])


def sign_typed(
    account: LocalAccount, contract: Contract, primary: str, fields: list[tuple[str, str]], message: dict[str, Any]
) -> bytes:
    """`account`'s EIP-712 signature of `message` for `contract`, whose domain it reads (ERC-5267)."""
    _, name, version, chain_id, verifying_contract, _, _ = contract.functions.eip712Domain().call()
    domain = {"name": name, "version": version, "chainId": chain_id, "verifyingContract": verifying_contract}
    types = {primary: [{"name": n, "type": t} for n, t in fields]}
    return bytes(account.sign_typed_data(domain_data=domain, message_types=types, message_data=message).signature)


# ---------------------------------------------------------------- compiling the peers


def load_project_compile() -> Any:
    """scripts/compile.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("project_compile", ROOT / "scripts" / "compile.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def peer_settings(project_settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "evmVersion": project_settings["evmVersion"],
        "optimizer": project_settings["optimizer"],
        "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}},
    }


def compile_peers(compiler: Any, settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    sources = {unit: {"content": path.read_text(encoding="utf-8")} for unit, path in PEER_UNITS.items()}
    output = compiler.compile_units(sources, settings)
    compiled = {}
    for unit in sources:
        for name, contract in output["contracts"][unit].items():
            if contract["evm"]["bytecode"]["object"]:
                compiled[name] = {
                    "abi": contract["abi"],
                    "bytecode": "0x" + contract["evm"]["bytecode"]["object"],
                    "size": len(contract["evm"]["deployedBytecode"]["object"]) // 2,
                }
    return compiled


def credential_digests(label: str, count: int) -> list[bytes]:
    """Deterministic stand-ins for credential digests (sha256 of the canonical credential in production)."""
    return [keccak(text=f"{label} credential {i}") for i in range(count)]


# ---------------------------------------------------------------- roles


@dataclass(frozen=True)
class Roles:
    deployer: LocalAccount
    members: list[LocalAccount]  # the seven board members, also the Governor's seat holders
    issuer: LocalAccount  # the partner every decision accredits
    relayer: LocalAccount

    @classmethod
    def from_dev_accounts(cls) -> Roles:
        accounts = dev_accounts()
        return cls(
            deployer=accounts[0], members=accounts[1 : 1 + BOARD_SIZE], issuer=accounts[11], relayer=accounts[19]
        )


def check_accredited(registry: Contract, issuer: LocalAccount) -> None:
    record = registry.functions.issuer(issuer.address).call()
    assert record[0] == ISSUER_NAME and record[1], f"{ISSUER_NAME} is not accredited: {record}"


# ---------------------------------------------------------------- ours: CredentialRegistry + HubBoard


@dataclass(frozen=True)
class Ours:
    """A fresh HubBoard and the CredentialRegistry it governs, deployed as in production (service.chain.deployment)."""

    board: BoardClient
    registry: Contract

    @classmethod
    def deploy(cls, w3: Web3, roles: Roles) -> Ours:
        members: list[tuple[str, str]] = [(m.address, n) for m, n in zip(roles.members, MEMBER_NAMES, strict=True)]
        deployment = deploy_hub(w3, roles.deployer, members, BOARD_RULES)
        registry = w3.eth.contract(
            address=Web3.to_checksum_address(deployment.registry.address), abi=load_artifact("CredentialRegistry").abi
        )
        return cls(BoardClient(w3, deployment.board.address), registry)


class BoardBench:
    """Our board deciding to accredit the issuer in the registry it governs, by each flow it offers."""

    def __init__(self, w3: Web3, roles: Roles, results: Results):
        self.w3, self.roles, self.results = w3, roles, results
        self.action = Action.accredit_issuer(roles.issuer.address, ISSUER_NAME, ISSUER_KEY)

    def send(self, ours: Ours, tx: dict[str, Any], account: LocalAccount) -> TxReceipt:
        return send_tx(self.w3, tx, account, ours.board.contract.abi, ours.registry.abi)

    def deadline(self) -> int:
        return latest_timestamp(self.w3) + 3_600

    def executed(self, ours: Ours, proposal_id: int) -> None:
        state = ours.board.state(proposal_id)
        assert state is ProposalState.EXECUTED, f"board proposal {proposal_id} is {state.label}, not Executed"
        check_accredited(ours.registry, self.roles.issuer)

    def decide_directly(self, order: Sequence[int]) -> tuple[Ours, Decision]:
        """propose, castVote by each member, execute: nine transactions."""
        ours = Ours.deploy(self.w3, self.roles)
        board, members = ours.board, self.roles.members
        proposed = self.send(ours, board.propose(self.action, TITLE, DOCUMENT_HASH), members[0])
        proposal_id = board.created_proposal_id(proposed)
        ballots = [
            self.send(ours, board.cast_vote(proposal_id, VoteType(support)), member)
            for member, support in zip(members, order, strict=True)
        ]
        state = board.state(proposal_id)
        assert state is ProposalState.SUCCEEDED, f"after the ballots the proposal is {state.label}, not Succeeded"
        executed = self.send(ours, board.execute(proposal_id, self.action, DOCUMENT_HASH), self.roles.relayer)
        self.executed(ours, proposal_id)
        return ours, Decision(proposed, ballots, executed)

    def decide_by_multicall(self, order: Sequence[int]) -> TxReceipt:
        """multicall(proposeBySig, castVoteBySig per member, execute) from the relayer: one transaction. The
        ballots name the id the proposal is expected to get (proposalCount() + 1)."""
        ours = Ours.deploy(self.w3, self.roles)
        board, members, deadline = ours.board, self.roles.members, self.deadline()
        proposal_id = board.proposal_count() + 1
        proposal = board.sign_proposal(members[0], self.action, TITLE, DOCUMENT_HASH, deadline=deadline)
        calls = [board.propose_by_sig(proposal)["data"]]
        for member, support in zip(members, order, strict=True):
            nonce = board.nonce(member.address) + (member is members[0])  # after the proposal's
            ballot = board.sign_ballot(member, proposal_id, VoteType(support), "", deadline=deadline, nonce=nonce)
            calls.append(board.cast_vote_by_sig(ballot)["data"])
        calls.append(board.execute(proposal_id, self.action, DOCUMENT_HASH)["data"])
        tx = {"to": board.address, "data": board.contract.encode_abi("multicall", args=[calls])}
        receipt = self.send(ours, tx, self.roles.relayer)
        self.executed(ours, proposal_id)
        return receipt

    def decide_in_meeting(self, order: Sequence[int]) -> TxReceipt:
        """recordMeeting from the relayer: the signed proposal and the signed meeting ballots, one transaction."""
        ours = Ours.deploy(self.w3, self.roles)
        board, members, deadline = ours.board, self.roles.members, self.deadline()
        proposal = board.sign_proposal(members[0], self.action, TITLE, DOCUMENT_HASH, deadline=deadline)
        ballots = [
            board.sign_meeting_ballot(member, proposal, VoteType(support), "")
            for member, support in zip(members, order, strict=True)
        ]
        receipt = self.send(ours, board.record_meeting(proposal, ballots), self.roles.relayer)
        self.executed(ours, board.created_proposal_id(receipt))
        return receipt

    def single_steps(self) -> dict[str, TxReceipt]:
        """The signed and relayed steps one at a time, on a proposal left open."""
        ours = Ours.deploy(self.w3, self.roles)
        board, members, relayer = ours.board, self.roles.members, self.roles.relayer
        proposal = board.sign_proposal(members[0], self.action, TITLE, DOCUMENT_HASH, deadline=self.deadline())
        steps = {"propose_by_sig": self.send(ours, board.propose_by_sig(proposal), relayer)}
        proposal_id = board.created_proposal_id(steps["propose_by_sig"])
        self.send(ours, board.cast_vote(proposal_id, VoteType.FOR), members[0])
        ballot = board.sign_ballot(members[1], proposal_id, VoteType.FOR, "", deadline=self.deadline())
        steps["vote_by_sig"] = self.send(ours, board.cast_vote_by_sig(ballot), relayer)
        steps["recuse"] = self.send(ours, board.recuse(proposal_id, RECUSAL_REASON), members[2])
        recusal = board.sign_recusal(members[3], proposal_id, RECUSAL_REASON, deadline=self.deadline())
        steps["recuse_by_sig"] = self.send(ours, board.recuse_by_sig(recusal), relayer)
        assert board.state(proposal_id) is ProposalState.ACTIVE  # 2 votes of 5: no quorum yet
        return steps

    def run(self) -> Ours:
        """Every flow; returns the deployment of the direct decision, whose registry then serves the issuer."""
        add, system = self.results.add, "HubBoard"
        ours, direct = self.decide_directly(UNANIMOUS)
        add("board.propose", Row(system, "propose (AccreditIssuer)", gas_of([direct.proposed])))
        steps = self.single_steps()
        add("board.propose_by_sig", Row(system, "proposeBySig (relayed)", gas_of([steps["propose_by_sig"]])))
        add("board.vote.first", Row(system, "castVote (first ballot)", gas_of(direct.ballots[:1])))
        add("board.vote.later", Row(system, "castVote (later ballot, For after For)", gas_of(direct.ballots[1:2])))
        add("board.vote_by_sig", Row(system, "castVoteBySig (later ballot, relayed)", gas_of([steps["vote_by_sig"]])))
        add(
            "board.recuse",
            Row(system, "recuse", gas_of([steps["recuse"]]), note=f"{len(RECUSAL_REASON)}-character reason"),
        )
        add(
            "board.recuse_by_sig",
            Row(system, "recuseBySig (relayed)", gas_of([steps["recuse_by_sig"]]), note="same reason"),
        )
        add(
            "board.execute",
            Row(
                system,
                "execute (accreditation via the board)",
                gas_of([direct.executed]),
                note="calls registry.accreditIssuer",
            ),
        )
        add(
            "board.decision.direct",
            Row(
                system,
                "full decision, 7 For: propose + 7 castVote + execute",
                direct.gas,
                txs=len(direct.receipts),
                note=direct.ballot_note(),
            ),
        )
        multicall = self.decide_by_multicall(UNANIMOUS)
        add(
            "board.decision.multicall",
            Row(
                system,
                "full decision, 7 For: multicall(proposeBySig + 7 castVoteBySig + execute)",
                gas_of([multicall]),
                note="relayed; ballots name the predicted proposal id",
            ),
        )
        meeting = self.decide_in_meeting(UNANIMOUS)
        add(
            "board.decision.meeting",
            Row(
                system,
                "full decision, 7 For: recordMeeting",
                gas_of([meeting]),
                note="relayed; ballots name the signed proposal",
            ),
        )
        _, split = self.decide_directly(SPLIT)
        add(
            "board.split.direct",
            Row(
                system,
                "4-3 decision: propose + 7 castVote + execute",
                split.gas,
                txs=len(split.receipts),
                note=split.ballot_note(),
            ),
        )
        split_meeting = self.decide_in_meeting(SPLIT)
        add("board.split.meeting", Row(system, "4-3 decision: recordMeeting", gas_of([split_meeting]), note="relayed"))
        return ours


# ---------------------------------------------------------------- ours: the registry


def bench_registry(w3: Web3, roles: Roles, registry_contract: Contract, results: Results) -> None:
    """Anchoring cohorts and revoking, by the issuer the board accredited in its direct decision."""
    system, issuer, relayer = "Registry", roles.issuer, roles.relayer
    registry = RegistryClient(w3, registry_contract.address)
    abi = registry_contract.abi
    for count in COHORTS:
        tree = CohortTree(tuple(credential_digests(f"cohort {count}", count)))
        metadata_hash = keccak(text=f"cohort {count} metadata")
        receipt = transact(w3, registry_contract, "anchor", tree.root, count, metadata_hash, account=issuer)
        results.add(
            f"ours.anchor.{count}",
            Row(
                system,
                f"anchor, cohort of {count:,}",
                gas_of([receipt]),
                credentials=count,
                note="with a metadata hash",
            ),
        )
        if count == LARGE_COHORT:
            large = tree

    tree = CohortTree(tuple(credential_digests("cohort without metadata", LARGE_COHORT)))
    receipt = transact(w3, registry_contract, "anchor", tree.root, LARGE_COHORT, ZERO_BYTES32, account=issuer)
    results.add(
        "ours.anchor.nometa",
        Row(
            system, f"anchor, cohort of {LARGE_COHORT:,}, no metadata hash", gas_of([receipt]), credentials=LARGE_COHORT
        ),
    )

    tree = CohortTree(tuple(credential_digests("relayed cohort", LARGE_COHORT)))
    anchoring = registry.anchor_request(
        tree.root, LARGE_COHORT, issuer.address, latest_timestamp(w3) + 3_600, keccak(text="relayed metadata")
    )
    signed = SignedAnchor(anchoring, anchoring.sign(issuer.key))
    receipt = send_tx(w3, registry.anchor_by_sig_tx(signed), relayer, abi)
    results.add(
        "ours.anchor_by_sig",
        Row(
            system,
            f"anchorBySig, cohort of {LARGE_COHORT:,} (relayed)",
            gas_of([receipt]),
            credentials=LARGE_COHORT,
            note="with a metadata hash",
        ),
    )

    index = LARGE_COHORT // 2
    digest, proof = large.digests[index], large.proof(index)
    assert verify_inclusion(large.root, digest, proof)
    assert registry.leaf_of(digest) == leaf_hash(digest), "the service's leaf format differs from the registry's"
    status = registry_contract.functions.verify(issuer.address, large.root, digest, proof).call()
    assert status[0] and status[1], f"the registry does not verify the proof: {status}"
    receipt = transact(w3, registry_contract, "revoke", large.root, digest, proof, REVOCATION_REASON, account=issuer)
    results.add(
        "ours.revoke",
        Row(system, f"revoke (proof of {len(proof)} hashes, cohort of {LARGE_COHORT:,})", gas_of([receipt])),
    )

    index = LARGE_COHORT // 3
    revocation = registry.revoke_request(
        large.root, large.digests[index], REVOCATION_REASON, issuer.address, latest_timestamp(w3) + 3_600
    )
    tx = registry.revoke_by_sig_tx(revocation, revocation.sign(issuer.key), large.proof(index))
    receipt = send_tx(w3, tx, relayer, abi)
    results.add("ours.revoke_by_sig", Row(system, "revokeBySig (relayed, same cohort)", gas_of([receipt])))


def bench_service_anchoring(w3: Web3, roles: Roles, registry_contract: Contract, results: Results) -> None:
    """The service's real path, with the calldata its RegistryClient builds: the partner's one-time authorisation
    of the hub's relayer (setRelayerBySig), then each cohort by anchorFor from the relayer."""
    system, issuer, relayer = "Registry", roles.issuer, roles.relayer
    registry = RegistryClient(w3, registry_contract.address)
    request = registry.set_relayer_request(issuer.address, relayer.address, latest_timestamp(w3) + 3_600)
    receipt = send_tx(
        w3, registry.set_relayer_by_sig_tx(request, request.sign(issuer.key)), relayer, registry_contract.abi
    )
    results.add(
        "ours.authorise",
        Row(
            system,
            "setRelayerBySig (once per partner, relayed)",
            gas_of([receipt]),
            note="onboarding: the partner authorises the hub's relayer",
        ),
    )
    for count in COHORTS:
        tree = CohortTree(tuple(credential_digests(f"service cohort {count}", count)))
        receipt = send_tx(w3, registry.anchor_for_tx(issuer.address, tree.root, count), relayer, registry_contract.abi)
        assert registry.batch(issuer.address, tree.root).anchored
        results.add(
            f"ours.service.{count}",
            Row(
                system,
                f"the service's anchoring: anchorFor, cohort of {count:,} (relayed)",
                gas_of([receipt]),
                credentials=count,
                note="as service.chain.registry builds it",
            ),
        )


def load_document_store() -> dict[str, Any]:
    source = DOCUMENT_STORE_FACTORY.read_text(encoding="utf-8")
    match = re.search(r'const _bytecode =\s*"(0x[0-9a-fA-F]+)"', source)
    assert match, f"no bytecode in {DOCUMENT_STORE_FACTORY}"
    return {"abi": DOCUMENT_STORE_ABI, "bytecode": match.group(1)}


def bench_document_store(w3: Web3, roles: Roles, results: Results) -> None:
    """OpenAttestation's DocumentStore: its owner issues one Merkle root per batch (`issue(bytes32)`)."""
    store = deploy_compiled(w3, load_document_store(), "IT Hub Hoogeveen", roles.issuer.address, account=roles.issuer)
    for count in COHORTS:
        root = CohortTree(tuple(credential_digests(f"document store cohort {count}", count))).root
        receipt = transact(w3, store, "issue", root, account=roles.issuer)
        assert store.functions.isIssued(root).call()
        results.add(
            f"ds.issue.{count}",
            Row(
                "DocumentStore",
                f"issue(root), cohort of {count:,}",
                gas_of([receipt]),
                credentials=count,
                note="by its owner",
            ),
        )


def bench_safe(w3: Web3, roles: Roles, compiled: dict[str, dict[str, Any]], results: Results) -> None:
    """A Safe 1.4.1 of the seven members, threshold 4 (a proxy of the singleton, as the Safe app deploys it),
    governing a fresh CredentialRegistry: execTransaction of accreditIssuer with four owners' signatures, the
    same call our board's decisions execute."""
    deployer = roles.deployer
    singleton = deploy_compiled(w3, compiled["Safe"], account=deployer)
    factory = deploy_compiled(w3, compiled["SafeProxyFactory"], account=deployer)
    owners = sorted(roles.members[:SAFE_OWNERS], key=lambda account: int(account.address, 16))
    setup = singleton.encode_abi(
        "setup",
        args=[
            [o.address for o in owners],
            SAFE_THRESHOLD,
            ZERO_ADDRESS,
            b"",
            ZERO_ADDRESS,
            ZERO_ADDRESS,
            0,
            ZERO_ADDRESS,
        ],
    )
    receipt = transact(w3, factory, "createProxyWithNonce", singleton.address, setup, 0, account=deployer)
    (created,) = factory.events.ProxyCreation().process_receipt(receipt, errors=DISCARD)
    safe = w3.eth.contract(address=created["args"]["proxy"], abi=compiled["Safe"]["abi"])
    registry = deploy_contract(w3, "CredentialRegistry", safe.address, account=deployer)
    data = registry.encode_abi("accreditIssuer", args=[roles.issuer.address, ISSUER_NAME, ISSUER_KEY])
    call = (registry.address, 0, data, 0, 0, 0, 0, ZERO_ADDRESS, ZERO_ADDRESS)
    safe_hash = bytes(safe.functions.getTransactionHash(*call, safe.functions.nonce().call()).call())
    signatures = b"".join(  # four owners, ascending addresses, as Safe's checkSignatures requires
        bytes(owner.unsafe_sign_hash(safe_hash).signature) for owner in owners[:SAFE_THRESHOLD]
    )
    receipt = transact(w3, safe, "execTransaction", *call, signatures, account=owners[0])
    assert safe.events.ExecutionSuccess().process_receipt(receipt, errors=DISCARD), "the Safe's call failed"
    check_accredited(registry, roles.issuer)
    results.add(
        "safe.exec",
        Row(
            "Safe",
            f"execTransaction {SAFE_THRESHOLD}-of-{SAFE_OWNERS} (accreditIssuer)",
            gas_of([receipt]),
            note=f"{SAFE_THRESHOLD} owner signatures, sent by an owner",
        ),
    )


def bench_registry_alone(w3: Web3, roles: Roles, results: Results) -> None:
    """Context: accreditIssuer called by an EOA governor, i.e. the registry's share of any governor's execution."""
    registry = deploy_contract(w3, "CredentialRegistry", roles.deployer.address, account=roles.deployer)
    receipt = transact(
        w3, registry, "accreditIssuer", roles.issuer.address, ISSUER_NAME, ISSUER_KEY, account=roles.deployer
    )
    results.add(
        "ours.accredit_eoa",
        Row(
            "Registry",
            "accreditIssuer by an EOA governor (context)",
            gas_of([receipt]),
            note="the registry's share of every decision",
        ),
    )


# ---------------------------------------------------------------- peer: Ethereum Attestation Service


def eas_request(recipient: str, digest: bytes) -> tuple[Any, ...]:
    """AttestationRequestData: recipient, expirationTime, revocable, refUID, data, value."""
    return (recipient, 0, True, ZERO_BYTES32, abi_encode(["bytes32"], [digest]), 0)


def eas_attest(
    w3: Web3, eas: Contract, schema: bytes, digest: bytes, attester: LocalAccount
) -> tuple[bytes, TxReceipt]:
    receipt = transact(w3, eas, "attest", (schema, eas_request(ZERO_ADDRESS, digest)), account=attester)
    (event,) = eas.events.Attested().process_receipt(receipt, errors=DISCARD)
    return bytes(event["args"]["uid"]), receipt


def eas_multi_attest(
    w3: Web3, eas: Contract, schema: bytes, digests: Sequence[bytes], chunk: int, attester: LocalAccount
) -> list[TxReceipt]:
    receipts = []
    for start in range(0, len(digests), chunk):
        requests = [eas_request(ZERO_ADDRESS, d) for d in digests[start : start + chunk]]
        receipts.append(transact(w3, eas, "multiAttest", [(schema, requests)], account=attester))
    return receipts


def bench_eas(w3: Web3, roles: Roles, compiled: dict[str, dict[str, Any]], results: Results) -> None:
    system, attester = "EAS", roles.issuer
    schema_registry = deploy_compiled(w3, compiled["SchemaRegistry"], account=roles.deployer)
    eas = deploy_compiled(w3, compiled["EAS"], schema_registry.address, account=roles.deployer)
    receipt = transact(w3, schema_registry, "register", EAS_SCHEMA, ZERO_ADDRESS, True, account=roles.deployer)
    (registered,) = schema_registry.events.Registered().process_receipt(receipt, errors=DISCARD)
    schema = bytes(registered["args"]["uid"])

    uid, attested = eas_attest(w3, eas, schema, keccak(text="EAS single credential"), attester)
    results.add(
        "eas.attest",
        Row(system, "attest (one credential)", gas_of([attested]), credentials=1, note="no recipient, no resolver"),
    )

    receipts = eas_multi_attest(w3, eas, schema, credential_digests("EAS cohort 30", 30), 30, attester)
    thirty = results.add(
        "eas.multi.30", Row(system, "multiAttest, 30 credentials", gas_of(receipts), txs=len(receipts), credentials=30)
    )

    limit = block_gas_limit(w3)
    needed = thirty.gas / 30 * LARGE_COHORT
    chunk = LARGE_COHORT if needed < 0.9 * limit else int(0.9 * limit // (thirty.gas / 30))
    receipts = eas_multi_attest(w3, eas, schema, credential_digests("EAS cohort 1000", LARGE_COHORT), chunk, attester)
    note = ""
    if len(receipts) > 1:
        note = (
            f"{len(receipts)} txs of <= {chunk}: ~{needed / 1e6:.0f}M gas exceeds the {limit / 1e6:.0f}M block "
            "gas limit"
        )
        results.notes.append(
            f"EAS multiAttest of {LARGE_COHORT:,}: one transaction would need ~{needed:,.0f} gas, "
            f"over the block gas limit of {limit:,}; chunked into {len(receipts)} transactions "
            f"of at most {chunk} attestations."
        )
    results.add(
        "eas.multi.1000",
        Row(
            system,
            f"multiAttest, {LARGE_COHORT:,} credentials",
            gas_of(receipts),
            txs=len(receipts),
            credentials=LARGE_COHORT,
            note=note,
        ),
    )

    receipt = transact(w3, eas, "revoke", (schema, (uid, 0)), account=attester)
    results.add("eas.revoke", Row(system, "revoke (one attestation)", gas_of([receipt])))


def load_eas_prebuilt() -> dict[str, dict[str, Any]]:
    """The bytecode EAS publishes in its npm package (its own compiler settings), for a cross-check."""
    compiled = {}
    for name in ("SchemaRegistry", "EAS"):
        path = ROOT / "node_modules" / EAS_DIR / "artifacts" / "contracts" / f"{name}.sol" / f"{name}.json"
        artifact = json.loads(path.read_text(encoding="utf-8"))
        compiled[name] = {"abi": artifact["abi"], "bytecode": artifact["bytecode"]}
    return compiled


def bench_eas_prebuilt(w3: Web3, roles: Roles, results: Results) -> None:
    prebuilt = load_eas_prebuilt()
    schema_registry = deploy_compiled(w3, prebuilt["SchemaRegistry"], account=roles.deployer)
    eas = deploy_compiled(w3, prebuilt["EAS"], schema_registry.address, account=roles.deployer)
    receipt = transact(w3, schema_registry, "register", EAS_SCHEMA, ZERO_ADDRESS, True, account=roles.deployer)
    (registered,) = schema_registry.events.Registered().process_receipt(receipt, errors=DISCARD)
    _, attested = eas_attest(w3, eas, bytes(registered["args"]["uid"]), keccak(text="EAS prebuilt"), roles.issuer)
    results.add(
        "eas.attest.prebuilt",
        Row(
            "EAS",
            "attest (one credential), EAS's own npm build",
            gas_of([attested]),
            credentials=1,
            note="context: cross-check of the compiler settings",
        ),
    )


# ---------------------------------------------------------------- peer: OpenZeppelin Governor 5.3


@dataclass(frozen=True)
class GovernorSystem:
    """Seven one-vote seats, the Governor, and a fresh CredentialRegistry it governs."""

    governor: Contract
    registry: Contract

    @classmethod
    def deploy(cls, w3: Web3, roles: Roles, compiled: dict[str, dict[str, Any]]) -> GovernorSystem:
        seats = deploy_compiled(w3, compiled["BenchSeats"], [m.address for m in roles.members], account=roles.deployer)
        governor = deploy_compiled(
            w3,
            compiled["BenchGovernor"],
            seats.address,
            GOVERNOR_VOTING_DELAY,
            GOVERNOR_VOTING_PERIOD,
            GOVERNOR_PROPOSAL_THRESHOLD,
            GOVERNOR_QUORUM_PERCENT,
            account=roles.deployer,
        )
        registry = deploy_contract(w3, "CredentialRegistry", governor.address, account=roles.deployer)
        mine_blocks(w3, 1)  # the seats' checkpoints lie in the past for the proposal threshold
        assert all(seats.functions.getVotes(m.address).call() == 1 for m in roles.members)
        return cls(governor, registry)

    def proposal(self, issuer: LocalAccount) -> tuple[list[str], list[int], list[bytes], str]:
        """The Governor's proposal of the accreditation: targets, values, calldatas, description."""
        calldata = bytes.fromhex(
            self.registry.encode_abi("accreditIssuer", args=[issuer.address, ISSUER_NAME, ISSUER_KEY])[2:]
        )
        return [self.registry.address], [0], [calldata], TITLE


def governor_ballot(governor: Contract, voter: LocalAccount, proposal_id: int, support: int) -> tuple[Any, ...]:
    nonce = governor.functions.nonces(voter.address).call()
    message = {"proposalId": proposal_id, "support": support, "voter": voter.address, "nonce": nonce}
    fields = [("proposalId", "uint256"), ("support", "uint8"), ("voter", "address"), ("nonce", "uint256")]
    return (proposal_id, support, voter.address, sign_typed(voter, governor, "Ballot", fields, message))


class GovernorBench:
    """The OpenZeppelin Governor taking the same decision on a registry it governs."""

    SUCCEEDED = 4  # IGovernor.ProposalState.Succeeded

    def __init__(self, w3: Web3, roles: Roles, compiled: dict[str, dict[str, Any]], results: Results):
        self.w3, self.roles, self.compiled, self.results = w3, roles, compiled, results

    def decide(self, order: Sequence[int], ballots: str) -> Decision:
        """Propose; ballots "direct" (castVote per member), "relayed" (castVoteBySig per member, each its own
        transaction) or "batched" (the seven castVoteBySig in one transaction through BenchBatch); execute."""
        system = GovernorSystem.deploy(self.w3, self.roles, self.compiled)
        governor, members, relayer = system.governor, self.roles.members, self.roles.relayer
        targets, values, calldatas, description = system.proposal(self.roles.issuer)
        proposed = transact(self.w3, governor, "propose", targets, values, calldatas, description, account=members[0])
        proposal_id = governor.functions.hashProposal(targets, values, calldatas, keccak(text=description)).call()
        # Voting opens once the clock passes the snapshot (proposal block + delay). eth_estimateGas runs at the
        # latest block's number, so mine one block more than the delay.
        mine_blocks(self.w3, GOVERNOR_VOTING_DELAY + 1)
        if ballots == "direct":
            cast = [
                transact(self.w3, governor, "castVote", proposal_id, support, account=member)
                for member, support in zip(members, order, strict=True)
            ]
        else:
            signed = [
                governor_ballot(governor, member, proposal_id, support)
                for member, support in zip(members, order, strict=True)
            ]
            if ballots == "relayed":
                cast = [transact(self.w3, governor, "castVoteBySig", *ballot, account=relayer) for ballot in signed]
            else:
                batch = deploy_compiled(self.w3, self.compiled["BenchBatch"], account=self.roles.deployer)
                calls = [bytes.fromhex(governor.encode_abi("castVoteBySig", args=list(b))[2:]) for b in signed]
                cast = [
                    send_tx(
                        self.w3,
                        {"to": batch.address, "data": batch.encode_abi("forward", args=[governor.address, calls])},
                        relayer,
                        batch.abi,
                        governor.abi,
                    )
                ]
        deadline = governor.functions.proposalDeadline(proposal_id).call()
        mine_blocks(self.w3, max(0, deadline - self.w3.eth.block_number + 1))  # voting ends after the deadline block
        state = governor.functions.state(proposal_id).call()
        assert state == self.SUCCEEDED, f"Governor proposal is in state {state}, not Succeeded"
        executed = transact(
            self.w3, governor, "execute", targets, values, calldatas, keccak(text=description), account=relayer
        )
        check_accredited(system.registry, self.roles.issuer)
        return Decision(proposed, cast, executed)

    def run(self) -> None:
        add, system = self.results.add, "OZ Governor"
        direct = self.decide(UNANIMOUS, "direct")
        add("gov.propose", Row(system, "propose (accreditIssuer call)", gas_of([direct.proposed])))
        add("gov.vote.first", Row(system, "castVote (first ballot)", gas_of(direct.ballots[:1])))
        add("gov.vote.later", Row(system, "castVote (later ballot, For after For)", gas_of(direct.ballots[1:2])))
        relayed = self.decide(UNANIMOUS, "relayed")
        add("gov.vote_by_sig", Row(system, "castVoteBySig (later ballot, relayed)", gas_of(relayed.ballots[1:2])))
        add(
            "gov.execute",
            Row(
                system,
                "execute (accreditation via the Governor)",
                gas_of([direct.executed]),
                note="calls registry.accreditIssuer",
            ),
        )
        add(
            "gov.decision.direct",
            Row(
                system,
                "full decision, 7 For: propose + 7 castVote + execute",
                direct.gas,
                txs=len(direct.receipts),
                note="the reference; " + direct.ballot_note(),
            ),
        )
        add(
            "gov.decision.relayed",
            Row(
                system,
                "full decision, 7 For: propose + 7 castVoteBySig + execute",
                relayed.gas,
                txs=len(relayed.receipts),
                note="relayed, one tx per ballot",
            ),
        )
        batched = self.decide(UNANIMOUS, "batched")
        add(
            "gov.decision.batched",
            Row(
                system,
                "full decision, 7 For: propose + batch(7 castVoteBySig) + execute",
                batched.gas,
                txs=len(batched.receipts),
                note="fewest transactions possible; ballots relayed by BenchBatch",
            ),
        )
        split = self.decide(SPLIT, "direct")
        add(
            "gov.split.direct",
            Row(
                system,
                "4-3 decision: propose + 7 castVote + execute",
                split.gas,
                txs=len(split.receipts),
                note=split.ballot_note(),
            ),
        )


# ---------------------------------------------------------------- report


@dataclass(frozen=True)
class Ratio:
    label: str
    value: float
    target: str
    met: bool | None  # None: context only


OUR_DECISIONS = (  # target (b): each of our flows for the reference decision: key, name, what it is
    ("board.decision.direct", "direct", "9 txs: propose + 7 castVote + execute"),
    ("board.decision.multicall", "multicall", "1 tx: multicall(proposeBySig + 7 castVoteBySig + execute)"),
    ("board.decision.meeting", "recordMeeting", "1 tx: recordMeeting"),
)


def ratios(results: Results) -> list[Ratio]:
    out: list[Ratio] = []
    large = f"ours.anchor.{LARGE_COHORT}"
    if large in results and "eas.attest" in results:
        per_credential = results[large].per_credential or 0
        value = results["eas.attest"].gas / per_credential
        out.append(
            Ratio(
                f"(a) EAS attest / our anchor per credential ({LARGE_COHORT:,} cohort)",
                value,
                f">= {TARGET_CREDENTIAL_RATIO:,}",
                value >= TARGET_CREDENTIAL_RATIO,
            )
        )
        multi = results[f"eas.multi.{LARGE_COHORT}"].per_credential or 0
        out.append(
            Ratio(
                f"EAS multiAttest per credential / ours per credential ({LARGE_COHORT:,} cohort)",
                multi / per_credential,
                "context",
                None,
            )
        )
        out.append(
            Ratio(
                "EAS revoke / our revoke (with Merkle proof)",
                results["eas.revoke"].gas / results["ours.revoke"].gas,
                "context",
                None,
            )
        )
    service, store = f"ours.service.{LARGE_COHORT}", f"ds.issue.{LARGE_COHORT}"
    if service in results and store in results:
        value = results[service].gas / results[store].gas
        out.append(
            Ratio(
                f"(c) the service's anchoring transaction (anchorFor, {LARGE_COHORT:,} cohort) / "
                "DocumentStore issue(root)",
                value,
                f"<= {TARGET_ANCHOR_RATIO}",
                value <= TARGET_ANCHOR_RATIO,
            )
        )
        out.append(
            Ratio(
                "anchorBySig (a partner's first batch, before it authorised the relayer) / DocumentStore issue(root)",
                results["ours.anchor_by_sig"].gas / results[store].gas,
                "context",
                None,
            )
        )
    if "board.decision.meeting" in results and "safe.exec" in results:
        value = results["board.decision.meeting"].gas / results["safe.exec"].gas
        out.append(
            Ratio(
                "(d) our recorded 7-member meeting (recordMeeting, 7 For) / Safe 4-of-7 execTransaction",
                value,
                f"<= {TARGET_SAFE_RATIO}",
                value <= TARGET_SAFE_RATIO,
            )
        )
    if "board.decision.direct" in results and "gov.decision.direct" in results:
        reference = results["gov.decision.direct"].gas
        for key, _, label in OUR_DECISIONS:
            value = results[key].gas / reference
            out.append(
                Ratio(
                    f"(b) our full 7-member decision, {label} / Governor's 9 txs (7 For)",
                    value,
                    f"<= {TARGET_DECISION_RATIO}",
                    value <= TARGET_DECISION_RATIO,
                )
            )
        for ours, theirs, label in (
            ("board.split.direct", "gov.split.direct", "4-3, 9 txs / Governor's 4-3, 9 txs"),
            ("board.split.meeting", "gov.split.direct", "4-3, recordMeeting / Governor's 4-3, 9 txs"),
            (
                "board.decision.meeting",
                "gov.decision.relayed",
                "7 For, recordMeeting / Governor's relayed 9 txs (members without ether on both sides)",
            ),
            (
                "board.decision.meeting",
                "gov.decision.batched",
                "7 For, recordMeeting / Governor's fewest txs (3: propose, batched ballots, execute)",
            ),
        ):
            out.append(Ratio(f"our decision, {label}", results[ours].gas / results[theirs].gas, "context", None))
    return out


def fmt_ratio(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.3f}"


def verdict(ratio: Ratio) -> str:
    return "context" if ratio.met is None else ("**met**" if ratio.met else "**NOT met**")


SYSTEM_ORDER = ("Registry", "DocumentStore", "EAS", "HubBoard", "OZ Governor", "Safe")


def ordered(rows: list[Row]) -> list[Row]:
    """Rows grouped by system (credentials first, then governance), in measurement order within a system."""
    return sorted(rows, key=lambda row: SYSTEM_ORDER.index(row.system))


def table(results: Results) -> list[str]:
    lines = ["| System | Operation | Txs | Gas used | Gas per credential | Notes |", "|---|---|---:|---:|---:|---|"]
    for row in ordered(results.rows):
        per = f"{row.per_credential:,.1f}" if row.per_credential is not None else ""
        lines.append(f"| {row.system} | {row.operation} | {row.txs} | {row.gas:,} | {per} | {row.note} |")
    return lines


def decision_breakdown(results: Results) -> list[str]:
    """Where the decision gas goes, against the budget of target (b); computed from the rows."""
    needed = (
        "gov.decision.direct",
        "ours.accredit_eoa",
        "board.decision.direct",
        "board.decision.multicall",
        "board.decision.meeting",
    )
    if not all(key in results for key in needed):
        return []
    budget = TARGET_DECISION_RATIO * results["gov.decision.direct"].gas
    registry_work = results["ours.accredit_eoa"].gas - INTRINSIC_GAS
    direct, multicall, meeting = (results[key] for key in needed[2:])
    fixed = direct.txs * INTRINSIC_GAS + registry_work
    return [
        f"Budget of target (b): {TARGET_DECISION_RATIO} x {results['gov.decision.direct'].gas:,} = {budget:,.0f} gas.",
        f"Any flow of {direct.txs} transactions pays {direct.txs * INTRINSIC_GAS:,} intrinsic gas, and every governor "
        f"pays the registry's own accreditation work (accreditIssuer by an EOA minus intrinsic: {registry_work:,}): "
        f"{fixed:,} before the board does anything, leaving {budget - fixed:,.0f} for a proposal, seven ballots and "
        f"the execution's bookkeeping. Our direct flow spends {direct.gas - fixed:,} on them "
        f"({direct.gas:,} in all): with nine transactions the target is out of reach.",
        f"In one transaction the fixed part is {INTRINSIC_GAS + registry_work:,}. multicall(proposeBySig + 7 "
        f"castVoteBySig + execute) spends {multicall.gas - INTRINSIC_GAS - registry_work:,} on top "
        f"({multicall.gas:,}, {multicall.gas - budget:+,.0f} against the budget): Multicall's per-call "
        "delegatecall, copying and re-decoding of nine calls, the action given twice (proposal and execute) "
        "and hashed again to check it.",
        f"recordMeeting spends {meeting.gas - INTRINSIC_GAS - registry_work:,} on top ({meeting.gas:,}, "
        f"{meeting.gas - budget:+,.0f} against the budget; {multicall.gas - meeting.gas:,} less than the multicall): "
        "one entry point, the action given once, its EIP-712 struct hash computed once for the proposal and all "
        "ballots, and no re-check of the commitment it has just stored.",
    ]


GOVERNOR_BLOCKS = (
    "The Governor cannot decide in one transaction, whatever its settings (OpenZeppelin 5.3 `Governor.sol`, "
    "checked against node_modules): `_propose` sets the snapshot `voteStart = clock() + votingDelay()`, and "
    "`state()` is Pending while `snapshot >= clock()`, so even with `votingDelay() == 0` a vote "
    "(`_castVote` requires Active) is refused in the proposal's own block (block-number clock; with a "
    "timestamp clock, in the proposal's own second); GovernorVotes also reads each weight as "
    "`getPastVotes(account, snapshot)`, which only answers for a past timepoint. `execute` requires Succeeded, "
    "which `state()` reports only once `proposalDeadline() = snapshot + votingPeriod() < clock()`, and "
    "GovernorSettings refuses `votingPeriod() == 0` (GovernorInvalidVotingPeriod). So a decision takes at "
    "least three blocks (proposal at N, votes from N + 1, execution from N + 2 with delay 0 and period 1) and "
    "at least three transactions; the Governor has no batching of its own (its `relay` is onlyGovernance). "
    "Its cheapest flow is the 3-transaction one measured here (the seven castVoteBySig batched by a relayer "
    "contract); the reference of target (b) is its usual 9-transaction flow."
)


@dataclass(frozen=True)
class RunInfo:
    started: dt.datetime
    chain: str
    client: str
    chain_id: int
    gas_limit: int
    solc: str
    project_settings: dict[str, Any]
    peer_sizes: dict[str, int]
    artifact_hashes: dict[str, str]
    seconds: float = 0.0
    chain_seconds: float = 0.0  # compiling the peers and measuring on `chain`, without the cross-check


@dataclass(frozen=True)
class CrossCheck:
    """The same measurements on a second chain client."""

    chain: str
    client: str
    differences: dict[str, int]  # key -> its gas there minus here, for every row measured on both

    def lines(self, results: Results) -> list[str]:
        differing = {key: diff for key, diff in self.differences.items() if diff}
        largest = max((abs(diff) for diff in self.differences.values()), default=0)
        lines = [
            f"Every row was measured again on {self.chain} ({self.client}): {len(self.differences)} rows, "
            f"{len(self.differences) - len(differing)} identical, largest difference {largest:,} gas"
            + (":" if differing else ".")
        ]
        if differing:
            lines += ["", "| Operation | Gas here | Difference there |", "|---|---:|---:|"]
            lines += [
                f"| {results[key].system}: {results[key].operation} | {results[key].gas:,} | {diff:+,} |"
                for key, diff in differing.items()
            ]
            lines += [
                "",
                "Signed operations differ by the bytes of their signatures and deadlines (calldata: 16 "
                "gas per nonzero byte, 4 per zero byte), which change with the key's nonce and the clock.",
            ]
        return lines


def versions() -> dict[str, str]:
    def version(package: str) -> str:
        return json.loads((ROOT / "node_modules" / package / "package.json").read_text())["version"]

    return {
        "EAS": version(EAS_DIR),
        "OpenZeppelin": version(OZ_DIR),
        "Safe": version(SAFE_DIR),
        "DocumentStore": version(DOCUMENT_STORE_DIR),
    }


def markdown(results: Results, info: RunInfo, cross_check: CrossCheck | None) -> str:
    v = versions()
    optimizer = info.project_settings["optimizer"]
    lines = [
        "# Gas benchmark: credential registry and board vs. DocumentStore, EAS, OpenZeppelin Governor and Safe",
        "",
        f"Generated by `bench/gas.py --chain {info.chain}"
        + (f" --cross-check {cross_check.chain}" if cross_check else "")
        + f"` on {info.started:%Y-%m-%d %H:%M} UTC in {info.seconds:.0f} s"
        + (f" ({info.chain} alone: {info.chain_seconds:.0f} s)." if cross_check else "."),
        "",
        f"- Chain: {info.chain} ({info.client}), chain id {info.chain_id}, hardfork {HARDFORK}, "
        f"block gas limit {info.gas_limit:,}; automine, one transaction per block.",
        f"- Compiler: solc {info.solc}, evmVersion {info.project_settings['evmVersion']}, optimizer "
        f"{'on' if optimizer['enabled'] else 'off'} ({optimizer.get('runs')} runs), for all contracts. Ours from "
        "`artifacts/` (built by `scripts/compile.py`: "
        + ", ".join(f"{n}.json sha256 {h[:12]}" for n, h in info.artifact_hashes.items())
        + "); the peers compiled by this script with the same settings.",
        f"- Peers: EAS {v['EAS']} (SchemaRegistry + EAS, schema `{EAS_SCHEMA}`, no resolver, revocable); "
        f"OpenZeppelin {v['OpenZeppelin']} Governor (`bench/contracts/BenchGovernor.sol`: Settings, CountingSimple, "
        f"Votes, VotesQuorumFraction {GOVERNOR_QUORUM_PERCENT}%, no timelock, voting delay {GOVERNOR_VOTING_DELAY} "
        f"block, period {GOVERNOR_VOTING_PERIOD} blocks, proposal threshold {GOVERNOR_PROPOSAL_THRESHOLD}) over seven "
        "one-vote ERC721Votes seats (`bench/contracts/BenchSeats.sol`), self-delegated; "
        "`bench/contracts/BenchBatch.sol` relays its signed ballots in one transaction. Deployed sizes: "
        + ", ".join(f"{n} {s:,} B" for n, s in info.peer_sizes.items())
        + ".",
        f"- Also: OpenAttestation DocumentStore {v['DocumentStore']} (`issue(bytes32)` by its owner; the npm package "
        "ships no Solidity sources, so its own build is deployed: the bytecode of its typechain factory); Safe "
        f"{v['Safe']} (`Safe` singleton + `SafeProxyFactory`, compiled here from the npm sources with the settings "
        f"above: the npm build is unoptimised), a proxy with the seven members as owners, threshold "
        f"{SAFE_THRESHOLD}, governing a fresh CredentialRegistry: one `execTransaction` of `accreditIssuer` with "
        f"{SAFE_THRESHOLD} owners' signatures.",
        "- The service's anchoring transaction is `anchorFor` from the hub's relayer, built by "
        "`service.chain.registry.RegistryClient.anchor_for_tx` (the partner authorised the relayer once, "
        "`setRelayerBySig`, measured apart); `anchor`/`anchorBySig` are the registry's other paths.",
        f"- Board: {BOARD_SIZE} members, rules quorum {BOARD_RULES[0]} bps, majority {BOARD_RULES[1]} bps, "
        f"two-thirds {BOARD_RULES[2]} bps, voting {BOARD_RULES[3] // 86_400} d, "
        f"execution {BOARD_RULES[4] // 86_400} d. "
        "The registry's governor is the board (deployed by `service.chain.deployment.deploy_hub`). Our proposals, "
        "ballots and transactions are built by the service's `BoardClient`.",
        "- Like for like: each decision flow, ours and the Governor's, runs on a fresh deployment of its system and "
        f'accredits the same issuer under the same {len(ISSUER_NAME)}-character name ("{ISSUER_NAME}") in a fresh '
        "CredentialRegistry of the current artifact that the system governs (so the registry's work is the same "
        "on both sides), under the same title/description, with empty reasons and the ballots in the same order. "
        "The reference decision of target (b) is unanimous (7 For), the same on both sides; a 4-3 decision (For, "
        "Against, For, Against, For, Against, For) is measured on both too. Our board records every ballot, also "
        "those cast after its early decision (the fourth For): all seven are counted on both sides.",
        "- Merkle roots from the service's cohort trees (`service.credentials.merkle.CohortTree`, OpenZeppelin "
        "StandardMerkleTree layout); the revocation carries the real proof. EAS attestations carry the digest as "
        "`data` and no recipient (the cheapest form; nothing personal on chain).",
        "- Gas is deterministic except where signatures and deadlines enter calldata: signed operations vary by a "
        "few dozen gas between runs and clients.",
        "",
        "## Figures",
        "",
        *table(results),
        "",
        "## Ratios and targets",
        "",
        "| Ratio | Value | Target | Result |",
        "|---|---:|---|---|",
        *[f"| {r.label} | {fmt_ratio(r.value)} | {r.target} | {verdict(r)} |" for r in ratios(results)],
        "",
    ]
    if "gov.decision.direct" in results and all(key in results for key, _, _ in OUR_DECISIONS):
        reference = results["gov.decision.direct"].gas
        verdicts = [(name, results[key].gas / reference) for key, name, _ in OUR_DECISIONS]
        met = [f"{name} ({value:.3f})" for name, value in verdicts if value <= TARGET_DECISION_RATIO]
        missed = [f"{name} ({value:.3f})" for name, value in verdicts if value > TARGET_DECISION_RATIO]
        lines += [
            f"Target (b): met by {', '.join(met) or 'none of our flows'}; not met by {', '.join(missed) or 'any'}.",
            "",
        ]
    breakdown = decision_breakdown(results)
    if breakdown:
        lines += ["## Where the decision gas goes (target b)", "", *[f"- {line}" for line in breakdown], ""]
    lines += ["## Why the Governor takes at least three transactions", "", GOVERNOR_BLOCKS, ""]
    if cross_check:
        lines += [f"## Cross-check on {cross_check.chain}", "", *cross_check.lines(results), ""]
    if results.notes:
        lines += ["## Notes", "", *[f"- {note}" for note in results.notes], ""]
    return "\n".join(lines)


def print_summary(results: Results, cross_check: CrossCheck | None) -> None:
    print()
    print(f"{'system':<12} {'operation':<78} {'txs':>3} {'gas':>11} {'per credential':>15}")
    for row in ordered(results.rows):
        per = f"{row.per_credential:,.1f}" if row.per_credential is not None else ""
        print(f"{row.system:<12} {row.operation:<78} {row.txs:>3} {row.gas:>11,} {per:>15}")
    print()
    for ratio in ratios(results):
        print(f"{ratio.label}: {fmt_ratio(ratio.value)} (target {ratio.target}) -> {verdict(ratio).strip('*')}")
    for line in decision_breakdown(results):
        print(f"(b) {line}")
    if cross_check:
        for line in cross_check.lines(results):
            print(f"cross-check: {line}" if line else "")
    for note in results.notes:
        print(f"note: {note}")


# ---------------------------------------------------------------- main


def missing_artifacts() -> list[str]:
    return [name for name in ("CredentialRegistry", "HubBoard") if not (ARTIFACTS_DIR / f"{name}.json").exists()]


def run_step(label: str, step: Callable[[], None]) -> None:
    started = time.monotonic()
    print(f"{label} ...", flush=True)
    step()
    print(f"  ({time.monotonic() - started:.1f} s)", flush=True)


def measure(w3: Web3, roles: Roles, compiled: dict[str, dict[str, Any]], missing: list[str], results: Results) -> None:
    """Every measurement of the run, on one chain."""

    def eas() -> None:
        bench_eas(w3, roles, compiled, results)
        bench_eas_prebuilt(w3, roles, results)

    def ours() -> None:
        direct = BoardBench(w3, roles, results).run()  # the direct decision accredited the issuer in its registry
        bench_registry(w3, roles, direct.registry, results)
        bench_service_anchoring(w3, roles, direct.registry, results)
        bench_registry_alone(w3, roles, results)

    def governor() -> None:
        GovernorBench(w3, roles, compiled, results).run()

    run_step("EAS", eas)
    if missing:
        results.notes.append(f"Not measured: no artifact for {', '.join(missing)} (run scripts/compile.py).")
    else:
        run_step("CredentialRegistry + HubBoard", ours)
    if "CredentialRegistry" not in missing:  # the Governor's decision needs a registry to govern
        run_step("OpenZeppelin Governor", governor)
        run_step("Safe 1.4.1", lambda: bench_safe(w3, roles, compiled, results))
    run_step("OpenAttestation DocumentStore", lambda: bench_document_store(w3, roles, results))


def run_on(
    kind: str, roles: Roles, compiled: dict[str, dict[str, Any]], missing: list[str], results: Results
) -> dict[str, Any]:
    """Start a `kind` chain, measure everything on it, stop it; return what the report says of the chain."""
    with tempfile.TemporaryDirectory(prefix="gas-bench-") as logs:
        chain: DevChain = start_chain(kind, log_dir=Path(logs))
        try:
            w3 = chain.w3
            measure(w3, roles, compiled, missing, results)
            return {
                "client": str(w3.client_version),
                "chain_id": int(w3.eth.chain_id),
                "gas_limit": block_gas_limit(w3),
            }
        finally:
            chain.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chain", choices=("anvil", "ganache"), default="anvil")
    parser.add_argument(
        "--cross-check",
        choices=("anvil", "ganache"),
        metavar="CHAIN",
        help="measure everything again on this chain and report the differences",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"Markdown report (default {DEFAULT_OUT.relative_to(ROOT)})"
    )
    args = parser.parse_args(argv)
    started, clock = dt.datetime.now(dt.UTC), time.monotonic()

    compiler = load_project_compile()
    settings = peer_settings(compiler.SETTINGS)
    compiled: dict[str, dict[str, Any]] = {}
    run_step(
        f"compiling EAS + OpenZeppelin Governor peers (solc {compiler.SOLC_VERSION}, {settings['evmVersion']})",
        lambda: compiled.update(compile_peers(compiler, settings)),
    )

    missing = missing_artifacts()
    if missing:
        print(f"warning: no artifact for {', '.join(missing)}: not measuring our contracts", file=sys.stderr)

    results, roles = Results(), Roles.from_dev_accounts()
    chain = run_on(args.chain, roles, compiled, missing, results)
    info = RunInfo(
        started=started,
        chain=args.chain,
        client=chain["client"],
        chain_id=chain["chain_id"],
        gas_limit=chain["gas_limit"],
        solc=compiler.SOLC_VERSION,
        project_settings=compiler.SETTINGS,
        peer_sizes={
            n: compiled[n]["size"]
            for n in ("EAS", "SchemaRegistry", "BenchGovernor", "BenchSeats", "Safe", "SafeProxyFactory")
        },
        artifact_hashes={n: load_artifact(n).sha256 for n in ("CredentialRegistry", "HubBoard") if n not in missing},
    )
    info = replace(info, chain_seconds=time.monotonic() - clock)
    cross_check = None
    if args.cross_check:
        print(f"\ncross-check on {args.cross_check}:")
        there = Results()
        other = run_on(args.cross_check, roles, compiled, missing, there)
        cross_check = CrossCheck(
            args.cross_check,
            other["client"],
            {key: there[key].gas - row.gas for key, row in results.by_key.items() if key in there},
        )

    info = replace(info, seconds=time.monotonic() - clock)
    print_summary(results, cross_check)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(results, info, cross_check), encoding="utf-8")
    print(f"\nwrote {args.out} ({info.seconds:.0f} s)")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
