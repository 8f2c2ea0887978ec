"""Codec layer: Base45 against the reference package, bounded zlib, strict CBOR, prefixes."""

from __future__ import annotations

import zlib

import base45 as reference
import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthcred.codec.base45 import ALPHABET, b45decode, b45encode
from healthcred.codec.cbor import Reader, dumps, loads
from healthcred.codec.compression import compress, decompress, pack, unpack
from healthcred.codec.prefix import NATIVE_PREFIX, strip_prefix
from healthcred.errors import BadBase45, BadCompression, BadPrefix, MalformedCBOR, MalformedCOSE, TooLarge
from healthcred.limits import MAX_CBOR_DEPTH, MAX_CBOR_ITEMS, MAX_COSE_BYTES

pytestmark = pytest.mark.usefixtures("decode_path")  # each test on the C and the pure path

# --- Base45 ----------------------------------------------------------------------------------


@given(st.binary(max_size=600))
@settings(max_examples=400)
def test_base45_matches_reference_package(data: bytes) -> None:
    text = b45encode(data)
    assert text == reference.b45encode(data).decode("ascii")
    assert b45decode(text) == data
    assert b45decode(text.encode("ascii")) == data


@given(st.text(alphabet=ALPHABET, max_size=300))
@settings(max_examples=400)
def test_base45_decode_agrees_with_reference_on_any_alphabet_text(text: str) -> None:
    try:
        expected: bytes | None = reference.b45decode(text)
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(BadBase45):
            b45decode(text)
    else:
        assert b45decode(text) == expected
        assert b45encode(expected) == text  # canonical: one text per byte string


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BB8", b"AB"),
        ("%69 VD92EX0", b"Hello!!"),
        ("UJCLQE7W581", b"base-45"),
        ("QED8WEX0", b"ietf!"),
        ("", b""),
    ],
)
def test_base45_rfc9285_examples(text: str, expected: bytes) -> None:
    assert b45decode(text) == expected
    assert b45encode(expected) == text


@pytest.mark.parametrize(
    "text",
    ["GGW", "ZZZ", "000:::", "A", "ABCD", "::", "ab", "AB\n", "É00", "00 ", "AB=", "\x00\x00"],
)
def test_base45_rejects_non_canonical_and_foreign_text(text: str) -> None:
    with pytest.raises(BadBase45):
        b45decode(text)


def test_base45_rejects_wrong_types() -> None:
    with pytest.raises(BadBase45):
        b45decode(123)  # type: ignore[arg-type]
    with pytest.raises(BadBase45):
        b45encode("text")  # type: ignore[arg-type]


# --- body: zlib or bare ----------------------------------------------------------------------


def test_pack_keeps_the_shorter_form() -> None:
    message = b"\xd2" + bytes(range(255)) * 2  # long but incompressible: kept bare
    assert pack(message) == message
    short = b"\xd2" + b"A" * 200  # compressible but under ZLIB_MIN_BYTES: not tried
    assert pack(short) == short
    repetitive = b"\xd2" + b"A" * 300
    packed = pack(repetitive)
    assert packed[0] & 0x0F == 8 and len(packed) < len(repetitive)  # zlib CMF: deflate
    assert unpack(packed) == repetitive
    assert pack(repetitive, level=0) == repetitive


def test_zlib_bomb_is_bounded() -> None:
    bomb = zlib.compress(b"\x00" * (50 * 1024 * 1024), 9)
    assert len(bomb) < 60_000
    with pytest.raises(TooLarge):
        unpack(bomb)
    assert len(decompress(zlib.compress(b"\xd2" * MAX_COSE_BYTES))) == MAX_COSE_BYTES


@pytest.mark.parametrize(
    "body",
    [
        b"\x78",
        b"\x78\x9c\x01\x02",
        zlib.compress(b"hello")[:-3],
        zlib.compress(b"hello") + b"\x00",
        b"\x08\x01\x02",
    ],
)
def test_bad_zlib_streams(body: bytes) -> None:
    with pytest.raises(BadCompression):
        unpack(body)


def test_a_zlib_stream_with_a_preset_dictionary_says_so() -> None:
    deflater = zlib.compressobj(zdict=b"dictionary")
    with pytest.raises(BadCompression, match="preset dictionary"):
        unpack(deflater.compress(b"\xd2\x84" * 20) + deflater.flush())


