"""GET /status/{slug}/{number}: a partner's W3C Bitstring Status List credential (public, no key).

What a standard verifier fetches when it checks a credential's `credentialStatus`: the signed
`BitstringStatusListCredential` the indexer last built from the chain's revocation events
(service.issuing.status_lists). Cacheable by anyone for the list's `ttl` (the indexer's interval), never beyond
its `validUntil`; an ETag answers a repeated request with 304. Served as `application/vc` when the client asks
for it, else as `application/ld+json`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from email.utils import format_datetime as http_date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool

from service.api import problems
from service.api.deps import HubDep
from service.errors import NotFound, NotReady

router = APIRouter(tags=["status lists"], route_class=problems.JsonRoute)

VC_MEDIA_TYPE = "application/vc"
LD_MEDIA_TYPE = "application/ld+json"

Slug = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$", description="the partner's slug (as in its DID)")]
Number = Annotated[int, Path(ge=1, le=1_000_000, description="the list's number: 1, 2, ...")]


@router.get(
    "/status/{slug}/{number}",
    operation_id="getStatusList",
    summary="A partner's status list credential (W3C Bitstring Status List v1.0)",
    responses={
        200: {
            "description": "The signed BitstringStatusListCredential",
            "content": {LD_MEDIA_TYPE: {"schema": {"type": "object"}}, VC_MEDIA_TYPE: {"schema": {"type": "object"}}},
        },
        304: {"description": "Not modified (If-None-Match)"},
        **problems.responses(404, 503),
    },
)
async def get_status_list(hub: HubDep, slug: Slug, number: Number, request: Request) -> Response:
    served = await run_in_threadpool(hub.status_lists.served, slug, number)
    if served is None:
        raise NotFound(f"there is no status list {number} of a partner {slug!r}", partner=slug, number=number)
    if served.document is None or served.valid_until is None:
        raise NotReady(
            f"status list {number} of {slug!r} is built at the indexer's next catch-up: try again in a few seconds"
        )
    body = json.dumps(served.document, ensure_ascii=False, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    now = datetime.now(UTC)
    left = int((served.valid_until - now).total_seconds())
    max_age = max(0, min(int(hub.status_lists.ttl), left))
    headers: dict[str, Any] = {
        "Cache-Control": f"public, max-age={max_age}",
        "ETag": etag,
        "Expires": http_date(served.valid_until, usegmt=True),
        "Access-Control-Allow-Origin": "*",  # a public document: wallets in a browser may fetch it
        "Vary": "Accept",
    }
    if served.built_at is not None:
        headers["Last-Modified"] = http_date(served.built_at, usegmt=True)
    if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    media = VC_MEDIA_TYPE if VC_MEDIA_TYPE in request.headers.get("accept", "") else LD_MEDIA_TYPE
    return Response(body, media_type=media, headers=headers)
