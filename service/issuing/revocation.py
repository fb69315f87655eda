"""Revoking a credential: the issuing partner signs an EIP-712 `Revoke` request, the relayer sends revokeBySig.

Reason codes are those of docs/credential-format.md; the API takes them by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from service.chain.relayer import Call, RelayerError, TransactionReverted
from service.credentials.canonical import from_hex32, proof_of
from service.credentials.document import format_datetime
from service.credentials.facts import revocation_reason
from service.db import models
from service.db.session import transaction
from service.errors import ChainRejected, ChainUnavailable, Conflict

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from service.hub import Hub

REVOKE_TTL = 600  # seconds of chain time a signed revocation request stays valid

ReasonName = Literal[
    "fraud-or-misconduct", "issued-in-error", "superseded", "withdrawn-at-graduates-request", "requirements-not-met"
]
REASON_CODES: dict[str, int] = {
    "fraud-or-misconduct": 1,
    "issued-in-error": 2,
    "superseded": 3,
    "withdrawn-at-graduates-request": 4,
    "requirements-not-met": 5,
}
REASON_NAMES = {code: name for name, code in REASON_CODES.items()}


def reason_name(code: int | None) -> str | None:
    """The API's name of a reason code (the number as text when the hub does not name it)."""
    if code is None:
        return None
    return REASON_NAMES.get(code, str(code))


@dataclass(frozen=True)
class Revoked:
    credential_id: str
    revoked_at: datetime
    reason: int
    tx_hash: str


def already_revoked(revoked_at: datetime, reason: int | None) -> Conflict:
    when = format_datetime(revoked_at if revoked_at.tzinfo else revoked_at.replace(tzinfo=UTC))
    why = f" ({revocation_reason(reason)})" if reason else ""
    return Conflict(f"this credential was already revoked on {when}{why}", revoked_at=when, reason=reason_name(reason))


def revoke_own(hub: Hub, issuer: str, credential_id: str, reason: int, *, db: Session | None = None) -> Revoked:
    """Revoke `issuer`'s anchored credential `credential_id` (the API's POST /credentials/{id}/revoke and the
    partner console): its checks, then `revoke`. `db`: a session the caller has open (it is ended here).

    :raises NotFound: no such credential. :raises Forbidden: another partner's.
    :raises Conflict: revoked already, or not anchored (nothing on chain to revoke).
    :raises ChainRejected, ChainUnavailable: as `revoke`.
    """
    from service.issuing.cohorts import own_credential

    session = db if db is not None else hub.sessions()
    try:
        row = own_credential(session, issuer, credential_id, "revoke")
        batch = row.batch
        if row.revoked_at is not None:
            raise already_revoked(row.revoked_at, row.revocation_reason)
        if batch.status != "anchored":
            raise Conflict(
                f"this credential is not anchored (its batch is {batch.status}), so there is nothing to "
                "revoke on chain" + ("" if batch.status == "failed" else "; try again once it is anchored"),
                batch_id=batch.id,
            )
    finally:
        if db is None:
            session.close()
        else:
            session.rollback()
    return revoke(hub, credential_id, reason)


def revoke(hub: Hub, credential_id: str, reason: int) -> Revoked:
    """Revoke the (anchored) credential `credential_id` on chain and record it.

    The caller has checked that the credential exists, is anchored and belongs to the calling partner. One
    transaction per credential: asked again while its revocation is on its way (a retry, another process), the
    same transaction is followed, not a second one sent.

    :raises Conflict: it was revoked already (the time and reason say when and why).
    :raises ChainRejected: the registry refuses (e.g. RegistryBatchNotAnchored).
    :raises ChainUnavailable: the chain does not answer, or the transaction is not mined within the wait (it
        goes on: asking again follows it).
    """
    with hub.sessions() as session:
        row = session.get(models.Credential, credential_id)
        assert row is not None
        issuer, digest = row.issuer_address, from_hex32(row.digest)
        proof = proof_of(row.document)
        assert proof is not None  # an anchored credential has its proof
        root, path = from_hex32(proof["merkleRoot"]), [from_hex32(node) for node in proof["merklePath"]]
    registry = hub.registry
    key = hub.signers.for_address(issuer)
    try:
        deadline = int(hub.w3.eth.get_block("latest")["timestamp"]) + REVOKE_TTL
    except (OSError, ValueError) as exc:
        raise ChainUnavailable.no_answer(exc, "the latest block") from exc

    def build(nonce: int | None) -> dict[str, Any]:
        request = registry.revoke_request(root, digest, reason, issuer, deadline=deadline, nonce=nonce)
        return registry.revoke_by_sig_tx(request, request.sign(key.key), path)

    call = Call(
        "revoke",
        build,
        signer=issuer,
        signer_nonce=lambda: registry.nonce(issuer),
        reference=f"revoke:{credential_id}",
        scope=registry.address,
    )
    try:
        receipt = hub.relayer.send(call, timeout=hub.settings.request_wait)
    except ChainRejected as exc:
        if exc.revert.name == "RegistryAlreadyRevoked":
            raise _revoked_on_chain(hub, credential_id, issuer, root, digest) from exc
        raise
    except TransactionReverted as exc:  # mined but reverted: revoked meanwhile by another request
        if registry.revocation(issuer, root, digest).revoked:
            raise _revoked_on_chain(hub, credential_id, issuer, root, digest) from exc
        raise Conflict(f"the revocation transaction failed: {exc}; try again", tx_hash=exc.sent.tx_hash) from exc
    except RelayerError as exc:
        raise ChainUnavailable(
            f"the revocation is on its way but not recorded yet ({exc}); ask again to follow "
            "it: no second transaction is sent",
            tx_hash=exc.sent.tx_hash,
        ) from exc
    hub.verification_cache.clear()  # POST /verify must not answer from before the revocation
    moment = datetime.fromtimestamp(int(hub.w3.eth.get_block(receipt["blockNumber"])["timestamp"]), UTC)
    _record(hub, credential_id, moment, reason)
    return Revoked(credential_id, moment, reason, "0x" + bytes(receipt["transactionHash"]).hex())


def _revoked_on_chain(hub: Hub, credential_id: str, issuer: str, root: bytes, digest: bytes) -> Conflict:
    on_chain = hub.registry.revocation(issuer, root, digest)
    moment = datetime.fromtimestamp(on_chain.revoked_at, UTC)
    _record(hub, credential_id, moment, on_chain.reason)
    return already_revoked(moment, on_chain.reason)


def _record(hub: Hub, credential_id: str, moment: datetime, reason: int) -> None:
    with transaction(hub.sessions) as session:
        row = session.get(models.Credential, credential_id)
        if row is not None and row.revoked_at is None:
            row.revoked_at = moment
            row.revocation_reason = reason
