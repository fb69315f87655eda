"""The transaction sender: concurrent sends from one account, nonce recovery, decoded refusals."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from service.chain.sender import TransactionSender
from service.errors import ChainRejected
from tests.chain import rpc


@pytest.fixture
def sender(w3: Web3, accounts: list[LocalAccount], isolate: None) -> TransactionSender:
    return TransactionSender(w3, accounts[17])


def test_concurrent_sends_from_one_account_all_land_in_nonce_order(w3: Web3, sender: TransactionSender,
                                                                    outsider: LocalAccount) -> None:
    start = w3.eth.get_transaction_count(sender.address)
    before = w3.eth.get_balance(outsider.address)
    with ThreadPoolExecutor(max_workers=16) as pool:
        receipts = list(pool.map(lambda i: sender.send({"to": outsider.address, "value": 1 + i}), range(40)))
    assert all(r["status"] == 1 for r in receipts)
    nonces = sorted(w3.eth.get_transaction(r["transactionHash"])["nonce"] for r in receipts)
    assert nonces == list(range(start, start + 40))
    assert w3.eth.get_balance(outsider.address) - before == sum(1 + i for i in range(40))


def test_sender_recovers_when_another_client_used_the_nonce(w3: Web3, sender: TransactionSender,
                                                            outsider: LocalAccount) -> None:
    sender.send({"to": outsider.address, "value": 1})  # the local counter is now seeded
    # someone else sends from the same account behind the sender's back
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": sender.address, "to": outsider.address, "value": 1}))
    receipt = sender.send({"to": outsider.address, "value": 2})
    assert receipt["status"] == 1


def test_refused_call_raises_the_decoded_custom_error_and_uses_no_nonce(w3: Web3, accounts: list[LocalAccount],
                                                                        isolate: None) -> None:
    from service.chain.artifacts import load_artifact
    from service.chain.deployment import deploy_contract

    registry = deploy_contract(w3, "CredentialRegistry", accounts[0].address, account=accounts[0])
    sender = TransactionSender(w3, accounts[17], error_abis=load_artifact("CredentialRegistry").error_abis())
    nonce = w3.eth.get_transaction_count(sender.address)
    call = registry.functions.anchor(b"\x01" * 32, 1, b"\x00" * 32).build_transaction(
        {"from": sender.address, "gas": 100_000})
    del call["gas"]
    with pytest.raises(ChainRejected) as info:
        sender.send({"to": call["to"], "data": call["data"]})
    assert info.value.revert.name == "RegistryIssuerNotAccredited"
    assert info.value.status == 403
    assert w3.eth.get_transaction_count(sender.address) == nonce
    assert sender.send({"to": accounts[19].address, "value": 1})["status"] == 1


def test_sender_waits_for_confirmations(w3: Web3, accounts: list[LocalAccount], isolate: None) -> None:
    import threading

    sender = TransactionSender(w3, accounts[17], confirmations=2)
    stop = threading.Event()

    def mine() -> None:
        while not stop.wait(0.2):
            rpc(w3, "evm_mine")

    miner = threading.Thread(target=mine, daemon=True)
    miner.start()
    try:
        receipt = sender.send({"to": accounts[19].address, "value": 1})
    finally:
        stop.set()
        miner.join()
    assert w3.eth.block_number >= receipt["blockNumber"] + 2
