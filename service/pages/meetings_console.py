"""The board console's meetings: a secretary opens a meeting, adds proposals, members sign their ballots, the
secretary closes it and every proposal and ballot goes on chain in ONE transaction (service.board.meetings).

    GET  /console/board/meetings                               the meetings; open one
    POST /console/board/meetings                               open a meeting (you are its secretary)
    GET  /console/board/meetings/{id}                          the meeting: proposals, ballots, forms
    POST /console/board/meetings/{id}/proposals                add a proposal (the secretary)
    POST /console/board/meetings/{id}/proposals/{n}/ballot     sign your ballot (for/against/abstain/recused)
    POST /console/board/meetings/{id}/close                    record the meeting on chain (the secretary)

Role board only; every form carries the session's CSRF token and works without script. Each act that makes the
member's key sign (a proposal, a ballot, the close) asks for the member's password first: the key in the
service keystore signs only for that act (the close signs nothing of the member's: the relayer sends it).
Refusals are sentences in the reader's language on the page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from service.api.deps import HubDep
from service.board import meetings
from service.board.schemas import ProposalCreate
from service.board.service import _action_from_body
from service.chain.board import ActionKind, BoardClient
from service.db.models import BoardMember
from service.errors import ChainRejected, ChainUnavailable, Conflict, Forbidden, HubError, InvalidInput, NotFound
from service.hub import Hub
from service.i18n import N_, _
from service.pages import paths  # noqa: F401 - registers the rowid path convertor
from service.pages.console import act_refusal, console_page, expired_form, form_is_genuine, require_staff
from service.web.staff import Staff, StaffRole

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
BASE = "/console/board/meetings"

CHOICE_LABELS = {
    "for": N_("For"),
    "against": N_("Against"),
    "abstain": N_("Abstain"),
    "recused": N_("Not taking part (conflict of interest)"),
}
KIND_LABELS = {
    "resolution": N_("Resolution (a decision text)"),
    "add-member": N_("Add a board member"),
    "remove-member": N_("Remove a board member"),
    "accredit-issuer": N_("Accredit a partner"),
    "suspend-issuer": N_("Suspend a partner"),
    "rotate-issuer-key": N_("Change a partner's signing key"),
}
OUTCOME_LABELS = {
    "executed": N_("Decided and carried out"),
    "defeated": N_("Rejected"),
    "expired": N_("Expired: not decided in time"),
    "succeeded": N_("Decided, not carried out yet"),
    "active": N_("Still open for the members who were not there"),
}


def _board(hub: Hub) -> BoardClient:
    return BoardClient(hub.w3, hub.board_address)


async def _form(request: Request) -> FormData | None:
    try:
        return await request.form(max_files=0, max_fields=20, max_part_size=210_000)
    except Exception:  # noqa: BLE001 - starlette's parser raises several types for a body it cannot read
        return None


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _message(exc: HubError) -> str:
    """A refusal as a sentence in the reader's language."""
    text = str(exc)
    if isinstance(exc, Forbidden) and "secretary" in text:
        return _("Only the secretary of this meeting (the member who opened it) can do this.")
    if isinstance(exc, Forbidden) and "not a member" in text:
        return _("Your account is not a member of the board now.")
    if isinstance(exc, Forbidden):
        return _("The hub holds no key for your board seat: ask the administrator.")
    if isinstance(exc, Conflict) and "is closed" in text:
        return _("This meeting is closed: it is recorded on the blockchain already.")
    if isinstance(exc, Conflict) and "no proposals" in text:
        return _("Add at least one proposal before you close the meeting.")
    if isinstance(exc, Conflict) and "signed something else" in text:
        return _(
            "The secretary signed something else since the proposals were signed, so their signatures no longer "
            "fit. Open a new meeting and add the proposals again."
        )
    if isinstance(exc, Conflict) and ("validity" in text or "expired" in text):
        return _("The signatures of this meeting have expired. Open a new meeting.")
    if isinstance(exc, Conflict) and "holds no seat" in text:
        return _("A member who signed a ballot is no longer on the board. Open a new meeting.")
    if isinstance(exc, InvalidInput) and "recusal" in text:
        return _("Say why you do not take part: a conflict of interest needs its reason.")
    if isinstance(exc, InvalidInput):
        return _("Some of the details are not right: %(detail)s", detail=text)
    if isinstance(exc, ChainRejected):
        return _("The board's contract refused this: %(reason)s", reason=text)
    if isinstance(exc, ChainUnavailable) and getattr(exc, "tx_hash", None):
        return _(
            "The meeting was sent to the blockchain and is not recorded yet. Close it again in a minute: the same "
            "transaction is then finished, nothing is sent twice."
        )
    if isinstance(exc, ChainUnavailable):
        return _("The blockchain does not answer right now. Nothing was changed; try again in a moment.")
    return _("This could not be done: %(detail)s", detail=text)


