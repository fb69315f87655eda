"""Credentials: issue one (anchored before the answer), issue a cohort (anchored in the background), read
one (its issuer, or its holder with the holder token), revoke one (its issuer).

Issuing runs the pipeline of service.issuing: prepare (everything is checked; a cohort with one bad row
is refused whole, nothing stored) -> persist (one database transaction) -> anchor (the partner's key
signs, the hub's relayer sends anchorBySig: partners need no ether) -> finish (each credential gets its
proof). A refusal by the registry is problem+json with its decoded reason (service.api.problems.REVERT_STATUS).

The holder token: issuing returns it once per credential, for the graduate (with `holder_url`, her personal
link to her own page, public_url/holder/<token>: give her that); only its sha256 is kept.
The graduate reads the full credential (all disclosures) with `X-Holder-Token: <token>`. It is a header,
not a query parameter, so that it stays out of links, browser histories and access logs. The share URL
(public_url/share/<share_token>) is what the graduate passes on to employers. It shows no personal claim
until the graduate chooses which to show there (PUT /credentials/{id}/sharing, holder token only: the
issuer may not choose for them). A printed certificate gets a share link of its own (POST
/credentials/{id}/certificate-links, issuer or holder), which discloses exactly the claims the certificate
prints, so that the page behind its QR code confirms each of them; it is as private as the paper it is
printed on.
"""

from __future__ import annotations

import hmac
import logging
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Request, Response, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from service import sharing
from service.api import problems
from service.api.deps import DbSession, HubDep, Issuer, _bearer
from service.api.idempotency import IdempotentRoute, idempotent
from service.auth import Principal, Role, authenticate, require_role
from service.credentials.canonical import to_hex32
from service.credentials.disclosure import claim_name
from service.credentials.facts import revocation_reason
from service.db import models
from service.errors import (
    Conflict,
    Forbidden,
    HubError,
    InvalidInput,
    NotJson,
    Unauthenticated,
    UnsupportedMediaType,
)
from service.hub import Hub
from service.issuing import cohorts, pipeline, revocation
from service.issuing.cohorts import available_claims, holder_url, reported_status, share_url, utc
from service.issuing.requests import (
    CSV_COLUMNS,
    CohortCreate,
    CredentialCreate,
    Row,
    cohort_from_json,
    csv_from_multipart,
    parse_cohort_csv,
)
from service.issuing.revocation import REASON_CODES, ReasonName
from service.issuing.states import BatchStatus as BatchState

log = logging.getLogger(__name__)
router = APIRouter(prefix="/credentials", tags=["credentials"], route_class=IdempotentRoute)

BatchStatus = Literal["pending", "submitted", "included", "anchored", "failed"]
EXAMPLE_ID = "3f0c2a6e-8d1b-4c5e-9a7f-2b6d4e8f1a30"
EXAMPLE_ROOT = "0x84b6e8c05be78eb800b4ec7445f9602f5a9f0dbe151c1ce5040c3e0466e18593"
EXAMPLE_TX = "0x8c1d7b4a2f3e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c"
HOLDER_TOKEN_HEADER = "X-Holder-Token"


# ---------------------------------------------------------------- schemas


class CredentialPublic(BaseModel):
    """A credential as its issuer or holder sees it. `document` is the full credential (every disclosure)
    once anchored; null while its batch is pending or when anchoring failed."""

    id: str = Field(examples=[EXAMPLE_ID], description="also the document's id, urn:uuid:<id>")
    status: BatchStatus = Field(
        description="its batch's anchoring: pending (stored), submitted (its transaction "
        "sent), included (mined, not yet final), anchored, or failed"
    )
    batch_id: str
    programme_id: str = Field(examples=["miw-data-analytics"])
    issuer_address: str
    digest: str = Field(description="the credential digest (keccak256 of the canonical body)")
    share_url: str = Field(description="the page the graduate shares with employers")
    transaction_hash: str | None = Field(None, examples=[EXAMPLE_TX], description="the anchoring transaction")
    anchored_at: datetime | None = None
    revoked: bool = False
    revoked_at: datetime | None = None
    revocation_reason: str | None = Field(None, examples=["issued-in-error"])
    created_at: datetime
    shared_claims: list[str] = Field(
        default_factory=list,
        examples=[["name"]],
        description="the claims the share link shows, as the graduate chose "
        "(PUT /credentials/{id}/sharing); none by default",
    )
    document: dict[str, Any] | None = Field(None, description="the OpenBadgeCredential with its proof")


