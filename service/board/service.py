"""The board's service functions: members, proposals, votes, recusals, execution and the decision register.

The API routes (service.api.board), the public register pages (service.pages.board) and the board console
(service.pages.board_console) call these; none of them holds board logic of its own.

Members act with their member key; the service signs their proposal, ballot or recusal (EIP-712) with
the member's own key and the relayer submits it, so members need no ether. A member whose key the
service does not hold signs its ballot client-side (`ballot_typed_data`) and posts the signature,
which is relayed as is. Reading is public.

Lists come from the event index (service.chain.indexer), which also holds what was done on chain
directly; states and tallies come from the contract at the time of the request. Every write waits for
its transaction and catches the index up before answering, so the answer already shows it. A refusal by
the contract raises ChainRejected with its decoded reason (the API answers problem+json, the console a
sentence).
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from eth_utils import to_checksum_address
from hexbytes import HexBytes
from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.orm import Session, object_session
from web3.types import TxReceipt

from service.auth import Principal, Role, require_role
from service.board.schemas import (
    BallotTypedData,
    DecisionPublic,
    DocumentPublic,
    EligibleMemberPublic,
    MemberPublic,
    ProposalCreate,
    ProposalPublic,
    ProposalSummary,
    RecusalCreate,
    RecusalPublic,
    RecusalResult,
    RulesPublic,
    Support,
    TallyPublic,
    VoteCreate,
    VotePublic,
    VoteResult,
)
from service.board.schemas import (
    address as checked_address,
)
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

SIGNATURE_TTL = 10 * 60  # seconds of chain time a signature made by the service stays valid
CLIENT_BALLOT_TTL = 60 * 60  # default deadline offered for a ballot signed client-side


def board_client(hub: Hub) -> BoardClient:
    """The hub's board contract."""
    return BoardClient(hub.w3, hub.board_address)


# ---------------------------------------------------------------- helpers


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


# ---------------------------------------------------------------- the functions


def members(hub: Hub, db: Session, board: BoardClient, *, include_former: bool = False) -> list[MemberPublic]:
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


def propose(
    hub: Hub,
    db: Session,
    board: BoardClient,
    principal: Principal,
    body: ProposalCreate,
    *,
    reference: str | None = None,
) -> ProposalPublic:
    """Propose a decision as the member `principal`: the service signs the proposal with the member's key and
    the relayer submits it (proposeBySig). The document's sha256 goes on chain; its text is kept here. A
    `reference` makes it once-only: a second call with it answers the proposal the first one made (a form sent
    twice).

    :raises InvalidInput: a field that does not fit the kind, or a key that is not an Ed25519 Multikey.
    :raises ChainRejected: the contract refused it (its decoded reason).
    """
    principal = require_role(principal, Role.MEMBER)
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
            reference=reference,
        )
    except (ChainRejected, ChainUnavailable) as exc:
        if new_text and not (isinstance(exc, ChainUnavailable) and exc.extra.get("tx_hash")):  # none on its way
            _forget_text(db, key)
        raise
    proposal_id = board.created_proposal_id(receipt)
    _catch_up_index(hub, db)
    return _detail(hub, db, board, _proposal_row(hub, db, board, proposal_id))


def proposals(db: Session, board: BoardClient, *, limit: int = 50, offset: int = 0) -> list[ProposalSummary]:
    """Proposals, newest first, with their state and tally now."""
    rows = list(db.scalars(select(BoardProposal).order_by(BoardProposal.id.desc()).limit(limit).offset(offset)))
    views = board.proposals([row.id for row in rows])
    names = _names(db)
    return [_summary(row, view, names) for row, view in zip(rows, views, strict=True)]


def proposal(hub: Hub, db: Session, board: BoardClient, proposal_id: int) -> ProposalPublic:
    """One proposal: state and tally, eligible members, votes with reasons, recusals, and the decision text
    with whether its sha256 is the one the chain records.

    :raises NotFound: there is no such proposal.
    """
    return _detail(hub, db, board, _proposal_row(hub, db, board, proposal_id))


def ballot_typed_data(
    hub: Hub,
    db: Session,
    board: BoardClient,
    proposal_id: int,
    voter: str,
    support: Support,
    reason: str,
    deadline: int | None,
) -> BallotTypedData:
    """The EIP-712 Ballot a member signs client-side (eth_signTypedData_v4), with its current nonce."""
    try:
        voter = checked_address(voter)
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


def vote(
    hub: Hub, db: Session, board: BoardClient, principal: Principal | None, proposal_id: int, body: VoteCreate
) -> VoteResult:
    """Vote for, against or abstain. With a member `principal` the service signs the member's ballot; a ballot
    signed client-side (voter, deadline, signature) needs none and is relayed as is (castVoteBySig).

    :raises ChainRejected: the contract refused it (voted already, recused, voting closed...).
    """
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


def recuse(
    hub: Hub, db: Session, board: BoardClient, principal: Principal, proposal_id: int, body: RecusalCreate
) -> RecusalResult:
    """Declare a conflict of interest as the member `principal`: it does not vote and leaves the quorum base.
    The service signs the recusal with the member's key; the relayer submits it (recuseBySig)."""
    principal = require_role(principal, Role.MEMBER)
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


def execute(hub: Hub, db: Session, board: BoardClient, principal: Principal, proposal_id: int) -> DecisionPublic:
    """Apply a succeeded decision (any member may ask; the relayer submits it). The service supplies the
    action and document hash as proposed (from the indexed ProposalCreated event)."""
    require_role(principal, Role.MEMBER)
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


def decisions(db: Session, *, limit: int = 100, offset: int = 0) -> list[DecisionPublic]:
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
