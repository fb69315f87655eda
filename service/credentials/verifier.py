"""The verifier: one credential in, a report of ordered, named checks out.

Used by the API, the CLI and the web page. It needs the credential and, for the chain checks, a
`ChainFacts` provider (service.chain.registry.RegistryChainFacts asks a node with one `eth_call`);
everything else is computed offline. The algorithm is specified in docs/credential-format.md.

Checks, in report order (a check that does not apply is left out of the report):

    format             the input is a JSON credential of this format, within the size limit
    integrity          keccak256(JCS(body without proof)) equals proof.credentialDigest
    disclosures        every disclosure in proof.disclosures matches a digest in the body
    issuer_signature_di the issuer's DataIntegrityProof (eddsa-rdfc-2022) verifies over the body with the key
                       its verificationMethod names (`<issuer.id>#<publicKeyMultibase>`: offline, no DID fetch)
    merkle_inclusion   proof.merklePath leads from the digest's leaf to proof.merkleRoot
    network            proof.chainId/registry are the verifier's configured chain and registry
    anchored           the registry has proof.merkleRoot as an anchored batch
    issuer_binding     the account that anchored it is proof.issuerAddress and the document's issuer,
                       and the document's issuer name is the name the board accredited that account under, its
                       DID ending in :issuers:<slug of that name>
    anchor_transaction proof.transactionHash (a hint, not anchored) is a transaction of this chain whose
                       receipt holds the registry's BatchAnchored event for this root and issuer; and an
                       anchoring the chain records as relayed carries the issuer's anchorSignature
    issuer_signature   (only when proof.anchorSignature is present) the issuer signed the anchoring
    issuer_accredited  the issuer was accredited at the moment of anchoring
    issuer_key_accredited the key that signed the DataIntegrityProof is the key the board had accredited for the
                       anchoring issuer when the cohort was anchored (its multikey.key_hash, from the registry)
    not_revoked        the issuer has not revoked this credential
    validity_window    validFrom <= now < validUntil, now by this verifier's clock (or a moment given)
    recipient          (only when an email is given) the disclosed identifier is that email

`valid` is true only when every check in the report passed.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any, NamedTuple, Protocol, runtime_checkable

import orjson
from pydantic import Field, TypeAdapter, ValidationError

from service.credentials import integrity, multikey
from service.credentials.canonical import (
    MAX_CREDENTIAL_BYTES,
    InputError,
    canonical_json,
    credential_digest,
    parse_json,
    to_hex32,
)
from service.credentials.disclosure import Disclosure
from service.credentials.document import (
    IDENTIFIER_CLAIM,
    CredentialModel,
    FormatError,
    IdentityObjectModel,
    format_datetime,
    identifier_matches,
    issuer_slug,
    parse_datetime,
    validate_credential,
)
from service.credentials.facts import (
    AnchorMode,
    ChainFacts,
    ChainSnapshot,
    ChainUnavailable,
    RegistryTrust,
    revocation_reason,
)
from service.credentials.merkle import verify_inclusion
from service.credentials.receipt import AnchorReceipt
from service.credentials.signature import AnchorRequest


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_RUN = "not_run"


CHECK_TITLES: dict[str, str] = {
    "format": "Format",
    "integrity": "Integrity",
    "disclosures": "Disclosures",
    "issuer_signature_di": "Signed by the issuer's key",
    "merkle_inclusion": "Merkle inclusion",
    "network": "Chain and registry",
    "anchored": "Anchored on chain",
    "issuer_binding": "Anchored by the issuer",
    "anchor_transaction": "Anchoring transaction",
    "issuer_signature": "Issuer's anchoring signature",
    "issuer_accredited": "Issuer accredited",
    "issuer_key_accredited": "Key accredited by the board at anchoring",
    "not_revoked": "Not revoked",
    "validity_window": "Validity period",
    "recipient": "Recipient",
}
CHECK_ORDER = tuple(CHECK_TITLES)


class Check(NamedTuple):
    """One named check: passed, failed or not run, and why (a named tuple: a report makes a dozen)."""

    name: str
    status: Status
    reason: str

    @property
    def title(self) -> str:
        return CHECK_TITLES[self.name]

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED


@dataclass(frozen=True)
class CredentialSummary:
    """What the verified document says (disclosed claims included), for display."""

    id: str
    name: str
    issuer_name: str
    issuer_id: str
    achievement_id: str
    programme: str
    ects: float
    eqf_level: str
    theme: str
    valid_from: str
    valid_until: str | None
    disclosed: dict[str, Any] = field(default_factory=dict)
    signing_key: str | None = None  # publicKeyMultibase of the key whose DataIntegrityProof verified


@dataclass(frozen=True)
class AnchorSummary:
    """Where the credential says it is anchored, and what the chain answered (when it was asked).

    `transaction_hash` and `anchored_in_block` are what the chain confirmed (the receipt of the proof's
    transactionHash holds the registry's BatchAnchored event for this root and issuer); both are None
    when that was not confirmed. `claimed_transaction_hash` is what the document says, unchecked.
    """

    chain_id: int
    registry: str
    merkle_root: str
    credential_digest: str
    transaction_hash: str | None
    claimed_transaction_hash: str
    issuer: str
    relayed: bool
    anchored_in_block: int | None = None
    block_number: int | None = None
    block_timestamp: int | None = None
    anchored_at: int | None = None
    issuer_accredited_now: bool | None = None
    revoked_at: int | None = None
    revocation_reason: int | None = None


@dataclass(frozen=True)
class VerificationReport:
    """The verifier's answer. JSON-serialisable through `to_json()`."""

    valid: bool
    checks: tuple[Check, ...]
    checked_at: str  # the moment the validity window was judged at
    clock: str  # "local" (this verifier's clock) or "given" (by the caller); chain time is in anchor
    credential: CredentialSummary | None = None
    anchor: AnchorSummary | None = None

    def check(self, name: str) -> Check:
        """The check called `name`.

        :raises KeyError: when the report has no such check.
        """
        for item in self.checks:
            if item.name == name:
                return item
        raise KeyError(name)

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(item.name for item in self.checks if item.status is Status.FAILED)

    @property
    def first_failure(self) -> str | None:
        return self.failed[0] if self.failed else None

    @property
    def usable(self) -> bool:
        """Whether the input was a credential of this format at all (the `format` check passed)."""
        return self.check("format").passed

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["checks"] = [
            {"name": item.name, "title": item.title, "status": item.status.value, "reason": item.reason}
            for item in self.checks
        ]
        return data

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False, sort_keys=False)


