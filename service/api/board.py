"""The board: members, proposals, votes, recusals, execution and the public decision register.

Members act with their member key; the service signs their proposal, ballot or recusal (EIP-712) with
the member's own key and the relayer submits it, so members need no ether. A member whose key the
service does not hold signs its ballot client-side (GET .../ballot-typed-data) and posts the signature,
which is relayed as is. Reading is public.

Lists come from the event index (service.chain.indexer), which also holds what was done on chain
directly; states and tallies come from the contract at the time of the request. Every write waits for
its transaction and catches the index up before answering, so the answer already shows it. A refusal by
the contract is problem+json with its decoded reason (service.api.problems.REVERT_STATUS).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from eth_utils import is_hex_address, to_checksum_address
from fastapi import APIRouter, Body, Depends, Path, Query, Response
from hexbytes import HexBytes
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.orm import Session, object_session
from web3.types import TxReceipt

from service.api import problems
from service.api.deps import DbSession, HubDep, MaybePrincipal, Member
from service.api.idempotency import IdempotentRoute, idempotent
from service.auth import Principal, Role, require_role
from service.chain.board import (
    NO_KEY,
    ZERO_ADDRESS,
    Action,
    ActionKind,
    BoardClient,
    Proposal,
    Rules,
    SignedBallot,
    VoteType,
    document_hash,
    typed_data_digest,
)
from service.chain.relayer import Call, TransactionFailed, TransactionPending, TransactionReverted
from service.credentials import multikey
from service.db.models import BoardBallot, BoardMember, BoardProposal, ChainEvent, ProposalDocument, SigningKey
from service.errors import ChainRejected, ChainUnavailable, Conflict, InvalidInput, NotFound, Unauthenticated
from service.hub import Hub
from service.issuing.issuers import remember_key

log = logging.getLogger(__name__)
router = APIRouter(prefix="/board", tags=["board"], route_class=IdempotentRoute)

SIGNATURE_TTL = 10 * 60  # seconds of chain time a signature made by the service stays valid
CLIENT_BALLOT_TTL = 60 * 60  # default deadline offered for a ballot signed client-side
UINT256_MAX = 2**256 - 1  # a signature's deadline is a uint256 on chain
DB_INT_MAX = 2**63 - 1  # the largest integer the database compares (SQLite INTEGER, PostgreSQL bigint)

# ---------------------------------------------------------------- schemas

Kind = Literal[
    "resolution",
    "add-member",
    "remove-member",
    "accredit-issuer",
    "suspend-issuer",
    "change-rules",
    "rotate-issuer-key",
]
Support = Literal["for", "against", "abstain"]
StateName = Literal["active", "defeated", "succeeded", "executed", "expired"]
BallotStatus = Literal["for", "against", "abstain", "recused", "not-voted"]

TVM = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
NHL_ISSUER = "0x1CBd3b2770909D4e10f157cABC84C7264073C9Ec"
NHL_KEY = "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
EXAMPLE_HASH = "0x3f0c3a1e5c6d4b5a29e8a2f1f3b0c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5"
EXAMPLE_TX = "0x8c1d7b4a2f3e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c"


def _address(value: Any) -> Any:
    if isinstance(value, str) and is_hex_address(value):
        return to_checksum_address(value)
    raise ValueError("not an Ethereum address (0x followed by 40 hex digits)")


def _hex_bytes(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("0x") and len(value) % 2 == 0:
        try:
            bytes.fromhex(value[2:])
            return value.lower()
        except ValueError:
            pass
    raise ValueError("not 0x-prefixed hex bytes")


Address = Annotated[str, BeforeValidator(_address), Field(examples=[TVM])]
HexData = Annotated[str, BeforeValidator(_hex_bytes)]


class RulesCreate(BaseModel):
    """The board's rules, for a change-rules proposal. Periods in seconds."""

    model_config = ConfigDict(extra="forbid")  # a misspelt field is refused by name, not ignored

    quorum_bps: int = Field(ge=1, le=10_000, description="share of the quorum base that must take part, in bps")
    majority_bps: int = Field(ge=5_000, le=9_999, description="threshold of resolutions and issuer decisions")
    supermajority_bps: int = Field(ge=5_000, le=9_999, description="threshold of membership and rule changes")
    voting_period: int = Field(ge=60, le=365 * 86_400, description="seconds from proposal to the end of voting")
    execution_period: int = Field(ge=60, le=365 * 86_400, description="seconds after voting to execute")

    @model_validator(mode="after")
    def _ordered(self) -> RulesCreate:
        if self.supermajority_bps < self.majority_bps:
            raise ValueError("supermajority_bps must be at least majority_bps")
        return self


