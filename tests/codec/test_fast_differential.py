"""The C decoder and the pure path agree: on valid codes, on every kind of damage, and on any bytes.

Hypothesis mutates the vectors' code texts and the EU DCC test codes at each layer (text, Base45
body, COSE message) and asserts the same value or the same error class, code and message on both
paths (:func:`fuzz.targets.decode_paths.same_on_both_paths`).
"""

from __future__ import annotations

import zlib
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuzz import seeds
from fuzz.targets.decode_paths import compare_any_order, compare_text, same_on_both_paths
from healthcred.codec import fast
from healthcred.codec.base45 import ALPHABET, b45decode, b45encode
from healthcred.codec.cbor import loads
from healthcred.codec.compression import decompress
from healthcred.errors import HealthCredError
from healthcred.limits import MAX_CBOR_DEPTH, MAX_CBOR_ITEMS, MAX_COSE_BYTES, MAX_TEXT_CHARS

pytestmark = pytest.mark.skipif(fast.native is None, reason="the C decoder is not built")

TEXTS = sorted({*seeds.vector_texts(), *seeds.hc1_texts()})
PREFIXES = ("JKM1:", "JKP1:", "HC1:")


def _split(text: str) -> tuple[str, bytes]:
    prefix = next((p for p in PREFIXES if text.startswith(p)), "")
    return prefix, b45decode(text[len(prefix) :])


def _message(body: bytes) -> bytes:
    return zlib.decompress(body) if body[:1] == b"\x78" else body


def _layers() -> list[tuple[str, bytes]]:
    # The seed texts whose text layers open (the vectors include damaged ones).
    found = []
    for text in TEXTS:
        try:
            prefix, body = _split(text)
            found.append((prefix, _message(body)))
        except (HealthCredError, zlib.error):
            continue
    return found


LAYERS = _layers()


@st.composite
def damaged(draw: st.DrawFn) -> str:
    prefix, inner = draw(st.sampled_from(LAYERS))
    message = bytearray(inner)
    for _ in range(draw(st.integers(0, 3))):
        if not message:
            break
        at = draw(st.integers(0, len(message) - 1))
        action = draw(st.sampled_from(("flip", "insert", "delete", "truncate")))
        if action == "flip":
            message[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "insert":
            message.insert(at, draw(st.integers(0, 255)))
        elif action == "delete":
            del message[at]
        else:
            del message[at:]
    packed = zlib.compress(bytes(message)) if draw(st.booleans()) else bytes(message)
    out = prefix + b45encode(packed)
    if draw(st.booleans()):  # damage at the text layer too
        at = draw(st.integers(0, len(out)))
        out = out[:at] + draw(st.text(alphabet=ALPHABET + "\n", max_size=3)) + out[at:]
    return out


@st.composite
def damaged_zlib(draw: st.DrawFn) -> str:
    # The zlib stream itself damaged: flipped, cut short, trailing bytes, a preset dictionary.
    prefix, inner = draw(st.sampled_from(LAYERS))
    stream = bytearray(zlib.compress(inner, draw(st.integers(0, 9))))
    action = draw(st.sampled_from(("flip", "truncate", "trail", "dictionary", "window")))
    if action == "flip":
        at = draw(st.integers(0, len(stream) - 1))
        stream[at] ^= 1 << draw(st.integers(0, 7))
    elif action == "truncate":
        del stream[draw(st.integers(1, len(stream) - 1)) :]
    elif action == "trail":
        stream += draw(st.binary(min_size=1, max_size=4))
    elif action == "dictionary":
        deflater = zlib.compressobj(zdict=draw(st.binary(min_size=1, max_size=8)))
        stream = bytearray(deflater.compress(inner) + deflater.flush())
    else:
        stream[0] = (draw(st.integers(0, 7)) << 4) | 8  # another window size: the header check fails
    return prefix + b45encode(bytes(stream))


@settings(max_examples=300)
@given(damaged_zlib())
def test_damaged_zlib_streams_read_alike(text: str) -> None:
    compare_text(text)


@pytest.mark.parametrize("size", [MAX_COSE_BYTES - 1, MAX_COSE_BYTES, MAX_COSE_BYTES + 1, 4 * MAX_COSE_BYTES])
def test_inflating_past_the_bound_is_refused_alike(size: int) -> None:
    # A tagged COSE_Sign1 head padded to ``size`` bytes: the bound, not the content, decides first.
    message = (b"\xd2\x84" + bytes(size))[:size]
    for prefix in PREFIXES:
        compare_text(prefix + b45encode(zlib.compress(message, 9)))


def _hc1_taken(native: ModuleType) -> list[str]:
    return [t for t in seeds.hc1_texts() if t.startswith("HC1:") and native.read_hc1(t, "HC1:") is not None]


def test_the_c_decoder_takes_zlib_bodies() -> None:
    # The EU DCC seeds are zlib streams: the C read path takes them (in C, or through Python's zlib).
    assert fast.native is not None
    assert len(_hc1_taken(fast.native)) >= 10


def test_a_zlib_build_inflates_without_the_python_inflater() -> None:
    native = fast.native
    assert native is not None
    if not native.INFLATES_IN_C:
        pytest.skip("this _fast build calls Python's zlib (no zlib.h at build time)")

    def refuse(body: bytes) -> bytes:
        raise AssertionError("the Python inflater was called")

    bounds = (MAX_TEXT_CHARS, MAX_COSE_BYTES, MAX_CBOR_DEPTH, MAX_CBOR_ITEMS)
    native.configure(*bounds, refuse)
    try:
        assert len(_hc1_taken(native)) >= 10
    finally:
        native.configure(*bounds, decompress)


@pytest.mark.parametrize("text", TEXTS)
def test_every_seed_text_reads_alike(text: str) -> None:
    compare_text(text)


@settings(max_examples=400)
@given(damaged())
def test_damaged_codes_read_alike(text: str) -> None:
    compare_text(text)


@settings(max_examples=300)
@given(st.binary(max_size=64))
def test_any_bytes_decode_alike_as_cbor(data: bytes) -> None:
    same_on_both_paths(lambda: loads(data, "item"))
    same_on_both_paths(lambda: loads(data, "item", walk=False))
    compare_any_order(data)


JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**54), 2**54)
    | st.text(max_size=4)
    | st.binary(max_size=2)
    | st.floats(allow_nan=True),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=3) | st.integers(0, 3), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300)
