"""Board meetings: a set of proposals decided in one sitting, recorded on chain in ONE transaction.

    meeting = open_meeting(db, board, secretary, "Bestuursvergadering 12 maart")
    item = add_proposal(hub, db, board, meeting.id, secretary, action, title, text)   # signed by the secretary
    sign_ballot(hub, db, board, meeting.id, item.position, member, "for", "reason")   # each member, any time
    close_meeting(hub, db, board, meeting.id, secretary)   # multicall(recordMeeting, ...): one transaction

The secretary (the member that opened the meeting) adds the proposals: each is signed at once (EIP-712 Propose)
with the secretary's key from the service keystore, with the nonce it will have when the meeting is closed (the
secretary's nonce now plus its proposals before it in the meeting) and the meeting's `valid_until` as deadline.
Members sign their ballots on a proposal (EIP-712 MeetingBallot: For, Against, Abstain, or a recusal with its
reason) before or during the meeting, with their key in the service keystore or client-side (a wallet signs the
typed data `ballot_typed_data` gives). Closing relays every proposal with its members' current ballots in one
transaction (HubBoard.multicall of recordMeeting, in order); each proposal the ballots decide is executed in it.
The indexer then shows the proposals and ballots in the register as any others; the meeting keeps the
transaction and, per proposal, its id on chain and outcome.

Ballots: one rule. A MeetingBallot has no nonce and no time (the contract makes it single-use through the signed
proposal's nonce, spent at the close), so the service orders a member's ballots by their arrival, and a ballot is
what it signs: its choice and reason, for that item and voter.
- A ballot that differs from the member's current one becomes current; the earlier one is kept, marked
  `superseded_at` (never deleted, never recorded).
- The current ballot again (the same choice and reason) changes nothing (`BallotSigned.new` is False).
- A client-signed ballot the member had before and replaced is refused (Conflict): a signature cannot tell who
  sends it (client-signed ballots need no authentication), so whoever saw it could undo the newer ballot. The
  member returns to an earlier choice with its key in the service keystore (the API's member key, the console's
  password: the member is authenticated, so the ballot is fresh), or signs it with another reason.
- A client-signed ballot never seen before is accepted as the newest: nothing in it says when it was signed.
  A member who signed several ballots in its wallet and sent only the last should not hand the others out.
No answer shows a ballot's signature. After the close they are in the transaction's calldata, public, but they
count nowhere else: each names the signed proposal, nonce included, which the chain accepts once.

Outcomes: what the meeting's transaction left a proposal in is stored at the close; one it left undecided
(active: the meeting's ballots did not decide it; succeeded: decided, not executed) can change on chain
afterwards, through the board's direct votes and executions. `refresh_outcomes` reads those again from the chain
when a meeting is shown, at the depth the service follows (HUB_CONFIRMATIONS below the head), and stores the
new one; final ones (executed, defeated, expired) are kept as stored.

A signed proposal names its nonce: a signature the secretary makes elsewhere before the close (a vote, a
proposal) uses that nonce, and the close is refused with a readable message (sign the meeting's proposals again).
These functions are called alike by the API (service.api.meetings), the CLI (over the API) and the console pages
(service.pages.meetings_console); they raise service.errors' domain errors, never HTTP ones.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eth_utils import to_checksum_address
from hexbytes import HexBytes
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from web3.types import BlockIdentifier

from service.chain.board import (
    Action,
    ActionKind,
    BoardClient,
    MeetingChoice,
    ProposalState,
    Rules,
    SignedMeetingBallot,
    SignedProposal,
    document_hash,
    recover_typed_data_signer,
)
from service.chain.relayer import Call, TransactionFailed, TransactionPending, TransactionReverted, TxState
from service.db.models import ID_MAX, Meeting, MeetingBallot, MeetingProposal, ProposalDocument, RelayerTransaction
from service.errors import ChainUnavailable, Conflict, Forbidden, InvalidInput, NotFound
from service.hub import Hub

log = logging.getLogger(__name__)

DEFAULT_VALID_FOR = 7 * 24 * 3600  # seconds of chain time the meeting's signed proposals stay valid
MAX_VALID_FOR = 60 * 24 * 3600
MAX_PROPOSALS = 10  # proposals per meeting: one transaction must stay well within a block
CHOICES = tuple(choice.slug for choice in MeetingChoice)  # for | against | abstain | recused


FINAL_OUTCOMES = frozenset({"executed", "defeated", "expired"})  # a proposal in one of these never leaves it


@dataclass(frozen=True)
class MeetingView:
    """A meeting with its proposals and their current ballots (in the order signed), as the API, CLI and pages show
    it; `superseded` holds per proposal id the ballots members replaced since (kept, never counted)."""

    meeting: Meeting
    items: list[tuple[MeetingProposal, list[MeetingBallot]]]
    superseded: dict[int, list[MeetingBallot]] = field(default_factory=dict)


@dataclass(frozen=True)
class BallotSigned:
    """The answer of `sign_ballot`: the member's current ballot, and whether this call made it (False: the same
    ballot was current already, nothing changed)."""

    ballot: MeetingBallot
    new: bool


def _now() -> datetime:
    return datetime.now(UTC)


def _checksum(address: str) -> str:
    return to_checksum_address(address)


# ---------------------------------------------------------------- reading


def get_meeting(db: Session, meeting_id: int) -> Meeting:
    """:raises NotFound: no such meeting."""
    meeting = db.get(Meeting, meeting_id) if 0 < meeting_id <= ID_MAX else None
    if meeting is None:
        raise NotFound(f"there is no meeting {meeting_id}")
    return meeting


def list_meetings(db: Session, limit: int = 50, offset: int = 0) -> list[Meeting]:
    """Meetings, newest first."""
    return list(db.scalars(select(Meeting).order_by(Meeting.id.desc()).limit(limit).offset(offset)))


def meeting_view(db: Session, meeting_id: int) -> MeetingView:
    """The meeting with its proposals (in order) and each one's ballots (in the order signed).

    :raises NotFound: no such meeting.
    """
    meeting = get_meeting(db, meeting_id)
    items = list(
        db.scalars(
            select(MeetingProposal).where(MeetingProposal.meeting_id == meeting_id).order_by(MeetingProposal.position)
        )
    )
    ballots: dict[int, list[MeetingBallot]] = {item.id: [] for item in items}
    superseded: dict[int, list[MeetingBallot]] = {item.id: [] for item in items}
    if items:
        for ballot in db.scalars(
            select(MeetingBallot).where(MeetingBallot.meeting_proposal_id.in_(list(ballots))).order_by(MeetingBallot.id)
        ):
            (ballots if ballot.superseded_at is None else superseded)[ballot.meeting_proposal_id].append(ballot)
    return MeetingView(meeting, [(item, ballots[item.id]) for item in items], superseded)


def refresh_outcomes(db: Session, board: BoardClient, view: MeetingView, confirmations: int = 0) -> MeetingView:
    """The view with each recorded proposal's outcome as the chain says it `confirmations` blocks below its head
    (the depth the service follows transactions to): an outcome stored as final (executed, defeated, expired) is
    kept as it is, any other (active, succeeded: the meeting's ballots did not decide it) is read from the chain
    in one round trip, and stored when it changed (so a final one is read once).

    :raises ChainUnavailable: the chain does not answer; nothing is reported that it did not say.
    """
    pending = [item for item, _ in view.items if item.proposal_id is not None and item.outcome not in FINAL_OUTCOMES]
    if not pending:
        return view
    block: BlockIdentifier = "latest"
    if confirmations:
        depth = max(0, board.block_number() - confirmations)
        if view.meeting.block_number is not None and depth < view.meeting.block_number:
            return view  # the meeting is not that deep yet (the close waited for it: a reorg); as stored at the close
        block = depth
    states = board.proposals([int(item.proposal_id or 0) for item in pending], block_identifier=block)
    changed = False
    for item, proposal in zip(pending, states, strict=True):
        if item.outcome != proposal.state.slug:
            item.outcome = proposal.state.slug
            changed = True
    if changed:
        db.commit()
    return view


def meeting_of_proposal(db: Session, proposal_id: int) -> tuple[Meeting, MeetingProposal] | None:
    """The meeting that recorded the on-chain proposal `proposal_id`, if one did (for the register)."""
    item = db.scalar(select(MeetingProposal).where(MeetingProposal.proposal_id == proposal_id))
    if item is None:
        return None
    return db.get_one(Meeting, item.meeting_id), item


def _item(db: Session, meeting_id: int, position: int) -> MeetingProposal:
    item = db.scalar(
        select(MeetingProposal).where(MeetingProposal.meeting_id == meeting_id, MeetingProposal.position == position)
    )
    if item is None:
        raise NotFound(f"meeting {meeting_id} has no proposal {position}")
    return item


def _open(db: Session, meeting_id: int) -> Meeting:
    meeting = get_meeting(db, meeting_id)
    if meeting.status != "open":
        raise Conflict(f"meeting {meeting_id} is closed: it was recorded in transaction {meeting.tx_hash}")
    return meeting


def _secretary(meeting: Meeting, member: str) -> None:
    if _checksum(member) != meeting.secretary:
        raise Forbidden(f"only the meeting's secretary ({meeting.secretary}) may do this")


def _member(board: BoardClient, account: str) -> str:
    account = _checksum(account)
    if not board.is_member(account):
        raise Forbidden(f"{account} is not a member of the board")
    return account


def signed_proposal(item: MeetingProposal) -> SignedProposal:
    """The signed proposal a meeting item holds, as the chain client relays it."""
    rules = Rules(**{key: int(value) for key, value in item.rules.items()})
    action = Action(ActionKind(item.kind), item.subject, item.name, bytes(HexBytes(item.key_hash)), rules)
    return SignedProposal(
        action,
        item.title,
        bytes(HexBytes(item.document_hash)),
        item.proposer,
        int(item.deadline),
        bytes(HexBytes(item.signature)),
        int(item.nonce),
    )


# ---------------------------------------------------------------- the secretary


def open_meeting(
    db: Session, board: BoardClient, secretary: str, title: str, valid_for: int = DEFAULT_VALID_FOR
) -> Meeting:
    """Open a meeting with `secretary` (a member) as its secretary; its proposals' signatures stay valid for
    `valid_for` seconds of chain time.

    :raises Forbidden: `secretary` is not a member.
    :raises InvalidInput: an empty title, or a validity out of range.
    """
    title = title.strip()
    if not title:
        raise InvalidInput("title: a meeting needs a title")
    if not 60 <= valid_for <= MAX_VALID_FOR:
        raise InvalidInput(f"valid_for: between 60 and {MAX_VALID_FOR} seconds")
    secretary = _member(board, secretary)
    meeting = Meeting(
        title=title,
        secretary=secretary,
        status="open",
        valid_until=board.chain_time() + valid_for,
        opened_at=_now(),
    )
    db.add(meeting)
    db.commit()
    return meeting


def add_proposal(
    hub: Hub,
    db: Session,
    board: BoardClient,
    meeting_id: int,
    secretary: str,
    action: Action,
    title: str,
    document: str,
    signature: bytes | None = None,
) -> MeetingProposal:
    """Add a proposal to the open meeting, signed by the secretary with the nonce it will have at the close:
    here with its key in the service keystore, or `signature` made client-side over `proposal_typed_data`
    (checked now). The document's text is kept as for any proposal.

    :raises NotFound: no such meeting. :raises Conflict: the meeting is closed, or full.
    :raises Forbidden: not the secretary, the service holds no key for it, or a signature not the secretary's.
    """
    meeting = _open(db, meeting_id)
    _secretary(meeting, secretary)
    title = title.strip()
    if not title:
        raise InvalidInput("title: a proposal needs a title")
    count = _count(db, meeting_id)
    if count >= MAX_PROPOSALS:
        raise Conflict(f"a meeting holds at most {MAX_PROPOSALS} proposals")
    if board.chain_time() >= meeting.valid_until:
        raise Conflict(f"meeting {meeting_id} is past its validity: open a new meeting")
    nonce = board.nonce(meeting.secretary) + count  # the secretary proposes every item, in order
    doc_hash = document_hash(document)
    if signature is None:
        account = hub.signers.for_address(meeting.secretary)
        signature = board.sign_proposal(
            account, action, title, doc_hash, deadline=meeting.valid_until, nonce=nonce
        ).signature
    else:
        message = board.propose_typed_data(
            action, title, doc_hash, meeting.secretary, nonce=nonce, deadline=meeting.valid_until
        )
        _check_signer(message, signature, meeting.secretary)
    key = "0x" + doc_hash.hex()
    if db.get(ProposalDocument, key) is None:
        db.add(ProposalDocument(document_hash=key, text=document))
    item = MeetingProposal(
        meeting_id=meeting_id,
        position=count + 1,
        proposer=meeting.secretary,
        kind=int(action.kind),
        subject=_checksum(action.subject),
        name=action.name,
        key_hash="0x" + bytes(action.key_hash).hex(),
        rules={
            "quorum_bps": action.rules.quorum_bps,
            "majority_bps": action.rules.majority_bps,
            "supermajority_bps": action.rules.supermajority_bps,
            "voting_period": action.rules.voting_period,
            "execution_period": action.rules.execution_period,
        },
        title=title,
        document_hash=key,
        nonce=nonce,
        deadline=meeting.valid_until,
        signature="0x" + bytes(signature).hex(),
    )
    db.add(item)
    db.commit()
    return item


def _count(db: Session, meeting_id: int) -> int:
    return db.scalar(select(func.count()).where(MeetingProposal.meeting_id == meeting_id)) or 0


def proposal_typed_data(
    db: Session, board: BoardClient, meeting_id: int, action: Action, title: str, document: str
) -> dict[str, Any]:
    """The EIP-712 Propose the secretary signs client-side for the meeting's next proposal (its nonce at the close,
    the meeting's validity as deadline); post the signature with the same proposal.

    :raises NotFound: no such meeting. :raises Conflict: the meeting is closed.
    """
    meeting = _open(db, meeting_id)
    nonce = board.nonce(meeting.secretary) + _count(db, meeting_id)
    return board.propose_typed_data(
        action, title.strip(), document_hash(document), meeting.secretary, nonce=nonce, deadline=meeting.valid_until
    )


SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


def _check_signer(message: dict[str, Any], signature: bytes, expected: str) -> None:
    # The contract takes a key's signature only as OpenZeppelin's ECDSA does (65 bytes, s in the lower half, v 27
    # or 28); eth-account takes more. One it would refuse makes the whole close revert: refused here, at once.
    # (It also keeps one ballot one signature: the other s of a signature recovers the same signer.)
    if (
        len(signature) != 65
        or int.from_bytes(signature[32:64], "big") > SECP256K1_HALF_N
        or signature[64] not in (27, 28)
    ):
        raise InvalidInput("signature: not a 65-byte signature with a low s and v 27 or 28 (EIP-2), as wallets make")
    try:
        signer = recover_typed_data_signer(message, bytes(signature))
    except Exception:  # noqa: BLE001 - eth-account raises several types for a malformed signature
        raise InvalidInput("signature: not a 65-byte signature") from None
    if signer != expected:
        raise Forbidden(f"the signature is {signer}'s, not {expected}'s")


# ---------------------------------------------------------------- the members


def ballot_typed_data(
    db: Session, board: BoardClient, meeting_id: int, position: int, voter: str, choice: str, reason: str
) -> dict[str, Any]:
    """The EIP-712 MeetingBallot `voter` signs client-side (eth_signTypedData_v4) for `choice` on the item.

    :raises NotFound: no such meeting or item. :raises InvalidInput: an unknown choice.
    """
    item = _item(db, meeting_id, position)
    return board.meeting_ballot_typed_data(signed_proposal(item), _choice(choice), reason, _checksum(voter))


def _choice(choice: str) -> MeetingChoice:
    if choice not in CHOICES:
        raise InvalidInput(f"choice: one of {', '.join(CHOICES)}")
    return MeetingChoice.from_slug(choice)


def sign_ballot(
    hub: Hub,
    db: Session,
    board: BoardClient,
    meeting_id: int,
    position: int,
    voter: str,
    choice: str,
    reason: str,
    signature: bytes | None = None,
) -> BallotSigned:
    """`voter`'s ballot on item `position` of the open meeting: signed here with its key in the service keystore
    (the caller has authenticated the member), or `signature` made client-side over `ballot_typed_data` (checked
    now; no authentication). The new ballot supersedes the voter's current one, which is kept, marked. The same
    ballot as the current one again (the same choice and reason) changes nothing: `new` is False.

    A client-side signature of a ballot the voter had before and replaced (the same choice and reason: the same
    signed message, as the typed data has no nonce) is refused: anyone who saw it could otherwise send it again
    and undo the member's newer ballot. Through the keystore the member may return to an earlier choice.

    :raises NotFound: no such meeting or item. :raises Conflict: the meeting is closed, or a superseded ballot
        sent again (a replay), or another ballot of the voter stored at the same moment.
    :raises Forbidden: not a member, no key in the keystore, or a signature that is not the voter's.
    :raises InvalidInput: an unknown choice, or a recusal without its reason.
    """
    meeting = _open(db, meeting_id)
    item = _item(db, meeting.id, position)
    support = _choice(choice)
    reason = reason.strip()
    if support is MeetingChoice.RECUSED and not reason:
        raise InvalidInput("reason: a recusal needs its reason (the conflict of interest)")
    voter = _member(board, voter)
    proposal = signed_proposal(item)
    if signature is not None:
        _check_signer(board.meeting_ballot_typed_data(proposal, support, reason, voter), signature, voter)
    signed = list(
        db.scalars(
            select(MeetingBallot)
            .where(MeetingBallot.meeting_proposal_id == item.id, MeetingBallot.voter == voter)
            .order_by(MeetingBallot.id)
        )
    )
    current = next((b for b in signed if b.superseded_at is None), None)
    # Within one item and voter the signed message is its choice and reason: compared so, a signature changed in
    # its bytes only (ECDSA's other s) is the same ballot.
    if current is not None and (current.choice, current.reason) == (support.slug, reason):
        return BallotSigned(current, new=False)
    if signature is not None:
        earlier = next((b for b in signed if (b.choice, b.reason) == (support.slug, reason)), None)
        if earlier is not None:
            raise Conflict(
                f"{voter} signed this ballot ({support.slug}) before and replaced it on "
                f"{_iso(earlier.superseded_at)}: a signature sent again does not undo a newer ballot; to return to "
                "this choice, sign it with your member key or in the console, or give another reason"
            )
    else:
        signature = board.sign_meeting_ballot(hub.signers.for_address(voter), proposal, support, reason).signature
    now = _now()
    if current is not None:
        current.superseded_at = now
        db.flush()  # before the new row: one current ballot per voter (the partial unique index)
    ballot = MeetingBallot(
        meeting_proposal_id=item.id,
        voter=voter,
        choice=support.slug,
        reason=reason,
        signature="0x" + bytes(signature).hex(),
        signed_at=now,
    )
    db.add(ballot)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise Conflict(
            f"another ballot of {voter} on this proposal was stored at the same moment: look again"
        ) from None
    return BallotSigned(ballot, new=True)


def _iso(moment: datetime | None) -> str:
    if moment is None:
        return "an earlier moment"
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat(timespec="seconds")


# ---------------------------------------------------------------- the close: one transaction


def _check_before_sending(board: BoardClient, meeting: Meeting, view: MeetingView) -> None:
    """The meeting's signatures still fit the chain: their deadline has not passed, and the secretary's nonce is the
    one its proposals were signed at. :raises Conflict: they no longer do."""
    if board.chain_time() > meeting.valid_until:
        raise Conflict(f"meeting {meeting.id}'s signatures expired: open a new meeting and sign again")
    expected = view.items[0][0].nonce
    current = board.nonce(meeting.secretary)
    if current != expected:
        raise Conflict(
            f"the secretary {meeting.secretary} signed something else since the proposals were signed (nonce "
            f"{current}, not {expected}): open a new meeting and sign its proposals again"
        )


def close_meeting(hub: Hub, db: Session, board: BoardClient, meeting_id: int, secretary: str) -> MeetingView:
    """Record the meeting on chain in one transaction (multicall of recordMeeting, one per proposal, in order):
    each proposal with its ballots, executed at once when they decide it. Stores the transaction and, per
    proposal, its id on chain and its outcome; catches the index up so the register shows it.

    :raises NotFound: no such meeting. :raises Forbidden: not the secretary.
    :raises Conflict: closed already, no proposals, a signature no longer valid (the deadline passed, or the
        secretary signed something else since), a voter no longer on the board, or a transaction reverted
        once mined. :raises ChainRejected: the chain refuses it (decoded custom error).
    :raises ChainUnavailable: the chain does not answer, or the transaction is not final yet.
    """
    meeting = _open(db, meeting_id)
    _secretary(meeting, secretary)
    view = meeting_view(db, meeting_id)
    if not view.items:
        raise Conflict(f"meeting {meeting_id} has no proposals to record")
    reference = f"meeting:{meeting_id}"
    # A close sent before (its answer lost: the node was slow, the page was reloaded) is finished, never sent again:
    # the relayer gives back that transaction for the same reference, and the checks below would now fail on the
    # nonce and deadline it used.
    sent_before = db.scalar(
        select(RelayerTransaction.id).where(
            RelayerTransaction.reference == reference,
            RelayerTransaction.state.not_in([TxState.REVERTED, TxState.FAILED]),
        )
    )
    if sent_before is None:
        _check_before_sending(board, meeting, view)
    calls = [
        (
            signed_proposal(item),
            [
                SignedMeetingBallot(MeetingChoice.from_slug(b.choice), b.reason, b.voter, bytes(HexBytes(b.signature)))
                for b in ballots
            ],
        )
        for item, ballots in view.items
    ]
    if sent_before is None:
        try:
            board.record_meetings(calls)  # checks every voter holds a seat, before anything is sent
        except ValueError as exc:
            raise Conflict(f"{exc}: remove that member's ballot, or open a new meeting") from None
    try:
        receipt = hub.relayer.send(
            Call("board", lambda _nonce: board.record_meetings(calls), scope=hub.board_address, reference=reference),
            timeout=hub.settings.request_wait,
        )
    except (TransactionReverted, TransactionFailed) as exc:
        raise Conflict(
            f"{exc}: the board's state changed while the meeting was sent; look again and retry",
            tx_hash=exc.sent.tx_hash,
        ) from exc
    except TransactionPending as exc:
        raise ChainUnavailable(f"{exc}; the meeting is recorded once it is mined", tx_hash=exc.sent.tx_hash) from exc
    created = [int(event.args["proposalId"]) for event in board.events(receipt, "ProposalCreated")]
    states = board.proposals(created)
    for (item, _ballots), proposal_id, state in zip(view.items, created, states, strict=True):
        item.proposal_id = proposal_id
        item.outcome = ProposalState(state.state).slug
    meeting.status = "recorded"
    meeting.closed_at = _now()
    meeting.tx_hash = receipt["transactionHash"].to_0x_hex()
    meeting.block_number = int(receipt["blockNumber"])
    db.commit()
    try:
        hub.indexer.catch_up()
    except Exception:  # noqa: BLE001 - the meeting is recorded; the background indexer catches up
        log.warning("could not catch the index up after meeting %s", meeting_id, exc_info=True)
    db.commit()
    return meeting_view(db, meeting_id)
