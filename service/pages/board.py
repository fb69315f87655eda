"""The board's public pages: its register, each proposal, and the partners it accredited.

    GET /board/register                          members and their seats; proposals, newest first (paged)
    GET /board/register/proposals/{id}           one proposal: kind, subject, rules, text and its hash, every
                                                 vote with its reason, recusals, the result, the transactions
    GET /partners                                the partners the board accredited (now or before): status,
                                                 since when, signing key, DID, the decisions about each
    GET /partners/{slug}                         one partner
    GET /partners/{slug}/accreditation?at=UNIX   303 to the page of the decision that accredited the partner and
                                                 was in force at that moment (the "issuer accredited" check of
                                                 a credential links here with the moment of its anchoring)

A partner's slug is the last segment of its DID (`did:web:<host>:issuers:<slug>`): the one the hub recorded
when it made the DID, else the one made from the name the board accredited it under (the verifier requires a
credential's DID to end in that very slug). The decisions about a partner are the board's executed proposals
that accredited, suspended or re-keyed its account (from the event index). The JSON API (GET /board/...)
answers the same questions for programs; these pages are for people, in Dutch and English, and show the
board's own words (titles, texts, reasons) as written.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from eth_utils import to_checksum_address
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.api.deps import HubDep
from service.board import meetings
from service.board import service as board_service
from service.chain.board import ActionKind, BoardClient
from service.credentials.document import issuer_slug
from service.db import models
from service.errors import NotFound
from service.hub import Hub
from service.i18n import _
from service.issuing.identity import did_web
from service.issuing.issuers import Partner
from service.pages import present, present_board
from service.pages.present_board import PartnerDecision
from service.pages.routes import CHAIN_ERRORS, not_found, page, templates

log = logging.getLogger(__name__)

templates.env.filters.update(
    short_address=present_board.short_address, percent=present_board.percent, days=present_board.days
)

router = APIRouter(include_in_schema=False)

REGISTER_PAGE_SIZE = 20
DB_INT_MAX = 2**63 - 1
_PARTNER_KINDS = (ActionKind.ACCREDIT_ISSUER, ActionKind.SUSPEND_ISSUER, ActionKind.ROTATE_ISSUER_KEY)
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
_LABELS = {
    "kinds": present_board.PROPOSAL_KINDS,
    "states": present_board.PROPOSAL_STATES,
    "supports": present_board.SUPPORT_LABELS,
    "ballots": present_board.BALLOT_LABELS,
    "rules_text": present_board.rules_text,
    "key_fingerprint": present_board.key_fingerprint,
}


def _unreadable(request: Request, what: str) -> HTMLResponse:
    log.warning("the %s page cannot read the chain", what, exc_info=True)
    return not_found(
        request,
        _("The register cannot be read right now"),
        _("The hub's public register on the blockchain did not answer. Please try again in a minute."),
        status=503,
    )


# ---------------------------------------------------------------- the partners, and the decisions about them


@dataclass(frozen=True)
class PartnerView:
    """A partner as its pages show it."""

    partner: Partner
    slug: str
    did: str | None  # its did:web, once the hub made its DID document (GET /issuers/{slug}/did.json)
    decisions: tuple[PartnerDecision, ...]  # in the order they were executed

    @property
    def path(self) -> str:
        return f"/partners/{self.slug}"


def _utc(moment: datetime) -> datetime:
    """A time from the database (SQLite keeps no zone; the index writes UTC) as an aware datetime."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def partner_decisions(db: Session) -> dict[str, list[PartnerDecision]]:
    """The board's executed decisions that accredited, suspended or re-keyed a partner, by the partner's account,
    each partner's in the order they were executed."""
    rows = db.scalars(
        select(models.BoardProposal)
        .where(
            models.BoardProposal.kind.in_([int(kind) for kind in _PARTNER_KINDS]),
            models.BoardProposal.executed_tx.is_not(None),
        )
        .order_by(models.BoardProposal.executed_block, models.BoardProposal.executed_log_index)
    )
    decisions: dict[str, list[PartnerDecision]] = defaultdict(list)
    for row in rows:
        assert row.executed_at is not None and row.executed_tx is not None  # executed: the query says so
        decisions[to_checksum_address(row.subject)].append(
            PartnerDecision(
                proposal_id=row.id,
                kind=ActionKind(row.kind).slug,
                title=row.title,
                executed_at=_utc(row.executed_at),
                executed_tx=row.executed_tx,
            )
        )
    return decisions


