"""The credential's standard proof: a W3C Data Integrity proof, cryptosuite `eddsa-rdfc-2022`.

W3C "Data Integrity EdDSA Cryptosuites v1.0" (Recommendation), section 3.3 (eddsa-rdfc-2022):

1. The document (the credential without `proof`) and the proof configuration (the proof without
   `proofValue`, with the document's `@context`) are each canonicalized: JSON-LD to RDF, then RDF Dataset
   Canonicalization (RDFC-1.0) to canonical N-Quads.
2. hashData = SHA-256(canonical proof configuration) ‖ SHA-256(canonical document) (64 bytes).
3. `proofValue` = "z" + base58btc(Ed25519 signature of hashData).

Canonicalization is PyLD's (the maintained Python JSON-LD processor); its URDNA2015 is RDFC-1.0 for the
documents this module accepts. The two differ only in how a literal's control characters are escaped
(RDFC-1.0 escapes every U+0000..U+001F and U+007F, PyLD only tab, newline and carriage return), so a string
with any other control character is refused. tests/credentials/test_integrity_vectors.py reproduces the W3C
vc-di-eddsa test vectors byte for byte.

Contexts come only from the copies bundled in service/credentials/contexts/ (see its README.md), behind an
allowlist: any other context URL raises `ContextNotAllowed`, nothing is ever fetched. Expansion must not drop
anything (the "safe mode" of jsonld.js, which the independent verifiers use): a member no context defines, a
relative `@type` or `@id`, raise `UndefinedTerm` instead of being signed over silently.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyld import jsonld

from service.credentials import canon_template

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_PURPOSE = "assertionMethod"
CONTEXTS_DIR = Path(__file__).with_name("contexts")

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
HUB_CONTEXT = "https://ithubhoogeveen.nl/ns/credentials/v1"

# The allowlist: context URL -> bundled file (service/credentials/contexts/README.md names their sources).
BUNDLED_CONTEXTS: dict[str, str] = {
    VC_CONTEXT: "credentials-v2.jsonld",
    OB_CONTEXT: "ob-v3p0-context-3.0.3.json",
    HUB_CONTEXT: "hub-v1.jsonld",
}

# The members of a proof configuration (the proof without proofValue), in the order the spec lists them.
PROOF_CONFIG_MEMBERS = ("type", "cryptosuite", "created", "verificationMethod", "proofPurpose")


class IntegrityError(ValueError):
    """The document or proof cannot be signed or verified as eddsa-rdfc-2022 (the message says why)."""


class ContextNotAllowed(IntegrityError):
    """A context that is not one of the bundled copies: it would have to be fetched, and nothing is."""


class UndefinedTerm(IntegrityError):
    """A member or type that no context defines: JSON-LD expansion would drop it from what is signed."""


class ProofFormatError(IntegrityError):
    """The proof object is not a DataIntegrityProof of cryptosuite eddsa-rdfc-2022 this module reads."""


# ---------------------------------------------------------------- contexts


@cache
def _bundled(filename: str) -> str:
    return (CONTEXTS_DIR / filename).read_text(encoding="utf-8")


def bundled_context(url: str) -> dict[str, Any]:
    """The bundled copy of the context at `url` (a fresh object).

    :raises ContextNotAllowed: when `url` is not on the allowlist.
    """
    filename = BUNDLED_CONTEXTS.get(url)
    if filename is None:
        raise ContextNotAllowed(
            f"context {url!r:.200} is not one of the bundled contexts ({', '.join(BUNDLED_CONTEXTS)}); "
            "contexts are never fetched"
        )
    result: dict[str, Any] = json.loads(_bundled(filename))
    return result


def bundled_context_bytes(url: str) -> bytes:
    """The bundled file of the context at `url`, as it is stored (what the hub serves at the URL's path).

    :raises ContextNotAllowed: when `url` is not on the allowlist.
    """
    bundled_context(url)
    return _bundled(BUNDLED_CONTEXTS[url]).encode("utf-8")


DocumentLoader = Callable[..., dict[str, Any]]


def document_loader(extra: Mapping[str, Mapping[str, Any]] | None = None) -> DocumentLoader:
    """A PyLD document loader serving the bundled contexts (and `extra`, URL -> document; tests use it for
    the W3C examples context) and refusing every other URL with `ContextNotAllowed`. It never fetches."""
    extras = {url: json.dumps(document) for url, document in (extra or {}).items()}

    def load(url: str, options: Any = None) -> dict[str, Any]:
        if url in extras:
            return {"contextUrl": None, "documentUrl": url, "document": json.loads(extras[url])}
        # tag "static": PyLD keeps the processed context in its process-wide cache, keyed by URL, and does not
        # load or process it again (about a third of a signature's time). Only the bundled contexts are tagged:
        # a URL that one loader's `extra` serves is never cached where another loader would refuse it.
        return {"contextUrl": None, "documentUrl": url, "document": bundled_context(url), "tag": "static"}

    return load


DEFAULT_LOADER = document_loader()


# ---------------------------------------------------------------- canonicalization


def _dropped(expanded_property: str | None) -> None:
    raise UndefinedTerm(
        f"member {expanded_property!r:.100} is not defined by the document's contexts (JSON-LD expansion would drop it)"
    )


def _is_absolute(iri: str) -> bool:
    scheme, colon, _ = iri.partition(":")
    return bool(colon) and scheme[:1].isalpha() and all(c.isalnum() or c in "+-." for c in scheme)


_ALLOWED_CONTROLS = frozenset("\t\n\r")


def _check_text(text: str) -> None:
    for char in text:
        if (char < " " or char == "\x7f") and char not in _ALLOWED_CONTROLS:
            raise IntegrityError(
                f"control character U+{ord(char):04X} in {text!r:.60}: not signed (its RDFC-1.0 escape is not PyLD's)"
            )


def _check_expanded(value: Any) -> None:
    """Refuse what expansion kept but RDF conversion would drop or write differently: a relative `@type`
    or `@id` (jsonld.js safe mode refuses them too) and control characters in literals."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, member in item.items():
                if key == "@type":
                    types = member if isinstance(member, list) else [member]
                    for kind in types:
                        if isinstance(kind, str) and not kind.startswith("@") and not _is_absolute(kind):
                            raise UndefinedTerm(f"type {kind!r:.100} is not defined by the document's contexts")
                elif key == "@id":
                    if isinstance(member, str) and not member.startswith("_:") and not _is_absolute(member):
                        raise UndefinedTerm(f"identifier {member!r:.100} is not an absolute IRI")
                elif key == "@value":
                    if isinstance(member, str):
                        _check_text(member)
                    elif item.get("@type") == "@json":
                        stack.append(member)  # a JSON literal: its strings are written as they are
                else:
                    stack.append(member)
        elif isinstance(item, str):
            _check_text(item)


class _SafeProcessor(jsonld.JsonLdProcessor):  # type: ignore[misc]
    """PyLD's processor with the safe-mode checks on its one expansion (normalize expands once, in to_rdf)."""

    def __init__(self) -> None:
        super().__init__(on_property_dropped=_dropped)

    def expand(self, input_: Any, options: Any) -> Any:
        expanded = super().expand(input_, options)
        _check_expanded(expanded)
        return expanded


# PyLD keeps its processed contexts in process-wide caches (cachetools LRUs) that are not thread-safe: two threads
# canonicalizing at once corrupted them (KeyError / "OrderedDict mutated during iteration" under three processes'
# load). Its work is pure Python under the GIL, so one lock costs no parallelism.
_PYLD_LOCK = threading.Lock()


def canonicalize(document: Mapping[str, Any], loader: DocumentLoader | None = None) -> str:
    """The RDFC-1.0 canonical N-Quads of a JSON-LD document.

    :raises ContextNotAllowed: a context that is not bundled.
    :raises UndefinedTerm: a member, type or id that expansion would drop.
    :raises IntegrityError: any other JSON-LD error (the message is PyLD's).
    """
    # base None: a relative IRI stays relative (and is refused) instead of resolving against PyLD's default base
    options: dict[str, Any] = {
        "documentLoader": loader or DEFAULT_LOADER,
        "base": None,
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
    }
    try:
        with _PYLD_LOCK:
            result = _SafeProcessor().normalize(copy.deepcopy(dict(document)), options)
    except IntegrityError:
        raise
    except jsonld.JsonLdError as exc:
        cause = _integrity_cause(exc)
        if cause is not None:
            raise cause from None
        raise IntegrityError(f"not a JSON-LD document this proof can sign: {exc}") from None
    return str(result)


def _integrity_cause(exc: BaseException) -> IntegrityError | None:
    """The IntegrityError PyLD wrapped (a loader's or handler's), if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, IntegrityError):
            return seen
        details = getattr(seen, "details", None)
        nested = details.get("cause") if isinstance(details, dict) else None
        if isinstance(nested, IntegrityError):
            return nested
        seen = seen.__cause__ or seen.__context__
    return None


# ---------------------------------------------------------------- proofs


def _created(moment: datetime | None) -> str:
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:
        raise IntegrityError("created needs a time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def unsecured(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document without its `proof`: what the proof signs."""
    return {key: value for key, value in document.items() if key != "proof"}


def proof_config(document: Mapping[str, Any], proof: Mapping[str, Any]) -> dict[str, Any]:
    """The proof configuration: the proof's members but `proofValue`, with the document's `@context`.

    :raises ProofFormatError: when the proof is not an eddsa-rdfc-2022 DataIntegrityProof.
    """
    if not isinstance(proof, Mapping):
        raise ProofFormatError("the proof must be a JSON object")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofFormatError(f"the proof must be a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}")
    for name in ("verificationMethod", "proofPurpose"):
        if not isinstance(proof.get(name), str) or not proof[name]:
            raise ProofFormatError(f"the proof's {name} must be a non-empty string")
    if "@context" in proof and proof["@context"] != document.get("@context"):
        raise ProofFormatError("the proof's @context must be the document's")
    config = {key: value for key, value in proof.items() if key not in ("proofValue", "@context")}
    config["@context"] = document.get("@context")
    return config


@lru_cache(maxsize=256)
def _config_hash(config_json: str) -> bytes:
    return hashlib.sha256(canonicalize(json.loads(config_json)).encode("utf-8")).digest()


def hash_data(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    loader: DocumentLoader | None = None,
    *,
    from_template: bool = False,
) -> bytes:
    """SHA-256(canonical proof configuration) ‖ SHA-256(canonical document without proof): the signed bytes.

    :param from_template: the signer's fast path for a cohort's credentials (`canon_template`; default loader
        only); verifiers canonicalize in full.
    """
    config = proof_config(document, proof)
    if loader is None:  # a cohort's proofs share their configuration: canonicalize it once
        proof_hash = _config_hash(json.dumps(config, sort_keys=True, ensure_ascii=False))
    else:
        proof_hash = hashlib.sha256(canonicalize(config, loader).encode("utf-8")).digest()
    body = unsecured(document)
    if from_template and loader is None:
        nquads = canon_template.canonical_nquads(body, canonicalize)
    else:
        nquads = canonicalize(body, loader)
    document_hash = hashlib.sha256(nquads.encode("utf-8")).digest()
    return proof_hash + document_hash


def sign(
    document: dict[str, Any],
    key: Ed25519PrivateKey,
    verification_method: str,
    created: datetime | None = None,
    *,
    loader: DocumentLoader | None = None,
) -> dict[str, Any]:
    """The eddsa-rdfc-2022 `DataIntegrityProof` of `document` (without its `proof`), made with `key`.

    :param verification_method: the key's id, `<controller DID>#<publicKeyMultibase>`.
    :param created: the proof's time (now when None); written in UTC to the second.
    :raises IntegrityError: when the document cannot be canonicalized (see `canonicalize`).
    """
    proof: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": _created(created),
        "verificationMethod": verification_method,
        "proofPurpose": PROOF_PURPOSE,
    }
    signature = key.sign(hash_data(document, proof, loader, from_template=True))
    proof["proofValue"] = "z" + base58.b58encode(signature).decode("ascii")
    return proof