class RulesPublic(BaseModel):
    quorum_bps: int = Field(examples=[5000])
    majority_bps: int = Field(examples=[5000])
    supermajority_bps: int = Field(examples=[6666])
    voting_period: int = Field(examples=[604800])
    execution_period: int = Field(examples=[604800])


class ProposalCreate(BaseModel):
    """A proposal. `subject`, `name`, `public_key_multibase` and `rules` are given exactly when the kind uses
    them: add-member (subject, name), remove-member (subject), accredit-issuer (subject, name,
    public_key_multibase), suspend-issuer (subject), change-rules (rules), rotate-issuer-key (subject,
    public_key_multibase); a resolution uses none."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    kind: Kind
    subject: Address | None = Field(None, description="the member or issuer account the decision is about")
    name: str | None = Field(None, min_length=1, max_length=200, description="the new member's or issuer's name")
    public_key_multibase: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="the issuer's Ed25519 credential signing key as a Multikey (z6Mk…); the board records its "
        "hash (accredit-issuer, rotate-issuer-key)",
        examples=[NHL_KEY],
    )
    rules: RulesCreate | None = Field(None, description="the new rules (change-rules only)")
    title: str = Field(min_length=1, max_length=200)
    document: str = Field(
        min_length=1,
        max_length=200_000,
        description="the decision text; its sha256 is recorded on chain as the documentHash",
    )


PROPOSAL_EXAMPLES: dict[str, dict[str, Any]] = {
    "accredit-issuer": {
        "summary": "Accredit NHL Stenden's issuing key",
        "value": {
            "kind": "accredit-issuer",
            "subject": NHL_ISSUER,
            "name": "NHL Stenden",
            "public_key_multibase": NHL_KEY,
            "title": "Accreditatie NHL Stenden als uitgever van microcredentials",
            "document": "Het bestuur accrediteert NHL Stenden als uitgever van microcredentials van de "
            "IT Hub Hoogeveen, met ingang van de uitvoering van dit besluit.",
        },
    },
    "resolution": {
        "summary": "A text-only resolution",
        "value": {
            "kind": "resolution",
            "title": "Jaarrekening 2025",
            "document": "Het bestuur stelt de jaarrekening 2025 van de stichting vast.",
        },
    },
    "change-rules": {
        "summary": "Change the rules",
        "value": {
            "kind": "change-rules",
            "title": "Stemtermijn naar 14 dagen",
            "rules": {
                "quorum_bps": 5000,
                "majority_bps": 5000,
                "supermajority_bps": 6666,
                "voting_period": 1209600,
                "execution_period": 604800,
            },
            "document": "De stemtermijn wordt 14 dagen; de overige regels blijven gelijk.",
        },
    },
}


class VoteCreate(BaseModel):
    """A vote. With a member key: `support` and `reason`; the service signs with the member's key. Without
    one: also `voter`, `deadline` and `signature`, an EIP-712 Ballot signed client-side (see
    GET /board/proposals/{id}/ballot-typed-data), relayed as is."""

    model_config = ConfigDict(extra="forbid")

    support: Support
    reason: str = Field("", max_length=1000)
    voter: Address | None = Field(None, description="the member that signed the ballot (client-side ballots)")
    deadline: int | None = Field(
        None, ge=0, le=UINT256_MAX, description="the signed deadline, unix seconds (client-side ballots)"
    )
    signature: HexData | None = Field(None, description="the EIP-712 signature, 0x-hex (client-side ballots)")

    @model_validator(mode="after")
    def _signed_ballot_complete(self) -> VoteCreate:
        given = [self.voter is not None, self.deadline is not None, self.signature is not None]
        if any(given) and not all(given):
            raise ValueError("a signed ballot needs voter, deadline and signature together")
        return self

    @property
    def signed(self) -> bool:
        return self.signature is not None


VOTE_EXAMPLES: dict[str, dict[str, Any]] = {
    "member-key": {
        "summary": "With a member key: the service signs",
        "value": {"support": "for", "reason": "NHL Stenden voldoet aan de kwaliteitseisen van de hub."},
    },
    "signed-ballot": {
        "summary": "Without a key: a ballot signed client-side",
        "value": {
            "support": "against",
            "reason": "Eerst de audit afronden.",
            "voter": TVM,
            "deadline": 1798765432,
            "signature": "0x" + "5e" * 32 + "1f" * 32 + "1b",
        },
    },
}


class RecusalCreate(BaseModel):
    """A recusal: the calling member declares a conflict of interest and does not take part."""

    model_config = ConfigDict(
        str_strip_whitespace=True,
        extra="forbid",
        json_schema_extra={
            "examples": [{"reason": "Wij werken in dit programma samen met de partner waarover besloten wordt."}]
        },
    )

    reason: str = Field(min_length=1, max_length=1000, description="the conflict of interest")


class MemberPublic(BaseModel):
    address: str = Field(examples=[TVM])
    name: str = Field(examples=["TVM verzekeringen"])
    member: bool = Field(description="a member now (false: a former member, with include_former)")
    added_block: int | None = Field(None, description="the block it (last) joined, when indexed")
    since: datetime | None = Field(None, description="when it (last) joined, when indexed")
    removed_block: int | None = None


class TallyPublic(BaseModel):
    for_votes: int = Field(examples=[3])
    against_votes: int = Field(examples=[0])
    abstain_votes: int = Field(examples=[0])
    recusals: int = Field(examples=[1])
    eligible: int = Field(description="members eligible when the proposal was made", examples=[6])
    remaining: int = Field(description="eligible members that neither voted nor recused", examples=[2])
    quorum_bps: int = Field(examples=[5000])
    threshold_bps: int = Field(examples=[5000])


class ProposalSummary(BaseModel):
    id: int = Field(examples=[1])
    kind: Kind
    title: str = Field(examples=["Accreditatie NHL Stenden als uitgever van microcredentials"])
    proposer: str = Field(examples=[TVM])
    proposer_name: str | None = Field(None, examples=["TVM verzekeringen"])
    subject: str | None = Field(None, examples=[NHL_ISSUER])
    name: str | None = Field(None, examples=["NHL Stenden"])
    key_hash: str | None = Field(None, description="the signing key's hash the decision records on chain")
    public_key_multibase: str | None = Field(None, description="the signing key, when the hub knows it")
    state: StateName
    tally: TallyPublic
    document_hash: str = Field(examples=[EXAMPLE_HASH])
    vote_end: datetime
    executable_until: datetime
    created_at: datetime
    created_tx: str = Field(examples=[EXAMPLE_TX])
    executed_at: datetime | None = None
    executed_tx: str | None = None


class DocumentPublic(BaseModel):
    text: str | None = Field(description="the decision text, when the service holds it")
    sha256: str | None = Field(description="the sha256 of `text`")
    chain_document_hash: str = Field(description="the documentHash the proposal carries on chain")
    matches_chain: bool = Field(description="`text` hashes to the documentHash that the chain's commitment covers")


class EligibleMemberPublic(BaseModel):
    address: str
    name: str
    status: BallotStatus
    still_eligible: bool = Field(description="still a member (of that standing), so it may still vote")


class VotePublic(BaseModel):
    proposal_id: int = Field(examples=[1])
    voter: str = Field(examples=[TVM])
    name: str | None = Field(None, examples=["TVM verzekeringen"])
    support: Support
    reason: str
    tx_hash: str = Field(examples=[EXAMPLE_TX])
    block_number: int
    cast_at: datetime


class RecusalPublic(BaseModel):
    proposal_id: int = Field(examples=[1])
    member: str
    name: str | None = None
    reason: str
    tx_hash: str
    block_number: int
    recused_at: datetime


class ProposalPublic(ProposalSummary):
    rules: RulesPublic | None = Field(None, description="the new rules (change-rules only)")
    proposal_hash: str = Field(
        description="the commitment stored on chain: hashProposal(action, documentHash); "
        "for a decision executed in its board meeting (recordMeeting stores none), that "
        "of the action and document its ProposalCreated logged in that transaction"
    )
    commitment_verified: bool = Field(description="the indexed action and documentHash hash to the commitment")
    document: DocumentPublic
    eligible_members: list[EligibleMemberPublic]
    votes: list[VotePublic]
    recusals: list[RecusalPublic]


class VoteResult(VotePublic):
    proposal: ProposalSummary = Field(description="the proposal's state and tally after the vote")


class RecusalResult(RecusalPublic):
    proposal: ProposalSummary = Field(description="the proposal's state and tally after the recusal")


class DecisionPublic(BaseModel):
    proposal_id: int = Field(examples=[1])
    kind: Kind
    subject: str | None = Field(None, examples=[NHL_ISSUER])
    name: str | None = Field(None, examples=["NHL Stenden"])
    key_hash: str | None = Field(None, description="the signing key's hash the decision records on chain")
    public_key_multibase: str | None = Field(None, description="the signing key, when the hub knows it")
    rules: RulesPublic | None = None
    title: str
    document_hash: str = Field(examples=[EXAMPLE_HASH])
    proposer: str
    proposed_at: datetime
    tally: TallyPublic
    executed_tx: str = Field(examples=[EXAMPLE_TX])
    executed_block: int
    executed_at: datetime


class BallotTypedData(BaseModel):
    proposal_id: int
    voter: str
    support: Support
    reason: str
    nonce: int
    deadline: int
    digest: str = Field(description="the EIP-712 digest the signature is over")
    typed_data: dict[str, Any] = Field(
        description="sign with eth_signTypedData_v4 (or eth_account's sign_typed_data(full_message=...))"
    )
    submit: str = Field(description="how to send the signed ballot")


# ---------------------------------------------------------------- dependencies and helpers


def get_board(hub: HubDep) -> BoardClient:
    return BoardClient(hub.w3, hub.board_address)


Board = Annotated[BoardClient, Depends(get_board)]


ProposalId = Annotated[int, Path(ge=1, le=DB_INT_MAX, description="the proposal's id (sequential from 1)")]


def _member_address(principal: Principal) -> str:
    """The account of a member key (create_key gives every member key one): the key the service signs with."""
    if principal.address is None:
        raise RuntimeError(f"member key {principal.key_id} ({principal.name}) has no account address")
    return principal.address


def _relay(
    hub: Hub,
    build: Callable[[int | None], dict[str, Any]],
    *,
    signer: str | None = None,
    board: BoardClient | None = None,
    reference: str | None = None,
) -> TxReceipt:
    """Send the call `build(nonce)` from the relayer and wait until it is final. With a `signer` (a member whose
    EIP-712 message the call carries), `nonce` is the member's next one, taken with the relayer's nonce from the
    chain and the database (so two requests of one member, in any processes, never sign the same nonce).
    A transaction that reverts once mined (a race) becomes 409, one not final within the wait 503 (it goes on)."""
    member_nonce = None if signer is None or board is None else (lambda: board.nonce(signer))
    try:
        return hub.relayer.send(
            Call(
                "board", build, signer=signer, signer_nonce=member_nonce, scope=hub.board_address, reference=reference
            ),
            timeout=hub.settings.request_wait,
        )
    except (TransactionReverted, TransactionFailed) as exc:
        raise Conflict(
            f"{exc}: the board's state changed while it was sent; look again and retry", tx_hash=exc.sent.tx_hash
        ) from exc
    except TransactionPending as exc:
        raise ChainUnavailable(f"{exc}; GET /board/proposals shows it once mined", tx_hash=exc.sent.tx_hash) from exc


def _forget_text(db: Session, document_hash: str) -> None:
    """Remove a proposal text stored for a proposal that was not made (unless a proposal on chain has it)."""
    db.rollback()
    if db.scalar(select(BoardProposal.id).where(BoardProposal.document_hash == document_hash).limit(1)) is None:
        db.execute(delete(ProposalDocument).where(ProposalDocument.document_hash == document_hash))
        db.commit()


def _catch_up_index(hub: Hub, db: Session) -> None:
    """Catch the index up (after a write: so the answer shows it); a failure only delays it, the thread retries."""
    try:
        hub.indexer.catch_up()
    except Exception:  # noqa: BLE001 - the write succeeded; the background indexer will catch up
        log.warning("could not catch the index up after a write", exc_info=True)
    db.commit()
    db.expire_all()


def _proposal_row(hub: Hub, db: Session, board: BoardClient, proposal_id: int) -> BoardProposal:
    """The indexed proposal.

    :raises NotFound: there is no such proposal on chain.
    :raises ChainUnavailable: it is on chain but could not be indexed yet.
    """
    row = db.get(BoardProposal, proposal_id)
    if row is not None:
        return row
    if proposal_id > board.proposal_count():
        raise NotFound(f"there is no proposal {proposal_id}")
    _catch_up_index(hub, db)
    row = db.get(BoardProposal, proposal_id)
    if row is None:
        raise ChainUnavailable(f"proposal {proposal_id} is on chain but not indexed yet; try again shortly")
    return row


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _block_time(hub: Hub, block_number: int) -> datetime:
    return _at(int(hub.w3.eth.get_block(block_number)["timestamp"]))


def _names(db: Session) -> dict[str, str]:
    return {address: name for address, name in db.execute(select(BoardMember.address, BoardMember.name))}


def _action(row: BoardProposal) -> Action:
    key_hash = bytes(HexBytes(row.key_hash)) if row.key_hash else NO_KEY
    return Action(ActionKind(row.kind), row.subject, row.name, key_hash, Rules(**row.rules))


def _action_fields(row: BoardProposal) -> dict[str, Any]:
    kind = ActionKind(row.kind)
    key = None
    if kind.uses_key and row.key_hash:
        session = object_session(row)
        known = session.get(SigningKey, row.key_hash) if session is not None else None
        key = known.public_key_multibase if known is not None else None
    return {
        "kind": kind.slug,
        "subject": row.subject if kind.uses_subject else None,
        "name": row.name if kind.uses_name else None,
        "key_hash": row.key_hash if kind.uses_key else None,
        "public_key_multibase": key,
    }


def _tally(view: Proposal) -> TallyPublic:
    return TallyPublic(
        for_votes=view.for_votes,
        against_votes=view.against_votes,
        abstain_votes=view.abstain_votes,
        recusals=view.recusals,
        eligible=view.eligible,
        remaining=view.remaining,
        quorum_bps=view.quorum_bps,
        threshold_bps=view.threshold_bps,
    )


def _summary(row: BoardProposal, view: Proposal, names: dict[str, str]) -> ProposalSummary:
    return ProposalSummary(
        id=row.id,
        **_action_fields(row),
        title=row.title,
        proposer=row.proposer,
        proposer_name=names.get(row.proposer),
        state=view.state.slug,
        tally=_tally(view),
        document_hash=row.document_hash,
        vote_end=_at(row.vote_end),
        executable_until=_at(row.executable_until),
        created_at=_utc(row.created_at),
        created_tx=row.created_tx,
        executed_at=_utc(row.executed_at),
        executed_tx=row.executed_tx,
    )


def _members_at_creation(db: Session, hub: Hub, row: BoardProposal) -> dict[str, str]:
    """The members when `row` was proposed (address -> name), replayed from the indexed membership events."""
    events = db.scalars(
        select(ChainEvent)
        .where(
            ChainEvent.contract == hub.board_address,
            ChainEvent.name.in_(("MemberAdded", "MemberRemoved")),
            tuple_(ChainEvent.block_number, ChainEvent.log_index) < (row.created_block, row.created_log_index),
        )
        .order_by(ChainEvent.block_number, ChainEvent.log_index)
    )
    members: dict[str, str] = {}
    for event in events:
        address = to_checksum_address(event.args["member"])
        if event.name == "MemberAdded":
            members[address] = event.args["name"]
        else:
            members.pop(address, None)
    return members


def _detail(hub: Hub, db: Session, board: BoardClient, row: BoardProposal) -> ProposalPublic:
    view = board.proposal(row.id)
    names = _names(db)
    action = _action(row)
    chain_hash = bytes(HexBytes(row.document_hash))
    commitment = view.proposal_hash
    if commitment == bytes(32):  # executed in its recordMeeting, which stores no commitment: the one it logged
        commitment = board.meeting_commitment(row.id, row.created_tx) or commitment
    commitment_verified = board.hash_proposal(action, chain_hash) == commitment
    stored = db.get(ProposalDocument, row.document_hash)
    text_hash = document_hash(stored.text) if stored is not None else None
    document = DocumentPublic(
        text=stored.text if stored is not None else None,
        sha256="0x" + text_hash.hex() if text_hash is not None else None,
        chain_document_hash=row.document_hash,
        matches_chain=text_hash == chain_hash and commitment_verified,
    )
    ballots = list(
        db.scalars(
            select(BoardBallot)
            .where(BoardBallot.proposal_id == row.id)
            .order_by(BoardBallot.block_number, BoardBallot.id)
        )
    )
    status = {ballot.member: ballot.choice for ballot in ballots}
    members_now = {m.address: m for m in db.scalars(select(BoardMember))}
    eligible = []
    for address, name in _members_at_creation(db, hub, row).items():
        now = members_now.get(address)
        still = now is not None and now.removed_block is None and now.added_block <= row.created_block
        eligible.append(
            EligibleMemberPublic(
                address=address, name=name, status=status.get(address, "not-voted"), still_eligible=still
            )
        )
    votes = [
        VotePublic(
            proposal_id=row.id,
            voter=b.member,
            name=names.get(b.member),
            support=b.choice,
            reason=b.reason,
            tx_hash=b.tx_hash,
            block_number=b.block_number,
            cast_at=_utc(b.cast_at),
        )
        for b in ballots
        if b.choice != "recused"
    ]
    recusals = [
        RecusalPublic(
            proposal_id=row.id,
            member=b.member,
            name=names.get(b.member),
            reason=b.reason,
            tx_hash=b.tx_hash,
            block_number=b.block_number,
            recused_at=_utc(b.cast_at),
        )
        for b in ballots
        if b.choice == "recused"
    ]
    return ProposalPublic(
        **_summary(row, view, names).model_dump(),
        rules=RulesPublic(**row.rules) if action.kind.uses_rules else None,
        proposal_hash="0x" + commitment.hex(),
        commitment_verified=commitment_verified,
        document=document,
        eligible_members=eligible,
        votes=votes,
        recusals=recusals,
    )


def _action_from_body(body: ProposalCreate) -> Action:
    """The contract's Action for `body`, refusing fields that do not fit its kind (422, field named)."""
    kind = ActionKind.from_slug(body.kind)

    def refuse(field: str, message: str) -> InvalidInput:
        return InvalidInput(
            f"{field}: {message}", errors=[{"location": ["body", field], "message": message, "type": "value_error"}]
        )

    for field, used, what in (
        ("subject", kind.uses_subject, "the account it is about"),
        ("name", kind.uses_name, "the organisation's name"),
        ("public_key_multibase", kind.uses_key, "the issuer's signing key"),
        ("rules", kind.uses_rules, "the new rules"),
    ):
        given = getattr(body, field) is not None
        article = "an" if kind.slug[0] in "aeiou" else "a"
        if used and not given:
            raise refuse(field, f"{article} {kind.slug} proposal needs {what}")
        if given and not used:
            raise refuse(field, f"{article} {kind.slug} proposal has no {field}")
    rules = Rules(**body.rules.model_dump()) if body.rules is not None else Rules()
    key_hash = NO_KEY
    if body.public_key_multibase is not None:
        try:
            key_hash = multikey.key_hash_of(body.public_key_multibase)
        except multikey.MultikeyError as exc:
            raise refuse("public_key_multibase", f"not an Ed25519 Multikey: {exc}") from None
    return Action(kind, body.subject or ZERO_ADDRESS, body.name or "", key_hash, rules)


