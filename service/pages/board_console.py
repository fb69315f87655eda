"""The board console: a board member's whole job in a browser (role board; `staff.principal` is the member).

    GET  /console/board                                 members and seats, the proposals with their state
    GET  /console/board/propose?kind=...                the form of a proposal of that kind (every kind the
                                                        contract supports), with the voting period it gets
    POST /console/board/propose                         propose (multipart: a resolution's document and a
                                                        partner's signing key may be uploaded as files)
    GET  /console/board/proposals/{id}                  one proposal: its text, tally, votes, and the forms
                                                        to vote, recuse and execute
    POST /console/board/proposals/{id}/vote             For / Against / Abstain with a reason
    POST /console/board/proposals/{id}/recuse           a conflict of interest, with its reason
    POST /console/board/proposals/{id}/execute          carry out an adopted decision

Every act the member's key signs asks for the member's password first (checked against the account's argon2id
hash): the key in the service keystore is used for that one act only, after the person proved again that it
is them. The relayer pays. The console calls the same functions as the API (service.board.service); a refusal
by the contract (voted already, recused, voting closed) is a sentence in the reader's language, from the
decoded custom error. Every form carries the session's CSRF token and works without script.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Mapping
from typing import Any

from eth_utils import is_hex_address, to_checksum_address
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from service.api.deps import HubDep
from service.board import service as board_service
from service.board.schemas import DB_INT_MAX, ProposalCreate, ProposalPublic, RecusalCreate, VoteCreate
from service.chain.board import ActionKind
from service.errors import (
    ChainRejected,
    ChainUnavailable,
    Forbidden,
    HubError,
    InvalidInput,
    NotFound,
    validation_message,
)
from service.hub import Hub
from service.i18n import _
from service.pages import present_board
from service.pages.board import seats
from service.pages.console import act_refusal, console_page, expired_form, form_is_genuine, require_staff
from service.pages.routes import CHAIN_ERRORS
from service.web.staff import Staff, StaffRole

log = logging.getLogger(__name__)
FORM_ID = re.compile(r"[A-Za-z0-9_-]{16,43}")  # the propose form's once-only id (secrets.token_urlsafe)
router = APIRouter(include_in_schema=False)

HOME = "/console/board"
KINDS: tuple[str, ...] = tuple(kind.slug for kind in ActionKind)
MAX_UPLOAD = 200_000  # bytes of a document or key file (a proposal's document is at most 200,000 characters)

_LABELS = {
    "kinds": present_board.PROPOSAL_KINDS,
    "states": present_board.PROPOSAL_STATES,
    "supports": present_board.SUPPORT_LABELS,
    "ballots": present_board.BALLOT_LABELS,
    "rules_text": present_board.rules_text,
    "key_fingerprint": present_board.key_fingerprint,
}


class Refused(Exception):
    """An act the console refuses, with the sentence to show and the status to answer with."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def refusal(error: HubError) -> Refused:
    """The sentence for a refusal by the service or the contract (its decoded custom error), in the reader's
    language; the API's English detail when no sentence fits."""
    if isinstance(error, ChainRejected):
        name = error.revert.name
        sentences = {
            "BoardAlreadyVoted": _("You already voted on this proposal. A vote cannot be changed."),
            "BoardAlreadyRecused": _(
                "You said you do not take part in this proposal (conflict of interest), so you cannot vote on it."
            ),
            "BoardUnexpectedProposalState": _("This cannot be done now: the proposal is no longer in that stage."),
            "BoardNotEligible": _("You cannot vote on this proposal: you were not a member when it was made."),
            "BoardUnauthorizedMember": _("Your account is not a member of the board (any more)."),
            "BoardAlreadyMember": _("This account is already a member of the board."),
            "BoardNotMember": _("This account is not a member of the board."),
            "BoardLastMember": _("The board cannot be left without members."),
            "BoardTooManyMembers": _("The board already has as many members as it may have."),
            "BoardInvalidRules": _("These voting rules are not allowed."),
            "BoardInvalidAction": _("The details of this proposal do not fit its kind."),
            "BoardEmptyTitle": _("A proposal needs a title."),
        }
        message = sentences.get(name) or _("The board's contract refused this: %(reason)s", reason=error.detail)
        return Refused(message, 409 if name != "BoardUnauthorizedMember" else 403)
    if isinstance(error, ChainUnavailable):
        return Refused(
            _("The blockchain did not answer in time. Look at the proposal again in a minute before you retry."), 503
        )
    if isinstance(error, Forbidden):
        return Refused(_("The hub holds no key for your seat, so it cannot sign for you. Ask the hub's admin."), 403)
    if isinstance(error, InvalidInput) and error.detail.startswith("public_key_multibase"):
        return Refused(_("Signing key: this is not an Ed25519 signing key (a Multikey starting with z6Mk)."), 422)
    if isinstance(error, NotFound):
        return Refused(_("There is no such proposal."), 404)
    return Refused(_("This was refused: %(reason)s", reason=error.detail), 409)