def partner_views(hub: Hub) -> list[PartnerView]:
    """Every partner the board accredited (now or before), accredited ones first, by name.

    :raises ChainUnavailable: the registry cannot be asked.
    """
    partners = hub.issuers.partners()
    with hub.sessions() as db:
        decisions = partner_decisions(db)
    views = []
    for partner in partners:
        slug = partner.slug or issuer_slug(partner.name)
        views.append(
            PartnerView(
                partner=partner,
                slug=slug,
                did=did_web(hub.settings.public_url, partner.slug) if partner.slug else None,
                decisions=tuple(decisions.get(partner.address, ())),
            )
        )
    return views


def find_partner(hub: Hub, slug: str) -> PartnerView | None:
    """The partner whose slug is `slug` (the one the hub recorded first, then one made from a name), or None.

    :raises ChainUnavailable: the registry cannot be asked.
    """
    if not _SLUG.fullmatch(slug):
        return None
    views = partner_views(hub)
    recorded = [view for view in views if view.partner.slug == slug]
    named = [view for view in views if view.slug == slug]
    return (recorded or named)[0] if recorded or named else None


def partner_slug(hub: Hub, db: Session, address: str) -> str | None:
    """The slug of the partner `address` for a link to its page (None when the board never accredited it).

    :raises ChainUnavailable: the registry cannot be asked.
    """
    row = db.get(models.Issuer, to_checksum_address(address))
    if row is not None:
        return row.slug
    name = hub.registry.issuer(address).name
    return issuer_slug(name) if name else None


def _unknown_partner(request: Request) -> HTMLResponse:
    return not_found(
        request,
        _("There is no such partner"),
        _(
            "The board has not approved a partner with this name. The list of partners shows every partner the "
            "board approved."
        ),
    )


@router.get("/partners", response_class=HTMLResponse)
def partners_page(request: Request, hub: HubDep) -> HTMLResponse:
    try:
        views = partner_views(hub)
    except CHAIN_ERRORS:
        return _unreadable(request, "partners")
    return page(request, "partners.html", {"partners": views, **_LABELS})


@router.get("/partners/{slug}", response_class=HTMLResponse)
def partner_page(slug: str, request: Request, hub: HubDep) -> HTMLResponse:
    try:
        view = find_partner(hub, slug)
    except CHAIN_ERRORS:
        return _unreadable(request, "partner")
    if view is None:
        return _unknown_partner(request)
    return page(request, "partner.html", {"view": view, **_LABELS})


@router.get("/partners/{slug}/accreditation", response_model=None)
def accreditation(slug: str, request: Request, hub: HubDep) -> Response:
    """The decision that accredited the partner and was in force at `?at=` (unix seconds; the chain's now without
    it)."""
    at = request.query_params.get("at")
    # digits, and a moment Python's dates can write (before the year 10000)
    if at is not None and not (at.isascii() and at.isdigit() and len(at) <= 12 and int(at) < 253_402_300_800):
        return not_found(
            request,
            _("This link does not name a moment"),
            _("The link should end in ?at= followed by a time in seconds since 1 January 1970 (UTC)."),
            status=422,
        )
    try:
        moment = int(at) if at is not None else board_service.board_client(hub).chain_time()  # now, as the chain says
        view = find_partner(hub, slug)
    except CHAIN_ERRORS:
        return _unreadable(request, "accreditation")
    if view is None:
        return _unknown_partner(request)
    decision = present_board.accreditation_at(list(view.decisions), moment)
    if decision is None:  # the partner's page, saying so: it lists the decisions about the partner
        context = {"view": view, "not_then": present.moment(moment), **_LABELS}
        return page(request, "partner.html", context, status=404)
    return RedirectResponse(f"/board/register/proposals/{decision.proposal_id}", status_code=303)