class CredentialIssued(CredentialPublic):
    holder_token: str = Field(
        description=f"for the graduate, shown only now: it opens GET /credentials/{{id}} "
        f"with the header {HOLDER_TOKEN_HEADER}"
    )
    holder_url: str = Field(
        description="the graduate's personal link to her own page (public_url/holder/<holder token>), shown only "
        "now: give her this link. There she sees her credential and makes, labels and withdraws share links"
    )


class CohortCredential(BaseModel):
    """One credential of a cohort just accepted: give the holder token to the graduate (shown only now)."""

    row: int = Field(description="its row in the CSV (1 = the first after the header) or place in the JSON list")
    email: str
    id: str
    share_url: str
    holder_token: str
    holder_url: str = Field(description="the graduate's personal link to her own page (holds the holder token)")


class BatchAccepted(BaseModel):
    id: str = Field(description="the batch id: follow GET /batches/{id} until it is anchored")
    status: BatchStatus
    count: int
    root: str = Field(examples=[EXAMPLE_ROOT], description="the Merkle root that will be anchored")
    issuer_address: str
    credentials: list[CohortCredential]


class RevocationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "issued-in-error"}]})

    reason: ReasonName = Field(
        description="fraud-or-misconduct (1), issued-in-error (2), superseded (3, by a "
        "corrected credential), withdrawn-at-graduates-request (4), "
        "requirements-not-met (5): the codes of docs/credential-format.md"
    )


class SharingUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"disclose": ["name", "result"]}]})

    disclose: list[str] = Field(
        max_length=16,
        description="the claims the share link shows from now on, of "
        "those the credential has (identifier: the salted "
        "email hash, name, result: the grade; grade is accepted for result); [] shows none again",
    )

    @field_validator("disclose")
    @classmethod
    def _aliases(cls, names: list[str]) -> list[str]:
        return [claim_name(name) for name in names]


class SharingPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "credential_id": EXAMPLE_ID,
                    "share_url": "https://hub.example.org/share/Zq3v9Xh2bT1kR8mW4pYc6N",
                    "shared_claims": ["name"],
                    "available_claims": ["name", "result"],
                }
            ]
        }
    )

    credential_id: str
    share_url: str = Field(description="the page (and its credential.json and certificate.pdf) that shows them")
    shared_claims: list[str] = Field(description="the claims the share link now shows")
    available_claims: list[str] = Field(description="the claims this credential can disclose")


class CertificateLinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"disclose": ["name", "result"]}]})

    disclose: list[str] = Field(
        max_length=16,
        description="the claims the certificate prints, and so its link "
        "discloses: of name and result (the grade; grade is accepted for it), those the "
        "credential has; [] for a certificate without them",
    )

    @field_validator("disclose")
    @classmethod
    def _aliases(cls, names: list[str]) -> list[str]:
        return [claim_name(name) for name in names]


class CertificateLinkPublic(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "credential_id": EXAMPLE_ID,
                    "share_url": "https://hub.example.org/share/k2Vb8nQ4sT0yW6pR1mXc3H",
                    "shared_claims": ["name", "result"],
                }
            ]
        }
    )

    credential_id: str
    share_url: str = Field(description="the page the certificate's QR code opens: it shows exactly these claims")
    shared_claims: list[str] = Field(description="the claims the link discloses (print exactly these)")


class RevocationPublic(BaseModel):
    credential_id: str = Field(examples=[EXAMPLE_ID])
    reason: str = Field(examples=["issued-in-error"])
    reason_code: int = Field(examples=[2])
    reason_text: str = Field(examples=["issued in error"])
    revoked_at: datetime
    transaction_hash: str = Field(examples=[EXAMPLE_TX])


