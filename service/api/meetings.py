"""Board meetings over the API: /board/meetings... (service.board.meetings does the work).

The member that opens a meeting is its secretary: it adds the proposals (signed with its key at once) and closes
the meeting, which records every proposal and ballot in ONE transaction (HubBoard multicall of recordMeeting).
Members sign their ballots (for, against, abstain, or recused with a reason) with their member key, or
client-side over the typed data of GET .../ballot-typed-data (then no key is needed). Reading a meeting needs a
member key: its ballots are the board's until the meeting is recorded; the register then shows them to all.

Ballots: a member's newer ballot supersedes the earlier one, which is kept (`superseded`, with when). A ballot's
signature carries no nonce, so the service refuses (409) a client-signed ballot the member had before and replaced:
sending it again would undo the newer one. Sending the current ballot again changes nothing (200, not 201). No
answer shows a ballot's signature: before the close only the service needs them; after it they are in the
meeting's transaction, and count nowhere else (they name the signed proposal, whose nonce the close used up).

Outcomes: a recorded proposal's `outcome` is the chain's state at the depth the service follows (HUB_CONFIRMATIONS
blocks below the head): final ones (executed, defeated, expired) as stored, the others read again at each look;
reading a meeting whose outcomes the chain must tell answers 503 when it does not answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Response
from hexbytes import HexBytes
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.api import problems
from service.api.deps import DbSession, HubDep, MaybePrincipal, Member
from service.api.idempotency import IdempotentRoute, idempotent
from service.auth import Principal, Role, require_role
from service.board import meetings
from service.board.schemas import DB_INT_MAX, PROPOSAL_EXAMPLES, Address, HexData, ProposalCreate
from service.board.service import _action_from_body, _member_address, _utc
from service.chain.board import ActionKind, BoardClient
from service.db.models import BoardMember, MeetingBallot
from service.errors import InvalidInput, Unauthenticated
from service.hub import Hub

router = APIRouter(prefix="/board/meetings", tags=["board meetings"], route_class=IdempotentRoute)

Choice = Literal["for", "against", "abstain", "recused"]
MeetingId = Annotated[int, Path(ge=1, le=DB_INT_MAX, description="the meeting's id")]
Position = Annotated[int, Path(ge=1, le=meetings.MAX_PROPOSALS, description="the proposal's place in the meeting")]


def get_board(hub: HubDep) -> BoardClient:
    return BoardClient(hub.w3, hub.board_address)


Board = Annotated[BoardClient, Depends(get_board)]


# ---------------------------------------------------------------- schemas


class MeetingCreate(BaseModel):
    model_config = ConfigDict(
        str_strip_whitespace=True,
        extra="forbid",
        json_schema_extra={"examples": [{"title": "Bestuursvergadering 12 maart 2027"}]},
    )

    title: str = Field(min_length=1, max_length=200)
    valid_for: int = Field(
        meetings.DEFAULT_VALID_FOR,
        ge=60,
        le=meetings.MAX_VALID_FOR,
        description="seconds the proposals' signatures stay valid: the meeting must be closed within them",
    )


class MeetingProposalCreate(ProposalCreate):
    """A proposal for the meeting, as POST /board/proposals takes it; with `signature`, the secretary's EIP-712
    Propose signed client-side over POST .../proposal-typed-data (then the service uses no key of the secretary)."""

    signature: HexData | None = Field(None, description="the secretary's EIP-712 signature, 0x-hex (client-side)")


class MeetingProposalTypedData(BaseModel):
    proposer: str
    nonce: int
    deadline: int
    typed_data: dict[str, Any] = Field(description="EIP-712 typed data for eth_signTypedData_v4")


class MeetingBallotCreate(BaseModel):
    """A ballot. With a member key: `choice` and `reason`; the service signs with the member's key. Without one:
    also `voter` and `signature`, the EIP-712 MeetingBallot signed client-side (GET .../ballot-typed-data)."""

    model_config = ConfigDict(
        str_strip_whitespace=True,
        extra="forbid",
        json_schema_extra={"examples": [{"choice": "recused", "reason": "Ik werk bij de partner van dit besluit."}]},
    )

    choice: Choice
    reason: str = Field("", max_length=1000, description="why; required for a recusal (the conflict of interest)")
    voter: Address | None = Field(None, description="the member that signed the ballot (client-side ballots)")
    signature: HexData | None = Field(None, description="the EIP-712 signature, 0x-hex (client-side ballots)")


class MeetingBallotPublic(BaseModel):
    voter: str
    name: str | None = None
    choice: Choice
    reason: str
    signed_at: datetime


class MeetingBallotSuperseded(MeetingBallotPublic):
    superseded_at: datetime = Field(description="when the member's newer ballot replaced it")


Outcome = Literal["executed", "defeated", "expired", "succeeded", "active"]


class MeetingProposalPublic(BaseModel):
    position: int
    kind: str
    title: str
    subject: str | None = None
    name: str | None = None
    document_hash: str
    proposer: str
    nonce: int
    deadline: int
    proposal_id: int | None = Field(None, description="its id on chain, once the meeting is recorded")
    outcome: Outcome | None = Field(
        None,
        description="once recorded, its state on chain (at the service's confirmation depth): executed, defeated "
        "and expired are final; active (the meeting's ballots did not decide it, members may still vote) and "
        "succeeded (decided, not yet executed) are read from the chain again at each look",
    )
    ballots: list[MeetingBallotPublic] = Field(description="each member's current ballot, the one the close records")
    superseded: list[MeetingBallotSuperseded] = Field(
        default_factory=list, description="ballots members replaced by a newer one (kept; never recorded)"
    )


class MeetingPublic(BaseModel):
    id: int
    title: str
    secretary: str
    status: Literal["open", "recorded"]
    valid_until: int = Field(description="unix seconds (chain time): the meeting must be closed before")
    opened_at: datetime
    closed_at: datetime | None = None
    tx_hash: str | None = Field(None, description="the one transaction that recorded the meeting")
    block_number: int | None = None
    proposals: list[MeetingProposalPublic]


class MeetingSummary(BaseModel):
    id: int
    title: str
    secretary: str
    status: Literal["open", "recorded"]
    opened_at: datetime
    tx_hash: str | None = None


class MeetingBallotTypedData(BaseModel):
    voter: str
    choice: Choice
    reason: str
    typed_data: dict[str, Any] = Field(description="EIP-712 typed data for eth_signTypedData_v4")


# ---------------------------------------------------------------- helpers


def _names(db: Session) -> dict[str, str]:
    return {address: name for address, name in db.execute(select(BoardMember.address, BoardMember.name))}


def _ballot(ballot: MeetingBallot, names: dict[str, str]) -> dict[str, Any]:
    return {
        "voter": ballot.voter,
        "name": names.get(ballot.voter),
        "choice": ballot.choice,
        "reason": ballot.reason,
        "signed_at": _utc(ballot.signed_at),
    }


def public(db: Session, view: meetings.MeetingView) -> MeetingPublic:
    names = _names(db)
    meeting = view.meeting
    proposals = []
    for item, ballots in view.items:
        kind = ActionKind(item.kind)
        proposals.append(
            MeetingProposalPublic(
                position=item.position,
                kind=kind.slug,
                title=item.title,
                subject=item.subject if kind.uses_subject else None,
                name=item.name if kind.uses_name else None,
                document_hash=item.document_hash,
                proposer=item.proposer,
                nonce=item.nonce,
                deadline=item.deadline,
                proposal_id=item.proposal_id,
                outcome=item.outcome,  # type: ignore[arg-type]
                ballots=[MeetingBallotPublic.model_validate(_ballot(b, names)) for b in ballots],
                superseded=[
                    MeetingBallotSuperseded.model_validate(
                        {**_ballot(b, names), "superseded_at": _utc(b.superseded_at)}
                    )
                    for b in view.superseded.get(item.id, [])
                ],
            )
        )
    return MeetingPublic(
        id=meeting.id,
        title=meeting.title,
        secretary=meeting.secretary,
        status=meeting.status,  # type: ignore[arg-type]
        valid_until=meeting.valid_until,
        opened_at=_utc(meeting.opened_at),
        closed_at=_utc(meeting.closed_at),
        tx_hash=meeting.tx_hash,
        block_number=meeting.block_number,
        proposals=proposals,
    )


def _json(value: Any) -> Any:
    """Typed data as JSON: bytes as 0x-hex, as eth_signTypedData_v4 takes them."""
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json(item) for item in value]
    return value


def _view(hub: Hub, db: Session, board: BoardClient, meeting_id: int) -> MeetingPublic:
    """The meeting as the API answers it, its outcomes as the chain has them (meetings.refresh_outcomes)."""
    view = meetings.meeting_view(db, meeting_id)
    return public(db, meetings.refresh_outcomes(db, board, view, hub.settings.confirmations))


# ---------------------------------------------------------------- routes


@router.post(
    "",
    response_model=MeetingPublic,
    status_code=201,
    operation_id="openMeeting",
    responses=problems.responses(401, 403, 422, 503),
)
@idempotent
def open_meeting(
    hub: HubDep, db: DbSession, board: Board, principal: Member, response: Response, body: MeetingCreate
) -> MeetingPublic:
    """Open a meeting; the calling member is its secretary."""
    meeting = meetings.open_meeting(db, board, _member_address(principal), body.title, body.valid_for)
    response.headers["Location"] = f"/board/meetings/{meeting.id}"
    return _view(hub, db, board, meeting.id)


@router.get(
    "",
    response_model=list[MeetingSummary],
    operation_id="listMeetings",
    responses=problems.responses(401, 403, 422),
)
def list_meetings(
    db: DbSession,
    principal: Member,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=DB_INT_MAX)] = 0,
) -> list[MeetingSummary]:
    """Meetings, newest first."""
    return [
        MeetingSummary(
            id=m.id,
            title=m.title,
            secretary=m.secretary,
            status=m.status,
            opened_at=_utc(m.opened_at),
            tx_hash=m.tx_hash,  # type: ignore[arg-type]
        )
        for m in meetings.list_meetings(db, limit, offset)
    ]


@router.get(
    "/{meeting_id}",
    response_model=MeetingPublic,
    operation_id="getMeeting",
    responses=problems.responses(401, 403, 404, 422, 503),
)
def get_meeting(hub: HubDep, db: DbSession, board: Board, principal: Member, meeting_id: MeetingId) -> MeetingPublic:
    """A meeting with its proposals and the ballots signed so far; once recorded, each proposal's outcome as the
    chain has it now (a proposal the meeting left active may have been decided since)."""
    return _view(hub, db, board, meeting_id)


@router.post(
    "/{meeting_id}/proposals",
    response_model=MeetingPublic,
    status_code=201,
    operation_id="addMeetingProposal",
    responses=problems.responses(401, 403, 404, 409, 413, 415, 422, 503),
)
@idempotent
def add_proposal(
    hub: HubDep,
    db: DbSession,
    board: Board,
    principal: Member,
    meeting_id: MeetingId,
    body: Annotated[MeetingProposalCreate, Body(openapi_examples=PROPOSAL_EXAMPLES)],
) -> MeetingPublic:
    """Add a proposal to the open meeting (the secretary only): the service signs it with the secretary's key,
    for the meeting's close, or relays the `signature` the secretary made client-side. Its other fields are those
    of POST /board/proposals."""
    action = _action_from_body(body)
    signature = bytes(HexBytes(body.signature)) if body.signature is not None else None
    meetings.add_proposal(
        hub, db, board, meeting_id, _member_address(principal), action, body.title, body.document, signature
    )
    return _view(hub, db, board, meeting_id)


@router.post(
    "/{meeting_id}/proposal-typed-data",
    response_model=MeetingProposalTypedData,
    operation_id="getMeetingProposalTypedData",
    responses=problems.responses(404, 409, 413, 415, 422, 503),
)
def proposal_typed_data(
    db: DbSession,
    board: Board,
    meeting_id: MeetingId,
    body: Annotated[ProposalCreate, Body(openapi_examples=PROPOSAL_EXAMPLES)],
) -> MeetingProposalTypedData:
    """The EIP-712 Propose the secretary signs client-side for the meeting's next proposal (nothing is stored);
    POST the same proposal with its `signature` to .../proposals."""
    typed = meetings.proposal_typed_data(db, board, meeting_id, _action_from_body(body), body.title, body.document)
    message = typed["message"]
    return MeetingProposalTypedData(
        proposer=message["proposer"], nonce=message["nonce"], deadline=message["deadline"], typed_data=_json(typed)
    )


@router.get(
    "/{meeting_id}/proposals/{position}/ballot-typed-data",
    response_model=MeetingBallotTypedData,
    operation_id="getMeetingBallotTypedData",
    responses=problems.responses(404, 422, 503),
)
def ballot_typed_data(
    db: DbSession,
    board: Board,
    meeting_id: MeetingId,
    position: Position,
    voter: Annotated[Address, Query(description="the member that will sign")],
    choice: Annotated[Choice, Query()] = "for",
    reason: Annotated[str, Query(max_length=1000)] = "",
) -> MeetingBallotTypedData:
    """The EIP-712 MeetingBallot a member signs client-side; POST it to .../ballots as {choice, reason, voter,
    signature}. It names the signed proposal: it counts only in this meeting's transaction."""
    typed = meetings.ballot_typed_data(db, board, meeting_id, position, voter, choice, reason.strip())
    return MeetingBallotTypedData(voter=voter, choice=choice, reason=reason.strip(), typed_data=_json(typed))


