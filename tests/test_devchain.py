"""Local development chains from npm: they start, answer with the well-known accounts, and persist state."""

from __future__ import annotations

import pytest
from web3 import Web3

from service.chain.devchain import DEV_CHAIN_IDS, DevChain, dev_accounts, is_dev_chain_id, start_chain


def test_chain_answers_with_the_development_accounts(chain: DevChain) -> None:
    w3 = chain.w3
    assert w3.eth.chain_id == DEV_CHAIN_IDS[chain.kind]
    assert is_dev_chain_id(w3.eth.chain_id)
    expected = [account.address for account in dev_accounts()]
    assert w3.eth.accounts[: len(expected)] == expected
    assert w3.eth.get_balance(expected[0]) > Web3.to_wei(1000, "ether")


@pytest.mark.parametrize("kind", ["anvil", "ganache"])
def test_state_survives_a_restart(kind: str, tmp_path) -> None:
    state = tmp_path / ("anvil-state.json" if kind == "anvil" else "ganache-db")
    sender, receiver = dev_accounts(2)
    node = start_chain(kind, state=state, log_dir=tmp_path)
    try:
        tx = node.w3.eth.send_transaction({"from": sender.address, "to": receiver.address, "value": 12345})
        node.w3.eth.wait_for_transaction_receipt(tx)
        balance = node.w3.eth.get_balance(receiver.address)
        block = node.w3.eth.block_number
    finally:
        node.stop()
    again = start_chain(kind, state=state, log_dir=tmp_path)
    try:
        assert again.w3.eth.get_balance(receiver.address) == balance
        assert again.w3.eth.block_number >= block
        assert again.w3.eth.get_transaction(tx)["value"] == 12345
    finally:
        again.stop()


@pytest.mark.parametrize("kind", ["anvil", "ganache"])
def test_chain_script_starts_waits_and_stops_cleanly(kind: str, tmp_path) -> None:
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from service.chain.devchain import free_port, wait_until_answers

    root = Path(__file__).resolve().parent.parent
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "scripts/chain.py", kind, "--port", str(port), "--fresh"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first_line = process.stdout.readline()  # printed only once the node answers
        assert f"answers at http://127.0.0.1:{port}" in first_line
        assert wait_until_answers(f"http://127.0.0.1:{port}", timeout=5) == DEV_CHAIN_IDS[kind]
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert f"{kind} stopped" in out
