"""The partners' DID documents: `GET /issuers/{slug}/did.json`, what `did:web:<host>:issuers:<slug>` resolves to.

Public, like the verifier: a wallet or verifier resolving a credential's `issuer.id` fetches it. It lists every
signing key the board accredited for the partner (service.issuing.issuers.IssuerDirectory.did_document).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from service.api import problems
from service.api.deps import HubDep

router = APIRouter(prefix="/issuers", tags=["issuers"], route_class=problems.JsonRoute)

Slug = Annotated[
    str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", description="the partner's slug", examples=["nhl-stenden"])
]


@router.get(
    "/{slug}/did.json",
    operation_id="getIssuerDidDocument",
    response_class=JSONResponse,
    responses={
        200: {
            "description": "The partner's DID document (did:web): its Ed25519 signing keys as Multikey, in "
            "assertionMethod, and its Ethereum account as a did:pkh in alsoKnownAs",
            "content": {"application/json": {}},
        },
        **problems.responses(404, 422, 503),
    },
)
def get_did_document(hub: HubDep, slug: Slug) -> JSONResponse:
    """The DID document of the partner `slug`, with every signing key the board accredited for it (older ones
    too, so credentials signed before a key rotation still verify)."""
    document: dict[str, Any] = hub.issuers.did_document(slug)
    return JSONResponse(document, headers={"Cache-Control": "public, max-age=60"})
