// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ICredentialRegistry} from "./ICredentialRegistry.sol";

/**
 * @title IHubBoard
 * @notice The board of the stichting that runs the IT Hub Hoogeveen: its members, proposals, votes and
 * decisions. The board is the only governor of the {ICredentialRegistry}: its executed decisions
 * accredit and suspend the partners that may issue credentials, and accredit their signing keys.
 *
 * Members are organisations (an address with a name), at most {MAX_MEMBERS} at once; the initial
 * board is set at deployment. Any member may propose a text-only resolution (a title and the sha256
 * of the decision text) or an executable decision (add or remove a member, accredit or suspend an
 * issuer, rotate an issuer's signing key, change the rules).
 *
 * Voting is one member, one vote: For, Against or Abstain, with an optional reason. Who may vote is
 * fixed when the proposal is created: a member added later cannot vote on it, and a member removed
 * since keeps the votes it cast but casts no more. A member may recuse itself (conflict of interest),
 * which takes it out of that proposal's quorum base.
 *
 * Members need no ether: a proposal, a ballot and a recusal can each be made directly or signed
 * (EIP-712, readable in a wallet) and relayed by anyone ({proposeBySig}, {castVoteBySig},
 * {recuseBySig}). A decision taken in a meeting is put on chain in one transaction paid by the
 * relayer, {recordMeeting}: the proposer's signed proposal and the members' ballots, each signed for
 * that signed proposal (it has no id yet), then its execution when the ballots decide it. The board
 * contract also batches any of its calls in one transaction with
 * `multicall(bytes[] data) returns (bytes[] results)` (OpenZeppelin Multicall, not declared here: each
 * call is made as if sent directly, with the same `msg.sender`; all succeed or the batch reverts with
 * the first failing call's error, bubbled up unchanged), e.g. to relay several {castVoteBySig} on an
 * existing proposal.
 *
 * Outcome, with the rules in force when the proposal was created (`eligible` is the number of members
 * at creation, fixed then; `recused` the members that recused themselves; `remaining` the eligible
 * members that have neither voted nor recused, a member removed since included):
 *  - quorum: For + Against + Abstain >= 1 and (For + Against + Abstain) * 10000 >= quorumBps * (eligible - recused);
 *  - threshold: For * 10000 > thresholdBps * (For + Against), where thresholdBps is `majorityBps` for
 *    resolutions and issuer decisions and `supermajorityBps` (two-thirds) for membership and rule changes.
 *    Abstentions count for quorum only; with no For and no Against vote the threshold is not met.
 * Until `voteEnd` (inclusive) a proposal closes early (its outcome is final and, if it passed, it can
 * be executed at once) as soon as quorum is reached and the threshold no longer depends on the
 * `remaining` members: it has Succeeded if it would still pass were they all to vote Against, and is
 * Defeated if it would still fail were they all to vote For. Otherwise it stays Active, also when
 * it can no longer pass but quorum is not reached yet (it may still end Defeated or Expired). A
 * removed member that had not voted still counts among `remaining`, so its removal never closes a
 * proposal early; the proposal is then decided at `voteEnd`. After `voteEnd`: Expired without quorum,
 * else Defeated or Succeeded by the threshold. A succeeded proposal (early or at `voteEnd`) can be
 * executed by anyone until `executableUntil` (= voteEnd + the executionPeriod at creation,
 * inclusive), after which it is Expired.
 *
 * Votes and recusals are taken until `voteEnd` (inclusive) as long as the proposal is not executed,
 * also once it has closed early, so that every member's vote is on record and counted in the tally.
 * They cannot change a closed proposal's outcome: a late vote or recusal takes one member out of
 * `remaining`, which only narrows the worst case the early decision was made against, and a recusal
 * also lowers the quorum base, which can only keep quorum reached. After `voteEnd`, and once the
 * proposal is executed (possibly before `voteEnd`), it takes no more votes or recusals. The outcome
 * of a closed proposal never changes, except Succeeded becoming Executed or Expired.
 *
 * Every step emits an event from which the decision register can be rebuilt.
 */
