"""POST /verify: an employer (anyone, no key) verifies a credential as the graduate shared it.

The body is the credential JSON (with whatever disclosures it carries). The answer is the verifier's
report (service.credentials.verify_credential): `valid` and every named check, in order. A credential
that fails a check is still a 200 with `valid: false`, including one anchored on another chain or in
another registry (the `network` check fails): the verifier trusts only the hub's own chain and
registry. A 4xx means the body is not a credential at all (problem+json): 415 not a JSON content type,
413 larger than the format's limit (256 KiB), 400 not JSON (syntax, UTF-8, BOM, NaN), 422 JSON that
is not a credential of this format (the detail says what is wrong). When the chain must be asked and
does not answer: 503 with Retry-After, since a report would show the credential not valid only
because the node was down.

The chain facts come from the hub's VerificationCache (service.chain.facts_cache), one answer per
credential per block. The route verifies in two steps on the event loop (service.credentials.verifier.
Verification): the offline checks, which say what the registry is to be asked; then that answer, from
the cache or with one asyncio eth_call (concurrent requests for the same answer share it); then the
chain checks. The node is never waited for on the loop; verification itself is pure computation (a
few hundred microseconds for a shared credential).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from service import i18n
from service.api import problems
from service.api.deps import get_hub
from service.chain.facts_cache import VerificationCache
from service.credentials.canonical import MAX_CREDENTIAL_BYTES, InputError, credential_digest, parse_json
from service.credentials.document import FormatError, format_datetime, validate_credential
from service.credentials.facts import ChainSnapshot
from service.credentials.receipt import AnchorReceipt
from service.credentials.verifier import CHECK_ORDER, Verification, VerificationReport
from service.documents.badge import NotBaked, unbake
from service.documents.carrier import (
    MAX_PDF_BYTES,
    PRINT_CHECK,
    BrokenPdf,
    Carried,
    PrintComparison,
    compare_print,
    credential_file,
    extract_credential,
    print_check,
)
from service.errors import (
    ChainUnavailable,
    HubError,
    InvalidInput,
    NoEmbeddedCredential,
    NotJson,
    PayloadTooLarge,
    UnreadablePdf,
    UnsupportedMediaType,
)
from service.sharing import MAX_LINK_CHARS, resolve_link

log = logging.getLogger(__name__)
router = APIRouter(tags=["verify"], route_class=problems.JsonRoute)

RETRY_AFTER_SECONDS = 2
# JSON media types a credential may come as: JSON, JSON-LD, the VC 2.0 media types, any +json type.
JSON_MEDIA_TYPES = frozenset({"application/json", "application/ld+json", "application/vc", "application/vc+ld+json"})
LINK_MEDIA_TYPES = frozenset({"text/uri-list", "text/plain"})
BADGE_MEDIA_TYPES = frozenset({"image/png", "image/svg+xml"})
EXAMPLE_CREDENTIAL = Path(__file__).resolve().parents[2] / "docs" / "examples" / "credential-shared.json"

# ---------------------------------------------------------------- schemas (the report as JSON)

CheckName = Literal[(*CHECK_ORDER, PRINT_CHECK)]  # type: ignore[valid-type]


class CheckPublic(BaseModel):
    name: CheckName = Field(description="the check's stable name", examples=["not_revoked"])
    title: str = Field(examples=["Not revoked"])
    status: Literal["passed", "failed", "not_run"]
    reason: str = Field(
        description="the verifier's own words, technical (always English, instants in UTC)", examples=["not revoked"]
    )
    explanation: str = Field(
        description="what the outcome means, in one plain sentence, in the language of the answer (Content-Language: "
        "Dutch or English, by Accept-Language)",
        examples=["The issuer has not withdrawn it."],
    )


class CredentialSummaryPublic(BaseModel):
    """What the verified document says, disclosed claims included."""

    id: str
    name: str
    issuer_name: str
    issuer_id: str = Field(description="the issuer's DID (did:web; its Ethereum account is in the anchor summary)")
    achievement_id: str
    programme: str
    ects: float
    eqf_level: str
    theme: str
    valid_from: str
    valid_until: str | None
    disclosed: dict[str, Any] = Field(description="the claims the holder chose to disclose, by name")
    signing_key: str | None = Field(
        None,
        description="publicKeyMultibase (Ed25519 Multikey) of the key whose Data Integrity proof verified; null "
        "when none did",
    )


class AnchorSummaryPublic(BaseModel):
    """Where the credential says it is anchored, and what the chain answered (null when not asked)."""

    chain_id: int
    registry: str
    merkle_root: str
    credential_digest: str
    transaction_hash: str | None = Field(
        description="the anchoring transaction as the chain confirmed it (its "
        "receipt holds the registry's BatchAnchored event); null "
        "when not confirmed"
    )
    claimed_transaction_hash: str = Field(description="proof.transactionHash as the document says (unchecked)")
    issuer: str
    relayed: bool = Field(description="anchored by a relayer with the issuer's EIP-712 signature")
    anchored_in_block: int | None = Field(description="the block of the anchoring transaction (confirmed)")
    block_number: int | None = Field(description="the block the registry was read at")
    block_timestamp: int | None
    anchored_at: int | None
    issuer_accredited_now: bool | None
    revoked_at: int | None
    revocation_reason: int | None


class StatusListPublic(BaseModel):
    """The credential's bit in the hub's status list (W3C Bitstring Status List), as extra information: the
    chain decides revocation (the `not_revoked` check); the list follows it within one indexer interval."""

    url: str = Field(description="the status list credential (credentialStatus.statusListCredential)")
    index: int = Field(description="credentialStatus.statusListIndex")
    revoked: bool = Field(description="the list's bit: 1 = revoked")
    block: int = Field(description="the block whose revocations the list reflects (statusListBlock)")
    valid_until: str = Field(description="the list's validUntil")
    agrees_with_chain: bool | None = Field(
        description="whether the bit says what the chain says; null when the chain was not asked"
    )


class PrintedFactPublic(BaseModel):
    """One fact of a certificate PDF: as the PDF prints it and as its embedded credential says it."""

    label: str = Field(examples=["Awarded to"])
    printed: str | None = Field(description="as the PDF prints it; null when the page does not show it")
    credential: str | None = Field(description="as the verified credential says it; null when it does not")
    matches: bool


class VerificationReportPublic(BaseModel):
    """The verifier's report: `valid` only when every check in it passed."""

    valid: bool
    summary: str = Field(
        description="the answer in plain words, for people, in the language of the answer (`language`)",
        examples=["This credential is valid: issued by Hanzehogeschool Groningen on 1 July 2026 (CEST)."],
    )
    language: Literal["nl", "en"] = Field(
        description="the language of `summary` and each check's `explanation`: chosen by Accept-Language (Dutch "
        "when the request names no language, English when it names neither); also in Content-Language. The rest "
        "(titles, reasons, problem details) is English"
    )
    source: Literal["credential", "pdf", "share_link", "badge"] = Field(
        "credential",
        description="what was posted: the credential JSON, a certificate PDF (its embedded credential was "
        "verified, and the `certificate_print` check compares what the PDF prints with it), or a share link "
        "of this hub (its shared copy was verified), or a baked badge image (the credential baked into it)",
    )
    printed: list[PrintedFactPublic] | None = Field(
        None, description="for a PDF: each fact the certificate prints beside what the credential says"
    )
    checks: list[CheckPublic] = Field(description="in the order of docs/credential-format.md section 8")
    checked_at: str = Field(description="the moment the validity period was judged at")
    clock: Literal["given", "local"] = Field(
        description="whose clock checked_at is: the verifier's own (local) or a moment the caller gave"
    )
    credential: CredentialSummaryPublic | None
    anchor: AnchorSummaryPublic | None
    status_list: StatusListPublic | None = Field(
        None,
        description="the credential's bit in this hub's status list; null when it points to none of this hub's",
    )


