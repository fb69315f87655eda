"""The board's HTTP routes: members, proposals, votes, recusals, execution and the public decision register.

Routes only: the shapes are in service.board.schemas, the work in service.board.service (which the register
pages and the board console call too). Members act with their member key; a member whose key the service
does not hold signs its ballot client-side (GET .../ballot-typed-data) and posts the signature. Reading is
public. A refusal by the contract is problem+json with its decoded reason (service.api.problems.REVERT_STATUS).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Response

from service.api import problems
from service.api.deps import DbSession, HubDep, MaybePrincipal, Member
from service.api.idempotency import IdempotentRoute, idempotent
from service.board import service
from service.board.schemas import (
    DB_INT_MAX,
    PROPOSAL_EXAMPLES,
    TVM,
    UINT256_MAX,
    VOTE_EXAMPLES,
    BallotTypedData,
    DecisionPublic,
    MemberPublic,
    ProposalCreate,
    ProposalPublic,
    ProposalSummary,
    RecusalCreate,
    RecusalResult,
    Support,
    VoteCreate,
    VoteResult,
)
from service.chain.board import BoardClient

router = APIRouter(prefix="/board", tags=["board"], route_class=IdempotentRoute)


def get_board(hub: HubDep) -> BoardClient:
    return service.board_client(hub)


Board = Annotated[BoardClient, Depends(get_board)]


ProposalId = Annotated[int, Path(ge=1, le=DB_INT_MAX, description="the proposal's id (sequential from 1)")]


# ---------------------------------------------------------------- routes


@router.get(
    "/members", response_model=list[MemberPublic], operation_id="listBoardMembers", responses=problems.responses(503)
)
def list_members(
    hub: HubDep,
    db: DbSession,
    board: Board,
    include_former: Annotated[bool, Query(description="also list former members")] = False,
) -> list[MemberPublic]:
    """The board's members now, in seat order (from the contract), with when they joined (from the index)."""
    return service.members(hub, db, board, include_former=include_former)


@router.post(
    "/proposals",
    response_model=ProposalPublic,
    status_code=201,
    operation_id="createProposal",
    responses=problems.responses(401, 403, 409, 413, 415, 422, 503),
)
@idempotent
def create_proposal(
    hub: HubDep,
    db: DbSession,
    board: Board,
    principal: Member,
    response: Response,
    body: Annotated[ProposalCreate, Body(openapi_examples=PROPOSAL_EXAMPLES)],
) -> ProposalPublic:
    """Propose a decision as the calling member: the service signs the proposal with the member's key and
    the relayer submits it (proposeBySig). The document's sha256 goes on chain; its text is kept here."""
    created = service.propose(hub, db, board, principal, body)
    response.headers["Location"] = f"/board/proposals/{created.id}"
    return created


@router.get(
    "/proposals",
    response_model=list[ProposalSummary],
    operation_id="listProposals",
    responses=problems.responses(422, 503),
)
def list_proposals(
    db: DbSession,
    board: Board,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=DB_INT_MAX)] = 0,
) -> list[ProposalSummary]:
    """Proposals, newest first, with their state and tally now."""
    return service.proposals(db, board, limit=limit, offset=offset)


@router.get(
    "/proposals/{proposal_id}",
    response_model=ProposalPublic,
    operation_id="getProposal",
    responses=problems.responses(404, 422, 503),
)
def get_proposal(hub: HubDep, db: DbSession, board: Board, proposal_id: ProposalId) -> ProposalPublic:
    """One proposal: state and tally, eligible members, votes with reasons, recusals, and the decision text
    with whether its sha256 is the one the chain records."""
    return service.proposal(hub, db, board, proposal_id)


@router.get(
    "/proposals/{proposal_id}/ballot-typed-data",
    response_model=BallotTypedData,
    operation_id="getBallotTypedData",
    responses=problems.responses(404, 422, 503),
)
def ballot_typed_data(
    hub: HubDep,
    db: DbSession,
    board: Board,
    proposal_id: ProposalId,
    voter: Annotated[str, Query(description="the member that will sign", examples=[TVM])],
    support: Annotated[Support, Query()] = "for",
    reason: Annotated[str, Query(max_length=1000)] = "",
    deadline: Annotated[
        int | None, Query(ge=0, le=UINT256_MAX, description="unix seconds; default: an hour from the chain's time")
    ] = None,
) -> BallotTypedData:
    """The EIP-712 Ballot a member signs client-side (eth_signTypedData_v4), with its current nonce.
    POST it to /board/proposals/{id}/votes as {support, reason, voter, deadline, signature}; no key needed."""
    return service.ballot_typed_data(hub, db, board, proposal_id, voter, support, reason, deadline)


@router.post(
    "/proposals/{proposal_id}/votes",
    response_model=VoteResult,
    status_code=201,
    operation_id="castVote",
    responses=problems.responses(401, 403, 404, 409, 413, 415, 422, 503),
)
@idempotent
def cast_vote(
    hub: HubDep,
    db: DbSession,
    board: Board,
    principal: MaybePrincipal,
    proposal_id: ProposalId,
    body: Annotated[VoteCreate, Body(openapi_examples=VOTE_EXAMPLES)],
) -> VoteResult:
    """Vote for, against or abstain. With a member key the service signs the member's ballot; a ballot
    signed client-side (voter, deadline, signature) needs no key and is relayed as is (castVoteBySig)."""
    return service.vote(hub, db, board, principal, proposal_id, body)


@router.post(
    "/proposals/{proposal_id}/recusals",
    response_model=RecusalResult,
    status_code=201,
    operation_id="recuse",
    responses=problems.responses(401, 403, 404, 409, 413, 415, 422, 503),
)
@idempotent
def recuse(
    hub: HubDep, db: DbSession, board: Board, principal: Member, proposal_id: ProposalId, body: RecusalCreate
) -> RecusalResult:
    """Declare a conflict of interest as the calling member: it does not vote and leaves the quorum base.
    The service signs the recusal with the member's key; the relayer submits it (recuseBySig)."""
    return service.recuse(hub, db, board, principal, proposal_id, body)


@router.post(
    "/proposals/{proposal_id}/execute",
    response_model=DecisionPublic,
    operation_id="executeProposal",
    responses=problems.responses(401, 403, 404, 409, 422, 503),
)
@idempotent
def execute(hub: HubDep, db: DbSession, board: Board, principal: Member, proposal_id: ProposalId) -> DecisionPublic:
    """Apply a succeeded decision (any member may ask; the relayer submits it). The service supplies the
    action and document hash as proposed (from the indexed ProposalCreated event)."""
    return service.execute(hub, db, board, principal, proposal_id)


@router.get(
    "/decisions",
    response_model=list[DecisionPublic],
    operation_id="listDecisions",
    responses=problems.responses(422, 503),
)
def list_decisions(
    db: DbSession,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=DB_INT_MAX)] = 0,
) -> list[DecisionPublic]:
    """The decision register: executed decisions in the order they were executed, with their tallies."""
    return service.decisions(db, limit=limit, offset=offset)
