"""The off-chain store: what the chain must not hold (documents, keys, tokens) and an index of what it does.

Off chain: programmes, API keys (hashed), credential documents and share tokens, batches, proposal
documents. Indexed from the chain (service.chain.indexer): issuers, anchored batches, revocations,
board members, proposals, votes, recusals. The chain stays the source of truth for the latter.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


# A row's id as text, within the INTEGER id columns (PostgreSQL's integer stops at 2**31 - 1, and a larger
# number in a query is the database's error): 1 to 9 digits, no leading zero. For ids read from URLs and arguments.
ROW_ID = re.compile(r"[1-9][0-9]{0,8}")
ID_MAX = 2**31 - 1  # the largest id of an INTEGER id column (a larger one is no row: look it up, and it is an error)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


# ------------------------------------------------------------------ off chain


class Programme(Base):
    """A hub programme a credential can be issued for."""

    __tablename__ = "programmes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # slug, e.g. "miw-data-analytics"
    name: Mapped[str] = mapped_column(String(200))
    theme: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text)
    criteria: Mapped[str] = mapped_column(Text)
    achievement_type: Mapped[str] = mapped_column(String(64))
    ects: Mapped[float]
    eqf_level: Mapped[int]
    issuer_address: Mapped[str] = mapped_column(String(42), index=True)  # the partner that issues it
    graded: Mapped[bool] = mapped_column(default=True)  # results on the Dutch 1.0-10.0 scale
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """An API key of a principal: admin, issuing partner or board member. Only its sha256 is kept."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(16))  # admin | issuer | member
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(42), index=True)  # issuer or member account
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # shown in listings to tell keys apart
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class Batch(Base):
    """A cohort anchored by one transaction. Written before the transaction is sent (crash safety)."""

    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    issuer_address: Mapped[str] = mapped_column(String(42), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # service.issuing.states.BatchStatus
    count: Mapped[int]
    root: Mapped[str] = mapped_column(String(66), unique=True)
    metadata_hash: Mapped[str | None] = mapped_column(String(66))
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    block_hash: Mapped[str | None] = mapped_column(String(66))
    anchored_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)  # anchoring transactions sent for it so far
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    credentials: Mapped[list[Credential]] = relationship(back_populates="batch")


class Credential(Base):
    """One graduate's credential: the full document (all disclosures) and its tokens."""

    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("batch_id", "position"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), index=True)
    position: Mapped[int]  # its place in the batch (the order of the Merkle tree's input)
    programme_id: Mapped[str] = mapped_column(ForeignKey("programmes.id"))
    issuer_address: Mapped[str] = mapped_column(String(42), index=True)
    digest: Mapped[str] = mapped_column(String(66), unique=True)
    document: Mapped[dict[str, Any]]  # the holder's full copy; gets its proof once anchored
    disclosures: Mapped[list[Any]] = mapped_column(JSON)  # [salt, name, value] arrays, until the proof holds them
    holder_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    share_token: Mapped[str] = mapped_column(String(64), unique=True)
    # the claims the holder chose to show on the share link (PUT /credentials/{id}/sharing): none by default
    shared_claims: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    batch: Mapped[Batch] = relationship(back_populates="credentials")