def _now() -> datetime:
    """This verifier's clock: what the validity window is judged by (a seam tests move, as they move chain time)."""
    return datetime.now(UTC)


@lru_cache(maxsize=1024)  # a pure function; the verifier writes the same anchoring times again and again
def _when(seconds: int) -> str:
    return format_datetime(datetime.fromtimestamp(seconds, UTC))


class _Report:
    """Collects checks in CHECK_ORDER."""

    def __init__(self) -> None:
        self.checks: dict[str, Check] = {}

    def add(self, name: str, status: Status, reason: str) -> None:
        self.checks[name] = Check(name, status, reason)

    def passed(self, name: str, reason: str) -> None:
        self.add(name, Status.PASSED, reason)

    def failed(self, name: str, reason: str) -> None:
        self.add(name, Status.FAILED, reason)

    def not_run(self, name: str, reason: str) -> None:
        self.add(name, Status.NOT_RUN, reason)

    def ok(self, name: str) -> bool:
        return name in self.checks and self.checks[name].passed

    def ordered(self) -> tuple[Check, ...]:
        return tuple(self.checks[name] for name in CHECK_ORDER if name in self.checks)


def _load(source: bytes | str | Mapping[str, Any], max_bytes: int) -> Any:
    if isinstance(source, bytes | bytearray | str):
        return parse_json(source, max_bytes=max_bytes)
    size = len(canonical_json(dict(source)))  # checks depth and JSON types first, without recursion
    if size > max_bytes:
        raise InputError(f"input is larger than the limit of {max_bytes} bytes (MAX_CREDENTIAL_BYTES)")
    return copy.deepcopy(dict(source))