interface IHubBoard {
    /// @notice What a proposal decides.
    enum ActionKind {
        Resolution, // text only: the decision is the document whose sha256 is the proposal's documentHash
        AddMember, // add `subject` as a member named `name` (two-thirds)
        RemoveMember, // remove the member `subject` (two-thirds)
        AccreditIssuer, // accredit `subject` as issuer `name` with signing key `keyHash` in the registry (majority)
        SuspendIssuer, // suspend the issuer `subject` in the registry (majority)
        ChangeRules, // replace the rules by `rules` (two-thirds)
        RotateIssuerKey // make `keyHash` the signing key of the accredited issuer `subject` (majority)
    }

    /// @notice The lifecycle of a proposal, as {state} reports it.
    enum ProposalState {
        Active, // voting is open and the outcome can still change
        Defeated, // quorum was reached but the threshold was not (or, early, can no longer be); takes votes until `voteEnd`
        Succeeded, // passed (early, or at `voteEnd`); executable until `executableUntil`; takes votes until `voteEnd` or execution
        Executed, // the decision was applied
        Expired // not decided: quorum not reached by `voteEnd`, or succeeded but not executed by `executableUntil`
    }

    /// @notice A ballot's choice; the numbering of OpenZeppelin's GovernorCountingSimple.
    enum VoteType {
        Against,
        For,
        Abstain
    }

    /// @notice The board's rules; a proposal keeps the rules in force when it was created. Ranges are
    /// checked at deployment and by {propose} and {execute} of a ChangeRules action ({BoardInvalidRules}).
    struct Rules {
        uint16 quorumBps; // share of the quorum base that must take part, in basis points (1..10000)
        uint16 majorityBps; // threshold for resolutions and issuer decisions (5000..9999; 5000: simple majority)
        uint16 supermajorityBps; // threshold for membership and rule changes (majorityBps..9999; 6666: two-thirds)
        uint32 votingPeriod; // seconds from creation to voteEnd (60 s .. 365 days)
        uint32 executionPeriod; // seconds after voteEnd to execute a succeeded proposal (60 s .. 365 days)
    }

    /// @notice The decision a proposal carries. `subject`, `name`, `keyHash` and `rules` are used by the kinds
    /// that name them and must be zero or empty otherwise: Resolution uses none; AddMember `subject` and
    /// `name`; RemoveMember `subject`; AccreditIssuer `subject`, `name` and `keyHash`; SuspendIssuer
    /// `subject`; ChangeRules `rules`; RotateIssuerKey `subject` and `keyHash`. A used `subject` must be
    /// nonzero, a used `name` non-empty and a used `keyHash` nonzero.
    struct Action {
        ActionKind kind;
        address subject;
        string name;
        bytes32 keyHash; // an issuer's signing key: keccak256(0xed01 ‖ Ed25519 public key) (ICredentialRegistry)
        Rules rules;
    }

    /// @notice A board member.
    struct Member {
        address account;
        string name;
    }

    /// @notice A proposal as stored, with its tally.
    struct ProposalView {
        ActionKind kind;
        ProposalState state;
        bytes32 proposalHash; // hashProposal(action, documentHash); zero if executed in its {recordMeeting}
        uint48 voteEnd;
        uint48 executableUntil;
        uint16 quorumBps; // rules snapshot at creation
        uint16 thresholdBps; // the threshold that applies to this kind, at creation
        uint8 eligible; // members eligible to vote, fixed at creation
        uint8 forVotes;
        uint8 againstVotes;
        uint8 abstainVotes;
        uint8 recusals;
    }

    /// @notice What one member did on one proposal. For an account removed and added again since the
    /// proposal was created, only its current membership is known: it shows as not eligible.
    struct Receipt {
        bool eligible; // was a member when the proposal was created (also when removed since; it then cannot vote)
        bool hasVoted;
        bool recused;
        VoteType support; // meaningful when hasVoted
    }

    // ---------------------------------------------------------------- events