# ---------------------------------------------------------------- the register


@dataclass(frozen=True)
class Seat:
    number: int  # from 1, as people count (the contract counts from 0)
    address: str | None  # None: a free seat
    name: str | None
    since: datetime | None  # when the member (last) joined, when indexed


def seats(hub: Hub, db: Session, board: BoardClient) -> list[Seat]:
    """The board's seats in order, with the member holding each (free seats too).

    :raises ChainUnavailable: the board cannot be asked.
    """
    members = {member.address: member for member in board_service.members(hub, db, board)}
    out = []
    for index, account in enumerate(board.member_table()):
        member = members.get(to_checksum_address(account)) if int(account, 16) else None
        out.append(
            Seat(
                number=index + 1,
                address=member.address if member else None,
                name=member.name if member else None,
                since=member.since if member else None,
            )
        )
    return out


@router.get("/board/register", response_class=HTMLResponse)
def register(request: Request, hub: HubDep) -> HTMLResponse:
    number = request.query_params.get("page", "1")
    current = int(number) if number.isascii() and number.isdigit() and 0 < int(number) < 1_000_000 else 1
    try:
        with hub.sessions() as db:
            total = int(db.scalar(select(func.count()).select_from(models.BoardProposal)) or 0)
            board = board_service.board_client(hub)
            proposals = (
                board_service.proposals(db, board, limit=REGISTER_PAGE_SIZE, offset=(current - 1) * REGISTER_PAGE_SIZE)
                if total
                else []
            )
            chain_time = board.chain_time() if proposals else 0
            board_seats = seats(hub, db, board) if current == 1 else []
            subjects = {p.subject for p in proposals if p.subject and p.kind in present_board.PARTNER_DECISIONS}
            slugs = {subject: partner_slug(hub, db, subject) for subject in subjects}
    except CHAIN_ERRORS:
        return _unreadable(request, "register")
    pages = max(1, -(-total // REGISTER_PAGE_SIZE))
    context = {
        "proposals": proposals,
        "total": total,
        "current": current,
        "pages": pages,
        "seats": board_seats,
        "chain_time": chain_time,
        "partner_slugs": slugs,
        **_LABELS,
    }
    return page(request, "register.html", context)


def _unknown_proposal(request: Request) -> HTMLResponse:
    return not_found(
        request,
        _("There is no such proposal"),
        _("The board has made no proposal with this number. The register lists every proposal, newest first."),
    )


@router.get("/board/register/proposals/{proposal_id}", response_class=HTMLResponse)
def proposal_page(proposal_id: str, request: Request, hub: HubDep) -> HTMLResponse:
    if not (proposal_id.isascii() and proposal_id.isdigit() and 0 < int(proposal_id) <= DB_INT_MAX):
        return _unknown_proposal(request)
    try:
        with hub.sessions() as db:
            board = board_service.board_client(hub)
            proposal = board_service.proposal(hub, db, board, int(proposal_id))
            recorded = meetings.meeting_of_proposal(db, int(proposal_id))
            meeting = {"title": recorded[0].title, "tx_hash": recorded[0].tx_hash} if recorded else None
            chain_time = board.chain_time()
            slug = (
                partner_slug(hub, db, proposal.subject)
                if proposal.subject and proposal.kind in present_board.PARTNER_DECISIONS
                else None
            )
    except NotFound:
        return _unknown_proposal(request)
    except CHAIN_ERRORS:
        return _unreadable(request, "proposal")
    context = {"p": proposal, "chain_time": chain_time, "partner_slug": slug, "meeting": meeting, **_LABELS}
    return page(request, "proposal.html", context)