# (issuer address, root, credential digest, Merkle path): the registry's view, asked about the proof's issuer
Question = tuple[str, bytes, bytes, tuple[bytes, ...]]


@runtime_checkable
class ReceiptLookup(Protocol):
    """What gives the verifier a transaction's receipt (RegistryChainFacts has this method)."""

    def anchor_receipt(self, transaction_hash: str) -> AnchorReceipt:
        """:raises ChainUnavailable: when the chain cannot be asked."""
        ...


def verify_credential(
    source: bytes | str | Mapping[str, Any],
    chain: ChainFacts | None = None,
    *,
    now: datetime | None = None,
    recipient_email: str | None = None,
    max_bytes: int = MAX_CREDENTIAL_BYTES,
) -> VerificationReport:
    """Verify one credential (raw JSON text/bytes, or an already parsed object).

    :param chain: the chain facts provider; without one the chain checks are not run (so the
        credential is not shown valid).
    :param now: the moment to judge the validity window at; by default this machine's clock (never the
        chain's latest block, which on a chain that mines only on transactions can be hours old).
    :param recipient_email: when given, adds the `recipient` check.
    :returns: the report; this function does not raise on bad input, it reports it.
    """
    verification = Verification(source, chain, now=now, recipient_email=recipient_email, max_bytes=max_bytes)
    answer: ChainSnapshot | ChainUnavailable | None = None
    receipt: AnchorReceipt | ChainUnavailable | None = None
    if verification.question is not None and chain is not None:
        try:
            answer = chain(*verification.question)
        except ChainUnavailable as exc:
            answer = exc
        if isinstance(answer, ChainUnavailable):
            receipt = answer  # the chain checks are not run: no need to ask again
        elif not isinstance(chain, ReceiptLookup):
            receipt = ChainUnavailable("this chain provider cannot look up transaction receipts")
        else:
            try:
                receipt = chain.anchor_receipt(verification.transaction_hash)
            except ChainUnavailable as exc:
                receipt = exc
    return verification.finish(answer, receipt)