    /// @notice `member` joined the board as `name` (at deployment or by an executed decision).
    event MemberAdded(address indexed member, string name);
    /// @notice `member` left the board by an executed decision.
    event MemberRemoved(address indexed member);
    /// @notice The rules were set (at deployment or by an executed decision).
    event RulesChanged(Rules rules);
    /// @notice A member proposed `action`; `eligible` members may vote until `voteEnd`.
    event ProposalCreated(
        uint256 indexed proposalId,
        address indexed proposer,
        Action action,
        string title,
        bytes32 documentHash,
        uint48 voteEnd,
        uint48 executableUntil,
        uint16 quorumBps,
        uint16 thresholdBps,
        uint8 eligible
    );
    /// @notice `voter` voted on `proposalId`.
    event VoteCast(uint256 indexed proposalId, address indexed voter, VoteType support, string reason);
    /// @notice The ballots of a meeting on `proposalId` ({recordMeeting}), in the order counted: `voters[i]` voted
    /// `uint8(choices[i])` (a {VoteType}), or recused itself when it is {MEETING_RECUSAL}, with reason `reasons[i]`;
    /// `reasons` is empty when every reason was empty. One event for all the ballots of a meeting, in place of one
    /// {VoteCast} or {Recused} each.
    event MeetingRecorded(uint256 indexed proposalId, address[] voters, bytes choices, string[] reasons);
    /// @notice `member` declared a conflict of interest on `proposalId` and does not take part.
    event Recused(uint256 indexed proposalId, address indexed member, string reason);
    /// @notice The decision of `proposalId` was applied.
    event ProposalExecuted(uint256 indexed proposalId, ActionKind kind, address subject);

    // ---------------------------------------------------------------- errors

    /// @notice `account` is not a member of the board.
    error BoardUnauthorizedMember(address account);
    /// @notice `account` may not vote on `proposalId`: not a member when it was created, or no longer a member.
    error BoardNotEligible(uint256 proposalId, address account);
    /// @notice `voter` already voted on `proposalId`.
    error BoardAlreadyVoted(uint256 proposalId, address voter);
    /// @notice `member` recused itself from `proposalId` and cannot vote on it.
    error BoardAlreadyRecused(uint256 proposalId, address member);
    /// @notice No proposal `proposalId` exists.
    error BoardUnknownProposal(uint256 proposalId);
    /// @notice `proposalId` is `current`, but the operation needs it to be `expected`.
    error BoardUnexpectedProposalState(uint256 proposalId, ProposalState current, ProposalState expected);
    /// @notice `support` is not a {VoteType} (nor, in a meeting ballot, {MEETING_RECUSAL}).
    error BoardInvalidVoteType(uint8 support);
    /// @notice The action given to {execute} is not the one proposed.
    error BoardActionMismatch(uint256 proposalId, bytes32 expected, bytes32 given);
    /// @notice The member table given to {recordMeeting} is not the board's ({memberTable}): its hash is `given`.
    error BoardMemberTableMismatch(bytes32 expected, bytes32 given);
    /// @notice The `votes` given to {recordMeeting} are not packed as it takes them, or the reasons do not match.
    error BoardInvalidMeetingVotes();
    /// @notice A proposal needs a title.
    error BoardEmptyTitle();
    /// @notice The action's fields do not fit its kind (e.g. a zero subject, an empty name, fields a
    /// resolution must leave empty).
    error BoardInvalidAction(ActionKind kind);
    /// @notice `account` is already a member.
    error BoardAlreadyMember(address account);
    /// @notice The board holds {MAX_MEMBERS} members already.
    error BoardTooManyMembers(uint256 max);
    /// @notice Removing the last member would leave no board.
    error BoardLastMember(address member);
    /// @notice The rules are out of range (see {Rules}).
    error BoardInvalidRules(Rules rules);
    /// @notice The initial board has no members.
    error BoardInvalidInitialMembers();
    /// @notice An initial member needs a nonzero `account` and a non-empty `name`.
    error BoardInvalidMember(address account, string name);
    /// @notice `account` is not a member of the board (the subject of a RemoveMember action).
    error BoardNotMember(address account);
    /// @notice The registry given at deployment is the zero address.
    error BoardInvalidRegistry();
    /// @notice The signature's deadline `deadline` has passed.
    error BoardExpiredSignature(uint256 deadline);
    /// @notice The signature is not `signer`'s signature of this proposal, ballot or recusal (wrong key,
    /// chain, contract or nonce, or a field changed since it was signed).
    error BoardInvalidSignature(address signer);

    // ---------------------------------------------------------------- proposals

    /**
     * @notice Propose `action` under `title`, with `documentHash` the sha256 of the decision text or
     * minutes. Only members. Voting opens at once.
     * @return proposalId sequential, from 1
     * @dev Reverts with {BoardUnauthorizedMember} (caller not a member), {BoardEmptyTitle},
     * {BoardInvalidAction}, {BoardAlreadyMember} or {BoardTooManyMembers} (adding), {BoardNotMember} or
     * {BoardLastMember} (removing), or {BoardInvalidRules}. Emits {ProposalCreated}.
     */
    function propose(Action calldata action, string calldata title, bytes32 documentHash) external returns (uint256 proposalId);

