"""scripts/deploy.py and service.chain.deployment: deploy, wire the board as governor, reuse."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from eth_account.signers.local import LocalAccount
from web3 import Web3

from service.chain.artifacts import load_artifact
from service.chain.deployment import Deployment, ensure_deployed
from service.chain.devchain import DevChain
from service.demo import dev_board

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
    result = subprocess.run([sys.executable, "scripts/deploy.py", "--rpc", "http://127.0.0.1:9",
                             "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "no JSON-RPC node answers at http://127.0.0.1:9" in result.stderr


def test_deploy_script_refuses_a_bad_member_argument(chain: DevChain, tmp_path) -> None:
    result = subprocess.run([sys.executable, "scripts/deploy.py", "--rpc", chain.url, "--member", "TVM"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "expected ADDRESS=NAME" in result.stderr