class Verification:
    """verify_credential in two steps, for callers that ask the chain their own way (the API asks with
    asyncio I/O, from its per-block cache).

    Constructing it runs every offline check; `question` is then what the registry's `verify` view must
    be asked, or None when nothing is to be asked (not a credential, no chain, anchored elsewhere, a
    changed document); with a question, the receipt of `transaction_hash` is to be looked up too.
    `finish(answer, receipt)` runs the chain checks with the answers and returns the report.
    `chain` is only read for its chain id, registry and trust here, never called.
    """

    def __init__(
        self,
        source: bytes | str | Mapping[str, Any],
        chain: ChainFacts | None = None,
        *,
        now: datetime | None = None,
        recipient_email: str | None = None,
        max_bytes: int = MAX_CREDENTIAL_BYTES,
    ) -> None:
        self.now = now
        self.recipient_email = recipient_email
        self.question: Question | None = None
        self.transaction_hash = ""
        self._report = report = _Report()
        self._document: dict[str, Any] = {}
        self._model: CredentialModel | None = None
        self._disclosed: dict[str, Any] = {}
        self._signing_key: bytes | None = None
        try:
            document = _load(source, max_bytes)
            model = validate_credential(document)
            digest = credential_digest(document)  # InputError for what JCS cannot write (a lone surrogate)
        except (InputError, FormatError) as exc:
            report.failed("format", str(exc))
            return
        report.passed("format", "an OpenBadgeCredential with a MerkleAnchor2026 proof")
        self._signing_key = _check_integrity_proof(report, document, model)
        self._document, self._model = document, model
        proof = model.anchor_proof
        self.transaction_hash = proof.transactionHash
        root = _bytes32(proof.merkleRoot)
        path = tuple(_bytes32(node) for node in proof.merklePath)

        # integrity: the body is what was anchored
        digest_hex = to_hex32(digest)
        if digest_hex == proof.credentialDigest:
            report.passed("integrity", f"the body's digest is {digest_hex}")
        else:
            report.failed(
                "integrity",
                f"the body's digest is {digest_hex}, but the proof names "
                f"{proof.credentialDigest}: the document was changed after issuing",
            )

        self._disclosed = _check_disclosures(report, document, model)

        # Merkle inclusion, offline
        if not report.ok("integrity"):
            report.not_run("merkle_inclusion", "the document does not match its digest")
        elif verify_inclusion(root, digest, path):
            hashes = "1 hash" if len(path) == 1 else f"{len(path)} hashes"
            report.passed("merkle_inclusion", f"a path of {hashes} leads to root {proof.merkleRoot}")
        else:
            report.failed(
                "merkle_inclusion", f"the Merkle path does not lead from the credential to root {proof.merkleRoot}"
            )

        if _check_network(report, model, chain):
            self.question = (proof.issuerAddress, root, digest, path)

    def finish(
        self,
        answer: ChainSnapshot | ChainUnavailable | None = None,
        receipt: AnchorReceipt | ChainUnavailable | None = None,
    ) -> VerificationReport:
        """The report, with `answer` (the registry's answer to `question`, or why it could not be had) and
        `receipt` (the chain's receipt of `transaction_hash`, or why it could not be had).

        :raises TypeError: when there is a question and no answer or no receipt.
        """
        report, model = self._report, self._model
        if model is None:  # not a credential of this format
            for name in CHECK_ORDER[1:]:
                if name not in ("issuer_signature", "recipient") or (name == "recipient" and self.recipient_email):
                    report.not_run(name, "the input is not a credential in this format")
            clock_now = self.now or _now()
            return VerificationReport(
                valid=False,
                checks=report.ordered(),
                checked_at=format_datetime(clock_now),
                clock="given" if self.now else "local",
            )
        snapshot: ChainSnapshot | None = None
        confirmed: AnchorReceipt | None = None
        if self.question is not None:
            if answer is None or receipt is None:
                raise TypeError("Verification.finish needs the registry's answer and the receipt")
            if isinstance(answer, ChainUnavailable):
                for name in CHAIN_CHECKS:
                    report.not_run(name, f"the chain could not be asked: {answer}")
            else:
                snapshot = answer
                if report.ok("merkle_inclusion") and not snapshot.status.included:
                    report.failed("merkle_inclusion", "the registry's verify view finds the credential not included")
                _check_chain(report, model, snapshot)
                _check_key_accredited(report, snapshot, self._signing_key)
                confirmed = _check_transaction(report, model, snapshot, receipt)
        _check_signature(report, model)
        if (
            snapshot is not None
            and snapshot.status.anchor_mode == AnchorMode.RELAYED
            and model.anchor_proof.anchorSignature is None
        ):
            report.failed(
                "issuer_signature",
                "the issuer's relayer anchored this batch without an on-chain "
                "signature check, and the proof carries no anchorSignature",
            )

        # validity window: by this verifier's clock (chain time says when things happened on chain, not now)
        if self.now is not None:
            moment, clock = self.now, "given"
        else:
            moment, clock = _now(), "local"
        _check_validity(report, model, moment, clock)

        if self.recipient_email is not None:
            if IDENTIFIER_CLAIM not in self._disclosed:
                report.not_run(
                    "recipient",
                    "this copy does not disclose the recipient identifier (the holder "
                    "withheld it), so no email address can be checked",
                )
            elif identifier_matches(self._disclosed[IDENTIFIER_CLAIM], self.recipient_email):
                report.passed("recipient", "issued to the email address given")
            else:
                report.failed("recipient", "not issued to the email address given")

        checks = report.ordered()
        return VerificationReport(
            valid=all(item.passed for item in checks),
            checks=checks,
            checked_at=format_datetime(moment),
            clock=clock,
            credential=_summary(model, self._disclosed, self._signing_key),
            anchor=_anchor_summary(model, snapshot, confirmed),
        )


def _bytes32(text: str) -> bytes:
    """The 32 bytes of a "0x" + 64 hex digits string the format check has already matched."""
    return bytes.fromhex(text[2:])


_IDENTIFIERS: TypeAdapter[list[IdentityObjectModel]] = TypeAdapter(
    Annotated[list[IdentityObjectModel], Field(min_length=1)]
)


