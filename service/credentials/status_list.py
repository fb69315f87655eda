"""W3C Bitstring Status List v1.0: the credential's `credentialStatus` entry and the status list credential.

A partner's credentials point, each with one `BitstringStatusListEntry` (statusPurpose `revocation`), into a
status list the hub serves per partner at `<public_url>/status/<slug>/<n>`: a `BitstringStatusListCredential`
whose `encodedList` is the Multibase (`u`, base64url without padding) of the GZIP-compressed bitstring, bit 0 the
most significant bit of the first byte, a bit 1 meaning revoked. Each list has LIST_BITS bits, the minimum the
Recommendation sets for herd privacy; indexes are handed out in a keyed pseudo-random order (`scatter`), so
neighbouring indexes say nothing about who was issued together.

Pure: no database, no chain, no network (service.issuing.status_lists keeps the lists and signs them).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from service.credentials.document import HUB_CONTEXT, VC_CONTEXT, format_datetime

LIST_BITS = 131_072  # the Recommendation's minimum length (16 KiB): the herd a revoked credential hides in
STATUS_PURPOSE = "revocation"
ENTRY_TYPE = "BitstringStatusListEntry"
LIST_CREDENTIAL_TYPES = ("VerifiableCredential", "BitstringStatusListCredential")
LIST_TYPE = "BitstringStatusList"
# The hub context's term (top level of a status list credential): the registry chain's block whose revocation
# events the list reflects (every revocation in that block and before it is in the list).
BLOCK_TERM = "statusListBlock"
LIST_CONTEXTS = (VC_CONTEXT, HUB_CONTEXT)
_INDEX = re.compile(r"0|[1-9][0-9]{0,9}")
_HALF_BITS = 9  # scatter permutes 18-bit numbers (two 9-bit halves) and walks the cycle back below 2**17
_ROUNDS = 4


class StatusListError(ValueError):
    """An encodedList or a credentialStatus entry that is not what the Recommendation says."""


# ---------------------------------------------------------------- the bitstring


def encode_list(revoked: Iterable[int], length: int = LIST_BITS) -> str:
    """The `encodedList` of a bitstring of `length` bits in which the bits at `revoked` are 1.

    :raises ValueError: an index outside the list, or a length that is not a positive multiple of 8.
    """
    if length <= 0 or length % 8:
        raise ValueError(f"a status list has a positive multiple of 8 bits, not {length}")
    bits = bytearray(length // 8)
    for index in revoked:
        if not 0 <= index < length:
            raise ValueError(f"status index {index} is outside the list (0-{length - 1})")
        bits[index // 8] |= 0x80 >> (index % 8)
    # mtime=0: the same bits give the same bytes, so an unchanged list is recognised
    compressed = gzip.compress(bytes(bits), compresslevel=9, mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode("ascii").rstrip("=")


def decode_list(encoded: str, *, max_bytes: int = 16 * 1024 * 1024) -> bytes:
    """The bitstring of an `encodedList` (its bytes; bit i is `bits[i // 8] >> (7 - i % 8) & 1`).

    :raises StatusListError: not `u` + base64url, not GZIP, larger than `max_bytes` expanded, or shorter than
        the Recommendation's minimum.
    """
    if not isinstance(encoded, str) or not encoded.startswith("u"):
        raise StatusListError("encodedList must be Multibase base64url: 'u' and base64url without padding")
    text = encoded[1:]
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise StatusListError("encodedList holds characters that are not base64url")
    try:
        compressed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        decompressor = gzip.GzipFile(fileobj=io.BytesIO(compressed))
        bits = decompressor.read(max_bytes + 1)
    except (ValueError, OSError, EOFError) as exc:
        raise StatusListError(f"encodedList is not a GZIP-compressed bitstring: {exc}") from None
    if len(bits) > max_bytes:
        raise StatusListError(f"the status list expands to more than {max_bytes} bytes")
    if len(bits) * 8 < LIST_BITS:
        raise StatusListError(f"the status list has {len(bits) * 8} bits, fewer than the minimum {LIST_BITS}")
    return bits


def bit(bits: bytes, index: int) -> int:
    """The status bit at `index` of a decoded bitstring.

    :raises StatusListError: the index is outside the list (a verifier must treat that as an error).
    """
    if not 0 <= index < len(bits) * 8:
        raise StatusListError(f"status index {index} is outside the list of {len(bits) * 8} bits")
    return (bits[index // 8] >> (7 - index % 8)) & 1


# ---------------------------------------------------------------- indexes


def scatter(position: int, key: bytes, length: int = LIST_BITS) -> int:
    """The status index of the `position`-th credential allocated in a list: a keyed permutation of
    0..length-1 (a 4-round Feistel network on 18 bits, walked back into range), so that consecutive positions get
    unrelated indexes and no two positions the same one. `length` must be 2**17 (the list's size).

    :raises ValueError: a position outside the list.
    """
    if length != 1 << (2 * _HALF_BITS - 1):
        raise ValueError(f"scatter permutes lists of {1 << (2 * _HALF_BITS - 1)} bits, not {length}")
    if not 0 <= position < length:
        raise ValueError(f"position {position} is outside the list (0-{length - 1})")
    value = position
    while True:  # cycle walking: at most a few steps (half the 18-bit numbers are in range)
        value = _feistel(value, key)
        if value < length:
            return value


def _feistel(value: int, key: bytes) -> int:
    mask = (1 << _HALF_BITS) - 1
    left, right = value >> _HALF_BITS, value & mask
    for round_number in range(_ROUNDS):
        digest = hashlib.blake2b(right.to_bytes(2, "big") + bytes([round_number]), key=key[:64], digest_size=4).digest()
        left, right = right, left ^ (int.from_bytes(digest, "big") & mask)
    return (left << _HALF_BITS) | right


# ---------------------------------------------------------------- documents


def list_url(public_url: str, slug: str, number: int) -> str:
    """The URL of a partner's status list credential number `number` (1, 2, ...)."""
    return f"{public_url.rstrip('/')}/status/{slug}/{number}"


def status_entry(list_credential: str, index: int) -> dict[str, Any]:
    """The credential's `credentialStatus`: one BitstringStatusListEntry (revocation) at `index`."""
    return {
        "id": f"{list_credential}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": STATUS_PURPOSE,
        "statusListIndex": str(index),
        "statusListCredential": list_credential,
    }


def parse_entry(entry: Any) -> tuple[str, int]:
    """The list URL and index of a `credentialStatus` that is one revocation BitstringStatusListEntry.

    :raises StatusListError: any other shape.
    """
    if not isinstance(entry, dict):
        raise StatusListError("credentialStatus must be one BitstringStatusListEntry object")
    if entry.get("type") != ENTRY_TYPE:
        raise StatusListError(f"credentialStatus.type must be {ENTRY_TYPE}")
    if entry.get("statusPurpose") != STATUS_PURPOSE:
        raise StatusListError(f"credentialStatus.statusPurpose must be {STATUS_PURPOSE!r}")
    url, index = entry.get("statusListCredential"), entry.get("statusListIndex")
    if not isinstance(url, str) or not url:
        raise StatusListError("credentialStatus.statusListCredential must be a URL")
    if not isinstance(index, str) or not _INDEX.fullmatch(index):
        raise StatusListError("credentialStatus.statusListIndex must be a whole number written in decimal")
    if entry.get("id") is not None and entry.get("id") == url:
        raise StatusListError("credentialStatus.id must not be its statusListCredential")
    return url, int(index)


def list_credential(
    *,
    url: str,
    issuer: str,
    encoded_list: str,
    block: int,
    valid_from: datetime,
    valid_until: datetime,
    ttl_ms: int,
) -> dict[str, Any]:
    """A BitstringStatusListCredential (without proof): the list at `url` of `issuer` (its DID), reflecting
    the registry's revocations up to and including `block`, valid from `valid_from` to `valid_until`; `ttl_ms`
    tells verifiers how long they may cache it (the Recommendation's `ttl`, milliseconds)."""
    return {
        "@context": list(LIST_CONTEXTS),
        "id": url,
        "type": list(LIST_CREDENTIAL_TYPES),
        "issuer": issuer,
        "validFrom": format_datetime(valid_from),
        "validUntil": format_datetime(valid_until),
        BLOCK_TERM: block,
        "credentialSubject": {
            "id": f"{url}#list",
            "type": LIST_TYPE,
            "statusPurpose": STATUS_PURPOSE,
            "encodedList": encoded_list,
            "ttl": ttl_ms,
        },
    }
