"""Local development chains from npm: anvil (@foundry-rs/anvil) and ganache 7.9.2.

Both are started with the same well-known development mnemonic, so the same accounts exist on each,
and on the shanghai fork, so what runs on one runs on the other. These keys are public: the service
refuses them on any chain that is not one of these local development chains.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = ROOT / "node_modules" / ".bin"

# The mnemonic anvil uses by default (and hardhat): its keys are published, never use them for value.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ACCOUNT_COUNT = 20
DEV_CHAIN_IDS = {"anvil": 31337, "ganache": 1337}
HARDFORK = "shanghai"

Account.enable_unaudited_hdwallet_features()


def dev_accounts(count: int = DEV_ACCOUNT_COUNT) -> list[LocalAccount]:
    """The well-known development accounts m/44'/60'/0'/0/i of DEV_MNEMONIC."""
    return list(_derive_dev_accounts(count))


@cache
def _derive_dev_accounts(count: int) -> tuple[LocalAccount, ...]:
    # HD derivation costs ~20 ms a key: derive once per process
    return tuple(Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}") for i in range(count))


def is_dev_chain_id(chain_id: int) -> bool:
    return chain_id in DEV_CHAIN_IDS.values()


class ChainStartError(RuntimeError):
    """The node did not start or did not answer in time; the message holds its output."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _binary(name: str) -> str:
    path = NODE_BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if not found:
        raise ChainStartError(f"{name} is not installed: run `npm ci` in {ROOT}")
    return found


def node_command(kind: str, port: int, state: Path | None) -> list[str]:
    """The command line that starts a `kind` node on 127.0.0.1:`port`, persisting to `state` if given."""
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
            str(DEV_ACCOUNT_COUNT),
            "--chain-id",
            str(DEV_CHAIN_IDS["anvil"]),
            "--silent",
        ]
        if state is not None:
            state.parent.mkdir(parents=True, exist_ok=True)
            cmd += ["--state", str(state), "--state-interval", "1"]
        return cmd
    if kind == "ganache":
        cmd = [
            _binary("ganache"),
            "--server.host",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--chain.hardfork",
            HARDFORK,
            "--chain.chainId",
            str(DEV_CHAIN_IDS["ganache"]),
            "--wallet.mnemonic",
            DEV_MNEMONIC,
            "--wallet.totalAccounts",
            str(DEV_ACCOUNT_COUNT),
            "--wallet.defaultBalance",
            "10000",
            "--miner.blockGasLimit",
            "30000000",
            "--logging.quiet",
        ]
        if state is not None:
            state.mkdir(parents=True, exist_ok=True)
            cmd += ["--database.dbPath", str(state)]
        return cmd
    raise ValueError(f"unknown chain kind {kind!r}: choose anvil or ganache")


@dataclass
class DevChain:
    """A running local node; stop() ends it (anvil writes its state file on the way out)."""

    kind: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    state: Path | None = None
    _w3: Web3 | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def chain_id(self) -> int:
        return DEV_CHAIN_IDS[self.kind]

    @property
    def w3(self) -> Web3:
        if self._w3 is None:
            self._w3 = Web3(Web3.HTTPProvider(self.url, request_kwargs={"timeout": 60}))
        return self._w3

    def stop(self, timeout: float = 20) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # SIGTERM: anvil dumps --state, ganache closes its database
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def wait_until_answers(url: str, timeout: float = 60, process: subprocess.Popen[bytes] | None = None) -> int:
    """Poll eth_chainId at `url` until it answers; return the chain id."""
    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 2}))
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise ChainStartError(f"the node at {url} exited with code {process.returncode}")
        try:
            return int(w3.eth.chain_id)
        except Exception as exc:  # noqa: BLE001 - any failure means "not yet"
            if time.monotonic() > deadline:
                raise ChainStartError(f"no answer from {url} after {timeout:.0f} s: {exc}") from exc
            time.sleep(0.2)


def start_chain(
    kind: str, *, port: int | None = None, state: Path | None = None, log_dir: Path | None = None, timeout: float = 60
) -> DevChain:
    """Start a local `kind` node (anvil or ganache) and wait until it answers JSON-RPC."""
    port = port or free_port()
    log_dir = log_dir or ROOT / "data" / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{kind}-{port}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        node_command(kind, port, state),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "NO_COLOR": "1"},
    )
    chain = DevChain(kind=kind, port=port, process=process, log_path=log_path, state=state)
    try:
        chain_id = wait_until_answers(chain.url, timeout, process)
    except ChainStartError as exc:
        chain.stop()
        raise ChainStartError(f"{exc}\n--- {log_path} ---\n{log_path.read_text(errors='replace')[-2000:]}") from exc
    if chain_id != chain.chain_id:
        chain.stop()
        raise ChainStartError(f"{kind} answered chain id {chain_id}, expected {chain.chain_id}")
    return chain
