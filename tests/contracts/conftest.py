"""Accounts the board and registry contract tests share."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount


@pytest.fixture(scope="session")
def newcomer(accounts: list[LocalAccount]) -> LocalAccount:
    """An organisation with no role in the deployed state: not on the board, never accredited."""
    return accounts[11]


@pytest.fixture(scope="session")
def wallet_owner(accounts: list[LocalAccount]) -> LocalAccount:
    """The key behind an ERC-1271 contract wallet."""
    return accounts[12]
