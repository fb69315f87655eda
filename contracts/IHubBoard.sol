// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ICredentialRegistry} from "./ICredentialRegistry.sol";

/**
 * @title IHubBoard
 * @notice The board of the stichting that runs the IT Hub Hoogeveen: its members, proposals, votes and
 * decisions. The board is the only governor of the {ICredentialRegistry}: its executed decisions
 * accredit and suspend the partners that may issue credentials.
 *
 * Members are organisations (an address with a name), at most {MAX_MEMBERS} at once; the initial
 * board is set at deployment. Any member may propose a text-only resolution (a title and the sha256
 * of the decision text) or an executable decision (add or remove a member, accredit or suspend an
 * issuer, change the rules).
 *
 * Voting is one member, one vote: For, Against or Abstain, with an optional reason, cast directly or
 * by an EIP-712 signature that anyone may relay (one ballot, or many in one transaction). Who may vote
 * is fixed when the proposal is created: a member added later cannot vote on it, and a member removed
 * since keeps the votes it cast but casts no more. A member may recuse itself (conflict of interest),
 * which takes it out of that proposal's quorum base.
 *
 * Outcome, with the rules in force when the proposal was created (`eligible` is the number of members
 * at creation, fixed then; `recused` the members that recused themselves; `remaining` the eligible
 * members that have neither voted nor recused, a member removed since included):
 *  - quorum: For + Against + Abstain >= 1 and (For + Against + Abstain) * 10000 >= quorumBps * (eligible - recused);
 *  - threshold: For * 10000 > thresholdBps * (For + Against), where thresholdBps is `majorityBps` for
 *    resolutions and issuer decisions and `supermajorityBps` (two-thirds) for membership and rule changes.
 *    Abstentions count for quorum only; with no For and no Against vote the threshold is not met.
 * While voting is open (until `voteEnd`, inclusive) a proposal closes early once quorum is reached and
 * the threshold no longer depends on the `remaining` members: it has Succeeded if it would still pass
 * were they all to vote Against, and is Defeated if it would still fail were they all to vote For.
 * Otherwise it stays Active, also when it can no longer pass but quorum is not reached yet (it may
 * still end Defeated or Expired). A removed member that had not voted still counts among `remaining`,
 * so its removal never closes a proposal early; the proposal is then decided at `voteEnd`. After
 * `voteEnd`: Expired without quorum, else Defeated or Succeeded by the threshold. A succeeded proposal
 * (early or at `voteEnd`) can be executed by anyone until `executableUntil` (= voteEnd + the
 * executionPeriod at creation, inclusive), after which it is Expired. Once a proposal is no longer
 * Active it takes no more votes or recusals, and its outcome never changes (except Succeeded becoming
 * Executed or Expired).
 *
 * Every step emits an event from which the decision register can be rebuilt.
 */
interface IHubBoard {
    /// @notice What a proposal decides.
    enum ActionKind {
        Resolution, // text only: the decision is the document whose sha256 is the proposal's documentHash
        AddMember, // add `subject` as a member named `name` (two-thirds)
        RemoveMember, // remove the member `subject` (two-thirds)
        AccreditIssuer, // accredit `subject` as issuer `name` in the registry (majority)
        SuspendIssuer, // suspend the issuer `subject` in the registry (majority)
        ChangeRules // replace the rules by `rules` (two-thirds)
    }

    /// @notice The lifecycle of a proposal, as {state} reports it.
    enum ProposalState {
        Active, // voting is open and the outcome can still change
        Defeated, // quorum was reached but the threshold was not (or, early, can no longer be)
        Succeeded, // passed (early, or at `voteEnd`); can be executed until `executableUntil`
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

    /// @notice The decision a proposal carries. `subject`, `name` and `rules` are used by the kinds that
    /// name them and must be zero or empty otherwise: Resolution uses none; AddMember `subject` and
    /// `name`; RemoveMember `subject`; AccreditIssuer `subject` and `name`; SuspendIssuer `subject`;
    /// ChangeRules `rules`. A used `subject` must be nonzero and a used `name` non-empty.
    struct Action {
        ActionKind kind;
        address subject;
        string name;
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
        bytes32 proposalHash; // hashProposal(action, documentHash)
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

    /// @notice A ballot signed by `voter` for relaying: EIP-712
    /// `Ballot(uint256 proposalId,uint8 support,string reason,address voter,uint256 nonce,uint256 deadline)`.
    struct SignedBallot {
        uint256 proposalId;
        uint8 support;
        string reason;
        address voter;
        uint256 deadline;
        bytes signature;
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
    /// @notice `support` is not a {VoteType}.
    error BoardInvalidVoteType(uint8 support);
    /// @notice The action given to {execute} is not the one proposed.
    error BoardActionMismatch(uint256 proposalId, bytes32 expected, bytes32 given);
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
    /// @notice The signature is not `voter`'s signature of the ballot (wrong key, chain, contract or nonce).
    error BoardInvalidSignature(address voter);

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
     * @notice Vote on `proposalId` as the caller: `support` is a {VoteType} (0 Against, 1 For, 2 Abstain).
     * @dev Reverts with {BoardInvalidVoteType}, {BoardUnknownProposal}, {BoardUnexpectedProposalState}
     * (not Active), {BoardNotEligible}, {BoardAlreadyRecused} or {BoardAlreadyVoted}, checked in that
     * order. Emits {VoteCast}.
     */
    function castVote(uint256 proposalId, uint8 support, string calldata reason) external;

    /**
     * @notice Vote on behalf of `voter`, which signed the {SignedBallot} with its current nonce
     * (EIP-712 domain: name "IT Hub Hoogeveen Board", version "1", this chain and contract; `reason`
     * is hashed as keccak256(bytes(reason))). Anyone may relay it. Supports ERC-1271 contract wallets.
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

    /// @notice Relay several signed ballots in one transaction; all are counted or none (the first
    /// failing ballot reverts the whole call with its error, as {castVoteBySig}).
    function castVotesBySig(SignedBallot[] calldata ballots) external;

    /**
     * @notice Declare a conflict of interest on `proposalId`: the caller does not vote and leaves the quorum base.
     * @dev Reverts with {BoardUnknownProposal}, {BoardUnexpectedProposalState} (not Active),
     * {BoardNotEligible}, {BoardAlreadyRecused} or {BoardAlreadyVoted} (a member that voted cannot
     * recuse). Emits {Recused}.
     */
    function recuse(uint256 proposalId, string calldata reason) external;

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

    /// @notice The credential registry this board governs.
    function registry() external view returns (ICredentialRegistry);

    /// @notice The rules in force for new proposals.
    function rules() external view returns (Rules memory);

    /// @notice The current members, in seat order (a member takes the lowest free seat).
    function members() external view returns (Member[] memory);

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

    /// @notice The next nonce of `owner` for signed ballots (OpenZeppelin Nonces).
    function nonces(address owner) external view returns (uint256);
}