def _counts(db: Session, proposal_ids: list[int]) -> dict[int, Counter[str]]:
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    if proposal_ids:
        rows = db.execute(
            select(BoardBallot.proposal_id, BoardBallot.choice, func.count())
            .where(BoardBallot.proposal_id.in_(proposal_ids))
            .group_by(BoardBallot.proposal_id, BoardBallot.choice)
        )
        for proposal_id, choice, count in rows:
            counts[proposal_id][choice] = count
    return counts


def _decision(row: BoardProposal, counts: Counter[str]) -> DecisionPublic:
    votes = counts["for"] + counts["against"] + counts["abstain"]
    return DecisionPublic(
        proposal_id=row.id,
        **_action_fields(row),
        rules=RulesPublic(**row.rules) if ActionKind(row.kind).uses_rules else None,
        title=row.title,
        document_hash=row.document_hash,
        proposer=row.proposer,
        proposed_at=_utc(row.created_at),
        tally=TallyPublic(
            for_votes=counts["for"],
            against_votes=counts["against"],
            abstain_votes=counts["abstain"],
            recusals=counts["recused"],
            eligible=row.eligible,
            remaining=row.eligible - votes - counts["recused"],
            quorum_bps=row.quorum_bps,
            threshold_bps=row.threshold_bps,
        ),
        executed_tx=row.executed_tx,
        executed_block=row.executed_block,
        executed_at=_utc(row.executed_at),
    )


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
    indexed = {member.address: member for member in db.scalars(select(BoardMember))}
    joined: dict[str, datetime] = {
        to_checksum_address(e.args["member"]): e.block_time
        for e in db.scalars(
            select(ChainEvent)
            .where(ChainEvent.contract == hub.board_address, ChainEvent.name == "MemberAdded")
            .order_by(ChainEvent.block_number, ChainEvent.log_index)
        )
    }
    out = []
    for member in board.members():
        row = indexed.get(member.account)
        out.append(
            MemberPublic(
                address=member.account,
                name=member.name,
                member=True,
                added_block=row.added_block if row else None,
                since=_utc(joined.get(member.account)),
            )
        )
    if include_former:
        current = {m.address for m in out}
        for row in sorted(indexed.values(), key=lambda m: (m.removed_block or 0, m.address)):
            if row.address not in current and row.removed_block is not None:
                out.append(
                    MemberPublic(
                        address=row.address,
                        name=row.name,
                        member=False,
                        added_block=row.added_block,
                        since=_utc(joined.get(row.address)),
                        removed_block=row.removed_block,
                    )
                )
    return out


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
    action = _action_from_body(body)
    account = hub.signers.for_address(_member_address(principal))
    if body.public_key_multibase is not None:  # the public key behind the hash, for the register and DID documents
        remember_key(db, action.subject, body.public_key_multibase)
    doc_hash = document_hash(body.document)
    # the text is stored before the transaction, so a proposal on chain never lacks its text here; a proposal
    # the chain refuses (or that is never sent) takes it away again: nothing is stored from a refused request
    key = "0x" + doc_hash.hex()
    new_text = db.get(ProposalDocument, key) is None
    db.merge(ProposalDocument(document_hash=key, text=body.document))
    db.commit()
    try:
        deadline = board.chain_time() + SIGNATURE_TTL
        receipt = _relay(
            hub,
            lambda nonce: board.propose_by_sig(
                board.sign_proposal(account, action, body.title, doc_hash, deadline=deadline, nonce=nonce)
            ),
            signer=account.address,
            board=board,
        )
    except (ChainRejected, ChainUnavailable) as exc:
        if new_text and not (isinstance(exc, ChainUnavailable) and exc.extra.get("tx_hash")):  # none on its way
            _forget_text(db, key)
        raise
    proposal_id = board.created_proposal_id(receipt)
    _catch_up_index(hub, db)
    response.headers["Location"] = f"/board/proposals/{proposal_id}"
    return _detail(hub, db, board, _proposal_row(hub, db, board, proposal_id))


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
    rows = list(db.scalars(select(BoardProposal).order_by(BoardProposal.id.desc()).limit(limit).offset(offset)))
    views = board.proposals([row.id for row in rows])
    names = _names(db)
    return [_summary(row, view, names) for row, view in zip(rows, views, strict=True)]


