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
 * @dev Storage is laid out for cheap anchoring: a batch's issuer, time and count share one slot, and
 * its metadata hash takes a second slot only when it is nonzero. Accreditation history is a
 * {Checkpoints-Trace208} per issuer keyed by block timestamp (1 accredited, 0 suspended), and is the
 * only record of the status: the current status is its latest checkpoint, so a status change writes
 * one checkpoint and nothing else. A status change and an anchoring in the same second are judged by
 * the status at the end of that second. The name is written only when it is new or changed.
 * There are no external calls apart from the ERC-1271 `staticcall` of {SignatureChecker}.
 */
contract CredentialRegistry is ICredentialRegistry, EIP712, Nonces {
    using Checkpoints for Checkpoints.Trace208;

    /// @dev The EIP-712 type of a signed anchoring request.
    bytes32 private constant ANCHOR_TYPEHASH =
        keccak256(
            "Anchor(bytes32 root,uint32 count,bytes32 metadataHash,address issuer,uint256 nonce,uint256 deadline)"
        );

    /// @dev The EIP-712 type of a signed revocation request.
    bytes32 private constant REVOKE_TYPEHASH =
        keccak256(
            "Revoke(bytes32 root,bytes32 credentialDigest,uint16 reason,address issuer,uint256 nonce,uint256 deadline)"
        );

    address private immutable _governor;

    mapping(address account => string name) private _issuerNames;
    mapping(address account => Checkpoints.Trace208) private _accreditationHistory;
    mapping(bytes32 root => Batch) private _batches;
    mapping(bytes32 root => mapping(bytes32 credentialDigest => Revocation)) private _revocations;

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
    function accreditIssuer(address account, string calldata name) external onlyGovernor {
        // Ensure the issuer is an account
        if (account == address(0)) revert RegistryInvalidAddress();
        // Ensure the issuer has a name
        if (bytes(name).length == 0) revert RegistryEmptyIssuerName();
        // Ensure the issuer is not accredited already
        if (_isAccredited(account)) revert RegistryIssuerAlreadyAccredited(account);

        if (keccak256(bytes(_issuerNames[account])) != keccak256(bytes(name))) _issuerNames[account] = name;
        // slither-disable-next-line unused-return
        _accreditationHistory[account].push(uint48(block.timestamp), 1);
        emit IssuerAccredited(account, name);
    }

    /// @inheritdoc ICredentialRegistry
    function suspendIssuer(address account) external onlyGovernor {
        // Ensure the issuer is accredited now
        if (!_isAccredited(account)) revert RegistryIssuerNotAccredited(account);

        // slither-disable-next-line unused-return
        _accreditationHistory[account].push(uint48(block.timestamp), 0);
        emit IssuerSuspended(account);
    }

    // ---------------------------------------------------------------- issuing

    /// @inheritdoc ICredentialRegistry
    function anchor(bytes32 root, uint32 count, bytes32 metadataHash) external {
        _anchor(msg.sender, root, count, metadataHash);
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
        _anchor(account, root, count, metadataHash);
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
        bytes32 root,
        bytes32 credentialDigest,
        bytes32[] calldata proof
    ) external view returns (CredentialStatus memory status) {
        status.included = MerkleProof.verifyCalldata(proof, root, leafOf(credentialDigest));
        status.blockNumber = uint64(block.number);
        status.blockTimestamp = uint48(block.timestamp);
        Batch storage anchored = _batches[root];
        address account = anchored.issuer;
        if (account != address(0)) {
            uint48 anchoredAt = anchored.anchoredAt;
            status.anchored = true;
            status.issuer = account;
            status.issuerName = _issuerNames[account];
            status.anchoredAt = anchoredAt;
            status.issuerAccreditedAtAnchor = _wasAccreditedAt(account, anchoredAt);
            status.issuerAccreditedNow = _isAccredited(account);
        }
        Revocation memory revoked = _revocations[root][credentialDigest];
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
        (bool exists, uint48 since, uint208 status) = _accreditationHistory[account].latestCheckpoint();
        return Issuer({name: _issuerNames[account], accredited: exists && status == 1, since: exists ? since : 0});
    }

    /// @inheritdoc ICredentialRegistry
    function wasAccreditedAt(address account, uint48 timestamp) external view returns (bool) {
        return _wasAccreditedAt(account, timestamp);
    }

    /// @inheritdoc ICredentialRegistry
    function batch(bytes32 root) external view returns (Batch memory) {
        return _batches[root];
    }

    /// @inheritdoc ICredentialRegistry
    function revocation(bytes32 root, bytes32 credentialDigest) external view returns (Revocation memory) {
        return _revocations[root][credentialDigest];
    }

    /// @inheritdoc ICredentialRegistry
    function nonces(address owner) public view override(ICredentialRegistry, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    // ---------------------------------------------------------------- internal

    /// @dev Anchor `root` as `account`, which has been authenticated (caller or signer).
    function _anchor(address account, bytes32 root, uint32 count, bytes32 metadataHash) private {
        // Ensure the issuer is accredited now
        if (!_isAccredited(account)) revert RegistryIssuerNotAccredited(account);
        // Ensure the root is not zero
        if (root == bytes32(0)) revert RegistryInvalidRoot();
        // Ensure the batch holds credentials
        if (count == 0) revert RegistryEmptyBatch();
        Batch storage record = _batches[root];
        address anchoredBy = record.issuer;
        // Ensure the root was not anchored before, by anyone
        if (anchoredBy != address(0)) revert RegistryBatchAlreadyAnchored(root, anchoredBy);

        // issuer, anchoredAt and count share one slot; the metadata slot is written only when used
        record.issuer = account;
        record.anchoredAt = uint48(block.timestamp);
        record.count = count;
        if (metadataHash != bytes32(0)) record.metadataHash = metadataHash;
        emit BatchAnchored(root, account, count, metadataHash, msg.sender);
    }

    /// @dev Revoke `credentialDigest` of `root` as `account`, which has been authenticated (caller or signer).
    function _revoke(
        address account,
        bytes32 root,
        bytes32 credentialDigest,
        bytes32[] calldata proof,
        uint16 reason
    ) private {
        address anchoredBy = _batches[root].issuer;
        // Ensure the batch was anchored
        if (anchoredBy == address(0)) revert RegistryBatchNotAnchored(root);
        // Ensure the revoker is the issuer that anchored the batch
        if (anchoredBy != account) revert RegistryUnauthorizedRevoker(root, anchoredBy, account);
        // Ensure the credential is a leaf of the batch
        if (!MerkleProof.verifyCalldata(proof, root, leafOf(credentialDigest))) {
            revert RegistryInvalidProof(root, credentialDigest);
        }
        // Ensure the revocation has a reason
        if (reason == 0) revert RegistryInvalidReason();
        Revocation storage record = _revocations[root][credentialDigest];
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

    /// @dev Whether `account` is accredited now: the value of its latest checkpoint.
    function _isAccredited(address account) private view returns (bool) {
        return _accreditationHistory[account].latest() == 1;
    }

    /// @dev The status of `account` at the end of second `timestamp`.
    function _wasAccreditedAt(address account, uint48 timestamp) private view returns (bool) {
        return _accreditationHistory[account].upperLookup(timestamp) == 1;
    }
}
