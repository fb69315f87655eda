"""Strict JSON parsing, RFC 8785 canonical form and the credential digest."""

from __future__ import annotations

import json
import sys
import time

import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from service.credentials.canonical import (
    MAX_CREDENTIAL_BYTES,
    MAX_DEPTH,
    InputError,
    canonical_json,
    credential_digest,
    from_hex32,
    nested_deeper,
    parse_json,
    to_hex32,
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def test_canonical_form_sorts_members_and_normalises_numbers() -> None:
    expected = '{"a":[1e+21,0.5,"é"],"b":1,"c":null}'.encode()
    assert canonical_json({"b": 1.0, "a": [1e21, 0.5, "é"], "c": None}) == expected


@settings(max_examples=200)
@given(json_values)
def test_canonical_form_does_not_depend_on_serialisation(value: object) -> None:
    for text in (json.dumps(value), json.dumps(value, indent=3, ensure_ascii=False, sort_keys=True)):
        assert canonical_json(parse_json(text)) == canonical_json(value)


def test_the_digest_is_keccak_of_the_body_without_proof() -> None:
    body = {"id": "urn:uuid:1", "name": "x"}
    assert credential_digest(body) == keccak(b'{"id":"urn:uuid:1","name":"x"}')
    assert credential_digest({**body, "proof": {"anything": [1, 2]}}) == credential_digest(body)


def test_member_order_and_whitespace_do_not_change_the_digest() -> None:
    one = parse_json('{"a": 1, "b": {"d": [1, 2], "c": "x"}}')
    two = parse_json('{\n  "b": {"c": "x", "d": [1, 2]},\n  "a": 1.0\n}')
    assert credential_digest(one) == credential_digest(two)


@pytest.mark.parametrize(
    "text",
    [
        '{"a":1,"a":1}',
        '{"x":{"a":1,"a":2}}',
        "[NaN]",
        "[Infinity]",
        "[-Infinity]",
        "[9007199254740992]",
        "",
        "{'a': 1}",
        "[1,]",
    ],
)
def test_strict_parsing_refuses(text: str) -> None:
    with pytest.raises(InputError):
        parse_json(text)


def test_nesting_is_limited_even_with_a_high_recursion_limit() -> None:
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(200_000)
    try:
        with pytest.raises(InputError, match="nested deeper"):
            parse_json("[" * 100_000 + "]" * 100_000)
        with pytest.raises(InputError, match="nested deeper"):
            parse_json('{"a":' * 40_000 + "1" + "}" * 40_000)
    finally:
        sys.setrecursionlimit(old)
    assert parse_json("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    assert parse_json('["[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\"[[["]') == ["[" * 41 + '"[[[']


def test_size_is_limited() -> None:
    text = json.dumps({"padding": "x" * MAX_CREDENTIAL_BYTES})
    with pytest.raises(InputError, match=f"limit of {MAX_CREDENTIAL_BYTES} bytes"):
        parse_json(text)
    assert parse_json(text, max_bytes=len(text)) is not None


@pytest.mark.parametrize("number", ["9007199254740992", "-9007199254740992", "1" * 17, "-" + "9" * 40, "7" * 5_000])
def test_unsafe_integers_are_refused_when_parsed(number: str) -> None:
    # 5,000 digits: more than int() converts (4,300); it raised a bare ValueError (a 500 on POST /verify)
    with pytest.raises(InputError, match="outside the I-JSON range"):
        parse_json(f'{{"n": {number}}}')
    assert parse_json('{"n": [9007199254740991, -9007199254740991]}') == {"n": [2**53 - 1, -(2**53 - 1)]}


def test_numbers_beyond_a_double_are_refused_when_parsed() -> None:
    for number in ("1e999", "-1e400", "1.7976931348623159e308"):
        with pytest.raises(InputError, match="outside the range of a double"):
            parse_json(f'{{"n": {number}}}')
    assert parse_json('{"n": 1.7976931348623157e308}') == {"n": 1.7976931348623157e308}


def test_the_nesting_scan_is_linear_on_unclosed_strings_of_escaped_quotes() -> None:
    """Its string pattern failed on an unclosed string and was tried again from every later quote (quadratic:
    40,000 escaped quotes took 30 s). Now an unclosed string runs to the end, as the parser reads it."""
    text = "[" * 40 + '"' + '\\"' * 40_000
    started = time.monotonic()
    assert nested_deeper(text, 32) is True  # the 40 brackets before the string still count
    assert time.monotonic() - started < 1  # a guard against the quadratic case (~0.005 s now)
    assert nested_deeper("[" * 10 + '"' + '\\"' * 1000 + "[" * 40, 32) is False  # inside the string
    assert nested_deeper('["a\\\\"' + "[" * 40, 32) is True  # an escaped backslash ends before the quote
    assert nested_deeper('["\\', 32) is False  # a lone backslash at the end


def test_unsafe_integers_cannot_be_canonicalised() -> None:
    with pytest.raises(InputError):
        canonical_json({"n": 2**60})


def test_hex32_is_strict() -> None:
    value = bytes(range(32))
    assert from_hex32(to_hex32(value)) == value
    for text in ["0x" + "AB" * 32, "ab" * 33, "0x" + "ab" * 31, "0x" + "a b" * 16 + "ab" * 8, 12]:
        with pytest.raises(ValueError):
            from_hex32(text)  # type: ignore[arg-type]


# The fast path of canonical_json (the standard library's encoder) must write exactly what rfc8785 writes.
jcs_strings = st.text(alphabet=st.characters(codec="utf-8"), max_size=12) | st.sampled_from(
    ["", "\x00\x1f\x7f", '"\\/', "\b\f\n\r\t", "\u2028\u2029", "é€", "\ud7ff\ue000\uffff", "\U0001f600", "😀\uff01"]
)
jcs_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | jcs_strings
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(jcs_strings, children, max_size=5),
    max_leaves=25,
)


@settings(max_examples=500)
@given(jcs_values)
def test_canonical_json_is_exactly_rfc8785(value: object) -> None:
    import rfc8785

    assert canonical_json(value) == rfc8785.dumps(value)


def test_keys_beyond_the_bmp_sort_by_utf16_as_jcs_requires() -> None:
    import rfc8785

    value = {"\U0001f600": 1, "\uff01": 2, "a": 3}  # code point order: a, U+FF01, U+1F600; UTF-16: a, U+1F600, U+FF01
    assert canonical_json(value) == rfc8785.dumps(value)
    assert canonical_json(value).decode().index("\U0001f600") < canonical_json(value).decode().index("\uff01")


def test_lone_surrogates_cannot_be_canonicalised() -> None:
    for value in ({"a": "\ud800"}, {"\udfff": 1}):
        with pytest.raises(InputError):
            canonical_json(value)


def test_non_json_values_take_the_careful_path() -> None:
    assert canonical_json({"n": 1.0, "m": [2.50, -0.0]}) == b'{"m":[2.5,0],"n":1}'
    assert canonical_json({"t": (1, "2")}) == b'{"t":[1,"2"]}'  # as rfc8785 writes a tuple
    for value in ({1: "int key"}, {"b": b"bytes"}, {"x": float("nan")}, {"x": [float("inf")]}):
        with pytest.raises(InputError):
            canonical_json(value)


@settings(max_examples=300)
@given(
    st.recursive(
        st.just(0) | jcs_strings,
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
        max_leaves=60,
    )
)
def test_the_nesting_check_measures_the_depth_outside_strings(value: object) -> None:
    text = json.dumps(value, ensure_ascii=False)

    def depth(item: object) -> int:
        children = list(item.values()) if isinstance(item, dict) else item if isinstance(item, list) else None
        return 0 if children is None else 1 + max(map(depth, children), default=0)

    if depth(value) <= MAX_DEPTH:
        assert parse_json(text) == value
    else:
        with pytest.raises(InputError, match="nested deeper"):
            parse_json(text)