def _validation(exc: ValidationError) -> Refused:
    """The first problem pydantic found, with the field named as the form labels it."""
    first = exc.errors()[0]
    field = ".".join(str(part) for part in first.get("loc", ()))
    if field == "subject":
        problem = _("not a blockchain account (0x followed by 40 characters)")
    elif field.startswith("rules"):
        problem = _("this value is outside what the rules allow")
    else:
        problem = validation_message(first)
    return Refused(_("%(field)s: %(problem)s", field=_field_names().get(field, field), problem=problem), 422)


def _field_names() -> dict[str, str]:
    return {
        "title": _("Title"),
        "document": _("Decision text"),
        "subject": _("Account address"),
        "name": _("Name"),
        "public_key_multibase": _("Signing key"),
        "reason": _("Reason"),
        "support": _("Your vote"),
        "rules.quorum_bps": _("Quorum"),
        "rules.majority_bps": _("Majority"),
        "rules.supermajority_bps": _("Qualified majority"),
        "rules.voting_period": _("Voting period"),
        "rules.execution_period": _("Period to carry it out"),
    }


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


async def _upload(form: FormData, name: str) -> bytes | None:
    """The bytes of the file uploaded as `name` (None when no file was chosen)."""
    value = form.get(name)
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    content = await value.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise Refused(_("The file is too large: at most 200 kB."), 413)
    return content


async def _document(form: FormData) -> tuple[str, bool]:
    """The decision text and whether it was uploaded: the uploaded document (a UTF-8 text file), else the text
    typed in the form."""
    uploaded = await _upload(form, "document_file")
    if uploaded is not None:
        try:
            text = uploaded.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise Refused(_("The document must be a text file (UTF-8), such as .txt or .md."), 422) from None
        if text.strip():
            return text, True
        raise Refused(_("The document you uploaded is empty."), 422)
    return _text(form, "document"), False


async def _signing_key(form: FormData, subject: str) -> tuple[str, str]:
    """The partner's signing key (Multikey) from the form or its key file, and the subject (the key file's
    address when none was typed). A key file is the public part of `hub keystore signing-key` (JSON with
    `publicKeyMultibase`, and `address`) or a text file holding the Multikey."""
    uploaded = await _upload(form, "key_file")
    typed = _text(form, "public_key_multibase")
    if uploaded is None:
        return typed, subject
    try:
        content = uploaded.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        raise Refused(_("This key file cannot be read: it is not text."), 422) from None
    if content.startswith("{"):
        try:
            data = json.loads(content)
        except ValueError:
            raise Refused(_("This key file cannot be read: it is not valid JSON."), 422) from None
        key = data.get("publicKeyMultibase") if isinstance(data, dict) else None
        if not isinstance(key, str):
            raise Refused(_("This key file holds no publicKeyMultibase."), 422)
        address = data.get("address")
        if isinstance(address, str) and address:
            if subject and subject.lower() != address.lower():
                raise Refused(_("The key file belongs to another account than the one you typed."), 422)
            subject = subject or address
        content = key
    if typed and typed != content:
        raise Refused(_("The key you typed is not the one in the key file. Give one of them."), 422)
    return content, subject


