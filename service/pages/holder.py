"""The graduate's own page: her whole credential, and the share links she makes, labels and withdraws.

    GET  /holder/{holder token}                      the holder link: opens a session, 303 to /holder
    GET  /holder                                     her page (the session's credential)
    GET  /holder/credential.json                     her full credential (every claim)
    POST /holder/links                               make a share link: a label and the claims it shows
    GET  /holder/links/{id}/credential.json          the link's copy (only its claims)
    GET  /holder/links/{id}/certificate-{nl|en}.pdf  the link's certificate, in Dutch or English
    GET  /holder/links/{id}/qr.svg                   the QR code of the link
    GET  /holder/links/{id}/withdraw                 "withdraw this link?" ...
    POST /holder/links/{id}/withdraw                 ... withdrawn: the link answers 410 from now on
    POST /holder/sign-out                            end the session

The holder link (`<public_url>/holder/<holder token>`, given to the graduate by her issuer: the API's
`holder_url`, `hub cohort import`'s links file) is exchanged at once for a session (service.web.sessions): the
answer is a 303 to /holder, which carries no token, so the token does not stay in the address bar, the history,
or a Referer (Referrer-Policy: no-referrer on every page; Cache-Control: no-store here). The access log writes
`/holder/…` for it (`redact_holder_paths`). Everything else needs the session; every form carries its CSRF
token and works without script.

A share link she makes is a `ShareLink` of purpose "holder": nothing personal is ticked by default (she chooses
her name, her result, her e-mail address as a salted hash). Each link has its downloads, QR code and an "Add to
LinkedIn" link (LinkedIn's documented Add to Profile URL for a certification). A withdrawn link answers 410
("withdrawn by the graduate") on its page and files.
"""

from __future__ import annotations

import io
import logging
import re
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import segno
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from service import i18n
from service.api import idempotency
from service.api.deps import HubDep
from service.credentials.canonical import proof_of
from service.db import models
from service.documents.carrier import credential_file
from service.documents.certificate import render_certificate
from service.hub import Hub
from service.i18n import _
from service.issuing.cohorts import available_claims
from service.issuing.pipeline import hash_token
from service.pages import (
    paths,  # noqa: F401 - registers the rowid path convertor
    present,
)
from service.pages.once import Done, form_key, once_in_thread
from service.pages.routes import PRIVATE_HEADERS, SECURITY_HEADERS, page, verify_for_page
from service.sharing import shared_copy
from service.web import sessions as web_sessions

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

KIND = "holder"
LABEL_MAX = 100
MAX_LINKS = 50  # share links one credential may have at once (not withdrawn)
CLAIMS = ("name", "result", "identifier")  # in the order the form lists them
HOLDER_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,100}")
FORM_ID = re.compile(r"[A-Za-z0-9_-]{16,43}")  # the link form's once-only id (secrets.token_urlsafe)
LINKEDIN_ADD = "https://www.linkedin.com/profile/add"
PDF_LANGUAGES = i18n.LOCALES
NO_STORE = {**SECURITY_HEADERS, **PRIVATE_HEADERS}

# what the form says of each claim (translated where shown)
CLAIM_LABELS = {
    "name": i18n.N_("Your name"),
    "result": i18n.N_("Your result (grade)"),
    "identifier": i18n.N_("Your e-mail address, as a code an employer who knows the address can check"),
}
CLAIM_SHORT = {"name": i18n.N_("name"), "result": i18n.N_("result"), "identifier": i18n.N_("e-mail address (code)")}


# ---------------------------------------------------------------- sessions


def _secure(hub: Hub) -> bool:
    return hub.settings.public_url.startswith("https://")


def _store(hub: Hub) -> web_sessions.SessionStore:
    return web_sessions.SessionStore(hub.sessions)


def _session(request: Request, hub: Hub) -> web_sessions.WebSession | None:
    return _store(hub).load(web_sessions.session_id(request, _secure(hub), holder=True), KIND)


def _message(request: Request, title: str, message: str, status: int) -> HTMLResponse:
    return page(request, "holder_message.html", {"title": title, "message": message}, status=status, private=True)