def decode_proof_value(proof_value: Any) -> bytes:
    """The 64-byte signature of a `proofValue` (multibase base58btc, "z…").

    :raises ProofFormatError: when it is not one.
    """
    if not isinstance(proof_value, str) or not proof_value.startswith("z"):
        raise ProofFormatError("the proofValue must be multibase base58btc (starting with 'z')")
    try:
        signature = base58.b58decode(proof_value[1:])
    except ValueError:
        raise ProofFormatError("the proofValue is not base58btc") from None
    if len(signature) != 64:
        raise ProofFormatError(f"the proofValue must hold a 64-byte Ed25519 signature, not {len(signature)} bytes")
    return signature


def verify(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    public_key: bytes,
    *,
    loader: DocumentLoader | None = None,
) -> bool:
    """Whether `proof` (an eddsa-rdfc-2022 DataIntegrityProof) is a signature by `public_key` (raw 32-byte
    Ed25519) over `document` without its `proof`.

    :raises ProofFormatError: a proof this cryptosuite does not read (wrong type, proofValue not base58btc).
    :raises IntegrityError: a document that cannot be canonicalized (contexts not bundled, undefined terms).
    """
    signature = decode_proof_value(proof.get("proofValue") if isinstance(proof, Mapping) else None)
    if len(public_key) != 32:
        raise IntegrityError(f"an Ed25519 public key has 32 bytes, not {len(public_key)}")
    data = hash_data(document, proof, loader)
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
    except InvalidSignature:
        return False
    return True
