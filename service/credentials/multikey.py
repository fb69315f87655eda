"""An issuer's Ed25519 signing key as W3C Multikey, and the hash the registry records for it.

- `publicKeyMultibase` (W3C Controlled Identifiers 1.0, Multikey): "z" + base58btc(0xed 0x01 ‖ 32-byte key),
  so every Ed25519 key reads "z6Mk…". It is the key's fingerprint on pages and the fragment of its
  verification method id (`<issuer DID>#<publicKeyMultibase>`).
- `key_hash`: keccak256(0xed 0x01 ‖ 32-byte key), what the board records on chain when it accredits an
  issuer's signing key (the multicodec prefix binds the key type).
"""

from __future__ import annotations

from functools import lru_cache

import base58
from eth_utils import keccak

ED25519_PUB_PREFIX = b"\xed\x01"  # multicodec ed25519-pub, varint-encoded
ED25519_PRIV_PREFIX = b"\x80\x26"  # multicodec ed25519-priv (0x1300), varint-encoded


class MultikeyError(ValueError):
    """A string that is not an Ed25519 public key in Multikey form."""


@lru_cache(maxsize=1024)  # pure; a verifier meets the same few keys again and again (base58 is slow)
def encode_public(raw: bytes) -> str:
    """The Multikey `publicKeyMultibase` of a raw 32-byte Ed25519 public key."""
    if len(raw) != 32:
        raise MultikeyError(f"an Ed25519 public key has 32 bytes, not {len(raw)}")
    return "z" + base58.b58encode(ED25519_PUB_PREFIX + raw).decode("ascii")


@lru_cache(maxsize=1024)
def decode_public(multibase: str) -> bytes:
    """The raw 32-byte Ed25519 public key of a Multikey `publicKeyMultibase` ("z6Mk…")."""
    if not isinstance(multibase, str) or not multibase.startswith("z"):
        raise MultikeyError("a Multikey starts with 'z' (base58btc)")
    try:
        data = base58.b58decode(multibase[1:])
    except ValueError as exc:
        raise MultikeyError("not base58btc") from exc
    if len(data) != 34 or data[:2] != ED25519_PUB_PREFIX:
        raise MultikeyError("not an Ed25519 public key (multicodec 0xed01 and 32 bytes)")
    return data[2:]


@lru_cache(maxsize=1024)
def key_hash(raw: bytes) -> bytes:
    """The 32-byte hash the registry records for an accredited signing key."""
    if len(raw) != 32:
        raise MultikeyError(f"an Ed25519 public key has 32 bytes, not {len(raw)}")
    return keccak(ED25519_PUB_PREFIX + raw)


def key_hash_of(multibase: str) -> bytes:
    """`key_hash` of a `publicKeyMultibase`."""
    return key_hash(decode_public(multibase))


def short_fingerprint(multibase: str) -> str:
    """A short form for pages: the first 8 and last 6 characters ("z6MkhaXg…2doK")."""
    return f"{multibase[:8]}…{multibase[-6:]}" if len(multibase) > 16 else multibase