def _signed_out(request: Request) -> HTMLResponse:
    return _message(
        request,
        _("Open your credential with your personal link"),
        _(
            "This page shows your own credential once you open the personal link your school or training "
            "gave you (it starts with %(start)s). If you signed out or it has been a while, open that link again.",
            start="/holder/",
        ),
        401,
    )


def _bad_form(request: Request) -> HTMLResponse:
    return _message(
        request,
        _("This form has expired"),
        _("Go back to your credential page, reload it and try again."),
        403,
    )


# ---------------------------------------------------------------- her page


def _claims_text(claims: list[str]) -> str:
    shown = [str(CLAIM_SHORT[name]) for name in CLAIMS if name in claims]
    return ", ".join(shown) if shown else _("nothing personal")


def linkedin_url(document: dict[str, Any], share_url: str) -> str:
    """LinkedIn's Add to Profile link for a certification: name, issuing organisation, issue (and expiry)
    month, the link that shows it and its id."""
    subject = document.get("credentialSubject", {})
    achievement = subject.get("achievement", {}) if isinstance(subject, dict) else {}
    issuer = document.get("issuer", {})
    params: dict[str, str] = {
        "startTask": "CERTIFICATION_NAME",
        "name": str(achievement.get("name", "")),
        "organizationName": str(issuer.get("name", "")) if isinstance(issuer, dict) else "",
    }
    for prefix, field in (("issue", "validFrom"), ("expiration", "validUntil")):
        value = document.get(field)
        if isinstance(value, str) and re.match(r"\d{4}-\d{2}", value):
            params[f"{prefix}Year"] = value[:4]
            params[f"{prefix}Month"] = str(int(value[5:7]))
    params["certUrl"] = share_url
    params["certId"] = str(document.get("id", "")).removeprefix("urn:uuid:")
    return f"{LINKEDIN_ADD}?{urlencode(params)}"


def _links(hub: Hub, db: Any, row: models.Credential) -> list[dict[str, Any]]:
    items = db.scalars(
        select(models.ShareLink)
        .where(models.ShareLink.credential_id == row.id, models.ShareLink.purpose == "holder")
        .order_by(models.ShareLink.id.desc())
    )
    views = []
    for link in items:
        url = f"{hub.settings.public_url}/share/{link.token}"
        views.append(
            {
                "id": link.id,
                "label": link.label or _("Share link %(number)s", number=link.id),
                "url": url,
                "token": link.token,
                "claims": _claims_text(list(link.claims)),
                "created_at": link.created_at,
                "withdrawn_at": link.withdrawn_at,
                "linkedin": linkedin_url(row.document, url),
            }
        )
    return views


def _holder_page(
    request: Request,
    hub: Hub,
    session: web_sessions.WebSession,
    *,
    status: int = 200,
    form_error: str | None = None,
    form: dict[str, Any] | None = None,
) -> HTMLResponse:
    with hub.sessions() as db:
        row = db.get(models.Credential, session.subject)
        if row is None:  # cannot happen (credentials are never deleted); as if signed out
            return _signed_out(request)
        anchored = row.batch.status == "anchored" and proof_of(row.document) is not None
        links = _links(hub, db, row) if anchored else []
        available = [name for name in CLAIMS if name in available_claims(row)]
        document = row.document
        batch_status = row.batch.status
    context: dict[str, Any] = {
        "anchored": anchored,
        "batch_status": batch_status,
        "links": [link for link in links if link["withdrawn_at"] is None],
        "withdrawn": [link for link in links if link["withdrawn_at"] is not None],
        "claims": [(name, str(CLAIM_LABELS[name])) for name in available],
        "csrf": session.csrf,
        "csrf_field": web_sessions.CSRF_FIELD,
        "form_id": secrets.token_urlsafe(16),  # a new form: a new once-only id
        "form_error": form_error,
        "form": form or {"label": "", "claims": []},
        "label_max": LABEL_MAX,
        "pdf_languages": PDF_LANGUAGES,
        "language_names": i18n.LANGUAGE_NAMES,
        "made": request.query_params.get("made"),
    }
    if anchored:
        verified = verify_for_page(hub, document)
        context.update(verified=verified, certificate=present.certificate(document))
        if status == 200:
            status = verified.status  # 503 when the chain did not answer
    return page(request, "holder.html", context, status=status, private=True)


