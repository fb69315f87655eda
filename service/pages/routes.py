"""The pages people read: home, a graduate's share page, the employer's verify page.

    GET  /                               the hub, and where to go
    GET  /share/{token}                  the shared credential with its live verification
    GET  /share/{token}/credential.json  the shared copy (the file an employer verifies)
    GET  /share/{token}/certificate.pdf  the printable certificate of the shared copy, with a QR code
    GET  /verify                         paste or upload a credential ...
    POST /verify/check                   ... and read the report (POST /verify stays the JSON API)

The board's register and the partners' pages are in service.pages.board.

The shared copy. The database holds the holder's full copy (`Credential.document`: every disclosure,
so the name and the grade) and the holder's choice of what to share (`Credential.shared_claims`, set
with PUT /credentials/{id}/sharing and the holder token; empty by default). A share link is public,
so the page, the JSON and the PDF behind it use the full copy with only the chosen disclosures
(`shared_copy`): the anchored body is unchanged, so it verifies the same, and the graduate's name or
grade appear only once the holder chose to show them. A printed certificate has a share link of its
own (`ShareLink`, made by `hub cohort export` with POST /credentials/{id}/certificate-links): it
discloses exactly the claims that certificate prints, so the page behind its QR code confirms each of
them. Verification is live: the hub's VerificationCache asks the registry, as POST /verify.

The check list says in which block and transaction a credential was anchored from the hub's own record
of the cohort (the batch it anchored, matched by root and issuer), and every time in Dutch time.

Pages are HTML even when they fail (an unknown share link is a 404 page, a chain that does not answer
a 503 page); they load nothing from elsewhere (a Content-Security-Policy says so) and need no script.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import Timeout as RequestsTimeout
from sqlalchemy import select
from starlette.datastructures import UploadFile
from web3.exceptions import ProviderConnectionError, TimeExhausted

from service.api.deps import HubDep, get_hub
from service.credentials import integrity
from service.credentials.canonical import MAX_CREDENTIAL_BYTES
from service.credentials.facts import ChainSnapshot, RegistryTrust
from service.credentials.receipt import AnchorReceipt
from service.credentials.verifier import VerificationReport, verify_credential
from service.db import models
from service.documents.badge import NotBaked, badge_png, badge_svg, looks_baked, unbake
from service.documents.carrier import (
    MAX_PDF_BYTES,
    BrokenPdf,
    Carried,
    CarrierError,
    compare_print,
    credential_file,
    extract_credential,
)
from service.documents.certificate import render_certificate
from service.errors import ChainUnavailable, Conflict, ForeignLink, NotFound
from service.hub import Hub
from service.i18n import _
from service.pages import present
from service.pages.templating import make_templates
from service.sharing import Shared, find_shared, resolve_link

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
templates = make_templates()
templates.env.globals.update(
    hub_name=present.HUB_NAME, state_labels=present.STATE_LABELS, certificate_in=present.CERTIFICATE_IN
)
templates.env.filters.update(moment=present.moment, day=present.day)

router = APIRouter(include_in_schema=False)

# a certificate PDF, or twice a credential: larger parts are refused by the form parser, smaller ones by us
MAX_FORM_PART = MAX_PDF_BYTES * 4 // 3 + 16  # the largest file, also base64 in the language switch's form
CHAIN_ERRORS = (
    ChainUnavailable,
    ProviderConnectionError,
    RequestsConnectionError,
    RequestsTimeout,
    TimeExhausted,
    ConnectionError,
)

# Everything a page loads comes from here; forms post here; no frames, no plugins.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def docs_headers(html: bytes) -> dict[str, str]:
    """The pages' headers for the API docs (Swagger UI, served from /static): its inline start-up script is
    allowed by its hash, its own style attributes by 'unsafe-inline' (styles only), its fetches to this origin."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in re.findall(rb"<script>(.*?)</script>", html, re.S)
    )
    return {
        **SECURITY_HEADERS,
        "Content-Security-Policy": (
            f"default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "connect-src 'self'; font-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        ),
    }


# A share page is for the people the graduate gives the link to: not for search engines or caches.
PRIVATE_HEADERS = {"X-Robots-Tag": "noindex, nofollow", "Cache-Control": "no-store"}


def static_files() -> StaticFiles:
    """The pages' stylesheet and icon, for `app.mount("/static", ...)`."""
    return StaticFiles(directory=STATIC_DIR)


def page(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    private: bool = False,
) -> HTMLResponse:
    headers = {**SECURITY_HEADERS, **(PRIVATE_HEADERS if private else {})}
    return templates.TemplateResponse(request, template, dict(context or {}), status_code=status, headers=headers)