class ShareLink(Base):
    """A share link beside the credential's own (`Credential.share_token`, which stays the holder's choice).

    purpose "certificate": made for one printed certificate (`hub cohort export`): it discloses exactly the
    claims that certificate prints, so that the page behind its QR code confirms every one of them. Made by
    the issuer or the holder (POST /credentials/{id}/certificate-links); one per credential and set of claims.
    purpose "holder": made by the graduate on her own page (/holder), with a label and her choice of claims;
    she can withdraw it."""

    __tablename__ = "share_links"
    __table_args__ = (UniqueConstraint("credential_id", "claims_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credential_id: Mapped[str] = mapped_column(ForeignKey("credentials.id"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    claims: Mapped[list[str]] = mapped_column(JSON)  # the claims it discloses, sorted
    claims_key: Mapped[str] = mapped_column(String(200))  # the claims joined with ",": one link per set
    purpose: Mapped[str] = mapped_column(String(16), default="certificate")  # certificate | holder
    created_by: Mapped[str] = mapped_column(String(16))  # issuer | holder
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # a link the graduate made on her own page (purpose "holder"): its name, and when she withdrew it (the
    # link then answers 410). Its claims_key is "holder:<token>", so she may make several with the same claims.
    label: Mapped[str | None] = mapped_column(String(100))
    withdrawn_at: Mapped[datetime | None]

    credential: Mapped[Credential] = relationship()


class WebSession(Base):
    """A signed-in browser (service.web.sessions): a graduate on her own page (kind "holder", subject the
    credential id), later staff. Only the sha256 of the cookie's value is kept; the CSRF secret is the
    session's, checked on every form it posts."""

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(200), index=True)
    csrf_secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class StaffAccount(Base):
    """A person who signs in to a console (service.web.staff): partner staff (bound to its issuer's account),
    a board member (bound to its member account) or an admin. Made by an admin with an invitation; the
    password (argon2id) is set by the person through the invitation link; board members and admins add a
    second factor (TOTP). Never deleted: disabled, so that what it did keeps a name."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lowercased
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # partner | board | admin (service.web.staff.StaffRole)
    address: Mapped[str | None] = mapped_column(String(42), index=True)  # the issuer (partner) or member (board)
    password_hash: Mapped[str | None] = mapped_column(Text)  # argon2id; None until the invitation is taken
    totp_secret: Mapped[str | None] = mapped_column(Text)  # the second factor's secret, once enrolled
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # a TOTP code is accepted once
    invitation_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # sha256 of the invitation token
    invitation_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]


class SigninThrottle(Base):
    """Failed sign-in attempts counted per account and per client address (service.web.signin), in the
    database so that every process of the service counts the same attempts. The key is the sha256 of
    "account:<e-mail>" or "address:<client address>"; a row lives for its window and its lock."""

    __tablename__ = "signin_throttle"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]


class ProposalDocument(Base):
    """The text of a board proposal; only its sha256 is on chain."""

    __tablename__ = "proposal_documents"

    document_hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Issuer(Base):
    """A partner as the outside world names it: the slug of its DID (`did:web:<host>:issuers:<slug>`). Made
    from the name the board accredited it under, the first time the hub needs it; never changed after, so its
    DID stays put."""

    __tablename__ = "issuers"

    address: Mapped[str] = mapped_column(String(42), primary_key=True)  # checksum address of its Ethereum account
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))  # the name it had when the slug was made
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SigningKey(Base):
    """The public key behind a key hash the board accredits (only the hash is on chain): recorded when the hub
    proposes or signs with the key, so DID documents and pages can show it."""

    __tablename__ = "signing_keys"

    key_hash: Mapped[str] = mapped_column(String(66), primary_key=True)  # 0x-hex multikey.key_hash
    public_key_multibase: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(42), index=True)  # the partner it was named for
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdempotencyRecord(Base):
    """An Idempotency-Key claimed by a principal, and the answer it got (service.api.idempotency).

    Claimed (inserted) before the work begins: the unique (principal, key_hash) is what makes a second
    request with the same key, in any process, wait for the first one's answer instead of doing the work
    again. Only a hash of the key is kept, and the answer's body (it may hold holder tokens) only encrypted
    with a key derived from the Idempotency-Key itself.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("principal", "key_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    principal: Mapped[str] = mapped_column(String(32))  # "key:<api key id>", or "anonymous"
    key_hash: Mapped[str] = mapped_column(String(64))  # derived from the key: it cannot be read back
    fingerprint: Mapped[str] = mapped_column(String(64))  # keyed hash of method, path, content type and body
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(Text)
    status: Mapped[int | None]  # the answer's status; None while the first request is being processed
    headers: Mapped[dict[str, Any] | None]  # the answer's headers worth replaying (Content-Type, Location)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)  # nonce + AES-GCM ciphertext of the answer's body
    locked_until: Mapped[datetime]  # an unfinished claim older than this was abandoned: it may be taken over
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    expires_at: Mapped[datetime] = mapped_column(index=True)  # purged after (lazily)


# ------------------------------------------------------------------ the relayer's transactions


class RelayerTransaction(Base):
    """One transaction of the relayer at one nonce, and its life (service.chain.relayer.TxState).

    A transaction keeps its nonce for good: a replacement (higher fees, same nonce, same call) is another
    attempt of the same row, so at most one of them is ever mined.
    """

    __tablename__ = "relayer_transactions"
    __table_args__ = (UniqueConstraint("sender", "nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(16))  # anchor | revoke | board
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("batches.id"), index=True)
    reference: Mapped[str | None] = mapped_column(String(100), index=True)  # the work it does: anchor:<batch id>
    # the account whose EIP-712 request (with its own nonce) the call carries: a partner or a member
    signer: Mapped[str | None] = mapped_column(String(42), index=True)
    signer_nonce: Mapped[int | None] = mapped_column(BigInteger)
    to: Mapped[str] = mapped_column(String(42))
    data: Mapped[str] = mapped_column(Text)  # 0x-hex calldata
    gas: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), index=True)
    tx_hash: Mapped[str | None] = mapped_column(String(66))  # the attempt that was mined
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    block_hash: Mapped[str | None] = mapped_column(String(66))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    attempts: Mapped[list[RelayerAttempt]] = relationship(
        back_populates="transaction", order_by="RelayerAttempt.attempt"
    )


class RelayerAttempt(Base):
    """One signed version of a relayer transaction: the first, or a replacement with bumped fees."""

    __tablename__ = "relayer_attempts"
    __table_args__ = (UniqueConstraint("transaction_id", "attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("relayer_transactions.id"), index=True)
    attempt: Mapped[int]  # 0 the first, 1.. replacements
    tx_hash: Mapped[str] = mapped_column(String(66), unique=True)
    raw: Mapped[str] = mapped_column(Text)  # the signed bytes, 0x-hex: re-broadcast as they are
    # EIP-1559 fees in wei per gas (a legacy transaction has max_fee = its gas price, priority None)
    max_fee: Mapped[int] = mapped_column(BigInteger)
    priority_fee: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[datetime | None]  # the last broadcast
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    transaction: Mapped[RelayerTransaction] = relationship(back_populates="attempts")


# ------------------------------------------------------------------ indexed from the chain


class IndexCursor(Base):
    """The last block the indexer has read for one contract (the indexer moves both contracts' rows together).

    Only ever moved forward, except by the indexer's rewind after a reorg.
    """

    __tablename__ = "index_cursors"

    contract: Mapped[str] = mapped_column(String(42), primary_key=True)
    last_block: Mapped[int] = mapped_column(BigInteger)


class IndexedBlock(Base):
    """The hash of a block the indexer has read: the last `reorg_window` blocks, to notice a reorg."""

    __tablename__ = "indexed_blocks"

    number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(66))


class ChainEvent(Base):
    """Every event of the registry and the board, decoded, in chain order."""

    __tablename__ = "chain_events"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract: Mapped[str] = mapped_column(String(42), index=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    block_time: Mapped[datetime]
    tx_hash: Mapped[str] = mapped_column(String(66))
    log_index: Mapped[int]
    args: Mapped[dict[str, Any]]
    # Why the event is not stored as the chain has it (a string that is not UTF-8 or holds NUL, one longer than
    # its column in a projection, arguments that do not decode); None when it is. `args` then holds a readable
    # form, and `raw_log` the log itself: {"topics": [0x-hex, ...], "data": 0x-hex}.
    problem: Mapped[str | None] = mapped_column(Text)
    raw_log: Mapped[dict[str, Any] | None]


class BoardMember(Base):
    """A member of the board, as the MemberAdded/MemberRemoved events tell."""

    __tablename__ = "board_members"

    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    added_block: Mapped[int] = mapped_column(BigInteger)
    removed_block: Mapped[int | None] = mapped_column(BigInteger)


class BoardProposal(Base):
    """A proposal as ProposalCreated tells it; execution from ProposalExecuted."""

    __tablename__ = "board_proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    proposer: Mapped[str] = mapped_column(String(42))
    kind: Mapped[int]
    subject: Mapped[str] = mapped_column(String(42))
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str | None] = mapped_column(String(66))  # the signing key named (AccreditIssuer, RotateIssuerKey)
    rules: Mapped[dict[str, Any]]
    title: Mapped[str] = mapped_column(Text)
    document_hash: Mapped[str] = mapped_column(String(66))
    vote_end: Mapped[int] = mapped_column(BigInteger)
    executable_until: Mapped[int] = mapped_column(BigInteger)
    quorum_bps: Mapped[int]
    threshold_bps: Mapped[int]
    eligible: Mapped[int]
    created_block: Mapped[int] = mapped_column(BigInteger)
    created_log_index: Mapped[int]  # with created_block, where the proposal stands among membership changes
    created_tx: Mapped[str] = mapped_column(String(66))
    created_at: Mapped[datetime]
    executed_block: Mapped[int | None] = mapped_column(BigInteger, index=True)
    executed_log_index: Mapped[int | None]  # with executed_block, the order of the decision register
    executed_tx: Mapped[str | None] = mapped_column(String(66))
    executed_at: Mapped[datetime | None]


class BoardBallot(Base):
    """A vote or a recusal on a proposal (VoteCast, MeetingRecorded / Recused)."""

    __tablename__ = "board_ballots"
    __table_args__ = (UniqueConstraint("proposal_id", "member"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("board_proposals.id"), index=True)
    member: Mapped[str] = mapped_column(String(42))
    choice: Mapped[str] = mapped_column(String(8))  # for | against | abstain | recused
    reason: Mapped[str] = mapped_column(Text)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66))
    cast_at: Mapped[datetime]


# ------------------------------------------------------------------ board meetings (service.board.meetings)


class Meeting(Base):
    """A board meeting: the secretary (the member that opened it) adds signed proposals, members sign their
    ballots on them, and closing it puts every proposal and ballot on chain in one transaction."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    secretary: Mapped[str] = mapped_column(String(42), index=True)  # the member account that opened it
    status: Mapped[str] = mapped_column(String(16))  # open | recorded
    valid_until: Mapped[int] = mapped_column(BigInteger)  # chain seconds: the signed proposals' deadline
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    tx_hash: Mapped[str | None] = mapped_column(String(66), unique=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger)


class MeetingProposal(Base):
    """A proposal drafted for a meeting, signed by its proposer (EIP-712 Propose) with the nonce it will have at
    the meeting's close; `proposal_id` and `outcome` once recorded."""

    __tablename__ = "meeting_proposals"
    __table_args__ = (UniqueConstraint("meeting_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    position: Mapped[int]  # 1, 2, ...: the order recorded
    proposer: Mapped[str] = mapped_column(String(42))
    kind: Mapped[int]
    subject: Mapped[str] = mapped_column(String(42))
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(66))
    rules: Mapped[dict[str, Any]]
    title: Mapped[str] = mapped_column(Text)
    document_hash: Mapped[str] = mapped_column(String(66))
    nonce: Mapped[int] = mapped_column(BigInteger)
    deadline: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[str] = mapped_column(Text)  # 0x-hex
    proposal_id: Mapped[int | None] = mapped_column(BigInteger, index=True)  # on chain, once recorded
    outcome: Mapped[str | None] = mapped_column(String(16))  # executed | defeated | active, once recorded


class MeetingBallot(Base):
    """A member's signed ballot (EIP-712 MeetingBallot) on a meeting's proposal: for, against, abstain or
    recused, with its reason. A member's newer ballot supersedes the earlier one until the meeting is closed; the
    earlier one is kept with `superseded_at` (a signature without a nonce: the service must know it to refuse it
    when it is sent again). One current ballot per member and proposal (a partial unique index)."""

    __tablename__ = "meeting_ballots"
    __table_args__ = (
        Index(
            "uq_meeting_ballots_current",
            "meeting_proposal_id",
            "voter",
            unique=True,
            sqlite_where=text("superseded_at IS NULL"),
            postgresql_where=text("superseded_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_proposal_id: Mapped[int] = mapped_column(ForeignKey("meeting_proposals.id"), index=True)
    voter: Mapped[str] = mapped_column(String(42))
    choice: Mapped[str] = mapped_column(String(8))  # for | against | abstain | recused
    reason: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(Text)  # 0x-hex
    signed_at: Mapped[datetime]
    superseded_at: Mapped[datetime | None]  # when a newer ballot of the member replaced it; None: the current one


# ------------------------------------------------------------------ status lists (W3C Bitstring Status List)


class StatusList(Base):
    """A partner's status list number `number` (service.issuing.status_lists): its size, how many of its
    indexes are handed out (in the keyed order of `scatter_key`), and the signed status list credential the
    indexer last built from the chain's revocation events."""

    __tablename__ = "status_lists"
    __table_args__ = (UniqueConstraint("slug", "number"),)

    issuer_address: Mapped[str] = mapped_column(String(42), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # 1, 2, ...
    slug: Mapped[str] = mapped_column(String(64))  # the partner's path segment: /status/<slug>/<number>
    size: Mapped[int]  # bits
    allocated: Mapped[int] = mapped_column(default=0)  # positions handed out (0..allocated-1)
    scatter_key: Mapped[str] = mapped_column(String(64))  # hex; keys the order positions become indexes
    document: Mapped[dict[str, Any] | None]  # the signed BitstringStatusListCredential served; None until built
    encoded_list: Mapped[str | None] = mapped_column(Text)  # its encodedList (to tell whether the bits changed)
    block: Mapped[int | None] = mapped_column(BigInteger)  # the block whose revocations it reflects
    valid_until: Mapped[datetime | None]
    built_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StatusEntry(Base):
    """A credential's place in its partner's status list (its `credentialStatus`). The primary key makes two
    credentials with one index impossible, whichever process issued them."""

    __tablename__ = "status_entries"

    issuer_address: Mapped[str] = mapped_column(String(42), primary_key=True)
    list_number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status_index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    credential_id: Mapped[str] = mapped_column(ForeignKey("credentials.id"), unique=True)
    digest: Mapped[str] = mapped_column(String(66), index=True)  # the credential's, as CredentialRevoked names it


class AuditEntry(Base):
    """One act of an admin or on an account (service.web.audit): who did what to whom, when and from where. Written
    in the transaction of the act itself, so an act without its line cannot be committed; never updated or deleted
    by the service (service.web.audit refuses it). Never holds a password, token, link or secret: names and ids."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)  # UTC
    actor_kind: Mapped[str] = mapped_column(String(16))  # staff | cli | key | system (service.web.audit.ActorKind)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)  # the staff account's id, or the API key's
    actor_name: Mapped[str] = mapped_column(String(254))  # the e-mail address then, the OS user, the key's holder
    act: Mapped[str] = mapped_column(String(32), index=True)  # service.web.audit.Act
    subject_kind: Mapped[str] = mapped_column(String(16))  # account | key | programme
    subject_id: Mapped[str | None] = mapped_column(String(64), index=True)
    subject_name: Mapped[str] = mapped_column(String(254))  # its display name then
    client_address: Mapped[str | None] = mapped_column(String(64))  # the request's; None from the CLI