@router.get("/holder", response_class=HTMLResponse)
def holder_page(request: Request, hub: HubDep) -> HTMLResponse:
    session = _session(request, hub)
    if session is None:
        return _signed_out(request)
    return _holder_page(request, hub, session)


@router.get("/holder/credential.json")
def holder_credential(request: Request, hub: HubDep) -> Response:
    """Her full credential (every claim): the file she keeps."""
    session = _session(request, hub)
    if session is None:
        return _signed_out(request)
    with hub.sessions() as db:
        row = db.get(models.Credential, session.subject)
        if row is None or row.batch.status != "anchored" or proof_of(row.document) is None:
            return _not_anchored(request)
        return _file(credential_file(row.document), "application/json", f"credential-{row.id}.json")


def _not_anchored(request: Request) -> HTMLResponse:
    return _message(
        request,
        _("Your credential is still being issued"),
        _("Your school or training is recording it in the hub's public register. Try again in a few minutes."),
        409,
    )


def _file(content: bytes, media_type: str, name: str) -> Response:
    headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(content, media_type=media_type, headers=headers)


# ---------------------------------------------------------------- making and withdrawing links


@router.post("/holder/links", response_class=HTMLResponse)
async def make_link(request: Request, hub: HubDep) -> Response:
    session = _session(request, hub)
    if session is None:
        return _signed_out(request)
    try:
        form = await request.form(max_files=0, max_fields=20, max_part_size=10_000)
    except Exception:  # noqa: BLE001 - starlette's parser raises several types for a body it cannot read
        return _bad_form(request)

    def act() -> Response:  # blocking: chain, database, argon2: in a worker thread
        form_id = form.get("form_id")
        if not web_sessions.check_csrf(session, form.get(web_sessions.CSRF_FIELD)) or not (
            isinstance(form_id, str) and FORM_ID.fullmatch(form_id)
        ):
            return _bad_form(request)
        label_value = form.get("label")
        label = " ".join(label_value.split()) if isinstance(label_value, str) else ""
        chosen = [value for value in form.getlist("claims") if isinstance(value, str)]
        kept = {"label": label, "claims": chosen}
        if len(label) > LABEL_MAX:
            return _holder_page(
                request,
                hub,
                session,
                status=422,
                form=kept,
                form_error=_("The name of the link is too long: at most %(max)s characters.", max=LABEL_MAX),
            )
        with hub.sessions() as db:
            row = db.get(models.Credential, session.subject)
            if row is None:
                return _signed_out(request)
            if row.batch.status != "anchored" or proof_of(row.document) is None:
                return _not_anchored(request)
            available = [name for name in CLAIMS if name in available_claims(row)]
            unknown = [name for name in chosen if name not in available]
            if unknown:
                return _holder_page(
                    request,
                    hub,
                    session,
                    status=422,
                    form=kept,
                    form_error=_("Your credential cannot show this: choose from the list."),
                )
            open_links = db.scalars(
                select(models.ShareLink.id).where(
                    models.ShareLink.credential_id == row.id,
                    models.ShareLink.purpose == "holder",
                    models.ShareLink.withdrawn_at.is_(None),
                )
            ).all()
            if len(open_links) >= MAX_LINKS:
                return _holder_page(
                    request,
                    hub,
                    session,
                    status=409,
                    form=kept,
                    form_error=_(
                        "You have %(count)s share links: withdraw one you no longer need first.", count=len(open_links)
                    ),
                )
        claims = [name for name in CLAIMS if name in chosen]

        def make() -> dict[str, Any]:
            token = secrets.token_urlsafe(24)
            with hub.sessions() as db:
                link = models.ShareLink(
                    credential_id=session.subject,
                    token=token,
                    claims=sorted(claims),
                    claims_key=f"holder:{token}",
                    purpose="holder",
                    created_by="holder",
                    label=label or None,
                )
                db.add(link)
                db.commit()
                return {"link_id": link.id}

        # The same form sent again (a double tap, a reloaded answer) makes no second link: the first is shown.
        asked = repr((label, claims)).encode()
        keyed = form_key(
            request,
            hub,
            f"holder:{session.subject}",
            "holder link",
            "/holder/links",
            form_id.encode(),
            "",
            asked,
            holder=True,
        )
        outcome = once_in_thread(hub, keyed, make)
        if not isinstance(outcome, Done):
            return _holder_page(
                request,
                hub,
                session,
                status=409,
                form=kept,
                form_error=_("This link is being made right now: reload the page in a moment.")
                if isinstance(outcome, idempotency.Running)
                else _("You sent this form already with other choices: make the new link with the form below."),
            )
        link_id = outcome.answer["link_id"]
        return RedirectResponse(f"/holder?made={link_id}#link-{link_id}", status_code=303, headers=NO_STORE)

    return await run_in_threadpool(act)


