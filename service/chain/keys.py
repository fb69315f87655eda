"""The keys the service signs with: the relayer that pays gas, and the issuers' and members' own keys.

On a local development chain the well-known development accounts serve (and only there: they are
public). Elsewhere, the relayer key comes from settings and the principals' keys from encrypted
eth-account keystores, <keystore_dir>/<address>.json, unlocked with the configured password.

"Well-known" means derived from a mnemonic that development tools publish (anvil's and hardhat's, ganache's
`--deterministic`, truffle develop's) at any of the first WELL_KNOWN_INDEXES indexes of m/44'/60'/0'/0/i:
whoever reads those tools' documentation holds these keys. Wherever a key or a signing address enters (the
deploy script, the relayer key, keystores, the CLI), `refuse_well_known` turns it away on any chain that is not
a local development chain (anvil 31337, ganache 1337).
"""

from __future__ import annotations

import contextlib
import json
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from eth_account import Account
from eth_account.hdaccount import seed_from_mnemonic
from eth_account.hdaccount.deterministic import SECP256K1_N, HDPath, derive_child_key, hmac_sha512
from eth_account.signers.local import LocalAccount
from eth_keys import keys as eth_keys
from eth_utils import is_address, keccak, to_checksum_address

from service.chain.devchain import DEV_CHAIN_IDS, DEV_MNEMONIC, dev_accounts, is_dev_chain_id
from service.errors import Forbidden

# Mnemonics published by development tools, with who publishes them (never a key of value).
WELL_KNOWN_MNEMONICS: tuple[tuple[str, str], ...] = (
    ("anvil's and hardhat's default mnemonic", DEV_MNEMONIC),
    (
        "ganache's --deterministic mnemonic",
        "myth like bonus scare over problem client lizard pioneer submit female collect",
    ),
    ("truffle develop's mnemonic", "candy maple cake sugar pudding cream honey rich smooth crumble sweet treat"),
)
WELL_KNOWN_INDEXES = 1000  # m/44'/60'/0'/0/0 .. /999 of each: far more than any tool hands out by default
WELL_KNOWN_PATH = "m/44'/60'/0'/0"


@dataclass(frozen=True)
class WellKnownAccount:
    """An address whose private key development tools publish."""

    address: str
    source: str  # e.g. "ganache's --deterministic mnemonic"
    index: int

    def describe(self) -> str:
        return f"account {self.index} ({WELL_KNOWN_PATH}/{self.index}) of {self.source}"


def derive_addresses(mnemonic: str, count: int) -> list[str]:
    """The addresses m/44'/60'/0'/0/0 .. count-1 of `mnemonic` (BIP-32/BIP-44).

    The seed and the parent node are derived once; each child is one HMAC and one point multiplication
    (about 0.1 ms), where eth-account's Account.from_mnemonic takes ~20 ms a key (the seed every time)."""
    main = hmac_sha512(b"Bitcoin seed", seed_from_mnemonic(mnemonic, ""))
    key, chain_code = main[:32], main[32:]
    for node in HDPath(WELL_KNOWN_PATH)._path:
        key, chain_code = derive_child_key(key, chain_code, node)
    parent_point = eth_keys.PrivateKey(key).public_key.to_compressed_bytes()
    parent = int.from_bytes(key, "big")
    addresses: list[str] = []
    for index in range(count):
        child = hmac_sha512(chain_code, parent_point + index.to_bytes(4, "big"))
        tweak = int.from_bytes(child[:32], "big")
        child_key = (tweak + parent) % SECP256K1_N
        if tweak >= SECP256K1_N or child_key == 0:  # BIP-32: invalid (p < 2^-127); the general path handles it
            child_key = int.from_bytes(derive_child_key(key, chain_code, HDPath(f"m/{index}")._path[0])[0], "big")
        public = eth_keys.PrivateKey(child_key.to_bytes(32, "big")).public_key.to_bytes()
        addresses.append(to_checksum_address(keccak(public)[-20:]))
    return addresses


@cache
def _well_known() -> dict[str, WellKnownAccount]:
    # ~0.4 s for the three mnemonics, once per process, and only when a key meets a chain that is not a
    # development chain
    found: dict[str, WellKnownAccount] = {}
    for source, mnemonic in WELL_KNOWN_MNEMONICS:
        for index, address in enumerate(derive_addresses(mnemonic, WELL_KNOWN_INDEXES)):
            found.setdefault(address, WellKnownAccount(address, source, index))
    return found


def well_known_account(address: str) -> WellKnownAccount | None:
    """What publishes the key of `address`, or None for an address that is not a well-known development account."""
    return _well_known().get(to_checksum_address(address))


class KeyConfigurationError(RuntimeError):
    """The configured keys cannot be used on this chain; the message says why."""


