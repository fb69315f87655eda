"""The board's request and answer shapes (pydantic): the API's contract, and what the service functions of
service.board.service take and give back to the API routes, the register pages and the board console."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from eth_utils import is_hex_address, to_checksum_address
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

UINT256_MAX = 2**256 - 1  # a signature's deadline is a uint256 on chain
DB_INT_MAX = 2**63 - 1  # the largest integer the database compares (SQLite INTEGER, PostgreSQL bigint)

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


def address(value: Any) -> Any:
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


Address = Annotated[str, BeforeValidator(address), Field(examples=[TVM])]
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