def _check_disclosures(report: _Report, document: dict[str, Any], model: CredentialModel) -> dict[str, Any]:
    digests = set(model.credentialSubject.disclosureDigests)
    subject = document["credentialSubject"]
    disclosed: dict[str, Any] = {}
    for index, item in enumerate(model.anchor_proof.disclosures):
        try:
            disclosure = Disclosure.from_json(item)
        except ValueError as exc:
            report.failed("disclosures", f"disclosure {index + 1}: {exc}")
            return {}
        if disclosure.name in subject:
            report.failed(
                "disclosures", f"disclosure {index + 1} ({disclosure.name}) would replace a claim of the anchored body"
            )
            return {}
        if disclosure.name in disclosed:
            report.failed("disclosures", f"disclosure {index + 1} ({disclosure.name}) discloses a claim twice")
            return {}
        if disclosure.digest not in digests:
            report.failed(
                "disclosures",
                f"disclosure {index + 1} ({disclosure.name}) matches no digest in the "
                "credential: it was changed or does not belong to it",
            )
            return {}
        if disclosure.name == IDENTIFIER_CLAIM:
            try:
                _IDENTIFIERS.validate_python(disclosure.value, strict=True)
            except ValidationError:
                report.failed(
                    "disclosures",
                    f"disclosure {index + 1} (identifier) is not a list of hashed email IdentityObjects (section 2)",
                )
                return {}
        disclosed[disclosure.name] = disclosure.value
    if disclosed:
        report.passed("disclosures", f"{len(disclosed)} disclosed, each matching its digest: {', '.join(disclosed)}")
    else:
        report.passed("disclosures", "no claims disclosed")
    return disclosed


CHAIN_CHECKS = (
    "anchored",
    "issuer_binding",
    "anchor_transaction",
    "issuer_accredited",
    "issuer_key_accredited",
    "not_revoked",
)