def _own_link(hub: Hub, session: web_sessions.WebSession, link_id: int) -> models.ShareLink | None:
    with hub.sessions() as db:
        link = db.get(models.ShareLink, link_id)
        if link is None or link.credential_id != session.subject or link.purpose != "holder":
            return None
        db.expunge(link)
        return link


def _no_link(request: Request) -> HTMLResponse:
    return _message(
        request,
        _("There is no such share link"),
        _("This share link is not one of yours. Go back to your credential page to see your links."),
        404,
    )


def _withdrawn_page(request: Request) -> HTMLResponse:
    return _message(
        request,
        _("You withdrew this share link"),
        _("It shows nothing any more. Make a new link on your credential page if you need one."),
        410,
    )


@router.get("/holder/links/{link_id:rowid}/withdraw", response_class=HTMLResponse)
def withdraw_confirm(link_id: int, request: Request, hub: HubDep) -> HTMLResponse:
    session = _session(request, hub)
    if session is None:
        return _signed_out(request)
    link = _own_link(hub, session, link_id)
    if link is None:
        return _no_link(request)
    if link.withdrawn_at is not None:
        return _withdrawn_page(request)
    context = {
        "link": {
            "id": link.id,
            "label": link.label or _("Share link %(number)s", number=link.id),
            "url": f"{hub.settings.public_url}/share/{link.token}",
        },
        "csrf": session.csrf,
        "csrf_field": web_sessions.CSRF_FIELD,
    }
    return page(request, "holder_withdraw.html", context, private=True)


@router.post("/holder/links/{link_id:rowid}/withdraw", response_class=HTMLResponse)
async def withdraw(link_id: int, request: Request, hub: HubDep) -> Response:
    session = _session(request, hub)
    if session is None:
        return _signed_out(request)
    try:
        form = await request.form(max_files=0, max_fields=5, max_part_size=1_000)
    except Exception:  # noqa: BLE001
        return _bad_form(request)

    def act() -> Response:  # blocking: chain, database, argon2: in a worker thread
        if not web_sessions.check_csrf(session, form.get(web_sessions.CSRF_FIELD)):
            return _bad_form(request)
        with hub.sessions() as db:
            link = db.get(models.ShareLink, link_id)
            if link is None or link.credential_id != session.subject or link.purpose != "holder":
                return _no_link(request)
            if link.withdrawn_at is None:
                link.withdrawn_at = datetime.now(UTC)
                db.commit()
        return RedirectResponse(f"/holder?withdrawn={link_id}", status_code=303, headers=NO_STORE)

    return await run_in_threadpool(act)


# ---------------------------------------------------------------- a link's files


def _link_copy(request: Request, hub: Hub, link_id: int) -> tuple[models.ShareLink, dict[str, Any]] | Response:
    session = _session(request, hub)
    if session is None:
        return _signed_out(request)
    with hub.sessions() as db:
        link = db.get(models.ShareLink, link_id)
        if link is None or link.credential_id != session.subject or link.purpose != "holder":
            return _no_link(request)
        if link.withdrawn_at is not None:
            return _withdrawn_page(request)
        row = link.credential
        if row.batch.status != "anchored" or proof_of(row.document) is None:
            return _not_anchored(request)
        copy = shared_copy(row.document, link.claims)
        db.expunge(link)
        return link, copy