def _example_explanation(name: str, status: str) -> str:
    """A check's English explanation in the examples (service.pages.present)."""
    from service.pages import present

    with i18n.use("en"):
        return present.explanation(name, status)


EXAMPLE_KEY = "z6MkoGd3sdR5Erb5Yg7QibDSWHztXcWkg49hJr2Sd1JL12As"
EXAMPLE_DID = "did:web:ithubhoogeveen.nl:issuers:hanzehogeschool-groningen"


def _example_report(valid: bool) -> dict[str, Any]:
    root = "0x84b6e8c05be78eb800b4ec7445f9602f5a9f0dbe151c1ce5040c3e0466e18593"
    where = "registry 0x5FbDB2315678afecb367f032d93F642f64180aa3 on chain 31337 (block 7)"
    checks = [
        ("format", "Format", "passed", "an OpenBadgeCredential with a MerkleAnchor2026 proof"),
        (
            "integrity",
            "Integrity",
            "passed",
            "the body's digest is 0x2c3287913f5872bd586ce4d21773dd77c9d0121cbf7f61db8956e628ae3cd696",
        ),
        ("disclosures", "Disclosures", "passed", "1 disclosed, each matching its digest: name"),
        (
            "issuer_signature_di",
            "Signed by the issuer's key",
            "passed",
            f"signed by key {EXAMPLE_KEY} of {EXAMPLE_DID} (eddsa-rdfc-2022, created 2026-07-01T09:29:58Z)",
        ),
        ("merkle_inclusion", "Merkle inclusion", "passed", f"a path of 2 hashes leads to root {root}"),
        (
            "network",
            "Chain and registry",
            "passed",
            "chain 31337, registry 0x5FbDB2315678afecb367f032d93F642f64180aa3 (configured)",
        ),
        ("anchored", "Anchored on chain", "passed", f"anchored at 2026-07-01T09:30:12Z in {where}"),
        (
            "issuer_binding",
            "Anchored by the issuer",
            "passed",
            "anchored by 0x70997970C51812dc3A010C7d01b50e0d17dc79C8, the issuer 'Hanzehogeschool Groningen' of "
            "the document",
        ),
        (
            "anchor_transaction",
            "Anchoring transaction",
            "passed",
            "transaction 0x8c1d7b4a2f3e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c in block 5 anchored this "
            "root for 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 (through relayer "
            "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC)",
        ),
        (
            "issuer_signature",
            "Issuer's anchoring signature",
            "passed",
            f"0x70997970C51812dc3A010C7d01b50e0d17dc79C8 signed the request to anchor root {root}",
        ),
        (
            "issuer_accredited",
            "Issuer accredited",
            "passed",
            "0x70997970C51812dc3A010C7d01b50e0d17dc79C8 was accredited when it anchored (still accredited)",
        ),
        (
            "issuer_key_accredited",
            "Key accredited by the board at anchoring",
            "passed",
            "key z6MkoGd3…JL12As was the key the board had accredited for 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 "
            "when it anchored at 2026-07-01T09:30:12Z",
        ),
        ("not_revoked", "Not revoked", "passed", "not revoked"),
        (
            "validity_window",
            "Validity period",
            "passed",
            "valid at 2026-11-23T14:02:11Z (by this verifier's clock): from 2026-07-01T00:00:00Z until "
            "2031-07-01T00:00:00Z",
        ),
    ]
    if not valid:
        checks[next(i for i, item in enumerate(checks) if item[0] == "not_revoked")] = (
            "not_revoked",
            "Not revoked",
            "failed",
            "revoked at 2026-09-14T11:20:05Z: issued in error",
        )
    return {
        "valid": valid,
        "summary": "This credential is valid: issued by Hanzehogeschool Groningen on 1 July 2026 (CEST)."
        if valid
        else "Not valid: it was revoked on 14 September 2026 (CEST) because it was issued in error. It was issued by "
        "Hanzehogeschool Groningen on 1 July 2026 (CEST).",
        "language": "en",
        "checks": [
            {"name": n, "title": t, "status": s, "reason": r, "explanation": _example_explanation(n, s)}
            for n, t, s, r in checks
        ],
        "checked_at": "2026-11-23T14:02:11Z",
        "clock": "local",
        "credential": {
            "id": "urn:uuid:3f0c2a6e-8d1b-4c5e-9a7f-2b6d4e8f1a30",
            "name": "Make IT Work: Data Analytics",
            "issuer_name": "Hanzehogeschool Groningen",
            "issuer_id": EXAMPLE_DID,
            "achievement_id": "urn:ithub-hoogeveen:programme:miw-data-analytics",
            "programme": "Make IT Work: Data Analytics",
            "ects": 15.0,
            "eqf_level": "6",
            "theme": "Data analytics",
            "valid_from": "2026-07-01T00:00:00Z",
            "valid_until": "2031-07-01T00:00:00Z",
            "disclosed": {"name": "Jan de Vries"},
            "signing_key": EXAMPLE_KEY,
        },
        "anchor": {
            "chain_id": 31337,
            "registry": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
            "merkle_root": root,
            "credential_digest": "0x2c3287913f5872bd586ce4d21773dd77c9d0121cbf7f61db8956e628ae3cd696",
            "transaction_hash": "0x8c1d7b4a2f3e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c",
            "claimed_transaction_hash": "0x8c1d7b4a2f3e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c",
            "anchored_in_block": 5,
            "issuer": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
            "relayed": True,
            "block_number": 7,
            "block_timestamp": 1795442531,
            "anchored_at": 1782898212,
            "issuer_accredited_now": True,
            "revoked_at": None if valid else 1789384805,
            "revocation_reason": None if valid else 2,
        },
    }


