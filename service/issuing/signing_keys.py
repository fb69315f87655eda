"""Partners' Ed25519 credential signing keys, kept beside their Ethereum keys.

A partner's signing key lives in the keystore directory beside its Ethereum keystore, in
`<keystore_dir>/signing/<address>.json`:

    {"version": 1, "type": "Ed25519", "address": "0x…", "publicKeyMultibase": "z6Mk…",
     "privateKey": "-----BEGIN ENCRYPTED PRIVATE KEY-----…"}

`privateKey` is the key as PKCS#8 PEM encrypted with the keystore password (HUB_KEYSTORE_PASSWORD; PBES2 as
`cryptography` makes it, readable by `openssl pkey`); `publicKeyMultibase` says which key it is without the
password. (The subfolder keeps these files out of the Ethereum keystores' `*.json`.)

On a local development chain (anvil 31337, ganache 1337) a partner without a keystore signs with a
deterministic development key, derived from its address and a published label: anyone can derive it, so it is
refused on any other chain, wherever a key enters (the keystore on loading, `hub keystore`), as the well-known
Ethereum development keys are (service.chain.keys).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)
from eth_utils import keccak, to_checksum_address

from service.chain.devchain import DEV_CHAIN_IDS, is_dev_chain_id
from service.chain.keys import KeyConfigurationError, well_known_account
from service.credentials import multikey
from service.errors import Forbidden

# Published: the development key of an address is keccak256(DEV_KEY_LABEL ‖ its 20 bytes), as an Ed25519 seed.
DEV_KEY_LABEL = b"IT Hub Hoogeveen development credential signing key:"
SIGNING_DIR = "signing"
FILE_VERSION = 1


def dev_signing_key(address: str) -> Ed25519PrivateKey:
    """The deterministic development signing key of `address` (published: local development chains only)."""
    raw = bytes.fromhex(to_checksum_address(address)[2:])
    return Ed25519PrivateKey.from_private_bytes(keccak(DEV_KEY_LABEL + raw))


def public_raw(key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public key of `key`."""
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_multibase(key: Ed25519PrivateKey) -> str:
    """The Multikey `publicKeyMultibase` of `key`'s public half."""
    return multikey.encode_public(public_raw(key))


def key_hash(key: Ed25519PrivateKey) -> bytes:
    """The hash the registry records for `key` (multikey.key_hash)."""
    return multikey.key_hash(public_raw(key))


@cache
def _dev_public_keys() -> dict[bytes, str]:
    """The development public keys of the well-known development accounts (their addresses' keys)."""
    from service.chain.keys import _well_known  # the same published accounts the Ethereum keys are checked against

    return {public_raw(dev_signing_key(address)): address for address in _well_known()}


def is_dev_signing_key(key: Ed25519PrivateKey, address: str) -> bool:
    """Whether `key` is a published development key: `address`'s own, or that of a well-known development
    account."""
    raw = public_raw(key)
    return raw == public_raw(dev_signing_key(address)) or raw in _dev_public_keys()


def refuse_dev_signing_key(key: Ed25519PrivateKey, address: str, chain_id: int, what: str) -> None:
    """Refuse a published development signing key (or one for a well-known development account) for `what`
    on any chain that is not a local development chain. The message names the account, never a key.

    :raises KeyConfigurationError: such a key on such a chain."""
    if is_dev_chain_id(chain_id):
        return
    dev_chains = ", ".join(f"{kind} {number}" for kind, number in DEV_CHAIN_IDS.items())
    if is_dev_signing_key(key, address):
        raise KeyConfigurationError(
            f"{what}: the signing key of {to_checksum_address(address)} is a development key that anyone can "
            f"derive (service.issuing.signing_keys). Refused on chain {chain_id}, which is not a local development "
            f"chain ({dev_chains}): use a key of your own"
        )
    known = well_known_account(address)
    if known is not None:
        raise KeyConfigurationError(
            f"{what}: {known.address} is a well-known development account, {known.describe()}. Refused on chain "
            f"{chain_id}, which is not a local development chain ({dev_chains})"
        )


def signing_keystore_path(keystore_dir: Path, address: str) -> Path:
    return Path(keystore_dir) / SIGNING_DIR / f"{to_checksum_address(address)}.json"


