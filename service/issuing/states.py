"""A batch's life, as a partner reads it (GET /batches/{id}):

    pending ──► submitted ──► included ──► anchored
       ▲            │            │            │
       └────────────┴── reorg, or a reverted transaction that can be retried ──┘
    failed: the registry refuses for good (e.g. the partner is no longer accredited), or no key signs for it.

pending: stored, its anchoring transaction not sent yet (or to be sent again); submitted: the relayer sent it
(its hash and fees are known); included: mined, fewer blocks deep than HUB_CONFIRMATIONS; anchored: final,
every credential has its proof. The relayer's own transaction states are service.chain.relayer.TxState.
"""

from __future__ import annotations

from enum import StrEnum


class BatchStatus(StrEnum):
    PENDING = "pending"
    SUBMITTED = "submitted"
    INCLUDED = "included"
    ANCHORED = "anchored"
    FAILED = "failed"


UNFINISHED = frozenset({BatchStatus.PENDING, BatchStatus.SUBMITTED, BatchStatus.INCLUDED})
