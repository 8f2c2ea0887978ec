"""The QR PNG writer without Pillow: the pixels of the Pillow path it replaced, a valid PNG, read back."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import pytest
from PIL import Image

from healthcred.codec.png import PNG_SIGNATURE, modules_png
from healthcred.codec.qr import _zxing_bitmap, read_qr, render_qr
from healthcred.errors import BadInput
from tests.helpers.world import World

PAPER = "JKM1:" + "6BFOXN*TS0BI$ZD4N9:9S6RCVN5+O30K3/XIV0W23NTDEPWK G2EP4J0B3KL6QM5/OVGA/MAT%ZSGN1"


def pillow_png(text: str, scale: int, border: int) -> Image.Image:
    """What render_qr(encoder="zxing") made before: frame, 1 bit, scale up (Pillow)."""
    bitmap, size = _zxing_bitmap(text, "Q")
    modules = Image.frombytes("L", (size, size), bitmap)
    side = modules.width + 2 * border
    framed = Image.new("L", (side, side), 255)
    framed.paste(modules, (border, border))
    picture = framed.convert("1", dither=Image.Dither.NONE)
    return picture.resize((side * scale, side * scale), Image.Resampling.NEAREST)


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of each chunk, every CRC checked."""
    assert data.startswith(PNG_SIGNATURE)
    found, at = [], len(PNG_SIGNATURE)
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + body)
        found.append((kind, body))
        at += 12 + length
    return found


@pytest.mark.parametrize("scale", [1, 2, 3, 4, 5, 8, 12])
@pytest.mark.parametrize("border", [0, 1, 4, 7])
def test_the_pixels_are_those_of_the_pillow_path(scale: int, border: int) -> None:
    ours = Image.open(io.BytesIO(render_qr(PAPER, encoder="zxing", scale=scale, border=border)))
    ours.load()
    before = pillow_png(PAPER, scale, border)
    assert ours.mode == before.mode == "1" and ours.size == before.size
    assert ours.tobytes() == before.tobytes()


def test_a_paper_code_is_a_valid_png_read_back(world: World) -> None:
    text = world.code()[1]
    data = render_qr(text, encoder="zxing")
    kinds = [kind for kind, _ in chunks(data)]
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]
    header = chunks(data)[0][1]
    side, _, depth, colour, *_ = struct.unpack(">IIBBBBB", header)
    modules = _zxing_bitmap(text, "Q")[1]
    assert (side, depth, colour) == ((modules + 8) * 4, 1, 0)  # 4 px a module, a 4-module quiet zone
    Image.open(io.BytesIO(data)).verify()  # Pillow's own check of the chunks
    assert read_qr(data) == text


def test_modules_png_refuses_bad_arguments() -> None:
    modules, size = _zxing_bitmap(PAPER, "Q")
    bad: list[tuple[Any, ...]] = [
        (modules[:-1], size, {}),
        (bytearray(modules), size, {}),
        (modules, 0, {}),
        (modules, size, {"scale": 0}),
        (modules, size, {"scale": True}),
        (modules, size, {"border": -1}),
        (modules, size, {"border": "4"}),
    ]
    for data, side, options in bad:
        with pytest.raises(BadInput):
            modules_png(data, side, **options)


def test_modules_below_128_are_dark() -> None:
    data = modules_png(bytes([0, 127, 128, 255]), 2, scale=1, border=0)
    assert Image.open(io.BytesIO(data)).convert("L").tobytes() == bytes([0, 0, 255, 255])