def not_found(request: Request, title: str, message: str, status: int = 404) -> HTMLResponse:
    return page(request, "message.html", {"title": title, "message": message}, status=status, private=True)


# ---------------------------------------------------------------- verification for pages


class _Recorded:
    """The hub's VerificationCache as the verifier's ChainFacts, remembering whether the chain failed to answer."""

    trust = RegistryTrust.CONFIGURED

    def __init__(self, hub: Hub) -> None:
        self.cache = hub.verification_cache
        self.chain_id = self.cache.chain_id
        self.registry = self.cache.registry
        self.failed = False

    def __call__(self, issuer: str, root: bytes, digest: bytes, path: Sequence[bytes]) -> ChainSnapshot:
        try:
            return self.cache(issuer, root, digest, path)
        except ChainUnavailable:
            self.failed = True
            raise

    def anchor_receipt(self, transaction_hash: str) -> AnchorReceipt:
        try:
            return self.cache.anchor_receipt(transaction_hash)
        except ChainUnavailable:
            self.failed = True
            raise


@dataclass(frozen=True)
class Verified:
    report: VerificationReport
    verdict: present.Verdict
    checks: list[present.CheckView]
    chain_failed: bool

    @property
    def status(self) -> int:
        return 503 if self.chain_failed and self.verdict.state == "unchecked" else 200


def verify_for_page(hub: Hub, source: bytes | str | Mapping[str, Any], email: str | None = None) -> Verified:
    """Verify `source` live against the hub's registry (blocking: call it from a thread)."""
    chain = _Recorded(hub)
    report = verify_credential(source, chain, recipient_email=email or None)
    return Verified(
        report, present.verdict(report), present.checks(report, anchoring_record(hub, report)), chain.failed
    )


def anchoring_record(hub: Hub, report: VerificationReport) -> present.Anchoring | None:
    """The hub's record of the anchoring the report checked (the batch it anchored with that root, for that
    issuer): its block and transaction. None for a root the hub did not anchor, or not (yet) anchored."""
    if report.anchor is None:
        return None
    root, issuer = report.anchor.merkle_root.lower(), report.anchor.issuer
    with hub.sessions() as db:
        batches = db.scalars(
            select(models.Batch).where(
                models.Batch.root == root,  # stored lowercase (to_hex32)
                models.Batch.status == "anchored",
            )
        )
        for batch in batches:
            if batch.issuer_address.lower() == issuer.lower() and batch.block_number is not None and batch.tx_hash:
                return present.Anchoring(
                    root=batch.root,
                    issuer=batch.issuer_address,
                    block_number=batch.block_number,
                    transaction_hash=batch.tx_hash,
                    anchored_at=batch.anchored_at,
                )
    return None


# ---------------------------------------------------------------- home


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return page(request, "home.html")


# ---------------------------------------------------------------- share pages


def _nothing_to_show(request: Request, shared: Shared | None) -> HTMLResponse:
    """The page for a share link without a shared copy: unknown (404), withdrawn by the graduate (410), or its
    credential not anchored (409)."""
    if shared is None:
        return not_found(
            request,
            _("This share link does not work"),
            _(
                "There is no credential behind this link. Check that you copied the whole link; if it "
                "still does not work, ask the graduate for a new one."
            ),
        )
    if shared.withdrawn:
        return not_found(
            request,
            _("This share link was withdrawn"),
            _(
                "The graduate withdrew this link, so it no longer shows their credential. If you still need it, "
                "ask the graduate for a new link."
            ),
            status=410,
        )
    if shared.batch_status == "failed":
        return not_found(
            request,
            _("This credential was not issued"),
            _(
                "The issuer could not record this credential in the hub's public register, so it is "
                "not valid. The graduate can ask the issuer to issue it again."
            ),
            status=409,
        )
    return not_found(
        request,
        _("This credential is still being issued"),
        _(
            "The issuer is recording it in the hub's public register. That usually takes a minute or "
            "two: reload this page shortly."
        ),
        status=409,
    )


@router.get("/share/{token}", response_class=HTMLResponse)
def share_page(token: str, request: Request, hub: HubDep) -> HTMLResponse:
    shared = find_shared(hub, token)
    if shared is None or shared.document is None:
        return _nothing_to_show(request, shared)
    verified = verify_for_page(hub, shared.document)
    context = {
        "verified": verified,
        "certificate": present.certificate(shared.document),
        "token": token,
        "share_url": shared.share_url,
        "certificate_link": shared.certificate_link,
    }
    return page(request, "share.html", context, status=verified.status, private=True)