async def _proposal_body(form: FormData) -> ProposalCreate:
    kind = _text(form, "kind")
    if kind not in KINDS:
        raise Refused(_("Choose what kind of proposal this is."), 422)
    action = ActionKind.from_slug(kind)
    document, uploaded = await _document(form)
    body: dict[str, Any] = {"kind": kind, "title": _text(form, "title"), "document": document}
    subject = _text(form, "subject")
    if action.uses_key:
        key, subject = await _signing_key(form, subject)
        body["public_key_multibase"] = key or None
    if action.uses_subject:
        body["subject"] = subject or None
    if action.uses_name:
        body["name"] = _text(form, "name") or None
    if action.uses_rules:
        rules: dict[str, Any] = {}
        for field in ("quorum_bps", "majority_bps", "supermajority_bps"):
            rules[field] = _percent_bps(_text(form, field), field)
        for field in ("voting_period", "execution_period"):
            rules[field] = _days_seconds(_text(form, field), field)
        body["rules"] = rules
    if not body["title"]:
        raise Refused(_("Give the proposal a title."))
    if not body["document"].strip():
        raise Refused(_("Type the decision text or upload it as a file."))
    missing = [name for name in ("subject", "name", "public_key_multibase") if name in body and body[name] is None]
    if missing:
        raise Refused(_("%(field)s: this is needed for this kind of proposal.", field=_field_names()[missing[0]]))
    try:
        proposal = ProposalCreate.model_validate(body)
    except ValidationError as exc:
        raise _validation(exc) from None
    # an uploaded document is hashed as it is (the model strips the text's ends), so that the fingerprint on chain
    # is the sha256 of the very file the members hold
    return proposal.model_copy(update={"document": document}) if uploaded else proposal


def _percent_bps(value: str, field: str) -> int:
    """ "66.66" or "66,66" (percent) → 6666 basis points."""
    try:
        number = float(value.replace(",", ".").rstrip("%").strip())
        if not 0 <= number <= 100:  # also refuses nan and infinity, which no vote rule can be
            raise ValueError(value)
        return round(number * 100)
    except ValueError:
        raise Refused(_("%(field)s: give a percentage, such as 50.", field=_field_names()[f"rules.{field}"])) from None


def _days_seconds(value: str, field: str) -> int:
    """A number of days ("7" or "0,5") → seconds."""
    try:
        number = float(value.replace(",", ".").strip())
        if not 0 <= number <= 3650:  # ten years at most; also refuses nan and infinity
            raise ValueError(value)
        return round(number * 86_400)
    except ValueError:
        raise Refused(
            _("%(field)s: give a number of days, such as 7.", field=_field_names()[f"rules.{field}"])
        ) from None


def _confirm(hub: Hub, staff: Staff, form: FormData) -> None:
    refusal = act_refusal(hub, staff, _text(form, "password"))
    if refusal is not None:
        raise Refused(*refusal)


def _seat_account(staff: Staff) -> str | None:
    """The member's account as the chain writes it (an account may have been stored in lower case)."""
    return to_checksum_address(staff.address) if staff.address and is_hex_address(staff.address) else None


def _proposal_id(proposal_id: str) -> int | None:
    return (
        int(proposal_id)
        if proposal_id.isascii() and proposal_id.isdigit() and 0 < int(proposal_id) <= DB_INT_MAX
        else None
    )


# ---------------------------------------------------------------- pages


@router.get("/console/board", response_class=HTMLResponse)
def home(request: Request, hub: HubDep) -> Response:
    staff = require_staff(request, hub, StaffRole.BOARD)
    if isinstance(staff, Response):
        return staff
    try:
        with hub.sessions() as db:
            board = board_service.board_client(hub)
            board_seats = seats(hub, db, board)
            proposals = board_service.proposals(db, board, limit=100)
            rules = board.rules()
    except CHAIN_ERRORS:
        return _unreadable(request, staff)
    context = {"seats": board_seats, "proposals": proposals, "rules": rules, "me": _seat_account(staff), **_LABELS}
    return console_page(request, "board_console_home.html", staff, context)


