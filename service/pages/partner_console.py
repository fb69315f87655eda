"""The partner console: a partner's staff issue and follow their own cohorts in a browser (role partner; the
person's `Staff.principal` is the partner's issuing account).

    GET  /console/partner                               programmes, upload a cohort, issue one, search, batches
    POST /console/partner/cohorts                       a cohort CSV -> refused with its line numbers, or accepted:
                                                        the links file (shown only now), then its progress
    POST /console/partner/credentials                   issue one credential from the form (once per form id)
    GET  /console/partner/batches                       the partner's batches, newest first
    GET  /console/partner/batches/{id}                  one batch: its progress until anchored, its credentials
    GET  /console/partner/batches/{id}/export.zip       per credential <id>.json and <id>.pdf (?pdf=nl|en)
    GET  /console/partner/search?q=                     by the graduate's name, or her whole e-mail address
    GET  /console/partner/credentials/{id}              one credential: state, share link, downloads
    GET  /console/partner/credentials/{id}/credential.json, /certificate.pdf
    GET  /console/partner/credentials/{id}/revoke       revoke: a reason ...
    POST /console/partner/credentials/{id}/revoke       ... a confirmation step (confirm=yes), then on chain

Everything acts through the same service functions as the API (service.issuing.cohorts, pipeline, revocation,
service.sharing.certificate_link), so the checks are the same: the cohort parser's line-numbered refusals,
accreditation, "only the partner's own". Another partner's batch or credential answers 404, as one that does not
exist, so a guessed id tells nothing.

A refusal is worded in the reader's language from each problem's code (service.pages.cohort_refusals); the API's
problem details keep their English. A form sent twice (a double click, a reloaded answer, a second tab) acts once:
the upload by its file, the issue-one form by its once-only form id, both through the API's idempotency store.

Holder tokens are shown once, as by the API and `hub cohort import`: the page that accepts a cohort offers the
links file (the same columns as the CLI's) as a download made in the page itself (a data: link); the hub keeps
only the tokens' hashes. The progress page reloads itself (`<meta http-equiv="refresh">`) until the batch is
anchored or failed: no script.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import logging
import re
import secrets
import zipfile
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import FormData, UploadFile

from service import i18n, sharing
from service.api import idempotency
from service.api.deps import HubDep
from service.credentials.disclosure import select_disclosures
from service.db import models
from service.documents.carrier import credential_file
from service.documents.certificate import PRINTED_CLAIMS, disclosed_claims, render_certificate
from service.errors import ChainUnavailable, Forbidden, HubError, InvalidInput, NotFound, PayloadTooLarge
from service.hub import Hub
from service.i18n import N_, _
from service.issuing import cohorts, pipeline
from service.issuing.requests import CredentialCreate, csv_cell, parse_cohort_csv, validation_problems
from service.issuing.revocation import REASON_CODES, REASON_NAMES, revoke_own
from service.issuing.states import BatchStatus
from service.pages.cohort_refusals import problem_sentence, refusal_lines
from service.pages.console import console_page, expired_form, form_is_genuine, require_staff
from service.pages.once import Done, once, staff_form_key
from service.pages.routes import PRIVATE_HEADERS, SECURITY_HEADERS
from service.web.staff import Staff, StaffRole

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

HOME = "/console/partner"
ID = re.compile(r"[0-9a-f-]{36}")
FORM_ID = re.compile(r"[A-Za-z0-9_-]{16,43}")  # the issue-one form's once-only id (secrets.token_urlsafe)
BATCHES_PER_PAGE = 25
REFRESH_SECONDS = 2
MAX_SHOWN_PROBLEMS = 50
FILE_HEADERS = {**SECURITY_HEADERS, **PRIVATE_HEADERS}

BATCH_STATES = {
    "pending": N_("Waiting to be sent"),
    "submitted": N_("Sent, waiting for a block"),
    "included": N_("In a block, waiting until final"),
    "anchored": N_("Recorded in the public register"),
    "failed": N_("Failed"),
}
REASONS = {  # the revocation reasons of docs/credential-format.md, as the form offers them
    "fraud-or-misconduct": N_("Fraud or misconduct"),
    "issued-in-error": N_("Issued in error"),
    "superseded": N_("Replaced by a corrected credential"),
    "withdrawn-at-graduates-request": N_("Withdrawn at the graduate's request"),
    "requirements-not-met": N_("The programme's requirements were not met"),
}
assert set(REASONS) == set(REASON_CODES)


def reason_label(code: int | None) -> str:
    name = REASON_NAMES.get(code or 0)
    return str(REASONS[name]) if name else _("reason code %(code)s", code=code)


# ---------------------------------------------------------------- shared


def _staff(request: Request, hub: Hub) -> Staff | Response:
    """The signed-in partner staff member, or the answer to give (sign in; another role; an account that is
    bound to no partner's issuing account, which the admin must fix)."""
    staff = require_staff(request, hub, StaffRole.PARTNER)
    if isinstance(staff, Staff) and not staff.address:
        return _message(
            request,
            staff,
            _("Your account is not linked to a partner"),
            _("Ask the hub's administrator to link your account to your organisation's issuing account."),
            403,
        )
    return staff


def _message(request: Request, staff: Staff, title: str, message: str, status: int) -> HTMLResponse:
    return console_page(request, "console_message.html", staff, {"title": title, "message": message}, status=status)


def _not_found(request: Request, staff: Staff, what: str) -> HTMLResponse:
    """Unknown, or another partner's: the same answer."""
    return _message(
        request,
        staff,
        _("Not found"),
        _("There is no %(what)s of yours at this address.", what=what),
        404,
    )


def _chain_down(request: Request, staff: Staff) -> HTMLResponse:
    return _message(
        request,
        staff,
        _("The blockchain does not answer"),
        _("Nothing was changed. Try again in a minute."),
        503,
    )


def _state(hub: Hub, batch: models.Batch) -> str:
    return str(cohorts.reported_status(hub, batch))


def _programmes(db: Any, issuer: str | None) -> tuple[list[models.Programme], list[models.Programme]]:
    """The hub's programmes: the partner's own (it issues them), and the others."""
    rows = list(db.scalars(select(models.Programme).order_by(models.Programme.name)))
    own = [row for row in rows if row.issuer_address == issuer]
    return own, [row for row in rows if row.issuer_address != issuer]


def _issuer_names(db: Any) -> dict[str, str]:
    return {
        address: name
        for address, name in db.execute(
            select(models.ApiKey.address, models.ApiKey.name).where(models.ApiKey.role == "issuer")
        )
        if address
    }


def _overview(
    request: Request,
    hub: Hub,
    staff: Staff,
    *,
    status: int = 200,
    cohort_problems: list[str] | None = None,
    cohort_name: str | None = None,
    one_problems: list[str] | None = None,
    one_form: Mapping[str, str] | None = None,
) -> HTMLResponse:
    with hub.sessions() as db:
        own, others = _programmes(db, staff.address)
        names = _issuer_names(db)
        batches, more, programmes = cohorts.list_batches(db, staff.address, 5)
        recent = [
            {"batch": batch, "state": _state(hub, batch), "programmes": programmes[batch.id]} for batch in batches
        ]
    return console_page(
        request,
        "partner_console.html",
        staff,
        {
            "own": own,
            "others": others,
            "issuer_names": names,
            "recent": recent,
            "more_batches": more,
            "states": BATCH_STATES,
            "cohort_problems": cohort_problems,
            "cohort_name": cohort_name,
            "one_problems": one_problems,
            "one_form": one_form or {},
            # one id per form shown (kept when it is shown again to correct it): sent twice, it issues once
            "one_form_id": (one_form or {}).get("form_id")
            if FORM_ID.fullmatch((one_form or {}).get("form_id", ""))
            else secrets.token_urlsafe(16),
            "max_rows": hub.settings.max_batch_size,
            "max_mb": round(hub.settings.max_body_bytes / 1_000_000, 1),
        },
        status=status,
    )


@router.get("/console/partner", response_class=HTMLResponse)
def partner_home(request: Request, hub: HubDep) -> Response:
    staff = _staff(request, hub)
    if isinstance(staff, Response):
        return staff
    return _overview(request, hub, staff)


# ---------------------------------------------------------------- issuing a cohort


def _links_file(hub: Hub, cohort: pipeline.PreparedCohort) -> str:
    """The links file, as `hub cohort import` writes it (row, line, email, credential_id, share_url, holder_url)."""
    table = io.StringIO()
    writer = csv.writer(table, lineterminator="\n")
    writer.writerow(["row", "line", "email", "credential_id", "share_url", "holder_url"])
    for item in cohort.credentials:
        writer.writerow(
            [
                csv_cell(value)
                for value in (
                    item.row.number,
                    item.row.line if item.row.line is not None else item.row.number + 1,
                    item.row.request.email,
                    item.id,
                    cohorts.share_url(hub, item.share_token),
                    cohorts.holder_url(hub, item.holder_token),
                )
            ]
        )
    return table.getvalue()


def _stem(filename: str | None) -> str:
    stem = (filename or "cohort").rsplit("/", 1)[-1].rsplit("\\", 1)[-1].rsplit(".", 1)[0]
    return re.sub(r"[^A-Za-z0-9._-]", "-", stem)[:60] or "cohort"


UPLOAD_PATH = "/console/partner/cohorts"


@router.post(UPLOAD_PATH, response_class=HTMLResponse)
async def upload_cohort(request: Request, hub: HubDep) -> Response:
    staff = _staff(request, hub)
    if isinstance(staff, Response):
        return staff
    form = await request.form()
    if not form_is_genuine(staff, form):
        return expired_form(request, staff)
    upload = form.get("file")
    name = upload.filename if isinstance(upload, UploadFile) else None
    data = await upload.read() if isinstance(upload, UploadFile) else b""
    if not data:
        return await run_in_threadpool(
            _overview, request, hub, staff, status=422, cohort_problems=[_("Choose a CSV file to upload.")]
        )
    # The same file uploaded again in this session (a double click, a reloaded answer) issues nothing: the first
    # answer is shown again, as `hub cohort import` does with its Idempotency-Key.
    rows: list[Any] = []

    def accept() -> dict[str, Any]:
        assert staff.address is not None
        batch_id, cohort = cohorts.accept_cohort(hub, staff.address, rows)
        log.info("partner console: %s accepted batch %s (%d credentials)", staff.email, batch_id, cohort.batch.count)
        return {"batch_id": batch_id, "count": cohort.batch.count, "file_name": name, "links": _links_file(hub, cohort)}

    keyed = staff_form_key(request, hub, staff, "partner console upload", UPLOAD_PATH, data, "text/csv", data)
    try:
        rows = await run_in_threadpool(parse_cohort_csv, data, hub.settings.max_batch_size)
        outcome = await once(hub, keyed, accept)
    except ChainUnavailable:
        return _chain_down(request, staff)
    except (InvalidInput, PayloadTooLarge, Forbidden) as exc:  # the file's refusal, or the service's
        return await run_in_threadpool(
            _overview,
            request,
            hub,
            staff,
            status=422,
            cohort_problems=refusal_lines(exc, limit=MAX_SHOWN_PROBLEMS),
            cohort_name=name,
        )
    if not isinstance(outcome, Done):  # the same file, still being processed
        return _message(
            request,
            staff,
            _("This file is being uploaded"),
            _("The same file is being processed right now. Reload this page in a moment."),
            409,
        )
    return _accepted(request, staff, outcome.answer, replayed=outcome.replayed)


def _accepted(request: Request, staff: Staff, accepted: Mapping[str, Any], *, replayed: bool) -> HTMLResponse:
    batch_id = str(accepted["batch_id"])
    links = str(accepted["links"])
    return console_page(
        request,
        "partner_accepted.html",
        staff,
        {
            "batch_id": batch_id,
            "count": accepted["count"],
            "replayed": replayed,
            "links_name": f"{_stem(accepted.get('file_name'))}-issued-{batch_id[:8]}.csv",
            "links_href": "data:text/csv;charset=utf-8;base64," + base64.b64encode(links.encode()).decode(),
        },
        status=200 if replayed else 201,
    )


# ---------------------------------------------------------------- issuing one


ONE_FIELDS = ("programme_id", "name", "email", "result", "valid_from", "valid_until")


def _one_problems(exc: ValidationError) -> list[str]:
    return [problem_sentence(problem, form=True) for problem in validation_problems(exc, None, None)]


ONE_PATH = "/console/partner/credentials"


@router.post(ONE_PATH, response_class=HTMLResponse)
async def issue_one(request: Request, hub: HubDep) -> Response:
    staff = _staff(request, hub)
    if isinstance(staff, Response):
        return staff
    form = await request.form()
    if not form_is_genuine(staff, form):
        return expired_form(request, staff)
    form_id = str(form.get("form_id") or "")
    if not FORM_ID.fullmatch(form_id):
        return _message(
            request,
            staff,
            _("This form cannot be sent"),
            _(
                "The form lacks its own number, so it could be sent twice. Open the partner console again and "
                "fill it in there: nothing was issued."
            ),
            400,
        )
    values = {field: str(form.get(field) or "").strip() for field in ONE_FIELDS}

    async def refused(problems: list[str]) -> Response:  # the form again, as filled in, with its problems
        return await run_in_threadpool(
            _overview, request, hub, staff, status=422, one_problems=problems, one_form={**values, "form_id": form_id}
        )

    try:
        body = CredentialCreate.model_validate({key: value for key, value in values.items() if value})
    except ValidationError as exc:
        return await refused(_one_problems(exc))
    # The same form sent again (a double click, a reloaded answer, a second tab) issues nothing: the first answer
    # is shown again. The form's once-only id tells it apart; the same id with other details is refused.

    def issue() -> dict[str, Any]:
        assert staff.address is not None
        issued, batch_id = cohorts.store_one(hub, staff.address, body)
        log.info("partner console: %s issued credential %s", staff.email, issued.id)
        return {
            "credential_id": issued.id,
            "batch_id": batch_id,
            "name": issued.row.request.name,
            "holder_url": cohorts.holder_url(hub, issued.holder_token),
            "share_url": cohorts.share_url(hub, issued.share_token),
        }

    asked = json.dumps(values, sort_keys=True).encode()
    token = form_id.encode()
    keyed = staff_form_key(request, hub, staff, "partner console issue one", ONE_PATH, token, "application/json", asked)
    try:
        outcome = await once(hub, keyed, issue)
    except ChainUnavailable:
        return _chain_down(request, staff)
    except (InvalidInput, Forbidden) as exc:
        return await refused(refusal_lines(exc, form=True))
    if isinstance(outcome, idempotency.Reused):
        return _message(
            request,
            staff,
            _("This form was sent already"),
            _(
                "This form issued a credential already, with other details. To issue another one, open the "
                "partner console again and fill in a new form."
            ),
            409,
        )
    if not isinstance(outcome, Done):  # the same form, still being processed
        return _message(
            request,
            staff,
            _("This credential is being issued"),
            _("The same form is being processed right now. Reload this page in a moment."),
            409,
        )
    return _issued(request, staff, outcome.answer, replayed=outcome.replayed)


def _issued(request: Request, staff: Staff, issued: Mapping[str, Any], *, replayed: bool) -> HTMLResponse:
    return console_page(
        request, "partner_issued.html", staff, {**issued, "replayed": replayed}, status=200 if replayed else 201
    )


# ---------------------------------------------------------------- batches


@router.get("/console/partner/batches", response_class=HTMLResponse)
def batch_list(request: Request, hub: HubDep, page: int = 1) -> Response:
    staff = _staff(request, hub)
    if isinstance(staff, Response):
        return staff
    page = max(1, min(page, 10_000))
    with hub.sessions() as db:
        # a page by its number: a partner has tens of batches, not thousands
        rows, more, programmes = cohorts.list_batches(db, staff.address, BATCHES_PER_PAGE * page)
        shown = rows[BATCHES_PER_PAGE * (page - 1) :]
        listed = [{"batch": batch, "state": _state(hub, batch), "programmes": programmes[batch.id]} for batch in shown]
    return console_page(
        request,
        "partner_batches.html",
        staff,
        {"batches": listed, "page": page, "more": more, "states": BATCH_STATES},
    )


@router.get("/console/partner/batches/{batch_id}", response_class=HTMLResponse)
def batch_page(batch_id: str, request: Request, hub: HubDep) -> Response:
    staff = _staff(request, hub)
    if isinstance(staff, Response):
        return staff
    with hub.sessions() as db:
        try:
            batch = cohorts.own_batch(db, staff.address, batch_id)
        except (NotFound, Forbidden):
            return _not_found(request, staff, _("batch"))
        state = _state(hub, batch)
        lines = cohorts.batch_credentials(db, batch)
        done = state in (BatchStatus.ANCHORED, BatchStatus.FAILED)
        context = {
            "batch": batch,
            "state": state,
            "states": BATCH_STATES,
            "lines": lines,
            "done": done,
            "refresh": None if done else REFRESH_SECONDS,
            "revoked": sum(1 for line in lines if line.revoked_at is not None),
            "anchored_at": cohorts.utc(batch.anchored_at),
            "created_at": cohorts.utc(batch.created_at),
        }
    return console_page(request, "partner_batch.html", staff, context)


def _pdf_language(value: str | None) -> str:
    return value if value in i18n.LOCALES else i18n.current()


def _certificate(hub: Hub, db: Any, row: models.Credential, language: str) -> bytes:
    """The certificate PDF of `row` as `hub cohort export` makes it: name and result printed (when it has them),
    its QR code the share link made for exactly those claims."""
    document = row.document
    has = disclosed_claims(document)
    link, _created = sharing.certificate_link(hub, db, row, [name for name in PRINTED_CLAIMS if name in has], "issuer")
    printed = select_disclosures(document, link.claims)
    with i18n.use(language):
        status = (
            _("Revoked (%(reason)s)", reason=reason_label(row.revocation_reason))
            if row.revoked_at is not None
            else None
        )
        return render_certificate(printed, cohorts.share_url(hub, link.token), status=status)


class _NotAnchored(Exception):
    """The batch is not anchored: nothing to export yet."""


def _export(hub: Hub, issuer: str | None, batch_id: str, language: str) -> bytes | None:
    with hub.sessions() as db:
        try:
            batch = cohorts.own_batch(db, issuer, batch_id)
        except (NotFound, Forbidden):
            return None
        if cohorts.reported_status(hub, batch) != BatchStatus.ANCHORED:
            raise _NotAnchored
        rows = list(
            db.scalars(
                select(models.Credential)
                .where(models.Credential.batch_id == batch.id)
                .order_by(models.Credential.position)
            )
        )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for row in rows:
                archive.writestr(f"{row.id}.json", credential_file(row.document))
                archive.writestr(f"{row.id}.pdf", _certificate(hub, db, row, language))
        return buffer.getvalue()


@router.get("/console/partner/batches/{batch_id}/export.zip")
def batch_export(batch_id: str, request: Request, hub: HubDep, pdf: str | None = None) -> Response:
    staff = _staff(request, hub)
    if isinstance(staff, Response):
        return staff
    try:
        data = _export(hub, staff.address, batch_id, _pdf_language(pdf))
    except _NotAnchored:
        return _message(
            request,
            staff,
            _("Not recorded yet"),
            _("The export is ready once the batch is recorded in the public register."),
            409,
        )
    if data is None:
        return _not_found(request, staff, _("batch"))
    return Response(
        data,
        media_type="application/zip",
        headers={**FILE_HEADERS, "Content-Disposition": f'attachment; filename="batch-{batch_id[:8]}.zip"'},
    )


# ---------------------------------------------------------------- search


@router.get("/console/partner/search", response_class=HTMLResponse)
def search(request: Request, hub: HubDep, q: str = "") -> Response:
    staff = _staff(request, hub)
    if isinstance(staff, Response):
        return staff
    query = q.strip()[:200]
    with hub.sessions() as db:
        found, more = cohorts.find_credentials(db, staff.address, query) if query else ([], False)
    return console_page(request, "partner_search.html", staff, {"query": query, "found": found, "more": more})


# ---------------------------------------------------------------- one credential


def _own_credential(db: Any, staff: Staff, credential_id: str) -> models.Credential | None:
    if not ID.fullmatch(credential_id):
        return None
    try:
        return cohorts.own_credential(db, staff.address, credential_id)
    except (NotFound, Forbidden):
        return None


def _credential_context(hub: Hub, db: Any, row: models.Credential) -> dict[str, Any]:
    batch = row.batch
    state = _state(hub, batch)
    line = cohorts.credential_line(row)
    listed = db.get(models.Programme, row.programme_id)
    programme = listed.name if listed is not None else row.programme_id
    return {
        "row": row,
        "line": line,
        "programme": programme,
        "batch": batch,
        "state": state,
        "states": BATCH_STATES,
        "anchored": state == BatchStatus.ANCHORED,
        "refresh": None if state in (BatchStatus.ANCHORED, BatchStatus.FAILED) else REFRESH_SECONDS,
        "share_url": cohorts.share_url(hub, row.share_token),
        "reason": reason_label(row.revocation_reason) if row.revoked_at is not None else None,
        "revoked_at": cohorts.utc(row.revoked_at),
        "anchored_at": cohorts.utc(batch.anchored_at),
    }


@router.get("/console/partner/credentials/{credential_id}", response_class=HTMLResponse)
def credential_page(credential_id: str, request: Request, hub: HubDep, revoked: str | None = None) -> Response:
    staff = _staff(request, hub)
    if isinstance(staff, Response):
        return staff
    with hub.sessions() as db:
        row = _own_credential(db, staff, credential_id)
        if row is None:
            return _not_found(request, staff, _("credential"))
        context = _credential_context(hub, db, row)
    return console_page(request, "partner_credential.html", staff, {**context, "just_revoked": revoked == "1"})


@router.get("/console/partner/credentials/{credential_id}/credential.json")
def credential_json(credential_id: str, request: Request, hub: HubDep) -> Response:
    staff = _staff(request, hub)
    if isinstance(staff, Response):
        return staff
    with hub.sessions() as db:
        row = _own_credential(db, staff, credential_id)
        if row is None:
            return _not_found(request, staff, _("credential"))
        document = row.document
    return Response(
        credential_file(document),
        media_type="application/json",
        headers={**FILE_HEADERS, "Content-Disposition": f'attachment; filename="{credential_id}.json"'},
    )


@router.get("/console/partner/credentials/{credential_id}/certificate.pdf")
def credential_pdf(credential_id: str, request: Request, hub: HubDep, pdf: str | None = None) -> Response:
    staff = _staff(request, hub)
    if isinstance(staff, Response):
        return staff
    language = _pdf_language(pdf)
    with hub.sessions() as db:
        row = _own_credential(db, staff, credential_id)
        if row is None:
            return _not_found(request, staff, _("credential"))
        if cohorts.reported_status(hub, row.batch) != BatchStatus.ANCHORED:
            return _message(
                request,
                staff,
                _("Not recorded yet"),
                _("The certificate is ready once the credential is recorded in the public register."),
                409,
            )
        data = _certificate(hub, db, row, language)
    return Response(
        data,
        media_type="application/pdf",
        headers={**FILE_HEADERS, "Content-Disposition": f'attachment; filename="{credential_id}-{language}.pdf"'},
    )


# ---------------------------------------------------------------- revoking


def _revoke_page(
    request: Request, hub: Hub, staff: Staff, credential_id: str, *, confirm: str | None, error: str | None, status: int
) -> Response:
    with hub.sessions() as db:
        row = _own_credential(db, staff, credential_id)
        if row is None:
            return _not_found(request, staff, _("credential"))
        context = _credential_context(hub, db, row)
    return console_page(
        request,
        "partner_revoke.html",
        staff,
        {
            **context,
            "reasons": [(name, str(label)) for name, label in REASONS.items()],
            "confirm": confirm,
            "confirm_label": str(REASONS[confirm]) if confirm else None,
            "error": error,
        },
        status=status,
    )


@router.get("/console/partner/credentials/{credential_id}/revoke", response_class=HTMLResponse)
def revoke_form(credential_id: str, request: Request, hub: HubDep) -> Response:
    staff = _staff(request, hub)
    if isinstance(staff, Response):
        return staff
    return _revoke_page(request, hub, staff, credential_id, confirm=None, error=None, status=200)


@router.post("/console/partner/credentials/{credential_id}/revoke", response_class=HTMLResponse)
async def revoke(credential_id: str, request: Request, hub: HubDep) -> Response:
    staff = _staff(request, hub)
    if isinstance(staff, Response):
        return staff
    form: FormData = await request.form()
    if not form_is_genuine(staff, form):
        return expired_form(request, staff)
    reason = str(form.get("reason") or "")
    if reason not in REASONS:
        return await run_in_threadpool(
            _revoke_page,
            request,
            hub,
            staff,
            credential_id,
            confirm=None,
            error=_("Choose why the credential is revoked."),
            status=422,
        )
    if form.get("confirm") != "yes":  # the first step: say what will happen, and ask again
        return await run_in_threadpool(
            _revoke_page, request, hub, staff, credential_id, confirm=reason, error=None, status=200
        )
    assert staff.address is not None
    with hub.sessions() as db:
        row = _own_credential(db, staff, credential_id)
        if row is None:
            return _not_found(request, staff, _("credential"))
        already = row.revoked_at is not None
    if already:
        return await run_in_threadpool(
            _revoke_page,
            request,
            hub,
            staff,
            credential_id,
            confirm=None,
            error=_("This credential was revoked already."),
            status=409,
        )
    try:
        await run_in_threadpool(revoke_own, hub, staff.address, credential_id, REASON_CODES[reason])
    except ChainUnavailable:
        return _chain_down(request, staff)
    except HubError as exc:  # revoked already, not anchored, refused on chain
        log.info("partner console: revoking %s refused: %s", credential_id, exc.detail)
        message = _("This credential cannot be revoked now: %(why)s", why=exc.detail)
        return await run_in_threadpool(
            _revoke_page, request, hub, staff, credential_id, confirm=None, error=message, status=409
        )
    log.info("partner console: %s revoked credential %s (%s)", staff.email, credential_id, reason)
    return RedirectResponse(f"{HOME}/credentials/{quote(credential_id)}?revoked=1", status_code=303)
