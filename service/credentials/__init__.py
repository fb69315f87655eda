"""Verifiable micro-credentials: the document format, selective disclosure, cohort Merkle trees,
issuing (prepare a batch, attach proofs after anchoring) and the verifier.

The format and the verification algorithm are specified in docs/credential-format.md.
"""

from __future__ import annotations

from service.credentials.batch import Anchoring, PreparedBatch, attach_proofs, prepare_batch
from service.credentials.canonical import MAX_CREDENTIAL_BYTES, InputError, credential_digest
from service.credentials.disclosure import Disclosure, select_disclosures
from service.credentials.document import (
    DraftCredential,
    FormatError,
    Graduate,
    IssuerProfile,
    Programme,
    build_credential,
    validate_credential,
)
from service.credentials.facts import ChainFacts, ChainSnapshot, ChainUnavailable, CredentialStatus, RegistryTrust
from service.credentials.merkle import CohortTree, leaf_hash, verify_inclusion
from service.credentials.signature import AnchorRequest, SignedAnchor
from service.credentials.verifier import Check, Status, VerificationReport, verify_credential

__all__ = [
    "MAX_CREDENTIAL_BYTES",
    "AnchorRequest",
    "Anchoring",
    "ChainFacts",
    "ChainSnapshot",
    "ChainUnavailable",
    "Check",
    "CohortTree",
    "CredentialStatus",
    "Disclosure",
    "DraftCredential",
    "FormatError",
    "Graduate",
    "InputError",
    "IssuerProfile",
    "PreparedBatch",
    "Programme",
    "RegistryTrust",
    "SignedAnchor",
    "Status",
    "VerificationReport",
    "attach_proofs",
    "build_credential",
    "credential_digest",
    "leaf_hash",
    "prepare_batch",
    "select_disclosures",
    "validate_credential",
    "verify_credential",
    "verify_inclusion",
]
