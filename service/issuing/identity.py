"""Who an issuing partner is to the outside world: its DID, served by the hub, and its VC signing key.

A partner has two keys: its Ethereum account (anchoring, revoking; `service.chain.keys`) and an Ed25519
key that signs its credentials' Data Integrity proofs. The hub serves the partner's DID document at
`<public_url>/issuers/<slug>/did.json`, so its DID is `did:web:<host>:issuers:<slug>` (did:web 2.0: a
port is written `%3A`). The board accredits the Ed25519 key on chain (`multikey.key_hash`).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from service.credentials import multikey


def did_web(public_url: str, slug: str) -> str:
    """The did:web of a partner's DID document at `<public_url>/issuers/<slug>/did.json`."""
    parts = urlsplit(public_url)
    host = quote(parts.netloc, safe="")  # "127.0.0.1:8000" -> "127.0.0.1%3A8000"
    path = [quote(p, safe="") for p in parts.path.split("/") if p]
    return ":".join(["did:web", host, *path, "issuers", slug])


def public_multibase(key: Ed25519PrivateKey) -> str:
    """The Multikey `publicKeyMultibase` of a private key's public half."""
    return multikey.encode_public(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


@dataclass(frozen=True)
class IssuerIdentity:
    """A partner as its credentials name it, and the key that signs them."""

    address: str  # EIP-55 checksum address of its Ethereum account (the anchoring issuer)
    slug: str  # its path segment under /issuers/
    did: str  # did:web:<host>:issuers:<slug>
    signing_key: Ed25519PrivateKey

    @property
    def public_key_multibase(self) -> str:
        return public_multibase(self.signing_key)

    @property
    def verification_method(self) -> str:
        """The id of the signing key in the DID document: `<did>#<publicKeyMultibase>`."""
        return f"{self.did}#{self.public_key_multibase}"
