"""Selective disclosure, SD-JWT style, for claims about the graduate that the holder may withhold.

A disclosure is the JSON array [salt, claim name, value]. Its digest is

    base64url-without-padding( sha256( JCS([salt, name, value]) ) )

The anchored body lists the sorted digests of all disclosable claims (plus optional decoys) in
`credentialSubject.disclosureDigests`; the disclosures themselves travel outside the digested body,
in `proof.disclosures`. A holder shares a copy with the disclosures of its choice; a verifier checks
each against the digests, and a disclosed claim reads as if it were a member of `credentialSubject`.
Withholding a claim never changes the credential digest, so the Merkle leaf and the anchored root
stay the same whatever is disclosed.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from service.credentials.canonical import canonical_json, proof_of

# Members of credentialSubject that the anchored body itself holds: never a disclosure's claim name.
# (`identifier`, the recipient's hashed email, is a disclosure like the name: section 2 of the spec.)
RESERVED_CLAIMS = frozenset({"id", "type", "achievement", "disclosureDigests", "@context"})
DIGEST_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of 32 bytes, no padding
SALT_PATTERN = re.compile(r"[A-Za-z0-9_-]{22,64}")  # base64url, at least 128 bits
CLAIM_NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_salt() -> str:
    """128 random bits, base64url without padding."""
    return _b64url(secrets.token_bytes(16))


@dataclass(frozen=True)
class Disclosure:
    """One withholdable claim: `credentialSubject[name] = value`, blinded by `salt`."""

    salt: str
    name: str
    value: Any

    def to_json(self) -> list[Any]:
        return [self.salt, self.name, self.value]

    @property
    def digest(self) -> str:
        return disclosure_digest(self.to_json())

    @classmethod
    def from_json(cls, item: Any) -> Disclosure:
        """Read a disclosure array.

        :raises ValueError: when `item` is not [salt, claim name, value] with a base64url salt of at
            least 128 bits and a claim name that is not reserved.
        """
        if not isinstance(item, list) or len(item) != 3:
            raise ValueError("a disclosure must be a JSON array [salt, claim name, value]")
        salt, name, value = item
        if not isinstance(salt, str) or not SALT_PATTERN.fullmatch(salt):
            raise ValueError("a disclosure's salt must be 22 to 64 base64url characters")
        if not isinstance(name, str) or not CLAIM_NAME_PATTERN.fullmatch(name):
            raise ValueError(f"a disclosure's claim name must match {CLAIM_NAME_PATTERN.pattern}")
        if name in RESERVED_CLAIMS:
            raise ValueError(f"{name!r} is part of the anchored body and cannot be a disclosure")
        return cls(salt, name, value)


def make_disclosure(name: str, value: Any, salt: str | None = None) -> Disclosure:
    """A new disclosure of `name` = `value` with a fresh random salt (checked like a received one)."""
    return Disclosure.from_json([salt if salt is not None else new_salt(), name, copy.deepcopy(value)])


def disclosure_digest(item: Sequence[Any]) -> str:
    """base64url(sha256(JCS(item))) of a disclosure array."""
    return _b64url(hashlib.sha256(canonical_json(list(item))).digest())


def decoy_digest() -> str:
    """A digest of nothing: hides how many claims a credential can disclose."""
    return _b64url(hashlib.sha256(secrets.token_bytes(32)).digest())


# The claims' one public name is the credential's own (`result`: the grade, an OB Result); `grade` is accepted
# for it wherever claims are chosen (the name the issuing CSV and JSON used first, and what people say).
CLAIM_ALIASES = {"grade": "result"}


def claim_name(name: str) -> str:
    """The claim `name` means: its alias resolved ("grade" -> "result"), anything else as it is."""
    return CLAIM_ALIASES.get(name, name)


def select_disclosures(credential: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """The holder's copy to share: `credential` with only the disclosures of claims in `names`.

    The body (and so its digest) is untouched; everything else in `proof` is kept.

    :raises KeyError: when a name in `names` has no disclosure in `credential`.
    """
    wanted = {claim_name(name) for name in names}
    shared = copy.deepcopy(dict(credential))
    proof = proof_of(shared)
    disclosures = proof.get("disclosures", []) if proof is not None else []
    available = {item[1] for item in disclosures if isinstance(item, list) and len(item) == 3}
    missing = wanted - available
    if missing:
        raise KeyError(
            f"no disclosure for {', '.join(sorted(missing))}; the credential discloses "
            f"{', '.join(sorted(available)) or 'nothing'}"
        )
    if proof is not None:
        proof["disclosures"] = [item for item in disclosures if item[1] in wanted]
    return shared
