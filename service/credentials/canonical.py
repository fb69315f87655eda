"""Strict JSON in, canonical JSON out: the bytes every digest of the credential format is taken over.

- Parsing is strict (I-JSON, RFC 7493): UTF-8 only, no duplicate member names, no NaN/Infinity,
  integers within +-(2**53 - 1), at most MAX_CREDENTIAL_BYTES bytes and MAX_DEPTH levels of nesting.
  A document two parsers could read differently is refused instead of being digested.
- Canonical form is RFC 8785 (JCS) through the `rfc8785` package. For JSON without floats and without
  characters from U+E000 up, JCS is exactly compact JSON with sorted keys and unescaped UTF-8 (same
  escapes; code point order equals UTF-16 order below U+E000; integers within I-JSON print alike), as
  orjson (or the standard library) writes it; such values, almost every credential, take that fast
  path (tests/credentials/test_canonical.py checks it against `rfc8785`).
- The credential digest is keccak256 over the JCS form of the credential without its `proof`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from itertools import filterfalse
from typing import Any

import rfc8785

try:  # keccak256 in C (safe-pysha3): the verifier hashes a dozen times per credential
    from sha3 import keccak_256 as _keccak_256

    def keccak(data: bytes) -> bytes:
        """keccak256 of `data`."""
        return _keccak_256(data).digest()
except ImportError:  # pragma: no cover - eth-hash's backend (pycryptodome): the same hash, slower
    from eth_utils import keccak as _eth_keccak

    def keccak(data: bytes) -> bytes:
        """keccak256 of `data`."""
        return bytes(_eth_keccak(data))


# A credential is a few kilobytes; 256 KiB leaves room for generous disclosures and refuses abuse.
MAX_CREDENTIAL_BYTES = 256 * 1024
# Objects and arrays nested deeper than this are refused (an OpenBadgeCredential needs about 6).
MAX_DEPTH = 32
# I-JSON: numbers must be exactly representable as IEEE 754 doubles.
MAX_SAFE_INTEGER = 2**53 - 1
HEX32 = re.compile(r"0x[0-9a-f]{64}")


class InputError(ValueError):
    """The input is not a JSON document this format accepts (too large, not UTF-8, not strict JSON)."""


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):  # a name came twice: say which
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InputError(f"duplicate member name {key!r}")
            seen.add(key)
    return result


def _reject_constant(name: str) -> Any:
    raise InputError(f"{name} is not JSON")


def _check_tree(value: Any) -> bool:
    """Check nesting depth and integer range, level by level (no recursion, so no RecursionError).

    :returns: whether the value holds only dicts with str keys, lists, str, int, bool and None (no
        float, no other type): what the fast path of canonical_json can write.
    """
    plain = True
    level = [value]
    depth = 0
    while level:
        depth += 1
        below: list[Any] = []
        for item in level:
            kind = type(item)
            if kind is dict:
                if depth > MAX_DEPTH:
                    raise InputError(f"nested deeper than {MAX_DEPTH} levels")
                plain = plain and all(map(_IS_STR, item))
                below.extend(filterfalse(_IS_STR, item.values()))  # strings need no further look
            elif kind is list:
                if depth > MAX_DEPTH:
                    raise InputError(f"nested deeper than {MAX_DEPTH} levels")
                below.extend(filterfalse(_IS_STR, item))
            elif kind is int:
                if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                    raise InputError(f"integer {item} is outside the I-JSON range (+-2**53 - 1)")
            elif kind is str or kind is bool or item is None:
                pass
            elif isinstance(item, dict | list):  # a subclass: checked, but written by rfc8785
                if depth > MAX_DEPTH:
                    raise InputError(f"nested deeper than {MAX_DEPTH} levels")
                plain = False
                below.extend(item.values() if isinstance(item, dict) else item)
            else:
                plain = False
                if isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_SAFE_INTEGER:
                    raise InputError(f"integer {item} is outside the I-JSON range (+-2**53 - 1)")
        level = below
    return plain


_IS_STR = str.__instancecheck__


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999: JSON allows the digits, I-JSON and JCS do not allow the infinity
        raise InputError(f"number {text[:20]} is outside the range of a double (I-JSON)")
    return value


def _parse_int(text: str) -> int:
    if len(text) > 17:  # beyond 2**53 - 1 (16 digits) whatever it is; and int() refuses over 4,300 digits
        raise InputError(
            f"integer {text[:20]}... ({len(text.lstrip('-'))} digits) is outside the I-JSON range (+-2**53 - 1)"
        )
    value = int(text)
    if abs(value) > MAX_SAFE_INTEGER:
        raise InputError(f"integer {value} is outside the I-JSON range (+-2**53 - 1)")
    return value


# A JSON string, unrolled ("normal* (special normal*)*") so the regex engine does not step per character.
# An unclosed string runs to the end of the text (as the parser reads it): a pattern that could fail there
# would be tried again from every later quote, quadratic time on a body of escaped quotes (a 40 KB body
# took 30 s).
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
# From U+E000 on, code point order (Python's sort) and UTF-16 order (JCS) can differ: in UTF-8 those
# characters, and only they, begin with a byte EE, EF or F0 to F4.
_ORDER_SENSITIVE = re.compile(b"[\xee\xef\xf0-\xf4]")

try:  # orjson writes sorted, compact UTF-8 JSON ten times faster than the standard library
    import orjson

    def _sorted_compact_json(value: Any) -> bytes:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
except ImportError:  # pragma: no cover - the same bytes, slower

    def _sorted_compact_json(value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def nested_deeper(text: str, depth: int) -> bool:
    """Whether the JSON text `text` opens more than `depth` levels of arrays and objects, read without
    parsing it: CPython's C JSON decoder recurses, and with a raised recursion limit (py_ecc raises it to
    100,000) a deeply nested input can overflow the C stack instead of raising."""
    # Without an escaped quote every other piece between quotes is a string; with one, the regex finds them.
    outside = _STRING.sub("", text) if '\\"' in text else "".join(text.split('"')[::2])
    level = 0
    for char in _NOT_BRACKET.sub("", outside):
        if char in "[{":
            level += 1
            if level > depth:
                return True
        else:
            level -= 1
    return False


def _check_nesting(text: str) -> None:
    """Refuse deep nesting before the parser sees it (see nested_deeper). A text with no more brackets than
    MAX_DEPTH cannot nest deeper, so a credential (about 30) is not scanned."""
    if text.count("[") + text.count("{") > MAX_DEPTH and nested_deeper(text, MAX_DEPTH):
        raise InputError(f"nested deeper than {MAX_DEPTH} levels")


def parse_json(data: bytes | str, *, max_bytes: int = MAX_CREDENTIAL_BYTES) -> Any:
    """Parse `data` strictly.

    :raises InputError: when it is larger than `max_bytes`, not UTF-8, not JSON, has duplicate
        member names, NaN/Infinity, unsafe integers or deeper nesting than MAX_DEPTH.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > max_bytes:
        raise InputError(f"input is larger than the limit of {max_bytes} bytes (MAX_CREDENTIAL_BYTES)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"input is not UTF-8: {exc.reason} at byte {exc.start}") from exc
    if text.startswith("\ufeff"):
        raise InputError("input starts with a byte order mark; JSON text must not")
    _check_nesting(text)
    try:
        value = json.loads(
            text,
            object_pairs_hook=_reject_duplicates,
            parse_constant=_reject_constant,
            parse_int=_parse_int,
            parse_float=_parse_float,
        )
    except InputError:
        raise
    except RecursionError as exc:
        raise InputError(f"nested deeper than {MAX_DEPTH} levels") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    return value  # nesting checked on the text, integers as parsed: no second walk over the tree


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) canonical UTF-8 bytes of `value`.

    :raises InputError: when `value` holds something JCS cannot represent (unsafe integers, NaN, ...).
    """
    if _check_tree(value):
        try:
            data = _sorted_compact_json(value)
        except (TypeError, ValueError) as exc:  # a lone surrogate, as rfc8785 refuses it too
            raise InputError(f"cannot canonicalise: {exc}") from exc
        if data.isascii() or not _ORDER_SENSITIVE.search(data):  # isascii: one C pass, the regex steps per byte
            return data
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise InputError(f"cannot canonicalise: {exc}") from exc


PROOF_TYPE = "MerkleAnchor2026"


def proof_of(credential: Mapping[str, Any]) -> dict[str, Any] | None:
    """The credential's MerkleAnchor2026 proof object, or None when it has none.

    The one place that knows where the proof sits: `proof` is an array holding one proof object
    (Open Badges 3.0's JSON schema requires an array). A bare object, as credentials issued before
    that change carried, is read too, so the service can still read what it stored; the verifier's
    format check accepts only the array.
    """
    proof = credential.get("proof")
    if isinstance(proof, list):
        proofs = [item for item in proof if isinstance(item, dict) and item.get("type") == PROOF_TYPE]
        return proofs[0] if len(proofs) == 1 else None
    return proof if isinstance(proof, dict) else None


def with_proof(body: Mapping[str, Any], proof: dict[str, Any], *others: dict[str, Any] | None) -> dict[str, Any]:
    """The credential: `body` with `proof` (the MerkleAnchor2026 proof, first) and the `others` given (the
    issuer's DataIntegrityProof; None is left out) as its proofs (the inverse of proof_of)."""
    return {**body, "proof": [proof, *(item for item in others if item is not None)]}


def credential_body(credential: Mapping[str, Any]) -> dict[str, Any]:
    """The anchored body: the credential without its `proof` member."""
    return {key: value for key, value in credential.items() if key != "proof"}


def credential_digest(credential: Mapping[str, Any]) -> bytes:
    """keccak256(JCS(credential without `proof`)): the 32 bytes committed as a Merkle leaf."""
    return keccak(canonical_json(credential_body(credential)))


def to_hex32(value: bytes) -> str:
    """0x-prefixed lowercase hex of a 32-byte value."""
    if len(value) != 32:
        raise ValueError(f"expected 32 bytes, got {len(value)}")
    return "0x" + value.hex()


def from_hex32(text: str) -> bytes:
    """The 32 bytes of a 0x-prefixed string of 64 lowercase hex digits (the only form the format uses).

    :raises ValueError: when `text` is not exactly that.
    """
    if not isinstance(text, str) or not HEX32.fullmatch(text):
        raise ValueError(f"expected 0x and 64 lowercase hex digits, got {text!r:.80}")
    return bytes.fromhex(text[2:])
