// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";

import {ICredentialRegistry} from "./ICredentialRegistry.sol";
import {IHubBoard} from "./IHubBoard.sol";

/**
 * @title HubBoard
 * @notice The board of the stichting that runs the IT Hub Hoogeveen, and governor of its
 * {ICredentialRegistry}. See {IHubBoard} for the rules.
 *
 * Storage is packed for gas (a vote reads two slots and writes one; a signed one writes two):
 *  - Each member holds a seat 0..31, one bit of a `uint32` member mask. The board's mask, membership
 *    epoch, proposal count and rules (with the id under which they are kept) share one slot.
 *  - An account's signature nonce is kept in its member record, in the slot a vote reads anyway, rather
 *    than in OpenZeppelin's `Nonces` mapping: a signed vote reads no extra slot (2,100 gas less) and a
 *    member's first signature fills no fresh slot (another 17,100 less). The nonce stays with the
 *    account when it is removed and added again, so its old signatures stay spent.
 *  - A proposal is two slots: its record (the number of members eligible, the membership epoch, the
 *    voting deadline, the id of the rules that apply, and its ballots: one `uint32` mask per choice and
 *    one for recusals, tallies being popcounts), so that a vote reads and writes one slot and the first
 *    vote fills no fresh one; and the commitment `hashProposal(action, documentHash)`, which a proposal
 *    executed in its {recordMeeting} does not need and does not get (one slot then). Every set of rules
 *    ever in force is kept once under its id (a rule change writes one slot), not copied into each
 *    proposal. The action and title are only in {ProposalCreated}; {execute} is given the action again
 *    and checks it against the commitment, as OpenZeppelin's Governor does with calldata. {recordMeeting}
 *    executes with the action it was given to create the proposal in the same call: it is given once.
 *  - The member table (the account in each seat, up to the highest seat held) is kept as one hash, rewritten at
 *    every addition and removal: {recordMeeting} is given the table in calldata, checks it against that hash
 *    and reads its voters from it, one storage read for all of them rather than a member record each.
 *  - Eligibility: the membership epoch grows at every addition and removal. A member may vote on a
 *    proposal when it is a member now and was added at or before the proposal's epoch, so a member
 *    added later (even in a seat freed since) cannot vote, and a removed member casts no more votes.
 *
 * A meeting's decision is one {recordMeeting}: the signed proposal and the execution go through the same
 * cores as {proposeBySig} and {execute} (`_propose`, `_execute`); its ballots are counted in memory and
 * stored once (one slot write for all of them), and logged in one {MeetingRecorded}. Every entry point can
 * also be batched with {Multicall-multicall} (a delegatecall to itself per call, so `msg.sender` is the
 * batch's sender), e.g. several {castVoteBySig} on an existing proposal, or a member's own votes and
 * recusals.
 *
 * A meeting on several proposals is one `multicall` of {recordMeeting}s, one per proposal, rather than a
 * `recordMeetings` over arrays: each proposal keeps the one audited path (its signature, eligibility snapshot,
 * count and execution, in order, each seeing the board the previous ones left), its errors bubble up unchanged,
 * and the batch adds only a delegatecall and a copy of the member table in calldata per proposal. A recusal in a meeting is a ballot with the choice {MEETING_RECUSAL}: its seat is written to the
 * proposal's recusals (the same mask {recuse} writes, so it leaves the quorum base), in the same slot write as the
 * votes.
 */