@router.get("/ns/credentials/v1", include_in_schema=False)
def hub_context() -> Response:
    """The hub's JSON-LD context, served at the path of its URL (https://ithubhoogeveen.nl/ns/credentials/v1):
    the bundled copy the Data Integrity proofs are made with, byte for byte."""
    return Response(
        integrity.bundled_context_bytes(integrity.HUB_CONTEXT),
        media_type="application/ld+json",
        headers={"Cache-Control": "public, max-age=86400", "Access-Control-Allow-Origin": "*"},
    )


@router.get("/share/{token}/credential.json")
def share_json(token: str, request: Request, hub: HubDep) -> Response:
    shared = find_shared(hub, token)
    if shared is None or shared.document is None:
        return _nothing_to_show(request, shared)
    return _share_file(
        credential_file(shared.document),  # the bytes its certificate PDF embeds
        "application/json",
        f'attachment; filename="credential-{shared.credential_id}.json"',
    )


@router.get("/share/{token}/certificate.pdf")
def share_pdf(token: str, request: Request, hub: HubDep) -> Response:
    shared = find_shared(hub, token)
    if shared is None or shared.document is None:
        return _nothing_to_show(request, shared)
    verified = verify_for_page(hub, shared.document)
    status = None if verified.verdict.state == "unchecked" else present.status_line(verified.verdict, verified.report)
    pdf = render_certificate(shared.document, shared.share_url, status=status)
    return _share_file(pdf, "application/pdf", f'inline; filename="certificate-{shared.credential_id}.pdf"')


@router.get("/share/{token}/badge.png")
def share_badge_png(token: str, request: Request, hub: HubDep) -> Response:
    """The Open Badges 3.0 baked badge (PNG, iTXt `openbadgecredential`) of the shared copy."""
    shared = find_shared(hub, token)
    if shared is None or shared.document is None:
        return _nothing_to_show(request, shared)
    return _share_file(
        badge_png(shared.document), "image/png", f'attachment; filename="badge-{shared.credential_id}.png"'
    )