    /**
     * @notice Propose on behalf of `proposer`, which signed the proposal with its current nonce. Anyone
     * may relay it; the proposal is `proposer`'s, as if it had called {propose}. EIP-712 domain: name
     * "IT Hub Hoogeveen Board", version "1", this chain and contract; type
     * `Propose(Action action,string title,bytes32 documentHash,address proposer,uint256 nonce,uint256 deadline)Action(uint8 kind,address subject,string name,bytes32 keyHash,Rules rules)Rules(uint16 quorumBps,uint16 majorityBps,uint16 supermajorityBps,uint32 votingPeriod,uint32 executionPeriod)`
     * (nested structs encoded as EIP-712 prescribes; strings hashed as keccak256(bytes(s)); `kind` is
     * the {ActionKind} as uint8). Supports ERC-1271 contract wallets.
     *
     * To vote on the proposal in the same transaction, use {recordMeeting} with the same signed proposal:
     * its ballots name this signed proposal. A {castVoteBySig} ballot names a proposal id, which a
     * proposal relayed in the same `multicall` does not have yet when the ballot is signed; a ballot
     * signed for the id it is expected to get would count on whichever proposal takes that id.
     * @return proposalId sequential, from 1
     * @dev Reverts with {BoardExpiredSignature} (block timestamp after `deadline`) or
     * {BoardInvalidSignature}, then as {propose} ({BoardUnauthorizedMember} when `proposer` is not a
     * member). The nonce is consumed. Emits {ProposalCreated}.
     */
    function proposeBySig(
        Action calldata action,
        string calldata title,
        bytes32 documentHash,
        address proposer,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 proposalId);

    /**
     * @notice Vote on `proposalId` as the caller: `support` is a {VoteType} (0 Against, 1 For, 2 Abstain).
     * Votes are taken until `voteEnd` (inclusive) unless the proposal was executed, also after it closed
     * early: they are recorded and counted in the tally but cannot change its outcome.
     * @dev Reverts with {BoardInvalidVoteType}, {BoardUnknownProposal}, {BoardUnexpectedProposalState}
     * (executed, or `voteEnd` passed; `expected` is Active), {BoardNotEligible}, {BoardAlreadyRecused}
     * or {BoardAlreadyVoted}, checked in that order. Emits {VoteCast}.
     */
    function castVote(uint256 proposalId, uint8 support, string calldata reason) external;