contract HubBoard is IHubBoard, EIP712, Multicall {
    /// @inheritdoc IHubBoard
    uint256 public constant MAX_MEMBERS = 32;

    /// @notice The EIP-712 type of a signed proposal (with the types it references, as EIP-712 encodes them).
    bytes32 public constant PROPOSE_TYPEHASH = keccak256(
        "Propose(Action action,string title,bytes32 documentHash,address proposer,uint256 nonce,uint256 deadline)"
        "Action(uint8 kind,address subject,string name,bytes32 keyHash,Rules rules)"
        "Rules(uint16 quorumBps,uint16 majorityBps,uint16 supermajorityBps,uint32 votingPeriod,uint32 executionPeriod)"
    );

    /// @notice The EIP-712 type of an {Action}, part of a signed proposal.
    bytes32 public constant ACTION_TYPEHASH = keccak256(
        "Action(uint8 kind,address subject,string name,bytes32 keyHash,Rules rules)"
        "Rules(uint16 quorumBps,uint16 majorityBps,uint16 supermajorityBps,uint32 votingPeriod,uint32 executionPeriod)"
    );

    /// @notice The EIP-712 type of {Rules}, part of a signed proposal.
    bytes32 public constant RULES_TYPEHASH = keccak256(
        "Rules(uint16 quorumBps,uint16 majorityBps,uint16 supermajorityBps,uint32 votingPeriod,uint32 executionPeriod)"
    );

    /// @notice The EIP-712 type of a signed ballot.
    bytes32 public constant BALLOT_TYPEHASH = keccak256(
        "Ballot(uint256 proposalId,uint8 support,string reason,address voter,uint256 nonce,uint256 deadline)"
    );

    /// @notice The EIP-712 type of a ballot signed for {recordMeeting} (with the types it references).
    bytes32 public constant MEETING_BALLOT_TYPEHASH = keccak256(
        "MeetingBallot(Propose proposal,uint8 support,string reason,address voter)"
        "Action(uint8 kind,address subject,string name,bytes32 keyHash,Rules rules)"
        "Propose(Action action,string title,bytes32 documentHash,address proposer,uint256 nonce,uint256 deadline)"
        "Rules(uint16 quorumBps,uint16 majorityBps,uint16 supermajorityBps,uint32 votingPeriod,uint32 executionPeriod)"
    );

    /// @notice The EIP-712 type of a signed recusal.
    bytes32 public constant RECUSAL_TYPEHASH =
        keccak256("Recusal(uint256 proposalId,string reason,address member,uint256 nonce,uint256 deadline)");

    /// @inheritdoc IHubBoard
    uint8 public constant MEETING_RECUSAL = 3;

    uint256 private constant _BPS = 10_000;
    /// @dev keccak256 of the empty string: the reason of a meeting ballot given without reasons.
    bytes32 private constant _EMPTY_STRING_HASH = keccak256("");
    uint16 private constant _MIN_THRESHOLD_BPS = 5_000;
    uint16 private constant _MAX_THRESHOLD_BPS = 9_999;
    uint32 private constant _MIN_PERIOD = 60;
    uint32 private constant _MAX_PERIOD = 365 days;
    /// @dev The kinds decided by the supermajority, one bit per {ActionKind}.
    uint256 private constant _SUPERMAJORITY_KINDS = (1 << uint8(ActionKind.AddMember))
        | (1 << uint8(ActionKind.RemoveMember)) | (1 << uint8(ActionKind.ChangeRules));

    /// @dev A member's record. Kept after removal (inactive) so that receipts of older proposals stay readable.
    struct MemberInfo {
        uint8 seat; // bit of the member mask
        uint32 addedEpoch; // membership epoch right after the addition
        uint32 removedEpoch; // membership epoch right after the removal, zero while a member
        bool active; // a member now
        uint64 nonce; // the next signature nonce; only a member's signatures are ever accepted to consume it
        string name;
    }

    /// @dev The board in one slot: members, membership epoch, proposal count and the rules in force.
    struct Board {
        uint32 memberMask;
        uint8 memberCount; // the bits set in memberMask, kept so that a proposal need not count them
        uint32 epoch;
        uint48 proposalCount;
        uint24 rulesId; // the id of the rules in force in `_rulesById`, from 1
        uint16 quorumBps;
        uint16 majorityBps;
        uint16 supermajorityBps;
        uint32 votingPeriod;
        uint32 executionPeriod;
    }

    /// @dev A proposal, but for its commitment, in one slot: a seat's bit is set in at most one of the masks.
    struct ProposalRecord {
        uint32 forMask;
        uint32 againstMask;
        uint32 abstainMask;
        uint32 recusedMask;
        uint32 snapshotEpoch; // the membership epoch at creation
        uint40 voteEnd; // last second of voting; zero for an unknown proposal
        uint24 rulesId; // the rules in force at creation
        uint8 eligible; // the number of members at creation
        ActionKind kind;
        bool executed;
    }

    /// @dev A meeting's ballots as they are counted: the seats of each choice, 32 bits per choice (Against, For,
    /// Abstain, then the recusals from the lowest bits up), and the voters and choices in ballot order, for
    /// {MeetingRecorded}.
    struct MeetingTally {
        uint256 masks;
        address[] voters;
        bytes choices;
    }

    /// @dev A proposal's counts, derived from its record.
    struct Tally {
        uint256 eligible;
        uint256 forVotes;
        uint256 againstVotes;
        uint256 abstainVotes;
        uint256 recusals;
    }

    ICredentialRegistry private immutable _registry;

    Board private _board;
    mapping(address account => MemberInfo) private _members;
    address[32] private _seatHolder;
    /// @dev keccak256 of the member table ({memberTable}, 20 bytes an account), kept at every addition and removal:
    /// {recordMeeting} checks the table it is given against it, one storage read for all its voters.
    bytes32 private _memberTableHash;
    mapping(uint24 rulesId => Rules) private _rulesById;
    mapping(uint256 proposalId => ProposalRecord) private _proposals;
    mapping(uint256 proposalId => bytes32) private _proposalHashes;

    /**
     * @param registry_ the credential registry this board governs (its governor must be this contract)
     * @param initialMembers the initial board, at least one, at most {MAX_MEMBERS}, each with a name
     * @param initialRules the rules in force from the start
     */
    constructor(ICredentialRegistry registry_, Member[] memory initialMembers, Rules memory initialRules)
        EIP712("IT Hub Hoogeveen Board", "1")
    {
        // Ensure there is a registry to govern
        if (address(registry_) == address(0)) revert BoardInvalidRegistry();
        // Ensure there is a board
        if (initialMembers.length == 0) revert BoardInvalidInitialMembers();
        // Ensure the board fits the seats
        if (initialMembers.length > MAX_MEMBERS) revert BoardTooManyMembers(MAX_MEMBERS);
        _registry = registry_;
        for (uint256 i = 0; i < initialMembers.length; ++i) {
            Member memory member = initialMembers[i];
            // Ensure each member is an account with a name
            if (member.account == address(0) || bytes(member.name).length == 0) {
                revert BoardInvalidMember(member.account, member.name);
            }
            // Ensure no member is listed twice
            if (_members[member.account].active) revert BoardAlreadyMember(member.account);
            _addMember(member.account, member.name);
        }
        _setRules(initialRules);
    }

    // ---------------------------------------------------------------- proposals

    /// @inheritdoc IHubBoard
    function propose(Action calldata action, string calldata title, bytes32 documentHash)
        external
        returns (uint256 proposalId)
    {
        proposalId = _propose(msg.sender, action, title, documentHash);
        _proposalHashes[proposalId] = hashProposal(action, documentHash);
    }

    /// @inheritdoc IHubBoard
    function proposeBySig(
        Action calldata action,
        string calldata title,
        bytes32 documentHash,
        address proposer,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 proposalId) {
        (proposalId,) = _proposeBySig(action, title, documentHash, proposer, deadline, signature);
        _proposalHashes[proposalId] = hashProposal(action, documentHash);
    }

    /// @inheritdoc IHubBoard
    function castVote(uint256 proposalId, uint8 support, string calldata reason) external {
        _castVote(proposalId, msg.sender, support, reason);
    }

    /// @inheritdoc IHubBoard
    function castVoteBySig(
        uint256 proposalId,
        uint8 support,
        string calldata reason,
        address voter,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(BALLOT_TYPEHASH, proposalId, support, keccak256(bytes(reason)), voter, _useNonce(voter), deadline)
        );
        _checkSignature(voter, deadline, structHash, signature);
        _castVote(proposalId, voter, support, reason);
    }

    /// @inheritdoc IHubBoard
    function recuse(uint256 proposalId, string calldata reason) external {
        _recuse(proposalId, msg.sender, reason);
    }

    /// @inheritdoc IHubBoard
    function recuseBySig(
        uint256 proposalId,
        string calldata reason,
        address member,
        uint256 deadline,
        bytes calldata signature
    ) external {
        bytes32 structHash = keccak256(
            abi.encode(RECUSAL_TYPEHASH, proposalId, keccak256(bytes(reason)), member, _useNonce(member), deadline)
        );
        _checkSignature(member, deadline, structHash, signature);
        _recuse(proposalId, member, reason);
    }

    /// @inheritdoc IHubBoard
    function recordMeeting(
        Action calldata action,
        string calldata title,
        bytes32 documentHash,
        address proposer,
        uint256 deadline,
        bytes calldata signature,
        bytes calldata votes,
        string[] calldata reasons
    ) external returns (uint256 proposalId, ProposalState outcome) {
        // The proposal first: its eligibility snapshot is the board before any ballot is counted.
        // Its commitment is stored only when it is not executed here: executed with the action it was created from,
        // in this call, it is never executed again, so the commitment would serve no check (22,100 gas less).
        {
            bytes32 proposeHash;
            (proposalId, proposeHash) = _proposeBySig(action, title, documentHash, proposer, deadline, signature);
            _countMeetingBallots(proposalId, proposeHash, votes, reasons);
        }
        // Executed when the ballots decide it, with the action just proposed.
        outcome = _executeIfSucceeded(proposalId, action);
        if (outcome != ProposalState.Executed) _proposalHashes[proposalId] = hashProposal(action, documentHash);
    }

    /// @inheritdoc IHubBoard
    function execute(uint256 proposalId, Action calldata action, bytes32 documentHash) external {
        ProposalRecord storage record = _proposals[proposalId];
        ProposalRecord memory read = record;
        // Ensure the proposal exists
        if (read.voteEnd == 0) revert BoardUnknownProposal(proposalId);
        // Ensure it passed and can still be executed
        ProposalState current = _state(read, _rulesOf(read.rulesId));
        if (current != ProposalState.Succeeded) {
            revert BoardUnexpectedProposalState(proposalId, current, ProposalState.Succeeded);
        }
        // Ensure the action is the one the board voted on
        bytes32 expected = _proposalHashes[proposalId];
        bytes32 given = hashProposal(action, documentHash);
        if (given != expected) revert BoardActionMismatch(proposalId, expected, given);
        _execute(proposalId, record, action);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IHubBoard
    function registry() external view returns (ICredentialRegistry) {
        return _registry;
    }

    /// @inheritdoc IHubBoard
    function rules() external view returns (Rules memory) {
        Board memory board = _board;
        return Rules({
            quorumBps: board.quorumBps,
            majorityBps: board.majorityBps,
            supermajorityBps: board.supermajorityBps,
            votingPeriod: board.votingPeriod,
            executionPeriod: board.executionPeriod
        });
    }

    /// @inheritdoc IHubBoard
    function members() external view returns (Member[] memory list) {
        uint32 mask = _board.memberMask;
        list = new Member[](_popcount(mask));
        uint256 next = 0;
        for (uint256 seat = 0; mask != 0; ++seat) {
            if (mask & 1 != 0) {
                address account = _seatHolder[seat];
                list[next++] = Member({account: account, name: _members[account].name});
            }
            mask >>= 1;
        }
    }

    /// @inheritdoc IHubBoard
    function memberTable() external view returns (address[] memory) {
        return _memberTable(_board.memberMask);
    }

    /// @inheritdoc IHubBoard
    function isMember(address account) external view returns (bool) {
        return _members[account].active;
    }

    /// @inheritdoc IHubBoard
    function proposalCount() external view returns (uint256) {
        return _board.proposalCount;
    }

    /// @inheritdoc IHubBoard
    function state(uint256 proposalId) external view returns (ProposalState) {
        ProposalRecord memory record = _existingProposal(proposalId);
        return _state(record, _rulesOf(record.rulesId));
    }

    /// @inheritdoc IHubBoard
    function proposal(uint256 proposalId) external view returns (ProposalView memory) {
        ProposalRecord memory record = _existingProposal(proposalId);
        Rules memory ruled = _rulesOf(record.rulesId);
        Tally memory tally = _tally(record);
        return ProposalView({
            kind: record.kind,
            state: _state(record, ruled),
            proposalHash: _proposalHashes[proposalId],
            voteEnd: record.voteEnd,
            executableUntil: record.voteEnd + ruled.executionPeriod,
            quorumBps: ruled.quorumBps,
            thresholdBps: _thresholdBps(record.kind, ruled),
            eligible: uint8(tally.eligible),
            forVotes: uint8(tally.forVotes),
            againstVotes: uint8(tally.againstVotes),
            abstainVotes: uint8(tally.abstainVotes),
            recusals: uint8(tally.recusals)
        });
    }

    /// @inheritdoc IHubBoard
    function receipt(uint256 proposalId, address account) external view returns (Receipt memory result) {
        ProposalRecord memory record = _existingProposal(proposalId);
        MemberInfo storage info = _members[account];
        uint32 bit = uint32(1) << info.seat;
        // A member when the proposal was created: added before, and not removed before (in the seat it has
        // kept since: a seat changes only when its account is added again, after the proposal then).
        result.eligible = info.addedEpoch != 0 && info.addedEpoch <= record.snapshotEpoch
            && (info.active || info.removedEpoch > record.snapshotEpoch);
        if (!result.eligible) return result;
        result.recused = record.recusedMask & bit != 0;
        if (record.forMask & bit != 0) {
            result.hasVoted = true;
            result.support = VoteType.For;
        } else if (record.againstMask & bit != 0) {
            result.hasVoted = true;
            result.support = VoteType.Against;
        } else if (record.abstainMask & bit != 0) {
            result.hasVoted = true;
            result.support = VoteType.Abstain;
        }
    }

    /// @inheritdoc IHubBoard
    function hashProposal(Action calldata action, bytes32 documentHash) public pure returns (bytes32) {
        return keccak256(abi.encode(action, documentHash));
    }

    /// @inheritdoc IHubBoard
    function nonces(address owner) external view returns (uint256) {
        return _members[owner].nonce;
    }

    // ---------------------------------------------------------------- internals: proposals and voting

    /// @dev Every proposal, direct or signed, ends here; its caller stores its commitment (in {recordMeeting}, only
    /// when it is not executed there).
    function _propose(address proposer, Action calldata action, string calldata title, bytes32 documentHash)
        private
        returns (uint256 proposalId)
    {
        // Ensure the proposer is a member
        if (!_members[proposer].active) revert BoardUnauthorizedMember(proposer);
        // Ensure the proposal has a title
        if (bytes(title).length == 0) revert BoardEmptyTitle();
        _checkAction(action);

        Board memory board = _board;
        uint16 thresholdBps = _needsSupermajority(action.kind) ? board.supermajorityBps : board.majorityBps;
        uint40 voteEnd = uint40(block.timestamp) + board.votingPeriod;
        uint8 eligible = board.memberCount;
        proposalId = uint256(board.proposalCount) + 1;
        _board.proposalCount = uint48(proposalId);
        _proposals[proposalId] = ProposalRecord({
            forMask: 0,
            againstMask: 0,
            abstainMask: 0,
            recusedMask: 0,
            snapshotEpoch: board.epoch,
            voteEnd: voteEnd,
            rulesId: board.rulesId,
            eligible: eligible,
            kind: action.kind,
            executed: false
        });
        emit ProposalCreated(
            proposalId,
            proposer,
            action,
            title,
            documentHash,
            voteEnd,
            uint48(voteEnd) + board.executionPeriod,
            board.quorumBps,
            thresholdBps,
            eligible
        );
    }

    /// @dev A signed proposal ({proposeBySig}, {recordMeeting}); returns the new id and the EIP-712 struct hash of
    /// the signed `Propose` (which meeting ballots name).
    function _proposeBySig(
        Action calldata action,
        string calldata title,
        bytes32 documentHash,
        address proposer,
        uint256 deadline,
        bytes calldata signature
    ) private returns (uint256 proposalId, bytes32 proposeHash) {
        proposeHash = _hashPropose(_hashAction(action), title, documentHash, proposer, deadline);
        _checkSignature(proposer, deadline, proposeHash, signature);
        proposalId = _propose(proposer, action, title, documentHash);
    }

    /// @dev Count a meeting's ballots on `proposalId`, created in this call from the signed `Propose` with struct
    /// hash `proposeHash`, which each ballot names; `votes` packs the member table and the ballots (see
    /// {IHubBoard-recordMeeting}), `reasons` holds one reason per ballot or none. The checks of {castVoteBySig} and
    /// {castVote}, less those a proposal created in this call passes by construction: it exists, is open, and its
    /// eligible members are the members now (no ballot can change the board), whom the member table names. The
    /// ballots are counted in memory and stored once.
    function _countMeetingBallots(
        uint256 proposalId,
        bytes32 proposeHash,
        bytes calldata votes,
        string[] calldata reasons
    ) private {
        if (votes.length == 0) {
            // Ensure no reason comes without its ballot
            if (reasons.length != 0) revert BoardInvalidMeetingVotes();
            return; // a signed proposal only
        }
        uint256 at = _checkMemberTable(votes);
        uint256 count = uint8(votes[1]);
        MeetingTally memory tally =
            MeetingTally({masks: 0, voters: new address[](count), choices: new bytes(count)});
        // Ensure there is one reason per ballot, or none
        if (reasons.length != 0 && reasons.length != count) revert BoardInvalidMeetingVotes();
        for (uint256 i = 0; i < count; ++i) {
            bytes32 reasonHash = reasons.length == 0 ? _EMPTY_STRING_HASH : keccak256(bytes(reasons[i]));
            at = _takeMeetingBallot(proposeHash, votes, at, reasonHash, tally, i);
        }
        // Ensure nothing follows the last ballot
        if (at != votes.length) revert BoardInvalidMeetingVotes();
        uint256 masks = tally.masks;
        ProposalRecord storage record = _proposals[proposalId];
        (record.againstMask, record.forMask, record.abstainMask, record.recusedMask) =
            (uint32(masks), uint32(masks >> 32), uint32(masks >> 64), uint32(masks >> 96));
        // One event for all the ballots (their reasons as given: none, or one per ballot).
        emit MeetingRecorded(proposalId, tally.voters, tally.choices, reasons);
    }

    /// @dev Check the member table at the head of a meeting's `votes` against the board's; returns where the
    /// ballots start.
    function _checkMemberTable(bytes calldata votes) private view returns (uint256 ballotsAt) {
        // Ensure the header and the table are there
        if (votes.length < 2) revert BoardInvalidMeetingVotes();
        ballotsAt = 2 + 20 * uint256(uint8(votes[0]));
        if (votes.length < ballotsAt) revert BoardInvalidMeetingVotes();
        // Ensure the member table is the board's now (and so, for a proposal created in this call, at its creation):
        // the voters are read from it rather than from their member records
        bytes32 expected = _memberTableHash;
        bytes32 given = keccak256(votes[2:ballotsAt]);
        if (given != expected) revert BoardMemberTableMismatch(expected, given);
    }

    /// @dev The meeting ballot at `at` in `votes` (the member table checked), `reasonHash` the hash of its reason:
    /// checks it and counts it in `tally` as the `i`th; returns where the next ballot starts. The proposal is the
    /// last one created (in this call), so its id is the proposal count.
    function _takeMeetingBallot(
        bytes32 proposeHash,
        bytes calldata votes,
        uint256 at,
        bytes32 reasonHash,
        MeetingTally memory tally,
        uint256 i
    ) private view returns (uint256 next) {
        // Ensure the ballot is all there: seat, choice, signature length (2 bytes), signature
        if (votes.length < at + 4) revert BoardInvalidMeetingVotes();
        next = at + 4 + uint16(bytes2(votes[at + 2:at + 4]));
        if (votes.length < next) revert BoardInvalidMeetingVotes();
        uint256 seat = uint8(votes[at]);
        uint8 support = uint8(votes[at + 1]);
        address voter = address(0);
        // Ensure the voter is a member: it holds the seat in the board's table (and so was a member when the
        // proposal was created, in this call)
        if (seat < uint8(votes[0])) voter = address(bytes20(votes[2 + 20 * seat:22 + 20 * seat]));
        if (voter == address(0)) revert BoardNotEligible(_board.proposalCount, voter);
        // No nonce: the ballot names the signed proposal, nonce included, which is accepted once.
        _checkSignature(
            voter,
            keccak256(abi.encode(MEETING_BALLOT_TYPEHASH, proposeHash, support, reasonHash, voter)),
            votes[at + 4:next]
        );
        // Ensure the choice is a VoteType or a recusal
        if (support > MEETING_RECUSAL) revert BoardInvalidVoteType(support);
        uint32 bit = uint32(1) << seat; // a seat of the table: below 32
        uint256 masks = tally.masks;
        // Ensure the member has no ballot yet, a vote or a recusal
        if (uint32(masks | (masks >> 32) | (masks >> 64) | (masks >> 96)) & bit != 0) {
            revert BoardAlreadyVoted(_board.proposalCount, voter);
        }
        tally.masks = masks | (uint256(bit) << (32 * support));
        tally.voters[i] = voter;
        tally.choices[i] = bytes1(support);
    }

    /// @dev Execute `proposalId`, whose action is `action`, if it has Succeeded; return its state after.
    function _executeIfSucceeded(uint256 proposalId, Action calldata action) private returns (ProposalState) {
        ProposalRecord storage record = _proposals[proposalId];
        ProposalRecord memory read = record;
        ProposalState current = _state(read, _rulesOf(read.rulesId));
        if (current != ProposalState.Succeeded) return current;
        _execute(proposalId, record, action);
        return ProposalState.Executed;
    }

    /// @dev Every vote, direct or signed, ends here.
    function _castVote(uint256 proposalId, address voter, uint8 support, string calldata reason) private {
        // Ensure the choice is a VoteType
        if (support > uint8(VoteType.Abstain)) revert BoardInvalidVoteType(support);
        (uint32 bit, ProposalRecord storage record) = _checkCanTakePart(proposalId, voter);
        if (support == uint8(VoteType.For)) {
            record.forMask |= bit;
        } else if (support == uint8(VoteType.Against)) {
            record.againstMask |= bit;
        } else {
            record.abstainMask |= bit;
        }
        emit VoteCast(proposalId, voter, VoteType(support), reason);
    }

    /// @dev Every recusal, direct or signed, ends here.
    function _recuse(uint256 proposalId, address member, string calldata reason) private {
        (uint32 bit, ProposalRecord storage record) = _checkCanTakePart(proposalId, member);
        record.recusedMask |= bit;
        emit Recused(proposalId, member, reason);
    }

    /// @dev The checks of a vote or recusal by `account`; returns its seat bit and the proposal's record.
    function _checkCanTakePart(uint256 proposalId, address account)
        private
        view
        returns (uint32 bit, ProposalRecord storage record)
    {
        record = _proposals[proposalId];
        ProposalRecord memory read = record; // one SLOAD
        // Ensure the proposal exists
        if (read.voteEnd == 0) revert BoardUnknownProposal(proposalId);
        // Ensure voting is open: not executed and not after voteEnd. A proposal that closed early still
        // takes votes and recusals for the record: they cannot change its outcome (see {IHubBoard}).
        if (read.executed || block.timestamp > read.voteEnd) {
            revert BoardUnexpectedProposalState(proposalId, _state(read, _rulesOf(read.rulesId)), ProposalState.Active);
        }
        MemberInfo storage info = _members[account];
        (uint8 seat, bool active, uint32 addedEpoch) = (info.seat, info.active, info.addedEpoch);
        bit = uint32(1) << seat;
        // Ensure the account is a member now, and was one when the proposal was created: added at or before
        // its epoch (and so, never removed since, in the seat it holds now)
        if (!active || addedEpoch > read.snapshotEpoch) revert BoardNotEligible(proposalId, account);
        // Ensure the member did not recuse itself
        if (read.recusedMask & bit != 0) revert BoardAlreadyRecused(proposalId, account);
        // Ensure the member did not vote yet
        if ((read.forMask | read.againstMask | read.abstainMask) & bit != 0) {
            revert BoardAlreadyVoted(proposalId, account);
        }
    }

    /// @dev Every execution, by {execute} or in a meeting, ends here: `proposalId` has Succeeded and `action` is
    /// the one proposed.
    function _execute(uint256 proposalId, ProposalRecord storage record, Action calldata action) private {
        // Ensure the action still applies (the board may have changed since the proposal was made)
        _checkAction(action);

        // Checks-effects-interactions: the proposal is executed before the action is applied and the
        // registry is called, so it can never be executed twice.
        record.executed = true;
        emit ProposalExecuted(proposalId, action.kind, action.subject);

        ActionKind kind = action.kind;
        if (kind == ActionKind.AddMember) {
            _addMember(action.subject, action.name);
        } else if (kind == ActionKind.RemoveMember) {
            _removeMember(action.subject);
        } else if (kind == ActionKind.AccreditIssuer) {
            _registry.accreditIssuer(action.subject, action.name, action.keyHash);
        } else if (kind == ActionKind.SuspendIssuer) {
            _registry.suspendIssuer(action.subject);
        } else if (kind == ActionKind.ChangeRules) {
            _setRules(action.rules);
        } else if (kind == ActionKind.RotateIssuerKey) {
            _registry.rotateIssuerKey(action.subject, action.keyHash);
        }
        // A Resolution is the document itself: executing it only records the decision.
    }

    /// @dev Consume `owner`'s current nonce and return it.
    function _useNonce(address owner) private returns (uint256) {
        unchecked {
            // A uint64 that grows by one per accepted signature does not overflow.
            return _members[owner].nonce++;
        }
    }

    /// @dev Check that `signer` signed the EIP-712 message `structHash` (which holds its nonce, consumed by
    /// the caller) before `deadline`.
    function _checkSignature(address signer, uint256 deadline, bytes32 structHash, bytes calldata signature)
        private
        view
    {
        // Ensure the signature is still valid
        if (block.timestamp > deadline) revert BoardExpiredSignature(deadline);
        _checkSignature(signer, structHash, signature);
    }

    /// @dev Check that `signer` signed the EIP-712 message `structHash`.
    function _checkSignature(address signer, bytes32 structHash, bytes calldata signature) private view {
        bytes32 digest = _hashTypedDataV4(structHash);
        // Ensure the signer signed this message (which makes itself single-use: it holds the signer's nonce, or
        // for a meeting ballot the signed proposal), on this chain, for this contract: by its key, else (a
        // contract wallet) by ERC-1271. The key is tried first, as OpenZeppelin 4.x did: 5.x reads the signer's
        // code first, a cold account access (2,600 gas) for every ballot of a batch.
        (address recovered, ECDSA.RecoverError error) = _tryRecover(digest, signature);
        if (
            (error != ECDSA.RecoverError.NoError || recovered != signer)
                && !SignatureChecker.isValidERC1271SignatureNow(signer, digest, signature)
        ) revert BoardInvalidSignature(signer);
    }

    /// @dev ECDSA.tryRecover(bytes32, bytes) for a signature in calldata, read in place rather than copied to
    /// memory: a key's signature is 65 bytes (r, s, v); any other length is no key's.
    function _tryRecover(bytes32 digest, bytes calldata signature)
        private
        pure
        returns (address recovered, ECDSA.RecoverError error)
    {
        if (signature.length != 65) return (address(0), ECDSA.RecoverError.InvalidSignatureLength);
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := calldataload(signature.offset)
            s := calldataload(add(signature.offset, 0x20))
            v := byte(0, calldataload(add(signature.offset, 0x40)))
        }
        // slither-disable-next-line unused-return
        (recovered, error,) = ECDSA.tryRecover(digest, v, r, s);
    }

    /// @dev The EIP-712 struct hash of a signed proposal of the action with struct hash `actionHash`; consumes
    /// `proposer`'s nonce.
    function _hashPropose(
        bytes32 actionHash,
        string calldata title,
        bytes32 documentHash,
        address proposer,
        uint256 deadline
    ) private returns (bytes32) {
        return keccak256(
            abi.encode(
                PROPOSE_TYPEHASH,
                actionHash,
                keccak256(bytes(title)),
                documentHash,
                proposer,
                _useNonce(proposer),
                deadline
            )
        );
    }

    /// @dev The EIP-712 struct hash of an {Action} (its {Rules} nested as a struct hash).
    function _hashAction(Action calldata action) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                ACTION_TYPEHASH,
                action.kind,
                action.subject,
                keccak256(bytes(action.name)),
                action.keyHash,
                keccak256(abi.encode(RULES_TYPEHASH, action.rules))
            )
        );
    }

    /// @dev The state of an existing proposal under the rules `ruled` it was created with (see the outcome rules of
    /// {IHubBoard}).
    function _state(ProposalRecord memory record, Rules memory ruled) private view returns (ProposalState) {
        if (record.executed) return ProposalState.Executed;
        Tally memory tally = _tally(record);
        uint256 thresholdBps = _thresholdBps(record.kind, ruled);
        uint256 participation = tally.forVotes + tally.againstVotes + tally.abstainVotes;
        bool quorum = participation != 0 && participation * _BPS >= ruled.quorumBps * (tally.eligible - tally.recusals);
        if (block.timestamp <= record.voteEnd) {
            if (!quorum) return ProposalState.Active;
            uint256 remaining = tally.eligible - tally.recusals - participation;
            // Passes even if all the remaining members vote Against: decided.
            if (_passes(tally.forVotes, tally.againstVotes + remaining, thresholdBps)) {
                return ProposalState.Succeeded;
            }
            // Fails even if all the remaining members vote For: decided.
            if (!_passes(tally.forVotes + remaining, tally.againstVotes, thresholdBps)) {
                return ProposalState.Defeated;
            }
            return ProposalState.Active;
        }
        if (!quorum) return ProposalState.Expired;
        if (!_passes(tally.forVotes, tally.againstVotes, thresholdBps)) return ProposalState.Defeated;
        return block.timestamp <= uint256(record.voteEnd) + ruled.executionPeriod
            ? ProposalState.Succeeded
            : ProposalState.Expired;
    }

    function _tally(ProposalRecord memory record) private pure returns (Tally memory) {
        return Tally({
            eligible: record.eligible,
            forVotes: _popcount(record.forMask),
            againstVotes: _popcount(record.againstMask),
            abstainVotes: _popcount(record.abstainMask),
            recusals: _popcount(record.recusedMask)
        });
    }

    /// @dev The threshold: For * 10000 > thresholdBps * (For + Against).
    function _passes(uint256 forVotes, uint256 againstVotes, uint256 thresholdBps) private pure returns (bool) {
        return forVotes * _BPS > thresholdBps * (forVotes + againstVotes);
    }

    /// @dev The threshold that `ruled` sets for a proposal of `kind`.
    function _thresholdBps(ActionKind kind, Rules memory ruled) private pure returns (uint16) {
        return _needsSupermajority(kind) ? ruled.supermajorityBps : ruled.majorityBps;
    }

    /// @dev The rules kept under `rulesId`: those in force from the board's slot, older ones from `_rulesById`.
    function _rulesOf(uint24 rulesId) private view returns (Rules memory) {
        Board memory board = _board;
        if (board.rulesId != rulesId) return _rulesById[rulesId];
        return Rules({
            quorumBps: board.quorumBps,
            majorityBps: board.majorityBps,
            supermajorityBps: board.supermajorityBps,
            votingPeriod: board.votingPeriod,
            executionPeriod: board.executionPeriod
        });
    }

    function _existingProposal(uint256 proposalId) private view returns (ProposalRecord memory record) {
        record = _proposals[proposalId];
        // Ensure the proposal exists
        // slither-disable-next-line incorrect-equality
        if (record.voteEnd == 0) revert BoardUnknownProposal(proposalId);
    }

    // ---------------------------------------------------------------- internals: actions

    /// @dev Check that `action` fits its kind and applies to the board as it is now.
    function _checkAction(Action calldata action) private view {
        ActionKind kind = action.kind;
        bool hasSubject = action.subject != address(0);
        bool hasName = bytes(action.name).length != 0;
        bool hasRules = _hasRules(action.rules);
        bool hasKey = action.keyHash != bytes32(0);
        if (kind == ActionKind.AccreditIssuer) {
            // Ensure the issuer is an account with a name and a signing key, and nothing else is given
            if (!hasSubject || !hasName || !hasKey || hasRules) revert BoardInvalidAction(kind);
            return;
        }
        if (kind == ActionKind.RotateIssuerKey) {
            // Ensure only the issuer and its new key are given
            if (!hasSubject || hasName || !hasKey || hasRules) revert BoardInvalidAction(kind);
            return;
        }
        // Ensure the other kinds carry no key
        if (hasKey) revert BoardInvalidAction(kind);
        if (kind == ActionKind.Resolution) {
            // Ensure a resolution carries nothing but its document
            if (hasSubject || hasName || hasRules) revert BoardInvalidAction(kind);
        } else if (kind == ActionKind.AddMember) {
            // Ensure the new member is an account with a name, and nothing else is given
            if (!hasSubject || !hasName || hasRules) revert BoardInvalidAction(kind);
            // Ensure it is not a member yet
            if (_members[action.subject].active) revert BoardAlreadyMember(action.subject);
            // Ensure there is a free seat
            if (_board.memberMask == type(uint32).max) revert BoardTooManyMembers(MAX_MEMBERS);
        } else if (kind == ActionKind.RemoveMember) {
            // Ensure only the member to remove is given
            if (!hasSubject || hasName || hasRules) revert BoardInvalidAction(kind);
            MemberInfo storage info = _members[action.subject];
            // Ensure it is a member
            if (!info.active) revert BoardNotMember(action.subject);
            // Ensure the board keeps at least one member
            if (_board.memberMask == uint32(1) << info.seat) revert BoardLastMember(action.subject);
        } else if (kind == ActionKind.SuspendIssuer) {
            // Ensure only the issuer to suspend is given
            if (!hasSubject || hasName || hasRules) revert BoardInvalidAction(kind);
        } else {
            // Ensure only the new rules are given
            if (hasSubject || hasName) revert BoardInvalidAction(kind);
            _checkRules(action.rules);
        }
    }

    function _addMember(address account, string memory name) private {
        Board storage board = _board;
        uint32 mask = board.memberMask;
        uint32 free = ~mask;
        uint8 seat;
        unchecked {
            // The lowest free seat: the number of ones below the lowest set bit of `free` (nonzero: checked before).
            seat = uint8(_popcount((free & (0 - free)) - 1));
        }
        uint32 epoch = board.epoch + 1;
        board.memberMask = mask | (uint32(1) << seat);
        ++board.memberCount;
        board.epoch = epoch;
        // Field by field: an account added again keeps its nonce.
        MemberInfo storage info = _members[account];
        info.seat = seat;
        info.addedEpoch = epoch;
        info.removedEpoch = 0;
        info.active = true;
        info.name = name;
        _seatHolder[seat] = account;
        _memberTableHash = _hashMemberTable(mask | (uint32(1) << seat));
        emit MemberAdded(account, name);
    }

    function _removeMember(address account) private {
        Board storage board = _board;
        MemberInfo storage info = _members[account];
        uint8 seat = info.seat;
        uint32 epoch = board.epoch + 1;
        board.memberMask &= ~(uint32(1) << seat);
        --board.memberCount;
        board.epoch = epoch;
        info.active = false;
        info.removedEpoch = epoch;
        delete _seatHolder[seat];
        _memberTableHash = _hashMemberTable(board.memberMask);
        emit MemberRemoved(account);
    }

    /// @dev The member table of a board with member mask `mask`: the holder of each seat up to the highest one held.
    function _memberTable(uint32 mask) private view returns (address[] memory table) {
        uint256 length = 0;
        for (uint32 rest = mask; rest != 0; rest >>= 1) {
            ++length;
        }
        table = new address[](length);
        for (uint256 seat = 0; seat < length; ++seat) {
            table[seat] = _seatHolder[seat];
        }
    }

    /// @dev keccak256 of the member table of a board with member mask `mask`, its accounts packed (20 bytes each),
    /// as {recordMeeting} takes it.
    function _hashMemberTable(uint32 mask) private view returns (bytes32) {
        address[] memory table = _memberTable(mask);
        bytes memory packed = "";
        for (uint256 seat = 0; seat < table.length; ++seat) {
            packed = abi.encodePacked(packed, table[seat]);
        }
        return keccak256(packed);
    }

    function _setRules(Rules memory newRules) private {
        _checkRules(newRules);
        Board storage board = _board;
        uint24 rulesId = board.rulesId + 1;
        board.rulesId = rulesId;
        _rulesById[rulesId] = newRules;
        board.quorumBps = newRules.quorumBps;
        board.majorityBps = newRules.majorityBps;
        board.supermajorityBps = newRules.supermajorityBps;
        board.votingPeriod = newRules.votingPeriod;
        board.executionPeriod = newRules.executionPeriod;
        emit RulesChanged(newRules);
    }

    function _checkRules(Rules memory candidate) private pure {
        // Ensure every rule is in range (see {Rules})
        if (
            candidate.quorumBps == 0 || candidate.quorumBps > _BPS || candidate.majorityBps < _MIN_THRESHOLD_BPS
                || candidate.majorityBps > _MAX_THRESHOLD_BPS || candidate.supermajorityBps < candidate.majorityBps
                || candidate.supermajorityBps > _MAX_THRESHOLD_BPS || candidate.votingPeriod < _MIN_PERIOD
                || candidate.votingPeriod > _MAX_PERIOD || candidate.executionPeriod < _MIN_PERIOD
                || candidate.executionPeriod > _MAX_PERIOD
        ) revert BoardInvalidRules(candidate);
    }

    function _hasRules(Rules calldata candidate) private pure returns (bool) {
        return candidate.quorumBps != 0 || candidate.majorityBps != 0 || candidate.supermajorityBps != 0
            || candidate.votingPeriod != 0 || candidate.executionPeriod != 0;
    }

    /// @dev Membership and rule changes need the supermajority; the other decisions a majority.
    function _needsSupermajority(ActionKind kind) private pure returns (bool) {
        return _SUPERMAJORITY_KINDS & (uint256(1) << uint8(kind)) != 0;
    }

    /// @dev The number of set bits of `x` (SWAR popcount).
    function _popcount(uint64 x) private pure returns (uint256) {
        unchecked {
            x -= (x >> 1) & 0x5555555555555555;
            x = (x & 0x3333333333333333) + ((x >> 2) & 0x3333333333333333);
            x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0f;
            return uint256((x * 0x0101010101010101) >> 56);
        }
    }
}
