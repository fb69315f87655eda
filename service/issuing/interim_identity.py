"""INTERIM adapter (engineer di, issue 13): a partner's IssuerIdentity until engineer keys' `identity_for`
(slugs from the partners table, Ed25519 keys from the keystore) is merged. The lead switches the two call
sites (service/api/credentials.py and the default of service.issuing.pipeline.prepare) to it and deletes
this module.

Here: slug = the lowercase hex address without 0x; the key = `dev_signing_key(address)`, a deterministic
key refused outside the development chains (as the well-known Ethereum development keys are).
"""

from __future__ import annotations

from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_utils import keccak, to_checksum_address

from service.chain.devchain import is_dev_chain_id
from service.errors import Forbidden
from service.issuing.identity import IssuerIdentity, did_web

DEV_KEY_LABEL = "ithub-hoogeveen development Ed25519 signing key:"


def dev_signing_key(address: str) -> Ed25519PrivateKey:
    """The deterministic development Ed25519 key of `address`: keccak256(label ‖ checksum address) as seed."""
    seed = keccak(text=DEV_KEY_LABEL + to_checksum_address(address))
    return Ed25519PrivateKey.from_private_bytes(seed)


def interim_identities(public_url: str, chain_id: int) -> Callable[[str], IssuerIdentity]:
    """`identity_for(address)` of this adapter, for the hub at `public_url` on chain `chain_id`."""

    def identity_for(address: str) -> IssuerIdentity:
        if not is_dev_chain_id(chain_id):
            raise Forbidden(
                f"the service holds no Ed25519 signing key for {address} on chain {chain_id} (development keys "
                "are refused outside the development chains)"
            )
        checksum = to_checksum_address(address)
        slug = checksum[2:].lower()
        return IssuerIdentity(checksum, slug, did_web(public_url, slug), dev_signing_key(checksum))

    return identity_for