def _propose_page(
    request: Request, hub: Hub, staff: Staff, kind: str, values: Mapping[str, Any], error: str | None, status: int
) -> Response:
    try:
        rules = board_service.board_client(hub).rules()
    except CHAIN_ERRORS:
        return _unreadable(request, staff)
    context = {
        "kind": kind if kind in KINDS else "",
        "uses": ActionKind.from_slug(kind) if kind in KINDS else None,
        "kind_slugs": KINDS,
        "values": values,
        "error": error,
        "rules": rules,
        "voting_days": present_board.days(rules.voting_period),
        # one id per form shown (kept when it is shown again to correct it): sent twice, it proposes once
        "form_id": values.get("form_id")
        if FORM_ID.fullmatch(str(values.get("form_id", "")))
        else secrets.token_urlsafe(16),
        **_LABELS,
    }
    return console_page(request, "board_console_propose.html", staff, context, status=status)


@router.get("/console/board/propose", response_class=HTMLResponse)
def propose_form(request: Request, hub: HubDep) -> Response:
    staff = require_staff(request, hub, StaffRole.BOARD)
    if isinstance(staff, Response):
        return staff
    kind = request.query_params.get("kind", "")
    return _propose_page(request, hub, staff, kind if kind in KINDS else "", {}, None, 200)


@router.post("/console/board/propose", response_class=HTMLResponse)
async def propose(request: Request, hub: HubDep) -> Response:
    staff = require_staff(request, hub, StaffRole.BOARD)
    if isinstance(staff, Response):
        return staff
    form = await request.form()
    if not form_is_genuine(staff, form):
        return expired_form(request, staff)
    kind = _text(form, "kind")
    values = {key: value for key, value in form.items() if isinstance(value, str) and key != "password"}
    try:
        body = await _proposal_body(form)
        created = await run_in_threadpool(_propose, hub, staff, form, body)
    except Refused as refused:
        return _propose_page(request, hub, staff, kind, values, refused.message, refused.status)
    except HubError as error:
        told = refusal(error)
        return _propose_page(request, hub, staff, kind, values, told.message, told.status)
    log.info("board member %s proposed %s (proposal %s)", staff.account_id, body.kind, created.id)
    return RedirectResponse(f"{HOME}/proposals/{created.id}?done=proposed", status_code=303)


def _propose(hub: Hub, staff: Staff, form: FormData, body: ProposalCreate) -> ProposalPublic:
    _confirm(hub, staff, form)
    form_id = _text(form, "form_id")
    reference = f"console-propose:{staff.account_id}:{form_id}" if FORM_ID.fullmatch(form_id) else None
    with hub.sessions() as db:
        return board_service.propose(
            hub, db, board_service.board_client(hub), staff.principal, body, reference=reference
        )


def _proposal_page(
    request: Request, hub: Hub, staff: Staff, proposal_id: int, *, error: str | None = None, status: int = 200
) -> Response:
    try:
        with hub.sessions() as db:
            board = board_service.board_client(hub)
            proposal = board_service.proposal(hub, db, board, proposal_id)
            chain_time = board.chain_time()
    except NotFound:
        return console_page(
            request,
            "console_message.html",
            staff,
            {"title": _("There is no such proposal"), "message": _("The board has made no proposal with this number.")},
            status=404,
        )
    except CHAIN_ERRORS:
        return _unreadable(request, staff)
    mine = next((m for m in proposal.eligible_members if m.address == _seat_account(staff)), None)
    context = {
        "p": proposal,
        "chain_time": chain_time,
        "my_status": mine.status if mine is not None else None,
        "may_vote": proposal.state == "active" and mine is not None and mine.status == "not-voted",
        "done": request.query_params.get("done") if error is None else None,
        "error": error,
        **_LABELS,
    }
    return console_page(request, "board_console_proposal.html", staff, context, status=status)