@router.get("/share/{token}/badge.svg")
def share_badge_svg(token: str, request: Request, hub: HubDep) -> Response:
    """The Open Badges 3.0 baked badge (SVG, `openbadges:credential`) of the shared copy."""
    shared = find_shared(hub, token)
    if shared is None or shared.document is None:
        return _nothing_to_show(request, shared)
    response = _share_file(
        badge_svg(shared.document), "image/svg+xml", f'attachment; filename="badge-{shared.credential_id}.svg"'
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'"  # an SVG opened alone runs nothing
    return response


def _share_file(content: bytes, media_type: str, disposition: str) -> Response:
    """A file behind a share link: private like the page, and never sniffed as another type."""
    headers = {**PRIVATE_HEADERS, "X-Content-Type-Options": "nosniff", "Content-Disposition": disposition}
    return Response(content, media_type=media_type, headers=headers)


# ---------------------------------------------------------------- verify


@router.get("/verify", response_class=HTMLResponse)
def verify_form(request: Request) -> HTMLResponse:
    return page(request, "verify.html", {"pasted": "", "email": ""})


@router.get("/verify/check")
def verify_check_again() -> RedirectResponse:
    """A bookmarked or reopened answer page: back to the form."""
    return RedirectResponse("/verify", status_code=303)


@router.post("/verify/check", response_class=HTMLResponse)
async def verify_check(request: Request) -> HTMLResponse:
    """The form's answer: the report as a page (the JSON API is POST /verify)."""
    hub = get_hub(request)
    context: dict[str, Any] = {"pasted": "", "email": ""}
    try:
        form = await request.form(max_files=1, max_fields=10, max_part_size=MAX_FORM_PART)
    except Exception:  # noqa: BLE001 - starlette's parser raises several types for a body it cannot read
        return _form_problem(
            request,
            context,
            _(
                "The form could not be read. If you pasted a very large text, note that a credential is at "
                "most %(kb)s KB.",
                kb=MAX_CREDENTIAL_BYTES // 1024,
            ),
        )
    pasted = form.get("credential")
    upload = form.get("file")
    email = form.get("email")
    context["pasted"] = pasted if isinstance(pasted, str) else ""
    context["email"] = email.strip() if isinstance(email, str) else ""
    source: bytes | str = context["pasted"].strip()
    carried: Carried | None = None
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read(MAX_PDF_BYTES + 1)
        if data:
            source = data
            context["uploaded"] = upload.filename
    else:
        resent = _resent_file(form.get("file_b64"), form.get("file_name"))
        if resent is not None:  # the language switch of an answer page: the same file again
            source, context["uploaded"] = resent
    # the language switch of the answer page posts the same input again (see base.html), in the other language
    context["resubmit"] = {
        "credential": context["pasted"],
        "email": context["email"],
        **(
            {"file_b64": base64.b64encode(source).decode("ascii"), "file_name": context.get("uploaded", "")}
            if isinstance(source, bytes)
            else {}
        ),
    }
    if not source:
        return _form_problem(
            request,
            context,
            _("Paste the credential's text (JSON) or its share link into the box, or choose its file."),
        )
    if isinstance(source, bytes) and source.lstrip()[:5] == b"%PDF-":
        if len(source) > MAX_PDF_BYTES:
            return _form_problem(
                request,
                context,
                _("This PDF is too large: a certificate PDF is at most %(kb)s KB.", kb=MAX_PDF_BYTES // 1024),
            )
        try:
            carried = await run_in_threadpool(extract_credential, source)
        except BrokenPdf as exc:
            return _form_problem(
                request,
                context,
                _("This PDF cannot be read (%(error)s). Choose the PDF as you received it.", error=exc),
            )
        except CarrierError:
            return _form_problem(
                request,
                context,
                _(
                    "This PDF does not carry a credential. A certificate of the hub has its credential file inside "
                    "it; ask the graduate for the certificate as the hub made it, the credential file or the share "
                    "link."
                ),
            )
        source = carried.credential
    elif isinstance(source, bytes) and looks_baked(source):
        try:
            source = await run_in_threadpool(unbake, source)
        except NotBaked as exc:
            return _form_problem(
                request,
                context,
                _(
                    "This image does not carry a credential (%(error)s). A badge image of the hub has its credential "
                    "baked in; ask the graduate for the badge as the hub made it, the credential file or the share "
                    "link.",
                    error=exc,
                ),
            )
    elif isinstance(source, str) and re.match(r"(?i)https?://", source):
        try:
            shared = await run_in_threadpool(resolve_link, hub, source)
        except ForeignLink as exc:
            return _form_problem(request, context, _("This link cannot be checked here: %(why)s.", why=exc.detail))
        except (NotFound, Conflict) as exc:
            return _form_problem(
                request, context, _("This share link does not lead to a credential: %(why)s.", why=exc.detail)
            )
        source = credential_file(shared.document or {})
        context["link"] = shared.share_url
    size = len(source.encode("utf-8")) if isinstance(source, str) else len(source)
    if size > MAX_CREDENTIAL_BYTES:
        return _form_problem(
            request,
            context,
            _(
                "This is too large to be a credential: a credential file is at most %(kb)s KB (a certificate PDF "
                "at most %(pdf_kb)s KB).",
                kb=MAX_CREDENTIAL_BYTES // 1024,
                pdf_kb=MAX_PDF_BYTES // 1024,
            ),
        )
    verified = await run_in_threadpool(verify_for_page, hub, source, context["email"])
    context["verified"] = verified
    if verified.report.usable:
        document = json.loads(source)
        context["certificate"] = present.certificate(document)
        context["pasted"] = ""  # the form is for the next credential; a text that was not one stays, to correct
        if carried is not None:
            comparison = compare_print(carried.text, document)
            context["printed"] = present.printed_rows(comparison)
            checks = [*verified.checks, present.print_check(comparison)]
            verdict = verified.verdict if comparison.matches else present.edited_print(verified.verdict, comparison)
            context["verified"] = verified = dataclasses.replace(verified, checks=checks, verdict=verdict)
    elif carried is not None:
        return _form_problem(
            request,
            context,
            _(
                "The file inside this PDF (%(file)s) is not a credential of the hub: %(why)s.",
                file=carried.file_name,
                why=verified.report.check("format").reason,
            ),
        )
    status = 422 if not verified.report.usable else verified.status
    return page(request, "verify.html", context, status=status)


def _resent_file(encoded: object, name: object) -> tuple[bytes, str] | None:
    """The file a language switch posts again (base64 in a hidden field), or None (absent, not base64, too large)."""
    if not isinstance(encoded, str) or not encoded or len(encoded) > MAX_FORM_PART:
        return None
    try:
        data = base64.b64decode(encoded, validate=True)
    except ValueError:
        return None
    if not data or len(data) > MAX_PDF_BYTES:
        return None
    return data, (name if isinstance(name, str) and name else "file")[:200]


def _form_problem(request: Request, context: dict[str, Any], message: str) -> HTMLResponse:
    return page(request, "verify.html", {**context, "form_error": message}, status=422)