def refuse_well_known(address: str, chain_id: int, what: str) -> None:
    """Refuse `address` (a key's, or one that will sign) for `what` when its private key is published and the
    chain is not a local development chain. The message names the account, never a key.

    :raises KeyConfigurationError: a well-known development account on such a chain."""
    if is_dev_chain_id(chain_id):
        return
    known = well_known_account(address)
    if known is not None:
        dev_chains = ", ".join(f"{kind} {number}" for kind, number in DEV_CHAIN_IDS.items())
        raise KeyConfigurationError(
            f"{what}: {known.address} is a well-known development account, {known.describe()}, whose private "
            f"key is published (anyone can sign with it). Refused on chain {chain_id}, which is not a local "
            f"development chain ({dev_chains}): use a key of your own"
        )


def refuse_dev_key(account: LocalAccount, chain_id: int, what: str) -> None:
    """`refuse_well_known` for a key."""
    refuse_well_known(account.address, chain_id, what)


class Signers:
    """Finds the signing key of an issuer or member address.

    :raises KeyConfigurationError: (at construction) a keystore in `keystore_dir` is named after, or says it
        holds, a well-known development account, and the chain is not a development chain.
    """

    def __init__(self, chain_id: int, keystore_dir: Path | None = None, password: str | None = None) -> None:
        self.chain_id = chain_id
        self.keystore_dir = keystore_dir
        self._password = password
        self._cache: dict[str, LocalAccount] = {}
        self._lock = threading.Lock()
        if is_dev_chain_id(chain_id):
            self._cache.update({account.address: account for account in dev_accounts()})
        elif keystore_dir is not None:
            for address, name in keystore_addresses(Path(keystore_dir)):
                refuse_well_known(address, chain_id, f"the keystore {name}")

    def for_address(self, address: str) -> LocalAccount:
        """The key of `address`.

        :raises Forbidden: the service holds no key for it (the principal must sign client-side), or it is a
            well-known development account (on a chain that is not a development chain).
        """
        address = to_checksum_address(address)
        with self._lock:
            if address in self._cache:
                return self._cache[address]
            try:
                refuse_well_known(address, self.chain_id, "the signing account")
            except KeyConfigurationError as exc:
                raise Forbidden(str(exc)) from None
            account = self._load(address)
            if account.address != address:  # a keystore under another name: it would sign for the wrong account
                raise KeyConfigurationError(f"the keystore for {address} holds the key of {account.address}")
            self._cache[address] = account
            return account

    def _load(self, address: str) -> LocalAccount:
        if self.keystore_dir is None:
            raise Forbidden(f"the service holds no key for {address}: sign the request client-side")
        path = Path(self.keystore_dir) / f"{address}.json"
        if not path.exists():
            path = Path(self.keystore_dir) / f"{address.lower()}.json"
        if not path.exists():
            raise Forbidden(
                f"the service holds no key for {address} (no keystore for it): an operator must add "
                "its keystore, or sign the request client-side"
            )
        if self._password is None:
            raise KeyConfigurationError("HUB_KEYSTORE_PASSWORD is not set")
        try:
            key = Account.decrypt(json.loads(path.read_text()), self._password)
        except ValueError as exc:  # eth-keyfile says "MAC mismatch" for a wrong password
            raise KeyConfigurationError(
                f"cannot unlock the keystore {path}: is HUB_KEYSTORE_PASSWORD right? ({exc})"
            ) from exc
        return Account.from_key(key)


def keystore_addresses(directory: Path) -> list[tuple[str, str]]:
    """(address, file name) of each keystore in `directory`, read from the name and from the keystore's own
    `address` field (both, when they differ), without decrypting anything."""
    found: list[tuple[str, str]] = []
    for path in sorted(directory.glob("*.json")):
        candidates = {path.stem}
        with contextlib.suppress(OSError, ValueError, AttributeError):  # unreadable: for_address says so later
            candidates.add(str(json.loads(path.read_text()).get("address", "")))
        for candidate in candidates:
            text = candidate if candidate.startswith(("0x", "0X")) else f"0x{candidate}"
            if is_address(text):
                found.append((to_checksum_address(text), path.name))
    return found


def account_from_key(private_key: str, setting: str) -> LocalAccount:
    """The account of a private key given in `setting` (an environment variable's name).

    :raises KeyConfigurationError: it is not a private key (the message shows nothing of it)."""
    try:
        return Account.from_key(private_key.strip())
    except (ValueError, TypeError):
        pass
    raise KeyConfigurationError(f"{setting} is not a private key (32 bytes in hex)")


def relayer_account(private_key: str | None, chain_id: int) -> LocalAccount:
    """The gas-paying account: from settings, or the first development account on a development chain.

    :raises KeyConfigurationError: no key on a real chain, not a key, or a well-known development key there."""
    if private_key:
        account = account_from_key(private_key, "HUB_RELAYER_PRIVATE_KEY")
    elif is_dev_chain_id(chain_id):
        account = dev_accounts()[0]
    else:
        raise KeyConfigurationError(f"chain {chain_id} is not a local development chain: set HUB_RELAYER_PRIVATE_KEY")
    refuse_dev_key(account, chain_id, "the relayer key (HUB_RELAYER_PRIVATE_KEY)")
    return account