# ---------------------------------------------------------------- helpers


def credential_public(hub: Hub, row: models.Credential, batch: models.Batch) -> dict[str, Any]:
    status = reported_status(hub, batch)
    anchored = status == BatchState.ANCHORED
    return dict(
        id=row.id,
        status=status,
        batch_id=batch.id,
        programme_id=row.programme_id,
        issuer_address=row.issuer_address,
        digest=row.digest,
        share_url=share_url(hub, row.share_token),
        transaction_hash=batch.tx_hash if anchored else None,
        anchored_at=utc(batch.anchored_at) if anchored else None,
        revoked=row.revoked_at is not None,
        revoked_at=utc(row.revoked_at),
        revocation_reason=revocation.reason_name(row.revocation_reason),
        created_at=utc(row.created_at),
        shared_claims=list(row.shared_claims or []),
        document=row.document if anchored else None,
    )


def _load(db: Session, credential_id: str) -> tuple[models.Credential, models.Batch]:
    row = cohorts.load_credential(db, credential_id)
    return row, row.batch


def _own(principal: Principal, row: models.Credential, what: str) -> None:
    cohorts.check_own(principal.address, row, what)


def _holder_opens(row: models.Credential, holder_token: str | None) -> bool:
    if not holder_token:
        return False
    return hmac.compare_digest(pipeline.hash_token(holder_token.strip()), row.holder_token_hash)


HolderToken = Annotated[
    str | None,
    Header(
        alias=HOLDER_TOKEN_HEADER, description="the graduate's holder token, returned when the credential was issued"
    ),
]


CredentialId = Annotated[str, Path(max_length=36, description="the credential's id", examples=[EXAMPLE_ID])]


# ---------------------------------------------------------------- issuing


@router.post(
    "",
    response_model=CredentialIssued,
    status_code=201,
    operation_id="issueCredential",
    responses={
        202: {
            "model": CredentialIssued,
            "description": "Stored and on its way to the chain, not "
            "anchored yet: keep the holder token; GET /credentials/{id} gives the credential "
            "once anchored",
        },
        **problems.responses(401, 403, 409, 413, 415, 422, 503),
    },
)
@idempotent
async def issue_credential(
    body: CredentialCreate, hub: HubDep, principal: Issuer, response: Response
) -> CredentialIssued:
    """Issue one credential to one graduate (issuer key): 201 once it is anchored on chain, or 202 when its
    transaction is not final within the service's wait (HUB_REQUEST_WAIT).

    Both answers hold the credential's id, its share URL and the holder token (shown only here: keep it). A 202
    is stored and on its way: GET /credentials/{id} (Location) gives the full credential once anchored."""
    assert principal.address is not None
    issued, batch_id = await run_in_threadpool(cohorts.store_one, hub, principal.address, body)
    try:
        status = await hub.batch_waiter.wait(batch_id, hub.settings.request_wait)
        result = await run_in_threadpool(_issued, hub, issued, batch_id, status)
    except HubError:
        raise
    except Exception:  # stored, so its holder token must reach the partner whatever failed since (the database)
        log.warning("credential %s is stored; its state could not be read back", issued.id, exc_info=True)
        result = CredentialIssued(
            id=issued.id,
            status="pending",
            batch_id=batch_id,
            programme_id=issued.programme_id,
            issuer_address=principal.address,
            digest=to_hex32(issued.digest),
            share_url=share_url(hub, issued.share_token),
            created_at=datetime.now(UTC),
            holder_token=issued.holder_token,
            holder_url=holder_url(hub, issued.holder_token),
        )
    response.headers["Location"] = f"/credentials/{issued.id}"
    if result.status != BatchState.ANCHORED:
        response.status_code = 202  # follow Location (GET, not this POST again: that would issue another)
    return result


