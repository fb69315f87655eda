"""Issuing credentials: the pipeline of stages from a partner's request to anchored, proven credentials.

requests   what a partner sends: one credential, or a cohort as JSON or CSV (columns documented there)
pipeline   prepare (validate, build bodies, Merkle root) -> persist (one DB transaction) -> finish (proofs)
anchoring  the leader's worker: the partner signs, the relayer sends anchorBySig; the batch follows its
           transaction to anchored (states: pending -> submitted -> included -> anchored, or failed)
revocation revokeBySig, signed by the issuing partner and relayed
"""

from __future__ import annotations

from service.issuing.anchoring import AnchoringWorker
from service.issuing.pipeline import PreparedCohort, finish, persist, prepare
from service.issuing.requests import CohortCreate, CredentialCreate, Row

__all__ = [
    "AnchoringWorker",
    "CohortCreate",
    "CredentialCreate",
    "PreparedCohort",
    "Row",
    "finish",
    "persist",
    "prepare",
]
