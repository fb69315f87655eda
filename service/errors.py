"""Domain errors, in one place, each with its problem type (slug) and title; they know nothing of HTTP.
service.api.problems gives each its HTTP status (STATUS, REVERT_STATUS) and renders it (RFC 9457).

A reverted transaction's custom error becomes a ChainRejected with the error's name and arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Self

from eth_utils import is_hex_address, to_checksum_address

from service.chain.errors import DecodedRevert

PROBLEM_BASE = "https://ithub-hoogeveen.nl/problems/"


class HubError(Exception):
    """Base of the errors a client can be told about."""

    slug: str = "bad-request"
    title: str = "Bad request"

    # What a page words in its reader's language (service.pages.cohort_refusals); never part of the problem details
    code: str | None = None
    values: Mapping[str, Any] = MappingProxyType({})

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def coded(self, code: str, **values: Any) -> Self:
        """This error with a code and the values a page needs to word it (the API sends detail and extra)."""
        self.code, self.values = code, values
        return self

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.slug


class InvalidInput(HubError):
    slug, title = "invalid-input", "The request is not valid"


class PayloadTooLarge(HubError):
    slug, title = "payload-too-large", "The request body is too large"


class NotJson(HubError):
    slug, title = "not-json", "The body is not JSON"


class UnsupportedMediaType(HubError):
    slug, title = "unsupported-media-type", "Unsupported media type"


class UnreadablePdf(HubError):
    """A body sent as application/pdf that is not a PDF, or one that cannot be read."""

    slug, title = "unreadable-pdf", "The PDF cannot be read"


class NoEmbeddedCredential(InvalidInput):
    """A readable PDF or badge image that carries no credential (the hub's certificates and badges do)."""

    slug, title = "no-embedded-credential", "The file carries no credential"


class ForeignLink(InvalidInput):
    """A link that is not a share link of this hub: the hub never opens other links."""

    slug, title = "foreign-link", "Not a share link of this hub"


class Unauthenticated(HubError):
    slug, title = "unauthenticated", "An API key is needed"


class Forbidden(HubError):
    slug, title = "forbidden", "Not allowed for this key"


class NotFound(HubError):
    slug, title = "not-found", "Not found"


class Conflict(HubError):
    slug, title = "conflict", "The request conflicts with the current state"


class IdempotencyKeyInUse(Conflict):
    """A request with the same Idempotency-Key is still being processed (service.api.idempotency)."""

    slug, title = "idempotency-key-in-use", "A request with this Idempotency-Key is still being processed"


class IdempotencyKeyReused(InvalidInput):
    """The Idempotency-Key was used before for another request: another body, method or path."""

    slug, title = "idempotency-key-reused", "This Idempotency-Key was used for another request"


class ChainUnavailable(HubError):
    slug, title = "chain-unavailable", "The chain is not reachable"

    @classmethod
    def no_answer(cls, exc: BaseException, asked: str = "") -> ChainUnavailable:
        """The node did not answer a call (`asked`, e.g. "issuer()"): a detail a partner can act on, the
        network error in short (the full one is chained, for the log)."""
        what = f" to {asked}" if asked else ""
        return cls(
            f"the blockchain node does not answer{what} ({_network_reason(exc)}): try again when "
            "GET /health reports the chain ok"
        )


def _network_reason(exc: BaseException) -> str:
    text = str(exc).lower()
    for marker, reason in (
        ("refused", "connection refused"),
        ("timed out", "timed out"),
        ("timeout", "timed out"),
        ("name or service not known", "unknown host"),
        ("reset by peer", "connection reset"),
        ("remote end closed", "connection closed"),
        ("aborted", "connection aborted"),
    ):
        if marker in text:
            return reason
    return type(exc).__name__


class NotReady(HubError):
    """What is asked for exists but is not built yet (e.g. a new status list before the indexer's next
    catch-up): try again shortly (503 with Retry-After)."""

    slug, title = "not-ready", "Not built yet"


class ChainRejected(HubError):
    """The contract refused the transaction; `revert` is its decoded custom error."""

    slug, title = "chain-rejected", "The contract refused the transaction"

    def __init__(self, revert: DecodedRevert, detail: str | None = None) -> None:
        super().__init__(detail or explain(revert), error=revert.name, arguments=_jsonable(revert.args))
        self.revert = revert


_PROPOSAL_STATES = ["Active", "Defeated", "Succeeded", "Executed", "Expired"]

_EXPLANATIONS: dict[str, str] = {
    "RegistryIssuerNotAccredited": "{issuer} is not an accredited issuer now",
    "RegistrySigningKeyUnchanged": "this key is already the signing key of {issuer}",
    "RegistryInvalidKeyHash": "a signing key is needed",
    "RegistryUnauthorizedRevoker": "only the issuer that anchored this credential ({issuer}) may revoke it",
    "RegistryAlreadyRevoked": "this credential was already revoked",
    "RegistryBatchAlreadyAnchored": "this batch root was already anchored by {issuer}",
    "RegistryBatchNotAnchored": "this batch was never anchored",
    "RegistryInvalidSignature": "the signature is not {signer}'s for this request, chain and contract",
    "RegistryExpiredSignature": "the signature's deadline has passed",
    "BoardUnauthorizedMember": "{account} is not a member of the board",
    "BoardNotEligible": (
        "{account} may not vote on proposal {proposalId}: not a member when it was created, or no longer"
    ),
    "BoardAlreadyVoted": "{voter} already voted on proposal {proposalId}",
    "BoardAlreadyRecused": "{member} recused itself from proposal {proposalId}",
    "BoardUnknownProposal": "there is no proposal {proposalId}",
    "BoardUnexpectedProposalState": "proposal {proposalId} is {current}, it must be {expected}",
    "BoardInvalidSignature": "the signature is not {signer}'s for this request, chain, contract and nonce",
    "BoardExpiredSignature": "the signature's deadline {deadline} has passed",
    "BoardAlreadyMember": "{account} is already a member",
    "BoardNotMember": "{account} is not a member of the board",
    "BoardLastMember": "{member} is the last member: the board cannot be left empty",
    "BoardTooManyMembers": "the board already has the most members it may have ({max})",
    "BoardActionMismatch": "the action given is not the one proposed in proposal {proposalId}",
    "BoardInvalidAction": "the action's subject, name or rules do not fit its kind",
    "BoardInvalidVoteType": "{support} is not a vote type (0 against, 1 for, 2 abstain)",
    "BoardEmptyTitle": "a proposal needs a title",
    "BoardInvalidRules": "the rules are out of range",
}


def explain(revert: DecodedRevert) -> str:
    """A sentence for people, from the error's name and arguments."""
    args = {key: _checksummed(value) for key, value in revert.args.items()}
    for key in ("current", "expected"):
        if revert.name == "BoardUnexpectedProposalState" and isinstance(args.get(key), int):
            args[key] = _PROPOSAL_STATES[args[key]]
    template = _EXPLANATIONS.get(revert.name)
    if template:
        try:
            return template.format(**args)
        except (KeyError, IndexError):
            pass
    return f"the contract refused the transaction: {revert}"


def _checksummed(value: Any) -> Any:
    """An address argument as people read it (eth_abi decodes addresses in lower case)."""
    if isinstance(value, str) and is_hex_address(value):
        return to_checksum_address(value)
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def validation_message(error: Mapping[str, Any]) -> str:
    """A pydantic validation error's message, for people: "is required", "is not a known field", or
    pydantic's own message without its "Value error, " prefix."""
    kind = error.get("type")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    return str(error.get("msg", "is not valid")).removeprefix("Value error, ")
