"""Issuing a cohort: bodies -> digests -> Merkle tree -> root; after anchoring, each credential's proof.

    batch = prepare_batch([draft, ...])            # offline: digests, tree, root
    ... anchor batch.root with batch.count on the registry (directly, or by a relayer with a SignedAnchor)
    credentials = attach_proofs(batch, Anchoring(chain_id, registry, issuer, tx_hash, signed))

The issuing pipeline of the API builds on these two steps; nothing here talks to a chain.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import to_checksum_address

try:
    import orjson
except ImportError:  # pragma: no cover - copy.deepcopy does the same, slower
    orjson = None  # type: ignore[assignment]

from service.credentials.canonical import credential_digest, proof_of, to_hex32, with_proof
from service.credentials.disclosure import Disclosure
from service.credentials.document import (
    PROOF_TYPE,
    DraftCredential,
    FormatError,
    issuer_account,
    validate_body,
)
from service.credentials.merkle import CohortTree
from service.credentials.signature import SignedAnchor

ZERO32 = b"\x00" * 32


@dataclass(frozen=True)
class PreparedBatch:
    """A cohort ready to anchor: its bodies, their digests and Merkle tree (in the order given)."""

    drafts: tuple[DraftCredential, ...]
    digests: tuple[bytes, ...]
    tree: CohortTree
    issuer_chain_id: int
    issuer: str  # checksum address of the issuer all bodies name

    @property
    def root(self) -> bytes:
        return self.tree.root

    @property
    def count(self) -> int:
        return len(self.drafts)


@dataclass(frozen=True)
class Anchoring:
    """Where and how a prepared batch was anchored."""

    chain_id: int
    registry: str
    issuer: str
    transaction_hash: bytes
    signed: SignedAnchor | None = None  # the issuer's request, when a relayer anchored


def prepare_batch(drafts: Sequence[DraftCredential | Mapping[str, Any]], *, check: bool = True) -> PreparedBatch:
    """Digest each body and build the cohort's Merkle tree.

    A plain mapping is taken as a body without disclosures. `check=False` skips the format checks of
    the bodies (for bodies checked when they were first prepared, e.g. rebuilt from the store); the
    issuer is still read from every body.

    :raises ValueError: when the cohort is empty, a body is not a valid anchored body (FormatError),
        the bodies name different issuers, or two bodies have the same digest.
    """
    if not drafts:
        raise ValueError("a cohort needs at least one credential")
    items = tuple(item if isinstance(item, DraftCredential) else DraftCredential(dict(item), ()) for item in drafts)
    issuers = set()
    for index, item in enumerate(items):
        if not check:
            issuers.add(issuer_account(item.body["issuer"]))
            continue
        try:
            model = validate_body(item.body)
        except FormatError as exc:
            raise FormatError([f"credential {index + 1}: {problem}" for problem in exc.problems]) from None
        digests = set(model.credentialSubject.disclosureDigests)
        for disclosure in item.disclosures:
            if disclosure.digest not in digests:
                raise ValueError(f"credential {index + 1}: disclosure {disclosure.name!r} has no digest in the body")
        issuers.add(model.issuer.account)
    if len(issuers) != 1:
        raise ValueError("all credentials of a cohort must name the same issuer (one account anchors it)")
    ((chain_id, issuer),) = issuers
    digests_ = tuple(credential_digest(item.body) for item in items)
    return PreparedBatch(
        drafts=items, digests=digests_, tree=CohortTree(digests_), issuer_chain_id=chain_id, issuer=issuer
    )


def attach_proofs(batch: PreparedBatch, anchoring: Anchoring, *, copy_bodies: bool = True) -> list[dict[str, Any]]:
    """The issued credentials: each body with its `proof`: the MerkleAnchor2026 proof carrying all its
    disclosures (the holder's full copy; `select_disclosures` makes the copies to share), then the draft's
    DataIntegrityProof. With `copy_bodies=False` they share the
    batch's body objects (for a batch made only to be written out, e.g. rebuilt from the store).

    :raises ValueError: when `anchoring` does not fit the batch (another issuer, chain or root).
    """
    issuer = to_checksum_address(anchoring.issuer)
    if issuer != batch.issuer or anchoring.chain_id != batch.issuer_chain_id:
        raise ValueError(
            f"the bodies name issuer {batch.issuer} on chain {batch.issuer_chain_id}; "
            f"the anchoring was by {issuer} on chain {anchoring.chain_id}"
        )
    if len(anchoring.transaction_hash) != 32:
        raise ValueError("a transaction hash is 32 bytes")
    signature = None
    if anchoring.signed is not None:
        request = anchoring.signed.request
        if (
            request.root != batch.root
            or request.chain_id != anchoring.chain_id
            or to_checksum_address(request.registry) != to_checksum_address(anchoring.registry)
            or to_checksum_address(request.issuer) != issuer
        ):
            raise ValueError("the signed anchoring request is not for this batch, chain, registry and issuer")
        signature = anchoring.signed.to_proof_json()
    root, registry = to_hex32(batch.root), to_checksum_address(anchoring.registry)
    transaction_hash = to_hex32(anchoring.transaction_hash)
    credentials = []
    for index, (draft, digest) in enumerate(zip(batch.drafts, batch.digests, strict=True)):
        proof: dict[str, Any] = {
            "type": PROOF_TYPE,
            "credentialDigest": to_hex32(digest),
            "merkleRoot": root,
            "merklePath": [to_hex32(node) for node in batch.tree.proof(index)],
            "chainId": anchoring.chain_id,
            "registry": registry,
            "issuerAddress": issuer,
            "transactionHash": transaction_hash,
        }
        if signature is not None:
            proof["anchorSignature"] = dict(signature)
        proof["disclosures"] = [disclosure.to_json() for disclosure in draft.disclosures]
        body = _copy(draft.body) if copy_bodies else draft.body
        credentials.append(with_proof(body, proof, draft.integrity_proof))
    return credentials


def _copy(body: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a JSON body (the caller may change it without touching the batch), by orjson when
    there: ten times faster than copy.deepcopy."""
    if orjson is None:  # pragma: no cover
        return copy.deepcopy(body)
    return orjson.loads(orjson.dumps(body))


def disclosures_of(credential: Mapping[str, Any]) -> list[Disclosure]:
    """The disclosures a credential carries (unchecked; the verifier checks them)."""
    proof = proof_of(credential)
    items = proof.get("disclosures", []) if proof is not None else []
    return [Disclosure.from_json(item) for item in items]