@router.get("/holder/links/{link_id:rowid}/credential.json")
def link_json(link_id: int, request: Request, hub: HubDep) -> Response:
    found = _link_copy(request, hub, link_id)
    if isinstance(found, Response):
        return found
    link, copy = found
    return _file(credential_file(copy), "application/json", f"credential-{link.credential_id}-link-{link.id}.json")


@router.get("/holder/links/{link_id:rowid}/certificate-{language}.pdf")
def link_pdf(link_id: int, language: str, request: Request, hub: HubDep) -> Response:
    """The link's certificate in Dutch or English (whatever language the page is in)."""
    if language not in PDF_LANGUAGES:
        return _no_link(request)
    found = _link_copy(request, hub, link_id)
    if isinstance(found, Response):
        return found
    link, copy = found
    url = f"{hub.settings.public_url}/share/{link.token}"
    with i18n.use(language):
        verified = verify_for_page(hub, copy)
        state = verified.verdict.state
        status = None if state == "unchecked" else present.status_line(verified.verdict, verified.report)
        pdf = render_certificate(copy, url, status=status)
    return _file(pdf, "application/pdf", f"certificate-{link.credential_id}-{language}.pdf")


@router.get("/holder/links/{link_id:rowid}/qr.svg")
def link_qr(link_id: int, request: Request, hub: HubDep) -> Response:
    session = _session(request, hub)
    if session is None:
        return _signed_out(request)
    link = _own_link(hub, session, link_id)
    if link is None:
        return _no_link(request)
    if link.withdrawn_at is not None:
        return _withdrawn_page(request)
    qr = segno.make_qr(f"{hub.settings.public_url}/share/{link.token}", error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=6, border=4, dark="#000", light="#fff", title=_("QR code of your share link"))
    svg = buffer.getvalue()
    headers = {
        **PRIVATE_HEADERS,
        "Content-Security-Policy": "default-src 'none'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    if request.query_params.get("download"):
        headers["Content-Disposition"] = f'attachment; filename="qr-link-{link.id}.svg"'
    return Response(svg, media_type="image/svg+xml", headers=headers)


# ---------------------------------------------------------------- signing out


@router.post("/holder/sign-out", response_class=HTMLResponse)
async def sign_out(request: Request, hub: HubDep) -> Response:
    session = _session(request, hub)
    if session is not None:
        try:
            form = await request.form(max_files=0, max_fields=5, max_part_size=1_000)
        except Exception:  # noqa: BLE001
            return _bad_form(request)
        if not web_sessions.check_csrf(session, form.get(web_sessions.CSRF_FIELD)):
            return _bad_form(request)
        _store(hub).end(web_sessions.session_id(request, _secure(hub), holder=True))
        clear = True
    else:
        clear = False  # no session of hers: nothing to end (and a form from elsewhere changes nothing)
    response = _message(
        request,
        _("You are signed out"),
        _("Your credential page is closed on this device. Open your personal link again to return to it."),
        200,
    )
    if clear:
        web_sessions.clear_cookie(response, _secure(hub), holder=True)
    return response


# ---------------------------------------------------------------- the holder link


# registered last: /holder/{token} would match /holder/credential.json above
@router.get("/holder/{token}", response_class=HTMLResponse)
def open_holder_link(token: str, request: Request, hub: HubDep) -> Response:
    """The holder link: a session for its credential, and straight on to /holder (without the token)."""
    row_id = None
    if HOLDER_TOKEN.fullmatch(token):
        with hub.sessions() as db:
            row_id = db.scalar(
                select(models.Credential.id).where(models.Credential.holder_token_hash == hash_token(token))
            )
    if row_id is None:
        return _message(
            request,
            _("This personal link does not work"),
            _(
                "There is no credential behind this link. Check that you copied the whole link from the message "
                "of your school or training; if it still does not work, ask them for your link again."
            ),
            404,
        )
    session_id, _session_made = _store(hub).create(KIND, row_id)
    response = RedirectResponse("/holder", status_code=303, headers=NO_STORE)
    web_sessions.set_cookie(response, session_id, _secure(hub), holder=True)
    return response
