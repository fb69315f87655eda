"""Deploy the hub's contracts from the committed artifacts and record where they are.

The registry's governor is immutable and must be the board, and the board needs the registry's
address: the registry is deployed first with the board's address predicted from the deployer's
next nonce (CREATE addresses depend only on sender and nonce), and the wiring is checked afterwards.

A deployment is written to deployments/<chainId>.json and reused when the same artifacts are
already deployed there, so running the deploy again changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.types import Nonce, TxReceipt
from web3.utils.address import get_create_address

from service.chain.artifacts import load_artifact
from service.chain.transactions import send

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENTS_DIR = ROOT / "deployments"

# Rules(quorumBps, majorityBps, supermajorityBps, votingPeriod, executionPeriod): half the board must
# take part; simple majority for resolutions and issuer decisions; two-thirds for membership and rules;
# a week to vote and a week to execute.
DEFAULT_RULES = (5000, 5000, 6666, 7 * 24 * 3600, 7 * 24 * 3600)


class DeploymentError(RuntimeError):
    """The contracts could not be deployed or wired as expected."""


def deploy_contract(w3: Web3, name: str, *args: Any, account: LocalAccount) -> Contract:
    """Deploy the artifact `name` with constructor `args`, signed by `account`; return the bound contract."""
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx = factory.constructor(*args).build_transaction({"from": account.address})
    del tx["gas"]  # let send() add its margin to the estimate
    receipt = send(w3, tx, account)
    return w3.eth.contract(address=_created_address(receipt), abi=artifact.abi)


def _created_address(receipt: TxReceipt) -> ChecksumAddress:
    address = receipt["contractAddress"]
    if address is None:
        raise DeploymentError(f"transaction {receipt['transactionHash'].to_0x_hex()} created no contract")
    return address


@dataclass(frozen=True)
class DeployedContract:
    address: str
    block: int
    artifact_sha256: str


@dataclass(frozen=True)
class Deployment:
    """Where the hub's contracts live on one chain (the content of deployments/<chainId>.json)."""

    chain_id: int
    registry: DeployedContract
    board: DeployedContract
    deployer: str
    deployed_at: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Deployment:
        data = json.loads(text)
        return cls(
            chain_id=int(data["chain_id"]),
            registry=DeployedContract(**data["registry"]),
            board=DeployedContract(**data["board"]),
            deployer=data["deployer"],
            deployed_at=data["deployed_at"],
        )

    @classmethod
    def load(cls, path: Path) -> Deployment:
        return cls.from_json(path.read_text(encoding="utf-8"))


def deployment_path(chain_id: int, directory: Path = DEPLOYMENTS_DIR) -> Path:
    return directory / f"{chain_id}.json"


def is_current(w3: Web3, deployment: Deployment) -> bool:
    """Whether `deployment` is live on `w3`'s chain and was built from the committed artifacts."""
    if deployment.chain_id != w3.eth.chain_id:
        return False
    for name, deployed in (("CredentialRegistry", deployment.registry), ("HubBoard", deployment.board)):
        if deployed.artifact_sha256 != load_artifact(name).sha256:
            return False
        if not w3.eth.get_code(to_checksum_address(deployed.address)):
            return False  # e.g. a development chain restarted without its state
    return True


def deploy_hub(
    w3: Web3,
    deployer: LocalAccount,
    members: list[tuple[str, str]],
    rules: tuple[int, int, int, int, int] = DEFAULT_RULES,
) -> Deployment:
    """Deploy CredentialRegistry and HubBoard with `members` [(address, name)] and wire them.

    :raises DeploymentError: when the board does not land at the predicted address.
    """
    nonce = w3.eth.get_transaction_count(deployer.address, "pending")
    predicted_board = get_create_address(deployer.address, Nonce(nonce + 1))
    registry = _deploy_at(w3, "CredentialRegistry", [predicted_board], deployer, nonce)
    board = _deploy_at(
        w3,
        "HubBoard",
        [registry.address, [(to_checksum_address(a), n) for a, n in members], rules],
        deployer,
        nonce + 1,
    )
    if board.address != predicted_board:
        raise DeploymentError(f"board deployed at {board.address}, registry expects {predicted_board}")
    governor = w3.eth.contract(
        address=Web3.to_checksum_address(registry.address), abi=load_artifact("CredentialRegistry").abi
    )
    if governor.functions.governor().call() != board.address:
        raise DeploymentError("the registry's governor is not the board")
    return Deployment(
        chain_id=w3.eth.chain_id,
        registry=registry,
        board=board,
        deployer=deployer.address,
        deployed_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def _deploy_at(w3: Web3, name: str, args: list[Any], account: LocalAccount, nonce: int) -> DeployedContract:
    artifact = load_artifact(name)
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx = factory.constructor(*args).build_transaction({"from": account.address, "nonce": nonce})
    del tx["gas"]  # let send() add its margin to the estimate
    receipt = send(w3, tx, account)
    return DeployedContract(
        address=_created_address(receipt), block=receipt["blockNumber"], artifact_sha256=artifact.sha256
    )


def ensure_deployed(
    w3: Web3,
    deployer: LocalAccount,
    members: list[tuple[str, str]],
    rules: tuple[int, int, int, int, int] = DEFAULT_RULES,
    directory: Path = DEPLOYMENTS_DIR,
) -> tuple[Deployment, bool]:
    """Reuse deployments/<chainId>.json when it is live and current, else deploy and write it.

    :returns: the deployment and whether it was newly deployed.
    """
    path = deployment_path(w3.eth.chain_id, directory)
    if path.exists():
        existing = Deployment.load(path)
        if is_current(w3, existing):
            return existing, False
    deployment = deploy_hub(w3, deployer, members, rules)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(deployment.to_json(), encoding="utf-8")
    return deployment, True
