// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {ICredentialRegistry} from "./ICredentialRegistry.sol";

/**
 * @title CredentialRegistry
 * @notice The IT Hub Hoogeveen's registry of accredited issuers, anchored cohorts and revocations.
 * See {ICredentialRegistry} for the model.
 *
 * @dev Storage is laid out for cheap anchoring on the hub's path ({anchorFor}), which reads one cold slot
 * and writes one new slot, as a bare document store's `issue(root)` does:
 * - `_issuers[issuer]` packs the issuer's current accreditation (status and since) with the relayer it
 *   authorised, so checking "accredited now" and "is this its relayer" is one cold read. The statuses
 *   before the current one are kept as a {Checkpoints-Trace208} per issuer keyed by block timestamp
 *   (1 accredited, 0 suspended): a status change pushes the status it ends, so a first accreditation
 *   writes the packed slot only. A status change and an anchoring in the same second are judged by the
 *   status at the end of that second.
 * - `_batches[issuer][root]` packs time, count and mode in one slot; the metadata hash takes a second
 *   slot only when nonzero. Keying by issuer means no account can take, squat or block another's root.
 * - {anchorFor} neither checks a signature nor writes a nonce: the relayer is authenticated by the
 *   issuer's stored authorisation, a root can be anchored once per issuer (no replay), and the issuer's
 *   EIP-712 signature, carried in the credentials' proofs, is checked by verifiers offline (the batch's
 *   mode tells them it is required). {anchorBySig} keeps the on-chain check for issuers without a relayer.
 * - {BatchAnchored} has two topics and no data.
 * - `_signingKeys[issuer]` holds the accredited signing keys with the second each began, written by the
 *   governor only and read by views only: anchoring never touches it, so it costs anchoring nothing.
 * Measured (bench/results/gas.md), {anchorFor} costs what a document store's `issue(root)` costs plus what
 * keying by issuer costs: the issuer's address in calldata and as an event topic (about 750 gas).
 * The name is written only when it is new or changed. There are no external calls apart from the
 * ERC-1271 `staticcall` of {SignatureChecker}.
 */
