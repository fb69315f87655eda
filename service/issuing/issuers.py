"""The partners as the outside world sees them: their slugs, DIDs, signing keys and DID documents.

    directory = IssuerDirectory(sessions, registry, signing_keys, public_url, chain_id)
    directory.identity_for(address)     # IssuerIdentity: DID, slug and the key that signs its credentials
    directory.did_document(slug)        # GET /issuers/{slug}/did.json

A partner's slug comes from the `issuers` table; the first time the hub needs it, it is made from the name the
board accredited the partner under ("Hanzehogeschool Groningen" -> "hanzehogeschool-groningen") and kept
from then on, so the partner's DID never moves. Its signing keys are those the board accredited on chain
(`ICredentialRegistry.signingKeys`, key hashes); the public keys behind the hashes come from the
`signing_keys` table, filled when a key is proposed to the board or used by the hub.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.chain.keys import KeyConfigurationError
from service.chain.registry import RegistryClient
from service.credentials import multikey
from service.credentials.document import issuer_slug
from service.db import models
from service.db.session import dialect_insert, transaction
from service.errors import Conflict, Forbidden, NotFound
from service.issuing.identity import IssuerIdentity, did_web
from service.issuing.signing_keys import SigningKeys, key_hash, public_multibase

DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]


def did_pkh(chain_id: int, address: str) -> str:
    """The did:pkh (CAIP-10) of an Ethereum account on chain `chain_id`."""
    return f"did:pkh:eip155:{chain_id}:{to_checksum_address(address)}"


def remember_key(session: Session, address: str, public_key_multibase: str) -> bytes:
    """Record the public key behind its hash (idempotent); return the hash.

    :raises multikey.MultikeyError: not an Ed25519 Multikey."""
    key_hash = multikey.key_hash_of(public_key_multibase)
    hex_hash = "0x" + key_hash.hex()
    # INSERT ... ON CONFLICT DO NOTHING: processes issuing at once may record the same key together
    session.execute(
        dialect_insert(session)(models.SigningKey)
        .values(key_hash=hex_hash, public_key_multibase=public_key_multibase, address=to_checksum_address(address))
        .on_conflict_do_nothing(index_elements=[models.SigningKey.key_hash])
    )
    return key_hash


def known_keys(session: Session, key_hashes: list[bytes]) -> dict[bytes, str]:
    """The public keys (publicKeyMultibase) the hub knows behind `key_hashes`."""
    wanted = ["0x" + key_hash.hex() for key_hash in key_hashes]
    if not wanted:
        return {}
    rows = session.scalars(select(models.SigningKey).where(models.SigningKey.key_hash.in_(wanted)))
    return {bytes.fromhex(row.key_hash[2:]): row.public_key_multibase for row in rows}


@dataclass(frozen=True)
class Partner:
    """A partner the board accredited (now or before), as the accredited-partners view shows it."""

    address: str
    name: str
    accredited: bool  # now
    since: int  # when its current status began (unix seconds)
    key_hash: str | None  # its current signing key's hash, 0x-hex (None when it has none)
    public_key_multibase: str | None  # that key, when the hub knows it
    slug: str | None  # its DID document's slug, once the hub made one


class IssuerDirectory:
    """Slugs, identities and DID documents of the partners."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        registry: RegistryClient,
        signing_keys: SigningKeys,
        public_url: str,
        chain_id: int,
    ) -> None:
        self.sessions = sessions
        self.registry = registry
        self.signing_keys = signing_keys
        self.public_url = public_url
        self.chain_id = chain_id
        self._slugs: dict[str, str] = {}  # address -> slug: a slug never changes once made
        self._remembered: set[str] = set()  # public keys recorded by this process

    def slug_for(self, address: str) -> str:
        """The slug of partner `address`, made (from its accredited name) the first time.

        :raises NotFound: the board never accredited `address`.
        :raises ChainUnavailable: the registry cannot be asked.
        """
        address = to_checksum_address(address)
        if address in self._slugs:
            return self._slugs[address]
        with self.sessions() as session:
            row = session.get(models.Issuer, address)
            if row is not None:
                self._slugs[address] = row.slug
                return row.slug
        name = self.registry.issuer(address).name
        if not name:
            raise NotFound(f"{address} is not a partner the board accredited", address=address)
        slug = issuer_slug(name)  # the verifier checks a credential's DID against it: no other slug will do
        with transaction(self.sessions) as session:
            # several processes may record a partner at once: the first insert wins, the others do nothing
            session.execute(
                dialect_insert(session)(models.Issuer)
                .values(address=address, slug=slug, name=name)
                .on_conflict_do_nothing()
            )
            recorded = session.scalar(select(models.Issuer.slug).where(models.Issuer.address == address))
            if recorded is None:  # the slug belongs to another partner
                holder = session.scalar(select(models.Issuer).where(models.Issuer.slug == slug))
                raise Conflict(
                    f"the board accredited {address} as {name!r}, whose DID name {slug!r} partner "
                    f"{holder.address if holder else 'another'} ({holder.name if holder else '?'}) already has: "
                    "the board must accredit a distinct name",
                    address=address,
                )
        self._slugs[address] = recorded
        return recorded

    def identity_for(self, address: str) -> IssuerIdentity:
        """The identity the credentials of partner `address` carry, with the key that signs them. The key's
        public half is recorded (`signing_keys`), so the partner's DID document can list it once accredited.

        :raises NotFound: the board never accredited `address`.
        :raises Forbidden: the hub holds no signing key for it.
        :raises KeyConfigurationError: its signing keystore cannot be used (see SigningKeys).
        :raises ChainUnavailable: the registry cannot be asked.
        """
        address = to_checksum_address(address)
        slug = self.slug_for(address)
        key = self.signing_keys.for_address(address)
        multibase = public_multibase(key)
        if multibase not in self._remembered:
            with transaction(self.sessions) as session:
                remember_key(session, address, multibase)
            self._remembered.add(multibase)
        return IssuerIdentity(address=address, slug=slug, did=did_web(self.public_url, slug), signing_key=key)

    def _remember_held_key(self, address: str, accredited: set[bytes]) -> None:
        """Record the public key of the signing key the hub holds for `address`, when the board accredited it
        (a partner accredited on chain directly, whose key the hub never proposed)."""
        try:
            key = self.signing_keys.for_address(address)
        except (Forbidden, KeyConfigurationError):
            return
        if key_hash(key) in accredited:
            with transaction(self.sessions) as session:
                remember_key(session, address, public_multibase(key))

    def partners(self) -> list[Partner]:
        """Every partner the board accredited (from the indexed IssuerAccredited events), by name, with its status
        and current signing key read from the registry now.

        :raises ChainUnavailable: the registry cannot be asked.
        """
        with self.sessions() as session:
            accounts = {
                to_checksum_address(str(args["issuer"]))
                for args in session.scalars(
                    select(models.ChainEvent.args).where(
                        models.ChainEvent.contract == self.registry.address,
                        models.ChainEvent.name == "IssuerAccredited",
                    )
                )
                if isinstance(args, dict) and "issuer" in args
            }
            slugs = {
                address: slug
                for address, slug in session.execute(
                    select(models.Issuer.address, models.Issuer.slug).where(models.Issuer.address.in_(accounts))
                )
            }
        out: list[Partner] = []
        for address in accounts:
            record = self.registry.issuer(address)  # one call: status and key history
            keys = record.signing_keys
            current = keys[-1].key_hash if keys else None
            public = None
            if current is not None:
                with self.sessions() as session:
                    public = known_keys(session, [current]).get(current)
            out.append(
                Partner(
                    address=address,
                    name=record.name,
                    accredited=record.accredited,
                    since=record.since,
                    key_hash=None if current is None else "0x" + current.hex(),
                    public_key_multibase=public,
                    slug=slugs.get(address),
                )
            )
        return sorted(out, key=lambda partner: (not partner.accredited, partner.name.lower(), partner.address))

    def by_slug(self, slug: str) -> models.Issuer | None:
        with self.sessions() as session:
            return session.scalar(select(models.Issuer).where(models.Issuer.slug == slug))

    def did_document(self, slug: str) -> dict[str, Any]:
        """The DID document of the partner `slug`: every signing key the board accredited for it (older ones
        too, so credentials signed before a rotation still verify) as `Multikey` verification methods in
        `assertionMethod`, oldest first, and its Ethereum account as a did:pkh in `alsoKnownAs`.

        :raises NotFound: no partner has this slug.
        :raises ChainUnavailable: the registry cannot be asked.
        """
        row = self.by_slug(slug)
        if row is None:
            raise NotFound(f"no issuer {slug!r} at this hub", issuer_slug=slug)
        did = did_web(self.public_url, row.slug)
        accredited = self.registry.signing_keys(row.address)
        self._remember_held_key(row.address, {key.key_hash for key in accredited})
        with self.sessions() as session:
            public = known_keys(session, [key.key_hash for key in accredited])
        methods: list[dict[str, Any]] = []
        for key in accredited:
            multibase = public.get(key.key_hash)
            if multibase is None or any(m["publicKeyMultibase"] == multibase for m in methods):
                continue  # a key the hub never saw cannot be listed (only its hash is on chain)
            methods.append(
                {"id": f"{did}#{multibase}", "type": "Multikey", "controller": did, "publicKeyMultibase": multibase}
            )
        return {
            "@context": list(DID_CONTEXTS),
            "id": did,
            "alsoKnownAs": [did_pkh(self.chain_id, row.address)],
            "verificationMethod": methods,
            "assertionMethod": [method["id"] for method in methods],
        }
