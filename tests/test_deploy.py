"""scripts/deploy.py and service.chain.deployment: deploy, wire the board as governor, reuse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from service.chain.artifacts import load_artifact
from service.chain.deployment import Deployment, ensure_deployed
from service.chain.devchain import DEV_MNEMONIC, DevChain
from service.chain.keys import WellKnownAccount, well_known_account
from service.demo import dev_board
from tests.public_chain import GANACHE_DETERMINISTIC, PublicLikeChain, public_like_chain

ROOT = Path(__file__).resolve().parent.parent


def _contract(w3: Web3, name: str, address: str):
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=load_artifact(name).abi)


def test_deploy_wires_the_board_as_the_registrys_only_governor(w3: Web3, deployer: LocalAccount, tmp_path) -> None:
    deployment, fresh = ensure_deployed(w3, deployer, dev_board(), directory=tmp_path)
    assert fresh
    registry = _contract(w3, "CredentialRegistry", deployment.registry.address)
    board = _contract(w3, "HubBoard", deployment.board.address)
    assert registry.functions.governor().call() == board.address
    assert board.functions.registry().call() == registry.address
    assert [(m[0], m[1]) for m in board.functions.members().call()] == dev_board()
    recorded = json.loads((tmp_path / f"{w3.eth.chain_id}.json").read_text())
    assert recorded["registry"]["address"] == registry.address
    assert recorded["board"]["artifact_sha256"] == load_artifact("HubBoard").sha256


def test_deploy_again_reuses_the_live_deployment(w3: Web3, deployer: LocalAccount, tmp_path) -> None:
    first, _ = ensure_deployed(w3, deployer, dev_board(), directory=tmp_path)
    again, fresh = ensure_deployed(w3, deployer, dev_board(), directory=tmp_path)
    assert not fresh
    assert again == first


def test_deploy_replaces_a_record_whose_contracts_are_gone(w3: Web3, deployer: LocalAccount, tmp_path) -> None:
    first, _ = ensure_deployed(w3, deployer, dev_board(), directory=tmp_path)
    stale = Deployment.from_json(first.to_json().replace(first.registry.address, "0x" + "11" * 20))
    (tmp_path / f"{w3.eth.chain_id}.json").write_text(stale.to_json())
    second, fresh = ensure_deployed(w3, deployer, dev_board(), directory=tmp_path)
    assert fresh and second.registry.address != first.registry.address


def test_deploy_script_writes_the_deployment_file(chain: DevChain, tmp_path) -> None:
    run = [sys.executable, "scripts/deploy.py", "--rpc", chain.url, "--out", str(tmp_path)]
    first = subprocess.run(run, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("deployed on chain")
    second = subprocess.run(run, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert second.stdout.startswith("reused on chain")
    assert (tmp_path / f"{chain.chain_id}.json").exists()


def test_deploy_script_refuses_an_unreachable_node(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "scripts/deploy.py", "--rpc", "http://127.0.0.1:9", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "no JSON-RPC node answers at http://127.0.0.1:9" in result.stderr


def test_deploy_script_refuses_a_bad_member_argument(chain: DevChain, tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "scripts/deploy.py", "--rpc", chain.url, "--member", "TVM"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "expected ADDRESS=NAME" in result.stderr


# ---------------------------------------------------------------- published keys on a chain that is not for development


@pytest.fixture(scope="module")
def sepolia_like(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublicLikeChain]:
    """anvil with the default mnemonic and 30 funded accounts, saying it is chain 11155111."""
    with public_like_chain("anvil", tmp_path_factory.mktemp("anvil-sepolia")) as node:
        yield node


def _deploy(node: PublicLikeChain, out: Path, key: str, *members: str) -> subprocess.CompletedProcess[str]:
    arguments = [argument for member in members for argument in ("--member", member)]
    return subprocess.run(
        [sys.executable, "scripts/deploy.py", "--rpc", node.url, "--out", str(out), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DEPLOYER_PRIVATE_KEY": key},
    )


def _own_board() -> list[str]:
    return [f"{Account.create().address}=Partner {number}" for number in range(6)]


@pytest.mark.parametrize(
    ("mnemonic", "index", "source"),
    [
        (DEV_MNEMONIC, 0, "anvil's and hardhat's default mnemonic"),
        (DEV_MNEMONIC, 20, "anvil's and hardhat's default mnemonic"),  # funded: anvil runs with 30 accounts
        (GANACHE_DETERMINISTIC, 0, "ganache's --deterministic mnemonic"),
    ],
)
def test_deploy_script_refuses_a_published_deployer_key_on_a_real_chain(
    sepolia_like: PublicLikeChain, tmp_path: Path, mnemonic: str, index: int, source: str
) -> None:
    published = Account.from_mnemonic(mnemonic, account_path=f"m/44'/60'/0'/0/{index}")
    sepolia_like.fund(published)
    result = _deploy(sepolia_like, tmp_path, published.key.hex(), *_own_board())
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith(
        f"refused: the deployer key (DEPLOYER_PRIVATE_KEY): {published.address} is a "
        f"well-known development account, account {index} "
    )
    assert source in result.stderr and "Refused on chain 11155111" in result.stderr
    assert published.key.hex().removeprefix("0x") not in result.stdout + result.stderr
    assert sepolia_like.w3.eth.get_transaction_count(published.address) == 0  # nothing was sent
    assert list(tmp_path.iterdir()) == []


def test_deploy_script_refuses_a_published_board_member_on_a_real_chain(
    sepolia_like: PublicLikeChain, tmp_path: Path
) -> None:
    own = sepolia_like.fund()
    member = Account.from_mnemonic(DEV_MNEMONIC, account_path="m/44'/60'/0'/0/3").address
    result = _deploy(sepolia_like, tmp_path, own.key.hex(), *_own_board()[:5], f"{member}=TVM verzekeringen")
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"refused: board member TVM verzekeringen: {member} is a well-known development account, account 3 "
    )
    assert sepolia_like.w3.eth.get_transaction_count(own.address) == 0


def test_deploy_script_deploys_with_keys_of_its_own_on_a_real_chain(
    sepolia_like: PublicLikeChain, tmp_path: Path
) -> None:
    own = sepolia_like.fund()
    result = _deploy(sepolia_like, tmp_path, own.key.hex(), *_own_board())
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("deployed on chain 11155111")
    assert (tmp_path / "11155111.json").exists()


def test_deploy_script_says_a_bad_deployer_key_is_not_a_key(sepolia_like: PublicLikeChain, tmp_path: Path) -> None:
    result = _deploy(sepolia_like, tmp_path, "0x1234-secret-ish", *_own_board())
    assert result.returncode == 1
    assert result.stderr == "refused: DEPLOYER_PRIVATE_KEY is not a private key (32 bytes in hex)\n"


def test_ganache_deterministic_accounts_are_all_refused_there(tmp_path: Path) -> None:
    """ganache --wallet.deterministic's own list (not ours) on chain 11155111: every account it hands out is
    refused, and its funded account 0 cannot deploy."""
    with public_like_chain("ganache", tmp_path / "logs", accounts=12) as node:
        handed_out = node.w3.eth.accounts
        assert len(handed_out) == 12
        for index, address in enumerate(handed_out):
            assert well_known_account(address) == WellKnownAccount(
                Web3.to_checksum_address(address), "ganache's --deterministic mnemonic", index
            )
        first = Account.from_mnemonic(GANACHE_DETERMINISTIC, account_path="m/44'/60'/0'/0/0")
        assert node.w3.eth.get_balance(first.address) > 0
        result = _deploy(node, tmp_path / "out", first.key.hex(), *_own_board())
        assert result.returncode == 1 and "ganache's --deterministic mnemonic" in result.stderr
        assert node.w3.eth.get_transaction_count(first.address) == 0