@pytest.mark.parametrize("body", [b"", b"\x84\x40\xa0\x40\x40", b"\xd8\x62", b"\xff" * 10, b"\x00"])
def test_body_that_is_neither_message_nor_zlib(body: bytes) -> None:
    with pytest.raises(MalformedCOSE):
        unpack(body)


def test_bare_body_over_limit_is_too_large() -> None:
    with pytest.raises(TooLarge):
        unpack(b"\xd2" + bytes(MAX_COSE_BYTES))


# --- strict CBOR -----------------------------------------------------------------------------


def test_loads_accepts_deterministic_items() -> None:
    value = {1: "330000", 4: 1_700_000_000, 7: b"\x01" * 16, -65537: {1: [1, 2, "x"], 2: None, 3: True}}
    assert loads(dumps(value)) == value


@pytest.mark.parametrize(
    ("hex_item", "why"),
    [
        ("0102", "trailing bytes"),
        ("a20102010304", "duplicate key"),
        ("a2030101 02".replace(" ", ""), "unsorted keys"),
        ("9f0102ff", "indefinite array"),
        ("7f6161ff", "indefinite text"),
        ("1800", "non-shortest integer"),
        ("5800", "non-shortest length"),
        ("f93c00", "float"),
        ("c11a514b67b0", "datetime tag"),
        ("d9010283010203", "set tag"),
        ("d81c81d81d00", "shared-reference cycle"),
        ("c249010000000000000000", "bignum"),
        ("f7", "undefined"),
        ("a1810102", "array as map key"),
        ("62c328", "invalid UTF-8"),
        ("", "empty"),
        ("9b7fffffffffffffff", "huge array header"),
        ("5b7fffffffffffffff", "huge byte string header"),
    ],
)
def test_loads_rejects_non_deterministic_or_foreign_cbor(hex_item: str, why: str) -> None:
    with pytest.raises(MalformedCBOR):
        loads(bytes.fromhex(hex_item), why)


def test_loads_bounds_depth_and_items() -> None:
    with pytest.raises(MalformedCBOR, match="deeper"):
        loads(b"\x81" * (MAX_CBOR_DEPTH + 1) + b"\x00")
    assert loads(b"\x81" * MAX_CBOR_DEPTH + b"\x00") is not None
    with pytest.raises(MalformedCBOR, match="items"):
        loads(dumps(list(range(MAX_CBOR_ITEMS + 1))))
    with pytest.raises(MalformedCBOR):
        # cbor2's own depth cap or ours; never RecursionError
        loads(b"\x81" * 100_000 + b"\x00", max_bytes=200_000)


@given(st.binary(max_size=64))
@settings(max_examples=500)
def test_loads_raises_only_malformed_cbor(data: bytes) -> None:
    try:
        value = loads(data)
    except MalformedCBOR:
        return
    assert cbor2.dumps(value, canonical=True) == data


def test_reader_is_strict() -> None:
    r = Reader(bytes.fromhex("d28443a10126a0"), "msg")
    assert r.tag() == 18 and r.array() == 4 and r.bstr() == bytes.fromhex("a10126") and r.map() == 0
    r.end()
    for hex_item, method in [
        ("1817", "integer"),
        ("5f", "bstr"),
        ("4301", "bstr"),
        ("a0", "array"),
        ("", "integer"),
    ]:
        with pytest.raises(MalformedCBOR):
            getattr(Reader(bytes.fromhex(hex_item), "x"), method)()
    reader = Reader(b"\x01\x02", "x")
    assert reader.integer() == 1
    with pytest.raises(MalformedCBOR, match="trailing"):
        reader.end()
    assert Reader(b"\x38\x63", "x").integer() == -100
    assert Reader(b"\x3a\x00\x01\x00\x00", "x").integer() == -65537


# --- prefix ----------------------------------------------------------------------------------


def test_prefix() -> None:
    assert strip_prefix(NATIVE_PREFIX + "ABC") == "ABC"
    for text, hint in [
        ("HC1:6BF", "EU Digital COVID"),
        ("shc:/5676", "SMART"),
        ("JKM2:AAA", "version"),
        ("jkm1:AAA", "in this case exactly"),
        ("", "does not start"),
    ]:
        with pytest.raises(BadPrefix, match=hint):
            strip_prefix(text)


@given(st.binary(max_size=MAX_COSE_BYTES))
@settings(max_examples=100)
def test_compress_is_standard_zlib(data: bytes) -> None:
    stream = compress(data)
    assert zlib.decompress(stream) == data
    assert decompress(stream) == data