    /**
     * @notice Vote on behalf of `voter`, which signed the ballot with its current nonce. Anyone may relay
     * it. EIP-712 domain as {proposeBySig}; type
     * `Ballot(uint256 proposalId,uint8 support,string reason,address voter,uint256 nonce,uint256 deadline)`
     * (`reason` hashed as keccak256(bytes(reason))). Supports ERC-1271 contract wallets. Several ballots
     * on an existing proposal are relayed in one transaction with `multicall`; ballots taken before the
     * proposal exists go with it in {recordMeeting}.
     * @dev Reverts with {BoardExpiredSignature} (block timestamp after `deadline`) or
     * {BoardInvalidSignature}, then as {castVote}. The nonce is consumed.
     */
    function castVoteBySig(
        uint256 proposalId,
        uint8 support,
        string calldata reason,
        address voter,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /**
     * @notice Declare a conflict of interest on `proposalId`: the caller does not vote and leaves the quorum base.
     * Taken when a vote would be (until `voteEnd` unless executed), also after the proposal closed early:
     * a recusal cannot change a decided outcome.
     * @dev Reverts with {BoardUnknownProposal}, {BoardUnexpectedProposalState} (executed, or `voteEnd`
     * passed; `expected` is Active), {BoardNotEligible}, {BoardAlreadyRecused} or {BoardAlreadyVoted}
     * (a member that voted cannot recuse). Emits {Recused}.
     */
    function recuse(uint256 proposalId, string calldata reason) external;

    /**
     * @notice Recuse `member` from `proposalId`; `member` signed the recusal with its current nonce.
     * Anyone may relay it. EIP-712 domain as {proposeBySig}; type
     * `Recusal(uint256 proposalId,string reason,address member,uint256 nonce,uint256 deadline)`
     * (`reason` hashed as keccak256(bytes(reason))). Supports ERC-1271 contract wallets.
     * @dev Reverts with {BoardExpiredSignature} (block timestamp after `deadline`) or
     * {BoardInvalidSignature}, then as {recuse}. The nonce is consumed.
     */
    function recuseBySig(
        uint256 proposalId,
        string calldata reason,
        address member,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /**
     * @notice Record a decision taken in a meeting, in one transaction that anyone may relay: create the
     * proposal `proposer` signed, count the members' `ballots` on it in the order given, and, if the
     * ballots decide it (its state is then Succeeded), execute it. All of it happens, or nothing.
     *
     * The proposal is exactly as {proposeBySig} makes it, from the same signed `Propose` (which either
     * function accepts once). It is created first, so its eligibility snapshot is the board before the
     * ballots: every voter must have been a member then. Each ballot is then taken as {castVoteBySig}
     * takes one, with the signature below, and counted as {castVote} counts it; the outcome rules are
     * those of any proposal (see {IHubBoard}). When the ballots do not decide the proposal (Active), it
     * stays open for the votes and recusals of the members that were not there, and is executed later
     * with {execute}; when they defeat it, it stays Defeated. Execution is that of {execute}, with the
     * action given here: a failing action (e.g. the registry's `RegistryIssuerAlreadyAccredited`)
     * reverts the whole meeting, and no nonce is consumed.
     *
     * A ballot's `support` is a {VoteType}, or {MEETING_RECUSAL} (3): the member declares a conflict of interest
     * and does not take part, recorded as {recuse} records it (it leaves the quorum base, and cannot also vote on
     * the proposal), with its reason, and listed with the votes in {MeetingRecorded} (no {Recused} event).
     *
     * A meeting that decides several proposals puts them on chain in one transaction with
     * `multicall(recordMeeting, recordMeeting, ...)`, one call per proposal, counted and executed in order: each
     * call's member table is the board as the previous calls left it (a proposal executed earlier in the batch may
     * have added or removed a member), and a proposer with several proposals signs them with consecutive nonces
     * in batch order. Any failing call reverts the whole meeting.
     *
     * A ballot is signed before the proposal exists and names the signed proposal, not an id: EIP-712 domain
     * as {proposeBySig}; type
     * `MeetingBallot(Propose proposal,uint8 support,string reason,address voter)Action(uint8 kind,address subject,string name,bytes32 keyHash,Rules rules)Propose(Action action,string title,bytes32 documentHash,address proposer,uint256 nonce,uint256 deadline)Rules(uint16 quorumBps,uint16 majorityBps,uint16 supermajorityBps,uint32 votingPeriod,uint32 executionPeriod)`
     * (`proposal` the proposer's `Propose` message exactly as signed, nonce and deadline included, encoded as
     * there; `reason` hashed as keccak256(bytes(reason))), so a wallet shows the decision voted on, its title
     * and document, and who proposes it. Such a ballot counts only on the proposal created from that very
     * signed proposal, in this function: a signed proposal is accepted once (its nonce), so the ballot counts
     * once, and never on an existing proposal or one of other content. It needs no nonce and no deadline of
     * its own (the proposal's deadline bounds it) and consumes none of the voter's nonces. Supports ERC-1271
     * contract wallets.
     *
     * A proposal executed here keeps no commitment: {proposal} shows a zero `proposalHash` for it. It was
     * executed with the action and document of its {ProposalCreated}, logged in the same transaction as its
     * {ProposalExecuted}, and is never executed again. A proposal left Active or Defeated keeps its commitment.
     *
     * Nonces: the proposal consumes the proposer's current nonce; the ballots consume none. Replaying a
     * meeting, or any of its signatures, is refused ({BoardInvalidSignature}).
     * The ballots are packed, for the calldata's sake, in `votes`: one byte, the number of seats in the member
     * table; one byte, the number of ballots; the member table, the board's {memberTable} now, 20 bytes an account
     * (checked against the one hash the board keeps of it, so that no member record is read per ballot); then
     * each ballot: its voter's seat (1 byte; the voter is the table's account in that seat), its `support` (1
     * byte: a {VoteType} or {MEETING_RECUSAL}), the length of its signature (2 bytes, big-endian) and the signature (65 bytes r, s, v of a key, or
     * what an ERC-1271 wallet accepts). A seat out of the table or free is no member's ({BoardNotEligible} with
     * the zero address). The reasons come apart, one per ballot in ballot order, or none when every reason is
     * empty; {MeetingRecorded} logs them as given.
     * @param votes the member table and the ballots, packed as above, in the order the ballots are counted
     * (empty: no ballots, then as {proposeBySig})
     * @param reasons the ballots' reasons, one per ballot, or none (every reason empty)
     * @return proposalId the new proposal, sequential from 1
     * @return outcome the proposal's state after the call: Executed, Defeated or Active
     * @dev Reverts as {proposeBySig} for the proposal; then with {BoardInvalidMeetingVotes} (`votes` not packed as
     * above, or the reasons neither one per ballot nor none) or {BoardMemberTableMismatch} when the table is not
     * the board's; then, per ballot, with {BoardNotEligible} (a seat no member holds),
     * {BoardInvalidSignature}, then {BoardInvalidVoteType} (a choice above {MEETING_RECUSAL}) or
     * {BoardAlreadyVoted} (a voter with two ballots, votes or recusals); then as {execute} for the action itself. Emits {ProposalCreated}, one {MeetingRecorded} with every ballot (when there
     * are any), and when executed {ProposalExecuted} and the action's own event.
     */
    function recordMeeting(
        Action calldata action,
        string calldata title,
        bytes32 documentHash,
        address proposer,
        uint256 deadline,
        bytes calldata signature,
        bytes calldata votes,
        string[] calldata reasons
    ) external returns (uint256 proposalId, ProposalState outcome);

    /**
     * @notice Apply the succeeded decision `proposalId`; `action` and `documentHash` must be the proposed
     * ones. Anyone may execute. The proposal is marked executed before the action is applied.
     * @dev Reverts with {BoardUnknownProposal}, {BoardUnexpectedProposalState} (not Succeeded),
     * {BoardActionMismatch}, and with the errors of the action itself, checked again against the
     * current state as in {propose} (e.g. {BoardAlreadyMember}, {BoardNotMember}, {BoardLastMember})
     * or bubbled up from the registry. Emits {ProposalExecuted}, then the action's own event
     * ({MemberAdded}, {MemberRemoved}, {RulesChanged}, or the registry's).
     */
    function execute(uint256 proposalId, Action calldata action, bytes32 documentHash) external;

    // ---------------------------------------------------------------- views

    /// @notice The most members the board may have at once.
    function MAX_MEMBERS() external view returns (uint256);

    /// @notice The choice of a {recordMeeting} ballot that records a recusal (3, after the {VoteType}s).
    function MEETING_RECUSAL() external view returns (uint8);

    /// @notice The credential registry this board governs.
    function registry() external view returns (ICredentialRegistry);

    /// @notice The rules in force for new proposals.
    function rules() external view returns (Rules memory);

    /// @notice The current members, in seat order (a member takes the lowest free seat).
    function members() external view returns (Member[] memory);

    /// @notice The member table {recordMeeting} takes: the account holding each seat from 0 to the highest seat
    /// held, the zero address for a free seat.
    function memberTable() external view returns (address[] memory);

    /// @notice Whether `account` is a member now.
    function isMember(address account) external view returns (bool);

    /// @notice How many proposals were made (the id of the last one).
    function proposalCount() external view returns (uint256);

    /// @notice The lifecycle state of `proposalId`. Reverts with {BoardUnknownProposal}.
    function state(uint256 proposalId) external view returns (ProposalState);

    /// @notice `proposalId` with its tally. Reverts with {BoardUnknownProposal}.
    function proposal(uint256 proposalId) external view returns (ProposalView memory);

    /// @notice What `account` did on `proposalId`. Reverts with {BoardUnknownProposal}.
    function receipt(uint256 proposalId, address account) external view returns (Receipt memory);

    /// @notice The commitment stored for a proposal: keccak256(abi.encode(action, documentHash)).
    function hashProposal(Action calldata action, bytes32 documentHash) external pure returns (bytes32);

    /// @notice The next nonce of `owner` for its signatures, from 0, one up per accepted signature. Proposals,
    /// ballots and recusals share the sequence: one signer's signatures in one batch carry consecutive
    /// nonces, in batch order. A {recordMeeting} ballot takes none (it names a signed proposal, nonce
    /// included). It survives the account's removal and return to the board.
    function nonces(address owner) external view returns (uint256);
}
