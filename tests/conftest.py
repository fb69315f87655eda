"""Shared fixtures: a real local chain per backend (anvil and ganache), accounts by role, isolation.

Every test that takes `chain` (or a fixture built on it) runs once on each backend in CHAINS
(default "anvil,ganache"). Contract tests take `isolate` to start from the same deployed state:
an evm_snapshot before the test and an evm_revert after it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from service.chain.devchain import DevChain, dev_accounts, start_chain
from tests.chain import revert_to, snapshot
from tests.postgres import postgres  # noqa: F401 - the shared PostgreSQL cluster fixture (tests/postgres.py)

CHAIN_KINDS = [kind.strip() for kind in os.environ.get("CHAINS", "anvil,ganache").split(",") if kind.strip()]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked anvil_only(reason) runs on anvil alone: its ganache variant is deselected (and counted as
    such), not skipped, since it needs a control ganache 7 does not have (the reason says which)."""
    ganache_only_variants = [
        item
        for item in items
        if item.get_closest_marker("anvil_only") is not None
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("chain") == "ganache"
    ]
    if ganache_only_variants:
        config.hook.pytest_deselected(items=ganache_only_variants)
        items[:] = [item for item in items if item not in ganache_only_variants]


@pytest.fixture(scope="session", params=CHAIN_KINDS)
def chain(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevChain]:
    node = start_chain(request.param, log_dir=tmp_path_factory.mktemp(f"{request.param}-logs"))
    yield node
    node.stop()


@pytest.fixture(scope="session")
def w3(chain: DevChain) -> Web3:
    return chain.w3


@pytest.fixture
def isolate(w3: Web3) -> Iterator[None]:
    snapshot_id = snapshot(w3)
    yield
    revert_to(w3, snapshot_id)


@pytest.fixture(scope="session")
def accounts() -> list[LocalAccount]:
    """The well-known development accounts; roles below are fixed slices of them."""
    return dev_accounts()


@pytest.fixture(scope="session")
def deployer(accounts: list[LocalAccount]) -> LocalAccount:
    return accounts[0]


@pytest.fixture(scope="session")
def issuer(accounts: list[LocalAccount]) -> LocalAccount:
    return accounts[1]


@pytest.fixture(scope="session")
def other_issuer(accounts: list[LocalAccount]) -> LocalAccount:
    return accounts[2]


@pytest.fixture(scope="session")
def board_members(accounts: list[LocalAccount]) -> list[LocalAccount]:
    """Seven member organisations of the initial board."""
    return accounts[3:10]


@pytest.fixture(scope="session")
def outsider(accounts: list[LocalAccount]) -> LocalAccount:
    return accounts[19]


@pytest.fixture(scope="session")
def relayer(accounts: list[LocalAccount]) -> LocalAccount:
    return accounts[18]