def _issued(hub: Hub, issued: pipeline.PreparedCredential, batch_id: str, status: BatchState) -> CredentialIssued:
    with hub.sessions() as session:
        row, batch = _load(session, issued.id)
        if status == BatchState.FAILED:
            raise Conflict(
                f"the credential {issued.id} could not be anchored: {batch.error}",
                credential_id=issued.id,
                batch_id=batch_id,
            )
        return CredentialIssued(
            **credential_public(hub, row, batch),
            holder_token=issued.holder_token,
            holder_url=holder_url(hub, issued.holder_token),
        )


_CSV_EXAMPLE = (
    "programme_id,email,name,grade,valid_from,valid_until\n"
    "miw-data-analytics,jan.devries@example.org,Jan de Vries,8.5,2026-07-01,2031-07-01\n"
    'miw-data-analytics,fatima.elamrani@example.org,Fatima El Amrani,"7,9",2026-07-01,\n'
)
_cohort_schema = CohortCreate.model_json_schema(ref_template="#/components/schemas/{model}")
_cohort_schema.pop("$defs", None)  # CredentialCreate is in the components already (POST /credentials)
_COHORT_BODY = {
    "required": True,
    "description": (
        'The cohort, as JSON (`{"credentials": [...]}`, each as for POST /credentials), as CSV (`text/csv`), '
        "or as a CSV file upload (`multipart/form-data`, field `file`). CSV: a header row, then one row per "
        f"graduate; columns {', '.join(CSV_COLUMNS)} (the first three required; `,` or `;` separated; UTF-8). "
        "See docs/examples/cohort.csv."
    ),
    "content": {
        "application/json": {"schema": _cohort_schema},
        "text/csv": {"schema": {"type": "string"}, "example": _CSV_EXAMPLE},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
    },
}


_EMPTY = object()  # a JSON cohort's empty body (null is JSON)


