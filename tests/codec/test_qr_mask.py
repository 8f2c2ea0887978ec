"""The C mask chooser (``_fast.qr_remask``) gives the symbol zxing-cpp's own encoder gives.

With the C extension, ``render_qr(..., encoder="zxing")`` has zxing-cpp encode with one fixed mask
and chooses the mask itself, scored as zint (inside zxing-cpp) scores it. The output must be the
same modules as zxing-cpp's automatic choice, for every version and level; and a symbol that is not
a QR symbol of the level given is declined (``None``), never guessed at.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from healthcred.codec import fast
from healthcred.codec.base45 import b45encode
from healthcred.codec.qr import _FORMAT_LEVEL, _ONE_MASK, read_qr, render_qr

zxingcpp = pytest.importorskip("zxingcpp")
pytestmark = pytest.mark.skipif(fast.native is None, reason="the C decoder is not built")

QR = zxingcpp.BarcodeFormat.QRCode
_RNG = random.Random(20261203)


def _bitmap(text: str, level: str, options: str = "") -> tuple[bytes, int]:
    image = zxingcpp.create_barcode(text, QR, ec_level=level, options=options).to_image(
        scale=1, add_quiet_zones=False
    )
    return bytes(image), image.shape[1]


def _texts() -> list[tuple[str, str]]:
    # For each level, texts whose lengths step through the whole range: every version is met.
    cases = []
    capacity = {"L": 4296, "M": 3391, "Q": 2420, "H": 1852}  # alphanumeric characters at version 40
    for level, most in capacity.items():
        for step in range(1, 51):  # lengths spaced as versions grow (a side's square): all 40 are met
            chars = max(1, most * step * step // 2500 - 5)
            data = bytes(_RNG.getrandbits(8) for _ in range(max(1, chars * 2 // 3)))
            text = ("JKM1:" + b45encode(data))[:most]
            cases.append((level, text))
    return cases


CASES = _texts()


def test_the_cases_cover_every_version() -> None:
    versions = {(_bitmap(text, level)[1] - 17) // 4 for level, text in CASES}
    assert versions == set(range(1, 41))


@pytest.mark.parametrize(("level", "text"), CASES, ids=[f"{lv}-{len(t)}" for lv, t in CASES])
def test_the_chosen_mask_is_zxing_cpps(level: str, text: str) -> None:
    assert fast.native is not None
    automatic, size = _bitmap(text, level)
    fixed, fixed_size = _bitmap(text, level, _ONE_MASK)
    assert fixed_size == size
    assert fast.native.qr_remask(fixed, size, _FORMAT_LEVEL[level]) == automatic
    # a symbol already masked otherwise (the option ignored) gives the same answer
    assert fast.native.qr_remask(automatic, size, _FORMAT_LEVEL[level]) == automatic


def test_render_qr_is_the_same_png_on_both_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [text for level, text in CASES if level == "Q"][:12]
    with_c = [render_qr(text, encoder="zxing") for text in texts]
    monkeypatch.setattr(fast, "native", None)
    assert [render_qr(text, encoder="zxing") for text in texts] == with_c
    monkeypatch.undo()
    assert read_qr(with_c[5]) == texts[5]


def test_what_is_not_a_symbol_of_the_level_is_declined() -> None:
    assert fast.native is not None
    remask = fast.native.qr_remask
    symbol, size = _bitmap("JKM1:" + "A" * 40, "Q")
    assert remask(symbol, size, _FORMAT_LEVEL["L"]) is None  # format information of another level
    assert remask(symbol, size + 1, 3) is None  # not a QR side
    assert remask(symbol[:-1], size, 3) is None  # not size × size modules
    assert remask(bytes(size * size), size, 3) is None  # all dark: no format information
    assert remask(symbol, size, 4) is None and remask(symbol, size, -1) is None
    assert remask(b"", 0, 3) is None and remask(bytes(181 * 181), 181, 3) is None  # past version 40
    with pytest.raises(TypeError):
        remask("text", size, 3)
    with pytest.raises(TypeError):
        remask(symbol, size)


SYMBOLS = {level + str(len(text)): _bitmap(text, level) for level, text in CASES}


@settings(max_examples=300)
@given(st.sampled_from(sorted(SYMBOLS)), st.integers(0, 3), st.randoms(use_true_random=False))
def test_a_damaged_symbol_is_remasked_or_declined(name: str, ec: int, rng: random.Random) -> None:
    # Modules flipped anywhere (finders, timing, format field included), any level asked for: a
    # whole symbol of 0/255 modules comes back, or None; nothing is read or written past the matrix.
    assert fast.native is not None
    symbol, size = SYMBOLS[name]
    modules = bytearray(symbol)
    for _ in range(rng.randint(0, 60)):
        modules[rng.randrange(len(modules))] ^= 0xFF
    out = fast.native.qr_remask(bytes(modules), size, ec)
    assert out is None or (len(out) == size * size and set(out) <= {0, 255})
    garbage = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 3 * size)))
    assert fast.native.qr_remask(garbage, size, ec) is None