@cache
def _example_credential() -> dict[str, Any]:
    try:
        return dict(json.loads(EXAMPLE_CREDENTIAL.read_text(encoding="utf-8")))
    except (OSError, ValueError):  # docs/ is not shipped with an installed package
        return {}


def _openapi_extra() -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": "The credential as the graduate shared it: an OpenBadgeCredential with a MerkleAnchor2026 "
            f"proof (docs/credential-format.md), at most {MAX_CREDENTIAL_BYTES} bytes of UTF-8 JSON; or its "
            f"certificate PDF (at most {MAX_PDF_BYTES} bytes; the credential it embeds is verified); or a share "
            "link of this hub (one line of text/uri-list or text/plain; looked up, never fetched); or a baked "
            "badge (image/png or image/svg+xml, Open Badges 3.0 baking).",
            "content": {
                **{
                    media: {"schema": {"type": "object"}, "example": _example_credential()}
                    for media in ("application/json", "application/ld+json")
                },
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "image/svg+xml": {"schema": {"type": "string"}},
                "text/uri-list": {
                    "schema": {"type": "string"},
                    "example": "http://127.0.0.1:8000/share/q8Yb3xVvN0kTz1sR5mWc7PaLdE2gHjUf",
                },
            },
        }
    }


VERIFY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report: `valid` true or false, with every check",
        "content": {
            "application/json": {
                "examples": {
                    "valid": {"summary": "A valid credential", "value": _example_report(True)},
                    "revoked": {"summary": "A revoked credential: valid is false", "value": _example_report(False)},
                }
            }
        },
    },
    **problems.responses(400, 404, 409, 413, 415, 422, 503),
}

