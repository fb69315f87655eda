// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/**
 * @title ICredentialRegistry
 * @notice Anchors verifiable micro-credentials of the IT Hub Hoogeveen.
 *
 * An accredited issuer (an education partner) anchors one Merkle root per cohort. Each leaf commits
 * to one credential digest, in the format of OpenZeppelin's StandardMerkleTree with the single
 * value type `bytes32`:
 *
 *     leaf = keccak256(bytes.concat(keccak256(abi.encode(credentialDigest))))
 *
 * with sorted-pair hashing (`MerkleProof.verify`). Nothing personal is stored: roots, digests,
 * revocations and the names of partner organisations only.
 *
 * Issuers are accredited and suspended only by the governor, which after deployment is the
 * stichting's board contract (`IHubBoard`). The accreditation history is kept, so a verifier can ask
 * whether an issuer was accredited at the moment a batch was anchored: credentials anchored while a
 * partner was accredited stay valid after a later suspension; anchoring while suspended is refused.
 *
 * The governor also accredits each issuer's credential signing key: the `keyHash` of its Ed25519 key,
 * keccak256(0xed01 ‖ the 32-byte public key), i.e. of the key's Multikey bytes (docs/credential-format.md).
 * Accrediting names the key; only the governor replaces it ({rotateIssuerKey}). The key history is kept
 * too, so a verifier can ask which key was accredited when a batch was anchored ({signingKeyAt}, and
 * {verify}): a credential signed with a key rotated out later stays valid, one signed with a key the
 * issuer did not hold at anchoring does not.
 *
 * Batches are keyed by (issuer, root): a root anchored by one issuer says nothing about, and cannot block,
 * the same root anchored by another. Nobody can take or squat a partner's cohort by anchoring its root first
 * (e.g. after seeing it in the mempool): the partner's own anchoring still succeeds, and a verifier asks
 * the registry about the issuer the credential names.
 *
 * Issuers anchor in one of three ways, recorded per batch ({AnchorMode}):
 * - `Direct`: the issuer sends {anchor} itself;
 * - `Signed`: anyone relays the issuer's EIP-712 `Anchor` signature ({anchorBySig}), checked on chain, bound
 *   to the chain id and this contract (EIP-712 domain), with a deadline and the issuer's nonce;
 * - `Relayed`: the account the issuer authorised as its relayer ({setRelayer}, {setRelayerBySig}, one
 *   authorisation stored in the issuer's own slot) sends {anchorFor}. No signature is checked on chain;
 *   the issuer's `Anchor` signature travels in each credential's proof and a verifier checks it offline.
 *   A verifier must require that signature for a `Relayed` batch: the relayer is trusted to pay and to
 *   submit, not to speak for the issuer.
 * This is the hub's path: partners need no ether and the anchoring transaction costs no more than a
 * bare document store's `issue(root)`.
 */
interface ICredentialRegistry {
    /// @notice How a batch was anchored (`None`: not anchored).
    enum AnchorMode {
        None,
        Direct, // the issuer sent the transaction
        Signed, // a relayer sent the issuer's EIP-712 signature, checked on chain
        Relayed // the issuer's authorised relayer sent it; the issuer's signature is in the proof, checked offline
    }

    /// @notice A partner organisation that may be (or has been) accredited to issue.
    struct Issuer {
        string name; // the partner organisation, e.g. "Hanzehogeschool Groningen"
        bool accredited; // current status
        uint48 since; // when the current status began (block timestamp)
        address relayer; // the account it authorised to anchor for it with {anchorFor} (zero: none)
    }

    /// @notice One cohort anchored by one issuer (all zero when not anchored).
    struct Batch {
        uint48 anchoredAt; // block timestamp of the anchoring, nonzero once anchored
        uint32 count; // number of credentials in the cohort (informational)
        AnchorMode mode; // how it was anchored
        bytes32 metadataHash; // optional hash of off-chain batch metadata (zero when absent)
    }

    /// @notice An issuer's signing key, accredited by the governor from `since` on.
    struct SigningKey {
        bytes32 keyHash; // keccak256(0xed01 ‖ Ed25519 public key), the key's Multikey bytes hashed
        uint48 since; // block timestamp from which it is the issuer's key
    }

    /// @notice The revocation of one credential of one batch.
    struct Revocation {
        uint48 revokedAt; // block timestamp, zero when not revoked
        uint16 reason; // a reason code chosen by the issuer (see docs/), nonzero
    }

    /// @notice Everything a verifier needs about one credential, answered by a single `eth_call`.
    struct CredentialStatus {
        bool included; // the Merkle proof shows the credential digest is a leaf of `root`
        bool anchored; // `root` was anchored by `issuer`
        address issuer; // the issuer asked about (zero when not anchored)
        string issuerName; // the name the board accredited it under (empty when not anchored)
        uint48 anchoredAt; // when `root` was anchored (zero when not anchored)
        AnchorMode anchorMode; // how (Relayed: the issuer's signature must be checked offline)
        bool issuerAccreditedAtAnchor; // the issuer was accredited at `anchoredAt`
        bool issuerAccreditedNow; // the issuer is accredited now (informational)
        bool revoked; // the credential was revoked within `root`
        uint48 revokedAt; // when it was revoked (zero when not revoked)
        uint16 revocationReason; // the issuer's reason code (zero when not revoked)
        uint64 blockNumber; // the block this answer was read at
        uint48 blockTimestamp; // its timestamp: the verifier's "now" for validity windows
        bytes32 signingKeyHash; // the signing key accredited for `issuer` at `anchoredAt` (zero: none, or not anchored)
    }

    // ---------------------------------------------------------------- events

    /// @notice The governor accredited `issuer` under `name`, with the signing key `keyHash`.
    event IssuerAccredited(address indexed issuer, string name, bytes32 keyHash);

    /// @notice The governor replaced `issuer`'s signing key `previousKeyHash` by `keyHash`; credentials of
    /// batches anchored before stay bound to the previous key.
    event IssuerKeyRotated(address indexed issuer, bytes32 previousKeyHash, bytes32 keyHash);

    /// @notice The governor suspended `issuer`; what it anchored before stays valid.
    event IssuerSuspended(address indexed issuer);

    /// @notice `issuer` authorised `relayer` to anchor for it with {anchorFor} (zero: withdrew it).
    event RelayerSet(address indexed issuer, address indexed relayer);

    /// @notice `issuer` anchored the cohort `root`; its count, mode and metadata are in {batch}.
    /// @dev Kept small (two topics, no data): it is paid for by every anchoring.
    event BatchAnchored(address indexed issuer, bytes32 indexed root);

    /// @notice `issuer` revoked the credential `credentialDigest` of its cohort `root`.
    event CredentialRevoked(
        bytes32 indexed root,
        bytes32 indexed credentialDigest,
        address indexed issuer,
        uint16 reason
    );

    // ---------------------------------------------------------------- errors

    /// @notice The caller is not the governor (the board) of this registry.
    error RegistryUnauthorizedGovernor(address caller);
    /// @notice The zero address was given where an account is needed.
    error RegistryInvalidAddress();
    /// @notice An issuer's name must not be empty.
    error RegistryEmptyIssuerName();
    /// @notice A signing key hash must not be zero.
    error RegistryInvalidKeyHash();
    /// @notice `keyHash` is already `issuer`'s signing key (a rotation must change it).
    error RegistrySigningKeyUnchanged(address issuer, bytes32 keyHash);
    /// @notice `issuer` is already accredited.
    error RegistryIssuerAlreadyAccredited(address issuer);
    /// @notice `issuer` is not accredited now.
    error RegistryIssuerNotAccredited(address issuer);
    /// @notice A batch root must not be zero.
    error RegistryInvalidRoot();
    /// @notice A batch must hold at least one credential.
    error RegistryEmptyBatch();
    /// @notice `issuer` already anchored `root`.
    error RegistryBatchAlreadyAnchored(bytes32 root, address issuer);
    /// @notice `issuer` never anchored `root` (another issuer's batch of the same root is not its batch).
    error RegistryBatchNotAnchored(bytes32 root, address issuer);
    /// @notice `caller` is not the relayer `issuer` authorised.
    error RegistryUnauthorizedRelayer(address issuer, address caller);
    /// @notice The Merkle proof does not show `credentialDigest` to be a leaf of `root`.
    error RegistryInvalidProof(bytes32 root, bytes32 credentialDigest);
    /// @notice The credential was already revoked at `revokedAt`.
    error RegistryAlreadyRevoked(bytes32 root, bytes32 credentialDigest, uint48 revokedAt);
    /// @notice A revocation needs a nonzero reason code.
    error RegistryInvalidReason();
    /// @notice The signature's deadline `deadline` has passed.
    error RegistryExpiredSignature(uint256 deadline);
    /// @notice The signature is not `signer`'s signature of the request (wrong key, chain, contract or nonce).
    error RegistryInvalidSignature(address signer);

    // ---------------------------------------------------------------- governance

    /// @notice The governor: the only account that may accredit and suspend issuers (the board contract).
    function governor() external view returns (address);

    /**
     * @notice Accredit `issuer` under `name`, with the signing key `keyHash`, from now on. Only the governor.
     * Re-accrediting a suspended issuer names its key again (the same or a new one).
     * @dev Reverts with {RegistryUnauthorizedGovernor}, {RegistryInvalidAddress},
     * {RegistryEmptyIssuerName}, {RegistryInvalidKeyHash} or {RegistryIssuerAlreadyAccredited}.
     * Emits {IssuerAccredited}.
     */
    function accreditIssuer(address issuer, string calldata name, bytes32 keyHash) external;

    /**
     * @notice Make `keyHash` the signing key of the accredited `issuer` from now on. Only the governor.
     * Batches anchored before stay bound to the key accredited when they were anchored.
     * @dev Reverts with {RegistryUnauthorizedGovernor}, {RegistryInvalidKeyHash},
     * {RegistryIssuerNotAccredited} or {RegistrySigningKeyUnchanged}. Emits {IssuerKeyRotated}.
     */
    function rotateIssuerKey(address issuer, bytes32 keyHash) external;

    /**
     * @notice Suspend `issuer` from now on. Only the governor. Batches it anchored before stay valid.
     * @dev Reverts with {RegistryUnauthorizedGovernor} or {RegistryIssuerNotAccredited}. Emits {IssuerSuspended}.
     */
    function suspendIssuer(address issuer) external;

    // ---------------------------------------------------------------- issuing

    /**
     * @notice Anchor the cohort `root` of `count` credentials as the caller, an accredited issuer.
     * @dev Reverts with {RegistryIssuerNotAccredited}, {RegistryInvalidRoot}, {RegistryEmptyBatch} or
     * {RegistryBatchAlreadyAnchored}. Emits {BatchAnchored}.
     */
    function anchor(bytes32 root, uint32 count, bytes32 metadataHash) external;

    /**
     * @notice Anchor a cohort on behalf of `issuer`, which signed the EIP-712 message
     * `Anchor(bytes32 root,uint32 count,bytes32 metadataHash,address issuer,uint256 nonce,uint256 deadline)`
     * with its current nonce. Anyone may submit it and pay the gas.
     * @dev Reverts as {anchor}, and with {RegistryExpiredSignature} or {RegistryInvalidSignature}.
     * Supports ERC-1271 contract wallets through OpenZeppelin's SignatureChecker.
     */
    function anchorBySig(
        bytes32 root,
        uint32 count,
        bytes32 metadataHash,
        address issuer,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /**
     * @notice Anchor the cohort `root` of `count` credentials for `issuer`, as the relayer it authorised.
     * The issuer's EIP-712 `Anchor` signature is not checked here: it travels in the credentials' proofs,
     * and the batch is recorded as {AnchorMode-Relayed} so that verifiers require it. No nonce is used: a
     * root can be anchored once per issuer, so nothing can be replayed.
     * @dev Reverts with {RegistryUnauthorizedRelayer}, and as {anchor}. Emits {BatchAnchored}.
     */
    function anchorFor(address issuer, bytes32 root, uint32 count) external;

    /**
     * @notice Authorise `relayer` to anchor for the caller with {anchorFor}; the zero address withdraws it.
     * Any account may do this (it is accredited or not); only one relayer at a time.
     * @dev Emits {RelayerSet}.
     */
    function setRelayer(address relayer) external;

    /**
     * @notice {setRelayer} on behalf of `issuer`, which signed the EIP-712 message
     * `SetRelayer(address issuer,address relayer,uint256 nonce,uint256 deadline)` with its current nonce.
     * @dev Reverts with {RegistryExpiredSignature} or {RegistryInvalidSignature}. Emits {RelayerSet}.
     */
    function setRelayerBySig(address issuer, address relayer, uint256 deadline, bytes calldata signature) external;

    /**
     * @notice Revoke the credential `credentialDigest` of the caller's cohort `root`, with a nonzero reason
     * code, proving inclusion with `proof`. Suspended issuers may still revoke what they issued.
     * @dev Reverts with {RegistryBatchNotAnchored}, {RegistryInvalidProof},
     * {RegistryInvalidReason} or {RegistryAlreadyRevoked}. Emits {CredentialRevoked}.
     */
    function revoke(bytes32 root, bytes32 credentialDigest, bytes32[] calldata proof, uint16 reason) external;

    /**
     * @notice Revoke on behalf of `issuer`, which signed the EIP-712 message
     * `Revoke(bytes32 root,bytes32 credentialDigest,uint16 reason,address issuer,uint256 nonce,uint256 deadline)`.
     * @dev Reverts as {revoke}, and with {RegistryExpiredSignature} or {RegistryInvalidSignature}.
     */
    function revokeBySig(
        bytes32 root,
        bytes32 credentialDigest,
        bytes32[] calldata proof,
        uint16 reason,
        address issuer,
        uint256 deadline,
        bytes calldata signature
    ) external;

    // ---------------------------------------------------------------- views

    /// @notice The verifier's question in one call: did `issuer` anchor `root`, when and how, was it
    /// accredited then and with which signing key, is the credential a leaf of `root`, and did `issuer`
    /// revoke it? Never reverts.
    function verify(
        address issuer,
        bytes32 root,
        bytes32 credentialDigest,
        bytes32[] calldata proof
    ) external view returns (CredentialStatus memory);

    /// @notice The leaf that commits to `credentialDigest` (StandardMerkleTree, value type bytes32).
    function leafOf(bytes32 credentialDigest) external pure returns (bytes32);

    /// @notice The issuer's name and current status (empty name when never accredited).
    function issuer(address account) external view returns (Issuer memory);

    /// @notice Whether `account` was accredited at `timestamp` (its status at the end of that second).
    function wasAccreditedAt(address account, uint48 timestamp) external view returns (bool);

    /// @notice `account`'s signing key accredited at `timestamp` (at the end of that second; zero when none).
    /// A key stays the issuer's key while it is suspended: {wasAccreditedAt} says whether it could issue.
    function signingKeyAt(address account, uint48 timestamp) external view returns (bytes32);

    /// @notice Every signing key the governor accredited for `account`, oldest first (the last is the current).
    function signingKeys(address account) external view returns (SigningKey[] memory);

    /// @notice The batch `root` anchored by `issuer` (zero `anchoredAt` when it did not anchor it).
    function batch(address issuer, bytes32 root) external view returns (Batch memory);

    /// @notice `issuer`'s revocation of `credentialDigest` in its batch `root` (zero `revokedAt` when not revoked).
    function revocation(
        address issuer,
        bytes32 root,
        bytes32 credentialDigest
    ) external view returns (Revocation memory);

    /// @notice The next nonce of `owner` for signed requests (OpenZeppelin Nonces).
    function nonces(address owner) external view returns (uint256);
}