def _names(hub: Hub) -> dict[str, str]:
    with hub.sessions() as db:
        return {member.address: member.name for member in db.query(BoardMember)}


def _detail(
    request: Request,
    hub: Hub,
    staff: Staff,
    meeting_id: int,
    *,
    error: str | None = None,
    status: int = 200,
    kept: dict[str, Any] | None = None,
) -> Response:
    with hub.sessions() as db:
        try:
            view = meetings.meeting_view(db, meeting_id)
        except NotFound:
            return console_page(
                request,
                "console_message.html",
                staff,
                {"title": _("No such meeting"), "message": _("There is no meeting with this number.")},
                status=404,
            )
        # A proposal the meeting left undecided may be decided since: its outcome as the chain has it now.
        outcomes_known = True
        try:
            meetings.refresh_outcomes(db, _board(hub), view, hub.settings.confirmations)
        except ChainUnavailable:
            outcomes_known = False
            error = error or _(
                "The blockchain does not answer right now, so the outcome of a proposal that was still open is not "
                "shown. Try again in a moment."
            )
            status = 503 if status == 200 else status
        names = _names(hub)
        items = []
        for item, ballots in view.items:
            mine = next((b for b in ballots if b.voter == staff.address), None)
            items.append(
                {
                    "position": item.position,
                    "title": item.title,
                    "kind": _(str(KIND_LABELS.get(ActionKind(item.kind).slug, ActionKind(item.kind).slug))),
                    "subject": item.subject if ActionKind(item.kind).uses_subject else None,
                    "proposal_id": item.proposal_id,
                    "outcome": _(str(OUTCOME_LABELS[item.outcome]))
                    if item.outcome and (outcomes_known or item.outcome in meetings.FINAL_OUTCOMES)
                    else None,
                    "mine": mine.choice if mine else None,
                    "ballots": [
                        {
                            "name": names.get(b.voter, b.voter),
                            "choice": _(str(CHOICE_LABELS[b.choice])),
                            "reason": b.reason,
                        }
                        for b in ballots
                    ],
                }
            )
        meeting = view.meeting
        context = {
            "title": meeting.title,
            "meeting": meeting,
            "secretary_name": names.get(meeting.secretary, meeting.secretary),
            "is_secretary": meeting.secretary == staff.address,
            "items": items,
            "choices": [(key, _(str(label))) for key, label in CHOICE_LABELS.items()],
            "kinds": [(key, _(str(label))) for key, label in KIND_LABELS.items()],
            "error": error,
            "kept": kept or {},
            "base": BASE,
        }
    return console_page(request, "meeting_detail.html", staff, context, status=status)


def _board_staff(request: Request, hub: Hub) -> Staff | Response:
    return require_staff(request, hub, StaffRole.BOARD)


async def _posted(request: Request, hub: Hub, act: Callable[[Staff, FormData], Response]) -> Response:
    """A meeting form sent: a signed-in board member, the form's CSRF token, then `act` in a worker thread (it
    waits for the chain, the database or argon2)."""
    staff = _board_staff(request, hub)
    if isinstance(staff, Response):
        return staff
    form = await _form(request)
    if form is None or not form_is_genuine(staff, form):
        return expired_form(request, staff)
    return await run_in_threadpool(act, staff, form)


@router.get(BASE)
def meeting_list(request: Request, hub: HubDep) -> Response:
    staff = _board_staff(request, hub)
    if isinstance(staff, Response):
        return staff
    return _list_page(request, hub, staff)


def _list_page(request: Request, hub: Hub, staff: Staff, error: str | None = None, status: int = 200) -> Response:
    names = _names(hub)
    with hub.sessions() as db:
        rows = [
            {
                "id": m.id,
                "title": m.title,
                "secretary": names.get(m.secretary, m.secretary),
                "recorded": m.status == "recorded",
                "opened_at": m.opened_at,
            }
            for m in meetings.list_meetings(db, limit=100)
        ]
    return console_page(
        request,
        "meeting_list.html",
        staff,
        {"title": _("Board meetings"), "meetings": rows, "error": error, "base": BASE},
        status=status,
    )