contract CredentialRegistry is ICredentialRegistry, EIP712, Nonces {
    using Checkpoints for Checkpoints.Trace208;

    /// @dev The EIP-712 type of a signed anchoring request.
    bytes32 private constant ANCHOR_TYPEHASH =
        keccak256(
            "Anchor(bytes32 root,uint32 count,bytes32 metadataHash,address issuer,uint256 nonce,uint256 deadline)"
        );

    /// @dev The EIP-712 type of a signed relayer authorisation.
    bytes32 private constant SET_RELAYER_TYPEHASH =
        keccak256("SetRelayer(address issuer,address relayer,uint256 nonce,uint256 deadline)");

    /// @dev The EIP-712 type of a signed revocation request.
    bytes32 private constant REVOKE_TYPEHASH =
        keccak256(
            "Revoke(bytes32 root,bytes32 credentialDigest,uint16 reason,address issuer,uint256 nonce,uint256 deadline)"
        );

    address private immutable _governor;

    /// @dev An issuer's hot state, one slot: what anchoring reads.
    struct IssuerState {
        address relayer; // the account authorised to anchor for it with {anchorFor} (zero: none)
        uint48 since; // when the current accreditation status began
        bool accredited; // the current status (the latest checkpoint of its history)
    }

    /// @dev A batch's first slot, packed by hand so that anchoring writes it with one SSTORE: bits 0-47
    /// anchoredAt, 48-79 count, 80-87 mode (its metadata hash is a second slot, written only when nonzero).
    uint256 private constant COUNT_SHIFT = 48;
    uint256 private constant MODE_SHIFT = 80;

    mapping(address account => string name) private _issuerNames;
    mapping(address account => IssuerState) private _issuers;
    mapping(address account => Checkpoints.Trace208) private _accreditationHistory;
    mapping(address issuer => mapping(bytes32 root => uint256 packed)) private _batches;
    mapping(address issuer => mapping(bytes32 root => bytes32 metadataHash)) private _batchMetadata;
    mapping(address issuer => mapping(bytes32 root => mapping(bytes32 credentialDigest => Revocation)))
        private _revocations;
    /// @dev The signing keys the governor accredited, oldest first; read by views only, never by anchoring.
    mapping(address account => SigningKey[]) private _signingKeys;

    /// @dev Only the governor may pass.
    modifier onlyGovernor() {
        // Ensure the caller is the governor
        if (msg.sender != _governor) revert RegistryUnauthorizedGovernor(msg.sender);
        _;
    }

    /// @param governor_ the account that accredits and suspends issuers (the board contract)
    constructor(address governor_) EIP712("IT Hub Hoogeveen CredentialRegistry", "1") {
        // Ensure there is a governor
        if (governor_ == address(0)) revert RegistryInvalidAddress();
        _governor = governor_;
    }

    // ---------------------------------------------------------------- governance

    /// @inheritdoc ICredentialRegistry
    function governor() external view returns (address) {
        return _governor;
    }

    /// @inheritdoc ICredentialRegistry
    function accreditIssuer(address account, string calldata name, bytes32 keyHash) external onlyGovernor {
        // Ensure the issuer is an account
        if (account == address(0)) revert RegistryInvalidAddress();
        // Ensure the issuer has a name
        if (bytes(name).length == 0) revert RegistryEmptyIssuerName();
        // Ensure a key is named
        if (keyHash == bytes32(0)) revert RegistryInvalidKeyHash();
        // Ensure the issuer is not accredited already
        IssuerState storage state = _issuers[account];
        if (state.accredited) revert RegistryIssuerAlreadyAccredited(account);

        if (keccak256(bytes(_issuerNames[account])) != keccak256(bytes(name))) _issuerNames[account] = name;
        _changeStatus(account, state, true);
        // Re-accrediting with the key it had keeps that key's entry (and its `since`)
        if (_currentSigningKey(account) != keyHash) _setSigningKey(account, keyHash);
        emit IssuerAccredited(account, name, keyHash);
    }

    /// @inheritdoc ICredentialRegistry
    function rotateIssuerKey(address account, bytes32 keyHash) external onlyGovernor {
        // Ensure a key is named
        if (keyHash == bytes32(0)) revert RegistryInvalidKeyHash();
        // Ensure the issuer is accredited now (a suspended one is given its key when it is accredited again)
        if (!_issuers[account].accredited) revert RegistryIssuerNotAccredited(account);
        bytes32 previous = _currentSigningKey(account);
        // Ensure the key changes
        if (previous == keyHash) revert RegistrySigningKeyUnchanged(account, keyHash);

        _setSigningKey(account, keyHash);
        emit IssuerKeyRotated(account, previous, keyHash);
    }

    /// @inheritdoc ICredentialRegistry
    function suspendIssuer(address account) external onlyGovernor {
        // Ensure the issuer is accredited now
        IssuerState storage state = _issuers[account];
        if (!state.accredited) revert RegistryIssuerNotAccredited(account);

        _changeStatus(account, state, false);
        emit IssuerSuspended(account);
    }

    // ---------------------------------------------------------------- issuing

    /// @inheritdoc ICredentialRegistry
    function anchor(bytes32 root, uint32 count, bytes32 metadataHash) external {
        _anchor(msg.sender, _issuers[msg.sender].accredited, root, count, metadataHash, AnchorMode.Direct);
    }

    /// @inheritdoc ICredentialRegistry
    function anchorFor(address account, bytes32 root, uint32 count) external {
        IssuerState memory state = _issuers[account]; // one cold read: relayer and accreditation
        // Ensure the caller is the relayer the issuer authorised (the zero address never sends)
        if (state.relayer != msg.sender) revert RegistryUnauthorizedRelayer(account, msg.sender);
        _anchor(account, state.accredited, root, count, bytes32(0), AnchorMode.Relayed);
    }

    /// @inheritdoc ICredentialRegistry
    function setRelayer(address relayer) external {
        _setRelayer(msg.sender, relayer);
    }

    /// @inheritdoc ICredentialRegistry
    function setRelayerBySig(address account, address relayer, uint256 deadline, bytes calldata signature) external {
        // Ensure the signature has not expired
        if (block.timestamp > deadline) revert RegistryExpiredSignature(deadline);
        bytes32 structHash = keccak256(
            abi.encode(SET_RELAYER_TYPEHASH, account, relayer, _useNonce(account), deadline)
        );
        _checkSignature(account, structHash, signature);
        _setRelayer(account, relayer);
    }

    /// @inheritdoc ICredentialRegistry
    function anchorBySig(
        bytes32 root,
        uint32 count,
        bytes32 metadataHash,
        address account,
        uint256 deadline,
        bytes calldata signature
    ) external {
        // Ensure the signature has not expired
        if (block.timestamp > deadline) revert RegistryExpiredSignature(deadline);
        bytes32 structHash = keccak256(
            abi.encode(ANCHOR_TYPEHASH, root, count, metadataHash, account, _useNonce(account), deadline)
        );
        _checkSignature(account, structHash, signature);
        _anchor(account, _issuers[account].accredited, root, count, metadataHash, AnchorMode.Signed);
    }

    /// @inheritdoc ICredentialRegistry
    function revoke(bytes32 root, bytes32 credentialDigest, bytes32[] calldata proof, uint16 reason) external {
        _revoke(msg.sender, root, credentialDigest, proof, reason);
    }

    /// @inheritdoc ICredentialRegistry
    function revokeBySig(
        bytes32 root,
        bytes32 credentialDigest,
        bytes32[] calldata proof,
        uint16 reason,
        address account,
        uint256 deadline,
        bytes calldata signature
    ) external {
        // Ensure the signature has not expired
        if (block.timestamp > deadline) revert RegistryExpiredSignature(deadline);
        bytes32 structHash = keccak256(
            abi.encode(REVOKE_TYPEHASH, root, credentialDigest, reason, account, _useNonce(account), deadline)
        );
        _checkSignature(account, structHash, signature);
        _revoke(account, root, credentialDigest, proof, reason);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc ICredentialRegistry
    function verify(
        address account,
        bytes32 root,
        bytes32 credentialDigest,
        bytes32[] calldata proof
    ) external view returns (CredentialStatus memory status) {
        status.included = MerkleProof.verifyCalldata(proof, root, leafOf(credentialDigest));
        status.blockNumber = uint64(block.number);
        status.blockTimestamp = uint48(block.timestamp);
        Batch memory anchored = _batch(account, root);
        if (anchored.anchoredAt != 0) {
            status.anchored = true;
            status.issuer = account;
            status.issuerName = _issuerNames[account];
            status.anchoredAt = anchored.anchoredAt;
            status.anchorMode = anchored.mode;
            status.issuerAccreditedAtAnchor = _wasAccreditedAt(account, anchored.anchoredAt);
            status.issuerAccreditedNow = _issuers[account].accredited;
            status.signingKeyHash = _signingKeyAt(account, anchored.anchoredAt);
        }
        Revocation memory revoked = _revocations[account][root][credentialDigest];
        if (revoked.revokedAt != 0) {
            status.revoked = true;
            status.revokedAt = revoked.revokedAt;
            status.revocationReason = revoked.reason;
        }
    }

    /// @inheritdoc ICredentialRegistry
    function leafOf(bytes32 credentialDigest) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(credentialDigest))));
    }

    /// @inheritdoc ICredentialRegistry
    function issuer(address account) external view returns (Issuer memory) {
        IssuerState memory state = _issuers[account];
        return
            Issuer({
                name: _issuerNames[account],
                accredited: state.accredited,
                since: state.since,
                relayer: state.relayer
            });
    }

    /// @inheritdoc ICredentialRegistry
    function wasAccreditedAt(address account, uint48 timestamp) external view returns (bool) {
        return _wasAccreditedAt(account, timestamp);
    }

    /// @inheritdoc ICredentialRegistry
    function signingKeyAt(address account, uint48 timestamp) external view returns (bytes32) {
        return _signingKeyAt(account, timestamp);
    }

    /// @inheritdoc ICredentialRegistry
    function signingKeys(address account) external view returns (SigningKey[] memory) {
        return _signingKeys[account];
    }

    /// @inheritdoc ICredentialRegistry
    function batch(address account, bytes32 root) external view returns (Batch memory anchored) {
        anchored = _batch(account, root);
        if (anchored.anchoredAt != 0) anchored.metadataHash = _batchMetadata[account][root];
    }

    /// @inheritdoc ICredentialRegistry
    function revocation(
        address account,
        bytes32 root,
        bytes32 credentialDigest
    ) external view returns (Revocation memory) {
        return _revocations[account][root][credentialDigest];
    }

    /// @inheritdoc ICredentialRegistry
    function nonces(address owner) public view override(ICredentialRegistry, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    // ---------------------------------------------------------------- internal

    /// @dev Anchor `root` as `account`, which has been authenticated (caller, signer, or its relayer), whose
    /// hot state is `state`.
    function _anchor(
        address account,
        bool accredited,
        bytes32 root,
        uint32 count,
        bytes32 metadataHash,
        AnchorMode mode
    ) private {
        // Ensure the issuer is accredited now
        if (!accredited) revert RegistryIssuerNotAccredited(account);
        // Ensure the root is not zero
        if (root == bytes32(0)) revert RegistryInvalidRoot();
        // Ensure the batch holds credentials
        if (count == 0) revert RegistryEmptyBatch();
        mapping(bytes32 => uint256) storage batches = _batches[account];
        // Ensure this issuer did not anchor the root before (other issuers' batches of it do not matter)
        if (batches[root] != 0) revert RegistryBatchAlreadyAnchored(root, account);

        // one slot written whole (anchoredAt is nonzero); the metadata slot only when used
        batches[root] = block.timestamp | (uint256(count) << COUNT_SHIFT) | (uint256(mode) << MODE_SHIFT);
        if (metadataHash != bytes32(0)) _batchMetadata[account][root] = metadataHash;
        emit BatchAnchored(account, root);
    }

    /// @dev Make `accredited` the status of `account` from now on. The status it ends goes into the history
    /// first (none the first time), so a first accreditation writes one slot, as the history alone did before.
    function _changeStatus(address account, IssuerState storage state, bool accredited) private {
        uint48 since = state.since;
        // slither-disable-next-line unused-return
        if (since != 0) _accreditationHistory[account].push(since, state.accredited ? 1 : 0);
        state.since = uint48(block.timestamp);
        state.accredited = accredited;
    }

    /// @dev Authorise `relayer` for `account` (zero: withdraw), keeping its accreditation in the same slot.
    function _setRelayer(address account, address relayer) private {
        _issuers[account].relayer = relayer;
        emit RelayerSet(account, relayer);
    }

    /// @dev Revoke `credentialDigest` of `root` as `account`, which has been authenticated (caller or signer).
    function _revoke(
        address account,
        bytes32 root,
        bytes32 credentialDigest,
        bytes32[] calldata proof,
        uint16 reason
    ) private {
        // Ensure the revoker anchored the batch (another issuer's batch of the same root is not its batch)
        // slither-disable-next-line incorrect-equality
        if (_batches[account][root] == 0) revert RegistryBatchNotAnchored(root, account);
        // Ensure the credential is a leaf of the batch
        if (!MerkleProof.verifyCalldata(proof, root, leafOf(credentialDigest))) {
            revert RegistryInvalidProof(root, credentialDigest);
        }
        // Ensure the revocation has a reason
        if (reason == 0) revert RegistryInvalidReason();
        Revocation storage record = _revocations[account][root][credentialDigest];
        uint48 revokedAt = record.revokedAt;
        // Ensure the credential was not revoked before
        if (revokedAt != 0) revert RegistryAlreadyRevoked(root, credentialDigest, revokedAt);

        record.revokedAt = uint48(block.timestamp);
        record.reason = reason;
        emit CredentialRevoked(root, credentialDigest, account, reason);
    }

    /// @dev Revert unless `signature` is `signer`'s (EOA or ERC-1271 wallet) over the typed `structHash`.
    function _checkSignature(address signer, bytes32 structHash, bytes calldata signature) private view {
        // Ensure the signer signed this request for this chain and contract
        if (!SignatureChecker.isValidSignatureNow(signer, _hashTypedDataV4(structHash), signature)) {
            revert RegistryInvalidSignature(signer);
        }
    }

    /// @dev The first slot of `account`'s batch `root`, unpacked (the metadata hash is left zero).
    function _batch(address account, bytes32 root) private view returns (Batch memory anchored) {
        uint256 packed = _batches[account][root];
        anchored.anchoredAt = uint48(packed);
        anchored.count = uint32(packed >> COUNT_SHIFT);
        anchored.mode = AnchorMode(uint8(packed >> MODE_SHIFT));
    }

    /// @dev The status of `account` at the end of second `timestamp`: the current one from its `since` on,
    /// before that the history's.
    function _wasAccreditedAt(address account, uint48 timestamp) private view returns (bool) {
        IssuerState memory state = _issuers[account];
        if (state.since != 0 && timestamp >= state.since) return state.accredited;
        // slither-disable-next-line incorrect-equality
        return _accreditationHistory[account].upperLookup(timestamp) == 1;
    }

    /// @dev `account`'s latest signing key (zero when it never had one).
    function _currentSigningKey(address account) private view returns (bytes32) {
        SigningKey[] storage keys = _signingKeys[account];
        uint256 length = keys.length;
        return length == 0 ? bytes32(0) : keys[length - 1].keyHash;
    }

    /// @dev Make `keyHash` `account`'s signing key from now on. A second change within the same second
    /// replaces the first: a key is accredited "at the end of a second", as the accreditation status is.
    function _setSigningKey(address account, bytes32 keyHash) private {
        SigningKey[] storage keys = _signingKeys[account];
        uint256 length = keys.length;
        uint48 now_ = uint48(block.timestamp);
        if (length != 0 && keys[length - 1].since == now_) {
            keys[length - 1].keyHash = keyHash;
        } else {
            keys.push(SigningKey({keyHash: keyHash, since: now_}));
        }
    }

    /// @dev `account`'s signing key at the end of second `timestamp`: the latest accredited at or before it
    /// (binary search over the history, which is sorted by `since`); zero when none.
    function _signingKeyAt(address account, uint48 timestamp) private view returns (bytes32) {
        SigningKey[] storage keys = _signingKeys[account];
        uint256 low = 0;
        uint256 high = keys.length;
        // invariant: keys[i].since <= timestamp for i < low, and > timestamp for i >= high
        while (low < high) {
            uint256 middle = (low + high) / 2;
            if (keys[middle].since > timestamp) {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        return low == 0 ? bytes32(0) : keys[low - 1].keyHash;
    }
}