@router.get("/console/board/proposals/{proposal_id}", response_class=HTMLResponse)
def proposal_page(proposal_id: str, request: Request, hub: HubDep) -> Response:
    staff = require_staff(request, hub, StaffRole.BOARD)
    if isinstance(staff, Response):
        return staff
    number = _proposal_id(proposal_id)
    if number is None:
        return _proposal_page(request, hub, staff, DB_INT_MAX)  # no such proposal: the 404 page
    return _proposal_page(request, hub, staff, number)


def _do(hub: Hub, staff: Staff, form: FormData, number: int, act: str) -> None:
    """Vote, recuse or execute as `staff`, once their password confirmed it (in a worker thread: it waits for
    the transaction)."""
    _confirm(hub, staff, form)
    with hub.sessions() as db:
        board = board_service.board_client(hub)
        if act == "vote":
            support = _text(form, "support")
            if support not in present_board.SUPPORT_LABELS:
                raise Refused(_("Choose For, Against or Abstain."))
            try:
                vote = VoteCreate.model_validate({"support": support, "reason": _text(form, "reason")})
            except ValidationError:
                raise Refused(_("The reason is too long: at most 1,000 characters.")) from None
            board_service.vote(hub, db, board, staff.principal, number, vote)
        elif act == "recuse":
            reason = _text(form, "reason")
            if not reason:
                raise Refused(_("Say why you do not take part: the register shows your reason."))
            try:
                recusal = RecusalCreate.model_validate({"reason": reason})
            except ValidationError:
                raise Refused(_("The reason is too long: at most 1,000 characters.")) from None
            board_service.recuse(hub, db, board, staff.principal, number, recusal)
        else:
            board_service.execute(hub, db, board, staff.principal, number)


async def _act(request: Request, hub: Hub, proposal_id: str, act: str) -> Response:
    staff = require_staff(request, hub, StaffRole.BOARD)
    if isinstance(staff, Response):
        return staff
    form = await request.form()
    if not form_is_genuine(staff, form):
        return expired_form(request, staff)
    number = _proposal_id(proposal_id)
    if number is None:
        return _proposal_page(request, hub, staff, DB_INT_MAX)
    try:
        await run_in_threadpool(_do, hub, staff, form, number, act)
    except Refused as refused:
        return _proposal_page(request, hub, staff, number, error=refused.message, status=refused.status)
    except InvalidInput as error:
        return _proposal_page(request, hub, staff, number, error=refusal(error).message, status=422)
    except HubError as error:
        told = refusal(error)
        return _proposal_page(request, hub, staff, number, error=told.message, status=told.status)
    log.info("board member %s: %s on proposal %s", staff.account_id, act, number)
    return RedirectResponse(f"{HOME}/proposals/{number}?done={act}", status_code=303)


@router.post("/console/board/proposals/{proposal_id}/vote", response_class=HTMLResponse)
async def vote(proposal_id: str, request: Request, hub: HubDep) -> Response:
    return await _act(request, hub, proposal_id, "vote")


@router.post("/console/board/proposals/{proposal_id}/recuse", response_class=HTMLResponse)
async def recuse(proposal_id: str, request: Request, hub: HubDep) -> Response:
    return await _act(request, hub, proposal_id, "recuse")


@router.post("/console/board/proposals/{proposal_id}/execute", response_class=HTMLResponse)
async def execute(proposal_id: str, request: Request, hub: HubDep) -> Response:
    return await _act(request, hub, proposal_id, "execute")


def _unreadable(request: Request, staff: Staff) -> Response:
    log.warning("the board console cannot read the chain", exc_info=True)
    return console_page(
        request,
        "console_message.html",
        staff,
        {
            "title": _("The board cannot be read right now"),
            "message": _("The blockchain did not answer. Please try again in a minute."),
        },
        status=503,
    )
