"""The keys the service signs with: the relayer that pays gas, and the issuers' and members' own keys.

On a local development chain the well-known development accounts serve (and only there: they are
public). Elsewhere, the relayer key comes from settings and the principals' keys from encrypted
eth-account keystores, <keystore_dir>/<address>.json, unlocked with the configured password.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from service.chain.devchain import dev_accounts, is_dev_chain_id
from service.errors import Forbidden

DEV_ADDRESSES = frozenset(account.address for account in dev_accounts())


class KeyConfigurationError(RuntimeError):
    """The configured keys cannot be used on this chain; the message says why."""


def refuse_dev_key(account: LocalAccount, chain_id: int, what: str) -> None:
    if account.address in DEV_ADDRESSES and not is_dev_chain_id(chain_id):
        raise KeyConfigurationError(
            f"{what} {account.address} is a well-known development key: refused on chain {chain_id}, "
            "which is not a local development chain")


class Signers:
    """Finds the signing key of an issuer or member address."""

    def __init__(self, chain_id: int, keystore_dir: Path | None = None, password: str | None = None) -> None:
        self.chain_id = chain_id
        self.keystore_dir = keystore_dir
        self._password = password
        self._cache: dict[str, LocalAccount] = {}
        self._lock = threading.Lock()
        if is_dev_chain_id(chain_id):
            self._cache.update({account.address: account for account in dev_accounts()})

    def for_address(self, address: str) -> LocalAccount:
        """The key of `address`.

        :raises Forbidden: the service holds no key for it (the principal must sign client-side).
        """
        address = to_checksum_address(address)
        with self._lock:
            if address in self._cache:
                return self._cache[address]
            account = self._load(address)
            refuse_dev_key(account, self.chain_id, "the keystore key of")
            self._cache[address] = account
            return account

    def _load(self, address: str) -> LocalAccount:
        if self.keystore_dir is None:
            raise Forbidden(f"the service holds no key for {address}: sign the request client-side")
        path = Path(self.keystore_dir) / f"{address}.json"
        if not path.exists():
            path = Path(self.keystore_dir) / f"{address.lower()}.json"
        if not path.exists():
            raise Forbidden(f"the service holds no key for {address} (no keystore for it): an operator must add "
                            "its keystore, or sign the request client-side")
        if self._password is None:
            raise KeyConfigurationError("HUB_KEYSTORE_PASSWORD is not set")
        try:
            key = Account.decrypt(json.loads(path.read_text()), self._password)
        except ValueError as exc:  # eth-keyfile says "MAC mismatch" for a wrong password
            raise KeyConfigurationError(
                f"cannot unlock the keystore {path}: is HUB_KEYSTORE_PASSWORD right? ({exc})") from exc
        return Account.from_key(key)


def relayer_account(private_key: str | None, chain_id: int) -> LocalAccount:
    """The gas-paying account: from settings, or the first development account on a development chain."""
    if private_key:
        account = Account.from_key(private_key)
    elif is_dev_chain_id(chain_id):
        account = dev_accounts()[0]
    else:
        raise KeyConfigurationError(f"chain {chain_id} is not a local development chain: set HUB_RELAYER_PRIVATE_KEY")
    refuse_dev_key(account, chain_id, "the relayer key")
    return account