# ---------------------------------------------------------------- the route


@router.post(
    "/verify",
    response_model=VerificationReportPublic,
    operation_id="verifyCredential",
    responses=VERIFY_RESPONSES,
    openapi_extra=_openapi_extra(),
)
async def verify(request: Request) -> Response:
    """Verify a credential against the hub's own chain and registry; no key needed.

    Post the credential JSON as shared (`Content-Type: application/json`), a certificate PDF of the hub
    (`application/pdf`: its embedded credential is verified, and what it prints is compared with it), or a
    share link of this hub (`text/uri-list` or `text/plain`: resolved from the hub's database, never
    fetched). The answer is the report, also when the credential is not valid. Chain facts are read once
    per block and credential."""
    media = _media_type(request.headers.get("content-type"))
    hub = get_hub(request)
    carried: Carried | None = None
    source: Literal["credential", "pdf", "share_link", "badge"] = "credential"
    if media == "application/pdf":
        source = "pdf"
        pdf = await _read_body(request, MAX_PDF_BYTES, f"a certificate PDF is at most {MAX_PDF_BYTES} bytes")
        carried = await run_in_threadpool(_extract, pdf)  # parsing a PDF is CPU work: off the event loop
        raw = carried.credential
    elif media in BADGE_MEDIA_TYPES:
        source = "badge"
        image = await _read_body(request, MAX_PDF_BYTES, f"a badge image is at most {MAX_PDF_BYTES} bytes")
        raw = await run_in_threadpool(_unbake, image)
    elif media in LINK_MEDIA_TYPES:
        source = "share_link"
        text = await _read_body(request, MAX_CREDENTIAL_BYTES)
        if text.lstrip()[:1] in (b"{", b"["):  # a credential sent as text: say how to send it
            raise UnsupportedMediaType(f"{media} is for a share link: send the credential as application/json")
        if len(text) > 4 * MAX_LINK_CHARS:
            raise PayloadTooLarge(f"a share link is at most {MAX_LINK_CHARS} characters")
        link = _link_text(text)
        shared = await run_in_threadpool(resolve_link, hub, link)
        raw = credential_file(shared.document or {})
    else:
        _require_json(request.headers.get("content-type"))
        raw = await _read_body(request, MAX_CREDENTIAL_BYTES)
    # the hub from the app's state, not through HubDep: a sync dependency costs a thread-pool hop
    cache: VerificationCache = hub.verification_cache
    verification = Verification(raw, cache)  # the offline checks; the cache is not asked here
    answer: ChainSnapshot | None = None
    receipt: AnchorReceipt | None = None
    if verification.question is not None:
        try:
            answer = await cache.ask(*verification.question)  # a cache hit, or one eth_call with asyncio I/O
            receipt = await cache.receipts.ask(verification.transaction_hash)  # kept once it confirms
        except ChainUnavailable as exc:
            return _chain_down(request, exc)
    report = verification.finish(answer, receipt)
    if not report.usable:
        problem = _not_a_credential(raw)
        if carried is not None:  # the PDF's attachment is not a credential of this format
            raise NoEmbeddedCredential(f"the PDF's embedded file {carried.file_name!r}: {problem.detail}")
        raise problem
    printed = words = None
    if carried is not None:  # the report's fields in English (for developers), the summary in the reader's words
        with i18n.use("en"):
            printed = compare_print(carried.text, json.loads(raw))
        words = printed if i18n.current() == "en" else compare_print(carried.text, json.loads(raw))
    status_list = await _status_list(request, raw, report)
    return Response(
        report_json(report, status_list=status_list, source=source, printed=printed, printed_words=words),
        media_type="application/json",
    )