@router.post(BASE)
async def meeting_open(request: Request, hub: HubDep) -> Response:
    def act(staff: Staff, form: FormData) -> Response:
        title = _text(form, "title")
        if not title or len(title) > 200:
            return _list_page(request, hub, staff, _("Give the meeting a title (at most 200 characters)."), 422)
        try:
            with hub.sessions() as db:
                meeting = meetings.open_meeting(db, _board(hub), staff.address or "", title)
        except HubError as exc:
            return _list_page(request, hub, staff, _message(exc), 409 if isinstance(exc, Conflict) else 403)
        return RedirectResponse(f"{BASE}/{meeting.id}", status_code=303)

    return await _posted(request, hub, act)


@router.get(BASE + "/{meeting_id:rowid}")
def meeting_detail(meeting_id: int, request: Request, hub: HubDep) -> Response:
    staff = _board_staff(request, hub)
    if isinstance(staff, Response):
        return staff
    return _detail(request, hub, staff, meeting_id)


def _status(exc: HubError) -> int:
    if isinstance(exc, InvalidInput):
        return 422
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, ChainUnavailable):
        return 503
    return 409


@router.post(BASE + "/{meeting_id:rowid}/proposals")
async def meeting_add(meeting_id: int, request: Request, hub: HubDep) -> Response:
    def act(staff: Staff, form: FormData) -> Response:
        kept = {name: _text(form, name) for name in ("kind", "title", "document", "subject", "name", "public_key")}
        refusal = act_refusal(hub, staff, str(form.get("password") or ""))
        if refusal is not None:
            return _detail(request, hub, staff, meeting_id, error=refusal[0], status=refusal[1], kept=kept)
        fields: dict[str, Any] = {"kind": kept["kind"], "title": kept["title"], "document": kept["document"]}
        for field, name in (("subject", "subject"), ("name", "name"), ("public_key_multibase", "public_key")):
            if kept[name]:
                fields[field] = kept[name]
        try:
            body = ProposalCreate.model_validate(fields)
        except ValueError:
            return _detail(
                request,
                hub,
                staff,
                meeting_id,
                error=_(
                    "Fill in the kind, the title and the decision text; an account is 0x followed by 40 characters."
                ),
                status=422,
                kept=kept,
            )
        try:
            action = _action_from_body(body)
            with hub.sessions() as db:
                meetings.add_proposal(
                    hub, db, _board(hub), meeting_id, staff.address or "", action, body.title, body.document
                )
        except HubError as exc:
            return _detail(request, hub, staff, meeting_id, error=_message(exc), status=_status(exc), kept=kept)
        return RedirectResponse(f"{BASE}/{meeting_id}", status_code=303)

    return await _posted(request, hub, act)


@router.post(BASE + "/{meeting_id:rowid}/proposals/{position:rowid}/ballot")
async def meeting_ballot(meeting_id: int, position: int, request: Request, hub: HubDep) -> Response:
    def act(staff: Staff, form: FormData) -> Response:
        choice, reason = _text(form, "choice"), _text(form, "reason")
        if choice not in CHOICE_LABELS:
            return _detail(request, hub, staff, meeting_id, error=_("Choose how you vote."), status=422)
        refusal = act_refusal(hub, staff, str(form.get("password") or ""))
        if refusal is not None:
            return _detail(request, hub, staff, meeting_id, error=refusal[0], status=refusal[1])
        try:
            with hub.sessions() as db:
                meetings.sign_ballot(hub, db, _board(hub), meeting_id, position, staff.address or "", choice, reason)
        except HubError as exc:
            return _detail(request, hub, staff, meeting_id, error=_message(exc), status=_status(exc))
        return RedirectResponse(f"{BASE}/{meeting_id}#proposal-{position}", status_code=303)

    return await _posted(request, hub, act)


@router.post(BASE + "/{meeting_id:rowid}/close")
async def meeting_close(meeting_id: int, request: Request, hub: HubDep) -> Response:
    def act(staff: Staff, form: FormData) -> Response:
        # No member key signs at the close (the relayer sends what was signed): no password asked.
        try:
            with hub.sessions() as db:
                meetings.close_meeting(hub, db, _board(hub), meeting_id, staff.address or "")
        except HubError as exc:
            return _detail(request, hub, staff, meeting_id, error=_message(exc), status=_status(exc))
        return RedirectResponse(f"{BASE}/{meeting_id}", status_code=303)

    return await _posted(request, hub, act)
