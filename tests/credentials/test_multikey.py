"""Multikey encoding of Ed25519 keys, checked against the W3C vc-di-eddsa example key."""

import pytest

from service.credentials import multikey

# W3C Data Integrity EdDSA Cryptosuites v1.0, test vectors (B.1): the public key of the example key pair.
W3C_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"


def test_round_trip_of_the_w3c_example_key():
    raw = multikey.decode_public(W3C_PUBLIC)
    assert len(raw) == 32
    assert multikey.encode_public(raw) == W3C_PUBLIC


@pytest.mark.parametrize(
    "bad",
    ["", "6MkrJVnaZ", "z0OIl", "z" + "1" * 10, W3C_PUBLIC[:-1], "zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"],
)
def test_refuses_what_is_not_an_ed25519_multikey(bad):
    with pytest.raises(multikey.MultikeyError):
        multikey.decode_public(bad)


def test_key_hash_binds_the_key_type_and_differs_per_key():
    raw = multikey.decode_public(W3C_PUBLIC)
    h = multikey.key_hash(raw)
    assert len(h) == 32
    assert h == multikey.key_hash_of(W3C_PUBLIC)
    assert h != multikey.key_hash(bytes(32))
    with pytest.raises(multikey.MultikeyError):
        multikey.key_hash(raw[:31])