def encrypt_signing_key(key: Ed25519PrivateKey, address: str, password: str) -> dict[str, object]:
    """The keystore file's content for `address`'s signing key, encrypted with `password`."""
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(password.encode("utf-8")))
    return {
        "version": FILE_VERSION,
        "type": "Ed25519",
        "address": to_checksum_address(address),
        "publicKeyMultibase": public_multibase(key),
        "privateKey": pem.decode("ascii"),
    }


def decrypt_signing_key(content: dict[str, object], password: str) -> Ed25519PrivateKey:
    """The key in a keystore file's content.

    :raises KeyConfigurationError: a wrong password, or a file that is not a signing keystore or does not hold
        the key it names."""
    try:
        pem = str(content["privateKey"]).encode("ascii")
        key = load_pem_private_key(pem, password.encode("utf-8"))
    except (KeyError, TypeError, ValueError) as exc:
        raise KeyConfigurationError(f"cannot unlock the signing key: is HUB_KEYSTORE_PASSWORD right? ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyConfigurationError("the signing keystore does not hold an Ed25519 key")
    if content.get("publicKeyMultibase") != public_multibase(key):
        raise KeyConfigurationError("the signing keystore's publicKeyMultibase is not that of the key it holds")
    return key


def write_signing_keystore(keystore_dir: Path, address: str, key: Ed25519PrivateKey, password: str) -> Path:
    """Write `address`'s signing key, encrypted, readable by its owner only; never over an existing one.

    :raises FileExistsError: there is a signing key for `address` already."""
    import os

    path = signing_keystore_path(keystore_dir, address)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(encrypt_signing_key(key, address, password), indent=2) + "\n")
    return path


@dataclass(frozen=True)
class StoredSigningKey:
    """What a signing keystore says without its password."""

    address: str
    public_key_multibase: str
    path: Path


def signing_keystores(keystore_dir: Path) -> list[StoredSigningKey]:
    """The signing keystores in `keystore_dir` (unreadable files are left out)."""
    found: list[StoredSigningKey] = []
    for path in sorted((Path(keystore_dir) / SIGNING_DIR).glob("*.json")):
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
            found.append(
                StoredSigningKey(to_checksum_address(content["address"]), str(content["publicKeyMultibase"]), path)
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return found


class SigningKeys:
    """Finds the credential signing key of an issuer address: its keystore, or on a local development chain
    its development key."""

    def __init__(self, chain_id: int, keystore_dir: Path | None = None, password: str | None = None) -> None:
        self.chain_id = chain_id
        self.keystore_dir = keystore_dir
        self._password = password
        self._cache: dict[str, Ed25519PrivateKey] = {}
        self._lock = threading.Lock()

    def for_address(self, address: str) -> Ed25519PrivateKey:
        """The signing key of `address`.

        :raises Forbidden: the service holds no signing key for it.
        :raises KeyConfigurationError: its keystore cannot be unlocked, or holds a development key on a chain
            that is not a development chain.
        """
        address = to_checksum_address(address)
        with self._lock:
            if address in self._cache:
                return self._cache[address]
            key = self._load(address)
            refuse_dev_signing_key(key, address, self.chain_id, f"the signing key of {address}")
            self._cache[address] = key
            return key

    def _load(self, address: str) -> Ed25519PrivateKey:
        path = signing_keystore_path(self.keystore_dir, address) if self.keystore_dir is not None else None
        if path is not None and path.exists():
            if self._password is None:
                raise KeyConfigurationError("HUB_KEYSTORE_PASSWORD is not set")
            try:
                content = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise KeyConfigurationError(f"cannot read the signing keystore {path}: {exc}") from exc
            if to_checksum_address(str(content.get("address", "0x" + "00" * 20))) != address:
                raise KeyConfigurationError(f"the signing keystore {path} is not {address}'s")
            return decrypt_signing_key(content, self._password)
        if is_dev_chain_id(self.chain_id):
            return dev_signing_key(address)
        raise Forbidden(
            f"the service holds no credential signing key for {address}: an operator must add it "
            "(hub keystore signing-key create|import)"
        )