@router.post(
    "/{meeting_id}/proposals/{position}/ballots",
    response_model=MeetingPublic,
    status_code=201,
    operation_id="signMeetingBallot",
    responses={
        200: {"model": MeetingPublic, "description": "the same ballot was the member's current one: nothing changed"},
        **problems.responses(401, 403, 404, 409, 413, 415, 422, 503),
    },
)
@idempotent
def sign_ballot(
    hub: HubDep,
    db: DbSession,
    board: Board,
    principal: MaybePrincipal,
    response: Response,
    meeting_id: MeetingId,
    position: Position,
    body: MeetingBallotCreate,
) -> MeetingPublic:
    """Sign a ballot on a meeting's proposal: with a member key the service signs with it; a ballot signed
    client-side (voter, signature) needs no key. A member's newer ballot supersedes its earlier one (kept); the
    current ballot sent again changes nothing (200); a client-signed ballot the member had before and replaced
    is refused (409: a replay would undo the newer one; sign it with the member key, or with another reason)."""
    if (body.voter is None) != (body.signature is None):
        raise InvalidInput("a ballot signed client-side needs voter and signature together")
    if body.signature is not None and body.voter is not None:
        voter, signature = body.voter, bytes(HexBytes(body.signature))
    else:
        if principal is None:
            raise Unauthenticated(
                "a ballot needs a member key ('Authorization: Bearer <key>'), or a ballot signed client-side: "
                f"see GET /board/meetings/{meeting_id}/proposals/{position}/ballot-typed-data"
            )
        member: Principal = require_role(principal, Role.MEMBER)
        voter, signature = _member_address(member), None
    signed = meetings.sign_ballot(hub, db, board, meeting_id, position, voter, body.choice, body.reason, signature)
    if not signed.new:
        response.status_code = 200
    return _view(hub, db, board, meeting_id)


@router.post(
    "/{meeting_id}/close",
    response_model=MeetingPublic,
    operation_id="closeMeeting",
    responses=problems.responses(401, 403, 404, 409, 422, 503),
)
@idempotent
def close_meeting(hub: HubDep, db: DbSession, board: Board, principal: Member, meeting_id: MeetingId) -> MeetingPublic:
    """Close the meeting (the secretary only): every proposal and its ballots go on chain in ONE transaction,
    each proposal executed at once when its ballots decide it."""
    view = meetings.close_meeting(hub, db, board, meeting_id, _member_address(principal))
    return public(db, view)
