"""The Bitstring Status List encoding, the credentialStatus entry and the index permutation (pure)."""

from __future__ import annotations

import base64
import gzip
import secrets
from datetime import UTC, datetime

import pytest

from service.credentials import integrity
from service.credentials.status_list import (
    LIST_BITS,
    StatusListError,
    bit,
    decode_list,
    encode_list,
    list_credential,
    parse_entry,
    scatter,
    status_entry,
)


def test_encoded_list_is_multibase_base64url_of_gzip_with_bit_0_the_first_bytes_high_bit() -> None:
    encoded = encode_list([0, 9, LIST_BITS - 1])
    assert encoded.startswith("u") and "=" not in encoded and "+" not in encoded and "/" not in encoded
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(raw) == LIST_BITS // 8 == 16 * 1024  # the Recommendation's minimum: 16 KiB
    assert raw[0] == 0b1000_0000 and raw[1] == 0b0100_0000 and raw[-1] == 0b0000_0001
    assert sum(bin(byte).count("1") for byte in raw) == 3
    bits = decode_list(encoded)
    assert [bit(bits, index) for index in (0, 1, 8, 9, 10, LIST_BITS - 2, LIST_BITS - 1)] == [1, 0, 0, 1, 0, 0, 1]


def test_the_same_bits_encode_to_the_same_text() -> None:
    assert encode_list([5, 3]) == encode_list([3, 5])  # mtime 0: an unchanged list is recognised
    assert encode_list([]) != encode_list([3])


@pytest.mark.parametrize(
    ("encoded", "problem"),
    [
        ("H4sIAAAA", "must be Multibase base64url"),
        ("u***", "not base64url"),
        ("u" + base64.urlsafe_b64encode(b"not gzip").decode().rstrip("="), "not a GZIP-compressed bitstring"),
        ("u" + base64.urlsafe_b64encode(gzip.compress(bytes(100))).decode().rstrip("="), "fewer than the minimum"),
    ],
)
def test_decode_refuses_what_is_not_an_encoded_list(encoded: str, problem: str) -> None:
    with pytest.raises(StatusListError, match=problem):
        decode_list(encoded)


def test_index_outside_the_list_is_refused() -> None:
    with pytest.raises(ValueError, match="outside the list"):
        encode_list([LIST_BITS])
    with pytest.raises(StatusListError, match="outside the list"):
        bit(decode_list(encode_list([])), LIST_BITS)


def test_scatter_is_a_permutation_of_the_whole_list_that_depends_on_the_key() -> None:
    key = secrets.token_bytes(32)
    indexes = [scatter(position, key) for position in range(LIST_BITS)]
    assert sorted(indexes) == list(range(LIST_BITS))  # every index once: no two credentials share one
    assert indexes[:100] != list(range(100))  # consecutive credentials do not get consecutive indexes
    # neighbours are scattered over the list (herd privacy): the median gap is far from 1
    gaps = sorted(abs(a - b) for a, b in zip(indexes[:1000], indexes[1:1001], strict=True))
    assert gaps[500] > 1000
    other = [scatter(position, secrets.token_bytes(32)) for position in range(100)]
    assert other != indexes[:100]
    with pytest.raises(ValueError, match="outside the list"):
        scatter(LIST_BITS, key)


def test_entry_is_a_revocation_bitstring_status_list_entry() -> None:
    url = "https://hub.example/status/hanze/1"
    entry = status_entry(url, 94567)
    assert entry == {
        "id": "https://hub.example/status/hanze/1#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": url,
    }
    assert parse_entry(entry) == (url, 94567)
    for broken, problem in (
        ({**entry, "type": "StatusList2021Entry"}, "type"),
        ({**entry, "statusPurpose": "suspension"}, "statusPurpose"),
        ({**entry, "statusListIndex": 94567}, "statusListIndex"),
        ({**entry, "statusListIndex": "-1"}, "statusListIndex"),
        ({**entry, "statusListIndex": "007"}, "statusListIndex"),
        ({**entry, "id": url}, "must not be its statusListCredential"),
        ([entry], "one BitstringStatusListEntry object"),
    ):
        with pytest.raises(StatusListError, match=problem):
            parse_entry(broken)


def test_status_list_credential_uses_only_defined_terms_and_signs() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    moment = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    document = list_credential(
        url="https://hub.example/status/hanze/1",
        issuer="did:web:hub.example:issuers:hanze",
        encoded_list=encode_list([7]),
        block=1234,
        valid_from=moment,
        valid_until=moment.replace(hour=13),
        ttl_ms=5000,
    )
    assert document["validFrom"] == "2026-12-04T12:00:00Z" and document["validUntil"] == "2026-12-04T13:00:00Z"
    assert document["credentialSubject"]["id"] == "https://hub.example/status/hanze/1#list"
    # every term is defined (integrity refuses a dropped term): statusListBlock by the hub's context
    quads = integrity.canonicalize(document)
    assert (
        '<https://ithubhoogeveen.nl/ns/credentials#statusListBlock> "1234"^^<http://www.w3.org/2001/XMLSchema#integer>'
        in quads
    )
    assert "<https://www.w3.org/ns/credentials/status#encodedList>" in quads
    key = Ed25519PrivateKey.generate()
    proof = integrity.sign(document, key, "did:web:hub.example:issuers:hanze#z6Mk", moment)
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert integrity.verify(document, proof, public)
    tampered = {**document, "credentialSubject": {**document["credentialSubject"], "encodedList": encode_list([])}}
    assert not integrity.verify(tampered, proof, public)