def _media(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def _read_cohort_json(request: Request) -> Any:
    """A JSON cohort body, read by the one rule for JSON bodies (problems.read_json: 400 not-json, 422
    invalid-input) before the key is checked, as FastAPI reads a body model's; _EMPTY when it is empty (the
    route says so, after the key), None when the body is not application/json (the route reads it)."""
    if _media(request) != "application/json":
        return None
    body = await request.body()
    return await problems.read_json_body(body) if body else _EMPTY


@router.post(
    "/batch",
    response_model=BatchAccepted,
    status_code=202,
    operation_id="issueCohort",
    openapi_extra={"requestBody": _COHORT_BODY},
    responses=problems.responses(401, 403, 409, 413, 415, 422, 503),
)
@idempotent
async def issue_cohort(
    request: Request,
    hub: HubDep,
    cohort_json: Annotated[Any, Depends(_read_cohort_json)],
    principal: Issuer,
    response: Response,
) -> BatchAccepted:
    """Issue a whole cohort (issuer key), anchored by one transaction in the background: 202 with the batch id.

    Every row is checked first; one bad row refuses the whole cohort (422 naming the row and the reason) and
    nothing is stored or anchored. More than the service's max_batch_size rows, or a body over max_body_bytes,
    is 413 with the limit. The answer lists each credential's id, share URL and holder token (shown only
    here); GET /batches/{id} tells when the batch is anchored."""
    assert principal.address is not None
    media = _media(request)
    limit = hub.settings.max_batch_size
    if media == "application/json":
        rows = await run_in_threadpool(_cohort_from_json, cohort_json, limit)
    elif media in ("text/csv", "application/csv"):
        rows = await run_in_threadpool(parse_cohort_csv, await request.body(), limit)
    elif media == "multipart/form-data":
        data = csv_from_multipart(await request.body(), request.headers["content-type"])
        rows = await run_in_threadpool(parse_cohort_csv, data, limit)
    else:
        raise UnsupportedMediaType(
            f"{f'the body is {media}' if media else 'the request has no Content-Type'}: send "
            "the cohort as application/json, text/csv or multipart/form-data (a CSV file in "
            "the field 'file')"
        )
    accepted = await run_in_threadpool(_accept_cohort, hub, principal.address, rows)
    response.headers["Location"] = f"/batches/{accepted.id}"
    return accepted


def _cohort_from_json(value: Any, limit: int) -> list[Row]:
    """The cohort of a JSON body (as _read_cohort_json read it), with what is wrong with the body as a whole
    (empty, not an object) in words."""
    if value is _EMPTY:
        raise NotJson('the body is empty: send the cohort as a JSON object {"credentials": [...]}')
    if not isinstance(value, dict):
        raise InvalidInput(f'the body must be a JSON object {{"credentials": [...]}}, not {problems.json_type(value)}')
    return cohort_from_json(value, limit)


def _accept_cohort(hub: Hub, issuer: str, rows: list[Row]) -> BatchAccepted:
    batch_id, cohort = cohorts.accept_cohort(hub, issuer, rows)
    return BatchAccepted(
        id=batch_id,
        status="pending",
        count=cohort.batch.count,
        root="0x" + cohort.root.hex(),
        issuer_address=issuer,
        credentials=[
            CohortCredential(
                row=item.row.number,
                email=item.row.request.email,
                id=item.id,
                share_url=share_url(hub, item.share_token),
                holder_token=item.holder_token,
                holder_url=holder_url(hub, item.holder_token),
            )
            for item in cohort.credentials
        ],
    )


# ---------------------------------------------------------------- reading


@router.get(
    "/{credential_id}",
    response_model=CredentialPublic,
    operation_id="getCredential",
    responses=problems.responses(401, 403, 404),
)
def get_credential(
    credential_id: CredentialId,
    hub: HubDep,
    db: DbSession,
    request: Request,
    holder_token: Annotated[
        str | None,
        Header(
            alias=HOLDER_TOKEN_HEADER,
            description="the graduate's holder token, returned when the credential was issued (instead of an API key)",
        ),
    ] = None,
    _scheme: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
) -> CredentialPublic:
    """The full credential: for the partner that issued it (its issuer key), or for its graduate (the holder
    token in the X-Holder-Token header)."""
    authorization = request.headers.get("authorization")
    if not authorization and not holder_token:
        raise Unauthenticated(
            f"send the holder token as '{HOLDER_TOKEN_HEADER}: <token>', or the issuing "
            "partner's API key as 'Authorization: Bearer <key>'"
        )
    row, batch = _load(db, credential_id)
    if _holder_opens(row, holder_token):
        return CredentialPublic(**credential_public(hub, row, batch))
    if not authorization:
        raise Forbidden(
            "this holder token does not open this credential: use the token returned with it when it was issued"
        )
    principal = require_role(authenticate(db, authorization), Role.ISSUER)
    _own(principal, row, "read")
    return CredentialPublic(**credential_public(hub, row, batch))


# ---------------------------------------------------------------- sharing


@router.put(
    "/{credential_id}/sharing",
    response_model=SharingPublic,
    operation_id="setSharing",
    responses=problems.responses(401, 403, 404, 413, 415, 422),
)
def set_sharing(
    credential_id: CredentialId,
    body: SharingUpdate,
    hub: HubDep,
    db: DbSession,
    request: Request,
    holder_token: HolderToken = None,
) -> SharingPublic:
    """Choose which claims the share link shows (the graduate, with the holder token in X-Holder-Token).

    By default a share link shows no personal claim. `{"disclose": ["name"]}` puts the graduate's name on the
    share page, its credential.json and certificate.pdf; `["name", "result"]` the grade too; `"identifier"` the
    salted hash of the email address (so a verifier who knows the address can check it); `[]` hides them
    again. Only claims this credential has can be chosen (422 naming the others). It is the graduate's
    choice: an API key, even the issuer's, is refused (403)."""
    if not holder_token:
        if request.headers.get("authorization"):
            raise Forbidden(
                "only the graduate chooses what their share link shows: send the holder token as "
                f"'{HOLDER_TOKEN_HEADER}: <token>', not an API key"
            )
        raise Unauthenticated(f"send the holder token as '{HOLDER_TOKEN_HEADER}: <token>'")
    row, _batch = _load(db, credential_id)
    if not _holder_opens(row, holder_token):
        raise Forbidden(
            "this holder token does not open this credential: use the token returned with it when it was issued"
        )
    available = available_claims(row)
    unknown = [name for name in dict.fromkeys(body.disclose) if name not in available]
    if unknown:
        raise InvalidInput(
            f"disclose: this credential has no claim {', '.join(repr(n) for n in unknown)}; it "
            f"can disclose {', '.join(available) or 'nothing'}"
        )
    chosen = [name for name in available if name in set(body.disclose)]
    row.shared_claims = chosen
    db.commit()
    return SharingPublic(
        credential_id=row.id,
        share_url=share_url(hub, row.share_token),
        shared_claims=chosen,
        available_claims=available,
    )


@router.post(
    "/{credential_id}/certificate-links",
    response_model=CertificateLinkPublic,
    status_code=201,
    operation_id="createCertificateLink",
    responses={
        200: {"model": CertificateLinkPublic, "description": "The link made earlier for the same claims"},
        **problems.responses(401, 403, 404, 409, 413, 415, 422),
    },
)
def create_certificate_link(
    credential_id: CredentialId,
    body: CertificateLinkCreate,
    hub: HubDep,
    db: DbSession,
    request: Request,
    response: Response,
    holder_token: HolderToken = None,
    _scheme: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
) -> CertificateLinkPublic:
    """A share link made for one printed certificate (`hub cohort export`): it discloses exactly the claims the
    certificate prints (`disclose`, of name and result), so that the page behind the certificate's QR code
    confirms everything printed on it, and nothing else.

    For the issuing partner (its issuer key) or the graduate (the holder token). The link is as private as the
    paper: only whoever sees the certificate (and so its printed name) learns it. It leaves the graduate's own
    share link and its choice (PUT /credentials/{id}/sharing) as they are. One link per set of claims: asking
    again answers the same link (200). 409 while the credential is not anchored; 422 for a claim the
    credential does not have or a certificate does not print."""
    row, batch = _load(db, credential_id)
    if _holder_opens(row, holder_token):
        created_by = "holder"
    else:
        authorization = request.headers.get("authorization")
        if not authorization:
            if holder_token:
                raise Forbidden(
                    "this holder token does not open this credential: use the token returned with it when it was issued"
                )
            raise Unauthenticated(
                f"send the holder token as '{HOLDER_TOKEN_HEADER}: <token>', or the issuing "
                "partner's API key as 'Authorization: Bearer <key>'"
            )
        _own(require_role(authenticate(db, authorization), Role.ISSUER), row, "make certificate links for")
        created_by = "issuer"
    link, created = sharing.certificate_link(hub, db, row, body.disclose, created_by)
    if not created:
        response.status_code = 200
    return CertificateLinkPublic(
        credential_id=row.id, share_url=share_url(hub, link.token), shared_claims=list(link.claims)
    )


# ---------------------------------------------------------------- revoking


@router.post(
    "/{credential_id}/revoke",
    response_model=RevocationPublic,
    operation_id="revokeCredential",
    responses=problems.responses(401, 403, 404, 409, 413, 415, 422, 503),
)
@idempotent
def revoke_credential(
    credential_id: CredentialId, body: RevocationCreate, hub: HubDep, db: DbSession, principal: Issuer
) -> RevocationPublic:
    """Revoke a credential (the issuing partner's key), with a reason: recorded on chain with revokeBySig,
    signed with the partner's key and relayed by the hub (partners need no ether)."""
    assert principal.address is not None
    code = REASON_CODES[body.reason]
    done = revocation.revoke_own(hub, principal.address, credential_id, code, db=db)
    return RevocationPublic(
        credential_id=credential_id,
        reason=body.reason,
        reason_code=code,
        reason_text=revocation_reason(code),
        revoked_at=done.revoked_at,
        transaction_hash=done.tx_hash,
    )