class _SignatureCache:
    """The outcome of verifying a Data Integrity proof, by (SHA-256 of the body's JSON, the proof, the key).

    The body's JSON (sorted keys; 15 and 15.0 differ, though JCS writes both "15") fixes what the proof was
    verified over, so an outcome holds for every copy with the same body, proof and key: a shared credential verified
    again and again canonicalizes its RDF once (PyLD costs milliseconds per credential). Bounded, least
    recently used first out; thread-safe.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._items: OrderedDict[tuple[bytes, str, bytes], bool | str] = OrderedDict()
        self._lock = threading.Lock()

    def outcome(self, document: dict[str, Any], proof: dict[str, Any], public: bytes) -> bool | str:
        """True/False: the signature verifies or not; a string: why it cannot be checked."""
        # orjson keeps 15 and 15.0 apart as json does, at a fraction of its cost
        digest = hashlib.sha256(orjson.dumps(integrity.unsecured(document), option=orjson.OPT_SORT_KEYS)).digest()
        key = (digest, orjson.dumps(proof, option=orjson.OPT_SORT_KEYS).decode("utf-8"), public)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        try:
            result: bool | str = integrity.verify(document, proof, public)
        except integrity.IntegrityError as exc:
            result = str(exc)
        with self._lock:
            self._items[key] = result
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return result


SIGNATURES = _SignatureCache()


def _check_integrity_proof(report: _Report, document: dict[str, Any], model: CredentialModel) -> bytes | None:
    """The `issuer_signature_di` check; the raw public key that signed, when the proof verified."""
    proof = model.integrity_proof
    if proof is None:
        report.failed("issuer_signature_di", "the credential carries no DataIntegrityProof of its issuer")
        return None
    did, hash_sign, fragment = proof.verificationMethod.partition("#")
    if did != model.issuer.id or not hash_sign:
        report.failed(
            "issuer_signature_di",
            f"the proof's verificationMethod {proof.verificationMethod!r:.200} is not a key of the issuer "
            f"{model.issuer.id} (<issuer id>#<publicKeyMultibase>)",
        )
        return None
    try:
        public = multikey.decode_public(fragment)
    except multikey.MultikeyError as exc:
        report.failed("issuer_signature_di", f"the verificationMethod's fragment is not an Ed25519 Multikey: {exc}")
        return None
    raw_proof = next(item for item in document["proof"] if item.get("type") == integrity.PROOF_TYPE)
    verified = SIGNATURES.outcome(document, raw_proof, public)
    if isinstance(verified, str):
        report.failed("issuer_signature_di", f"the DataIntegrityProof cannot be checked: {verified}")
        return None
    fingerprint = multikey.short_fingerprint(fragment)
    if not verified:
        report.failed(
            "issuer_signature_di",
            f"the DataIntegrityProof (eddsa-rdfc-2022) does not verify with key {fingerprint}: the document "
            "was changed after signing, or another key signed it",
        )
        return None
    report.passed(
        "issuer_signature_di",
        f"signed by key {fragment} of {model.issuer.id} (eddsa-rdfc-2022, created {proof.created})",
    )
    return public


def _check_key_accredited(report: _Report, snapshot: ChainSnapshot, public: bytes | None) -> None:
    status = snapshot.status
    if not status.anchored:
        report.not_run("issuer_key_accredited", "the root is not anchored")
        return
    if public is None:
        report.not_run("issuer_key_accredited", "no issuer signature verified, so no key to compare")
        return
    fingerprint = multikey.short_fingerprint(multikey.encode_public(public))
    when = _when(status.anchored_at)
    if status.signing_key_hash == b"\0" * 32:
        report.failed(
            "issuer_key_accredited",
            f"the board had accredited no signing key for {status.issuer} when it anchored at {when}",
        )
    elif multikey.key_hash(public) != status.signing_key_hash:
        report.failed(
            "issuer_key_accredited",
            f"signed by key {fingerprint}, which is not the key the board had accredited for {status.issuer} "
            f"when it anchored at {when} (key hash {to_hex32(status.signing_key_hash)})",
        )
    else:
        report.passed(
            "issuer_key_accredited",
            f"key {fingerprint} was the key the board had accredited for {status.issuer} when it anchored at {when}",
        )


def _check_network(report: _Report, model: CredentialModel, chain: ChainFacts | None) -> bool:
    """The `network` check; whether the registry is to be asked (the chain checks are left out otherwise)."""
    proof = model.anchor_proof
    did_chain, _ = model.issuer.account
    if chain is None:
        report.not_run("network", "no chain configured: no registry was asked")
        for name in CHAIN_CHECKS:
            report.not_run(name, "no chain configured")
        return False
    try:
        chain_id, registry = chain.chain_id, chain.registry
    except ChainUnavailable as exc:
        for name in ("network", *CHAIN_CHECKS):
            report.not_run(name, f"the chain could not be asked: {exc}")
        return False
    if did_chain != proof.chainId:
        report.failed("network", f"the issuer's account names chain {did_chain}, the proof chain {proof.chainId}")
    elif proof.chainId != chain_id:
        report.failed("network", f"anchored on chain {proof.chainId}; this verifier checks chain {chain_id}")
    elif proof.registry != registry:
        report.failed("network", f"anchored in registry {proof.registry}; this verifier trusts registry {registry}")
    elif chain.trust is RegistryTrust.DOCUMENT:
        report.not_run(
            "network",
            f"no registry configured: the document's own registry {proof.registry} on "
            f"chain {proof.chainId} was asked; anyone can deploy a registry, so name the "
            "hub's registry to rely on the answer",
        )
    elif chain.trust is RegistryTrust.DOCUMENT_ACCEPTED:
        report.passed(
            "network",
            f"chain {chain_id}; registry {registry} taken from the document "
            "and accepted by the caller, not from configuration",
        )
    else:
        report.passed("network", f"chain {chain_id}, registry {registry} (configured)")
    if report.checks["network"].status is Status.FAILED:
        for name in CHAIN_CHECKS:
            report.not_run(name, "anchored elsewhere than the chain and registry this verifier asks")
        return False
    if not report.ok("integrity"):
        for name in CHAIN_CHECKS:
            report.not_run(name, "the document does not match its digest")
        return False
    return True


def _check_chain(report: _Report, model: CredentialModel, snapshot: ChainSnapshot) -> None:
    status = snapshot.status
    proof = model.anchor_proof
    _, did_address = model.issuer.account
    where = f"registry {snapshot.registry} on chain {snapshot.chain_id} (block {snapshot.block_number})"
    if not status.anchored:
        report.failed("anchored", f"root {proof.merkleRoot} is not anchored by {proof.issuerAddress} in {where}")
        for name in ("issuer_binding", "issuer_accredited"):
            report.not_run(name, "the root is not anchored")
    else:
        report.passed("anchored", f"anchored at {_when(status.anchored_at)} in {where}")
        if status.issuer != proof.issuerAddress:
            report.failed("issuer_binding", f"anchored by {status.issuer}, but the proof names {proof.issuerAddress}")
        elif status.issuer != did_address:
            report.failed(
                "issuer_binding", f"anchored by {status.issuer}, but the document's issuer account is {did_address}"
            )
        elif status.issuer_name != model.issuer.name:
            report.failed(
                "issuer_binding",
                f"anchored by {status.issuer}, accredited as {status.issuer_name!r}, "
                f"but the document names the issuer {model.issuer.name!r}",
            )
        elif not model.issuer.id.endswith(":issuers:" + issuer_slug(status.issuer_name)):
            report.failed(
                "issuer_binding",
                f"anchored by {status.issuer}, accredited as {status.issuer_name!r}, whose DID ends in "
                f":issuers:{issuer_slug(status.issuer_name)}, but the document's issuer is {model.issuer.id}",
            )
        else:
            report.passed(
                "issuer_binding", f"anchored by {status.issuer}, the issuer {model.issuer.name!r} of the document"
            )
        if status.issuer_accredited_at_anchor:
            now_text = (
                "still accredited"
                if status.issuer_accredited_now
                else "suspended since; what it anchored before stays valid"
            )
            report.passed("issuer_accredited", f"{status.issuer} was accredited when it anchored ({now_text})")
        else:
            report.failed(
                "issuer_accredited",
                f"{status.issuer} was not accredited when it anchored at {_when(status.anchored_at)}",
            )
    if status.revoked:
        report.failed(
            "not_revoked", f"revoked at {_when(status.revoked_at)}: {revocation_reason(status.revocation_reason)}"
        )
    else:
        report.passed("not_revoked", "not revoked")


def _check_transaction(
    report: _Report, model: CredentialModel, snapshot: ChainSnapshot, receipt: AnchorReceipt | ChainUnavailable
) -> AnchorReceipt | None:
    """The `anchor_transaction` check: the receipt of the proof's transactionHash (a hint outside the
    anchored body) must hold the registry's BatchAnchored event for this root and issuer; when the
    event shows a relayer submitted it, the proof must carry the issuer's anchorSignature. Returns the
    receipt when it confirmed the anchoring."""
    proof = model.anchor_proof
    claimed = proof.transactionHash
    if not snapshot.status.anchored:
        report.not_run("anchor_transaction", "the root is not anchored")
        return None
    if isinstance(receipt, ChainUnavailable):
        report.not_run("anchor_transaction", f"the receipt of {claimed} could not be had: {receipt}")
        return None
    if not receipt.found:
        report.failed(
            "anchor_transaction",
            f"the proof names transaction {claimed}, which chain {snapshot.chain_id} does not know",
        )
        return None
    event = receipt.event_for(snapshot.registry, _bytes32(proof.merkleRoot), proof.issuerAddress)
    if not receipt.succeeded or event is None:
        report.failed(
            "anchor_transaction",
            f"transaction {claimed} did not anchor root {proof.merkleRoot} for "
            f"{proof.issuerAddress} in registry {snapshot.registry}: the proof's "
            "transactionHash is wrong",
        )
        return None
    if event.submitter != event.issuer and proof.anchorSignature is None:
        report.failed(
            "anchor_transaction",
            f"relayer {event.submitter} anchored for {event.issuer} (block "
            f"{event.block_number}), but the proof carries no anchorSignature",
        )
        return None
    how = "directly" if event.submitter == event.issuer else f"through relayer {event.submitter}"
    report.passed(
        "anchor_transaction",
        f"transaction {claimed} in block {event.block_number} anchored this root for {event.issuer} ({how})",
    )
    return receipt


def _check_signature(report: _Report, model: CredentialModel) -> None:
    proof = model.anchor_proof
    signed = proof.anchorSignature
    if signed is None:
        return
    request = AnchorRequest(
        domain_name=signed.domain.name,
        domain_version=signed.domain.version,
        chain_id=proof.chainId,
        registry=proof.registry,
        root=_bytes32(proof.merkleRoot),
        count=signed.count,
        metadata_hash=_bytes32(signed.metadataHash),
        issuer=proof.issuerAddress,
        nonce=signed.nonce,
        deadline=signed.deadline,
    )
    try:
        signer = request.signer(bytes.fromhex(signed.signature[2:]))
    except ValueError as exc:
        report.failed("issuer_signature", str(exc))
        return
    if signer == proof.issuerAddress:
        report.passed("issuer_signature", f"{signer} signed the request to anchor root {proof.merkleRoot}")
    else:
        report.failed(
            "issuer_signature", f"the anchoring request was signed by {signer}, not by the issuer {proof.issuerAddress}"
        )


CLOCK_WORDS = {"local": "by this verifier's clock", "given": "at the moment given to the verifier"}


def _check_validity(report: _Report, model: CredentialModel, moment: datetime, clock: str) -> None:
    valid_from = parse_datetime(model.validFrom)
    valid_until = parse_datetime(model.validUntil) if model.validUntil else None
    at = f"at {format_datetime(moment)} ({CLOCK_WORDS[clock]})"
    if moment < valid_from:
        report.failed("validity_window", f"not yet valid {at}: valid from {model.validFrom}")
    elif valid_until is not None and moment >= valid_until:
        report.failed("validity_window", f"expired {at}: valid until {model.validUntil}")
    else:
        until = f" until {model.validUntil}" if model.validUntil else ", without end"
        report.passed("validity_window", f"valid {at}: from {model.validFrom}{until}")


def _summary(model: CredentialModel, disclosed: dict[str, Any], signing_key: bytes | None) -> CredentialSummary:
    achievement = model.credentialSubject.achievement
    eqf = next(
        item.targetCode
        for item in achievement.alignment
        if item.targetCode and item.targetFramework == "European Qualifications Framework"
    )
    return CredentialSummary(
        id=model.id,
        name=model.name,
        issuer_name=model.issuer.name,
        issuer_id=model.issuer.id,
        achievement_id=achievement.id,
        programme=achievement.name,
        ects=achievement.creditsAvailable,
        eqf_level=eqf,
        theme=achievement.fieldOfStudy,
        valid_from=model.validFrom,
        valid_until=model.validUntil,
        disclosed=disclosed,
        signing_key=multikey.encode_public(signing_key) if signing_key is not None else None,
    )


def _anchor_summary(
    model: CredentialModel, snapshot: ChainSnapshot | None, confirmed: AnchorReceipt | None
) -> AnchorSummary:
    proof = model.anchor_proof
    status = snapshot.status if snapshot else None
    event = confirmed.event_for(proof.registry, _bytes32(proof.merkleRoot), proof.issuerAddress) if confirmed else None
    return AnchorSummary(
        chain_id=proof.chainId,
        registry=proof.registry,
        merkle_root=proof.merkleRoot,
        credential_digest=proof.credentialDigest,
        transaction_hash=event.transaction_hash if event else None,
        claimed_transaction_hash=proof.transactionHash,
        issuer=proof.issuerAddress,
        relayed=event.submitter != event.issuer if event else proof.anchorSignature is not None,
        anchored_in_block=event.block_number if event else None,
        block_number=snapshot.block_number if snapshot else None,
        block_timestamp=snapshot.block_timestamp if snapshot else None,
        anchored_at=status.anchored_at if status and status.anchored else None,
        issuer_accredited_now=status.issuer_accredited_now if status and status.anchored else None,
        revoked_at=status.revoked_at if status and status.revoked else None,
        revocation_reason=status.revocation_reason if status and status.revoked else None,
    )