@router.get(
    "/proposals/{proposal_id}",
    response_model=ProposalPublic,
    operation_id="getProposal",
    responses=problems.responses(404, 422, 503),
)
def get_proposal(hub: HubDep, db: DbSession, board: Board, proposal_id: ProposalId) -> ProposalPublic:
    """One proposal: state and tally, eligible members, votes with reasons, recusals, and the decision text
    with whether its sha256 is the one the chain records."""
    return _detail(hub, db, board, _proposal_row(hub, db, board, proposal_id))


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
    try:
        voter = _address(voter)
    except ValueError as exc:
        raise InvalidInput(f"voter: {exc}") from exc
    _proposal_row(hub, db, board, proposal_id)
    deadline = board.chain_time() + CLIENT_BALLOT_TTL if deadline is None else deadline
    nonce = board.nonce(voter)
    message = board.ballot_typed_data(
        proposal_id, VoteType.from_slug(support), reason, voter, nonce=nonce, deadline=deadline
    )
    return BallotTypedData(
        proposal_id=proposal_id,
        voter=voter,
        support=support,
        reason=reason,
        nonce=nonce,
        deadline=deadline,
        digest="0x" + typed_data_digest(message).hex(),
        typed_data=message,
        submit=f"POST /board/proposals/{proposal_id}/votes with {{support, reason, voter, deadline, signature}}; "
        "the signature is valid until the deadline or the voter's next signature",
    )


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
    support = VoteType.from_slug(body.support)
    member: Principal | None = None  # None: a ballot signed client-side
    if not body.signed:
        if principal is None:
            raise Unauthenticated(
                "a vote needs a member key ('Authorization: Bearer <key>'), or a ballot signed "
                f"client-side: see GET /board/proposals/{proposal_id}/ballot-typed-data"
            )
        member = require_role(principal, Role.MEMBER)
    row = _proposal_row(hub, db, board, proposal_id)
    if member is None:
        if body.voter is None or body.deadline is None or body.signature is None:  # VoteCreate refuses these
            raise InvalidInput("a signed ballot needs voter, deadline and signature together")
        signed = SignedBallot(
            proposal_id, support, body.reason, body.voter, body.deadline, bytes(HexBytes(body.signature))
        )
        receipt = _relay(
            hub, lambda _nonce: board.cast_vote_by_sig(signed), reference=f"vote:{proposal_id}:{body.signature[:66]}"
        )
    else:
        account = hub.signers.for_address(_member_address(member))
        deadline = board.chain_time() + SIGNATURE_TTL
        receipt = _relay(
            hub,
            lambda nonce: board.cast_vote_by_sig(
                board.sign_ballot(account, proposal_id, support, body.reason, deadline=deadline, nonce=nonce)
            ),
            signer=account.address,
            board=board,
        )
    event = board.events(receipt, "VoteCast")[0]
    _catch_up_index(hub, db)
    names = _names(db)
    voter = to_checksum_address(event.args["voter"])
    return VoteResult(
        proposal_id=proposal_id,
        voter=voter,
        name=names.get(voter),
        support=VoteType(int(event.args["support"])).slug,
        reason=event.args["reason"],
        tx_hash=receipt["transactionHash"].to_0x_hex(),
        block_number=receipt["blockNumber"],
        cast_at=_block_time(hub, receipt["blockNumber"]),
        proposal=_summary(row, board.proposal(proposal_id), names),
    )


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
    row = _proposal_row(hub, db, board, proposal_id)
    account = hub.signers.for_address(_member_address(principal))
    deadline = board.chain_time() + SIGNATURE_TTL
    receipt = _relay(
        hub,
        lambda nonce: board.recuse_by_sig(
            board.sign_recusal(account, proposal_id, body.reason, deadline=deadline, nonce=nonce)
        ),
        signer=account.address,
        board=board,
    )
    _catch_up_index(hub, db)
    names = _names(db)
    return RecusalResult(
        proposal_id=proposal_id,
        member=account.address,
        name=names.get(account.address),
        reason=body.reason,
        tx_hash=receipt["transactionHash"].to_0x_hex(),
        block_number=receipt["blockNumber"],
        recused_at=_block_time(hub, receipt["blockNumber"]),
        proposal=_summary(row, board.proposal(proposal_id), names),
    )


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
    row = _proposal_row(hub, db, board, proposal_id)
    receipt = _relay(
        hub,
        lambda _nonce: board.execute(proposal_id, _action(row), bytes(HexBytes(row.document_hash))),
        reference=f"execute:{proposal_id}",
    )
    _catch_up_index(hub, db)
    db.refresh(row)
    if row.executed_tx is None:  # the index could not catch up: answer from the receipt, store nothing
        db.expunge(row)
        row.executed_tx = receipt["transactionHash"].to_0x_hex()
        row.executed_block = receipt["blockNumber"]
        row.executed_at = _block_time(hub, receipt["blockNumber"])
    return _decision(row, _counts(db, [row.id])[row.id])


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
    rows = list(
        db.scalars(
            select(BoardProposal)
            .where(BoardProposal.executed_tx.is_not(None))
            .order_by(BoardProposal.executed_block, BoardProposal.executed_log_index)
            .limit(limit)
            .offset(offset)
        )
    )
    counts = _counts(db, [row.id for row in rows])
    return [_decision(row, counts[row.id]) for row in rows]