def _media_type(content_type: str | None) -> str:
    return (content_type or "").partition(";")[0].strip().lower()


def _extract(pdf: bytes) -> Carried:
    if not pdf.strip():
        raise UnreadablePdf("the body is empty: post the certificate PDF")
    try:
        return extract_credential(pdf)
    except BrokenPdf as exc:
        raise UnreadablePdf(str(exc)) from exc
    except ValueError as exc:  # carrier.NoEmbeddedCredential
        raise NoEmbeddedCredential(str(exc)) from exc


def _unbake(image: bytes) -> bytes:
    try:
        return unbake(image)
    except NotBaked as exc:
        raise NoEmbeddedCredential(f"this image carries no credential: {exc}") from exc


def _link_text(body: bytes) -> str:
    """The one link of a text/uri-list or text/plain body (comment lines of a URI list are skipped)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("the link is not UTF-8 text") from exc
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if len(lines) != 1:
        raise InvalidInput(f"post exactly one share link of this hub ({len(lines)} lines were sent)")
    return lines[0]


async def _status_list(request: Request, raw: bytes, report: VerificationReport) -> dict[str, Any] | None:
    """The credential's bit in this hub's status list (read from the database at most once per list and ttl)."""
    if b'"credentialStatus"' not in raw or report.credential is None:
        return None
    lists = get_hub(request).status_lists
    try:
        entry = json.loads(raw).get("credentialStatus")
    except (ValueError, AttributeError):
        return None
    where = lists.locate(entry)
    if where is None:
        return None
    if lists.stale(where):
        await run_in_threadpool(lists.load, where)
    found = lists.bit_at(where)
    if found is None:
        return None
    anchor = report.anchor
    on_chain = None if anchor is None or anchor.block_number is None else anchor.revoked_at is not None
    return {
        "url": found.url,
        "index": found.index,
        "revoked": found.revoked,
        "block": found.block,
        "valid_until": format_datetime(found.valid_until),
        "agrees_with_chain": None if on_chain is None else on_chain == found.revoked,
    }


def _require_json(content_type: str | None) -> None:
    media, _, params = (content_type or "").partition(";")
    media = media.strip().lower()
    if not media:
        raise UnsupportedMediaType(
            "send the credential with 'Content-Type: application/json' (a certificate PDF as application/pdf, "
            "a share link as text/uri-list)"
        )
    if media not in JSON_MEDIA_TYPES and not (media.startswith("application/") and media.endswith("+json")):
        raise UnsupportedMediaType(
            f"{media} is not accepted: send the credential as application/json, a certificate PDF as "
            "application/pdf, a baked badge as image/png or image/svg+xml, or a share link of this hub as text/uri-list"
        )
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(f"charset {value.strip()} is not accepted: JSON is UTF-8")


async def _read_body(request: Request, limit: int, message: str | None = None) -> bytes:
    declared = request.headers.get("content-length")
    too_large = PayloadTooLarge(
        message or f"a credential is at most {limit} bytes (docs/credential-format.md section 10)"
    )
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _not_a_credential(raw: bytes) -> HubError:
    """Why `raw` is not a credential, as 400 (not JSON) or 422 (JSON, but not a credential of this format)."""
    if not raw.strip():
        return NotJson("the body is empty: post the credential's JSON as the graduate shared it")
    try:
        document = parse_json(raw)
    except InputError as exc:
        cause = exc.__cause__
        message = str(exc)
        if (
            isinstance(cause, UnicodeDecodeError | json.JSONDecodeError)
            or message.endswith("is not JSON")
            or "byte order mark" in message
        ):
            return NotJson(message)
        return InvalidInput(f"not a credential of this format: {message}")  # depth, duplicates, integer range
    try:
        validate_credential(document)
        credential_digest(document)
    except FormatError as exc:
        return InvalidInput(f"not a credential of this format: {exc}", errors=exc.problems)
    except InputError as exc:  # JSON the canonical form cannot write (a lone surrogate)
        return InvalidInput(f"not a credential of this format: {exc}")
    return InvalidInput("not a credential of this format")  # the verifier refused it: should not happen


def _chain_down(request: Request, failure: ChainUnavailable) -> JSONResponse:
    log.warning("POST /verify: the chain does not answer: %s", failure.detail)
    response = problems.problem_response(
        request,
        problems.status_of(failure),
        failure.slug,
        failure.title,
        "the hub's chain node does not answer, so the credential cannot be checked now; try again shortly",
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _json_dumps(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_dumps: Callable[[Any], bytes]
try:
    import orjson

    _dumps = orjson.dumps
except ImportError:  # pragma: no cover - the same JSON, slower
    _dumps = _json_dumps


def report_json(
    report: VerificationReport,
    *,
    status_list: dict[str, Any] | None = None,
    source: Literal["credential", "pdf", "share_link", "badge"] = "credential",
    printed: PrintComparison | None = None,
    printed_words: PrintComparison | None = None,
) -> bytes:
    """The report as JSON bytes, as VerificationReport.to_json() gives it (without its deep copies), with the
    status list's bit (`_status_list`) when the route found one; for a certificate PDF (`printed`) with one more
    check, `certificate_print`, which `valid` includes. `printed` names the facts in English (as every field but
    the plain words); `printed_words` is the same comparison in the reader's language, for `summary`."""
    credential = report.credential
    anchor = report.anchor
    from service.pages import present  # the plain words of the pages (imported late: the pages import the API)

    checks = [
        {  # a StrEnum: its value
            "name": c.name,
            "title": c.title,
            "status": c.status,
            "reason": c.reason,
            "explanation": present.explanation(c.name, c.status),
        }
        for c in report.checks
    ]
    answer = present.verdict(report)
    if printed is not None:
        check = print_check(printed)
        checks.append({**check, "explanation": present.explanation(check["name"], check["status"])})
        if not printed.matches:
            answer = present.edited_print(answer, printed_words or printed)
    body = {
        "valid": report.valid and (printed is None or printed.matches),
        "summary": present.summary(answer),
        "language": i18n.current(),
        "source": source,
        "printed": None
        if printed is None
        else [
            {"label": f.label, "printed": f.printed, "credential": f.credential, "matches": f.matches}
            for f in printed.facts
        ],
        "checks": checks,
        "checked_at": report.checked_at,
        "clock": report.clock,
        "credential": None
        if credential is None
        else {
            "id": credential.id,
            "name": credential.name,
            "issuer_name": credential.issuer_name,
            "issuer_id": credential.issuer_id,
            "achievement_id": credential.achievement_id,
            "programme": credential.programme,
            "ects": credential.ects,
            "eqf_level": credential.eqf_level,
            "theme": credential.theme,
            "valid_from": credential.valid_from,
            "valid_until": credential.valid_until,
            "disclosed": credential.disclosed,
            "signing_key": credential.signing_key,
        },
        "anchor": None
        if anchor is None
        else {
            "chain_id": anchor.chain_id,
            "registry": anchor.registry,
            "merkle_root": anchor.merkle_root,
            "credential_digest": anchor.credential_digest,
            "transaction_hash": anchor.transaction_hash,
            "claimed_transaction_hash": anchor.claimed_transaction_hash,
            "issuer": anchor.issuer,
            "relayed": anchor.relayed,
            "anchored_in_block": anchor.anchored_in_block,
            "block_number": anchor.block_number,
            "block_timestamp": anchor.block_timestamp,
            "anchored_at": anchor.anchored_at,
            "issuer_accredited_now": anchor.issuer_accredited_now,
            "revoked_at": anchor.revoked_at,
            "revocation_reason": anchor.revocation_reason,
        },
        "status_list": status_list,
    }
    return _dumps(body)