@given(st.dictionaries(st.text(max_size=3), JSONISH, max_size=4))
def test_dgc_json_form_is_alike(dgc: dict[str, object]) -> None:
    from healthcred.foreign.dcc.hc1 import json_dgc

    same_on_both_paths(lambda: json_dgc(dgc))


def test_deep_dgc_is_refused_alike() -> None:
    from healthcred.foreign.dcc.hc1 import MAX_DGC_DEPTH, json_dgc

    deep: dict[str, object] = {}
    node = deep
    for _ in range(MAX_DGC_DEPTH + 1):
        node["a"] = {}
        node = node["a"]  # type: ignore[assignment]
    assert same_on_both_paths(lambda: json_dgc(deep))[0] == "error"


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_any_text_decodes_alike_as_base45(text: str) -> None:
    same_on_both_paths(lambda: b45decode(text))


def test_the_c_decoder_takes_every_valid_native_code_itself() -> None:
    # Without this, agreement could come from the C decoder declining everything.
    from healthcred.native.text import read_text

    assert fast.native is not None
    taken = 0
    for text in TEXTS:
        if not text.startswith("JKM1:"):
            continue
        fast_read = fast.native.read_native(text, "JKM1:")
        try:
            read_text(text)
        except HealthCredError:
            continue
        assert fast_read is not None, text
        taken += 1
    assert taken > 10


@settings(max_examples=300)
@given(st.binary(min_size=64, max_size=64) | st.binary(max_size=70))
def test_dss_der_is_cryptographys_encoding(signature: bytes) -> None:
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    assert fast.native is not None
    der = fast.native.dss_der(signature)
    if len(signature) != 64:
        assert der is None
        return
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    assert der == encode_dss_signature(r, s)


def test_the_c_decoder_declines_past_the_bounds() -> None:
    from healthcred.limits import MAX_CBOR_DEPTH, MAX_CBOR_ITEMS, MAX_COSE_BYTES, MAX_TEXT_CHARS

    assert fast.native is not None
    assert fast.native.read_native("JKM1:" + "0" * (MAX_TEXT_CHARS - 4), "JKM1:") is None
    # as codec.cbor: MAX_CBOR_DEPTH nested containers are taken, one more is not
    assert fast.native.loads(b"\x81" * (MAX_CBOR_DEPTH + 1) + b"\x00") is None
    assert fast.native.loads(b"\x81" * MAX_CBOR_DEPTH + b"\x00") is not None
    many = b"\x99" + MAX_CBOR_ITEMS.to_bytes(2, "big") + b"\x00" * MAX_CBOR_ITEMS
    assert fast.native.loads(many) is not None
    assert fast.native.loads(b"\x99" + (MAX_CBOR_ITEMS + 1).to_bytes(2, "big") + b"\x00" * 513) is None
    assert (
        fast.native.loads(b"\x5a" + (MAX_COSE_BYTES + 1).to_bytes(4, "big") + bytes(MAX_COSE_BYTES + 1))
        is None
    )
