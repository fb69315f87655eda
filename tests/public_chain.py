"""A node that says it is a public chain: anvil or ganache started with chain id 11155111 (Sepolia's).

The service treats a chain as a development chain by its id alone (service.chain.devchain.is_dev_chain_id:
anvil 31337, ganache 1337), so such a node shows what the hub does on a real network with the development
tools' published keys, while it still mines instantly. `fund` gives an account of the test's own ether.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from service.chain.devchain import DEV_MNEMONIC, HARDFORK, _binary, free_port, wait_until_answers

SEPOLIA = 11155111
GANACHE_DETERMINISTIC = "myth like bonus scare over problem client lizard pioneer submit female collect"


@dataclass
class PublicLikeChain:
    url: str
    process: subprocess.Popen[bytes]

    @property
    def w3(self) -> Web3:
        return Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 60}))

    def fund(self, account: LocalAccount | None = None) -> LocalAccount:
        """`account` (default: a new one) with 100 ether (anvil_setBalance / evm_setAccountBalance)."""
        account = account or Account.create()
        method = "anvil_setBalance" if "anvil" in self.process.args[0] else "evm_setAccountBalance"  # type: ignore[index]
        response = self.w3.provider.make_request(method, [account.address, hex(100 * 10**18)])  # type: ignore[arg-type]
        assert "error" not in response, response
        return account


@contextmanager
def public_like_chain(
    kind: str, log_dir: Path, *, accounts: int = 30, chain_id: int = SEPOLIA
) -> Iterator[PublicLikeChain]:
    """anvil with the default mnemonic and `accounts` funded accounts (so its account 20+ exist), or ganache
    with `--wallet.deterministic` (its published list), on chain `chain_id`."""
    port = free_port()
    if kind == "anvil":
        cmd = [
            _binary("anvil"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--hardfork",
            HARDFORK,
            "--mnemonic",
            DEV_MNEMONIC,
            "--accounts",
            str(accounts),
            "--chain-id",
            str(chain_id),
            "--silent",
        ]
    else:
        cmd = [
            _binary("ganache"),
            "--server.host",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--chain.hardfork",
            HARDFORK,
            "--chain.chainId",
            str(chain_id),
            "--wallet.deterministic",
            "--wallet.totalAccounts",
            str(accounts),
            "--miner.blockGasLimit",
            "30000000",
            "--logging.quiet",
        ]
    log_dir.mkdir(parents=True, exist_ok=True)
    with (log_dir / f"{kind}-{chain_id}-{port}.log").open("wb") as log:
        process = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env={**os.environ, "NO_COLOR": "1"}
        )
    try:
        assert wait_until_answers(f"http://127.0.0.1:{port}", 60, process) == chain_id
        yield PublicLikeChain(f"http://127.0.0.1:{port}", process)
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
